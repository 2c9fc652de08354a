/**
 * QoE scoring of pathways and the routing-weights controller (DESIGN.md §6 "routing-weights").
 *
 * Per scope (each country with data, plus the global scope "*") and per tick:
 *   1. measure each pathway's *cost* from the recent rollups: excess error rate, time-based rebuffering
 *      ratio, startup time / throughput / TTFB relative to the best pathway of the scope;
 *   2. pass the measured cost through a dead band to get the *applied* cost, except for error spikes,
 *      which apply at once;
 *   3. turn applied costs into target shares `∝ exp(-sharpness × cost)`, with an exploration floor,
 *      per-pathway capacity caps and 0 for disabled pathways;
 *   4. move the published shares toward the target with an EWMA step (fast for demotion, slow for
 *      promotion, immediate for a spike);
 *   5. hold any share that would reverse direction sooner than `reversalHoldSeconds` after its last
 *      turn (spikes exempt), so steady noise cannot make weights oscillate.
 * The controller state that must survive between ticks (applied cost, last share direction and
 * when it turned) is returned as `control` and stored next to the weights. Design and defaults: docs/routing.md and
 * docs/adr/0060-routing-weights-controller.md.
 */
import { COUNTER_NAMES, emptyCounters, MINUTE_MS, minuteStartOf } from './qoe-aggregate';
import type { QoeCounters, QoeRollup } from './qoe-types';
import { GLOBAL_SCOPE, type PathwayEntry } from './routing-types';
import { isRoutingCountry } from './identifiers';

/** Re-exported for callers that build rollups next to the scorer (one definition, core/qoe-aggregate.ts). */
export { emptyCounters };

/** The tunables of the controller, one place, with the defaults of {@link DEFAULT_SCORING_PARAMS}. */
export interface ScoringParams {
  /** Minutes of rollups in the "recent" window, the current partial minute included. */
  readonly windowMinutes: number;
  /** Requests + player reports a cell needs in a window before its figures are trusted. */
  readonly minSamples: number;
  /** Measurements (startups, throughput or TTFB values) a mean needs before it is compared. */
  readonly minMeasurements: number;
  /** Playing + stalled milliseconds a cell needs before its rebuffering ratio is used. */
  readonly minPlayMs: number;
  /** Error rate any CDN has on a normal day; only the excess costs anything. */
  readonly errorRateTolerated: number;
  /** Excess error rate that costs one unit (one unit ≈ the pathway gets 1/20 of a healthy share). */
  readonly errorRateUnit: number;
  /** Error rate whose lower confidence bound triggers immediate demotion (no smoothing, no hold). */
  readonly errorSpikeRate: number;
  /** z of the Wilson lower bound used for the spike test: small cells cannot trigger a spike by chance. */
  readonly spikeConfidenceZ: number;
  readonly rebufferTolerated: number;
  /** Excess rebuffering ratio that costs one unit. */
  readonly rebufferUnit: number;
  /** Relative differences below this many doublings (log2) are noise and cost nothing. */
  readonly relativeDeadband: number;
  /** Cost per doubling of mean startup time over the scope's best pathway. */
  readonly startupWeight: number;
  /** Cost per halving of mean throughput under the scope's best pathway. */
  readonly throughputWeight: number;
  /** Cost per doubling of mean TTFB over the scope's best pathway. */
  readonly ttfbWeight: number;
  /** TTFBs below this are treated as equal: 15 ms vs 30 ms is not a doubling a viewer notices. */
  readonly ttfbFloorMs: number;
  /** Upper bound of a pathway's cost, so a dead pathway's figure is finite and comparable. */
  readonly maxCost: number;
  /** Share multiplier per unit of cost is `exp(-sharpness)`; ln 20 gives 1/20 per unit. */
  readonly sharpness: number;
  /** A measured cost must differ from the applied one by more than this to be applied (anti-flap). */
  readonly costDeadband: number;
  /** After a pathway's cost moved one way, a move the other way waits this long (spikes excepted). */
  readonly reversalHoldSeconds: number;
  /** Minimum share of every enabled pathway, so a recovered CDN still gets probe traffic. */
  readonly explorationFloor: number;
  /** Seconds between ticks; the EWMA step is derived from it and the half-lives. */
  readonly evaluationIntervalSeconds: number;
  readonly demotionHalfLifeSeconds: number;
  readonly promotionHalfLifeSeconds: number;
  /** When every share is within this of its target, publish the target exactly (ends the EWMA tail). */
  readonly snapEpsilon: number;
}

export const DEFAULT_SCORING_PARAMS: ScoringParams = {
  windowMinutes: 2,
  minSamples: 100,
  minMeasurements: 20,
  minPlayMs: 5 * 60_000,
  errorRateTolerated: 0.005,
  errorRateUnit: 0.02,
  errorSpikeRate: 0.05,
  spikeConfidenceZ: 3,
  rebufferTolerated: 0.005,
  rebufferUnit: 0.02,
  relativeDeadband: 0.2,
  startupWeight: 1,
  throughputWeight: 1,
  ttfbWeight: 0.5,
  ttfbFloorMs: 40,
  maxCost: 10,
  sharpness: Math.log(20),
  costDeadband: 0.25,
  reversalHoldSeconds: 300,
  explorationFloor: 0.03,
  evaluationIntervalSeconds: 10,
  demotionHalfLifeSeconds: 10,
  promotionHalfLifeSeconds: 60,
  snapEpsilon: 0.01,
};

export type Direction = -1 | 0 | 1;

/** Hysteresis state of one pathway in one scope. */
export interface PathwayControl {
  /** The cost the target shares are computed from. */
  readonly cost: number;
  /** Direction of the pathway's last share move: +1 up, -1 down, 0 never moved. */
  readonly direction: Direction;
  /** Epoch ms when that direction last turned (start of the reversal hold). */
  readonly changedAt: number;
}

/** What a scope's previous tick left behind: its published weights and controller state. */
export interface ScopeState {
  readonly weights: Readonly<Record<string, number>>;
  readonly control: Readonly<Record<string, PathwayControl>>;
}

export interface ScopeDecision {
  readonly scope: string;
  /** Shares over every registry pathway (disabled ones 0), summing to 1, rounded to 4 decimals. */
  readonly weights: Record<string, number>;
  /** Where the weights are heading; equals `weights` once converged. */
  readonly target: Record<string, number>;
  readonly control: Record<string, PathwayControl>;
  /** Whether `weights` differ from the previous ones (or there were none): the item must be written. */
  readonly changed: boolean;
  readonly reason: string;
  /** Pathways demoted at once because of an error spike in this tick. */
  readonly spikes: readonly string[];
}

export interface RoutingWeightsInput {
  readonly pathways: readonly PathwayEntry[];
  readonly rollups: Iterable<QoeRollup>;
  readonly previous: ReadonlyMap<string, ScopeState>;
  /** Epoch ms of this evaluation. */
  readonly now: number;
  readonly params?: Partial<ScoringParams>;
}


type Component = 'errors' | 'rebuffering' | 'startup' | 'throughput' | 'ttfb';

/** The two TTFB signals (core/qoe-types.ts): as the CDN measured it and as the player measured it. */
export type TtfbSignal = 'edge' | 'player';
export type TtfbFigures = Readonly<Partial<Record<TtfbSignal, number>>>;
const TTFB_SIGNALS: readonly TtfbSignal[] = ['edge', 'player'];

/** A pathway's measured cost in one window, with what it is made of (for the reason text). */
export interface MeasuredCost {
  readonly cost: number;
  readonly components: Readonly<Record<Component, number>>;
  readonly spike: boolean;
  readonly samples: number;
  readonly errorRate: number | undefined;
  readonly errorDenominator: number;
  readonly rebufferRatio: number | undefined;
  readonly playMs: number;
  readonly startupMs: number | undefined;
  readonly throughputKbps: number | undefined;
  /** Mean TTFB per signal; each is compared only with the same signal of the scope's other pathways. */
  readonly ttfbMs: TtfbFigures;
  readonly best: { readonly startupMs?: number; readonly throughputKbps?: number; readonly ttfbMs: TtfbFigures };
  /** Set when the scope's own cell had too few samples and the global figure was used. */
  readonly fallbackFrom?: { readonly scope: string; readonly samples: number };
}

/**
 * Rollups come from DynamoDB, where an item written by an older aggregator (or by hand) may lack a
 * counter; a missing or non-numeric counter counts as 0 rather than turning the sums into NaN.
 */
function addInto(into: QoeCounters, from: QoeCounters): void {
  for (const field of COUNTER_NAMES) into[field] += Number(from[field]) || 0;
}

/** Counters of one pathway in one scope, for the current minute alone and for the whole recent window. */
interface CellWindows {
  readonly current: QoeCounters;
  readonly recent: QoeCounters;
}

/**
 * Sums the rollups into scope → pathway → windows. Rollups older than the window, or from the future
 * (clock skew), are ignored; unknown-country rollups count only toward the global scope.
 */
export function summariseRollups(
  rollups: Iterable<QoeRollup>,
  now: number,
  windowMinutes: number,
): Map<string, Map<string, CellWindows>> {
  const currentMinute = minuteStartOf(now);
  const oldest = currentMinute - (windowMinutes - 1) * MINUTE_MS;
  const scopes = new Map<string, Map<string, CellWindows>>();
  const cellOf = (scope: string, pathway: string): CellWindows => {
    let byPathway = scopes.get(scope);
    if (!byPathway) scopes.set(scope, (byPathway = new Map()));
    let cell = byPathway.get(pathway);
    if (!cell) byPathway.set(pathway, (cell = { current: emptyCounters(), recent: emptyCounters() }));
    return cell;
  };
  for (const rollup of rollups) {
    if (rollup.minute < oldest || rollup.minute > currentMinute) continue;
    const targets = [cellOf(GLOBAL_SCOPE, rollup.pathway)];
    if (isRoutingCountry(rollup.country)) targets.push(cellOf(rollup.country, rollup.pathway));
    for (const cell of targets) {
      addInto(cell.recent, rollup);
      if (rollup.minute === currentMinute) addInto(cell.current, rollup);
    }
  }
  return scopes;
}

const sampleCount = (c: QoeCounters): number => c.requests + c.reports;
const mean = (sum: number, count: number, min: number): number | undefined => (count >= min && count > 0 ? sum / count : undefined);

/** Wilson score interval lower bound: robust for small counts and rates near 0 or 1. */
export function wilsonLowerBound(successes: number, trials: number, z: number): number {
  if (trials <= 0) return 0;
  const p = Math.min(1, successes / trials);
  const z2 = z * z;
  const centre = p + z2 / (2 * trials);
  const margin = z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
  return Math.max(0, (centre - margin) / (1 + z2 / trials));
}

/**
 * Costs of every trusted pathway of one scope in one window. Player fatal errors are included in
 * `errors` by the aggregator; the denominator is the CDN request count, or the report count when a
 * pathway has no CDN logs (an external CDN, or a CloudFront distribution that is unreachable).
 */
export function measureWindow(counters: ReadonlyMap<string, QoeCounters>, p: ScoringParams): Map<string, MeasuredCost> {
  const trusted = [...counters].filter(([, c]) => sampleCount(c) >= p.minSamples);
  const startups = new Map(trusted.map(([id, c]) => [id, mean(c.startupMsSum, c.startupCount, p.minMeasurements)]));
  const throughputs = new Map(trusted.map(([id, c]) => [id, mean(c.throughputKbpsSum, c.throughputCount, p.minMeasurements)]));
  const ttfbs = new Map(
    trusted.map(([id, c]): [string, TtfbFigures] => [
      id,
      definedFields({ edge: mean(c.edgeTtfbMsSum, c.edgeTtfbCount, p.minMeasurements), player: mean(c.playerTtfbMsSum, c.playerTtfbCount, p.minMeasurements) }),
    ]),
  );
  const defined = (m: Map<string, number | undefined>): number[] => [...m.values()].filter((v): v is number => v !== undefined);
  const best = {
    startupMs: minOf(defined(startups)),
    throughputKbps: maxOf(defined(throughputs)),
    ttfbMs: definedFields(
      Object.fromEntries(TTFB_SIGNALS.map((signal) => [signal, minOf(defined(new Map([...ttfbs].map(([id, t]) => [id, t[signal]]))))])) as TtfbFigures,
    ),
  };
  const doublings = (worse: number | undefined, better: number | undefined): number =>
    worse === undefined || better === undefined || better <= 0 ? 0 : Math.max(0, Math.log2(worse / better) - p.relativeDeadband);

  const result = new Map<string, MeasuredCost>();
  for (const [id, c] of trusted) {
    const errorDenominator = Math.max(c.requests, c.reports);
    const errorRate = errorDenominator > 0 ? Math.min(1, c.errors / errorDenominator) : undefined;
    const played = c.playMs + c.stallMs;
    const rebufferRatio = played >= p.minPlayMs && played > 0 ? c.stallMs / played : undefined;
    const startupMs = startups.get(id);
    const throughputKbps = throughputs.get(id);
    const ttfbMs = ttfbs.get(id)!;
    const components: Record<Component, number> = {
      errors: errorRate === undefined ? 0 : Math.max(0, errorRate - p.errorRateTolerated) / p.errorRateUnit,
      rebuffering: rebufferRatio === undefined ? 0 : Math.max(0, rebufferRatio - p.rebufferTolerated) / p.rebufferUnit,
      startup: doublings(startupMs, best.startupMs) * p.startupWeight,
      throughput: doublings(best.throughputKbps, throughputKbps) * p.throughputWeight,
      // Like with like: a pathway's player TTFB against the best player TTFB, its edge TTFB against the
      // best edge TTFB; the worse of the two counts.
      ttfb:
        Math.max(
          0,
          ...TTFB_SIGNALS.map((signal) => {
            const own = ttfbMs[signal];
            const bestOfSignal = best.ttfbMs[signal];
            return own === undefined || bestOfSignal === undefined ? 0 : doublings(Math.max(own, p.ttfbFloorMs), Math.max(bestOfSignal, p.ttfbFloorMs));
          }),
        ) * p.ttfbWeight,
    };
    const total = Object.values(components).reduce((a, b) => a + b, 0);
    result.set(id, {
      cost: Math.min(p.maxCost, total),
      components,
      spike: errorRate !== undefined && wilsonLowerBound(c.errors, errorDenominator, p.spikeConfidenceZ) >= p.errorSpikeRate,
      samples: sampleCount(c),
      errorRate,
      errorDenominator,
      rebufferRatio,
      playMs: played,
      startupMs,
      throughputKbps,
      ttfbMs,
      best,
    });
  }
  return result;
}

/** The object without its undefined fields (so figures compare and serialise cleanly). */
function definedFields<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

const minOf = (values: number[]): number | undefined => (values.length ? Math.min(...values) : undefined);
const maxOf = (values: number[]): number | undefined => (values.length ? Math.max(...values) : undefined);

/**
 * The measured cost of each pathway of one scope: the worse of "current minute" and "recent window".
 * The recent window alone would dilute a degradation that started seconds ago with a minute of
 * healthy data; the current minute alone is too thin at the start of a minute. Taking the worse of
 * the two (each only when trusted) demotes fast and promotes only once both windows are clean.
 */
function measureScope(cells: ReadonlyMap<string, CellWindows> | undefined, p: ScoringParams): Map<string, MeasuredCost> {
  if (!cells) return new Map();
  const current = measureWindow(new Map([...cells].map(([id, w]) => [id, w.current])), p);
  const recent = measureWindow(new Map([...cells].map(([id, w]) => [id, w.recent])), p);
  const result = new Map<string, MeasuredCost>();
  for (const id of new Set([...current.keys(), ...recent.keys()])) {
    const a = current.get(id);
    const b = recent.get(id);
    const worse = !a ? b! : !b ? a : a.cost >= b.cost ? a : b;
    result.set(id, { ...worse, spike: Boolean(a?.spike || b?.spike) });
  }
  return result;
}

/** The exploration floor and the caps as per-pathway bounds; disabled pathways are pinned to 0. */
function boundsOf(pathways: readonly PathwayEntry[], p: ScoringParams): Map<string, { lo: number; hi: number }> {
  const enabled = pathways.filter((e) => e.enabled);
  const floor = enabled.length ? Math.min(p.explorationFloor, 1 / enabled.length) : 0;
  return new Map(
    pathways.map((e) => {
      const hi = e.enabled ? Math.min(1, Math.max(0, e.cap)) : 0;
      return [e.id, { lo: Math.min(floor, hi), hi }];
    }),
  );
}

/**
 * Shares proportional to `raw`, each clamped to its [lo, hi], summing to `total` ("water filling"):
 * find λ with Σ clamp(λ·raw_i, lo_i, hi_i) = total by bisection (the sum is monotone in λ). When the
 * caps cannot hold the total (Σhi < total) the caps are scaled up proportionally: a capped CDN
 * overloaded is still better than no CDN at all.
 */
export function fillShares(
  raw: ReadonlyMap<string, number>,
  bounds: ReadonlyMap<string, { lo: number; hi: number }>,
  total = 1,
): Map<string, number> {
  const ids = [...raw.keys()];
  const lo = (id: string) => bounds.get(id)?.lo ?? 0;
  const hi = (id: string) => bounds.get(id)?.hi ?? 1;
  const his = ids.reduce((s, id) => s + hi(id), 0);
  const los = ids.reduce((s, id) => s + lo(id), 0);
  if (his <= 0) return new Map(ids.map((id) => [id, 0]));
  if (his <= total) return new Map(ids.map((id) => [id, (hi(id) / his) * total]));
  if (los >= total) return new Map(ids.map((id) => [id, (lo(id) / los) * total]));
  const at = (lambda: number) => new Map(ids.map((id) => [id, Math.min(hi(id), Math.max(lo(id), lambda * Math.max(0, raw.get(id)!)))]));
  const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  let low = 0;
  let high = 1;
  while (sum(at(high)) < total && high < 1e300) high *= 2;
  for (let i = 0; i < 200; i++) {
    const mid = (low + high) / 2;
    if (sum(at(mid)) < total) low = mid;
    else high = mid;
  }
  const shares = at(high);
  const s = sum(shares);
  return new Map([...shares].map(([id, v]) => [id, (v / s) * total]));
}

/** Rounds to 4 decimals and puts the rounding residue on the largest share so the sum stays 1. */
function roundShares(shares: ReadonlyMap<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  let largest: string | undefined;
  let sum = 0;
  for (const [id, v] of shares) {
    out[id] = Math.round(v * 10_000) / 10_000;
    sum += out[id];
    if (largest === undefined || out[id] > out[largest]) largest = id;
  }
  if (largest !== undefined && sum > 0) out[largest] = Math.round((out[largest] + 1 - sum) * 10_000) / 10_000;
  return out;
}

const NO_CONTROL: PathwayControl = { cost: 0, direction: 0, changedAt: 0 };

/** Computes one scope. `global` is the global scope's measured costs, the fallback for thin cells. */
export function decideScope(args: {
  readonly scope: string;
  readonly pathways: readonly PathwayEntry[];
  readonly measured: ReadonlyMap<string, MeasuredCost>;
  readonly global: ReadonlyMap<string, MeasuredCost>;
  readonly scopeSamples: ReadonlyMap<string, number>;
  readonly previous: ScopeState | undefined;
  readonly now: number;
  readonly params: ScoringParams;
}): ScopeDecision {
  const { scope, pathways, now, params: p } = args;
  const where = scope === GLOBAL_SCOPE ? 'globally' : `in ${scope}`;
  const ids = pathways.map((e) => e.id);
  const enabled = new Map(pathways.map((e) => [e.id, e.enabled]));

  // 1. measured cost per pathway, with the global fallback for thin cells.
  const measured = new Map<string, MeasuredCost>();
  for (const id of ids) {
    const own = args.measured.get(id);
    const global = scope === GLOBAL_SCOPE ? undefined : args.global.get(id);
    if (own) measured.set(id, own);
    else if (global) measured.set(id, { ...global, fallbackFrom: { scope, samples: args.scopeSamples.get(id) ?? 0 } });
  }

  // 2. hysteresis on costs: a dead band against noise; an error spike applies at once.
  const costs = new Map<string, number>();
  const spikes: string[] = [];
  const costChanged = new Map<string, Direction>();
  for (const id of ids) {
    const prevCost = args.previous?.control[id]?.cost ?? 0;
    const m = measured.get(id);
    costs.set(id, prevCost);
    if (!m || !enabled.get(id)) continue;
    const delta = m.cost - prevCost;
    if (m.spike && delta > 0) spikes.push(id);
    else if (Math.abs(delta) <= p.costDeadband) continue;
    costs.set(id, m.cost);
    costChanged.set(id, delta > 0 ? 1 : -1);
  }

  // 3. target shares.
  const bounds = boundsOf(pathways, p);
  const target = fillShares(new Map(ids.map((id) => [id, Math.exp(-p.sharpness * costs.get(id)!)])), bounds);

  const prevShares = previousShares(args.previous, ids);
  const anyData = measured.size > 0;
  if (!prevShares) {
    const weights = roundShares(target);
    const control = Object.fromEntries(ids.map((id) => [id, { cost: costs.get(id)!, direction: 0 as Direction, changedAt: 0 }]));
    return {
      scope,
      weights,
      target: weights,
      control,
      changed: true,
      spikes,
      reason: anyData
        ? `initial weights ${where} from ${describeAll(ids, measured)}: ${formatShares(weights)}`
        : `no trusted QoE data ${where}; equal shares within caps: ${formatShares(weights)}`,
    };
  }
  const prevControl = (id: string): PathwayControl => args.previous?.control[id] ?? NO_CONTROL;
  if (!anyData) {
    const weights = roundShares(prevShares);
    const control = Object.fromEntries(ids.map((id) => [id, prevControl(id)]));
    return { scope, weights, target: weights, control, changed: false, spikes, reason: explainSteady({ where, held: [], anyData }) };
  }

  // 4. EWMA step from the previous shares: immediate for a spike or a cap/enable change, fast while a
  // pathway is being demoted for its own figures, slow otherwise (promotion, rebalancing).
  const outOfBounds = (id: string) => prevShares.get(id)! > bounds.get(id)!.hi + 1e-9 || prevShares.get(id)! < bounds.get(id)!.lo - 1e-4;
  const forced = ids.filter(outOfBounds);
  const demoting = ids.some((id) => costs.get(id)! > 0 && target.get(id)! < prevShares.get(id)! - p.snapEpsilon);
  const alpha =
    spikes.length > 0 || forced.length > 0
      ? 1
      : 1 - 2 ** (-p.evaluationIntervalSeconds / (demoting ? p.demotionHalfLifeSeconds : p.promotionHalfLifeSeconds));
  let next = new Map(ids.map((id) => [id, prevShares.get(id)! + alpha * (target.get(id)! - prevShares.get(id)!)]));
  if (ids.every((id) => Math.abs(target.get(id)! - next.get(id)!) < p.snapEpsilon)) next = new Map(target);

  // 5. Reversal hold: a share that would turn around within `reversalHoldSeconds` of its last turn
  // keeps its value and the others share the rest. Spiking and out-of-bounds pathways are exempt:
  // safety before stability.
  const exempt = new Set([...spikes, ...forced]);
  const held = new Set<string>();
  const directionOf = (id: string, shares: ReadonlyMap<string, number>): Direction => {
    const d = shares.get(id)! - prevShares.get(id)!;
    return Math.abs(d) < 5e-5 ? 0 : d > 0 ? 1 : -1;
  };
  const wouldReverse = (id: string, shares: ReadonlyMap<string, number>): boolean => {
    const prev = prevControl(id);
    const d = directionOf(id, shares);
    return !exempt.has(id) && d !== 0 && prev.direction !== 0 && d !== prev.direction && now - prev.changedAt < p.reversalHoldSeconds * 1000;
  };
  for (let round = 0; round < ids.length; round++) {
    const newlyHeld = ids.filter((id) => !held.has(id) && wouldReverse(id, next));
    if (newlyHeld.length === 0) break;
    newlyHeld.forEach((id) => held.add(id));
    const free = ids.filter((id) => !held.has(id));
    const heldMass = [...held].reduce((sum, id) => sum + prevShares.get(id)!, 0);
    const refilled = free.length ? fillShares(new Map(free.map((id) => [id, next.get(id)!])), bounds, 1 - heldMass) : new Map<string, number>();
    next = new Map(ids.map((id) => [id, held.has(id) ? prevShares.get(id)! : refilled.get(id)!]));
  }
  if (ids.every((id) => held.has(id) || directionOf(id, next) === 0) && held.size > 0) next = new Map(prevShares);

  const weights = roundShares(next);
  const previousRounded = roundShares(prevShares);
  const changed = ids.some((id) => weights[id] !== previousRounded[id]);
  const control: Record<string, PathwayControl> = {};
  for (const id of ids) {
    const prev = prevControl(id);
    const d: Direction = weights[id] === previousRounded[id] ? 0 : weights[id] > previousRounded[id] ? 1 : -1;
    const turned = d !== 0 && d !== prev.direction;
    control[id] = { cost: costs.get(id)!, direction: d === 0 ? prev.direction : d, changedAt: turned ? now : prev.changedAt };
  }
  const targetRounded = roundShares(target);
  return {
    scope,
    weights,
    target: targetRounded,
    control,
    changed,
    spikes,
    reason: changed
      ? explainChange({ ids, where, measured, costs, costChanged, prev: previousRounded, next: weights, target: targetRounded })
      : explainSteady({ where, held: [...held], anyData }),
  };
}

function previousShares(previous: ScopeState | undefined, ids: readonly string[]): Map<string, number> | undefined {
  if (!previous) return undefined;
  const values = ids.map((id) => {
    const v = previous.weights[id];
    return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0;
  });
  const sum = values.reduce((a, b) => a + b, 0);
  if (sum <= 0) return undefined;
  return new Map(ids.map((id, i) => [id, values[i] / sum]));
}

/** Computes every scope: the global scope "*" and each country with data in the window. */
export function computeRoutingWeights(input: RoutingWeightsInput): ScopeDecision[] {
  const params: ScoringParams = { ...DEFAULT_SCORING_PARAMS, ...input.params };
  const summary = summariseRollups(input.rollups, input.now, params.windowMinutes);
  const global = measureScope(summary.get(GLOBAL_SCOPE), params);
  const scopes = [GLOBAL_SCOPE, ...[...summary.keys()].filter((s) => s !== GLOBAL_SCOPE).sort()];
  return scopes.map((scope) => {
    const cells = summary.get(scope);
    const scopeSamples = new Map([...(cells ?? new Map<string, CellWindows>())].map(([id, w]) => [id, sampleCount(w.recent)]));
    return decideScope({
      scope,
      pathways: input.pathways,
      measured: scope === GLOBAL_SCOPE ? global : measureScope(cells, params),
      global,
      scopeSamples,
      previous: input.previous.get(scope),
      now: input.now,
      params,
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Reason text: what an operator reads next to the weights ("why did DE move off cf-b?").

const count = (n: number): string => Math.round(n).toLocaleString('en-US');
const share = (n: number): string => n.toFixed(2);
const percent = (r: number): string => `${(r * 100).toFixed(r < 0.1 ? 1 : 0)}%`;

function formatShares(weights: Readonly<Record<string, number>>): string {
  return Object.entries(weights)
    .map(([id, w]) => `${id} ${share(w)}`)
    .join(', ');
}

const fallbackNote = (m: MeasuredCost): string =>
  m.fallbackFrom ? ` (global figures: only ${count(m.fallbackFrom.samples)} samples in ${m.fallbackFrom.scope})` : '';

/** The figure behind a pathway's cost, naming its largest component. */
export function describeCost(m: MeasuredCost): string {
  const [top, value] = (Object.entries(m.components) as [Component, number][]).reduce((a, b) => (b[1] > a[1] ? b : a));
  const errorText =
    m.errorRate === undefined ? `${count(m.samples)} samples` : `error rate ${percent(m.errorRate)} over ${count(m.errorDenominator)} requests`;
  if (value <= 0) return `${errorText}`;
  switch (top) {
    case 'errors':
      return `${errorText}`;
    case 'rebuffering':
      return `rebuffering ${percent(m.rebufferRatio ?? 0)} of ${count(m.playMs / 60_000)} min played`;
    case 'startup':
      return `startup ${((m.startupMs ?? 0) / 1000).toFixed(1)} s vs best ${((m.best.startupMs ?? 0) / 1000).toFixed(1)} s`;
    case 'throughput':
      return `throughput ${count(m.throughputKbps ?? 0)} kbps vs best ${count(m.best.throughputKbps ?? 0)} kbps`;
    case 'ttfb': {
      // The signal that set the cost: the one furthest above its own best.
      const ratio = (signal: TtfbSignal) => (m.ttfbMs[signal] ?? 0) / Math.max(1, m.best.ttfbMs[signal] ?? Infinity);
      const signal = TTFB_SIGNALS.reduce((a, b) => (ratio(b) > ratio(a) ? b : a));
      return `${signal} TTFB ${count(m.ttfbMs[signal] ?? 0)} ms vs best ${count(m.best.ttfbMs[signal] ?? 0)} ms`;
    }
  }
}

function describeAll(ids: readonly string[], measured: ReadonlyMap<string, MeasuredCost>): string {
  return ids
    .filter((id) => measured.has(id))
    .map((id) => `${id} ${describeCost(measured.get(id)!)}${fallbackNote(measured.get(id)!)}`)
    .join('; ');
}

function explainChange(a: {
  ids: readonly string[];
  where: string;
  measured: ReadonlyMap<string, MeasuredCost>;
  costs: ReadonlyMap<string, number>;
  costChanged: ReadonlyMap<string, Direction>;
  prev: Readonly<Record<string, number>>;
  next: Readonly<Record<string, number>>;
  target: Readonly<Record<string, number>>;
}): string {
  const moves = a.ids
    .map((id) => ({ id, from: a.prev[id] ?? 0, to: a.next[id] ?? 0, target: a.target[id] ?? 0 }))
    .filter((m) => m.from !== m.to)
    .sort((x, y) => Math.abs(y.to - y.from) - Math.abs(x.to - x.from) || (x.id < y.id ? -1 : 1));
  // The pathways whose own figures moved are the cause; the others are rebalanced around them.
  const causes = moves.filter((m) => a.costChanged.has(m.id) || (m.to < m.from && a.costs.get(m.id)! > 0));
  const shown = causes.length ? causes : moves.slice(0, 1);
  const parts = shown.map((m) => {
    const verb = m.to < m.from ? 'demoted' : 'promoted';
    const heading = m.to === m.target ? '' : ` (target ${share(m.target)})`;
    const figures = a.measured.get(m.id);
    const why = !figures
      ? 'no recent samples'
      : a.costChanged.get(m.id) === -1 || (m.to > m.from && a.costs.get(m.id) === 0 && a.costChanged.has(m.id))
        ? `recovered, ${describeCost(figures)}`
        : describeCost(figures);
    return `${m.id} ${why} ${a.where}${figures ? fallbackNote(figures) : ''}; ${verb} ${share(m.from)} → ${share(m.to)}${heading}`;
  });
  const others = moves.filter((m) => !shown.includes(m));
  if (others.length) parts.push(`rebalanced ${others.map((m) => `${m.id} ${share(m.from)} → ${share(m.to)}`).join(', ')}`);
  return parts.join('; ');
}

function explainSteady(a: { where: string; held: readonly string[]; anyData: boolean }): string {
  if (!a.anyData) return `no trusted QoE data ${a.where}; holding the last weights`;
  if (a.held.length) return `${a.held.join(', ')} changed direction too recently ${a.where}; holding`;
  return `no significant change ${a.where}`;
}
