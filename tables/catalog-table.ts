/**
 * The catalog ("Assets") table: the only code that knows its keys, item layout and expressions
 * (ADR 0007). The rules it enforces come from core/asset-status.ts; docs/catalog.md describes the
 * items, ADR 0022 the reasoning, ADR 0006 why the conditions double as idempotency.
 *
 * Partition `assetId` (S), sort `sk` (S):
 * - `sk = asset`: the head, what playback reads. Rewritten only with a compare-and-set on the fields
 *   it was computed from, so a concurrent writer (another event, a takedown) makes the write fail.
 * - `sk = rev#<revision>`: one revision. Created once; every later write is conditional on moving
 *   forward, so a duplicate or late event fails the condition and changes nothing.
 *
 * A failed condition is an answer here (`false` or `undefined`), never an exception; anything else
 * DynamoDB throws is passed on.
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { type AssetHead, type HeadChange, type Revision, type RevisionStatus, statusesBefore, type TakedownRecord } from '../core/asset-status';
import { isConditionFailure } from './condition-failure';
import { queryPartition } from './query-partition';
import { CATALOG_TABLE_SCHEMA } from './table-schema';

export const HEAD_SK = 'asset';
export const REVISION_SK_PREFIX = 'rev#';
export const revisionSk = (revision: string): string => `${REVISION_SK_PREFIX}${revision}`;

/** A revision as stored: the catalog record plus its sort key (the head likewise, with `sk = asset`). */
export type RevisionItem = Revision & { readonly sk: string };

export interface RevisionKey {
  readonly assetId: string;
  readonly revision: string;
}

/** One asset's items, as the operator view lists them. */
export interface CatalogEntry {
  readonly assetId: string;
  readonly head?: AssetHead;
  readonly revisions: readonly Revision[];
}

/** The head fields a head change is computed from; a concurrent change to any of them fails the write. */
const HEAD_GUARD_FIELDS = ['version', 'status', 'updatedAt', 'deletedAt'] as const;

type Item = Record<string, unknown>;

export class CatalogTable {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /** Creates the revision; false when this upload was seen before (a duplicate event). */
  async createRevision(revision: Revision): Promise<boolean> {
    const item: RevisionItem = { ...revision, sk: revisionSk(revision.revision) };
    return this.conditional(() =>
      this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(#sk)',
          ExpressionAttributeNames: { '#sk': 'sk' },
        }),
      ),
    );
  }

  /** Strongly consistent: the ingest handlers decide from what they just wrote. */
  async getRevision(key: RevisionKey): Promise<Revision | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: { assetId: key.assetId, sk: revisionSk(key.revision) }, ConsistentRead: true }),
    );
    return Item ? toRevision(Item) : undefined;
  }

  /**
   * Moves a revision forward to `next`, setting `fields` (undefined values skipped) alongside; returns
   * the revision as written, or undefined when the condition failed: the revision is missing, already
   * at `next` or beyond, or — with `jobId` — belongs to another job (events of a stray job never
   * touch it). `status` is a DynamoDB reserved word, hence the name placeholders.
   */
  async advanceRevision(
    key: RevisionKey,
    next: RevisionStatus,
    at: string,
    fields: Readonly<Record<string, unknown>> = {},
    jobId?: string,
  ): Promise<Revision | undefined> {
    const before = statusesBefore(next);
    const names: Record<string, string> = { '#sk': 'sk', '#status': 'status', '#updatedAt': 'updatedAt' };
    const values: Record<string, unknown> = Object.fromEntries(before.map((status, i) => [`:before${i}`, status]));
    // RECEIVED ranks first: an update may only create it, never move an existing revision back to it.
    let condition =
      before.length === 0 ? 'attribute_not_exists(#sk)' : `attribute_exists(#sk) AND #status IN (${Object.keys(values).join(', ')})`;
    values[':next'] = next;
    values[':now'] = at;
    const assignments = ['#status = :next', '#updatedAt = :now'];
    Object.entries(fields).forEach(([field, value], i) => {
      if (value === undefined) return;
      names[`#f${i}`] = field;
      values[`:f${i}`] = value;
      assignments.push(`#f${i} = :f${i}`);
    });
    if (jobId !== undefined) {
      names['#jobId'] = 'jobId';
      values[':jobId'] = jobId;
      assignments.push('#jobId = :jobId');
      condition += ' AND (attribute_not_exists(#jobId) OR #jobId = :jobId)';
    }
    try {
      const { Attributes } = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { assetId: key.assetId, sk: revisionSk(key.revision) },
          UpdateExpression: `SET ${assignments.join(', ')}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toRevision(Attributes ?? {});
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /**
   * Counts one more submit-job attempt on a revision still RECEIVED (ADR 0025): a compare-and-set
   * from `previous` (the count the caller read), so two concurrent deliveries cannot both count the
   * same attempt. Returns the revision as written, or undefined when the revision moved on or another
   * invocation counted first.
   */
  async countSubmitAttempt(revision: Revision, at: string): Promise<Revision | undefined> {
    const previous = revision.attempts;
    const values: Record<string, unknown> = { ':received': 'RECEIVED', ':next': (previous ?? 0) + 1, ':now': at };
    if (previous !== undefined) values[':previous'] = previous;
    return this.updateRevision(revision, {
      UpdateExpression: 'SET #attempts = :next, #updatedAt = :now',
      ConditionExpression: `attribute_exists(#sk) AND #status = :received AND ${
        previous === undefined ? 'attribute_not_exists(#attempts)' : '#attempts = :previous'
      }`,
      ExpressionAttributeNames: { '#sk': 'sk', '#status': 'status', '#attempts': 'attempts', '#updatedAt': 'updatedAt' },
      ExpressionAttributeValues: values,
    });
  }

  /**
   * Records, once, that submit-job is about to call CreateJob for a RECEIVED revision (ADR 0024).
   * Returns the revision as written, or undefined when it was recorded before or the revision moved on.
   */
  async markSubmitting(key: RevisionKey, at: string): Promise<Revision | undefined> {
    return this.updateRevision(key, {
      UpdateExpression: 'SET #submittingSince = :now',
      ConditionExpression: 'attribute_exists(#sk) AND #status = :received AND attribute_not_exists(#submittingSince)',
      ExpressionAttributeNames: { '#sk': 'sk', '#status': 'status', '#submittingSince': 'submittingSince' },
      ExpressionAttributeValues: { ':received': 'RECEIVED', ':now': at },
    });
  }

  /** A conditional update of one revision returning it as written; undefined when the condition failed. */
  private async updateRevision(
    key: RevisionKey,
    update: Pick<UpdateCommandInput, 'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'>,
  ): Promise<Revision | undefined> {
    try {
      const { Attributes } = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { assetId: key.assetId, sk: revisionSk(key.revision) },
          ...update,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toRevision(Attributes ?? {});
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** Records that the revision's terminal event went out; false when it was recorded before. */
  async markEventPublished(key: RevisionKey, at: string): Promise<boolean> {
    return this.conditional(() =>
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { assetId: key.assetId, sk: revisionSk(key.revision) },
          UpdateExpression: 'SET #eventPublishedAt = :now',
          ConditionExpression: 'attribute_exists(#sk) AND attribute_not_exists(#eventPublishedAt)',
          ExpressionAttributeNames: { '#sk': 'sk', '#eventPublishedAt': 'eventPublishedAt' },
          ExpressionAttributeValues: { ':now': at },
        }),
      ),
    );
  }

  /**
   * The asset's head. Playback reads eventually consistent (a head a second old is fine there); the
   * ingest handlers and the takedown read consistently before they decide and write.
   */
  async getHead(assetId: string, options: { readonly consistent?: boolean } = {}): Promise<AssetHead | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: { assetId, sk: HEAD_SK }, ...(options.consistent ? { ConsistentRead: true } : {}) }),
    );
    return Item ? toHead(Item) : undefined;
  }

  /**
   * Writes `change` (computed by `nextHead` from `snapshot`) only if the head still is `snapshot`:
   * absent, or with the same guard fields. False when someone else changed it in between; the
   * caller re-reads and decides again.
   */
  async writeHead(assetId: string, snapshot: AssetHead | undefined, change: HeadChange): Promise<boolean> {
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
    return this.conditional(() =>
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { assetId, sk: HEAD_SK },
          UpdateExpression: [sets.length ? `SET ${sets.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : '']
            .filter(Boolean)
            .join(' '),
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
        }),
      ),
    );
  }

  // -------------------------------------------------------------------------------------------
  // Takedown (ADR 0011): the record lives on the head as the map `takedown`. The ingest handlers'
  // head writes never name it, and the worker's progress writes leave the head's guard fields alone,
  // so neither fails the other's compare-and-set; only the request and the completion change the
  // head's `status`. Every worker write is conditioned on `takedown.requestedAt`, so a worker of a
  // takedown that a newer one replaced changes nothing (false).

  /**
   * Starts a takedown: `status = TAKEDOWN_PENDING`, `deletedAt = requestedAt` (no new session is
   * signed, no revision uploaded until now touches the head again) and a fresh `takedown` record.
   * False when the asset has no head or is already taken down or being taken down.
   */
  async requestTakedown(assetId: string, record: TakedownRecord): Promise<boolean> {
    return this.conditional(() =>
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { assetId, sk: HEAD_SK },
          UpdateExpression: 'SET #status = :pending, #deletedAt = :at, #updatedAt = :at, #takedown = :record',
          ConditionExpression: 'attribute_exists(#sk) AND NOT (#status IN (:pending, :done))',
          ExpressionAttributeNames: { '#sk': 'sk', '#status': 'status', '#deletedAt': 'deletedAt', '#updatedAt': 'updatedAt', '#takedown': 'takedown' },
          ExpressionAttributeValues: { ':pending': 'TAKEDOWN_PENDING', ':done': 'TAKEN_DOWN', ':at': record.requestedAt, ':record': record },
        }),
      ),
    );
  }

  /**
   * A worker takes the takedown requested at `requestedAt` until `leaseUntil` and counts the attempt;
   * the record as taken, or undefined when it is not this worker's to do: replaced by a newer
   * takedown, already TAKEN_DOWN, or held by another worker whose lease has not run out.
   */
  async claimTakedown(assetId: string, requestedAt: string, now: string, leaseUntil: string): Promise<TakedownRecord | undefined> {
    try {
      const { Attributes } = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { assetId, sk: HEAD_SK },
          UpdateExpression: 'SET #t.#leaseUntil = :leaseUntil, #t.#attempts = #t.#attempts + :one',
          ConditionExpression:
            '#t.#requestedAt = :requestedAt AND #t.#status = :pending AND (attribute_not_exists(#t.#leaseUntil) OR #t.#leaseUntil < :now)',
          ExpressionAttributeNames: {
            '#t': 'takedown',
            '#leaseUntil': 'leaseUntil',
            '#attempts': 'attempts',
            '#requestedAt': 'requestedAt',
            '#status': 'status',
          },
          ExpressionAttributeValues: { ':leaseUntil': leaseUntil, ':one': 1, ':requestedAt': requestedAt, ':pending': 'PENDING', ':now': now },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toHead(Attributes ?? {}).takedown;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** Records that every covered job has ended, and which ones the worker cancelled. */
  async recordJobsSettled(assetId: string, requestedAt: string, canceledJobs: readonly string[], at: string): Promise<boolean> {
    return this.updateTakedown(assetId, requestedAt, { set: { canceledJobs: [...canceledJobs], jobsSettledAt: at } });
  }

  /** Adds one page of deleted origin objects to the count. */
  async addDeletedObjects(assetId: string, requestedAt: string, count: number): Promise<boolean> {
    return this.updateTakedown(assetId, requestedAt, { add: { deletedObjects: count } });
  }

  /** Records that nothing of the covered revisions is left at the origin. */
  async recordObjectsDeleted(assetId: string, requestedAt: string, at: string): Promise<boolean> {
    return this.updateTakedown(assetId, requestedAt, { set: { objectsDeletedAt: at } });
  }

  /** Records the invalidation created on one distribution. */
  async recordInvalidation(assetId: string, requestedAt: string, distributionId: string, invalidationId: string): Promise<boolean> {
    return this.updateTakedown(assetId, requestedAt, { setInMap: { map: 'invalidations', key: distributionId, value: invalidationId } });
  }

  /** Records a failed attempt and gives the takedown up for the next one (the lease ends now). */
  async recordTakedownFailure(assetId: string, requestedAt: string, message: string, at: string): Promise<boolean> {
    return this.updateTakedown(assetId, requestedAt, { set: { lastError: { at, message } }, remove: ['leaseUntil'] });
  }

  /**
   * The takedown is done: its record becomes TAKEN_DOWN with `completedAt`, and so does the head's
   * `status` unless an upload after the request revived the asset meanwhile (then the head follows
   * that upload, and only the record says TAKEN_DOWN). False when a newer takedown replaced this one.
   */
  async completeTakedown(assetId: string, requestedAt: string, at: string): Promise<boolean> {
    const done = { set: { status: 'TAKEN_DOWN', completedAt: at }, remove: ['leaseUntil', 'lastError'] };
    if (await this.updateTakedown(assetId, requestedAt, done, { status: 'TAKEN_DOWN', updatedAt: at, stillPending: true })) return true;
    return this.updateTakedown(assetId, requestedAt, done);
  }

  /**
   * One conditional write to the `takedown` record of the takedown requested at `requestedAt`.
   * `head` also moves the head's status, only while the head still is that takedown's
   * TAKEDOWN_PENDING.
   */
  private async updateTakedown(
    assetId: string,
    requestedAt: string,
    change: {
      readonly set?: Readonly<Record<string, unknown>>;
      readonly add?: Readonly<Record<string, number>>;
      readonly setInMap?: { readonly map: string; readonly key: string; readonly value: unknown };
      readonly remove?: readonly string[];
    },
    head?: { readonly status: string; readonly updatedAt: string; readonly stillPending: true },
  ): Promise<boolean> {
    const names: Record<string, string> = { '#t': 'takedown', '#requestedAt': 'requestedAt' };
    const values: Record<string, unknown> = { ':requestedAt': requestedAt };
    const sets: string[] = [];
    Object.entries(change.set ?? {}).forEach(([field, value], i) => {
      names[`#s${i}`] = field;
      values[`:s${i}`] = value;
      sets.push(`#t.#s${i} = :s${i}`);
    });
    Object.entries(change.add ?? {}).forEach(([field, value], i) => {
      names[`#a${i}`] = field;
      values[`:a${i}`] = value;
      sets.push(`#t.#a${i} = #t.#a${i} + :a${i}`);
    });
    if (change.setInMap) {
      names['#map'] = change.setInMap.map;
      names['#key'] = change.setInMap.key;
      values[':mapValue'] = change.setInMap.value;
      sets.push('#t.#map.#key = :mapValue');
    }
    let condition = '#t.#requestedAt = :requestedAt';
    if (head) {
      Object.assign(names, { '#status': 'status', '#updatedAt': 'updatedAt', '#deletedAt': 'deletedAt' });
      Object.assign(values, { ':headStatus': head.status, ':updatedAt': head.updatedAt, ':pending': 'TAKEDOWN_PENDING' });
      sets.push('#status = :headStatus', '#updatedAt = :updatedAt');
      condition += ' AND #status = :pending AND #deletedAt = :requestedAt';
    }
    const removes = (change.remove ?? []).map((field, i) => {
      names[`#r${i}`] = field;
      return `#t.#r${i}`;
    });
    return this.conditional(() =>
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { assetId, sk: HEAD_SK },
          UpdateExpression: [sets.length ? `SET ${sets.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : ''].filter(Boolean).join(' '),
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  /** The head and every revision of one asset (one partition); undefined when there is neither. */
  async getAsset(assetId: string): Promise<CatalogEntry | undefined> {
    const items = await queryPartition(this.documents, this.tableName, { name: CATALOG_TABLE_SCHEMA.partitionKey.name, value: assetId });
    return groupByAsset(items)[0];
  }

  /**
   * Every asset with its items, by a full Scan: for the twin's operator page only, where the table
   * holds a few dozen items (a real catalog would need an index, not a Scan).
   */
  async listAssets(): Promise<CatalogEntry[]> {
    const items: Item[] = [];
    let ExclusiveStartKey: Item | undefined;
    do {
      const page = await this.documents.send(new ScanCommand({ TableName: this.tableName, ExclusiveStartKey }));
      items.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return groupByAsset(items);
  }

  /** Runs a conditional write; false when its condition failed. */
  private async conditional(write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}

function toRevision(item: Item): Revision {
  const { sk: _sk, ...revision } = item;
  return revision as unknown as Revision;
}

function toHead(item: Item): AssetHead {
  const { sk: _sk, ...head } = item;
  return head as unknown as AssetHead;
}

function groupByAsset(items: readonly Item[]): CatalogEntry[] {
  const byAsset = new Map<string, { head?: AssetHead; revisions: Revision[] }>();
  for (const item of items) {
    const assetId = String(item.assetId);
    const entry = byAsset.get(assetId) ?? { revisions: [] };
    if (item.sk === HEAD_SK) entry.head = toHead(item);
    else if (typeof item.sk === 'string' && item.sk.startsWith(REVISION_SK_PREFIX)) entry.revisions.push(toRevision(item));
    byAsset.set(assetId, entry);
  }
  return [...byAsset].map(([assetId, entry]) => ({ assetId, ...entry }));
}
