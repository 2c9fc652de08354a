/**
 * Steering hot paths (docs/benchmarks.md "steering"). Run: `npx tsx bench/steering.bench.ts`.
 *
 * Also the routing snapshot (ADR 0048): its size at 200 countries × 10 pathways, its decode time, the
 * per-request routing lookup, and snapshot reads per container per minute at 1–1,000 requests/s.
 *
 * Each figure is the median over batches of the per-call time (batch time / calls), after warm-up,
 * so timer resolution and one-off GC pauses do not dominate. Targets (docs/benchmarks.md): HLS multivariant
 * rewrite of 6 rungs × 3 pathways + audio <= 100 µs; steering JSON response <= 20 µs.
 * The hls-parser row is the baseline the line-based rewrite was chosen against (ADR 0042): it only
 * parses and re-serialises the origin playlist, i.e. less work than a rewrite, and still costs more.
 */
import type { CloudFrontRequestEvent } from 'aws-lambda';
import HLS from 'hls-parser';
import { DEVICE_CAPS } from '../core/device-class';
import { buildMultivariantPlaylist, parseOriginMultivariant } from '../core/hls-multivariant';
import { generateInitialKeyring } from '../core/keyring';
import { buildSteeredMpd, parseOriginMpd } from '../core/mpd-steering';
import { rankPathways } from '../core/rendezvous';
import { DEFAULT_SESSION_STEERING_POLICY, steerSessionFromQuery } from '../core/session-steering';
import { buildSteeringManifest, serializeSteeringManifest } from '../core/steering-manifest';
import { CANONICAL_STEERING_URI } from '../core/steering-cache-key';
import { signToken } from '../core/token';
import { createSteeringHandler } from '../edge-functions/steering/handler';
import { ORIGIN_RUNGS, originMultivariant } from '../test/support/origin-manifests';
import { RoutingCache } from '../edge-functions/steering/routing-cache';
import { parseRoutingSnapshot, snapshotItemBytes, snapshotItemOf } from '../tables/routing-table';
import { ROUTING_SNAPSHOT_SHARDS } from '../core/routing-types';

const RUNGS = ORIGIN_RUNGS;
const ORIGIN_M3U8 = originMultivariant({ iFrames: false });
const ORIGIN_MPD = `<?xml version="1.0" encoding="UTF-8"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" minBufferTime="PT12S" profiles="urn:mpeg:dash:profile:cmaf:2019" mediaPresentationDuration="PT60S"><Period id="1"><AdaptationSet mimeType="video/mp4">${RUNGS.map(
  ([w, h, bw], i) => `<Representation id="${i}" width="${w}" height="${h}" bandwidth="${bw}" codecs="avc1.640028"><SegmentTemplate timescale="30000" media="main_${h}p_$Number%09d$.cmfv" initialization="main_${h}p_init.cmfv" duration="180000"/></Representation>`,
).join('')}</AdaptationSet><AdaptationSet mimeType="audio/mp4" lang="eng"><Representation id="a" bandwidth="96000" codecs="mp4a.40.2"><SegmentTemplate timescale="48000" media="main_audio_$Number%09d$.cmfa" initialization="main_audio_init.cmfa" duration="288000"/></Representation></AdaptationSet></Period></MPD>`;

const NOW_S = Math.floor(Date.now() / 1000);
const KEYRING = generateInitialKeyring({ nowSeconds: NOW_S - 60 });
const TOKENS = Array.from({ length: 1024 }, (_, i) => signToken({ sid: `session-${i}`, aid: 'big-buck', exp: NOW_S + 3600 }, KEYRING));
const PATHWAYS = [
  { id: 'cf-a', host: 'd1111abcdef8.cloudfront.net' },
  { id: 'cf-b', host: 'd2222abcdef8.cloudfront.net' },
  { id: 'cf-c', host: 'd3333abcdef8.cloudfront.net' },
];
const WEIGHTS = { 'cf-a': 0.5, 'cf-b': 0.3, 'cf-c': 0.2 };
const GATEWAY = 'd9999gateway.cloudfront.net';

/** Median per-call microseconds over `batches` batches of `calls` calls each. */
async function measure(fn: (i: number) => unknown | Promise<unknown>, calls: number, batches = 41): Promise<number> {
  let sink = 0;
  for (let i = 0; i < calls * 3; i++) sink ^= Number(Boolean(await fn(i))); // warm-up: JIT and caches
  const perCall: number[] = [];
  for (let b = 0; b < batches; b++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) sink ^= Number(Boolean(await fn(b * calls + i)));
    perCall.push(Number(process.hrtime.bigint() - start) / 1000 / calls);
  }
  if (sink === 2) console.log(''); // keep results observable so nothing is optimised away
  perCall.sort((x, y) => x - y);
  return perCall[Math.floor(perCall.length / 2)];
}

/**
 * Steering reload queries: none (a player that reports nothing), hls.js's first report, and a reload
 * that carries the session's memory (a departed pathway held, four throughput reports) back.
 */
// Steering reloads as the key function hands them on (ADR 0036): reported pathway and class, memory (the
// session's folder `s` is added per event).
const NO_REPORT = '';
const FIRST_REPORT = 'p=cf-a&t=44';
const WITH_MEMORY = `p=cf-b&t=43&first=cf-b&on=cf-b&best=44.2&left=cf-a.${Math.ceil(NOW_S / 60) * 60 - 60}.500.1`;

/** 200 two-letter countries plus the global scope, with shares over `pathways`. */
function fullRoutingSnapshot(pathwayCount: number) {
  const pathways = Array.from({ length: pathwayCount }, (_, i) => ({ id: `cf-pathway-${i}`, host: `d${String(i).padStart(13, '0')}.cloudfront.net`, enabled: true, cap: 1 }));
  const scopes = ['*', ...Array.from({ length: 200 }, (_, i) => String.fromCharCode(65 + Math.floor(i / 26), 65 + (i % 26)))];
  // Uneven six-decimal shares, as the controller writes them: the longest encoding.
  const shares = Object.fromEntries(pathways.map((p, i) => [p.id, Math.round(((i + 1) / ((pathwayCount * (pathwayCount + 1)) / 2)) * 1e6) / 1e6]));
  return { item: snapshotItemOf(0, Date.now(), pathways, new Map(scopes.map((s) => [s, shares]))), countries: scopes.slice(1) };
}

/**
 * Snapshot reads of one container over one simulated minute at `requestsPerSecond`, the requests spread
 * over 200 countries (and some without a country): a fake clock, the real RoutingCache.
 */
async function readsPerContainerMinute(requestsPerSecond: number): Promise<{ reads: number; requests: number }> {
  const { item, countries } = fullRoutingSnapshot(10);
  const clock = { ms: 0 };
  const cache = new RoutingCache(async () => item, { ttlMs: 5000, coldWaitMs: 1000, nowMs: () => clock.ms });
  const requests = requestsPerSecond * 60;
  for (let i = 0; i < requests; i++) {
    clock.ms = (i * 60_000) / requests;
    await cache.view(i % 17 === 0 ? undefined : countries[i % countries.length]);
  }
  return { reads: cache.stats.reads, requests };
}

function steerEvent(i: number, querystring = FIRST_REPORT): CloudFrontRequestEvent {
  return {
    Records: [
      {
        cf: {
          config: { distributionDomainName: GATEWAY, distributionId: 'EDFDVBD6EXAMPLE', eventType: 'origin-request', requestId: `req-${i}` },
          request: {
            clientIp: '203.0.113.178',
            headers: { 'cloudfront-viewer-country': [{ key: 'CloudFront-Viewer-Country', value: 'DE' }] },
            method: 'GET',
            querystring: `s=${encodeURIComponent(`/${TOKENS[i % TOKENS.length]}/play/big-buck/20260101-000002-000000000000000000000002/`)}${querystring === '' ? '' : `&${querystring}`}`,
            uri: CANONICAL_STEERING_URI,
          },
        },
      },
    ],
  } as CloudFrontRequestEvent;
}

async function main(): Promise<void> {
  const origin = parseOriginMultivariant(ORIGIN_M3U8);
  const mpd = parseOriginMpd(ORIGIN_MPD);
  const input = (i: number) => {
    const token = TOKENS[i % TOKENS.length];
    return { pathways: PATHWAYS, token, assetId: 'big-buck', revision: 'r2', steeringServerUri: `https://${GATEWAY}/${token}/steer/big-buck` };
  };

  const handler = createSteeringHandler({
    getKeyring: () => KEYRING,
    readOriginText: async () => ORIGIN_M3U8,
    readRoutingSnapshot: async () => snapshotItemOf(0, 1, PATHWAYS.map((p) => ({ ...p, enabled: true, cap: 1 })), new Map([['*', WEIGHTS]])),
    steeringTtlSeconds: 10,
    routingCacheSeconds: 3600,
    log: () => undefined,
  });
  const events = Array.from({ length: 4096 }, (_, i) => steerEvent(i));
  const silentEvents = Array.from({ length: 4096 }, (_, i) => steerEvent(i, NO_REPORT));
  const memoryEvents = Array.from({ length: 4096 }, (_, i) => steerEvent(i, WITH_MEMORY));
  const sessionContext = (i: number) => ({ rankingKey: `session-${i}`, weights: WEIGHTS, nowSeconds: NOW_S, policy: DEFAULT_SESSION_STEERING_POLICY });

  const rows: { name: string; medianMicros: number; targetMicros?: number }[] = [];
  rows.push({ name: 'hls rewrite 6x3+audio (parsed origin cached)', medianMicros: await measure((i) => buildMultivariantPlaylist(origin, input(i)), 2000), targetMicros: 100 });
  rows.push({ name: 'hls rewrite 6x3+audio, mobile cap', medianMicros: await measure((i) => buildMultivariantPlaylist(origin, { ...input(i), cap: DEVICE_CAPS.mobile }), 2000) });
  rows.push({ name: 'hls origin parse+compile (once per revision)', medianMicros: await measure(() => parseOriginMultivariant(ORIGIN_M3U8), 500) });
  rows.push({ name: 'baseline: hls-parser parse+stringify only', medianMicros: await measure(() => HLS.stringify(HLS.parse(ORIGIN_M3U8)), 500) });
  rows.push({ name: 'mpd rewrite 6 rungs x3 (template cached)', medianMicros: await measure((i) => buildSteeredMpd(mpd, input(i)), 2000) });
  rows.push({ name: 'mpd origin parse (once per revision)', medianMicros: await measure(() => parseOriginMpd(ORIGIN_MPD), 200) });
  rows.push({
    name: 'steering JSON: rank + build + serialize',
    medianMicros: await measure(
      (i) =>
        serializeSteeringManifest(
          buildSteeringManifest({ ttlSeconds: 10, reloadUri: `https://${GATEWAY}/${TOKENS[i % TOKENS.length]}/steer/big-buck`, priority: rankPathways(`session-${i}`, WEIGHTS) }),
        ),
      5000,
    ),
    targetMicros: 20,
  });
  rows.push({ name: 'steer cache miss end-to-end (handler on the key, verify, warm)', medianMicros: await measure((i) => handler(events[i % events.length]), 2000) });
  rows.push({ name: 'steer cache miss, no report (platform order, bare RELOAD-URI)', medianMicros: await measure((i) => handler(silentEvents[i % silentEvents.length]), 2000) });
  rows.push({ name: 'steer cache miss, report + memory carried back', medianMicros: await measure((i) => handler(memoryEvents[i % memoryEvents.length]), 2000) });
  rows.push({ name: 'baseline: rankPathways alone', medianMicros: await measure((i) => rankPathways(`session-${i}`, WEIGHTS), 5000) });
  rows.push({
    name: 'session steering alone: read query + decide + write memory',
    medianMicros: await measure((i) => steerSessionFromQuery(WITH_MEMORY, sessionContext(i)), 5000),
    targetMicros: 10,
  });

  // Routing snapshot (ADR 0048): one item per container per period, whatever the countries and traffic.
  const full = fullRoutingSnapshot(10);
  rows.push({ name: 'routing snapshot decode, 200 countries x 10 pathways (once per period)', medianMicros: await measure(() => parseRoutingSnapshot(full.item), 50) });
  const viewCache = new RoutingCache(async () => full.item, { ttlMs: 3_600_000, coldWaitMs: 1000, nowMs: () => 0 });
  await viewCache.view('DE');
  rows.push({ name: 'routing view per request (200-country snapshot in memory)', medianMicros: await measure((i) => viewCache.view(full.countries[i % 200]), 20_000), targetMicros: 2 });
  const snapshotBytes = snapshotItemBytes(full.item);
  const readFigures = [];
  for (const rps of [1, 100, 1000]) readFigures.push({ requestsPerSecond: rps, ...(await readsPerContainerMinute(rps)) });

  console.log('| benchmark | median µs/call | target µs |');
  console.log('| --- | ---: | ---: |');
  for (const r of rows) console.log(`| ${r.name} | ${r.medianMicros.toFixed(2)} | ${r.targetMicros ?? ''} |`);
  const hlsBaselineRatio = rows[3].medianMicros / rows[0].medianMicros;
  console.log(`\nhls-parser parse+stringify costs ${hlsBaselineRatio.toFixed(1)}x the full line-based rewrite.`);
  const byName = (name: string): number => rows.find((r) => r.name.startsWith(name))?.medianMicros ?? Number.NaN;
  const sessionSteeringRatio = byName('session steering alone') / byName('baseline: rankPathways');
  console.log(`session steering (query + decision + memory) costs ${sessionSteeringRatio.toFixed(1)}x ranking the pathways alone.`);
  console.log(`\nrouting snapshot, 200 countries x 10 pathways: ${snapshotBytes} bytes per copy (${(snapshotBytes / 1024).toFixed(1)} KB of DynamoDB's 400 KB), ${Math.ceil(snapshotBytes / 4096) / 2} read units per eventually consistent GetItem, ${ROUTING_SNAPSHOT_SHARDS} copies.`);
  console.log('| requests/s per container, 200 countries | requests in 1 min | snapshot reads in 1 min (target ≤ 12) |');
  console.log('| ---: | ---: | ---: |');
  for (const f of readFigures) console.log(`| ${f.requestsPerSecond} | ${f.requests} | ${f.reads} |`);
  console.log(
    JSON.stringify({
      bench: 'steering',
      routingSnapshotBytes: snapshotBytes,
      readsPerContainerMinute: Object.fromEntries(readFigures.map((f) => [f.requestsPerSecond, f.reads])),
      node: process.version,
      results: Object.fromEntries(rows.map((r) => [r.name, Number(r.medianMicros.toFixed(3))])),
      hlsParserBaselineRatio: Number(hlsBaselineRatio.toFixed(2)),
      sessionSteeringToRankRatio: Number(sessionSteeringRatio.toFixed(2)),
      targetsMet: rows.every((r) => r.targetMicros === undefined || r.medianMicros <= r.targetMicros) && readFigures.every((f) => f.reads <= 12),
    }),
  );
}

await main();
