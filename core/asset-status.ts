/**
 * The catalog's state machine and item shapes (DESIGN.md §4 "Idempotency" and "Catalog";
 * docs/catalog.md is the reader's guide, ADR 0022 the reasoning).
 *
 * Table "Assets": partition `assetId` (S), sort `sk` (S).
 * - revision item `sk = rev#<revision>`: one upload's journey RECEIVED → SUBMITTED → PROGRESSING →
 *   READY | FAILED | CANCELED. Every write is conditional on moving *forward*, so duplicated and
 *   out-of-order events can only ever be no-ops.
 * - head item `sk = asset`: what playback reads. `currentRevision` = newest READY revision,
 *   `latestRevision` + `status` = newest revision and its status; a takedown sets `status = DELETED`
 *   and `deletedAt`. The head is rewritten with a compare-and-set on the fields it was computed from.
 *
 * Pure: builds DynamoDB DocumentClient parameters as plain data; the handlers send them.
 */
import { MANIFEST_FILE, originKey } from './playback-paths';
import { ASSET_FAILED, ASSET_READY, CATALOG_EVENT_SOURCE } from './identifiers';

export const REVISION_STATUSES = ['RECEIVED', 'SUBMITTED', 'PROGRESSING', 'READY', 'FAILED', 'CANCELED'] as const;
export type RevisionStatus = (typeof REVISION_STATUSES)[number];
/** Head status: the latest revision's status, or DELETED after a takedown. */
export type AssetStatus = RevisionStatus | 'DELETED';

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

export const HEAD_SK = 'asset';
export const REVISION_SK_PREFIX = 'rev#';
export const revisionSk = (revision: string): string => `${REVISION_SK_PREFIX}${revision}`;

export function isTerminal(status: RevisionStatus): boolean {
  return RANK[status] === RANK.READY;
}

/** Whether `to` is strictly later than `from` (a missing item can become anything). */
export function canAdvance(from: RevisionStatus | undefined, to: RevisionStatus): boolean {
  return from === undefined || RANK[from] < RANK[to];
}

/** Statuses a revision may be in for `next` to apply. */
export function statusesBefore(next: RevisionStatus): RevisionStatus[] {
  return REVISION_STATUSES.filter((status) => RANK[status] < RANK[next]);
}

export interface ConditionParts {
  readonly expression: string;
  readonly names: Readonly<Record<string, string>>;
  readonly values: Readonly<Record<string, unknown>>;
}

/**
 * The DynamoDB condition for "only move forward" to `next`: the item exists and its status ranks
 * strictly lower. `status` is a DynamoDB reserved word, hence the `#status` name placeholder.
 * RECEIVED (the first state) can only be created: `attribute_not_exists`.
 */
export function forwardOnlyCondition(next: RevisionStatus): ConditionParts {
  const before = statusesBefore(next);
  if (before.length === 0) return { expression: 'attribute_not_exists(#sk)', names: { '#sk': 'sk' }, values: {} };
  const values = Object.fromEntries(before.map((status, i) => [`:before${i}`, status]));
  return {
    expression: `attribute_exists(#sk) AND #status IN (${Object.keys(values).join(', ')})`,
    names: { '#sk': 'sk', '#status': 'status' },
    values,
  };
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

/** The revision item, `sk = rev#<revision>`. Optional fields appear as the revision moves on. */
export interface RevisionItem {
  readonly assetId: string;
  readonly sk: string;
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
  readonly manifests?: ManifestPaths;
  readonly errorReason?: string;
  readonly errorCode?: string;
  /** Set once the `Asset Ready`/`Asset Failed` event for the terminal status went out. */
  readonly eventPublishedAt?: string;
}

/** The head item, `sk = asset`. */
export interface AssetHead {
  readonly assetId: string;
  readonly sk: typeof HEAD_SK;
  readonly status?: AssetStatus;
  readonly latestRevision?: string;
  readonly currentRevision?: string;
  readonly createdAt?: string;
  readonly updatedAt?: string;
  readonly deletedAt?: string;
  /** Incremented by every head write of the ingest handlers (compare-and-set). */
  readonly version?: number;
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

/** The first write of an upload: RECEIVED, or FAILED straight away (e.g. an empty file). */
export function newRevisionItem(upload: NewRevision, failure?: { reason: string; code: string }): RevisionItem {
  return {
    assetId: upload.assetId,
    sk: revisionSk(upload.revision),
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

/** DocumentClient `PutCommand`/`UpdateCommand` input as plain data. */
export interface PutParams {
  readonly TableName: string;
  readonly Item: Record<string, unknown>;
  readonly ConditionExpression: string;
  readonly ExpressionAttributeNames: Record<string, string>;
}

export interface UpdateParams {
  readonly TableName: string;
  readonly Key: { readonly assetId: string; readonly sk: string };
  readonly UpdateExpression: string;
  readonly ConditionExpression: string;
  readonly ExpressionAttributeNames: Record<string, string>;
  readonly ExpressionAttributeValues?: Record<string, unknown>;
}

/** Creates a revision item only if that upload was never seen (duplicate events fail the condition). */
export function createRevisionParams(tableName: string, item: RevisionItem): PutParams {
  return {
    TableName: tableName,
    Item: { ...item },
    ConditionExpression: 'attribute_not_exists(#sk)',
    ExpressionAttributeNames: { '#sk': 'sk' },
  };
}

/**
 * Moves a revision forward to `next`, setting `fields` alongside. With `jobId`, the write also
 * requires the revision to belong to that job (or to none yet), so events of a stray job never
 * touch it.
 */
export function revisionTransitionParams(
  tableName: string,
  key: { assetId: string; revision: string },
  next: RevisionStatus,
  now: string,
  fields: Readonly<Record<string, unknown>> = {},
  jobId?: string,
): UpdateParams {
  const condition = forwardOnlyCondition(next);
  const names: Record<string, string> = { ...condition.names, '#status': 'status', '#updatedAt': 'updatedAt' };
  const values: Record<string, unknown> = { ...condition.values, ':next': next, ':now': now };
  const assignments = ['#status = :next', '#updatedAt = :now'];
  Object.entries(fields).forEach(([field, value], i) => {
    if (value === undefined) return;
    names[`#f${i}`] = field;
    values[`:f${i}`] = value;
    assignments.push(`#f${i} = :f${i}`);
  });
  let conditionExpression = condition.expression;
  if (jobId !== undefined) {
    names['#jobId'] = 'jobId';
    values[':jobId'] = jobId;
    assignments.push('#jobId = :jobId');
    conditionExpression += ' AND (attribute_not_exists(#jobId) OR #jobId = :jobId)';
  }
  return {
    TableName: tableName,
    Key: { assetId: key.assetId, sk: revisionSk(key.revision) },
    UpdateExpression: `SET ${assignments.join(', ')}`,
    ConditionExpression: conditionExpression,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/** Records that the terminal event went out, once. */
export function markEventPublishedParams(tableName: string, key: { assetId: string; revision: string }, now: string): UpdateParams {
  return {
    TableName: tableName,
    Key: { assetId: key.assetId, sk: revisionSk(key.revision) },
    UpdateExpression: 'SET #eventPublishedAt = :now',
    ConditionExpression: 'attribute_exists(#sk) AND attribute_not_exists(#eventPublishedAt)',
    ExpressionAttributeNames: { '#sk': 'sk', '#eventPublishedAt': 'eventPublishedAt' },
    ExpressionAttributeValues: { ':now': now },
  };
}

export interface RevisionChange {
  readonly revision: string;
  readonly status: RevisionStatus;
  readonly uploadedAt: string;
  readonly now: string;
}

export interface HeadChange {
  readonly set: Readonly<Record<string, unknown>>;
  readonly remove: readonly string[];
}

/**
 * How the head item changes when a revision reaches `change.status`; null when it does not.
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
  const reviving = head?.status === 'DELETED';
  const latest = reviving ? undefined : head?.latestRevision;
  const current = reviving ? undefined : head?.currentRevision;
  const set: Record<string, unknown> = {};
  const remove: string[] = [];

  if (latest === undefined || change.revision > latest) {
    set.latestRevision = change.revision;
    set.status = change.status;
  } else if (change.revision === latest && head?.status !== 'DELETED' && canAdvance(head?.status, change.status)) {
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

/** The fields a head write was computed from; any concurrent change to one of them fails the write. */
const HEAD_GUARD_FIELDS = ['version', 'status', 'updatedAt', 'deletedAt'] as const;

/** The compare-and-set UpdateCommand for a head change computed from `snapshot`. */
export function headUpdateParams(tableName: string, assetId: string, snapshot: AssetHead | undefined, change: HeadChange): UpdateParams {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets = Object.entries(change.set).map(([field, value], i) => {
    names[`#s${i}`] = field;
    values[`:s${i}`] = value;
    return `#s${i} = :s${i}`;
  });
  const removes = change.remove.map((field, i) => {
    names[`#r${i}`] = field;
    return `#r${i}`;
  });
  let condition: string;
  if (!snapshot) {
    names['#sk'] = 'sk';
    condition = 'attribute_not_exists(#sk)';
  } else {
    condition = HEAD_GUARD_FIELDS.map((field, i) => {
      names[`#g${i}`] = field;
      const was = snapshot[field];
      if (was === undefined) return `attribute_not_exists(#g${i})`;
      values[`:g${i}`] = was;
      return `#g${i} = :g${i}`;
    }).join(' AND ');
  }
  return {
    TableName: tableName,
    Key: { assetId, sk: HEAD_SK },
    UpdateExpression: [sets.length ? `SET ${sets.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : '']
      .filter(Boolean)
      .join(' '),
    ConditionExpression: condition,
    ExpressionAttributeNames: names,
    ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
  };
}

/** The head as it is after `change` was written over `snapshot`. */
export function applyHeadChange(assetId: string, snapshot: AssetHead | undefined, change: HeadChange): AssetHead {
  const next: Record<string, unknown> = { assetId, sk: HEAD_SK, ...snapshot, ...change.set };
  for (const field of change.remove) delete next[field];
  return next as unknown as AssetHead;
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
export function revisionEvent(item: RevisionItem, current: boolean): CatalogEvent | undefined {
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
