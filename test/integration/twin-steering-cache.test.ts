import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateInitialKeyring, serializeKeyring } from '../../core/keyring';
import { signToken } from '../../core/token';
import { createSteeringHandler } from '../../edge-functions/steering/handler';
import { applyToProcessEnv, startLocalAws, TWIN_CREDENTIALS, type LocalAws } from '../../local/aws-servers';
import { twinSteeringKeyFunction } from '../../local/edge/cloudfront-function';
import { startDistribution, type Distribution, type EdgeRequestHandler, type EdgeStats } from '../../local/edge/cloudfront-server';
import { STEERING_BEHAVIOR_NAME, steeringCacheBehavior } from '../../local/edge/steering-behavior';
import { startSecretsManagerServer, type SecretsManagerServer } from '../../local/secrets-manager';
import { routingSnapshotReader, RoutingTable } from '../../tables/routing-table';
import { startLocalDynamoDb, TABLE_SPECS, type LocalDynamoDb } from '../support/local-dynamodb';
import { TWIN_KVS_ARN, TwinKeyValueStore } from '../../local/edge/key-value-store';
import { publishRoutingGenerations } from '../../lambdas/routing-weights/generations';
import { GLOBAL_SCOPE } from '../../core/routing-types';

/**
 * The twin gateway's steering cache (ADR 0036) over real HTTP: the key function's uploaded code at viewer request
 * with its store reading the keyring secret, the cache keyed like the cache policy, the steering handler reading
 * the routing snapshot from dynalite on a miss, and the counters the load harness reads (`/__twin/edge-stats`).
 */
describe('twin gateway: cacheable steering', () => {
  let aws: LocalAws;
  let dynamo: LocalDynamoDb;
  let secrets: SecretsManagerServer;
  let gateway: Distribution;
  let restoreEnv: () => void;
  const keyring = generateInitialKeyring({ kid: 'ksteer', key: Buffer.alloc(32, 0x3c) });
  const now = () => Math.floor(Date.now() / 1000);
  const REV = '20260101-000001-000000000000000000000001';
  const edgeKeys = new TwinKeyValueStore(TWIN_KVS_ARN);

  const stats = async (): Promise<EdgeStats> => (await fetch(`${gateway.endpoint}/__twin/edge-stats`)).json() as Promise<EdgeStats>;
  const steeringUrl = (sid: string, query: string) => {
    const token = signToken({ sid, aid: 'big-buck', exp: now() + 600 }, keyring);
    return `${gateway.endpoint}/${token}/play/big-buck/${REV}/steering${query === '' ? '' : `?${query}`}`;
  };

  beforeAll(async () => {
    aws = await startLocalAws();
    dynamo = await startLocalDynamoDb();
    await dynamo.createTables([TABLE_SPECS.routing('Routing')]);
    const routing = new RoutingTable(dynamo.documents, 'Routing');
    await routing.putRegistry(['cf-a', 'cf-b', 'cf-c'].map((id) => ({ id, host: `${id}.localhost`, enabled: true, cap: 1 })));
    await routing.publishSnapshot(Date.now());
    secrets = await startSecretsManagerServer();
    secrets.putSecret('twin/playback-keyring', serializeKeyring(keyring));
    restoreEnv = applyToProcessEnv({
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
      AWS_ACCESS_KEY_ID: TWIN_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TWIN_CREDENTIALS.secretAccessKey,
    });
    const steering = createSteeringHandler({
      getKeyring: () => keyring,
      readOriginText: async () => null,
      readRoutingSnapshot: routingSnapshotReader(dynamo.documents, 'Routing'),
      steeringTtlSeconds: 10,
      routingCacheSeconds: 5,
      publicScheme: 'http',
      log: () => undefined,
    }) as unknown as EdgeRequestHandler;
    await publishRoutingGenerations(dynamo.documents, 'Routing', { client: edgeKeys.client, arn: edgeKeys.arn });
    const keyFunction = twinSteeringKeyFunction({ secretId: 'twin/playback-keyring', regions: [aws.region], timeoutMs: 1000, refreshSeconds: 60 }, undefined, edgeKeys);
    gateway = await startDistribution({
      id: 'gateway',
      caching: false,
      origin: { s3: aws.clients.s3, bucket: 'origin', region: aws.region },
      originRequest: steering,
      behaviors: [steeringCacheBehavior(keyFunction, steering, 10)],
    });
  });

  afterAll(async () => {
    await gateway?.stop();
    restoreEnv?.();
    await secrets?.stop();
    await dynamo?.stop();
    await aws?.stop();
  });

  it('answers a second identical reload from the cache without running the steering function', async () => {
    // Prepare
    const before = (await stats()).behaviors[STEERING_BEHAVIOR_NAME]!;
    const url = steeringUrl('hit-session', '_HLS_pathway=cf-a&_HLS_throughput=4000000');
    // Act
    const first = await fetch(url, { headers: { 'x-twin-country': 'DE' } });
    const second = await fetch(url, { headers: { 'x-twin-country': 'DE' } });
    // Assess
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(first.headers.get('x-cache')).toBe('Miss from cloudfront');
    expect(second.headers.get('x-cache')).toBe('Hit from cloudfront');
    expect(first.headers.get('cache-control')).toBe('public');
    expect(await second.text()).toBe(await first.text());
    const after = (await stats()).behaviors[STEERING_BEHAVIOR_NAME]!;
    expect(after.requests - before.requests).toBe(2);
    expect(after.viewerRequestInvocations - before.viewerRequestInvocations).toBe(2);
    expect(after.originRequestInvocations - before.originRequestInvocations).toBe(1);
    expect(after.cacheHits - before.cacheHits).toBe(1);
  });

  it('keeps sessions and countries apart: each has its own key and its own RELOAD-URI', async () => {
    const before = (await stats()).behaviors[STEERING_BEHAVIOR_NAME]!;
    const one = await (await fetch(steeringUrl('session-one', '_HLS_pathway=cf-b&_HLS_throughput=9000000'), { headers: { 'x-twin-country': 'BR' } })).json();
    const two = await (await fetch(steeringUrl('session-two', '_HLS_pathway=cf-b&_HLS_throughput=9000000'), { headers: { 'x-twin-country': 'BR' } })).json();
    await fetch(steeringUrl('session-one', '_HLS_pathway=cf-b&_HLS_throughput=9000000'), { headers: { 'x-twin-country': 'AR' } });
    const after = (await stats()).behaviors[STEERING_BEHAVIOR_NAME]!;
    expect(after.originRequestInvocations - before.originRequestInvocations).toBe(3);
    expect(one['RELOAD-URI']).not.toBe(two['RELOAD-URI']);
    expect(one['RELOAD-URI']).toMatch(new RegExp(`^http://[^/]+/[^/]+/play/big-buck/${REV}/steering\\?first=`));
  });

  it('checks the token on every request, a cached key included', async () => {
    const url = steeringUrl('token-session', '');
    expect((await fetch(url)).status).toBe(200);
    const expired = signToken({ sid: 'token-session', aid: 'big-buck', exp: now() - 3600 }, keyring);
    const refused = await fetch(`${gateway.endpoint}/${expired}/play/big-buck/${REV}/steering`);
    expect([refused.status, refused.headers.get('x-token-error')]).toEqual([403, 'expired']);
    const bare = await fetch(`${gateway.endpoint}/steering?b=1`);
    expect([bare.status, bare.headers.get('x-token-error')]).toEqual([403, 'malformed']);
  });

  it('answers a cached key afresh once routing-weights announces a new routing generation (ADR 0097)', async () => {
    // Prepare: a steady session's reload, cached.
    const fetchDe = (url: string) => fetch(url, { headers: { 'x-twin-country': 'DE' } });
    const first = await fetchDe(steeringUrl('generation-session', ''));
    const serving = ((await first.json()) as { 'PATHWAY-PRIORITY': string[]; 'RELOAD-URI': string })['PATHWAY-PRIORITY'][0]!;
    const reload = steeringUrl('generation-session', `first=${serving}&on=${serving}&_HLS_pathway=${serving}&_HLS_throughput=4000000`);
    await fetchDe(reload);
    expect((await fetchDe(reload)).headers.get('x-cache')).toBe('Hit from cloudfront');
    // Act: what routing-weights does on a demotion — weights, snapshot, then the generations.
    const routing = new RoutingTable(dynamo.documents, 'Routing');
    const previous = await routing.readScopeWeights(GLOBAL_SCOPE);
    const weights = { 'cf-a': 0.5, 'cf-b': 0.5, 'cf-c': 0.5, [serving]: 0 };
    expect(await routing.writeWeights({ scope: GLOBAL_SCOPE, weights, updatedAt: new Date().toISOString(), reason: 'test: demote' }, previous)).toBe(true);
    await routing.publishSnapshot(Date.now());
    const published = await publishRoutingGenerations(dynamo.documents, 'Routing', { client: edgeKeys.client, arn: edgeKeys.arn });
    // Assess: the store holds the new generation; the same reload is a new key, answered with the demoted pathway last.
    expect(published.announced).toEqual([GLOBAL_SCOPE]);
    expect(edgeKeys.get('rg.global')).toBe(String(published.generation));
    const after = await fetchDe(reload);
    expect(after.headers.get('x-cache')).toBe('Miss from cloudfront');
    expect(after.headers.get('cache-control')).toBe('public');
    expect(((await after.json()) as { 'PATHWAY-PRIORITY': string[] })['PATHWAY-PRIORITY'].at(-1)).toBe(serving);
  });

  it('counts the manifest path under the default behavior, where nothing is cached', async () => {
    const before = (await stats()).behaviors.default!;
    const token = signToken({ sid: 'play-session', aid: 'big-buck', exp: now() + 600 }, keyring);
    await fetch(`${gateway.endpoint}/${token}/play/big-buck/${REV}/main.m3u8`);
    const after = (await stats()).behaviors.default!;
    expect(after.requests - before.requests).toBe(1);
    expect(after.originRequestInvocations - before.originRequestInvocations).toBe(1);
    expect(after.cacheHits).toBe(before.cacheHits);
  });
});
