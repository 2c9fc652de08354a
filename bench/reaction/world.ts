/**
 * The reaction benchmark's world (bench/reaction.bench.ts, docs/benchmarks.md "Reaction of the routing
 * loop"): countries with different audiences, viewer sessions that arrive and leave, CDNs with a fault
 * timeline per country, and the platform's delays between a CDN misbehaving and a player moving away:
 *
 *   request / player report ─► ingest budget ─► stream (late records) ─► qoe-aggregator (stage-1 window)
 *     ─► partials stream ─► rollup-merger (merge window) ─► rollups
 *   rollups ─(weights tick)─► computeRoutingWeights ─► routing table ─(steering snapshot)─► rankPathways ─► player
 *
 * The real code runs at every integration point: `aggregateSamples` and `aggregateSessionEvidence`
 * (core/qoe-aggregate.ts) with `sessionCountsOf` (core/session-evidence.ts) build the rollups,
 * `computeRoutingWeights` (core/routing/) decides, `rankPathways` (core/rendezvous.ts) steers. The tables are
 * in memory. Everything else — viewers, players, CDNs, the network — is a model, each assumption stated
 * next to its constant. Deterministic: one seeded PRNG (test/support/seeded-random.ts) drives it all.
 */
import type { QoeRollup, QoeSample } from '../../core/qoe-types';
import { aggregateSamples, aggregateSessionEvidence, MINUTE_MS, minuteStartOf } from '../../core/qoe-aggregate';
import { bucketOfCountry } from '../../core/rollup-partials';
import { sessionCountsOf, type SessionBits, ThroughputEvidenceBudget } from '../../core/session-evidence';
import { SESSION_MINUTE_BUDGET } from '../../core/cmcd-report';
import { computeRoutingWeights } from '../../core/routing/weights-controller';
import type { ScopeState } from '../../core/routing/controller-state';
import type { ScopeDecision } from '../../core/routing/scope-decision';
import type { ScoringParams } from '../../core/routing/scoring-params';
import type { ScoredRollup } from '../../core/routing/rollup-windows';
import { rankPathways } from '../../core/rendezvous';
import { ROLLUP_STAGES } from '../../lib/topology';
import { GLOBAL_SCOPE, type PathwayEntry } from '../../core/routing-types';
import { seededRandom } from '../../test/support/seeded-random';

export const PATHWAYS = ['cf-a', 'cf-b', 'cf-c'] as const;
export type Pathway = (typeof PATHWAYS)[number];

/** What one CDN does in one country at one instant (the scenario's fault timeline sets it). */
export interface CdnState {
  /** Share of requests answered 5xx. */
  readonly errorRate: number;
  /** Multiplier of the throughput the CDN delivers (a brownout halves it). */
  readonly throughputFactor: number;
  /** Multiplier of time to first byte. */
  readonly ttfbFactor: number;
  /**
   * Concurrent sessions it can serve in this country before it saturates; Infinity = never. Its egress there is
   * that many sessions' worth of the rendition, and past it the sessions share it (`deliveredKbps`).
   */
  readonly capacity: number;
}
export const HEALTHY: CdnState = { errorRate: 0, throughputFactor: 1, ttfbFactor: 1, capacity: Number.POSITIVE_INFINITY };
export const DOWN: CdnState = { ...HEALTHY, errorRate: 1 };

/** A viewer that reports whatever it likes, as often as the ingest lets it (ADR 0054 bounds what counts). */
export interface HostileViewer {
  readonly country: string;
  /** The pathway it watches from and slanders: its reports are attributed to the pathway it really uses. */
  readonly pathway: Pathway;
  readonly from: number;
}

export interface WorldOptions {
  readonly seed: number;
  /** Concurrent viewers per country (the mean; arrivals and departures keep it there). */
  readonly audience: Readonly<Record<string, number>>;
  /** Seconds simulated. */
  readonly duration: number;
  readonly cdn: (t: number, pathway: Pathway, country: string) => CdnState;
  /** 'adaptive' runs the controller; 'static' keeps equal weights (the baseline of the flapping target). */
  readonly strategy?: 'adaptive' | 'static';
  readonly params?: Partial<ScoringParams>;
  /**
   * The rollup merger's batching window (`rollupMergeWindowSeconds`, ADR 0057). @default ROLLUP_STAGES.mergeWindowSeconds,
   * the platform's default
   */
  readonly mergeWindowSeconds?: number;
  /** Seconds by which CDN real-time log records reach the stream late (best-effort delivery). */
  readonly logDelaySeconds?: number;
  /** Player clocks are off by up to this many seconds either way (uniform per session). */
  readonly clockSkewSeconds?: number;
  readonly hostile?: readonly HostileViewer[];
  /** Sees every tick's decisions (for tracing a scenario by hand). */
  readonly onTick?: (t: number, decisions: readonly ScopeDecision[]) => void;
}

export interface WorldResult {
  /** The weights the steering snapshot held per scope at each refresh (a tick's weights up to one snapshot period later): scope → [t, weights][]. */
  readonly weights: ReadonlyMap<string, readonly (readonly [number, Readonly<Record<string, number>>])[]>;
  /** The weights a viewer in `country` was steered by at t (its country's item, else the global one). */
  effectiveWeight(country: string, pathway: Pathway, t: number): number;
  /** Requests and failed requests per second, per country. */
  failures(country: string | undefined, from: number, to: number): { requests: number; failed: number };
  /** New sessions per country and the pathway each was first steered to: [t, pathway]. */
  readonly arrivals: ReadonlyMap<string, readonly (readonly [number, Pathway])[]>;
  /** Concurrent sessions on a pathway in a country, per second. */
  load(country: string, pathway: Pathway, t: number): number;
  /** Seconds at which the steering snapshot was refreshed: the only instants the weights viewers see can change. */
  readonly refreshes: readonly number[];
}

/**
 * The platform's delays after the rollups (docs/routing.md): routing-weights' tick (lib/stacks: `weightsTickSeconds`),
 * the steering function's routing snapshot period (lib/constructs/steering-gateway.ts `routingCacheSeconds`), the
 * steering TTL (`steeringTtlSeconds` default). The delay to the rollups is the two stages' windows (`rollupDelay`).
 */
export const DELAYS = { tickSeconds: 10, edgeCacheSeconds: 5, steeringTtlSeconds: 10 } as const;

/**
 * When a record that lands on the telemetry stream at `landedAt` is in the rollups (ADR 0057). Stage 1's event source
 * mapping invokes qoe-aggregator at the end of its batching window; a cell's records are spread over the telemetry
 * stream's shards, each batching on its own, so a record waits a uniformly random part of that window (`stage1Draw`,
 * in [0, 1)). Its partial is put with the cell's bucket as partition key (core/rollup-partials.ts `bucketOfCountry`), so
 * all partials of a bucket sit on one partials shard and reach the rollups together, at the end of that shard's
 * merge window: the next of the bucket's merge boundaries `mergePhase + k × mergeWindowSeconds`. Handler run times and Kinesis propagation (well under a
 * second each) are left out.
 */
export function rollupWriteAt(landedAt: number, stage1Draw: number, mergePhase: number, windows: RollupWindows): number {
  const partialAt = landedAt + stage1Draw * windows.aggregatorWindowSeconds;
  if (windows.mergeWindowSeconds === 0) return partialAt;
  return mergePhase + Math.ceil((partialAt - mergePhase) / windows.mergeWindowSeconds) * windows.mergeWindowSeconds;
}
export interface RollupWindows {
  readonly aggregatorWindowSeconds: number;
  readonly mergeWindowSeconds: number;
}

/** Segment length and the one rendition every viewer plays (the model has no ABR; stalls show throughput). */
const SEGMENT_SECONDS = 4;
const BITRATE_KBPS = 3000;
/** Viewing time: log-normal, median 6 min, mean ≈ 9 min (long tail of whole-film sessions). */
const SESSION_MEDIAN_SECONDS = 360;
const SESSION_SIGMA = 0.9;
const MEAN_SESSION_SECONDS = SESSION_MEDIAN_SECONDS * Math.exp((SESSION_SIGMA * SESSION_SIGMA) / 2);
/** Player reports (CMCD `t` events) every 10 s; a failed request adds an `rr` line with its status. */
const REPORT_SECONDS = 10;
/** A failed pathway is avoided for 5 min by this session (hls.js pathway penalty). */
const PENALTY_SECONDS = 300;
/** A healthy CDN's per-session throughput before the viewer's own access link caps it. */
const CDN_KBPS = 12_000;
/** Edge TTFB of a cache hit and what the player adds (network round trips), in ms. */
const EDGE_TTFB_MS = 25;
const NETWORK_TTFB_MS = 70;
/** Client networks (ASNs) per country: viewers spread over them, a few large ones dominating. */
const NETWORKS_PER_COUNTRY = 12;
/** Seeds the merge phases' own stream (any constant: it only has to differ from the world's). */
const MERGE_PHASE_SEED_OFFSET = 0x6d65;
/** Hostile viewers send this many report lines per second (the ingest's limit is 600 per minute). */
const HOSTILE_LINES_PER_SECOND = 10;

interface Session {
  readonly sid: string;
  readonly country: string;
  readonly asn: number;
  readonly accessKbps: number;
  readonly clockSkewMs: number;
  readonly endsAt: number;
  readonly hostile: boolean;
  pathway: Pathway;
  priority: Pathway[];
  /** The weights `priority` was ranked by: ranking is pure, so an unchanged weights item keeps it. */
  rankedBy: Readonly<Record<string, number>> | undefined;
  nextSegmentAt: number;
  nextSteerAt: number;
  nextReportAt: number;
  started: boolean;
  startupMs: number | undefined;
  playMs: number;
  stallMs: number;
  /** The last failure since the previous report: the pathway that failed and its status (an `rr` line). */
  failed: { pathway: Pathway; status: number } | undefined;
  lastThroughputKbps: number | undefined;
  lastTtfbMs: number | undefined;
  penalisedUntil: Map<Pathway, number>;
}

export function runWorld(options: WorldOptions): WorldResult {
  const random = seededRandom(options.seed);
  const registry: PathwayEntry[] = PATHWAYS.map((id) => ({ id, host: `${id}.example.net`, enabled: true, cap: 1 }));
  const equal: Record<string, number> = Object.fromEntries(PATHWAYS.map((p) => [p, 1 / PATHWAYS.length]));
  const epoch = Date.UTC(2026, 11, 2, 12, 0, 0);
  const ms = (t: number) => epoch + t * 1000;
  const countries = Object.keys(options.audience);
  const logDelay = options.logDelaySeconds ?? 0;
  const skew = options.clockSkewSeconds ?? 0;
  const windows: RollupWindows = { aggregatorWindowSeconds: ROLLUP_STAGES.aggregatorWindowSeconds, mergeWindowSeconds: options.mergeWindowSeconds ?? ROLLUP_STAGES.mergeWindowSeconds };
  const params: Partial<ScoringParams> = { evaluationIntervalSeconds: DELAYS.tickSeconds, ...options.params };
  // The aggregator's per-session throughput cap (ADR 0069), one per world as one per container.
  const throughputBudget = new ThroughputEvidenceBudget();

  // The routing table (written by the controller) and the edge's cached copy of it.
  const table = new Map<string, ScopeState>();
  const history = new Map<string, [number, Record<string, number>][]>();
  let edge = new Map<string, Readonly<Record<string, number>>>();
  let edgeAt = Number.NEGATIVE_INFINITY;
  const weightsFor = (country: string) => (options.strategy === 'static' ? equal : (edge.get(country) ?? edge.get(GLOBAL_SCOPE) ?? equal));

  // Telemetry: records in flight (the second of their rollup write → samples), the rollups and their distinct-count bitmaps.
  const inFlight = new Map<number, QoeSample[]>();
  // Merge boundaries: a phase in [0, merge window) per rollup bucket (its partials shard's), from a stream of its own
  // so that two worlds of one seed (the hostile row's attacked and honest runs) batch alike.
  const phaseRandom = seededRandom(options.seed + MERGE_PHASE_SEED_OFFSET);
  const mergePhases = Array.from({ length: ROLLUP_STAGES.buckets }, () => phaseRandom() * windows.mergeWindowSeconds);
  const rollups = new Map<string, QoeRollup>();
  const bits = new Map<string, SessionBits>();
  // The ingest's per-session, per-minute evidence budget (lines and claimed time).
  const budget = new Map<string, { lines: number; ms: number }>();

  const perSecond = new Map<string, { requests: number; failed: number }[]>();
  const loadSeries = new Map<string, number[]>();
  const arrivals = new Map<string, [number, Pathway][]>(countries.map((c) => [c, []]));
  const refreshes: number[] = [];
  let sessions: Session[] = [];
  let counter = 0;

  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const lognormal = (sigma: number) => Math.exp(sigma * gaussian());
  // A few big networks and a long tail (Zipf-like), per country.
  const networkOf = (country: string) => {
    const rank = Math.min(NETWORKS_PER_COUNTRY - 1, Math.floor(NETWORKS_PER_COUNTRY * random() ** 2));
    return 64_500 + countries.indexOf(country) * 100 + rank;
  };

  const steer = (s: Session, t: number) => {
    const weights = weightsFor(s.country);
    if (weights !== s.rankedBy) {
      s.priority = rankPathways(s.sid, weights) as Pathway[];
      s.rankedBy = weights;
    }
    s.pathway = s.priority.find((p) => (s.penalisedUntil.get(p) ?? 0) <= t) ?? s.priority[0];
    s.nextSteerAt = t + DELAYS.steeringTtlSeconds;
  };
  const spawn = (country: string, t: number, age: number, hostile = false, pathway?: Pathway): Session => {
    const s: Session = {
      sid: `${country.toLowerCase()}-${(counter++).toString(36)}`,
      country,
      asn: networkOf(country),
      accessKbps: 9_000 * lognormal(0.5),
      clockSkewMs: (random() * 2 - 1) * skew * 1000,
      endsAt: hostile ? Number.POSITIVE_INFINITY : t - age + SESSION_MEDIAN_SECONDS * lognormal(SESSION_SIGMA),
      hostile,
      pathway: PATHWAYS[0],
      priority: [],
      rankedBy: undefined,
      nextSegmentAt: t + random() * SEGMENT_SECONDS,
      nextSteerAt: t,
      nextReportAt: t + random() * REPORT_SECONDS,
      started: age > 0,
      startupMs: undefined,
      playMs: 0,
      stallMs: 0,
      failed: undefined,
      lastThroughputKbps: undefined,
      lastTtfbMs: undefined,
      penalisedUntil: new Map(),
    };
    steer(s, t);
    if (pathway) s.pathway = pathway;
    if (age === 0 && !hostile) arrivals.get(country)!.push([t, s.priority[0]]);
    return s;
  };

  const emit = (sample: QoeSample, t: number) => {
    const late = sample.source === 'cdn-log' ? logDelay : 0;
    const bucket = bucketOfCountry(sample.country, ROLLUP_STAGES.buckets);
    const due = Math.ceil(rollupWriteAt(t + late, random(), mergePhases[bucket], windows));
    const batch = inFlight.get(due);
    if (batch) batch.push(sample);
    else inFlight.set(due, [sample]);
  };
  /** The ingest: a player line beyond its session's minute budget only marks the session (ADR 0054). */
  const ingest = (s: Session, sample: Omit<QoeSample, 'source' | 'ts'>, t: number) => {
    const key = `${s.sid}/${minuteStartOf(ms(t))}`;
    const used = budget.get(key) ?? { lines: 0, ms: 0 };
    budget.set(key, used);
    const claimMs = (sample.playMs ?? 0) + (sample.stallMs ?? 0);
    const overBudget = used.lines >= SESSION_MINUTE_BUDGET.lines;
    used.lines++;
    const grantedMs = Math.max(0, Math.min(claimMs, SESSION_MINUTE_BUDGET.ms - used.ms));
    used.ms += grantedMs;
    const stallMs = Math.min(sample.stallMs ?? 0, grantedMs);
    // Player clocks may be off; the sample's minute is its timestamp's (a worst case for the scorer: the
    // ingest buckets by receive time, ADR 0054, which makes skew harmless).
    emit(
      {
        ...sample,
        ...(sample.playMs !== undefined || sample.stallMs !== undefined ? { playMs: grantedMs - stallMs, stallMs } : {}),
        ...(overBudget ? { sessionOnly: true } : {}),
        source: 'cmcd',
        ts: ms(t) + s.clockSkewMs,
      },
      t,
    );
  };

  const stateOf = (t: number, pathway: Pathway, country: string, load: number): CdnState & { overload: number } => {
    const state = options.cdn(t, pathway, country);
    return { ...state, overload: Math.max(1, load / state.capacity) };
  };

  const request = (s: Session, t: number, load: Map<string, number>): boolean => {
    const state = stateOf(t, s.pathway, s.country, load.get(`${s.country}/${s.pathway}`) ?? 0);
    // A saturated CDN sheds a little (CloudFront answers 503 when an edge location lacks resources, rarely)
    // and, above all, cannot deliver more than its capacity: see `deliveredKbps`.
    const errorRate = Math.min(1, state.errorRate + (state.overload > 1 ? 0.03 * (state.overload - 1) : 0));
    const failed = random() < errorRate;
    const second = perSecond.get(s.country)![t];
    second.requests++;
    if (failed) second.failed++;
    const throughputKbps = Math.min(s.accessKbps, deliveredKbps(state.throughputFactor, state.overload, lognormal(0.3)));
    const edgeTtfb = EDGE_TTFB_MS * state.ttfbFactor * state.overload * lognormal(0.4);
    const playerTtfb = edgeTtfb + NETWORK_TTFB_MS * lognormal(0.3);
    emit(
      {
        ts: ms(t),
        source: 'cdn-log',
        pathway: s.pathway,
        country: s.country,
        asn: s.asn,
        sid: s.sid,
        status: failed ? 503 : 200,
        ...(failed ? {} : { ttfbMs: edgeTtfb, bytes: (BITRATE_KBPS * 125 * SEGMENT_SECONDS) | 0 }),
        // The CMCD `mtp` the player put on this request: its previous measurement (hostile: anything).
        ...(s.hostile ? { throughputKbps: 1, starved: true } : s.lastThroughputKbps !== undefined ? { throughputKbps: s.lastThroughputKbps } : {}),
      },
      t,
    );
    if (failed) {
      s.failed = { pathway: s.pathway, status: 503 };
      return false;
    }
    const downloadMs = (BITRATE_KBPS * SEGMENT_SECONDS * 1000) / throughputKbps + playerTtfb;
    s.lastThroughputKbps = Math.round(throughputKbps);
    s.lastTtfbMs = playerTtfb;
    if (!s.started) {
      s.started = true;
      s.startupMs = 250 + downloadMs;
    } else {
      // A segment that takes longer than its duration drains the buffer: that is a stall.
      s.stallMs += Math.max(0, downloadMs - SEGMENT_SECONDS * 1000 * 0.9);
    }
    return true;
  };

  for (const country of countries) {
    perSecond.set(country, Array.from({ length: options.duration }, () => ({ requests: 0, failed: 0 })));
    for (const p of PATHWAYS) loadSeries.set(`${country}/${p}`, new Array<number>(options.duration).fill(0));
    const n = options.audience[country];
    for (let i = 0; i < n; i++) sessions.push(spawn(country, 0, random() * MEAN_SESSION_SECONDS));
  }
  const hostileAt = new Map<HostileViewer, boolean>();

  for (let t = 0; t < options.duration; t++) {
    sessions = sessions.filter((s) => s.endsAt > t);
    for (const country of countries) {
      const n = poisson(options.audience[country] / MEAN_SESSION_SECONDS, random);
      for (let i = 0; i < n; i++) sessions.push(spawn(country, t, 0));
    }
    for (const h of options.hostile ?? []) {
      if (t >= h.from && !hostileAt.get(h)) {
        hostileAt.set(h, true);
        sessions.push(spawn(h.country, t, 0, true, h.pathway));
      }
    }

    if (t - edgeAt >= DELAYS.edgeCacheSeconds) {
      edge = new Map([...table].map(([scope, state]) => [scope, state.weights]));
      edgeAt = t;
      // What new sessions are steered by changes only here: the measurements read these, not the table.
      if (options.strategy !== 'static') {
        refreshes.push(t);
        for (const [scope, weights] of edge) {
          if (!history.has(scope)) history.set(scope, []);
          history.get(scope)!.push([t, { ...weights }]);
        }
      }
    }

    const load = new Map<string, number>();
    for (const s of sessions) load.set(`${s.country}/${s.pathway}`, (load.get(`${s.country}/${s.pathway}`) ?? 0) + 1);
    for (const [key, n] of load) {
      const series = loadSeries.get(key);
      if (series) series[t] = n;
    }

    for (const s of sessions) {
      if (s.nextSteerAt <= t && !s.hostile) steer(s, t);
      if (s.nextSegmentAt <= t) {
        s.nextSegmentAt = t + (s.hostile ? 1 : SEGMENT_SECONDS);
        // One retry on the same pathway, then the pathway is penalised and the next one in the steering
        // manifest's order is used (hls.js content steering behaviour).
        if (!request(s, t, load) && !request(s, t, load)) {
          s.stallMs += 2000;
          s.penalisedUntil.set(s.pathway, t + PENALTY_SECONDS);
          const next = s.priority.find((p) => (s.penalisedUntil.get(p) ?? 0) <= t);
          if (next && !s.hostile) s.pathway = next;
        }
      }
      if (s.hostile) {
        // Any content, as often as the rate limit allows: failures, absurd stalls, a dead-slow network.
        for (let i = 0; i < HOSTILE_LINES_PER_SECOND; i++) {
          ingest(s, { pathway: s.pathway, country: s.country, asn: s.asn, sid: s.sid, status: 503, fatalError: true, stallMs: 999_999_999, playMs: 0, starved: true, ttfbMs: 60_000, throughputKbps: 1, startupMs: 600_000 }, t);
        }
        continue;
      }
      if (s.nextReportAt <= t && s.started) {
        s.nextReportAt = t + REPORT_SECONDS;
        const base = { pathway: s.pathway, country: s.country, asn: s.asn, sid: s.sid };
        const stallMs = Math.min(s.stallMs, REPORT_SECONDS * 1000);
        ingest(s, { ...base, playMs: REPORT_SECONDS * 1000 - stallMs, stallMs, ...(stallMs > 0 ? { starved: true } : {}), ...(s.startupMs !== undefined ? { startupMs: s.startupMs } : {}) }, t);
        if (s.lastTtfbMs !== undefined) ingest(s, { ...base, status: 200, ttfbMs: s.lastTtfbMs, throughputKbps: s.lastThroughputKbps }, t);
        if (s.failed !== undefined) ingest(s, { ...base, pathway: s.failed.pathway, status: s.failed.status }, t);
        s.startupMs = undefined;
        s.stallMs = 0;
        s.failed = undefined;
      }
    }

    // The merger batches that end this second: their records land in the rollups.
    const due = inFlight.get(t);
    if (due) {
      inFlight.delete(t);
      const admitted = throughputBudget.admitAll(due).samples;
      aggregateSamples(admitted, rollups);
      aggregateSessionEvidence(admitted, bits);
    }

    if (options.strategy !== 'static' && t % DELAYS.tickSeconds === 0) {
      const now = ms(t);
      // The handler queries only the window's minutes; the controller ignores the others anyway.
      const read: ScoredRollup[] = [];
      for (const [key, rollup] of rollups) {
        const b = bits.get(key);
        read.push(b ? { ...rollup, ...sessionCountsOf(b) } : rollup);
      }
      const decisions = computeRoutingWeights({ pathways: registry, rollups: read, previous: table, now, params });
      options.onTick?.(t, decisions);
      // As the handler does: only changed scopes are written.
      for (const d of decisions) if (d.changed) table.set(d.scope, { weights: d.weights, control: d.control });
      // Old minutes leave memory once no window can read them.
      for (const [key, rollup] of rollups) {
        if (rollup.minute < minuteStartOf(now) - 30 * MINUTE_MS) {
          rollups.delete(key);
          bits.delete(key);
        }
      }
    }
  }

  const weightAt = (scope: string, t: number): Readonly<Record<string, number>> | undefined => {
    const series = history.get(scope);
    if (!series) return undefined;
    let found: Readonly<Record<string, number>> | undefined;
    for (const [at, w] of series) {
      if (at > t) break;
      found = w;
    }
    return found;
  };
  return {
    weights: history,
    effectiveWeight: (country, pathway, t) =>
      options.strategy === 'static' ? equal[pathway] : ((weightAt(country, t) ?? weightAt(GLOBAL_SCOPE, t) ?? equal)[pathway] ?? 0),
    failures(country, from, to) {
      const all = country === undefined ? countries : [country];
      let requests = 0;
      let failed = 0;
      for (const c of all) for (const s of perSecond.get(c)!.slice(from, to)) ((requests += s.requests), (failed += s.failed));
      return { requests, failed };
    },
    arrivals,
    load: (country, pathway, t) => loadSeries.get(`${country}/${pathway}`)?.[t] ?? 0,
    refreshes,
  };
}

/**
 * The throughput one request gets from a CDN (before the viewer's own access link caps it), `noise` being the
 * request's log-normal draw. Below capacity a request gets the CDN's per-connection rate: the egress serving
 * `capacity` sessions is dozens of connections wide, so one download is limited by its own connection, not by
 * the others. `capacity` sessions at the one rendition is the most the CDN delivers: `capacity × BITRATE_KBPS`
 * of egress. Above it (overload k = sessions / capacity) demand exceeds egress and the connections share it
 * (flow-level bandwidth sharing: demand above link capacity is not served, the flows in progress pile up and each
 * gets the link over their number — Ben Fredj, Bonald, Proutière, Régnié, Roberts, "Statistical bandwidth sharing:
 * a study of congestion at flow level", SIGCOMM 2001), so a session gets `BITRATE_KBPS / k` on average: less
 * than the rendition needs, and its segments take k segment durations to arrive. Until 2026-12-02 a saturated
 * CDN's rate was only divided by k (12 Mbit/s / 1.3 ≈ 9 Mbit/s, still three times the rendition): it delivered
 * k times its capacity with no stall and ~1 % retried errors, which is not saturation (ADR 0099).
 */
export function deliveredKbps(throughputFactor: number, overload: number, noise: number): number {
  const perConnection = CDN_KBPS * throughputFactor * noise;
  return overload > 1 ? Math.min(perConnection, (BITRATE_KBPS * noise) / overload) : perConnection;
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
