/**
 * A pathway's *cost* in one scope: one scalar in "units" (one unit ≈ the pathway gets 1/20 of a
 * healthy share), the sum of an absolute part (excess error rate, time-based rebuffering ratio) and a
 * part relative to the scope's best pathway (startup time, throughput, TTFB, in doublings beyond a
 * dead band), plus whether the error rate is a spike. Why cost works this way: ADR 0060; why the two
 * TTFB signals are compared separately: ADR 0053.
 */
import type { QoeCounters } from '../qoe-types';
import type { ScoringParams } from './scoring-params';
import { sampleCount, type CellWindows } from './rollup-windows';

export type CostComponent = 'errors' | 'rebuffering' | 'startup' | 'throughput' | 'ttfb';

/** The two TTFB signals (core/qoe-types.ts): as the CDN measured it and as the player measured it. */
export type TtfbSignal = 'edge' | 'player';
export type TtfbFigures = Readonly<Partial<Record<TtfbSignal, number>>>;
export const TTFB_SIGNALS: readonly TtfbSignal[] = ['edge', 'player'];

/** A pathway's measured cost in one window, with what it is made of (for the reason text). */
export interface MeasuredCost {
  readonly cost: number;
  readonly components: Readonly<Record<CostComponent, number>>;
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
    const components: Record<CostComponent, number> = {
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
export function measureScope(cells: ReadonlyMap<string, CellWindows> | undefined, p: ScoringParams): Map<string, MeasuredCost> {
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
