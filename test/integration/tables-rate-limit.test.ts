import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimitTable, rateLimitKey } from '../../tables/rate-limit-table';
import { type LocalDynamoDb, startLocalDynamoDb, TABLE_SPECS } from '../support/local-dynamodb';

const TABLE = 'CmcdRateLimit';
const MINUTE = Date.UTC(2026, 11, 2, 12, 0, 0);
const BUDGET = 10;

describe('rate-limit table against dynalite', () => {
  let dynamo: LocalDynamoDb;
  let table: RateLimitTable;
  const counter = (sid: string, minute = MINUTE) =>
    dynamo.documents.send(new GetCommand({ TableName: TABLE, Key: { pk: rateLimitKey(sid, minute) } })).then((r) => r.Item);

  beforeAll(async () => {
    dynamo = await startLocalDynamoDb();
    await dynamo.createTables([TABLE_SPECS.rateLimit(TABLE)]);
    table = new RateLimitTable(dynamo.documents, TABLE);
  });

  afterAll(async () => {
    await dynamo?.stop();
  });

  it('takes lines until the budget is exactly used, then refuses without counting the refused lines', async () => {
    // Act
    const taken = [await table.take('s1', MINUTE, 4, BUDGET), await table.take('s1', MINUTE, 6, BUDGET), await table.take('s1', MINUTE, 1, BUDGET)];
    // Assess
    expect(taken).toEqual([true, true, false]);
    expect((await counter('s1'))?.lines).toBe(10);
  });

  it('never lets concurrent requests overshoot the budget', async () => {
    // Act
    const taken = await Promise.all(Array.from({ length: 8 }, () => table.take('s2', MINUTE, 3, BUDGET)));
    // Assess
    expect(taken.filter(Boolean)).toHaveLength(3);
    expect((await counter('s2'))?.lines).toBe(9);
  });

  it('keeps one budget per session and minute, expiring an hour after the minute is over', async () => {
    // Act
    await table.take('s3', MINUTE, 10, BUDGET);
    const nextMinute = await table.take('s3', MINUTE + 60_000, 10, BUDGET);
    const otherSession = await table.take('s4', MINUTE, 10, BUDGET);
    await table.take('s5', MINUTE, 1, BUDGET);
    const firstExpiry = (await counter('s5'))?.expiresAt;
    await table.take('s5', MINUTE, 1, BUDGET);
    // Assess
    expect([nextMinute, otherSession]).toEqual([true, true]);
    expect(firstExpiry).toBe((MINUTE + 2 * 60_000) / 1000 + 3600);
    expect((await counter('s5'))?.expiresAt).toBe(firstExpiry);
  });

  it('grants concurrent reports of one session no more evidence together than the session-minute budget', async () => {
    // Prepare: eight reports racing, each claiming 30 s and 20 lines of a 60 s / 60 lines budget
    const report = { lines: 1, budget: 600, claim: { ms: 30_000, lines: 20 }, evidenceBudget: { ms: 60_000, lines: 60 } };
    // Act
    const grants = await Promise.all(Array.from({ length: 8 }, () => table.takeReport('s6', MINUTE, report)));
    // Assess
    expect(grants.reduce((sum, g) => sum + g!.ms, 0)).toBe(60_000);
    expect(grants.reduce((sum, g) => sum + g!.lines, 0)).toBe(60);
  });

  it('remembers the session\'s verified host and last time-interval event across reports', async () => {
    // Act
    const first = await table.swapSessionState('s7', { host: 'd1.cloudfront.net', lastT: 1_000 }, MINUTE);
    const second = await table.swapSessionState('s7', { lastT: 31_000 }, MINUTE + 30_000);
    const third = await table.swapSessionState('s7', {}, MINUTE + 60_000);
    // Assess
    expect(first).toEqual({});
    expect(second).toEqual({ host: 'd1.cloudfront.net', lastT: 1_000 });
    expect(third).toEqual({ host: 'd1.cloudfront.net', lastT: 31_000 });
  });
});
