/**
 * The reaction simulation's world (bench/reaction-sim.ts): synthetic viewers on three CDNs in three
 * countries, driven by a virtual clock in 1 s steps, with the platform's real delays between a CDN
 * degrading and a player moving away from it:
 *
 *   request ─► telemetry buffer ─(Kinesis batch window)─► aggregateSamples ─► rollups
 *   rollups ─(weights tick)─► computeRoutingWeights ─► routing table
 *   routing table ─(edge cache)─► steering: rankPathways(sid, weights) ─(steering TTL)─► player
 *
 * The real code runs at the three integration points: `aggregateSamples` (core/qoe-aggregate.ts),
 * `computeRoutingWeights` (core/routing/weights-controller.ts) and `rankPathways` (core/rendezvous.ts). Everything
 * else (player behaviour, CDN faults) is a model, described next to each constant.
 */
import type { QoeRollup, QoeSample } from '../../core/qoe-types';
import { aggregateSamples } from '../../core/qoe-aggregate';
import { computeRoutingWeights } from '../../core/routing/weights-controller';
import type { ScopeState } from '../../core/routing/controller-state';
import type { ScoringParams } from '../../core/routing/scoring-params';
import { rankPathways } from '../../core/rendezvous';
import { GLOBAL_SCOPE, type PathwayEntry } from '../../core/routing-types';
import { seededRandom } from '../../test/support/seeded-random';

export const PATHWAYS = ['cf-a', 'cf-b', 'cf-c'] as const;
export const COUNTRIES = { DE: 400, US: 600, BR: 300 } as const;
export type Country = keyof typeof COUNTRIES;

/** How steering decisions reach players. */
export type Strategy = 'adaptive' | 'static-equal' | 'dns-60s';

export interface Delays {
  /** Kinesis event source batching window: samples reach the rollups at most this late. */
  readonly kinesisBatchSeconds: number;
  /** Seconds between routing-weights evaluations (TICK_SECONDS). */
  readonly weightsTickSeconds: number;
  /** The steering edge function's routing-table cache. */
  readonly edgeCacheSeconds: number;
  /** Content steering TTL: players re-fetch the steering manifest this often. */
  readonly steeringTtlSeconds: number;
  /** DNS-style comparison: resolver cache TTL; clients re-resolve this often. */
  readonly dnsTtlSeconds: number;
}

export const DEFAULT_DELAYS: Delays = {
  kinesisBatchSeconds: 5,
  weightsTickSeconds: 10,
  edgeCacheSeconds: 5,
  steeringTtlSeconds: 10,
  dnsTtlSeconds: 60,
};

/** Health of one pathway in one country at one instant; the scenario sets it. */
export interface CdnHealth {
  readonly errorRate: number;
  readonly throughputFactor: number;
  readonly down: boolean;
}
export const HEALTHY: CdnHealth = { errorRate: 0.002, throughputFactor: 1, down: false };

export interface Decision {
  readonly t: number;
  readonly country: Country;
  readonly pathway: string;
}

const SEGMENT_SECONDS = 4;
const BITRATE_KBPS = 3000;
/** Mean session length; arrivals keep each country's concurrency at its COUNTRIES figure. */
const MEAN_SESSION_SECONDS = 600;
const REPORT_SECONDS = 10;
/** hls.js penalises a failed pathway for 300 s (docs/architecture.md#toolchain-and-stand-in-quirks). */
const PENALTY_SECONDS = 300;
/** Per-session throughput a healthy CDN delivers; the client's own access link caps it too. */
const CDN_KBPS = 9000;
const RESOLVERS_PER_COUNTRY = 20;


interface Session {
  readonly sid: string;
  readonly country: Country;
  readonly accessKbps: number;
  readonly resolver: number;
  readonly endsAt: number;
  pathway: string;
  priority: string[];
  nextSegmentAt: number;
  nextSteerAt: number;
  nextReportAt: number;
  startupMs: number | undefined;
  stallMs: number;
  penalisedUntil: Map<string, number>;
}

export interface WorldOptions {
  readonly strategy: Strategy;
  readonly seed: number;
  readonly delays?: Partial<Delays>;
  readonly params?: Partial<ScoringParams>;
  /** Health of a pathway in a country at time t (seconds since start). */
  readonly health: (t: number, pathway: string, country: Country) => CdnHealth;
}

export interface WorldResult {
  readonly decisions: readonly Decision[];
  /** Published weights per scope after every tick that changed them: [t, weights]. */
  readonly weightsHistory: ReadonlyMap<string, readonly (readonly [number, Readonly<Record<string, number>>])[]>;
  readonly requests: number;
  readonly failedRequests: number;
  /** Requests and failures per second since start, for error-exposure windows. */
  readonly failuresAt: (from: number, to: number) => { requests: number; failed: number };
}

export function runWorld(options: WorldOptions, durationSeconds: number): WorldResult {
  const delays = { ...DEFAULT_DELAYS, ...options.delays };
  const random = seededRandom(options.seed);
  const registry: PathwayEntry[] = PATHWAYS.map((id) => ({ id, host: `${id}.example.net`, enabled: true, cap: 1 }));
  const equal = Object.fromEntries(PATHWAYS.map((p) => [p, 1 / PATHWAYS.length]));
  const epoch = Date.UTC(2026, 10, 24, 12, 0, 0);
  const ms = (t: number) => epoch + t * 1000;

  // Routing table (scope -> state) as written by routing-weights, and the edge's cached copy of it.
  const table = new Map<string, ScopeState>();
  const history = new Map<string, [number, Record<string, number>][]>();
  let edgeCache = new Map<string, Readonly<Record<string, number>>>();
  let edgeCachedAt = Number.NEGATIVE_INFINITY;
  const weightsFor = (country: Country): Readonly<Record<string, number>> =>
    options.strategy === 'static-equal' ? equal : (edgeCache.get(country) ?? edgeCache.get(GLOBAL_SCOPE) ?? equal);

  // Telemetry: samples waiting in the stream, and the rollups table (minute/cell -> rollup).
  let stream: QoeSample[] = [];
  const rollups = new Map<string, QoeRollup>();

  const resolverAnswers = new Map<string, { pathway: string; until: number }>();
  const decisions: Decision[] = [];
  const perSecond: { requests: number; failed: number }[] = [];
  let sessions: Session[] = [];
  let counter = 0;

  const lognormal = (sigma: number) => Math.exp(sigma * gaussian(random));
  const decide = (s: Session, t: number): void => {
    if (options.strategy === 'dns-60s') {
      const key = `${s.country}/${s.resolver}`;
      let answer = resolverAnswers.get(key);
      if (!answer || answer.until <= t) {
        answer = { pathway: weightedPick(weightsFor(s.country), random), until: t + delays.dnsTtlSeconds };
        resolverAnswers.set(key, answer);
      }
      s.priority = [answer.pathway];
      s.pathway = answer.pathway;
      s.nextSteerAt = t + delays.dnsTtlSeconds;
    } else {
      s.priority = rankPathways(s.sid, weightsFor(s.country));
      s.pathway = s.priority.find((p) => (s.penalisedUntil.get(p) ?? 0) <= t) ?? s.priority[0];
      s.nextSteerAt = t + delays.steeringTtlSeconds;
    }
    decisions.push({ t, country: s.country, pathway: s.priority[0] });
  };
  const spawn = (country: Country, t: number, age = 0): Session => {
    const s: Session = {
      sid: `${country.toLowerCase()}-${(counter++).toString(36)}`,
      country,
      accessKbps: 12_000 * lognormal(0.35),
      resolver: Math.floor(random() * RESOLVERS_PER_COUNTRY),
      endsAt: t + -Math.log(1 - random()) * MEAN_SESSION_SECONDS - age,
      pathway: PATHWAYS[0],
      priority: [],
      nextSegmentAt: t + random() * SEGMENT_SECONDS,
      nextSteerAt: t,
      nextReportAt: t + REPORT_SECONDS * random(),
      startupMs: age > 0 ? 0 : undefined,
      stallMs: 0,
      penalisedUntil: new Map(),
    };
    decide(s, t);
    return s;
  };

  const request = (s: Session, t: number, second: { requests: number; failed: number }): boolean => {
    const h = options.health(t, s.pathway, s.country);
    const failed = h.down || random() < h.errorRate;
    const throughputKbps = Math.min(s.accessKbps, CDN_KBPS * h.throughputFactor * lognormal(0.25));
    const ttfbMs = 60 * lognormal(0.3);
    second.requests++;
    if (failed) second.failed++;
    stream.push({
      ts: ms(t),
      source: 'cdn-log',
      pathway: s.pathway,
      country: s.country,
      sid: s.sid,
      status: failed ? 503 : 200,
      ttfbMs: failed ? undefined : ttfbMs,
      bytes: failed ? 0 : (BITRATE_KBPS * 1000 * SEGMENT_SECONDS) / 8,
      throughputKbps: failed ? undefined : throughputKbps,
    });
    if (!failed) {
      const downloadMs = (BITRATE_KBPS * SEGMENT_SECONDS * 1000) / throughputKbps + ttfbMs;
      if (s.startupMs === undefined) s.startupMs = 300 + downloadMs;
      // A segment that takes longer than its duration to arrive drains the buffer: that is a stall.
      else s.stallMs += Math.max(0, downloadMs - SEGMENT_SECONDS * 1000 * 0.9);
    }
    return !failed;
  };

  for (const [country, n] of Object.entries(COUNTRIES) as [Country, number][]) {
    for (let i = 0; i < n; i++) sessions.push(spawn(country, 0, random() * MEAN_SESSION_SECONDS));
  }

  for (let t = 0; t < durationSeconds; t++) {
    const second = { requests: 0, failed: 0 };
    perSecond.push(second);

    // Sessions end and arrive (Poisson arrivals at the rate that keeps concurrency steady).
    sessions = sessions.filter((s) => s.endsAt > t);
    for (const [country, n] of Object.entries(COUNTRIES) as [Country, number][]) {
      const arrivals = poisson(n / MEAN_SESSION_SECONDS, random);
      for (let i = 0; i < arrivals; i++) sessions.push(spawn(country, t));
    }

    // The edge refreshes its routing-table cache when it is older than its TTL.
    if (t - edgeCachedAt >= delays.edgeCacheSeconds) {
      edgeCache = new Map([...table].map(([scope, state]) => [scope, state.weights]));
      edgeCachedAt = t;
    }

    for (const s of sessions) {
      if (s.nextSteerAt <= t) decide(s, t);
      if (s.nextSegmentAt <= t) {
        s.nextSegmentAt = t + SEGMENT_SECONDS;
        // hls.js retries a failed fragment once on the same pathway, then penalises the pathway and
        // moves to the next one the steering manifest lists (a DNS client has nowhere to go).
        if (!request(s, t, second) && !request(s, t, second)) {
          s.stallMs += 2000;
          if (options.strategy !== 'dns-60s') {
            s.penalisedUntil.set(s.pathway, t + PENALTY_SECONDS);
            const next = s.priority.find((p) => (s.penalisedUntil.get(p) ?? 0) <= t);
            if (next) s.pathway = next;
          }
        }
      }
      if (s.nextReportAt <= t) {
        s.nextReportAt = t + REPORT_SECONDS;
        stream.push({
          ts: ms(t),
          source: 'cmcd',
          pathway: s.pathway,
          country: s.country,
          sid: s.sid,
          playMs: Math.max(0, REPORT_SECONDS * 1000 - s.stallMs),
          stallMs: Math.min(s.stallMs, REPORT_SECONDS * 1000),
          startupMs: s.startupMs && s.startupMs > 0 ? s.startupMs : undefined,
        });
        if (s.startupMs) s.startupMs = 0;
        s.stallMs = 0;
      }
    }

    // The aggregator's batch window: everything buffered so far lands in the rollups table.
    if (t % delays.kinesisBatchSeconds === 0 && stream.length) {
      aggregateSamples(stream, rollups);
      stream = [];
    }

    if (options.strategy !== 'static-equal' && t % delays.weightsTickSeconds === 0) {
      const now = ms(t);
      const oldest = Math.floor(now / 60_000) * 60_000 - 60_000;
      const recent = [...rollups.values()].filter((r) => r.minute >= oldest);
      for (const d of computeRoutingWeights({ pathways: registry, rollups: recent, previous: table, now, params: { evaluationIntervalSeconds: delays.weightsTickSeconds, ...options.params } })) {
        if (!d.changed) {
          const prev = table.get(d.scope);
          if (prev) table.set(d.scope, { weights: prev.weights, control: d.control });
          continue;
        }
        table.set(d.scope, { weights: d.weights, control: d.control });
        if (!history.has(d.scope)) history.set(d.scope, []);
        history.get(d.scope)!.push([t, d.weights]);
      }
    }
  }

  const totals = perSecond.reduce((a, s) => ({ requests: a.requests + s.requests, failed: a.failed + s.failed }), { requests: 0, failed: 0 });
  return {
    decisions,
    weightsHistory: history,
    requests: totals.requests,
    failedRequests: totals.failed,
    failuresAt: (from, to) =>
      perSecond.slice(from, to).reduce((a, s) => ({ requests: a.requests + s.requests, failed: a.failed + s.failed }), { requests: 0, failed: 0 }),
  };
}

function gaussian(random: () => number): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function poisson(lambda: number, random: () => number): number {
  let k = 0;
  let p = Math.exp(-lambda);
  let cdf = p;
  const u = random();
  while (u > cdf && k < 1000) {
    k++;
    p *= lambda / k;
    cdf += p;
  }
  return k;
}

function weightedPick(weights: Readonly<Record<string, number>>, random: () => number): string {
  const entries = Object.entries(weights).filter(([, w]) => w > 0);
  const total = entries.reduce((s, [, w]) => s + w, 0);
  let u = random() * total;
  for (const [id, w] of entries) if ((u -= w) <= 0) return id;
  return entries[entries.length - 1][0];
}
