import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { addCounters, COUNTER_NAMES, emptyCounters } from '../../core/qoe-aggregate';
import type { QoeCounters } from '../../core/qoe-types';

/**
 * Idempotent rollup writes (docs/adr/0050-idempotent-rollup-writes.md).
 *
 * One UpdateItem per (cell, shard): `ADD` the counters and `SET hwm_<shard>` to the largest sequence
 * number applied, on condition that every record being applied is above the stored high-water mark.
 * Within a shard Kinesis sequence numbers increase and the event source mapping delivers in order
 * (ParallelizationFactor 1), so "≤ hwm" means "already applied": a retried, replayed or bisected batch
 * re-applies nothing. On a conflict the stored hwm is read, contributions at or below it are dropped,
 * and the rest is applied.
 */

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

export interface CellContribution {
  /** Padded sequence number of the record. */
  readonly seq: string;
  readonly counters: QoeCounters;
}

export interface CellWrite {
  readonly minute: number;
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

export async function writeCell(
  ddb: DynamoDBDocumentClient,
  tableName: string,
  write: CellWrite,
  opts: { expiresAtSeconds: number; maxConflicts: number },
): Promise<CellWriteOutcome> {
  const hwmName = hwmAttributeOf(write.shardId);
  let pending = write.contributions;
  let updateCalls = 0;
  for (let round = 0; round <= opts.maxConflicts; round++) {
    if (pending.length === 0) return { applied: 0, updateCalls };
    const counters = pending.reduce((sum, c) => addCounters(sum, c.counters), emptyCounters());
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
    try {
      updateCalls += 1;
      await ddb.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { minute: write.minute, cell: write.cell },
          UpdateExpression: `ADD ${adds.join(', ')} SET #pathway = :pathway, #country = :country, #expiresAt = :expiresAt, #hwm = :maxSeq`,
          ConditionExpression: 'attribute_not_exists(#hwm) OR #hwm < :minSeq',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { applied: pending.length, updateCalls };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException) && (error as { name?: string }).name !== 'ConditionalCheckFailedException') {
        throw error;
      }
      const hwm = await storedHighWaterMark(ddb, tableName, write, hwmName, error as ConditionalCheckFailedException);
      if (hwm === undefined) throw error;
      pending = pending.filter((c) => c.seq > hwm);
    }
  }
  throw new TooManyConflictsError(write.cell);
}

/** The item comes back with the failure when DynamoDB supports ReturnValuesOnConditionCheckFailure; else read it. */
async function storedHighWaterMark(
  ddb: DynamoDBDocumentClient,
  tableName: string,
  write: CellWrite,
  hwmName: string,
  error: ConditionalCheckFailedException,
): Promise<string | undefined> {
  const returned = error.Item?.[hwmName]?.S;
  if (returned !== undefined) return returned;
  const { Item } = await ddb.send(
    new GetCommand({
      TableName: tableName,
      Key: { minute: write.minute, cell: write.cell },
      ProjectionExpression: '#hwm',
      ExpressionAttributeNames: { '#hwm': hwmName },
      ConsistentRead: true,
    }),
  );
  const stored = Item?.[hwmName];
  return typeof stored === 'string' ? stored : undefined;
}
