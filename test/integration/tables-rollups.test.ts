import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyCounters } from '../../core/qoe-aggregate';
import type { QoeCounters } from '../../core/qoe-types';
import { type CellContribution, padSequenceNumber, RollupsTable } from '../../tables/rollups-table';
import { type LocalDynamoDb, startLocalDynamoDb, TABLE_SPECS } from '../support/local-dynamodb';

const TABLE = 'QoeRollups';
const MINUTE = Date.UTC(2026, 11, 2, 12, 0, 0);
const SHARD_A = 'shardId-000000000000';
const SHARD_B = 'shardId-000000000001';
const OPTS = { expiresAtSeconds: 1_800_000_000, maxConflicts: 3 };

const counters = (requests: number, errors = 0): QoeCounters => ({ ...emptyCounters(), requests, errors });
const record = (n: number, requests = 1): CellContribution => ({ seq: padSequenceNumber(String(4962 * 10 ** 6 + n)), counters: counters(requests) });
const cellWrite = (cell: string, shardId: string, contributions: CellContribution[]) => {
  const [pathway, country] = cell.split('#') as [string, string];
  return { minute: MINUTE, cell, pathway, country, shardId, contributions };
};

describe('rollups table against dynalite', () => {
  let dynamo: LocalDynamoDb;
  let table: RollupsTable;
  const raw = (cell: string) => dynamo.documents.send(new GetCommand({ TableName: TABLE, Key: { minute: MINUTE, cell } })).then((r) => r.Item);

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
    expect(replay.applied).toBe(0);
    expect(await raw('cf-a#DE')).toMatchObject({
      requests: 5,
      pathway: 'cf-a',
      country: 'DE',
      expiresAt: OPTS.expiresAtSeconds,
      [`hwm_${SHARD_A}`]: record(2).seq,
    });
  });

  it('applies only the records above the mark when a retry overlaps what was applied', async () => {
    // Prepare
    await table.addToCell(cellWrite('cf-b#US', SHARD_A, [record(1), record(2)]), OPTS);
    // Act
    const retry = await table.addToCell(cellWrite('cf-b#US', SHARD_A, [record(2), record(3)]), OPTS);
    // Assess
    expect(retry).toEqual({ applied: 1, updateCalls: 2 });
    expect((await raw('cf-b#US'))?.requests).toBe(3);
  });

  it('keeps one mark per shard, so a lower sequence number of another shard still counts', async () => {
    // Act
    await table.addToCell(cellWrite('cf-c#FR', SHARD_A, [record(9)]), OPTS);
    const other = await table.addToCell(cellWrite('cf-c#FR', SHARD_B, [record(1)]), OPTS);
    // Assess
    expect(other.applied).toBe(1);
    expect(await raw('cf-c#FR')).toMatchObject({ requests: 2, [`hwm_${SHARD_A}`]: record(9).seq, [`hwm_${SHARD_B}`]: record(1).seq });
  });

  it('pads sequence numbers so that string order is numeric order', () => {
    expect(padSequenceNumber('9') < padSequenceNumber('10')).toBe(true);
    expect(padSequenceNumber('1')).toHaveLength(129);
    expect(() => padSequenceNumber('12a')).toThrow(/not a Kinesis sequence number/);
  });

  it('reads every cell of a minute, taking pathway and country from the sort key where an item lacks them', async () => {
    // Prepare
    await dynamo.documents.send(new PutCommand({ TableName: TABLE, Item: { minute: MINUTE, cell: 'cf-d#JP', requests: 7 } }));
    await dynamo.documents.send(new PutCommand({ TableName: TABLE, Item: { minute: MINUTE + 60_000, cell: 'cf-a#DE', requests: 1 } }));
    // Act
    const cells = await table.readMinute(MINUTE);
    // Assess
    expect(cells.map((c) => c.cell).sort()).toEqual(['cf-a#DE', 'cf-b#US', 'cf-c#FR', 'cf-d#JP']);
    expect(cells.find((c) => c.cell === 'cf-d#JP')).toEqual({
      ...emptyCounters(),
      requests: 7,
      sessions: 0,
      errorSessions: 0,
      stallSessions: 0,
      networks: 0,
      cell: 'cf-d#JP',
      pathway: 'cf-d',
      country: 'JP',
      minute: MINUTE,
    });
  });

  it('unions the session bitmaps, so a redelivery or another shard never counts a session twice, and reads them as counts', async () => {
    // Prepare: the same two sessions reach the cell from two shards, one of them twice
    const bits = (...values: number[]) => new Set(values);
    const withSessions = (n: number, sessions: number[], errors: number[]): CellContribution => ({
      ...record(n),
      sessions: { sessions: bits(...sessions), errorSessions: bits(...errors), stallSessions: bits(), networks: bits(7) },
    });
    // Act
    await table.addToCell(cellWrite('cf-e#BR', SHARD_A, [withSessions(1, [11, 12], [12])]), OPTS);
    await table.addToCell(cellWrite('cf-e#BR', SHARD_A, [withSessions(1, [11, 12], [12])]), OPTS);
    await table.addToCell(cellWrite('cf-e#BR', SHARD_B, [withSessions(5, [12], [12]), record(6)]), OPTS);
    const cell = (await table.readMinute(MINUTE)).find((c) => c.cell === 'cf-e#BR')!;
    // Assess
    expect(await raw('cf-e#BR')).toMatchObject({ sessionBits: bits(11, 12), errorSessionBits: bits(12), networkBits: bits(7) });
    expect(cell).toMatchObject({ requests: 3, sessions: 2, errorSessions: 1, stallSessions: 0, networks: 1 });
  });
});
