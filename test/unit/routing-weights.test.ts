import { cellPartitionKey, ROLLUP_KEY_SHARDS } from '../../tables/rollups-table';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { parseRoutingSnapshot, snapshotItemOf } from '../../tables/routing-table';
import { CloudFrontKeyValueStoreClient, DescribeKeyValueStoreCommand, UpdateKeysCommand } from '@aws-sdk/client-cloudfront-keyvaluestore';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createRoutingWeightsHandler, createRoutingWeightsTick, RegistryMissingError } from '../../lambdas/routing-weights';
import { routingWeightsConfig } from '../../lambdas/routing-weights/config';
import { FunctionConfigError } from '../../lambdas/shared/function-config';
import { DEFAULT_SCORING_PARAMS } from '../../core/routing/scoring-params';

const configFromEnvironment = (env: Record<string, string>) => routingWeightsConfig.decode(env);

const NOW = Date.UTC(2026, 10, 24, 12, 0, 30);
const MINUTE = Math.floor(NOW / 60_000) * 60_000;
const config = { routingTableName: 'Routing', rollupsTableName: 'Rollups', ticks: 1, tickSeconds: 10 };
const registry = {
  pk: 'pathways',
  pathways: ['cf-a', 'cf-b', 'cf-c'].map((id) => ({ id, host: `${id}.example.net`, enabled: true, cap: 1 })),
};
const rollup = (pathway: string, country: string, minute: number, errors = 0) => ({
  pk: cellPartitionKey(minute, `${pathway}#${country}`),
  cell: `${pathway}#${country}`,
  requests: 1200,
  errors,
  reports: 60,
  expiresAt: 1,
});
const equalItem = (scope: string, version: number) => ({
  pk: `weights#${scope}`,
  scope,
  weights: { 'cf-a': 0.3334, 'cf-b': 0.3333, 'cf-c': 0.3333 },
  version,
  updatedAt: '2026-11-24T11:59:00.000Z',
  reason: 'initial',
  control: {},
});

const ddbMock = mockClient(DynamoDBDocumentClient);
const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
const quietLogger = new Logger({ logLevel: 'SILENT' });
const metrics = new Metrics({ namespace: 'test', serviceName: 'routing-weights' });

function seedRollups(deErrorsCfB: number): void {
  const items = ['cf-a', 'cf-b', 'cf-c'].flatMap((p) => [rollup(p, 'DE', MINUTE, p === 'cf-b' ? deErrorsCfB : 0), rollup(p, 'US', MINUTE)]);
  ddbMock.on(QueryCommand).callsFake((input: { ExpressionAttributeValues: Record<string, unknown> }) => ({ Items: items.filter((item) => item.pk === input.ExpressionAttributeValues[':pk']) }));
}

/** The minutes the tick queried: each is read from all its write shards (ADR 0035). */
function queriedMinutes(): number[] {
  const keys = ddbMock.commandCalls(QueryCommand).map((c) => String(c.args[0].input.ExpressionAttributeValues?.[':pk']));
  const minutes = [...new Set(keys.map((key) => Number(key.split('#')[0])))].sort();
  for (const minute of minutes) expect(keys.filter((key) => key.startsWith(`${minute}#`))).toHaveLength(ROLLUP_KEY_SHARDS);
  return minutes;
}

describe('routing-weights tick', () => {
  beforeEach(() => {
    ddbMock.reset();
    vi.spyOn(metrics, 'publishStoredMetrics').mockReturnValue(metrics);
    ddbMock.on(GetCommand, { Key: { pk: 'pathways' } }).resolves({ Item: registry });
    // The snapshot is built from a Scan of the whole table (ADR 0048).
    ddbMock.on(ScanCommand).resolves({ Items: [registry, equalItem('*', 7)] });
  });

  /** Inputs of the puts of weights items (the snapshot copies are checked on their own). */
  const weightPuts = () => ddbMock.commandCalls(PutCommand).map((c) => c.args[0].input).filter((i) => String(i.Item?.pk).startsWith('weights#'));

  it('queries the minutes of the scoring window (late and early records included), every write shard of each', async () => {
    seedRollups(0);
    ddbMock.on(BatchGetCommand).resolves({ Responses: { Routing: [] } });
    ddbMock.on(PutCommand).resolves({});
    ddbMock.on(ScanCommand).resolves({ Items: [registry] });

    await createRoutingWeightsTick({ ddb, logger: quietLogger, metrics }, config)(NOW);

    const queries = ddbMock.commandCalls(QueryCommand).map((c) => c.args[0].input);
    const { windowMinutes, clockSkewMinutes } = DEFAULT_SCORING_PARAMS;
    const expected = Array.from({ length: windowMinutes + clockSkewMinutes }, (_, i) => MINUTE + (i - windowMinutes + 1) * 60_000);
    expect(queriedMinutes()).toEqual(expected);
    expect(queries[0]).toMatchObject({ TableName: 'Rollups', KeyConditionExpression: '#pk = :pk', ExpressionAttributeNames: { '#pk': 'pk' } });
  });

  it('creates missing weights items only if they still do not exist', async () => {
    seedRollups(0);
    ddbMock.on(BatchGetCommand).resolves({ Responses: { Routing: [] } });
    ddbMock.on(PutCommand).resolves({});
    ddbMock.on(ScanCommand).resolves({ Items: [registry] });

    const result = await createRoutingWeightsTick({ ddb, logger: quietLogger, metrics }, config)(NOW);

    expect(result.written).toEqual(['*', 'DE', 'US']);
    const puts = weightPuts();
    expect(puts).toHaveLength(3);
    for (const put of puts) {
      expect(put.ConditionExpression).toBe('attribute_not_exists(pk)');
      expect(put.Item).toMatchObject({ version: 1, updatedAt: '2026-11-24T12:00:30.000Z' });
    }
  });

  it('writes a demotion with a condition on the version it read, and a version one higher', async () => {
    seedRollups(240);
    ddbMock.on(BatchGetCommand).resolves({ Responses: { Routing: [equalItem('*', 7), equalItem('DE', 4), equalItem('US', 2)] } });
    ddbMock.on(PutCommand).resolves({});

    const result = await createRoutingWeightsTick({ ddb, logger: quietLogger, metrics }, config)(NOW);

    expect(result.written).toContain('DE');
    const de = ddbMock.commandCalls(PutCommand).map((c) => c.args[0].input).find((i) => i.Item?.pk === 'weights#DE')!;
    expect(de.ConditionExpression).toBe('#version = :version');
    expect(de.ExpressionAttributeValues).toEqual({ ':version': 4 });
    expect(de.Item).toMatchObject({ scope: 'DE', version: 5, weights: { 'cf-b': 0.03 } });
    expect(de.Item?.reason).toMatch(/^cf-b error rate 20% over 1,200 requests vs 0\.0% in DE; demoted 0\.33 → 0\.03/);
    expect(ddbMock.commandCalls(PutCommand).some((c) => c.args[0].input.Item?.pk === 'weights#US')).toBe(false);
  });

  it('re-reads and retries once when another writer bumped the version in between', async () => {
    seedRollups(240);
    ddbMock.on(BatchGetCommand).resolves({ Responses: { Routing: [equalItem('*', 7), equalItem('DE', 4), equalItem('US', 2)] } });
    ddbMock.on(GetCommand, { Key: { pk: 'weights#DE' } }).resolves({ Item: equalItem('DE', 5) });
    ddbMock
      .on(PutCommand, { Item: { pk: 'weights#DE', version: 5 } })
      .rejects(new ConditionalCheckFailedException({ message: 'conflict', $metadata: {} }))
      .on(PutCommand, { Item: { pk: 'weights#DE', version: 6 } })
      .resolves({})
      .on(PutCommand, { Item: { pk: 'weights#*' } })
      .resolves({});

    const result = await createRoutingWeightsTick({ ddb, logger: quietLogger, metrics }, config)(NOW);

    expect(result.conflicts).toBe(1);
    expect(result.written).toContain('DE');
    const dePuts = ddbMock.commandCalls(PutCommand).map((c) => c.args[0].input).filter((i) => i.Item?.pk === 'weights#DE');
    expect(dePuts.map((p) => p.ExpressionAttributeValues?.[':version'])).toEqual([4, 5]);
  });

  it('gives up on a scope after a second conflict and leaves it to the next tick', async () => {
    seedRollups(240);
    ddbMock.on(BatchGetCommand).resolves({ Responses: { Routing: [equalItem('*', 7), equalItem('DE', 4), equalItem('US', 2)] } });
    ddbMock.on(GetCommand, { Key: { pk: 'weights#DE' } }).resolves({ Item: equalItem('DE', 5) });
    ddbMock.on(PutCommand).resolves({});
    ddbMock.on(PutCommand, { Item: { pk: 'weights#DE' } }).rejects(new ConditionalCheckFailedException({ message: 'conflict', $metadata: {} }));

    const result = await createRoutingWeightsTick({ ddb, logger: quietLogger, metrics }, config)(NOW);

    expect(result.skipped).toEqual(['DE']);
    expect(result.conflicts).toBe(2);
    expect(ddbMock.commandCalls(PutCommand).filter((c) => c.args[0].input.Item?.pk === 'weights#DE')).toHaveLength(2);
  });

  it('retries keys that BatchGetItem left unprocessed', async () => {
    seedRollups(0);
    ddbMock
      .on(BatchGetCommand)
      .resolvesOnce({ Responses: { Routing: [equalItem('*', 1)] }, UnprocessedKeys: { Routing: { Keys: [{ pk: 'weights#DE' }, { pk: 'weights#US' }] } } })
      .resolves({ Responses: { Routing: [equalItem('DE', 3), equalItem('US', 3)] } });
    ddbMock.on(PutCommand).resolves({});

    await createRoutingWeightsTick({ ddb, logger: quietLogger, metrics, sleep: async () => undefined }, config)(NOW);

    expect(ddbMock.commandCalls(BatchGetCommand)).toHaveLength(2);
    expect(weightPuts()).toHaveLength(0);
  });

  it('fails the tick with a typed error when the registry item is missing, and writes nothing', async () => {
    seedRollups(0);
    ddbMock.on(GetCommand, { Key: { pk: 'pathways' } }).resolves({});

    await expect(createRoutingWeightsTick({ ddb, logger: quietLogger, metrics }, config)(NOW)).rejects.toBeInstanceOf(RegistryMissingError);
    expect(ddbMock.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('writes the routing snapshot to every copy after the weights, stamped with the tick, never over a newer one', async () => {
    seedRollups(0);
    ddbMock.on(BatchGetCommand).resolves({ Responses: { Routing: [] } });
    ddbMock.on(PutCommand).resolves({});
    ddbMock.on(ScanCommand).resolves({ Items: [registry] });
    ddbMock.on(ScanCommand).resolves({ Items: [registry, equalItem('*', 7), { ...equalItem('DE', 4), weights: { 'cf-a': 0.8, 'cf-b': 0.2, 'cf-c': 0 } }] });

    const result = await createRoutingWeightsTick({ ddb, logger: quietLogger, metrics }, config)(NOW);

    const puts = ddbMock.commandCalls(PutCommand).map((c) => c.args[0].input);
    const snapshots = puts.filter((i) => String(i.Item?.pk).startsWith('routing-snapshot#'));
    expect(snapshots.map((i) => i.Item?.pk)).toEqual(['routing-snapshot#0', 'routing-snapshot#1', 'routing-snapshot#2', 'routing-snapshot#3']);
    // After every weights write of the tick.
    expect(puts.findIndex((i) => String(i.Item?.pk).startsWith('routing-snapshot#'))).toBe(puts.length - 4);
    for (const put of snapshots) {
      expect(put.ConditionExpression).toBe('attribute_not_exists(pk) OR #generation <= :generation');
      expect(put.ExpressionAttributeValues).toEqual({ ':generation': NOW });
    }
    const decoded = parseRoutingSnapshot(snapshots[0].Item);
    expect(decoded.generation).toBe(NOW);
    expect(decoded.pathways.map((p) => p.id)).toEqual(['cf-a', 'cf-b', 'cf-c']);
    expect(decoded.shares.get('DE')).toEqual({ 'cf-a': 0.8, 'cf-b': 0.2, 'cf-c': 0 });
    expect(result.snapshot.scopes).toBe(2);
  });

  describe('routing generations after the snapshot (ADR 0097)', () => {
    const kvsMock = mockClient(CloudFrontKeyValueStoreClient);
    const generationStore = { client: new CloudFrontKeyValueStoreClient({ region: 'us-east-1' }), arn: 'arn:aws:cloudfront::123456789012:key-value-store/k' };

    function seedSnapshotRead() {
      seedRollups(0);
      ddbMock.on(BatchGetCommand).resolves({ Responses: { Routing: [] } });
      ddbMock.on(PutCommand).resolves({});
      ddbMock.on(ScanCommand).resolves({ Items: [registry, equalItem('*', 7)] });
      // What the tick just published, read back consistently; nothing announced yet.
      ddbMock.on(GetCommand, { Key: { pk: 'routing-snapshot#0' } }).resolves({ Item: snapshotItemOf(0, NOW, registry.pathways, new Map([['*', equalItem('*', 7).weights]])) });
      ddbMock.on(GetCommand, { Key: { pk: 'routing-generations' } }).resolves({});
    }

    beforeEach(() => kvsMock.reset());

    it('announces the snapshot\'s generation to the KeyValueStore after writing the snapshot', async () => {
      seedSnapshotRead();
      kvsMock.on(DescribeKeyValueStoreCommand).resolves({ ETag: 'E1' });
      kvsMock.on(UpdateKeysCommand).resolves({ ETag: 'E2' });

      const result = await createRoutingWeightsTick({ ddb, logger: quietLogger, metrics, generationStore }, config)(NOW);

      expect(result.generations).toEqual({ announced: ['*'], conflicts: 0 });
      expect(kvsMock.commandCalls(UpdateKeysCommand)[0]!.args[0].input).toMatchObject({ IfMatch: 'E1', Puts: [{ Key: 'rg.global', Value: String(NOW) }] });
    });

    it('does not fail the tick when the store cannot be written: the weights and the snapshot stand, the failure is counted', async () => {
      seedSnapshotRead();
      kvsMock.on(DescribeKeyValueStoreCommand).rejects(new Error('AccessDenied'));
      const addMetric = vi.spyOn(metrics, 'addMetric');

      const result = await createRoutingWeightsTick({ ddb, logger: quietLogger, metrics, generationStore }, config)(NOW);

      expect(result.written).toEqual(['*', 'DE', 'US']);
      expect(result.generations).toBeUndefined();
      expect(addMetric).toHaveBeenCalledWith('RoutingGenerationPublishFailures', 'Count', 1);
      expect(ddbMock.commandCalls(PutCommand).some((c) => c.args[0].input.Item?.pk === 'routing-generations')).toBe(false);
    });
  });

  it('leaves a snapshot copy that holds a newer generation alone', async () => {
    seedRollups(0);
    ddbMock.on(BatchGetCommand).resolves({ Responses: { Routing: [] } });
    ddbMock.on(PutCommand).resolves({});
    ddbMock.on(ScanCommand).resolves({ Items: [registry] });
    ddbMock.on(PutCommand, { Item: { pk: 'routing-snapshot#2' } }).rejects(new ConditionalCheckFailedException({ message: 'newer', $metadata: {} }));

    await expect(createRoutingWeightsTick({ ddb, logger: quietLogger, metrics }, config)(NOW)).resolves.toMatchObject({ written: ['*', 'DE', 'US'] });
  });
});

describe('routing-weights handler', () => {
  beforeEach(() => {
    ddbMock.reset();
    vi.spyOn(metrics, 'publishStoredMetrics').mockReturnValue(metrics);
    ddbMock.on(GetCommand, { Key: { pk: 'pathways' } }).resolves({ Item: registry });
    ddbMock.on(BatchGetCommand).resolves({ Responses: { Routing: [] } });
    ddbMock.on(PutCommand).resolves({});
    ddbMock.on(QueryCommand).resolves({ Items: [] });
    ddbMock.on(ScanCommand).resolves({ Items: [registry] });
  });

  it('runs TICKS evaluations TICK_SECONDS apart within one invocation', async () => {
    let clock = NOW;
    const sleeps: number[] = [];
    const handler = createRoutingWeightsHandler(
      { ddb, logger: quietLogger, metrics, now: () => clock, sleep: async (ms) => { sleeps.push(ms); clock += ms; } },
      { ...config, ticks: 6 },
    );

    const results = await handler({}, { getRemainingTimeInMillis: () => 70_000 - (clock - NOW) });

    expect(results.map((r) => r.at - NOW)).toEqual([0, 10_000, 20_000, 30_000, 40_000, 50_000]);
    expect(sleeps).toEqual([10_000, 10_000, 10_000, 10_000, 10_000]);
  });

  it('stops before a tick that could not finish within the invocation timeout', async () => {
    let clock = NOW;
    const handler = createRoutingWeightsHandler(
      { ddb, logger: quietLogger, metrics, now: () => clock, sleep: async (ms) => { clock += ms; } },
      { ...config, ticks: 6 },
    );

    const results = await handler({}, { getRemainingTimeInMillis: () => 40_000 - (clock - NOW) });

    // Ticks at 0, 10, 20 and 30 s leave at least the 8 s safety margin; the one at 40 s would not.
    expect(results).toHaveLength(4);
  });

  it('fails the invocation only when every tick failed', async () => {
    ddbMock.on(GetCommand, { Key: { pk: 'pathways' } }).rejects(new Error('throttled'));
    const handler = createRoutingWeightsHandler({ ddb, logger: quietLogger, metrics, sleep: async () => undefined }, { ...config, ticks: 2 });

    await expect(handler({})).rejects.toThrow('throttled');
  });
});

describe('routingWeightsConfig', () => {
  const cadence = { TICKS: '6', TICK_SECONDS: '10' };

  it('reads table names and the cadence the construct sets', () => {
    expect(configFromEnvironment({ ROUTING_TABLE_NAME: 'R', ROLLUPS_TABLE_NAME: 'Q', ...cadence })).toEqual({
      routingTableName: 'R',
      rollupsTableName: 'Q',
      ticks: 6,
      tickSeconds: 10,
    });
  });

  it('names the variable and the bad value', () => {
    expect(() => configFromEnvironment({ ROUTING_TABLE_NAME: 'R', ROLLUPS_TABLE_NAME: 'Q', TICKS: '6', TICK_SECONDS: 'soon' })).toThrow(
      new FunctionConfigError('environment variable TICK_SECONDS ("soon"): must be an integer'),
    );
    expect(() => configFromEnvironment({ ROLLUPS_TABLE_NAME: 'Q', ...cadence })).toThrow('environment variable ROUTING_TABLE_NAME (unset): is required');
  });

  it('overrides scoring parameters from SCORING_PARAMS_JSON and leaves the others at their defaults', () => {
    // Prepare
    const env = { ROUTING_TABLE_NAME: 'R', ROLLUPS_TABLE_NAME: 'Q', ...cadence, SCORING_PARAMS_JSON: '{"reversalHoldSeconds":20,"minSamples":20}' };
    // Act
    const read = configFromEnvironment(env);
    // Assess
    expect(read.params).toEqual({ reversalHoldSeconds: 20, minSamples: 20 });
    expect(configFromEnvironment({ ROUTING_TABLE_NAME: 'R', ROLLUPS_TABLE_NAME: 'Q', ...cadence }).params).toBeUndefined();
  });

  it('rejects an unknown or non-numeric scoring parameter, naming it', () => {
    const base = { ROUTING_TABLE_NAME: 'R', ROLLUPS_TABLE_NAME: 'Q', ...cadence };
    expect(() => configFromEnvironment({ ...base, SCORING_PARAMS_JSON: '{"reversalHold":20}' })).toThrow(/SCORING_PARAMS_JSON .*reversalHold/);
    expect(() => configFromEnvironment({ ...base, SCORING_PARAMS_JSON: '{"minSamples":"20"}' })).toThrow(/SCORING_PARAMS_JSON .*minSamples: must be a number/);
    expect(() => configFromEnvironment({ ...base, SCORING_PARAMS_JSON: '[1]' })).toThrow(FunctionConfigError);
    expect(() => configFromEnvironment({ ...base, SCORING_PARAMS_JSON: '{oops' })).toThrow(/not valid JSON/);
  });

  it('hands the overridden parameters to the tick: windowMinutes 1 and no clock skew read only the current minute', async () => {
    // Prepare
    ddbMock.reset();
    vi.spyOn(metrics, 'publishStoredMetrics').mockReturnValue(metrics);
    ddbMock.on(GetCommand, { Key: { pk: 'pathways' } }).resolves({ Item: registry });
    seedRollups(0);
    ddbMock.on(BatchGetCommand).resolves({ Responses: { Routing: [] } });
    ddbMock.on(PutCommand).resolves({});
    ddbMock.on(ScanCommand).resolves({ Items: [registry] });
    const fromEnv = configFromEnvironment({ ROUTING_TABLE_NAME: 'Routing', ROLLUPS_TABLE_NAME: 'Rollups', TICKS: '1', TICK_SECONDS: '10', SCORING_PARAMS_JSON: '{"windowMinutes":1,"clockSkewMinutes":0}' });
    // Act
    await createRoutingWeightsTick({ ddb, logger: quietLogger, metrics }, fromEnv)(NOW);
    // Assess
    expect(queriedMinutes()).toEqual([MINUTE]);
  });
});
