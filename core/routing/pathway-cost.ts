/**
 * A pathway's *cost* in one scope: one scalar in "units" (one unit ≈ the pathway gets 1/20 of a healthy
 * share), built only from **significant differences from its peers in the same place** (ADR 0063): for
 * each component the pathway is compared with every other pathway that has a quorum in the same window,
 * and only the part of the difference beyond both confidence bounds (and a dead band) costs anything.
 * Equal degradation of every pathway therefore costs nothing, and noise stays inside the intervals.
 * Why the two TTFB signals are compared separately: ADR 0053.
 */
import type { ScoringParams } from './scoring-params';
import { hasQuorum, sampleCount, WINDOW_NAMES, type CellWindows, type WindowCounters, type WindowName } from './rollup-windows';

export type CostComponent = 'errors' | 'rebuffering' | 'startup' | 'throughput' | 'ttfb';

/** The two TTFB signals (core/qoe-types.ts): as the CDN measured it and as the player measured it. */
export type TtfbSignal = 'edge' | 'player';
export type TtfbFigures = Readonly<Partial<Record<TtfbSignal, number>>>;
export const TTFB_SIGNALS: readonly TtfbSignal[] = ['edge', 'player'];

/** What the error and rebuffering rates are counted over: distinct sessions when rollups carry them. */
export type RateUnit = 'sessions' | 'requests';

/** A pathway's measured cost in one window, with what it is made of (for the reason text). */
export interface MeasuredCost {
  /** The cost the pathway is worse by at least (lower confidence bounds): demotes. */
  readonly cost: number;
  /**
   * The cost it may be worse by at most (upper confidence bounds): a demoted pathway is promoted only down
   * to this, so re-admission needs evidence of health, not merely no evidence of failure.
   */
  readonly ceiling: number;
  readonly components: Readonly<Record<CostComponent, number>>;
  /** A significant error excess of at least `errorSpikeRate`: applied at once. */
  readonly spike: boolean;
  /** Sessions (or requests + reports) behind the figures. */
  readonly samples: number;
  readonly rateUnit: RateUnit;
  readonly errorRate: number | undefined;
  readonly errorDenominator: number;
  /** Stalled time over played time. */
  readonly rebufferRatio: number | undefined;
  /** What rebuffering was compared on: sessions that stalled over sessions, or the time ratio. */
  readonly stallRate: number | undefined;
  readonly playMs: number;
  readonly startupMs: number | undefined;
  readonly throughputKbps: number | undefined;
  /** Mean TTFB per signal; each is compared only with the same signal of the scope's other pathways. */
  readonly ttfbMs: TtfbFigures;
  /** The peer figures the largest significant difference was measured against. */
  readonly best: { readonly errorRate?: number; readonly stallRate?: number; readonly startupMs?: number; readonly throughputKbps?: number; readonly ttfbMs: TtfbFigures };
  /** Which window set the cost. */
  readonly window: WindowName;
  /** Set when the figures are a pool's (ADR 0065), borrowed by a small country. */
  readonly borrowedFrom?: { readonly pool: string; readonly samples: number };
}

/** Wilson score interval lower bound: robust for small counts and rates near 0 or 1. */
export function wilsonLowerBound(successes: number, trials: number, z: number): number {
  return wilsonBounds(successes, trials, z)[0];
}

/** Wilson score interval upper bound. */
export function wilsonUpperBound(successes: number, trials: number, z: number): number {
  return wilsonBounds(successes, trials, z)[1];
}

function wilsonBounds(successes: number, trials: number, z: number): [number, number] {
  if (trials <= 0) return [0, 1];
  const p = Math.min(1, Math.max(0, successes / trials));
  const z2 = z * z;
  const centre = p + z2 / (2 * trials);
  const margin = z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
  const denominator = 1 + z2 / trials;
  return [Math.max(0, (centre - margin) / denominator), Math.min(1, (centre + margin) / denominator)];
}

/** A mean with the number of independent units behind it (sessions, or measurements without session counts). */
interface Mean {
  readonly value: number;
  readonly n: number;
}

function meanOf(sum: number, count: number, c: WindowCounters, p: ScoringParams): Mean | undefined {
  if (count < p.minMeasurements - 1e-9 || count <= 0) return undefined;
  // Measurements of one session are not independent: n is its sessions, or — for rollups without
  // distinct counts — its player reports as the nearest stand-in (CDN-only cells: the measurements).
  const n = c.sessions > 0 ? Math.min(count, c.sessions) : c.reports > 0 ? Math.min(count, c.reports) : count;
  return { value: sum / count, n };
}

/**
 * Significant doublings of `worse` over `better` beyond the dead band: the log ratio minus z standard
 * errors (an assumed per-session spread over √n on each side) minus `relativeDeadband`; 0 when not worse.
 */
function significantDoublings(worse: Mean, better: Mean, p: ScoringParams, floor = 0): { lower: number; upper: number } {
  const a = Math.max(worse.value, floor);
  const b = Math.max(better.value, floor);
  if (a <= 0 || b <= 0) return { lower: 0, upper: 0 };
  const se = p.relativeSpread * Math.sqrt(1 / worse.n + 1 / better.n);
  const d = Math.log2(a / b);
  return { lower: Math.max(0, d - p.confidenceZ * se - p.relativeDeadband), upper: Math.max(0, d + p.healthConfidenceZ * se - p.relativeDeadband) };
}

interface Rate {
  readonly failures: number;
  readonly trials: number;
}

/** Errors over sessions (a session that saw any error) when counted, else over the larger volume. */
function errorRateOf(c: WindowCounters, unit: RateUnit): Rate {
  return unit === 'sessions' ? { failures: Math.min(c.errorSessions, c.sessions), trials: c.sessions } : { failures: c.errors, trials: Math.max(c.requests, c.reports) };
}

/** The CDN's own failures: 5xx lines of its real-time logs over its logged requests (nothing a viewer can claim). */
function cdnErrorRateOf(c: WindowCounters): Rate | undefined {
  return c.requests > 0 ? { failures: Math.min(c.errors, c.requests), trials: c.requests } : undefined;
}

/** Sessions that stalled over sessions; without session counts the time-based ratio over played minutes. */
function rebufferRateOf(c: WindowCounters, unit: RateUnit, p: ScoringParams): Rate | undefined {
  if (unit === 'sessions') return { failures: Math.min(c.stallSessions, c.sessions), trials: c.sessions };
  const played = c.playMs + c.stallMs;
  if (played < p.minPlayMs || played <= 0) return undefined;
  const minutes = played / 60_000;
  return { failures: (c.stallMs / played) * minutes, trials: minutes };
}

/**
 * Significant excess of `own` over the most confidently good peer: own lower bound − lowest peer upper
 * bound. `discount` failures of `own` are set aside first (the sessions whose claims are not trusted).
 */
function significantExcess(own: Rate, peers: readonly Rate[], p: ScoringParams, discount = 0): { excess: number; ceiling: number; reference?: number; rate: Rate } {
  if (peers.length === 0) return { excess: 0, ceiling: 0, rate: own };
  const trusted = Math.max(0, own.failures - discount);
  const lower = wilsonLowerBound(trusted, own.trials, p.confidenceZ);
  const upper = wilsonUpperBound(trusted, own.trials, p.healthConfidenceZ);
  const bounds = peers.map((r) => ({ upper: wilsonUpperBound(r.failures, r.trials, p.confidenceZ), lower: wilsonLowerBound(r.failures, r.trials, p.healthConfidenceZ), rate: r.failures / r.trials }));
  const best = bounds.reduce((a, b) => (b.upper < a.upper ? b : a));
  // excess: what the pathway is worse by at least (z = confidenceZ); ceiling: at most (z = healthConfidenceZ).
  return { excess: Math.max(0, lower - best.upper), ceiling: Math.max(0, upper - best.lower), reference: best.rate, rate: own };
}

/** The larger of two significant excesses (each with the rate it was measured on). */
const larger = <T extends { excess: number; ceiling: number }>(a: T, b: T | undefined): T =>
  b && b.excess > a.excess ? { ...b, ceiling: Math.max(a.ceiling, b.ceiling) } : b ? { ...a, ceiling: Math.max(a.ceiling, b.ceiling) } : a;

/**
 * Costs of every pathway with a quorum in one window, each compared with the other pathways with a quorum
 * in the same window. A pathway without any peer to compare with costs nothing: a difference needs two.
 */
export function measureWindow(counters: ReadonlyMap<string, WindowCounters>, p: ScoringParams, window: WindowName = 'recent'): Map<string, MeasuredCost> {
  const trusted = [...counters].filter(([, c]) => hasQuorum(c, p));
  const unit: RateUnit = trusted.length > 0 && trusted.every(([, c]) => c.sessions > 0) ? 'sessions' : 'requests';
  const figures = new Map(
    trusted.map(([id, c]) => [
      id,
      {
        c,
        errors: errorRateOf(c, unit),
        cdnErrors: cdnErrorRateOf(c),
        rebuffer: rebufferRateOf(c, unit, p),
        startup: meanOf(c.startupMsSum, c.startupCount, c, p),
        throughput: meanOf(c.throughputKbpsSum, c.throughputCount, c, p),
        ttfb: { edge: meanOf(c.edgeTtfbMsSum, c.edgeTtfbCount, c, p), player: meanOf(c.playerTtfbMsSum, c.playerTtfbCount, c, p) },
      },
    ]),
  );

  // Errors first, against every peer. The other components are compared only with peers without a
  // significant error excess: a dead CDN whose sessions leave before they report a stall or a slow segment
  // must not make the pathways they fail over to look worse than it.
  // Over sessions, `untrustedSessionsPerMinute` error sessions per minute of the window are set aside: a few
  // viewers can claim any failure. The CDN's own 5xx count is compared too, undiscounted: no viewer forges it.
  const discount = unit === 'sessions' ? p.untrustedSessionsPerMinute * windowMinutesOf(window, p) : 0;
  const errorsOf = new Map(
    [...figures].map(([id, own]) => {
      const others = [...figures].filter(([peer]) => peer !== id).map(([, f]) => f);
      const claimed = significantExcess(own.errors, others.map((f) => f.errors), p, discount);
      const cdnPeers = others.flatMap((f) => (f.cdnErrors ? [f.cdnErrors] : []));
      const logged = unit === 'sessions' && own.cdnErrors ? significantExcess(own.cdnErrors, cdnPeers, p) : undefined;
      return [id, { ...larger(claimed, logged), unit: logged && logged.excess > claimed.excess ? ('requests' as const) : unit }];
    }),
  );
  const failing = (id: string) => Math.max(0, errorsOf.get(id)!.excess - p.errorRateTolerated) > 0;

  const result = new Map<string, MeasuredCost>();
  // A pathway without a peer with a quorum has nothing to be compared with: no verdict at all.
  if (figures.size < 2) return result;
  for (const [id, own] of figures) {
    const peers = [...figures].filter(([peer]) => peer !== id && !failing(peer)).map(([, f]) => f);
    const errors = errorsOf.get(id)!;
    const rebuffer = own.rebuffer
      ? significantExcess(own.rebuffer, peers.flatMap((f) => (f.rebuffer ? [f.rebuffer] : [])), p, discount)
      : { excess: 0, ceiling: 0, reference: undefined };
    // The relative components: the largest significant difference from any one peer.
    const worstAgainst = (pick: (f: (typeof peers)[number]) => Mean | undefined, ownMean: Mean | undefined, higherIsBetter: boolean, floor = 0) => {
      const others = peers.map(pick).filter((m): m is Mean => m !== undefined);
      if (!ownMean || others.length === 0) return { doublings: 0, ceiling: 0, reference: undefined };
      const scored = others.map((other) => {
        const d = higherIsBetter ? significantDoublings(other, ownMean, p, floor) : significantDoublings(ownMean, other, p, floor);
        return { doublings: d.lower, ceiling: d.upper, reference: other.value };
      });
      // The peer behind the largest significant difference; without one, the best peer (for the reason text).
      const best = scored.reduce((a, b) => ((higherIsBetter ? b.reference > a.reference : b.reference < a.reference) ? b : a));
      const worst = scored.reduce((a, b) => (b.doublings > a.doublings ? b : a), best);
      return { ...worst, ceiling: Math.max(...scored.map((x) => x.ceiling)) };
    };
    const startup = worstAgainst((f) => f.startup, own.startup, false);
    const throughput = worstAgainst((f) => f.throughput, own.throughput, true);
    const ttfbBySignal = Object.fromEntries(
      TTFB_SIGNALS.map((signal) => [signal, worstAgainst((f) => f.ttfb[signal], own.ttfb[signal], false, p.ttfbFloorMs)]),
    ) as Record<TtfbSignal, { doublings: number; ceiling: number; reference: number | undefined }>;

    const components: Record<CostComponent, number> = {
      errors: Math.max(0, errors.excess - p.errorRateTolerated) / p.errorRateUnit,
      rebuffering: Math.max(0, rebuffer.excess - p.rebufferTolerated) / p.rebufferUnit,
      startup: startup.doublings * p.startupWeight,
      throughput: throughput.doublings * p.throughputWeight,
      // Like with like: player TTFB against the peers' player TTFB, edge against edge; the worse counts.
      ttfb: Math.max(...TTFB_SIGNALS.map((signal) => ttfbBySignal[signal].doublings * (signal === 'edge' ? p.ttfbWeight : p.playerTtfbWeight))),
    };
    const total = Object.values(components).reduce((a, b) => a + b, 0);
    // A rate may be up to one unit worse than the tolerance and still count as healthy for re-admission:
    // proving a session-level rate within 0.5 % would take thousands of probe sessions.
    const ceiling =
      Math.max(0, errors.ceiling - p.errorRateTolerated - p.errorRateUnit) / p.errorRateUnit +
      // Without session counts the time ratio has no meaningful n (minutes played are not independent
      // trials), so its ceiling is its estimate.
      Math.max(0, (unit === 'sessions' ? rebuffer.ceiling - p.rebufferUnit : rebuffer.excess) - p.rebufferTolerated) / p.rebufferUnit +
      startup.ceiling * p.startupWeight +
      throughput.ceiling * p.throughputWeight +
      Math.max(...TTFB_SIGNALS.map((signal) => ttfbBySignal[signal].ceiling * (signal === 'edge' ? p.ttfbWeight : p.playerTtfbWeight)));
    const played = own.c.playMs + own.c.stallMs;
    result.set(id, {
      cost: Math.min(p.maxCost, total),
      ceiling: Math.min(p.maxCost, Math.max(total, ceiling)),
      components,
      spike: errors.excess >= p.errorSpikeRate,
      samples: unit === 'sessions' ? own.c.sessions : sampleCount(own.c),
      rateUnit: errors.unit,
      errorRate: errors.rate.trials > 0 ? errors.rate.failures / errors.rate.trials : undefined,
      errorDenominator: errors.rate.trials,
      rebufferRatio: played > 0 ? own.c.stallMs / played : undefined,
      stallRate: own.rebuffer && own.rebuffer.trials > 0 ? own.rebuffer.failures / own.rebuffer.trials : undefined,
      playMs: played,
      startupMs: own.startup?.value,
      throughputKbps: own.throughput?.value,
      ttfbMs: definedFields({ edge: own.ttfb.edge?.value, player: own.ttfb.player?.value }),
      best: {
        ...definedFields({ errorRate: errors.reference, stallRate: rebuffer.reference, startupMs: startup.reference, throughputKbps: throughput.reference }),
        ttfbMs: definedFields({ edge: ttfbBySignal.edge.reference, player: ttfbBySignal.player.reference }),
      },
      window,
    });
  }
  return result;
}

/** Minutes of traffic a window covers, for the per-minute discount of untrusted sessions. */
function windowMinutesOf(window: WindowName, p: ScoringParams): number {
  return window === 'fresh' ? p.freshSeconds / 60 : Math.max(1, p.windowMinutes);
}

/** The object without its undefined fields (so figures compare and serialise cleanly). */
function definedFields<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * The measured cost of each pathway of one scope: the worse of the fresh and the recent window, each
 * only where the pathway has a quorum, and the larger ceiling. The fresh window demotes within a minute of
 * a fault; the recent window still counts late and skewed records, and keeps a healed pathway's failure in
 * view until its minutes have left the window (re-admission rests on evidence that covers them, ADR 0064).
 */
export function measureScope(cells: ReadonlyMap<string, CellWindows> | undefined, p: ScoringParams): Map<string, MeasuredCost> {
  if (!cells) return new Map();
  const [fresh, recent] = WINDOW_NAMES.map((window) => measureWindow(new Map([...cells].map(([id, w]) => [id, w[window]])), p, window));
  const result = new Map<string, MeasuredCost>();
  for (const id of new Set([...fresh.keys(), ...recent.keys()])) {
    const candidates = [fresh.get(id), recent.get(id)].filter((m): m is MeasuredCost => m !== undefined);
    const worse = candidates.reduce((a, b) => (b.cost > a.cost ? b : a));
    // Both windows must be confident of health before a pathway is promoted: the recent one still holds
    // records that arrived late, which the fresh one cannot see.
    const ceiling = Math.max(...candidates.map((m) => m.ceiling));
    result.set(id, { ...worse, ceiling, spike: candidates.some((m) => m.spike) });
  }
  return result;
}
