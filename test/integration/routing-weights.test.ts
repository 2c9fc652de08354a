import { cellPartitionKey } from '../../tables/rollups-table';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { startLocalAws, type LocalAws } from '../../local/aws-servers';
import { createRoutingWeightsTick } from '../../lambdas/routing-weights';
import { putPathwayRegistry, routingTableSpecs } from '../support/routing-tables';
import { parseRoutingSnapshot, RoutingTable } from '../../tables/routing-table';

const ROUTING = 'Routing';
const ROLLUPS = 'QoeRollups';
const NOW = Date.UTC(2026, 10, 24, 12, 0, 30);
const MINUTE = Math.floor(NOW / 60_000) * 60_000;

describe('routing-weights against dynalite', () => {
  let aws: LocalAws;
  let ddb: DynamoDBDocumentClient;
  const metrics = new Metrics({ namespace: 'test', serviceName: 'routing-weights' });
  metrics.publishStoredMetrics = () => metrics;
  const deps = () => ({ ddb, logger: new Logger({ logLevel: 'SILENT' }), metrics });
  const config = { routingTableName: ROUTING, rollupsTableName: ROLLUPS, ticks: 1, tickSeconds: 10 };

  beforeAll(async () => {
    aws = await startLocalAws();
    await aws.createTables(routingTableSpecs({ routingTableName: ROUTING, rollupsTableName: ROLLUPS }));
    ddb = DynamoDBDocumentClient.from(aws.clients.dynamodb);
    await putPathwayRegistry(ddb, ROUTING, [
      { id: 'cf-a', host: 'a.example.net', enabled: true, cap: 0.45 },
      { id: 'cf-b', host: 'b.example.net', enabled: true, cap: 1 },
      { id: 'cf-c', host: 'c.example.net', enabled: true, cap: 1 },
    ]);
    // Two minutes of rollups as the rollup merger writes them (tables/rollups-table.ts keys); cf-b fails 25% of requests in DE now.
    for (const minute of [MINUTE - 60_000, MINUTE]) {
      for (const country of ['DE', 'BR']) {
        for (const pathway of ['cf-a', 'cf-b', 'cf-c']) {
          const failing = pathway === 'cf-b' && country === 'DE' && minute === MINUTE;
          await ddb.send(
            new PutCommand({
              TableName: ROLLUPS,
              Item: {
                pk: cellPartitionKey(minute, `${pathway}#${country}`),
                cell: `${pathway}#${country}`,
                requests: 1000,
                errors: failing ? 250 : 1,
                bytes: 2e9,
                edgeTtfbMsSum: 80_000,
                edgeTtfbCount: 1000,
                throughputKbpsSum: 3e6,
                throughputCount: 1000,
                playMs: 600_000,
                stallMs: 0,
                stalls: 0,
                startupMsSum: 18_000,
                startupCount: 20,
                reports: 50,
                expiresAt: 1_800_000_000,
              },
            }),
          );
        }
      }
    }
  });

  afterAll(async () => {
    await aws?.stop();
  });

  it('writes weights items for the global scope and every country, demoting the failing pathway where it fails', async () => {
    const tick = createRoutingWeightsTick(deps(), config);

    const result = await tick(NOW);

    expect(result.written).toEqual(['*', 'BR', 'DE']);
    const de = (await ddb.send(new GetCommand({ TableName: ROUTING, Key: { pk: 'weights#DE' } }))).Item!;
    const br = (await ddb.send(new GetCommand({ TableName: ROUTING, Key: { pk: 'weights#BR' } }))).Item!;
    expect(de).toMatchObject({ scope: 'DE', version: 1, updatedAt: '2026-11-24T12:00:30.000Z' });
    expect(de.weights['cf-b']).toBe(0.03);
    expect(de.weights['cf-a']).toBeLessThanOrEqual(0.45);
    // At 12:00:30 the fresh window is this half minute and the last half of the previous one (ADR 0064).
    expect(de.reason).toMatch(/^initial weights in DE from .*cf-b error rate 17% over 1,500 requests vs 0\.1%/);
    expect(br.weights['cf-b']).toBeGreaterThan(0.3);
  });

  it('publishes the same tick as one routing snapshot the steering edge reads, the tick time its generation', async () => {
    const snapshot = parseRoutingSnapshot(await new RoutingTable(ddb, ROUTING).readSnapshot());
    const de = (await ddb.send(new GetCommand({ TableName: ROUTING, Key: { pk: 'weights#DE' } }))).Item!;
    expect(snapshot.generation).toBe(NOW);
    expect([...snapshot.shares.keys()].sort()).toEqual(['*', 'BR', 'DE']);
    // Four-digit shares: the controller's 0.03 survives exactly; the others within 0.00005.
    expect(snapshot.shares.get('DE')?.['cf-b']).toBe(0.03);
    for (const id of ['cf-a', 'cf-c']) expect(snapshot.shares.get('DE')?.[id]).toBeCloseTo(de.weights[id], 4);
  });

  it('bumps the version on the next change and keeps the weights of a scope whose figures did not change', async () => {
    await ddb.send(
      new PutCommand({
        TableName: ROLLUPS,
        Item: { pk: cellPartitionKey(MINUTE, 'cf-c#BR'), cell: 'cf-c#BR', requests: 1500, errors: 600, reports: 50 },
      }),
    );
    const tick = createRoutingWeightsTick(deps(), config);

    const result = await tick(NOW + 10_000);

    expect(result.written).toContain('BR');
    const br = (await ddb.send(new GetCommand({ TableName: ROUTING, Key: { pk: 'weights#BR' } }))).Item!;
    const de = (await ddb.send(new GetCommand({ TableName: ROUTING, Key: { pk: 'weights#DE' } }))).Item!;
    expect(br.version).toBe(2);
    expect(br.weights['cf-c']).toBe(0.03);
    expect(br.reason).toMatch(/^cf-c error rate 33% over 1,833 requests vs 0\.1% in BR; demoted 0\.33 → 0\.03/);
    // DE's controller state may be rewritten (cf-b's cost grows as its failing minute fills the fresh
    // window), its weights not.
    expect(de.weights).toEqual({ 'cf-a': expect.any(Number), 'cf-b': 0.03, 'cf-c': expect.any(Number) });
    expect(de.reason).toBe('no significant change in DE');
  });

  it('loses no update when two invocations race on the same items (optimistic versioning)', async () => {
    await ddb.send(
      new PutCommand({
        TableName: ROLLUPS,
        Item: { pk: cellPartitionKey(MINUTE, 'cf-a#DE'), cell: 'cf-a#DE', requests: 2000, errors: 900, reports: 50 },
      }),
    );
    const before = (await ddb.send(new GetCommand({ TableName: ROUTING, Key: { pk: 'weights#DE' } }))).Item!;

    const [first, second] = await Promise.all([
      createRoutingWeightsTick(deps(), config)(NOW + 20_000),
      createRoutingWeightsTick(deps(), config)(NOW + 20_000),
    ]);

    const de = (await ddb.send(new GetCommand({ TableName: ROUTING, Key: { pk: 'weights#DE' } }))).Item!;
    const deWrites = [first, second].filter((r) => r.written.includes('DE')).length;
    expect(deWrites).toBeGreaterThanOrEqual(1);
    expect(de.version).toBe(before.version + deWrites);
    expect(de.weights['cf-a']).toBe(0.03);
    expect(de.reason).toMatch(/^cf-a error rate 42% over 2,167 requests vs 0\.1% in DE; demoted/);
  });
});
