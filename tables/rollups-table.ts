/**
 * The QoE rollups table: one item per cell `pathway × country × UTC minute`, partition `minute` (N,
 * epoch ms), sort `cell` (S, `<pathway>#<country>`), the QoeCounters (core/qoe-types.ts), `pathway`,
 * `country`, `expiresAt` (TTL, epoch s) and one high-water mark `hwm_<shardId>` per shard that wrote
 * to it, and the four distinct-session bitmaps as number sets (`SESSION_BIT_ATTRIBUTES`, ADR 0054), read
 * back as counts. Written by qoe-aggregator, read by routing-weights and the twin's operator page — all through
 * this module (ADR 0007).
 *
 * Writes are idempotent (docs/adr/0050-idempotent-rollup-writes.md): one UpdateItem per (cell, shard)
 * `ADD`s the counters and sets `hwm_<shard>` to the largest sequence number applied, on condition that
 * every record being applied is above the stored mark. Within a shard Kinesis sequence numbers increase
 * and the event source mapping delivers in order (ParallelizationFactor 1), so "≤ hwm" means "already
 * applied": a retried, replayed or bisected batch re-applies nothing. On a conflict the stored mark is
 * read, contributions at or below it are dropped, and the rest is applied.
 */
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { addCounters, COUNTER_NAMES, emptyCounters } from '../core/qoe-aggregate';
import type { QoeCounters, QoeRollup, QoeSessionCounts } from '../core/qoe-types';
import { emptySessionBits, SESSION_BIT_FIELDS, type SessionBits, sessionCountsOf } from '../core/session-evidence';
import { UNKNOWN_COUNTRY } from '../core/identifiers';
import { isConditionFailure } from './condition-failure';
import { queryPartition } from './query-partition';
import { ROLLUPS_TABLE_SCHEMA } from './table-schema';

/**
 * Kinesis sequence numbers are decimal strings of up to 129 digits (API reference, `SequenceNumber`
 * pattern `0|([1-9]\d{0,128})`). Zero-padded to that width, DynamoDB's byte-wise string comparison
 * orders them numerically, so the condition can compare them.
 */
export const SEQUENCE_WIDTH = 129;

export function padSequenceNumber(sequenceNumber: string): string {
  if (!/^\d{1,129}$/.test(sequenceNumber)) throw new Error(`not a Kinesis sequence number: ${sequenceNumber.slice(0, 40)}`);
  return sequenceNumber.padStart(SEQUENCE_WIDTH, '0');
}

/** Attribute holding a cell's high-water mark for one shard, e.g. `hwm_shardId-000000000000`. */
export function hwmAttributeOf(shardId: string): string {
  return `hwm_${shardId}`;
}

/** Item attribute of each session bitmap (docs/telemetry.md "Per-session evidence"). */
export const SESSION_BIT_ATTRIBUTES: Readonly<Record<keyof SessionBits, string>> = Object.freeze({
  sessions: 'sessionBits',
  errorSessions: 'errorSessionBits',
  stallSessions: 'stallSessionBits',
  networks: 'networkBits',
});

export interface CellContribution {
  /** Padded sequence number of the record. */
  readonly seq: string;
  readonly counters: QoeCounters;
  /** The record's session evidence in this cell; none when it had no verified session. */
  readonly sessions?: SessionBits;
}

export interface CellWrite {
  readonly minute: number;
  /** Sort key, `cellSortKey(pathway, country)` (core/qoe-aggregate.ts). */
  readonly cell: string;
  readonly pathway: string;
  readonly country: string;
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

/**
 * A rollup item as read: the cell's counters with its key; `cell` is the item's sort key. A type, not
 * an interface, so it also passes as a plain record (the twin's timeline reads items generically).
 */
export type RollupItem = { readonly [K in keyof QoeRollup]: QoeRollup[K] } & QoeSessionCounts & { readonly cell: string };

function unionOf(contributions: readonly CellContribution[]): SessionBits {
  const union = emptySessionBits();
  for (const c of contributions) {
    if (c.sessions === undefined) continue;
    for (const field of SESSION_BIT_FIELDS) for (const bit of c.sessions[field]) union[field].add(bit);
  }
  return union;
}

export class RollupsTable {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /**
   * Adds the contributions above the cell's high-water mark for `write.shardId`; at most
   * `maxConflicts` conflict rounds, then TooManyConflictsError.
   */
  async addToCell(write: CellWrite, opts: { readonly expiresAtSeconds: number; readonly maxConflicts: number }): Promise<CellWriteOutcome> {
    const { cell } = write;
    const hwmName = hwmAttributeOf(write.shardId);
    let pending = write.contributions;
    let updateCalls = 0;
    for (let round = 0; round <= opts.maxConflicts; round++) {
      if (pending.length === 0) return { applied: 0, updateCalls };
      const counters = pending.reduce((sum, c) => addCounters(sum, c.counters), emptyCounters());
      const bits = unionOf(pending);
      const names: Record<string, string> = { '#pathway': 'pathway', '#country': 'country', '#expiresAt': 'expiresAt', '#hwm': hwmName };
      const values: Record<string, unknown> = {
        ':pathway': write.pathway,
        ':country': write.country,
        ':expiresAt': opts.expiresAtSeconds,
        ':maxSeq': pending[pending.length - 1]!.seq,
        ':minSeq': pending[0]!.seq,
      };
      const adds = COUNTER_NAMES.map((name, i) => {
        names[`#c${i}`] = name;
        values[`:c${i}`] = counters[name];
        return `#c${i} :c${i}`;
      });
      // ADD of a set is a union (idempotent by itself); DynamoDB refuses empty sets, so only non-empty ones go.
      for (const field of SESSION_BIT_FIELDS) {
        if (bits[field].size === 0) continue;
        names[`#${field}`] = SESSION_BIT_ATTRIBUTES[field];
        values[`:${field}`] = bits[field];
        adds.push(`#${field} :${field}`);
      }
      try {
        updateCalls += 1;
        await this.documents.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { minute: write.minute, cell },
            UpdateExpression: `ADD ${adds.join(', ')} SET #pathway = :pathway, #country = :country, #expiresAt = :expiresAt, #hwm = :maxSeq`,
            ConditionExpression: 'attribute_not_exists(#hwm) OR #hwm < :minSeq',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { applied: pending.length, updateCalls };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        const hwm = await this.storedHighWaterMark(write.minute, cell, hwmName, error);
        if (hwm === undefined) throw error;
        pending = pending.filter((c) => c.seq > hwm);
      }
    }
    throw new TooManyConflictsError(cell);
  }

  /** Every cell of one minute (one partition). */
  async readMinute(minute: number): Promise<RollupItem[]> {
    const items = await queryPartition(this.documents, this.tableName, { name: ROLLUPS_TABLE_SCHEMA.partitionKey.name, value: minute });
    return items.map((item) => toRollupItem(item, minute));
  }

  /** The item comes back with the failure where DynamoDB supports ReturnValuesOnConditionCheckFailure; else it is read (dynalite). */
  private async storedHighWaterMark(
    minute: number,
    cell: string,
    hwmName: string,
    error: { Item?: Record<string, { S?: string }> },
  ): Promise<string | undefined> {
    const returned = error.Item?.[hwmName]?.S;
    if (returned !== undefined) return returned;
    const { Item } = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { minute, cell },
        ProjectionExpression: '#hwm',
        ExpressionAttributeNames: { '#hwm': hwmName },
        ConsistentRead: true,
      }),
    );
    const stored = Item?.[hwmName];
    return typeof stored === 'string' ? stored : undefined;
  }
}

/** Counters default to 0 (sets to empty); `pathway` and `country` fall back to the sort key's halves. */
function toRollupItem(item: Record<string, unknown>, minute: number): RollupItem {
  const counters = emptyCounters();
  for (const name of COUNTER_NAMES) counters[name] = Number(item[name]) || 0;
  const bits = emptySessionBits();
  for (const field of SESSION_BIT_FIELDS) {
    const stored = item[SESSION_BIT_ATTRIBUTES[field]];
    if (stored instanceof Set) for (const bit of stored) bits[field].add(Number(bit));
  }
  const cell = String(item.cell ?? '');
  const [cellPathway, cellCountry] = cell.split('#');
  return {
    ...counters,
    ...sessionCountsOf(bits),
    cell,
    pathway: typeof item.pathway === 'string' ? item.pathway : cellPathway!,
    country: typeof item.country === 'string' ? item.country : (cellCountry ?? UNKNOWN_COUNTRY),
    minute,
  };
}
