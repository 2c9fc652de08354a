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
} from '@aws-sdk/lib-dynamodb';
import { type AssetHead, type HeadChange, type Revision, type RevisionStatus, statusesBefore } from '../core/asset-status';
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
   * The asset's head. Playback and takedown read eventually consistent (a head a second old is
   * fine there); the ingest handlers read consistently before a compare-and-set.
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

  /**
   * Takedown (ADR 0005): the head becomes DELETED with `deletedAt`, so no new session is signed and no
   * revision uploaded before now touches the head again. False when the asset has no head.
   */
  async markDeleted(assetId: string, at: string): Promise<boolean> {
    return this.conditional(() =>
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { assetId, sk: HEAD_SK },
          UpdateExpression: 'SET #status = :deleted, #deletedAt = :now, #updatedAt = :now',
          ConditionExpression: 'attribute_exists(assetId)',
          ExpressionAttributeNames: { '#status': 'status', '#deletedAt': 'deletedAt', '#updatedAt': 'updatedAt' },
          ExpressionAttributeValues: { ':deleted': 'DELETED', ':now': at },
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
