import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { bitOf } from '../../core/session-evidence';
import { CatalogTable } from '../../tables/catalog-table';
import { TitleDemandTable } from '../../tables/title-demand-table';
import { generateInitialKeyring } from '../../core/keyring';
import { verifyToken } from '../../core/token';
import { splitTokenPath } from '../../core/token-path';
import { FunctionConfigError } from '../../lambdas/shared/function-config';
import { createPrewarmHandler, endpointsOf, SCHEDULED_EVENT } from '../../lambdas/prewarm/index';

const keyring = generateInitialKeyring();
const ASSET = 'premiere';
const REVISION = '20261202-120000-0123456789abcdef01234567';
const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);
const READY = { 'detail-type': 'Asset Ready', detail: { assetId: ASSET, revision: REVISION, current: true, status: 'READY', manifests: {} } };

/** The title as a pathway serves it: a two-rung ladder with audio, 6 s segments. */
const ORIGIN: Record<string, string> = {
  'main.m3u8': '#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="en",DEFAULT=YES,URI="a.m3u8"\n#EXT-X-STREAM-INF:BANDWIDTH=5000000,RESOLUTION=1920x1080,AUDIO="a"\nv1080.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=1000000,RESOLUTION=640x360,AUDIO="a"\nv360.m3u8\n',
  ...Object.fromEntries(
    ['v1080', 'v360', 'a'].map((name) => [
      `${name}.m3u8`,
      `#EXTM3U\n#EXT-X-MAP:URI="${name}_init.mp4"\n${[1, 2, 3, 4, 5].map((i) => `#EXTINF:6,\n${name}_${i}.m4s`).join('\n')}\n#EXT-X-ENDLIST\n`,
    ]),
  ),
};

interface Served {
  readonly host: string;
  readonly object: string;
}

/** A fake pathway network: answers ORIGIN's objects for a token valid for the asset; `down` hosts refuse. */
function network(options: { down?: readonly string[]; cachedHosts?: readonly string[] } = {}) {
  const served: Served[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const fetchFake = (async (input: string | URL | Request) => {
    const url = new URL(String(input));
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      await new Promise((resolve) => setImmediate(resolve));
      if (options.down?.includes(url.host)) throw new TypeError('fetch failed');
      const split = splitTokenPath(url.pathname)!;
      if (!verifyToken(split.token, keyring, { nowSeconds: NOW / 1000, assetId: ASSET }).ok) return new Response('forbidden', { status: 403 });
      const object = split.rest.replace(`/media/${ASSET}/${REVISION}/`, '');
      const body = ORIGIN[object] ?? (/_(init\.mp4|\d+\.m4s)$/.test(object) ? `bytes of ${object}` : undefined);
      if (body === undefined) return new Response('missing', { status: 403 });
      served.push({ host: url.host, object });
      const cache = options.cachedHosts?.includes(url.host) ? 'Hit from cloudfront' : 'Miss from cloudfront';
      return new Response(body, { status: 200, headers: { 'x-cache': cache } });
    } finally {
      inFlight -= 1;
    }
  }) as typeof fetch;
  return { fetch: fetchFake, served, maxInFlight: () => maxInFlight };
}

const handlerWith = (net: ReturnType<typeof network>, overrides: Partial<Parameters<typeof createPrewarmHandler>[0]> = {}) =>
  createPrewarmHandler({
    keyring: { get: async () => keyring },
    pathwayIds: ['cf-a', 'cf-b', 'cf-c'],
    pathwayOrigins: ['https://a.cdn.test', 'https://b.cdn.test', 'https://c.cdn.test'],
    warmSeconds: 12,
    topRungs: 1,
    concurrency: 4,
    fetch: net.fetch,
    now: () => NOW,
    ...overrides,
  });

describe('prewarm handler (ADR 0039)', () => {
  it('fetches the start of the top rung and its audio through every pathway with a token for the asset', async () => {
    const net = network();

    const result = await handlerWith(net)(READY);

    // v1080 for TV/desktop/tablet, v360 is the only mobile rung under 720p; audio: playlist + init + 2 segments each.
    const plan = ['v1080.m3u8', 'v360.m3u8', 'a.m3u8', 'v1080_init.mp4', 'v1080_1.m4s', 'v1080_2.m4s', 'v360_init.mp4', 'v360_1.m4s', 'v360_2.m4s', 'a_init.mp4', 'a_1.m4s', 'a_2.m4s'];
    expect(result).toEqual({ assetId: ASSET, revision: REVISION, objects: plan.length, pathways: { 'cf-a': { warmed: 12, alreadyCached: 0, failed: 0 }, 'cf-b': { warmed: 12, alreadyCached: 0, failed: 0 }, 'cf-c': { warmed: 12, alreadyCached: 0, failed: 0 } } });
    for (const host of ['b.cdn.test', 'c.cdn.test']) expect(net.served.filter((s) => s.host === host).map((s) => s.object).sort()).toEqual([...plan].sort());
    expect(net.maxInFlight()).toBeLessThanOrEqual(4);
  });

  it('reads the plan through the next pathway when the first cannot serve it, and counts the failed pathway', async () => {
    const net = network({ down: ['a.cdn.test'] });

    const result = await handlerWith(net)(READY);

    expect(result.pathways['cf-a']).toEqual({ warmed: 0, alreadyCached: 0, failed: 12 });
    expect(result.pathways['cf-b']).toEqual({ warmed: 12, alreadyCached: 0, failed: 0 });
    expect(result.pathways['cf-c']).toEqual({ warmed: 12, alreadyCached: 0, failed: 0 });
  });

  it('counts objects a pathway already had as cached, not warmed', async () => {
    const result = await handlerWith(network({ cachedHosts: ['c.cdn.test'] }))(READY);

    expect(result.pathways['cf-c']).toEqual({ warmed: 0, alreadyCached: 12, failed: 0 });
  });

  it('gives up without throwing when no pathway serves the title', async () => {
    const net = network({ down: ['a.cdn.test', 'b.cdn.test', 'c.cdn.test'] });

    const result = await handlerWith(net)(READY);

    expect(result).toMatchObject({ assetId: ASSET, skipped: 'the title could not be read through any pathway', objects: 0 });
    expect(net.served).toEqual([]);
  });

  it('gives up without throwing when the keyring cannot be read', async () => {
    const net = network();
    const result = await handlerWith(net, { keyring: { get: () => Promise.reject(new Error('AccessDenied')) } })(READY);

    expect(result.skipped).toBe('no playback token: the keyring could not be read');
    expect(net.served).toEqual([]);
  });

  it('sets aside an event that is not an Asset Ready detail, and a revision playback does not serve', async () => {
    const net = network();
    const handler = handlerWith(net);

    expect(await handler({ 'detail-type': 'Asset Ready', detail: { assetId: '../etc', revision: REVISION, current: true } })).toEqual({ skipped: 'not an Asset Ready detail', objects: 0, pathways: {} });
    expect(await handler({ detail: 'nonsense' })).toMatchObject({ skipped: 'not an Asset Ready detail' });
    expect(await handler({ ...READY, detail: { ...READY.detail, current: false } })).toMatchObject({ skipped: 'playback serves another revision', objects: 0 });
    expect(net.served).toEqual([]);
  });
});

describe('prewarm configuration', () => {
  it('pairs pathway ids with their origins', () => {
    expect(endpointsOf(['cf-a', 'cf-b'], ['https://d1.cloudfront.net', 'http://cf-b.localhost:4582'])).toEqual([
      { id: 'cf-a', scheme: 'https', host: 'd1.cloudfront.net' },
      { id: 'cf-b', scheme: 'http', host: 'cf-b.localhost:4582' },
    ]);
  });

  it('refuses lists that do not pair up, a bad id and an origin with a path, naming the variables', () => {
    expect(() => endpointsOf(['cf-a', 'cf-b'], ['https://d1.cloudfront.net'])).toThrow(FunctionConfigError);
    expect(() => endpointsOf([], [])).toThrow(/PATHWAY_IDS \(0\) and PATHWAY_ORIGINS \(0\)/);
    expect(() => endpointsOf(['CF A'], ['https://d1.cloudfront.net'])).toThrow(/PATHWAY_IDS\/PATHWAY_ORIGINS entry 0/);
    expect(() => endpointsOf(['cf-a'], ['https://d1.cloudfront.net/media'])).toThrow(/must be a pathway id and "https:\/\/<host>"/);
  });
});

describe('trending pre-warm (ADR 0102)', () => {
  const ddbMock = mockClient(DynamoDBDocumentClient);
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
  const SCHEDULED = { 'detail-type': SCHEDULED_EVENT, source: 'aws.events', detail: {} };
  /** NOW is 12:00:00: the last complete minute is 11:58, its baseline 11:53–11:57. */
  const LAST = NOW - 2 * 60_000;
  const bits = (n: number, prefix: string) => new Set(Array.from({ length: n }, (_, i) => bitOf('session', `${prefix}${i}`)));

  /** Demand items per minute: `premiere` rises from 5 to 40 sessions, `steady` holds at 40. */
  function demandByMinute(minute: number) {
    const rising = minute === LAST ? 40 : 5;
    return [
      { pk: `demand#${minute}`, cell: ASSET, sessions: bits(rising, `p${minute}-`) },
      { pk: `demand#${minute}`, cell: 'steady', sessions: bits(40, 'steady-') },
    ];
  }

  const trendingHandler = (net: ReturnType<typeof network>, topK = 3) =>
    handlerWith(net, {
      trendingTopK: topK,
      trendingMinSessions: 20,
      trendingRisePercent: 200,
      trendingBaselineMinutes: 5,
      trendingCooldownMinutes: 30,
      demand: new TitleDemandTable(documents, 'rollups'),
      catalog: new CatalogTable(documents, 'assets'),
    });

  beforeEach(() => {
    ddbMock.reset();
    ddbMock.on(QueryCommand).callsFake((input: { ExpressionAttributeValues: Record<string, string> }) => ({
      Items: demandByMinute(Number(input.ExpressionAttributeValues[':pk']!.slice('demand#'.length))),
    }));
    ddbMock.on(GetCommand, { TableName: 'assets' }).resolves({ Item: { assetId: ASSET, sk: 'asset', status: 'READY', currentRevision: REVISION } });
    ddbMock.on(PutCommand).resolves({});
  });

  it('warms a title whose demand rose through every pathway, once claimed, and leaves a steady one alone', async () => {
    const net = network();

    const result = await trendingHandler(net)(SCHEDULED);

    expect(result.trending).toEqual([{ assetId: ASSET, sessions: expect.any(Number), baseline: expect.any(Number), revision: REVISION, outcome: 'warmed' }]);
    expect(result.trending![0]!.sessions).toBeGreaterThanOrEqual(38);
    expect(result.pathways).toEqual({ 'cf-a': { warmed: 12, alreadyCached: 0, failed: 0 }, 'cf-b': { warmed: 12, alreadyCached: 0, failed: 0 }, 'cf-c': { warmed: 12, alreadyCached: 0, failed: 0 } });
    // The last complete minute and the five before it, one Query each
    expect(ddbMock.commandCalls(QueryCommand).map((c) => c.args[0].input.ExpressionAttributeValues![':pk']).sort()).toEqual(
      Array.from({ length: 6 }, (_, i) => `demand#${LAST - i * 60_000}`).sort(),
    );
    const claim = ddbMock.commandCalls(PutCommand)[0]!.args[0].input;
    expect(claim).toMatchObject({
      TableName: 'rollups',
      Item: { pk: `trending#${ASSET}`, cell: 'warm', warmedAt: NOW, revision: REVISION },
      ConditionExpression: 'attribute_not_exists(pk) OR warmedAt <= :since',
      ExpressionAttributeValues: { ':since': NOW - 30 * 60_000 },
    });
  });

  it('does not warm a title another run claimed within the cooldown', async () => {
    ddbMock.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    const net = network();

    const result = await trendingHandler(net)(SCHEDULED);

    expect(result.trending).toEqual([expect.objectContaining({ assetId: ASSET, outcome: 'cooling-down' })]);
    expect(net.served).toEqual([]);
  });

  it('never warms a title playback does not serve (taken down), and claims nothing for it', async () => {
    ddbMock.on(GetCommand, { TableName: 'assets' }).resolves({ Item: { assetId: ASSET, sk: 'asset', status: 'TAKEN_DOWN', currentRevision: REVISION } });
    const net = network();

    const result = await trendingHandler(net)(SCHEDULED);

    expect(result.trending).toEqual([expect.objectContaining({ assetId: ASSET, outcome: 'not-playable' })]);
    expect(ddbMock.commandCalls(PutCommand)).toHaveLength(0);
    expect(net.served).toEqual([]);
  });

  it('does nothing when trending is off, and gives up without throwing when demand cannot be read', async () => {
    const net = network();
    expect(await trendingHandler(net, 0)(SCHEDULED)).toEqual({ skipped: 'trending pre-warm is off', objects: 0, pathways: {} });
    expect(await handlerWith(net)(SCHEDULED)).toMatchObject({ skipped: 'trending pre-warm is off' });
    expect(ddbMock.calls()).toHaveLength(0);

    ddbMock.on(QueryCommand).rejects(new Error('AccessDeniedException'));
    expect(await trendingHandler(net)(SCHEDULED)).toMatchObject({ skipped: 'title demand could not be read', objects: 0 });
    expect(net.served).toEqual([]);
  });
});
