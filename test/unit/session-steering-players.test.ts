import { describe, expect, it } from 'vitest';
import { generateInitialKeyring } from '../../core/keyring';
import { rankPathways } from '../../core/rendezvous';
import { DEFAULT_SESSION_STEERING_POLICY } from '../../core/session-steering';
import { throughputClass, topThroughputClass } from '../../core/steering-cache-key';
import { readSteeringQuery } from '../../core/steering-manifest';
import { signToken } from '../../core/token';
import { createSteeringHandler } from '../../edge-functions/steering/handler';
import { keyedSteering } from '../support/keyed-steering';
import { snapshotOfItems } from '../support/routing-tables';

/**
 * What hls.js 1.7, dash.js 5.2 and Shaka Player 5.2 send the steering server, and how each builds its
 * next steering URL from our RELOAD-URI, modelled on their sources (docs/steering.md "Player
 * behaviour to know"):
 * - hls.js 1.7.4 src/controller/content-steering-controller.ts: the next URL is RELOAD-URI resolved
 *   against the last request URL; `_HLS_pathway` and `_HLS_throughput` are set on it, replacing earlier
 *   values and keeping every other parameter; the throughput is `(bandwidthEstimate || 500000) | 0` bit/s.
 * - dash.js 5.2.1 ContentSteeringController: RELOAD-URI resolved against the MPD's ContentSteering URL, then `&`/`?` +
 *   `_DASH_pathway=` the URI-encoded `"a,b"` (the location it was on at its previous request, then every other one used
 *   since the previous request, in order of first use) and `_DASH_throughput=` the URI-encoded list of
 *   means of its last four kbit/s samples × 1000, empty where it has none; nothing at all before its
 *   first segment (its first request, `queryBeforeStart`).
 * - Shaka Player 5.2 lib/util/content_steering_manager.js: after its first answer, RELOAD-URI resolved against
 *   the manifest URL (`resolveUris(baseUris_, …)`), with
 *   `_DASH_pathway` / `_HLS_pathway` = one pathway id (unquoted) and `_DASH_throughput` /
 *   `_HLS_throughput` = `Math.round(estimate)` bit/s (1 Mbit/s before it has measured), replacing
 *   those keys and keeping the rest byte for byte.
 * Each request goes through the gateway as CloudFront runs it (test/support/keyed-steering.ts): the key function,
 * the steering cache, the handler on a miss (ADR 0036).
 */

const NOW_S = 1_764_675_000;
const KEYRING = generateInitialKeyring({ nowSeconds: NOW_S - 100 });
const GATEWAY = 'gw.example.net';
const REGISTRY = {
  pk: 'pathways',
  pathways: ['cf-a', 'cf-b', 'cf-c'].map((id) => ({ id, host: `${id}.example.net`, enabled: true, cap: 1 })),
};
const EQUAL = { 'cf-a': 1 / 3, 'cf-b': 1 / 3, 'cf-c': 1 / 3 };
const TTL = 10;

interface PlayerState {
  readonly pathway: string;
  readonly bps: number;
}
/** The URLs a player resolves a relative RELOAD-URI against. */
interface SessionUrls {
  /** The steering server URI of the manifest (EXT-X-CONTENT-STEERING SERVER-URI, MPD ContentSteering). */
  readonly server: string;
  readonly manifest: string;
}
/** Builds a player's next steering request URL from the previous answer's RELOAD-URI (or the server URI). */
type NextUrl = (reloadUri: string, lastUrl: string, state: PlayerState, usedSinceLast: readonly string[], urls: SessionUrls) => string;

function setRaw(url: string, pairs: readonly [string, string][]): string {
  const [base, query = ''] = url.split('?');
  const keys = new Set(pairs.map(([k]) => k));
  const kept = query.split('&').filter((p) => p !== '' && !keys.has(p.split('=')[0]));
  return `${base}?${[...kept, ...pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)].join('&')}`;
}

const PLAYERS: Record<string, { protocol: 'hls' | 'dash'; next: NextUrl }> = {
  'hls.js 1.7': {
    protocol: 'hls',
    next: (reload, last, { pathway, bps }) => setRaw(new URL(reload, last).href, [['_HLS_pathway', pathway], ['_HLS_throughput', String(bps | 0)]]),
  },
  'dash.js 5.2': {
    protocol: 'dash',
    next: (relativeReload, _last, { bps }, used, urls) => {
      const reload = new URL(relativeReload, urls.server).href;
      if (used.length === 0) return reload;
      const sep = reload.includes('?') ? '&' : '?';
      const throughputs = used.map((_, i) => (i === used.length - 1 ? String(Math.round(bps / 1000) * 1000) : '')).join(',');
      return `${reload}${sep}_DASH_pathway=${encodeURIComponent(`"${used.join(',')}"`)}&_DASH_throughput=${encodeURIComponent(throughputs)}`;
    },
  },
  'Shaka 5.2 (DASH)': {
    protocol: 'dash',
    next: (reload, _last, { pathway, bps }, _used, urls) => setRaw(new URL(reload, urls.manifest).href, [['_DASH_pathway', pathway], ['_DASH_throughput', String(Math.round(bps))]]),
  },
  'Shaka 5.2 (HLS)': {
    protocol: 'hls',
    next: (reload, _last, { pathway, bps }, _used, urls) => setRaw(new URL(reload, urls.manifest).href, [['_HLS_pathway', pathway], ['_HLS_throughput', String(Math.round(bps))]]),
  },
};

/** The session's order when it reports nothing (ADR 0040). */
const platformOrder = (sid: string): string[] => rankPathways(sid, EQUAL);

/** A session whose platform order is cf-a, cf-b, cf-c: a player that fails over from cf-a goes to cf-b. */
const SID = Array.from({ length: 200 }, (_, i) => `viewer-${i}`).find((s) => platformOrder(s).join() === 'cf-a,cf-b,cf-c') as string;

function gateway(weights: Record<string, number> = EQUAL) {
  const clock = { ms: NOW_S * 1000 };
  const handler = createSteeringHandler({
    getKeyring: () => KEYRING,
    readOriginText: async () => null,
    readRoutingSnapshot: async () => snapshotOfItems({ pathways: REGISTRY, 'weights#*': { weights } }),
    steeringTtlSeconds: TTL,
    routingCacheSeconds: 3600,
    nowMs: () => clock.ms,
    log: () => undefined,
  });
  return { edge: keyedSteering({ handler, keyring: KEYRING, nowMs: () => clock.ms, gatewayHost: GATEWAY }), clock };
}

function session(gw = gateway(), sid = SID) {
  const token = signToken({ sid, aid: 'big-buck', exp: NOW_S + 6 * 3600 }, KEYRING);
  const urls: SessionUrls = { server: `https://${GATEWAY}/${token}/play/big-buck/20260101-000002-000000000000000000000002/steering`, manifest: `https://${GATEWAY}/${token}/play/big-buck/20260101-000002-000000000000000000000002/main.mpd` };
  const serverUri = urls.server;
  let reload = serverUri;
  let last = serverUri;
  /** One steering reload: the player builds its URL from the last RELOAD-URI, the gateway answers, a TTL passes. */
  const reloadSteering = async (next: NextUrl, state: PlayerState, used: readonly string[] = [state.pathway]) => {
    last = next(reload, last, state, used, urls);
    const answer = JSON.parse((await gw.edge.request(last)).body as string) as { 'RELOAD-URI': string; 'PATHWAY-PRIORITY': string[] };
    reload = answer['RELOAD-URI'];
    gw.clock.ms += TTL * 1000;
    return { url: last, priority: answer['PATHWAY-PRIORITY'], reload };
  };
  return { reloadSteering, serverUri };
}

describe('steering query fixtures as each player sends them', () => {
  it('reads hls.js 1.7: one unquoted pathway, throughput in bit/s, its 500 kbit/s default before a measurement', () => {
    expect(readSteeringQuery('first=cf-a&on=cf-a&_HLS_pathway=cf-a&_HLS_throughput=500000')).toEqual({ protocol: 'hls', pathways: ['cf-a'], throughputBps: [500000] });
  });

  it('reads dash.js 5.2: the quoted, URI-encoded list of locations used, throughputs ×1000 with empty items', () => {
    expect(readSteeringQuery('_DASH_pathway=%22cf-a%2Ccf-b%22&_DASH_throughput=%2C3022000')).toEqual({ protocol: 'dash', pathways: ['cf-a', 'cf-b'], throughputBps: [undefined, 3022000] });
  });

  it('reads Shaka 5.2: one unquoted id under either protocol\'s name, throughput in bit/s', () => {
    expect(readSteeringQuery('_DASH_pathway=cf-b&_DASH_throughput=1000000')).toEqual({ protocol: 'dash', pathways: ['cf-b'], throughputBps: [1000000] });
    expect(readSteeringQuery('_HLS_pathway=cf-b&_HLS_throughput=2345678')).toEqual({ protocol: 'hls', pathways: ['cf-b'], throughputBps: [2345678] });
  });
});

describe.each(Object.entries(PLAYERS))('session steering with %s', (_name, player) => {
  it('carries the memory through RELOAD-URI and gets it back with the player\'s own parameters', async () => {
    const { reloadSteering } = session();
    await reloadSteering(player.next, { pathway: 'cf-a', bps: 4_000_000 });
    const second = await reloadSteering(player.next, { pathway: 'cf-a', bps: 4_200_000 });
    const params = new URL(second.url).searchParams;
    expect(params.get('first')).toBe('cf-a');
    expect(params.get('on')).toBe('cf-a');
    expect(params.get('best')).toBe(`${throughputClass(4_000_000, topThroughputClass(DEFAULT_SESSION_STEERING_POLICY))}.1`);
    expect(params.has(player.protocol === 'hls' ? '_HLS_pathway' : '_DASH_pathway')).toBe(true);
    // Our memory never carries the player's parameters, so no player sends them twice.
    expect(second.reload).not.toMatch(/_HLS_|_DASH_/);
    // Absolute: Shaka Player 5.2 builds its next URL with `new URL(reload)` and cannot take a relative one.
    expect(second.reload).toMatch(new RegExp(`^https://${GATEWAY}/[^/]+/play/big-buck/20260101-000002-000000000000000000000002/steering\\?`));
    expect(second.url.match(/_(HLS|DASH)_pathway=/g)).toHaveLength(1);
  });

  it('never ranks first again, during the hold, the CDN the player failed over from, with the weights unchanged', async () => {
    const { reloadSteering } = session();
    await reloadSteering(player.next, { pathway: 'cf-a', bps: 4_000_000 });
    // The CDN dies; the player fails over to the next pathway of the last answer by itself.
    const firsts: string[] = [];
    for (let reloads = 0; reloads < DEFAULT_SESSION_STEERING_POLICY.minAvoidSeconds / TTL; reloads++) {
      const answer = await reloadSteering(player.next, { pathway: 'cf-b', bps: 3_000_000 }, reloads === 0 ? ['cf-a', 'cf-b'] : ['cf-b']);
      firsts.push(answer.priority[0]);
    }
    expect(firsts.every((first) => first === 'cf-b')).toBe(true);
  });

  it('moves the session at the reload that reports its throughput collapsing on the serving CDN', async () => {
    const { reloadSteering } = session();
    await reloadSteering(player.next, { pathway: 'cf-a', bps: 4_000_000 });
    await reloadSteering(player.next, { pathway: 'cf-a', bps: 4_100_000 });
    await reloadSteering(player.next, { pathway: 'cf-a', bps: 4_200_000 });
    // A 500 kbit/s cap on cf-a, no errors.
    const capped = await reloadSteering(player.next, { pathway: 'cf-a', bps: 480_000 });
    expect(capped.priority[0]).not.toBe('cf-a');
    expect(capped.priority.at(-1)).toBe('cf-a');
    // The player follows; cf-a stays out of first place.
    const after = await reloadSteering(player.next, { pathway: capped.priority[0], bps: 3_500_000 });
    expect(after.priority[0]).toBe(capped.priority[0]);
  });
});

describe('session steering through the handler: isolation', () => {
  it('keeps a bare RELOAD-URI for dash.js\'s first request, which carries no parameters (queryBeforeStart)', async () => {
    const { reloadSteering, serverUri } = session();
    const first = await reloadSteering(PLAYERS['dash.js 5.2'].next, { pathway: 'cf-a', bps: 0 }, []);
    expect(first.url).toBe(serverUri);
    expect(first.reload).toBe(serverUri);
    expect(first.priority).toEqual(platformOrder(SID));
  });

  it('holds the CDN dash.js left before its first report, after a first request without parameters', async () => {
    const { reloadSteering } = session();
    const dash = PLAYERS['dash.js 5.2'].next;
    expect((await reloadSteering(dash, { pathway: 'cf-a', bps: 0 }, [])).priority[0]).toBe('cf-a');
    // cf-a dies during the first TTL; dash.js blocks it and loads from cf-b.
    const second = await reloadSteering(dash, { pathway: 'cf-b', bps: 3_000_000 }, ['cf-a', 'cf-b']);
    expect(second.priority[0]).toBe('cf-b');
    expect(second.priority.at(-1)).toBe('cf-a');
    const third = await reloadSteering(dash, { pathway: 'cf-b', bps: 3_000_000 }, ['cf-b']);
    expect(third.priority[0]).toBe('cf-b');
  });

  it('lets a forged memory change only the forger\'s answer', async () => {
    // Prepare: one gateway instance, two sessions that the platform both sends to cf-a first.
    const gw = gateway();
    const other = Array.from({ length: 50 }, (_, i) => `other-${i}`).find((s) => platformOrder(s)[0] === 'cf-a') as string;
    const forger = session(gw);
    const honest = session(gw, other);
    const forged = (reload: string) => `${new URL(reload, forger.serverUri).href}?first=cf-a&on=cf-a&left=cf-a.${NOW_S}.1000.4_cf-b.${NOW_S}.1000.4&best=99.2_${'9'.repeat(40)}&_HLS_pathway=cf-c&_HLS_throughput=-1`;
    const forgedAnswer = await forger.reloadSteering((reload) => forged(reload), { pathway: 'cf-c', bps: 0 });
    expect(forgedAnswer.priority[0]).toBe('cf-c');
    const honestAnswer = await honest.reloadSteering(PLAYERS['hls.js 1.7'].next, { pathway: 'cf-a', bps: 4_000_000 });
    expect(honestAnswer.priority).toEqual(platformOrder(other));
  });
});
