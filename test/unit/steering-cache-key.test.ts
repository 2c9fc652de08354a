import type { CloudFrontRequest, CloudFrontResultResponse } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { generateInitialKeyring } from '../../core/keyring';
import { DEFAULT_SESSION_STEERING_POLICY } from '../../core/session-steering';
import { CANONICAL_STEERING_URI, STEERING_KEY_PARAMS, STEERING_KEY_QUERY_NAMES, steeringCacheSeconds, throughputClass, topThroughputClass } from '../../core/steering-cache-key';
import { GLOBAL_ROUTING_GENERATION_KEY, ROUTING_GENERATION_KEY_PREFIX } from '../../core/routing-generation';
import { signToken } from '../../core/token';
import { createSteeringHandler } from '../../edge-functions/steering/handler';
import { buildSteeringKeyFunctionCode, CLOUDFRONT_FUNCTION_MAX_BYTES } from '../../lib/bundling/cloudfront-function';
import { keyedSteering } from '../support/keyed-steering';
import { snapshotOfItems } from '../support/routing-tables';

/**
 * The steering key function (edge-functions/steering-key-cf/function.js, ADR 0036) run as uploaded, against the
 * TypeScript side it must agree with (core/steering-cache-key.ts) and in front of the real steering handler.
 */

const NOW_S = 1_764_675_000;
const KEYRING = generateInitialKeyring({ nowSeconds: NOW_S - 100 });
const GATEWAY = 'gw.example.net';
const REV = '20260101-000002-000000000000000000000002';
const REGISTRY = { pk: 'pathways', pathways: ['cf-a', 'cf-b', 'cf-c'].map((id) => ({ id, host: `${id}.example.net`, enabled: true, cap: 1 })) };
const TOP = topThroughputClass(DEFAULT_SESSION_STEERING_POLICY);

function gateway() {
  const clock = { ms: NOW_S * 1000 };
  const handler = createSteeringHandler({
    getKeyring: () => KEYRING,
    readOriginText: async () => null,
    readRoutingSnapshot: async () => snapshotOfItems({ pathways: REGISTRY, 'weights#*': { weights: { 'cf-a': 0.5, 'cf-b': 0.3, 'cf-c': 0.2 } } }),
    steeringTtlSeconds: 10,
    routingCacheSeconds: 3600,
    nowMs: () => clock.ms,
    log: () => undefined,
  });
  return { edge: keyedSteering({ handler, keyring: KEYRING, nowMs: () => clock.ms, gatewayHost: GATEWAY }), clock };
}

const tokenOf = (sid: string, claims: { aid?: string; exp?: number } = {}) => signToken({ sid, aid: claims.aid ?? 'big-buck', exp: claims.exp ?? NOW_S + 3600 }, KEYRING);
const steeringUrl = (sid: string, query = '', claims: { aid?: string; exp?: number } = {}) =>
  `https://${GATEWAY}/${tokenOf(sid, claims)}/play/${claims.aid ?? 'big-buck'}/${REV}/steering${query === '' ? '' : `?${query}`}`;

function keyOf(result: CloudFrontRequest | CloudFrontResultResponse): Record<string, string> {
  if ('status' in result) throw new Error(`the key function refused: ${result.status} ${result.headers?.['x-token-error']?.[0]?.value ?? ''}`);
  expect(result.uri).toBe(CANONICAL_STEERING_URI);
  return Object.fromEntries(new URLSearchParams(result.querystring));
}

describe('steering key function: the cache key it writes', () => {
  it('fits CloudFront Functions\' 10 KB with the token check it carries', () => {
    expect(Buffer.byteLength(buildSteeringKeyFunctionCode())).toBeLessThan(CLOUDFRONT_FUNCTION_MAX_BYTES);
  });

  it('moves the session\'s steering folder from the path into the key, where the answer\'s RELOAD-URI is built on it', async () => {
    const { edge } = gateway();
    const token = tokenOf('s1');
    expect(keyOf(await edge.key(steeringUrl('s1')))).toEqual({ s: `/${token}/play/big-buck/${REV}/` });
  });

  it('reduces each player\'s report to its current pathway and the throughput class the steering function uses', async () => {
    const { edge } = gateway();
    const cases: [string, Record<string, string>][] = [
      // hls.js 1.7: unquoted id, bit/s (its 500 kbit/s default before it measured).
      ['_HLS_pathway=cf-a&_HLS_throughput=500000', { p: 'cf-a', t: String(throughputClass(500_000, TOP)) }],
      // The HLS specification's quoted form.
      ['_HLS_pathway=%22cf-b%22&_HLS_throughput=12000000', { p: 'cf-b', t: String(TOP) }],
      // hls.js before it has a pathway.
      ['_HLS_pathway=.&_HLS_throughput=500000', {}],
      // dash.js 5.2: the quoted list of locations used since its last request; the last is current; empty items.
      ['_DASH_pathway=%22cf-a%2Ccf-b%22&_DASH_throughput=%2C1500000', { p: 'cf-b', t: String(throughputClass(1_500_000, TOP)) }],
      ['_DASH_pathway=%22cf-a%2Ccf-b%22&_DASH_throughput=3000000%2C', { p: 'cf-b' }],
      // Shaka Player 5.2: one unquoted id under either protocol's name.
      ['_DASH_pathway=cf-c&_DASH_throughput=1000000', { p: 'cf-c', t: String(throughputClass(1_000_000, TOP)) }],
      // Figures no player can measure are dropped, the pathway kept (hls.js wraps estimates ≥ 2^31 to negative).
      ['_HLS_pathway=cf-a&_HLS_throughput=-2094967296', { p: 'cf-a' }],
      ['_HLS_pathway=cf-a&_HLS_throughput=10000000001', { p: 'cf-a' }],
      ['_HLS_pathway=cf-a&_HLS_throughput=NaN', { p: 'cf-a' }],
      // Not a pathway id: no report at all.
      ['_HLS_pathway=CF%20A&_HLS_throughput=1', {}],
    ];
    for (const [query, expected] of cases) {
      const { s, ...rest } = keyOf(await edge.key(steeringUrl('s1', query)));
      expect(s).toBe(`/${tokenOf('s1')}/play/big-buck/${REV}/`);
      expect(rest, query).toEqual(expected);
    }
  });

  it('computes the same class as core/steering-cache-key.ts across the whole range, boundaries included', async () => {
    const { edge } = gateway();
    const figures = [0, 1, 999, 1000, 1001, 2 ** 0.25 * 1000, 64_000, 480_000, 999_999, 1_000_000, 1_999_999, 2_000_000, 2_048_000, 5e6, 1e10];
    for (let k = 0; k <= TOP + 2; k++) figures.push(1000 * 2 ** (k / 4), 1000 * 2 ** (k / 4) - 1);
    for (const bps of figures) {
      const key = keyOf(await edge.key(steeringUrl('s1', `_HLS_pathway=cf-a&_HLS_throughput=${bps}`)));
      expect(key.t, String(bps)).toBe(String(throughputClass(bps, TOP)));
    }
  });

  it('bakes the top class of the steering policy it is built for', async () => {
    const policy = { throughputFloorBps: 8_000_000, collapseRatio: 0.9 };
    const { edge } = (() => {
      const g = gateway();
      return { edge: keyedSteering({ handler: async () => ({ status: '500' }), keyring: KEYRING, nowMs: () => g.clock.ms, policy }) };
    })();
    const top = topThroughputClass(policy);
    expect(top).toBeGreaterThan(TOP);
    expect(keyOf(await edge.key(steeringUrl('s1', '_HLS_pathway=cf-a&_HLS_throughput=50000000'))).t).toBe(String(top));
  });

  it('keeps well-formed session memory as sent and drops anything else, unknown parameters included', async () => {
    const { edge } = gateway();
    const memory = `first=cf-b&on=cf-b&best=44.2&left=cf-a.${NOW_S}.350.1_cf-c.${NOW_S - 60}.300.2`;
    const kept = keyOf(await edge.key(steeringUrl('s1', `${memory}&_HLS_pathway=cf-b&_HLS_throughput=4000000&utm=x&token=y`)));
    expect(kept).toEqual({ s: `/${tokenOf('s1')}/play/big-buck/${REV}/`, p: 'cf-b', t: String(TOP), first: 'cf-b', on: 'cf-b', best: '44.2', left: `cf-a.${NOW_S}.350.1_cf-c.${NOW_S - 60}.300.2` });
    const garbage = ['first=CF-B', 'on=cf b', 'best=44', 'best=44.3', 'kbps=4000_4000', `left=cf-a.${NOW_S}.350.9`, `left=${`cf-a.${NOW_S}.350.1_`.repeat(40)}cf-a.1.1.1`];
    for (const query of garbage) expect(keyOf(await edge.key(steeringUrl('s1', query))), query).toEqual({ s: `/${tokenOf('s1')}/play/big-buck/${REV}/` });
  });
});

describe('steering key function: the token check in front of the cache', () => {
  const refusal = async (url: string, method = 'GET') => {
    const { edge } = gateway();
    const result = method === 'GET' ? await edge.request(url) : await edge.key(url);
    expect('status' in result).toBe(true);
    return result as CloudFrontResultResponse;
  };

  it('refuses a bad token with 403 and the reason, before any cache lookup', async () => {
    const token = tokenOf('s1');
    const tampered = `https://${GATEWAY}/${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}/play/big-buck/${REV}/steering`;
    const res = await refusal(tampered);
    expect(res.status).toBe('403');
    expect(res.headers?.['x-token-error']?.[0]?.value).toBe('bad-signature');
    expect(res.headers?.['cache-control']?.[0]?.value).toBe('no-store');
  });

  it('refuses an expired token and a token of another asset', async () => {
    expect((await refusal(steeringUrl('s1', '', { exp: NOW_S - 3600 }))).headers?.['x-token-error']?.[0]?.value).toBe('expired');
    const other = steeringUrl('s1', '', { aid: 'other' }).replace('/play/other/', '/play/big-buck/');
    expect((await refusal(other)).headers?.['x-token-error']?.[0]?.value).toBe('asset-mismatch');
  });

  it('refuses the canonical path itself, so no viewer reaches the steering function without a token', async () => {
    const res = await refusal(`https://${GATEWAY}${CANONICAL_STEERING_URI}?b=1`);
    expect(res.status).toBe('403');
    expect(res.headers?.['x-token-error']?.[0]?.value).toBe('malformed');
  });

  it('answers a CORS preflight itself, with the gateway\'s CORS headers and no token', async () => {
    const { edge } = gateway();
    const res = (await edge.key(`https://${GATEWAY}/anything/play/big-buck/${REV}/steering`, 'OPTIONS')) as CloudFrontResultResponse;
    expect(res.status).toBe('204');
    expect(res.headers?.['access-control-allow-methods']?.[0]?.value).toContain('GET');
    expect(res.headers?.['access-control-allow-origin']?.[0]?.value).toBe('*');
  });

  it('answers 404 to a tokened path ending in /steering that is not a steering URL', async () => {
    const t = tokenOf('s1');
    expect((await refusal(`https://${GATEWAY}/${t}/media/big-buck/${REV}/steering`)).status).toBe('404');
    expect((await refusal(`https://${GATEWAY}/${t}/play/big-buck/${REV}/x/steering`)).status).toBe('404');
  });
});

describe('steering through the key and the cache: a session\'s unchanged reloads are answered from the cache', () => {
  const REUSE_MS = steeringCacheSeconds(10) * 1000;

  it('answers a session\'s reloads in an unchanged situation from the cache, with its own RELOAD-URI, until the reuse ends', async () => {
    // Prepare: a healthy session on cf-a; its throughput wobbles within the top class.
    const { edge, clock } = gateway();
    const first = JSON.parse((await edge.request(steeringUrl('s1', '_HLS_pathway=cf-a&_HLS_throughput=5000000'), 'DE')).body as string);
    const next = (bps: number) => steeringUrl('s1', `${first['RELOAD-URI'].split('?')[1] ?? ''}&_HLS_pathway=cf-a&_HLS_throughput=${bps}`);
    await edge.request(next(5_100_000), 'DE');
    const invocationsBefore = edge.stats.steeringInvocations;
    // Act: a reload every TTL within the reuse window.
    const answers = [];
    for (let t = 10_000; t < REUSE_MS - 10_000; t += 10_000) {
      clock.ms += 10_000;
      answers.push(JSON.parse((await edge.request(next(5_000_000 + t), 'DE')).body as string));
    }
    // Assess: no invocation; the answer names this session's own steering URL.
    expect(edge.stats.steeringInvocations).toBe(invocationsBefore);
    expect(answers.every((a) => a['RELOAD-URI'].startsWith(`https://${GATEWAY}/${tokenOf('s1')}/play/big-buck/${REV}/steering`))).toBe(true);
    clock.ms += REUSE_MS;
    await edge.request(next(5_000_000), 'DE');
    expect(edge.stats.steeringInvocations).toBe(invocationsBefore + 1);
  });

  it('answers at once when the report changes: a failover or a collapse is a new key', async () => {
    const { edge } = gateway();
    const memory = 'first=cf-a&on=cf-a&best=44.2';
    await edge.request(steeringUrl('s1', `${memory}&_HLS_pathway=cf-a&_HLS_throughput=5000000`));
    const failover = JSON.parse((await edge.request(steeringUrl('s1', `${memory}&_HLS_pathway=cf-b&_HLS_throughput=5000000`))).body as string);
    expect(failover['PATHWAY-PRIORITY'].at(-1)).toBe('cf-a');
    const collapse = JSON.parse((await edge.request(steeringUrl('s1', `${memory}&_HLS_pathway=cf-a&_HLS_throughput=400000`))).body as string);
    expect(collapse['PATHWAY-PRIORITY'].at(-1)).toBe('cf-a');
    expect(collapse['RELOAD-URI']).toMatch(/\?first=cf-[bc]&on=cf-a&best=\d+\.1&left=cf-a\.\d+\.\d+\.1$/);
    expect(edge.stats.steeringInvocations).toBe(3);
  });

  it('never gives one session\'s answer to another: the key holds the session', async () => {
    const { edge } = gateway();
    const a = await edge.request(steeringUrl('s1', '_HLS_pathway=cf-a&_HLS_throughput=5000000'), 'US');
    const b = await edge.request(steeringUrl('s2', '_HLS_pathway=cf-a&_HLS_throughput=5000000'), 'US');
    expect(edge.stats.steeringInvocations).toBe(2);
    expect(JSON.parse(a.body as string)['RELOAD-URI']).toContain(tokenOf('s1'));
    expect(JSON.parse(b.body as string)['RELOAD-URI']).toContain(tokenOf('s2'));
  });

  it('keeps countries apart: the same query from another country is another key', async () => {
    const { edge } = gateway();
    await edge.request(steeringUrl('s1'), 'US');
    await edge.request(steeringUrl('s1'), 'BR');
    expect(edge.stats.steeringInvocations).toBe(2);
  });
});

describe('steering key function: the routing generation (ADR 0097)', () => {
  const REGISTRY_ITEMS = { pathways: REGISTRY };
  const keyWith = (kvs: (key: string) => string | undefined) =>
    keyedSteering({ handler: async () => ({ status: '500' }), keyring: KEYRING, nowMs: () => NOW_S * 1000, kvs });

  it('adds the viewer\'s country\'s generation, else the global one, else nothing, and never fails the request for it', async () => {
    const store: Record<string, string> = { [GLOBAL_ROUTING_GENERATION_KEY]: '1000', [`${ROUTING_GENERATION_KEY_PREFIX}DE`]: '2000' };
    const edge = keyWith((k) => store[k]);
    const g = async (country?: string) => keyOf(await edge.key(steeringUrl('s1'), 'GET', country)).g;
    expect(await g('DE')).toBe('2000');
    expect(await g('FR')).toBe('1000');
    // "XX" (unknown) and no country at all: the global weights answer, so the global generation.
    expect(await g('XX')).toBe('1000');
    expect(await g(undefined)).toBe('1000');
    // No generation in the store: the key is what it was before generations.
    expect(keyOf(await keyWith(() => undefined).key(steeringUrl('s1'), 'GET', 'DE')).g).toBeUndefined();
    // A store read that fails, or a value that is not a generation: no g, and the request goes on.
    const failing = keyWith((k) => {
      if (k.startsWith(ROUTING_GENERATION_KEY_PREFIX)) throw new Error('KeyValueStore unavailable');
      return undefined;
    });
    expect(keyOf(await failing.key(steeringUrl('s1'), 'GET', 'DE'))).toEqual({ s: `/${tokenOf('s1')}/play/big-buck/${REV}/` });
    const bad = keyWith((k) => (k.startsWith(ROUTING_GENERATION_KEY_PREFIX) ? '12 OR 1' : undefined));
    expect(keyOf(await bad.key(steeringUrl('s1'), 'GET', 'DE')).g).toBeUndefined();
  });

  it('writes the key parameter the cache policy keys on and the steering function reads', () => {
    expect(STEERING_KEY_PARAMS.generation).toBe('g');
    expect(STEERING_KEY_QUERY_NAMES).toContain('g');
    const code = buildSteeringKeyFunctionCode();
    expect(code).toContain(JSON.stringify(ROUTING_GENERATION_KEY_PREFIX));
    expect(code).toContain(JSON.stringify(GLOBAL_ROUTING_GENERATION_KEY));
  });

  /** A gateway whose routing table and KeyValueStore the test moves; the container's snapshot period is a minute. */
  function movingGateway() {
    const clock = { ms: NOW_S * 1000 };
    const routing = { items: { ...REGISTRY_ITEMS, 'weights#*': { weights: { 'cf-a': 0.5, 'cf-b': 0.3, 'cf-c': 0.2 } } } as Record<string, unknown>, generation: 1_000, lagging: false };
    const store: Record<string, string> = { [GLOBAL_ROUTING_GENERATION_KEY]: '1000' };
    const published: { items: Record<string, unknown>; generation: number }[] = [{ items: routing.items, generation: 1_000 }];
    const reads = { count: 0 };
    const handler = createSteeringHandler({
      getKeyring: () => KEYRING,
      readOriginText: async () => null,
      readRoutingSnapshot: async () => {
        reads.count++;
        // A lagging copy (eventually consistent read of a shard) returns the previous snapshot.
        const snapshot = routing.lagging ? published.at(-2)! : published.at(-1)!;
        return snapshotOfItems(snapshot.items, snapshot.generation);
      },
      steeringTtlSeconds: 10,
      routingCacheSeconds: 60,
      nowMs: () => clock.ms,
      log: () => undefined,
    });
    const edge = keyedSteering({ handler, keyring: KEYRING, nowMs: () => clock.ms, gatewayHost: GATEWAY, kvs: (k) => store[k] });
    /** What routing-weights does: weights, then the snapshot, then the generation naming it. */
    const demote = (pathway: string, generation: number) => {
      const weights = { 'cf-a': 0.5, 'cf-b': 0.5, 'cf-c': 0.5, [pathway]: 0 };
      published.push({ items: { ...REGISTRY_ITEMS, 'weights#*': { weights } }, generation });
      store[GLOBAL_ROUTING_GENERATION_KEY] = String(generation);
    };
    return { edge, clock, demote, routing, reads };
  }

  /** A player's next reload: the last answer's RELOAD-URI (its session memory) with the player's report on `pathway`. */
  const reloadAfter = (answer: { body?: string }, pathway: string) => {
    const uri = JSON.parse(answer.body as string)['RELOAD-URI'] as string;
    return `${uri}${uri.includes('?') ? '&' : '?'}_HLS_pathway=${pathway}&_HLS_throughput=5000000`;
  };
  const priorityOf = (answer: { body?: string }): string[] => JSON.parse(answer.body as string)['PATHWAY-PRIORITY'];

  it('answers a steady session\'s next reload with the new weights once the generation moves, not after the reuse time', async () => {
    const { edge, clock, demote } = movingGateway();
    // Prepare: a steady session on the pathway its first answer ranks first, reloading every TTL as a player does.
    let answer = await edge.request(steeringUrl('s1'), 'DE');
    const serving = priorityOf(answer)[0]!;
    for (let i = 0; i < 3; i++) {
      clock.ms += 10_000;
      answer = await edge.request(reloadAfter(answer, serving), 'DE');
    }
    const steadyInvocations = edge.stats.steeringInvocations;
    clock.ms += 10_000;
    answer = await edge.request(reloadAfter(answer, serving), 'DE');
    expect(edge.stats.steeringInvocations).toBe(steadyInvocations);
    // Act: the serving pathway's share goes to 0; the next reload comes one TTL later.
    demote(serving, 2_000);
    clock.ms += 10_000;
    const after = await edge.request(reloadAfter(answer, serving), 'DE');
    // Assess: a new key, answered at once with that pathway last, and that answer is cached like any other.
    expect(edge.stats.steeringInvocations).toBe(steadyInvocations + 1);
    expect(priorityOf(after).at(-1)).toBe(serving);
    expect(after.headers?.['cache-control']?.[0]?.value).toBe('public');
    clock.ms += 10_000;
    await edge.request(reloadAfter(answer, serving), 'DE');
    expect(edge.stats.steeringInvocations).toBe(steadyInvocations + 1);
  });

  it('reads the snapshot again when the key names a newer generation than the container holds, once per generation', async () => {
    const { edge, clock, demote, reads } = movingGateway();
    await edge.request(steeringUrl('s1'), 'DE');
    expect(reads.count).toBe(1);
    demote('cf-a', 2_000);
    clock.ms += 1_000;
    // Many sessions re-key in the same second; the container's period (a minute) has not ended.
    const answers = await Promise.all(['s2', 's3', 's4', 's5'].map((sid) => edge.request(steeringUrl(sid), 'DE')));
    expect(reads.count).toBe(2);
    for (const a of answers) expect(JSON.parse(a.body as string)['PATHWAY-PRIORITY'].at(-1)).toBe('cf-a');
  });

  it('does not let an answer from a snapshot older than the key\'s generation be cached, so the key is answered again', async () => {
    const { edge, clock, demote, routing } = movingGateway();
    const answer = await edge.request(steeringUrl('s1'), 'DE');
    const serving = priorityOf(answer)[0]!;
    // The reload carries the memory of an answer to a report (first=<serving>), as a steady player's does.
    const reload = reloadAfter(await edge.request(reloadAfter(answer, serving), 'DE'), serving);
    await edge.request(reload, 'DE');
    const before = edge.stats.steeringInvocations;
    // The generation is published, but the container's one extra read hits a copy that does not have it yet.
    routing.lagging = true;
    demote(serving, 2_000);
    clock.ms += 10_000;
    const stale = await edge.request(reload, 'DE');
    expect(stale.headers?.['cache-control']?.[0]?.value).toBe('no-store');
    expect(priorityOf(stale)[0]).toBe(serving);
    // Next reload: not from the cache; the container's snapshot period ends and it reads the new one.
    routing.lagging = false;
    clock.ms += 60_000;
    const fresh = await edge.request(reload, 'DE');
    expect(edge.stats.steeringInvocations).toBe(before + 2);
    expect(priorityOf(fresh).at(-1)).toBe(serving);
    expect(fresh.headers?.['cache-control']?.[0]?.value).toBe('public');
  });
});
