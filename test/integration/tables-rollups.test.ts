import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyCounters } from '../../core/qoe-aggregate';
import type { QoeCounters } from '../../core/qoe-types';
import { emptySessionBits } from '../../core/session-evidence';
import {
  type CellContribution,
  cellPartitionKey,
  orderedSequenceNumber,
  ROLLUP_KEY_SHARDS,
  RollupsTable,
} from '../../tables/rollups-table';
import { type LocalDynamoDb, startLocalDynamoDb, TABLE_SPECS } from '../support/local-dynamodb';

const TABLE = 'QoeRollups';
const MINUTE = Date.UTC(2026, 11, 2, 12, 0, 0);
const SHARD_A = 'shardId-000000000000';
const SHARD_B = 'shardId-000000000001';
const OPTS = { expiresAtSeconds: 1_800_000_000, maxConflicts: 3 };

const counters = (requests: number, errors = 0): QoeCounters => ({ ...emptyCounters(), requests, errors });
const record = (n: number, requests = 1): CellContribution => ({ seq: orderedSequenceNumber(String(4962 * 10 ** 6 + n)), counters: counters(requests) });
const cellWrite = (cell: string, shardId: string, contributions: CellContribution[]) => ({ minute: MINUTE, cell, shardId, contributions });

describe('rollups table against dynalite', () => {
  let dynamo: LocalDynamoDb;
  let table: RollupsTable;
  const raw = (cell: string) => dynamo.documents.send(new GetCommand({ TableName: TABLE, Key: { pk: cellPartitionKey(MINUTE, cell), cell } })).then((r) => r.Item);

  beforeAll(async () => {
    dynamo = await startLocalDynamoDb();
    await dynamo.createTables([TABLE_SPECS.rollups(TABLE)]);
    table = new RollupsTable(dynamo.documents, TABLE);
  });

  afterAll(async () => {
    await dynamo?.stop();
  });

  it('adds a batch once: the same batch delivered again applies nothing', async () => {
    // Prepare
    const batch = cellWrite('cf-a#DE', SHARD_A, [record(1, 2), record(2, 3)]);
    // Act
    const first = await table.addToCell(batch, OPTS);
    const replay = await table.addToCell(batch, OPTS);
    // Assess
    expect(first).toEqual({ applied: 2, updateCalls: 1 });
    expect(replay).toEqual({ applied: 0, updateCalls: 0 });
    expect(await raw('cf-a#DE')).toMatchObject({ requests: 5, rev: 1, expiresAt: OPTS.expiresAtSeconds, [`hwm_${SHARD_A}`]: record(2).seq });
  });

  it('applies only the contributions above the mark when a retry overlaps what was applied', async () => {
    // Prepare
    await table.addToCell(cellWrite('cf-b#US', SHARD_A, [record(1), record(2)]), OPTS);
    // Act
    const retry = await table.addToCell(cellWrite('cf-b#US', SHARD_A, [record(2), record(3)]), OPTS);
    // Assess
    expect(retry).toEqual({ applied: 1, updateCalls: 1 });
    expect((await raw('cf-b#US'))?.requests).toBe(3);
  });

  it('keeps one mark per writing shard, so a lower sequence number of another shard still counts', async () => {
    // Act
    await table.addToCell(cellWrite('cf-c#FR', SHARD_A, [record(9)]), OPTS);
    const other = await table.addToCell(cellWrite('cf-c#FR', SHARD_B, [record(1)]), OPTS);
    // Assess
    expect(other.applied).toBe(1);
    expect(await raw('cf-c#FR')).toMatchObject({ requests: 2, rev: 2, [`hwm_${SHARD_A}`]: record(9).seq, [`hwm_${SHARD_B}`]: record(1).seq });
  });

  it('orders sequence numbers as strings the way they order as numbers', () => {
    expect(orderedSequenceNumber('9') < orderedSequenceNumber('10')).toBe(true);
    expect(orderedSequenceNumber('49620000000000000000000000000000000000000000000000000099') < orderedSequenceNumber('49620000000000000000000000000000000000000000000000000100')).toBe(true);
    expect(orderedSequenceNumber('007')).toBe(orderedSequenceNumber('7'));
    expect(orderedSequenceNumber('1'.repeat(129))).toHaveLength(132);
    expect(() => orderedSequenceNumber('12a')).toThrow(/not a Kinesis sequence number/);
  });

  it('reads every cell of a minute from all its partition keys, taking pathway and country from the sort key', async () => {
    // Prepare: cells on several write shards, and one of the next minute
    const cells = Array.from({ length: 24 }, (_, i) => `cf-d#C${i}`);
    await Promise.all(cells.map((cell) => dynamo.documents.send(new PutCommand({ TableName: TABLE, Item: { pk: cellPartitionKey(MINUTE, cell), cell, requests: 7 } }))));
    await dynamo.documents.send(new PutCommand({ TableName: TABLE, Item: { pk: cellPartitionKey(MINUTE + 60_000, 'cf-a#DE'), cell: 'cf-a#DE', requests: 1 } }));
    // Act
    const read = await table.readMinute(MINUTE);
    // Assess
    expect(new Set(cells.map((cell) => cellPartitionKey(MINUTE, cell))).size).toBeGreaterThan(ROLLUP_KEY_SHARDS / 2);
    expect(read.map((c) => c.cell).sort()).toEqual(['cf-a#DE', 'cf-b#US', 'cf-c#FR', ...cells].sort());
    expect(read.find((c) => c.cell === 'cf-d#C3')).toEqual({
      ...emptyCounters(),
      requests: 7,
      sessions: 0,
      errorSessions: 0,
      stallSessions: 0,
      networks: 0,
      cell: 'cf-d#C3',
      pathway: 'cf-d',
      country: 'C3',
      minute: MINUTE,
    });
  });

  it('ORs the session bitmaps, so a redelivery or another shard never counts a session twice, and reads them as counts', async () => {
    // Prepare: the same two sessions reach the cell from two shards, one of them twice
    const withSessions = (n: number, sessions: number[], errors: number[]): CellContribution => ({
      ...record(n),
      sessions: { ...emptySessionBits(), sessions: new Set(sessions), errorSessions: new Set(errors), networks: new Set([7]) },
    });
    // Act
    await table.addToCell(cellWrite('cf-e#BR', SHARD_A, [withSessions(1, [11, 12], [12])]), OPTS);
    await table.addToCell(cellWrite('cf-e#BR', SHARD_A, [withSessions(1, [11, 12], [12])]), OPTS);
    await table.addToCell(cellWrite('cf-e#BR', SHARD_B, [withSessions(5, [12, 1000], [12]), record(6)]), OPTS);
    const cell = (await table.readMinute(MINUTE)).find((c) => c.cell === 'cf-e#BR')!;
    // Assess: 128-byte bitmaps, no empty one stored
    const item = (await raw('cf-e#BR'))!;
    expect((item.sessionBits as Uint8Array).byteLength).toBe(128);
    expect(item.stallSessionBits).toBeUndefined();
    expect(cell).toMatchObject({ requests: 3, sessions: 3, errorSessions: 1, stallSessions: 0, networks: 1 });
  });

  it('keeps one claim per telemetry shard and refuses a claim that does not follow the stored one', async () => {
    // Act
    await table.putClaim('telemetry/shardId-000000000000', { first: '10', last: '20' }, undefined, 1_800_000_000);
    await table.putClaim('telemetry/shardId-000000000000', { first: '21', last: '30' }, { first: '10', last: '20' }, 1_800_000_000);
    const stale = table.putClaim('telemetry/shardId-000000000000', { first: '31', last: '40' }, { first: '10', last: '20' }, 1_800_000_000);
    // Assess
    await expect(stale).rejects.toThrow(/conditional/i);
    expect(await table.readClaim('telemetry/shardId-000000000000')).toEqual({ first: '21', last: '30' });
    expect(await table.readClaim('telemetry/shardId-000000000009')).toBeUndefined();
  });

  it('remembers per bucket and telemetry shard the last claim applied', async () => {
    // Act
    await table.advanceAppliedMarks(3, new Map([['telemetry/shardId-000000000000', '500'], ['telemetry/shardId-000000000001', '90']]), 1_800_000_000);
    await table.advanceAppliedMarks(3, new Map([['telemetry/shardId-000000000001', '120']]), 1_800_000_000);
    const marks = await table.readAppliedMarks([3, 4]);
    // Assess
    expect(marks.get(3)!.covers('telemetry/shardId-000000000000', '500')).toBe(true);
    expect(marks.get(3)!.covers('telemetry/shardId-000000000000', '501')).toBe(false);
    expect(marks.get(3)!.covers('telemetry/shardId-000000000001', '120')).toBe(true);
    expect(marks.get(3)!.covers('telemetry/shardId-000000000002', '1')).toBe(false);
    expect(marks.get(4)!.covers('telemetry/shardId-000000000000', '1')).toBe(false);
  });
});
