/**
 * The catalog's rules (docs/catalog.md is the reader's guide, ADR 0022 the reasoning): the revision
 * state machine, how the asset's head follows its revisions, and the events a terminal revision
 * announces.
 *
 * - A revision is one upload's journey RECEIVED → SUBMITTED → PROGRESSING → READY | FAILED | CANCELED,
 *   and only ever moves *forward*, so duplicated and out-of-order events can only be no-ops.
 * - The head is what playback reads. `currentRevision` = newest READY revision, `latestRevision` +
 *   `status` = newest revision and its status; a takedown sets `status = TAKEDOWN_PENDING` and
 *   `deletedAt` at once, and its worker `status = TAKEN_DOWN` when the asset is gone (ADR 0011).
 *
 * Pure: it returns decisions (`nextHead`, `canAdvance`, `statusesBefore`, the events). Keys, item
 * layout, condition expressions and what a failed condition means are tables/catalog-table.ts's
 * (ADR 0007).
 */
import { MANIFEST_FILE, originKey } from './playback-paths';
import { ASSET_FAILED, ASSET_READY, CATALOG_EVENT_SOURCE } from './identifiers';
import type { DynamicRange } from './media-types';

export const REVISION_STATUSES = ['RECEIVED', 'SUBMITTED', 'PROGRESSING', 'READY', 'FAILED', 'CANCELED'] as const;
export type RevisionStatus = (typeof REVISION_STATUSES)[number];
/**
 * Head status: the latest revision's status, or a takedown's. TAKEDOWN_PENDING from the moment a
 * takedown is requested (no new session is signed), TAKEN_DOWN once its worker removed the asset from
 * the origin and every CDN (ADR 0011).
 */
export type AssetStatus = RevisionStatus | TakedownHeadStatus;
export type TakedownHeadStatus = 'TAKEDOWN_PENDING' | 'TAKEN_DOWN';

/** Whether the head says the asset is taken down or being taken down: nothing of it is served. */
export function isTakenDown(status: AssetStatus | undefined): status is TakedownHeadStatus {
  return status === 'TAKEDOWN_PENDING' || status === 'TAKEN_DOWN';
}

/**
 * RECEIVED is the pre-submit state: the upload is claimed (conditional create) but no job exists
 * yet, so a retry after a crash knows to finish the submission. Terminal states share one rank:
 * nothing moves between READY, FAILED and CANCELED.
 */
const RANK: Readonly<Record<RevisionStatus, number>> = {
  RECEIVED: 0,
  SUBMITTED: 1,
  PROGRESSING: 2,
  READY: 3,
  FAILED: 3,
  CANCELED: 3,
};

export function isTerminal(status: RevisionStatus): boolean {
  return RANK[status] === RANK.READY;
}

/** Whether `to` is strictly later than `from` (a missing item can become anything). */
export function canAdvance(from: RevisionStatus | undefined, to: RevisionStatus): boolean {
  return from === undefined || RANK[from] < RANK[to];
}

/**
 * Statuses a revision may be in for `next` to apply; none for RECEIVED, which can only be created.
 * The catalog table turns this into the condition of every revision write.
 */
export function statusesBefore(next: RevisionStatus): RevisionStatus[] {
  return REVISION_STATUSES.filter((status) => RANK[status] < RANK[next]);
}

/**
 * MediaConvert "Job State Change" `detail.status` → revision status. STATUS_UPDATE is progress
 * within PROGRESSING; INPUT_INFORMATION, NEW_WARNING, QUEUE_HOP carry no state (undefined).
 * (MediaConvert user guide, "List of MediaConvert EventBridge events".)
 */
export function revisionStatusForJobStatus(jobStatus: string): RevisionStatus | undefined {
  switch (jobStatus) {
    case 'SUBMITTED':
      return 'SUBMITTED';
    case 'PROGRESSING':
    case 'STATUS_UPDATE':
      return 'PROGRESSING';
    case 'COMPLETE':
      return 'READY';
    case 'ERROR':
      return 'FAILED';
    case 'CANCELED':
      return 'CANCELED';
    default:
      return undefined;
  }
}

export interface ManifestPaths {
  /** Origin key of the HLS multivariant playlist, `media/<assetId>/<revision>/main.m3u8`. */
  readonly hls: string;
  readonly dash: string;
}

export function manifestPaths(assetId: string, revision: string): ManifestPaths {
  return { hls: originKey(assetId, revision, MANIFEST_FILE.hls), dash: originKey(assetId, revision, MANIFEST_FILE.dash) };
}

export type Rendition =
  | { readonly type: 'video'; readonly width: number; readonly height: number; readonly averageBitrate?: number }
  | { readonly type: 'audio' };

/** One upload of an asset. Optional fields appear as the revision moves on. */
export interface Revision {
  readonly assetId: string;
  readonly revision: string;
  readonly status: RevisionStatus;
  readonly sourceBucket: string;
  readonly sourceKey: string;
  readonly sourceSize?: number;
  /** Upload event time, ms precision; compared with the head's `deletedAt`. */
  readonly uploadedAt: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly jobId?: string;
  readonly durationMs?: number;
  readonly renditions?: readonly Rendition[];
  /**
   * The master's dynamic range, recorded by submit-job from the plan (ADR 0015): PQ and HLG assets
   * have an HDR ladder (VIDEO-RANGE=PQ|HLG) and a tone-mapped SDR one. Absent on revisions from
   * before it was recorded and when a retry found the job an earlier attempt created.
   */
  readonly dynamicRange?: DynamicRange;
  readonly manifests?: ManifestPaths;
  readonly errorReason?: string;
  readonly errorCode?: string;
  /** Set once the `Asset Ready`/`Asset Failed` event for the terminal status went out. */
  readonly eventPublishedAt?: string;
  /** submit-job invocations that worked on this revision while it was RECEIVED (ADR 0025). */
  readonly attempts?: number;
  /** When submit-job first went on to CreateJob: a retry looks for that job from then on (ADR 0024). */
  readonly submittingSince?: string;
}

/** The asset as playback sees it: which revision is served, and whether it was taken down. */
export interface AssetHead {
  readonly assetId: string;
  readonly status?: AssetStatus;
  readonly latestRevision?: string;
  readonly currentRevision?: string;
  readonly createdAt?: string;
  readonly updatedAt?: string;
  /** When the latest takedown was requested: revisions uploaded until then never touch the head again. */
  readonly deletedAt?: string;
  /** Incremented by every head write of the ingest handlers (compare-and-set). */
  readonly version?: number;
  /** The latest takedown's progress (core/takedown.ts); kept after a later upload revives the asset. */
  readonly takedown?: TakedownRecord;
}

/**
 * One takedown as the catalog records it on the head (docs/catalog.md "Takedown"). Every field but
 * `requestedAt` and `status` is written by the worker as its steps finish, so a retry knows where
 * to go on.
 */
export interface TakedownRecord {
  /** Equals the head's `deletedAt` while this is the latest takedown; identifies it in events. */
  readonly requestedAt: string;
  readonly status: 'PENDING' | 'TAKEN_DOWN';
  /** Worker attempts so far (each claim counts one). */
  readonly attempts: number;
  /** Jobs of the asset's revisions that were still running and were cancelled. */
  readonly canceledJobs?: readonly string[];
  /** Set once every job of a revision uploaded before `requestedAt` has ended. */
  readonly jobsSettledAt?: string;
  /** Origin objects deleted so far under `media/<assetId>/`. */
  readonly deletedObjects: number;
  /** Set once nothing of the taken-down revisions is left at the origin. */
  readonly objectsDeletedAt?: string;
  /** Distribution id → the id of the invalidation of `/media/<assetId>/*` created there. */
  readonly invalidations: Readonly<Record<string, string>>;
  readonly completedAt?: string;
  /** A worker holds the takedown until then; another one finding it held leaves it alone. */
  readonly leaseUntil?: string;
  /** The last failed attempt; the next attempt starts where it stopped. */
  readonly lastError?: { readonly at: string; readonly message: string };
}

export interface NewRevision {
  readonly assetId: string;
  readonly revision: string;
  readonly uploadedAt: string;
  readonly sourceBucket: string;
  readonly sourceKey: string;
  readonly sourceSize?: number;
  readonly now: string;
}

/** The first state of an upload: RECEIVED, or FAILED straight away (e.g. an empty file). */
export function newRevision(upload: NewRevision, failure?: { reason: string; code: string }): Revision {
  return {
    assetId: upload.assetId,
    revision: upload.revision,
    status: failure ? 'FAILED' : 'RECEIVED',
    sourceBucket: upload.sourceBucket,
    sourceKey: upload.sourceKey,
    ...(upload.sourceSize !== undefined ? { sourceSize: upload.sourceSize } : {}),
    uploadedAt: upload.uploadedAt,
    createdAt: upload.now,
    updatedAt: upload.now,
    ...(failure ? { errorReason: failure.reason, errorCode: failure.code } : {}),
  };
}

export interface RevisionChange {
  readonly revision: string;
  readonly status: RevisionStatus;
  readonly uploadedAt: string;
  readonly now: string;
}

/** Fields a head write sets and removes; the catalog table writes it with a compare-and-set. */
export interface HeadChange {
  readonly set: Readonly<Record<string, unknown>>;
  readonly remove: readonly string[];
}

/**
 * How the head changes when a revision reaches `change.status`; null when it does not.
 *
 * - Revisions uploaded before a takedown (`uploadedAt <= deletedAt`) never touch the head again: a
 *   job finishing after the takedown must not bring the asset back.
 * - A revision uploaded after a takedown revives the asset: it becomes the latest, and the taken
 *   down `currentRevision` is dropped so playback waits for the new one to be READY.
 * - `latestRevision`/`status` follow the newest revision, and only forward for the same revision.
 * - `currentRevision` moves to a READY revision only if it is newer (revision ids sort by upload).
 */
export function nextHead(head: AssetHead | undefined, change: RevisionChange): HeadChange | null {
  if (head?.deletedAt !== undefined && change.uploadedAt <= head.deletedAt) return null;
  const reviving = isTakenDown(head?.status);
  const latest = reviving ? undefined : head?.latestRevision;
  const current = reviving ? undefined : head?.currentRevision;
  const set: Record<string, unknown> = {};
  const remove: string[] = [];

  if (latest === undefined || change.revision > latest) {
    set.latestRevision = change.revision;
    set.status = change.status;
  } else if (change.revision === latest && !isTakenDown(head?.status) && canAdvance(head?.status, change.status)) {
    set.status = change.status;
  }
  if (change.status === 'READY' && (current === undefined || change.revision > current)) {
    set.currentRevision = change.revision;
  } else if (reviving && head?.currentRevision !== undefined) {
    remove.push('currentRevision');
  }
  if (Object.keys(set).length === 0 && remove.length === 0) return null;
  if (!head) set.createdAt = change.now;
  set.updatedAt = change.now;
  set.version = (head?.version ?? 0) + 1;
  return { set, remove };
}

/** The head as it is after `change` was written over `snapshot`. */
export function applyHeadChange(assetId: string, snapshot: AssetHead | undefined, change: HeadChange): AssetHead {
  const next: Record<string, unknown> = { assetId, ...snapshot, ...change.set };
  for (const field of change.remove) delete next[field];
  return next as unknown as AssetHead;
}

/** The revision playback serves: none for an unknown asset, one without a READY revision, or a taken-down one. */
export function playableRevision(head: AssetHead | undefined): string | undefined {
  if (head === undefined || isTakenDown(head.status)) return undefined;
  return head.currentRevision;
}

/** `detail.outputGroupDetails` of a COMPLETE "MediaConvert Job State Change" event (the fields used here). */
export interface JobOutputGroupDetail {
  readonly type?: string;
  readonly playlistFilePaths?: readonly string[];
  readonly outputDetails?: readonly {
    readonly outputFilePaths?: readonly string[];
    readonly durationInMs?: number;
    readonly videoDetails?: { readonly widthInPx?: number; readonly heightInPx?: number; readonly averageBitrate?: number };
  }[];
}

/**
 * Renditions and duration from a COMPLETE event. Only the CMAF group counts (the frame-capture
 * FILE_GROUP holds thumbnails); without one, every non-FILE group does. Outputs with
 * `videoDetails` are video renditions, the others audio (MediaConvert user guide, "CMAF group"
 * COMPLETE event example).
 */
export function renditionsFromOutputGroups(groups: readonly JobOutputGroupDetail[] | undefined): {
  renditions: Rendition[];
  durationMs?: number;
} {
  const all = groups ?? [];
  const cmaf = all.filter((group) => group.type === 'CMAF_GROUP');
  const chosen = cmaf.length > 0 ? cmaf : all.filter((group) => group.type !== 'FILE_GROUP');
  const renditions: Rendition[] = [];
  let durationMs: number | undefined;
  for (const output of chosen.flatMap((group) => group.outputDetails ?? [])) {
    const video = output.videoDetails;
    if (video?.widthInPx && video.heightInPx) {
      renditions.push({
        type: 'video',
        width: video.widthInPx,
        height: video.heightInPx,
        ...(video.averageBitrate ? { averageBitrate: video.averageBitrate } : {}),
      });
    } else {
      renditions.push({ type: 'audio' });
    }
    if (typeof output.durationInMs === 'number' && output.durationInMs > 0) {
      durationMs = Math.max(durationMs ?? 0, output.durationInMs);
    }
  }
  return { renditions, ...(durationMs !== undefined ? { durationMs } : {}) };
}

/** Catalog events on EVENT_BUS_NAME (docs/catalog.md "Events"). */

export interface CatalogEvent {
  readonly Source: typeof CATALOG_EVENT_SOURCE;
  readonly DetailType: typeof ASSET_READY | typeof ASSET_FAILED;
  readonly Detail: string;
}

/**
 * The event for a revision that reached a terminal status: `Asset Ready` for READY, `Asset Failed`
 * for FAILED and CANCELED. `current` says whether playback now serves this revision.
 */
export function revisionEvent(item: Revision, current: boolean): CatalogEvent | undefined {
  if (!isTerminal(item.status)) return undefined;
  const common = { assetId: item.assetId, revision: item.revision, status: item.status, sourceKey: item.sourceKey };
  if (item.status === 'READY') {
    return {
      Source: CATALOG_EVENT_SOURCE,
      DetailType: ASSET_READY,
      Detail: JSON.stringify({
        ...common,
        current,
        manifests: item.manifests,
        durationMs: item.durationMs,
        renditions: item.renditions,
      }),
    };
  }
  return {
    Source: CATALOG_EVENT_SOURCE,
    DetailType: ASSET_FAILED,
    Detail: JSON.stringify({ ...common, reason: item.errorReason ?? 'the encode was canceled', errorCode: item.errorCode }),
  };
}

/** `Asset Failed` for an upload that never became a revision (its name gives no asset id). */
export function rejectedUploadEvent(sourceKey: string, reason: string): CatalogEvent {
  return {
    Source: CATALOG_EVENT_SOURCE,
    DetailType: ASSET_FAILED,
    Detail: JSON.stringify({ status: 'FAILED', sourceKey, reason, errorCode: 'INVALID_NAME' }),
  };
}
