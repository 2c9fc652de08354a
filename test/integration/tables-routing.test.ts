import { DeleteCommand, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ROUTING_SNAPSHOT_SHARDS, type WeightsItem } from '../../core/routing-types';
import { RoutingCache } from '../../edge-functions/steering/routing-cache';
import { createRoutingWeightsTick } from '../../lambdas/routing-weights';
import { parseRoutingSnapshot, RegistryMissingError, RoutingTable } from '../../tables/routing-table';
import { type LocalDynamoDb, startLocalDynamoDb, TABLE_SPECS } from '../support/local-dynamodb';

const ROUTING = 'Routing';
const ROLLUPS = 'QoeRollups';
const NOW = Date.UTC(2026, 11, 2, 12, 0, 30);

const good = (id: string, extra: Record<string, unknown> = {}) => ({ id, host: `${id}.example.net`, enabled: true, cap: 1, ...extra });
/** Every way an entry can be unusable, after two good ones. */
const MIXED_REGISTRY = [
  good('cf-a', { cap: 0.45 }),
  good('cf-b', { enabled: false }),
  { id: 'cf-nocap', host: 'nocap.example.net', enabled: true },
  good('cf-zero', { cap: 0 }),
  good('cf-big', { cap: 1.5 }),
  good('cf-text', { cap: '1' }),
  good('cf-maybe', { enabled: 'yes' }),
  good('CF-Upper'),
  good('cf-path', { host: 'cdn.example.net/path' }),
  good('cf-a', { host: 'other.example.net' }),
  'not an entry',
];

const weights = (scope: string, shares: Record<string, number>): Omit<WeightsItem, 'pk' | 'version'> => ({
  scope,
  weights: shares,
  updatedAt: new Date(NOW).toISOString(),
  reason: 'test',
});

describe('routing table against dynalite', () => {
  let dynamo: LocalDynamoDb;
  let table: RoutingTable;
  const put = (Item: Record<string, unknown>) => dynamo.documents.send(new PutCommand({ TableName: ROUTING, Item }));
  const raw = (pk: string) => dynamo.documents.send(new GetCommand({ TableName: ROUTING, Key: { pk } })).then((r) => r.Item);

  beforeAll(async () => {
    dynamo = await startLocalDynamoDb();
    await dynamo.createTables([TABLE_SPECS.routing(ROUTING), TABLE_SPECS.rollups(ROLLUPS)]);
    table = new RoutingTable(dynamo.documents, ROUTING, { sleep: async () => undefined });
  });

  afterAll(async () => {
    await dynamo?.stop();
  });

  describe('registry', () => {
    beforeEach(async () => {
      await put({ pk: 'pathways', pathways: MIXED_REGISTRY });
    });

    it('keeps only entries with a pathway id, a host, a boolean enabled and a numeric cap in (0, 1], in order', async () => {
      // Act
      const registry = await table.readRegistry({ consistent: true });
      // Assess
      expect(registry.pathways).toEqual([good('cf-a', { cap: 0.45 }), good('cf-b', { enabled: false })]);
      expect(registry.rejected).toEqual([
        'entry 2 ("cf-nocap"): cap must be a number in (0, 1]',
        'entry 3 ("cf-zero"): cap must be a number in (0, 1]',
        'entry 4 ("cf-big"): cap must be a number in (0, 1]',
        'entry 5 ("cf-text"): cap must be a number in (0, 1]',
        'entry 6 ("cf-maybe"): enabled must be true or false',
        'entry 7 ("CF-Upper"): id must be a pathway id',
        'entry 8 ("cf-path"): host must be a host name, optionally with a port',
        'entry 9 ("cf-a"): id appears twice',
        'entry 10 (no id): id must be a pathway id',
      ]);
    });

    it('gives the steering edge the same entries as every other reader', async () => {
      // Act
      await table.publishSnapshot(NOW);
      const read = parseRoutingSnapshot(await table.readSnapshot());
      const all = await table.readAll();
      // Assess
      const expected = (await table.readRegistry()).pathways;
      expect(read.pathways).toEqual(expected);
      expect(all.registry?.pathways).toEqual(expected);
    });

    it('reports a missing registry item, or one without a pathways list, as RegistryMissingError', async () => {
      // Prepare
      await dynamo.documents.send(new DeleteCommand({ TableName: ROUTING, Key: { pk: 'pathways' } }));
      // Act + Assess
      await expect(table.readRegistry()).rejects.toThrow(new RegistryMissingError(`routing table ${ROUTING}`));
      await put({ pk: 'pathways', pathways: 'cf-a' });
      await expect(table.readRegistry()).rejects.toBeInstanceOf(RegistryMissingError);
      expect((await table.readAll()).registry).toBeUndefined();
    });
  });

  describe('weights', () => {
    it('creates a scope only if it does not exist yet: a second first write is refused', async () => {
      // Act
      const first = await table.writeWeights(weights('FR', { 'cf-a': 1 }), undefined);
      const second = await table.writeWeights(weights('FR', { 'cf-b': 1 }), undefined);
      // Assess
      expect([first, second]).toEqual([true, false]);
      expect(await raw('weights#FR')).toMatchObject({ pk: 'weights#FR', scope: 'FR', version: 1, weights: { 'cf-a': 1 } });
    });

    it('writes over the version it read and refuses a write computed from an older one', async () => {
      // Prepare
      await table.writeWeights(weights('DE', { 'cf-a': 0.5, 'cf-b': 0.5 }), undefined);
      const read = await table.readScopeWeights('DE');
      // Act
      const next = await table.writeWeights({ ...weights('DE', { 'cf-a': 0.9, 'cf-b': 0.1 }), target: { 'cf-a': 1, 'cf-b': 0 } }, read);
      const stale = await table.writeWeights(weights('DE', { 'cf-a': 0, 'cf-b': 1 }), read);
      // Assess
      expect([next, stale]).toEqual([true, false]);
      expect(await table.readScopeWeights('DE')).toMatchObject({ version: 2, weights: { 'cf-a': 0.9, 'cf-b': 0.1 }, target: { 'cf-a': 1, 'cf-b': 0 } });
    });

    it('reads more scopes than one BatchGetItem takes, returning those that exist by scope', async () => {
      // Prepare
      await table.writeWeights(weights('*', { 'cf-a': 1 }), undefined);
      await table.writeWeights(weights('US', { 'cf-a': 1 }), undefined);
      const scopes = ['*', 'US', ...Array.from({ length: 120 }, (_, i) => `Q${String.fromCharCode(65 + (i % 26))}${i}`)];
      // Act
      const found = await table.readWeights(scopes);
      // Assess
      expect([...found.keys()].sort()).toEqual(['*', 'US']);
      expect(found.get('US')).toMatchObject({ pk: 'weights#US', scope: 'US', version: 1 });
    });

    it('reads hand-written items leniently: scope from the key, numeric shares only', async () => {
      // Prepare
      await put({ pk: 'pathways', pathways: [good('cf-a')] });
      await put({ pk: 'weights#BR', weights: { 'cf-a': '0.25', 'cf-b': -1, 'cf-c': 'lots', 'cf-d': 0.75 }, version: 3 });
      // Act
      const item = await table.readScopeWeights('BR');
      await table.publishSnapshot(NOW);
      const read = parseRoutingSnapshot(await table.readSnapshot());
      // Assess
      expect(item).toMatchObject({ scope: 'BR', version: 3, weights: { 'cf-a': 0.25, 'cf-d': 0.75 } });
      // The snapshot carries the registry's pathways only (cf-d is not one of them).
      expect(read.shares.get('BR')).toEqual({ 'cf-a': 0.25 });
      expect(read.shares.get('JP')).toBeUndefined();
    });
  });

  it('serves the steering edge from the same module: only usable, enabled pathways reach a manifest', async () => {
    // Prepare
    await put({ pk: 'pathways', pathways: MIXED_REGISTRY });
    await put({ pk: 'weights#IT', scope: 'IT', weights: { 'cf-a': 0.7, 'cf-nocap': 0.3 }, version: 1 });
    await table.publishSnapshot(NOW);
    const cache = new RoutingCache(table.readSnapshot, { ttlMs: 5000, coldWaitMs: 1000, nowMs: () => NOW });
    // Act
    const snapshot = await cache.view('IT');
    // Assess
    expect(snapshot).toEqual({ pathways: [good('cf-a', { cap: 0.45 })], weights: { 'cf-a': 0.7 }, source: 'weights#IT' });
  });

  describe('routing snapshot', () => {
    beforeEach(async () => {
      // Items of the other tests would be part of the snapshot: start from an empty table.
      const { Items = [] } = await dynamo.documents.send(new ScanCommand({ TableName: ROUTING }));
      await Promise.all(Items.map((item) => dynamo.documents.send(new DeleteCommand({ TableName: ROUTING, Key: { pk: item.pk } }))));
    });

    it('publishes the registry and every scope to each copy, and reads one back', async () => {
      // Prepare
      await put({ pk: 'pathways', pathways: [good('cf-a'), good('cf-b')] });
      await table.writeWeights(weights('*', { 'cf-a': 0.5, 'cf-b': 0.5 }), undefined);
      await table.writeWeights(weights('DE', { 'cf-a': 0.9, 'cf-b': 0.1 }), undefined);
      // Act
      const published = await table.publishSnapshot(NOW);
      // Assess
      expect(published).toMatchObject({ generation: NOW, scopes: 2, newerKept: 0 });
      for (let shard = 0; shard < ROUTING_SNAPSHOT_SHARDS; shard++) {
        const decoded = parseRoutingSnapshot(await raw(`routing-snapshot#${shard}`));
        expect(decoded.generation).toBe(NOW);
        expect(decoded.shares.get('DE')).toEqual({ 'cf-a': 0.9, 'cf-b': 0.1 });
        expect(decoded.pathways.map((p) => p.id)).toEqual(['cf-a', 'cf-b']);
      }
      // The snapshot copies are not weights items: readers of the table do not see them as such.
      expect((await table.readAll()).weights.map((w) => w.scope).sort()).toEqual(['*', 'DE']);
    });

    it('is idempotent for one generation and never replaced by an older one', async () => {
      // Prepare
      await put({ pk: 'pathways', pathways: [good('cf-a'), good('cf-b')] });
      await table.writeWeights(weights('*', { 'cf-a': 1 }), undefined);
      await table.publishSnapshot(NOW);
      const first = await raw('routing-snapshot#0');
      // Act
      const again = await table.publishSnapshot(NOW);
      await table.writeWeights(weights('FR', { 'cf-b': 1 }), undefined);
      const older = await table.publishSnapshot(NOW - 10_000);
      // Assess
      expect(again.newerKept).toBe(0);
      expect(await raw('routing-snapshot#0')).toEqual(first);
      expect(older.newerKept).toBe(ROUTING_SNAPSHOT_SHARDS);
      expect(parseRoutingSnapshot(await raw('routing-snapshot#3')).shares.has('FR')).toBe(false);
    });
  });

  it('gives routing-weights a registry it can compute with: an entry without a cap is set aside, no NaN share', async () => {
    // Prepare
    await put({ pk: 'pathways', pathways: [good('cf-a'), good('cf-b'), { id: 'cf-c', host: 'c.example.net', enabled: true }] });
    await dynamo.documents.send(new DeleteCommand({ TableName: ROUTING, Key: { pk: 'weights#*' } }));
    const metrics = new Metrics({ namespace: 'test', serviceName: 'routing-weights' });
    metrics.publishStoredMetrics = () => metrics;
    const tick = createRoutingWeightsTick(
      { ddb: dynamo.documents, logger: new Logger({ logLevel: 'SILENT' }), metrics },
      { routingTableName: ROUTING, rollupsTableName: ROLLUPS, ticks: 1, tickSeconds: 10 },
    );
    // Act
    const result = await tick(NOW);
    // Assess
    expect(result.written).toContain('*');
    const global = (await raw('weights#*'))!;
    expect(Object.keys(global.weights).sort()).toEqual(['cf-a', 'cf-b']);
    for (const share of Object.values(global.weights as Record<string, number>)) expect(Number.isFinite(share)).toBe(true);
  });
});
