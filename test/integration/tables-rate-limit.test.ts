import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimitTable, SESSION_STATE_SECONDS, sessionStateKey } from '../../tables/rate-limit-table';
import { type LocalDynamoDb, startLocalDynamoDb, TABLE_SPECS } from '../support/local-dynamodb';

const TABLE = 'CmcdRateLimit';
const NOW_MS = Date.UTC(2026, 11, 2, 12, 0, 0);

describe('report session-state table against dynalite (ADR 0101)', () => {
  let dynamo: LocalDynamoDb;
  let table: RateLimitTable;
  const item = (sid: string) => dynamo.documents.send(new GetCommand({ TableName: TABLE, Key: { pk: sessionStateKey(sid) } })).then((r) => r.Item);

  beforeAll(async () => {
    dynamo = await startLocalDynamoDb();
    await dynamo.createTables([TABLE_SPECS.rateLimit(TABLE)]);
    table = new RateLimitTable(dynamo.documents, TABLE);
  });

  afterAll(async () => {
    await dynamo?.stop();
  });

  it('reads a session without an item as empty state', async () => {
    expect(await table.readSessionState('nobody')).toEqual({});
  });

  it('remembers the verified host, the first t and the interval, each write keeping the fields it leaves out', async () => {
    // Act
    await table.writeSessionState('s1', { host: 'd1.cloudfront.net', lastT: 1_000 }, NOW_MS);
    const afterFirst = await table.readSessionState('s1');
    await table.writeSessionState('s1', { iv: 10_000 }, NOW_MS + 10_000);
    const afterSecond = await table.readSessionState('s1');
    // Assess
    expect(afterFirst).toEqual({ host: 'd1.cloudfront.net', lastT: 1_000, expiresAt: NOW_MS / 1000 + SESSION_STATE_SECONDS });
    expect(afterSecond).toEqual({ host: 'd1.cloudfront.net', lastT: 1_000, iv: 10_000, expiresAt: (NOW_MS + 10_000) / 1000 + SESSION_STATE_SECONDS });
  });

  it('pushes the expiry out on a write with no field (the refresh of a long session)', async () => {
    // Act
    await table.writeSessionState('s2', { host: 'd2.cloudfront.net' }, NOW_MS);
    await table.writeSessionState('s2', {}, NOW_MS + 3 * 3600_000);
    // Assess
    expect(await item('s2')).toEqual({ pk: sessionStateKey('s2'), host: 'd2.cloudfront.net', expiresAt: NOW_MS / 1000 + 3 * 3600 + SESSION_STATE_SECONDS });
  });
});
