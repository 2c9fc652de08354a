/**
 * The QoE rollups table (ADR 0007: every read and write of it goes through this module). Three kinds of
 * item, told apart by the partition key `pk` (S); the sort key is `cell` (S):
 *
 * - **cells**: `pk` = `<minute>#<k>` (minute = epoch ms of the UTC minute, k = the cell's write shard,
 *   `ROLLUP_KEY_SHARDS` of them, ADR 0035), `cell` = `<pathway>#<country>`; the QoeCounters
 *   (core/qoe-types.ts), the four distinct-session bitmaps as 128-byte binaries (`SESSION_BIT_ATTRIBUTES`,
 *   ADR 0054), `rev` (a write counter), one high-water mark `hwm_<partials shard>` and `expiresAt` (TTL).
 *   Written by rollup-merger only, read by routing-weights, the smoke test and the twin's operator page.
 * - **claims**: `pk` = `claim#<telemetry stream>/<shard>`, the range of that shard's records qoe-aggregator
 *   emitted last (ADR 0057).
 * - **applied marks**: `pk` = `applied#<bucket>`, per telemetry shard the last claim rollup-merger applied
 *   to that bucket's cells (ADR 0057).
 * - title demand (`demand#<minute>`) and trending claims (`trending#<assetId>`) live in the same table but are
 *   read and written only through tables/title-demand-table.ts (ADR 0102).
 *
 * Cell writes are exact under redelivery (docs/adr/0057-two-stage-rollup-writes.md): each cell has one
 * writer at a time (the partials-stream shard of its bucket), which reads the item, drops contributions at
 * or below its high-water mark, ORs the bitmaps and writes on condition that `rev` is still the one it read.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import { addCounters, COUNTER_NAMES, emptyCounters } from '../core/qoe-aggregate';
import type { QoeCounters, QoeRollup, QoeSessionCounts } from '../core/qoe-types';
import { emptySessionBits, SESSION_BIT_FIELDS, SESSION_BITMAP_BITS, type SessionBits, sessionCountsOf } from '../core/session-evidence';
import { UNKNOWN_COUNTRY } from '../core/identifiers';
import { isConditionFailure } from './condition-failure';
import { queryPartition } from './query-partition';
import { ROLLUPS_TABLE_SCHEMA } from './table-schema';

/**
 * Partition keys per minute (ADR 0035). A minute's cells spread over this many partition keys, so a burst of
 * cell writes (rollup-merger writes a bucket's cells at once) stays under the 1,000 write units/s a
 * partition takes; readers query all of them. Changing it changes where cells live: readers and the writer
 * deploy together, and items written under the old count stop being read.
 */
export const ROLLUP_KEY_SHARDS = 8;

/** Progress items (claims and marks) outlive the 24 h the streams keep a record, and no more. */
const PROGRESS_TTL_SECONDS = 2 * 86_400;

/**
 * A Kinesis sequence number (decimal, up to 129 digits, API reference `SequenceNumber`) as a string whose
 * byte-wise order is numeric order: its digit count in three digits, then the digits. DynamoDB compares
 * strings byte-wise, so conditions can compare these; 59 bytes for today's 56-digit numbers instead of
 * 129 when zero-padded.
 */
export function orderedSequenceNumber(sequenceNumber: string): string {
  if (!/^\d{1,129}$/.test(sequenceNumber)) throw new Error(`not a Kinesis sequence number: ${sequenceNumber.slice(0, 40)}`);
  const digits = sequenceNumber.replace(/^0+(?=\d)/, '');
  return `${String(digits.length).padStart(3, '0')}${digits}`;
}

/** Attribute holding a cell's high-water mark for one partials-stream shard, e.g. `hwm_shardId-000000000000`. */
export function hwmAttributeOf(shardId: string): string {
  return `hwm_${shardId}`;
}

/** The write shard of a cell: a stable hash of its sort key. */
export function keyShardOf(cell: string): number {
  return createHash('sha256').update(`key:${cell}`).digest().readUInt32BE(0) % ROLLUP_KEY_SHARDS;
}

export function cellPartitionKey(minute: number, cell: string): string {
  return `${minute}#${keyShardOf(cell)}`;
}

/** Item attribute of each session bitmap (docs/telemetry.md "Per-session evidence"). */
export const SESSION_BIT_ATTRIBUTES: Readonly<Record<keyof SessionBits, string>> = Object.freeze({
  sessions: 'sessionBits',
  errorSessions: 'errorSessionBits',
  stallSessions: 'stallSessionBits',
  networks: 'networkBits',
});

const BITMAP_BYTES = SESSION_BITMAP_BITS / 8;

/** A bitmap of SESSION_BITMAP_BITS bits, bit i at byte i >> 3, mask 1 << (i & 7). */
export function bitmapOf(bits: ReadonlySet<number>): Uint8Array {
  const bytes = new Uint8Array(BITMAP_BYTES);
  for (const bit of bits) bytes[bit >> 3]! |= 1 << (bit & 7);
  return bytes;
}

export function bitsOfBitmap(bytes: Uint8Array): Set<number> {
  const bits = new Set<number>();
  for (let i = 0; i < Math.min(bytes.length, BITMAP_BYTES) * 8; i++) if ((bytes[i >> 3]! & (1 << (i & 7))) !== 0) bits.add(i);
  return bits;
}

export interface CellContribution {
  /** The partials record it came from: its sequence number, `orderedSequenceNumber` form. */
  readonly seq: string;
  readonly counters: QoeCounters;
  readonly sessions?: SessionBits;
}

export interface CellWrite {
  readonly minute: number;
  /** Sort key, `cellSortKey(pathway, country)` (core/qoe-aggregate.ts). */
  readonly cell: string;
  /** The partials-stream shard writing it. */
  readonly shardId: string;
  /** In ascending `seq` order. */
  readonly contributions: readonly CellContribution[];
}

export class TooManyConflictsError extends Error {
  constructor(cell: string) {
    super(`rollup cell ${cell} kept conflicting`);
    this.name = 'TooManyConflictsError';
  }
}

export interface CellWriteOutcome {
  /** Contributions applied by this call (0 when all had been applied before). */
  readonly applied: number;
  readonly updateCalls: number;
}

/** The range of one telemetry shard's records qoe-aggregator emitted last (sequence numbers, decimal). */
export interface RollupClaim {
  readonly first: string;
  readonly last: string;
}

/**
 * A rollup item as read: the cell's counters with its key; `cell` is the item's sort key. A type, not
 * an interface, so it also passes as a plain record (the twin's timeline reads items generically).
 */
export type RollupItem = { readonly [K in keyof QoeRollup]: QoeRollup[K] } & QoeSessionCounts & { readonly cell: string };

function unionOf(contributions: readonly CellContribution[], into: SessionBits): SessionBits {
  for (const c of contributions) {
    if (c.sessions === undefined) continue;
    for (const field of SESSION_BIT_FIELDS) for (const bit of c.sessions[field]) into[field].add(bit);
  }
  return into;
}

const claimKey = (source: string) => ({ pk: `claim#${source}`, cell: 'claim' });
const appliedKey = (bucket: number) => ({ pk: `applied#${bucket}`, cell: 'marks' });
/** Marks are attributes of the bucket's item, one per telemetry shard; a short hash keeps the item small. */
const markAttributeOf = (source: string) => `m_${createHash('sha256').update(source).digest('hex').slice(0, 16)}`;

export class RollupsTable {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /**
   * Adds the contributions above the cell's high-water mark for `write.shardId`: reads the item, merges,
   * and writes on condition that nobody wrote in between (`rev`); at most `maxConflicts` conflict rounds,
   * then TooManyConflictsError.
   */
  async addToCell(write: CellWrite, opts: { readonly expiresAtSeconds: number; readonly maxConflicts: number }): Promise<CellWriteOutcome> {
    const Key = { pk: cellPartitionKey(write.minute, write.cell), cell: write.cell };
    const hwmName = hwmAttributeOf(write.shardId);
    let updateCalls = 0;
    for (let round = 0; round <= opts.maxConflicts; round++) {
      const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key, ConsistentRead: true }));
      const hwm = typeof Item?.[hwmName] === 'string' ? (Item[hwmName] as string) : undefined;
      const pending = hwm === undefined ? write.contributions : write.contributions.filter((c) => c.seq > hwm);
      if (pending.length === 0) return { applied: 0, updateCalls };
      const counters = pending.reduce((sum, c) => addCounters(sum, c.counters), emptyCounters());
      const stored = storedBits(Item);
      const bits = unionOf(pending, stored);
      const names: Record<string, string> = { '#expiresAt': 'expiresAt', '#hwm': hwmName, '#rev': 'rev' };
      const values: Record<string, unknown> = { ':expiresAt': opts.expiresAtSeconds, ':maxSeq': pending[pending.length - 1]!.seq, ':one': 1 };
      const adds = ['#rev :one'];
      COUNTER_NAMES.forEach((name, i) => {
        if (counters[name] === 0) return;
        names[`#c${i}`] = name;
        values[`:c${i}`] = counters[name];
        adds.push(`#c${i} :c${i}`);
      });
      const sets = ['#expiresAt = :expiresAt', '#hwm = :maxSeq'];
      // Empty bitmaps are not stored: most cells have no error or stall session, and every byte is write units.
      for (const field of SESSION_BIT_FIELDS) {
        if (bits[field].size === 0) continue;
        names[`#${field}`] = SESSION_BIT_ATTRIBUTES[field];
        values[`:${field}`] = bitmapOf(bits[field]);
        sets.push(`#${field} = :${field}`);
      }
      const rev = typeof Item?.rev === 'number' ? Item.rev : undefined;
      if (rev !== undefined) values[':rev'] = rev;
      try {
        updateCalls += 1;
        await this.documents.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key,
            UpdateExpression: `ADD ${adds.join(', ')} SET ${sets.join(', ')}`,
            ConditionExpression: rev === undefined ? 'attribute_not_exists(#rev)' : '#rev = :rev',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        );
        return { applied: pending.length, updateCalls };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
    throw new TooManyConflictsError(write.cell);
  }

  /** Every cell of one minute: one query per write shard. */
  async readMinute(minute: number): Promise<RollupItem[]> {
    const shards = Array.from({ length: ROLLUP_KEY_SHARDS }, (_, k) => k);
    const pages = await Promise.all(
      shards.map((k) => queryPartition(this.documents, this.tableName, { name: ROLLUPS_TABLE_SCHEMA.partitionKey.name, value: `${minute}#${k}` })),
    );
    return pages.flat().map((item) => toRollupItem(item, minute));
  }

  /** The claim qoe-aggregator wrote last for one telemetry shard (`<stream name>/<shard id>`). */
  async readClaim(source: string): Promise<RollupClaim | undefined> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: claimKey(source), ConsistentRead: true }));
    return typeof Item?.first === 'string' && typeof Item.last === 'string' ? { first: Item.first, last: Item.last } : undefined;
  }

  /**
   * Records a new claim, on condition that the stored one is still `previous` (one writer per shard: a
   * mismatch means a second consumer, which the event source mapping never runs, and fails the batch).
   */
  async putClaim(source: string, claim: RollupClaim, previous: RollupClaim | undefined, nowSeconds: number): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...claimKey(source), first: claim.first, last: claim.last, expiresAt: nowSeconds + PROGRESS_TTL_SECONDS },
        ConditionExpression: previous === undefined ? 'attribute_not_exists(#last)' : '#last = :previous',
        ExpressionAttributeNames: { '#last': 'last' },
        ...(previous === undefined ? {} : { ExpressionAttributeValues: { ':previous': previous.last } }),
      }),
    );
  }

  /** Per bucket, per telemetry shard: the `last` of the newest claim applied (ordered form). */
  async readAppliedMarks(buckets: Iterable<number>): Promise<Map<number, AppliedMarks>> {
    const entries = await Promise.all(
      [...new Set(buckets)].map(async (bucket) => {
        const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: appliedKey(bucket), ConsistentRead: true }));
        return [bucket, new AppliedMarks(Item ?? {})] as const;
      }),
    );
    return new Map(entries);
  }

  /**
   * Raises the bucket's marks to the given claims' `last`. Claims of a shard reach a bucket in order and older
   * duplicates are dropped before this is called, so a mark only ever rises; no condition needed.
   */
  async advanceAppliedMarks(bucket: number, lastBySource: ReadonlyMap<string, string>, nowSeconds: number): Promise<void> {
    if (lastBySource.size === 0) return;
    const names: Record<string, string> = { '#expiresAt': 'expiresAt' };
    const values: Record<string, unknown> = { ':expiresAt': nowSeconds + PROGRESS_TTL_SECONDS };
    const sets = ['#expiresAt = :expiresAt'];
    [...lastBySource].forEach(([source, last], i) => {
      names[`#m${i}`] = markAttributeOf(source);
      values[`:m${i}`] = orderedSequenceNumber(last);
      sets.push(`#m${i} = :m${i}`);
    });
    await this.documents.send(
      new UpdateCommand({ TableName: this.tableName, Key: appliedKey(bucket), UpdateExpression: `SET ${sets.join(', ')}`, ExpressionAttributeNames: names, ExpressionAttributeValues: values }),
    );
  }
}

/** One bucket's applied marks. */
export class AppliedMarks {
  constructor(private readonly item: Record<string, unknown>) {}

  /** Whether a claim of `source` ending at `last` was applied to the bucket's cells already. */
  covers(source: string, last: string): boolean {
    const mark = this.item[markAttributeOf(source)];
    return typeof mark === 'string' && orderedSequenceNumber(last) <= mark;
  }
}

function storedBits(item: Record<string, unknown> | undefined): SessionBits {
  const bits = emptySessionBits();
  for (const field of SESSION_BIT_FIELDS) {
    const stored = item?.[SESSION_BIT_ATTRIBUTES[field]];
    if (stored instanceof Uint8Array) for (const bit of bitsOfBitmap(stored)) bits[field].add(bit);
  }
  return bits;
}

/** Counters default to 0, bitmaps to empty; `pathway` and `country` are the sort key's halves. */
function toRollupItem(item: Record<string, unknown>, minute: number): RollupItem {
  const counters = emptyCounters();
  for (const name of COUNTER_NAMES) counters[name] = Number(item[name]) || 0;
  const cell = String(item.cell ?? '');
  const separator = cell.indexOf('#');
  return {
    ...counters,
    ...sessionCountsOf(storedBits(item)),
    cell,
    pathway: separator < 0 ? cell : cell.slice(0, separator),
    country: separator < 0 ? UNKNOWN_COUNTRY : cell.slice(separator + 1),
    minute,
  };
}
