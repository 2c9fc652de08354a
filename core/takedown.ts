/**
 * The takedown's rules (ADR 0011; docs/catalog.md "Takedown"): what `DELETE /assets/{assetId}` does to
 * an asset in each state, which jobs and origin objects a takedown covers, what the status endpoint
 * shows, and the two events. Pure: tables/catalog-table.ts persists the record, lambdas/takedown
 * (the API) and lambdas/takedown-worker (the work) compose.
 */
import { type AssetHead, isTakenDown, type Revision, type TakedownRecord } from './asset-status';
import { ASSET_REMOVED, ASSET_TAKEDOWN_REQUESTED, CATALOG_EVENT_SOURCE, isAssetId, MEDIA_PREFIX, mediaPrefixOf } from './identifiers';

/**
 * The worker's Lambda timeout. A worker holds a takedown (its lease) this long at most, so a worker
 * that died mid-way never blocks the retry that finishes its work.
 */
export const TAKEDOWN_WORKER_TIMEOUT_SECONDS = 300;

/** What a DELETE does: nothing for an unknown asset, answer with the takedown under way or done, or start one. */
export type TakedownRequestDecision =
  | { readonly kind: 'unknown' }
  | { readonly kind: 'repeat'; readonly takedown: TakedownRecord }
  | { readonly kind: 'new' };

/**
 * A DELETE on an asset already taken down, or being taken down, repeats nothing: it is answered with
 * that takedown's status. Any other known asset (including one revived by an upload after an earlier
 * takedown) gets a new takedown.
 */
export function decideTakedownRequest(head: AssetHead | undefined): TakedownRequestDecision {
  if (head === undefined) return { kind: 'unknown' };
  if (isTakenDown(head.status) && head.takedown !== undefined) return { kind: 'repeat', takedown: head.takedown };
  return { kind: 'new' };
}

/** The record a new takedown starts with; `requestedAt` is also the head's new `deletedAt`. */
export function newTakedownRecord(requestedAt: string): TakedownRecord {
  return { requestedAt, status: 'PENDING', attempts: 0, deletedObjects: 0, invalidations: {} };
}

/** Revision statuses whose MediaConvert job may still be running (and writing under `media/`). */
const RUNNING_STATUSES: ReadonlySet<Revision['status']> = new Set(['SUBMITTED', 'PROGRESSING']);

/** A revision the takedown covers: uploaded at or before the request (later uploads revive the asset). */
const coveredBy = (revision: Revision, requestedAt: string): boolean => revision.uploadedAt <= requestedAt;

/**
 * Jobs to cancel: those of covered revisions the catalog still sees running. The catalog may lag the
 * job (a COMPLETE event not yet applied), so cancelling one that has finished must be harmless.
 */
export function jobsToCancel(revisions: readonly Revision[], requestedAt: string): string[] {
  return revisions.filter((r) => coveredBy(r, requestedAt) && RUNNING_STATUSES.has(r.status) && r.jobId !== undefined).map((r) => r.jobId!);
}

/** MediaConvert job statuses after which a job writes nothing more. */
export function isJobFinished(status: string | undefined): boolean {
  return status === 'COMPLETE' || status === 'ERROR' || status === 'CANCELED';
}

/**
 * Which origin keys under `media/<assetId>/` the takedown deletes: all of them except those of revisions
 * uploaded after the request, which belong to the asset's next life.
 */
export function originKeyFilter(assetId: string, revisions: readonly Revision[], requestedAt: string): (key: string) => boolean {
  const kept = revisions.filter((r) => !coveredBy(r, requestedAt)).map((r) => mediaPrefixOf(assetId, r.revision));
  const prefix = mediaPrefixOf(assetId);
  return (key) => key.startsWith(prefix) && !kept.some((keptPrefix) => key.startsWith(keptPrefix));
}

/**
 * One invalidation path per distribution covers every object of the asset: the cache key has the token
 * stripped (ADR 0005), and a trailing `*` invalidates everything under the prefix (CloudFront Developer
 * Guide, "Specifying the files to invalidate").
 */
export function invalidationPaths(assetId: string): string[] {
  return [`/${MEDIA_PREFIX}${assetId}/*`];
}

/**
 * The invalidation's `CallerReference`, the same for every attempt of one takedown: CloudFront answers a
 * repeated CreateInvalidation with the same reference and paths with the invalidation it already made,
 * so a worker that died between creating and recording it creates no second one.
 */
export function invalidationCallerReference(assetId: string, requestedAt: string): string {
  return `takedown-${assetId}-${requestedAt}`;
}

/** Distributions the takedown has not invalidated yet, in configuration order. */
export function distributionsToInvalidate(distributionIds: readonly string[], record: TakedownRecord): string[] {
  return distributionIds.filter((id) => record.invalidations[id] === undefined);
}

/** What `GET /assets/{assetId}` (and every DELETE) answers; docs/catalog.md "Takedown" describes it. */
export interface AssetStatusView {
  readonly assetId: string;
  readonly status?: AssetHead['status'];
  readonly latestRevision?: string;
  readonly currentRevision?: string;
  readonly updatedAt?: string;
  /** Where to poll: this view again. */
  readonly statusUrl: string;
  readonly takedown?: {
    readonly status: TakedownRecord['status'];
    readonly requestedAt: string;
    readonly completedAt?: string;
    readonly attempts: number;
    readonly canceledJobs: readonly string[];
    readonly deletedObjects: number;
    readonly invalidations: readonly { readonly distributionId: string; readonly invalidationId: string }[];
    readonly lastError?: TakedownRecord['lastError'];
  };
}

/** The status endpoint's path for an asset (a route of the playback API, lib/topology.ts). */
export const assetStatusPath = (assetId: string): string => `/assets/${assetId}`;

export function assetStatusView(head: AssetHead): AssetStatusView {
  const record = head.takedown;
  return {
    assetId: head.assetId,
    ...(head.status !== undefined && { status: head.status }),
    ...(head.latestRevision !== undefined && { latestRevision: head.latestRevision }),
    ...(head.currentRevision !== undefined && { currentRevision: head.currentRevision }),
    ...(head.updatedAt !== undefined && { updatedAt: head.updatedAt }),
    statusUrl: assetStatusPath(head.assetId),
    ...(record !== undefined && {
      takedown: {
        status: record.status,
        requestedAt: record.requestedAt,
        ...(record.completedAt !== undefined && { completedAt: record.completedAt }),
        attempts: record.attempts,
        canceledJobs: record.canceledJobs ?? [],
        deletedObjects: record.deletedObjects,
        invalidations: Object.entries(record.invalidations).map(([distributionId, invalidationId]) => ({ distributionId, invalidationId })),
        ...(record.lastError !== undefined && { lastError: record.lastError }),
      },
    }),
  };
}

/** `detail` of `Asset Takedown Requested`: which takedown of which asset. */
export interface TakedownRequestedDetail {
  readonly assetId: string;
  readonly requestedAt: string;
}

export interface TakedownEvent {
  readonly Source: typeof CATALOG_EVENT_SOURCE;
  readonly DetailType: typeof ASSET_TAKEDOWN_REQUESTED | typeof ASSET_REMOVED;
  readonly Detail: string;
}

export function takedownRequestedEvent(detail: TakedownRequestedDetail): TakedownEvent {
  return { Source: CATALOG_EVENT_SOURCE, DetailType: ASSET_TAKEDOWN_REQUESTED, Detail: JSON.stringify(detail) };
}

/** Reads an `Asset Takedown Requested` detail; undefined when it is not one (nothing to retry). */
export function parseTakedownRequested(detail: unknown): TakedownRequestedDetail | undefined {
  if (detail === null || typeof detail !== 'object') return undefined;
  const { assetId, requestedAt } = detail as Record<string, unknown>;
  if (!isAssetId(assetId) || typeof requestedAt !== 'string' || Number.isNaN(Date.parse(requestedAt))) return undefined;
  return { assetId, requestedAt };
}

/**
 * `Asset Removed`, once the asset is gone from the origin and every distribution has an invalidation.
 * `distributions` lists the invalidated distributions, as the event always has.
 */
export function assetRemovedEvent(assetId: string, record: TakedownRecord): TakedownEvent {
  const invalidations = Object.entries(record.invalidations).map(([distributionId, invalidationId]) => ({ distributionId, invalidationId }));
  return {
    Source: CATALOG_EVENT_SOURCE,
    DetailType: ASSET_REMOVED,
    Detail: JSON.stringify({
      assetId,
      requestedAt: record.requestedAt,
      deletedObjects: record.deletedObjects,
      canceledJobs: record.canceledJobs ?? [],
      distributions: invalidations.map((i) => i.distributionId),
      invalidations,
    }),
  };
}
