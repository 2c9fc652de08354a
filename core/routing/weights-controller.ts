/**
 * The routing-weights controller: QoE scoring of pathways, run for every scope on every tick
 * (docs/routing.md).
 *
 * Per scope (each country with data, plus the global scope "*") and per tick:
 *   1. sum the rollups of two windows: the last 60 s (fresh) and the last few whole minutes, late and
 *      skewed records included (recent) (core/routing/rollup-windows.ts);
 *   2. compare every pathway with a quorum of sessions with every other one in the same place: only
 *      differences beyond the confidence bounds of both cost anything (core/routing/pathway-cost.ts,
 *      ADR 0063); small countries also borrow the figures of pools of countries of their region and of
 *      the world, which can demote but never re-admit against local evidence (ADR 0065);
 *   3. apply costs: demotions beyond a dead band (significant error spikes at once), promotions only after
 *      the reversal hold of a demotion for cause, borrowed figures never lifting a local failure, which
 *      stays at or below the probe share until the scope's own evidence clears it;
 *   4. turn applied costs into target shares `∝ exp(-sharpness × cost)`, with an exploration floor,
 *      per-pathway capacity caps and 0 for disabled pathways (core/routing/share-allocation.ts);
 *   5. move the published shares toward the target with an EWMA step (fast for demotion, slow for
 *      promotion, immediate for a spike).
 * Steps 3–5 are `decideScope` (core/routing/scope-decision.ts). The controller state that must survive
 * between ticks is returned as `control` and stored next to the weights (core/routing/controller-state.ts).
 */
import type { QoeRollup } from '../qoe-types';
import { GLOBAL_SCOPE, type PathwayEntry } from '../routing-types';
import { DEFAULT_SCORING_PARAMS, type ScoringParams } from './scoring-params';
import { poolCells, quorumUnits, summariseRollups, type CellWindows, type ScoredRollup } from './rollup-windows';
import { measureScope, type MeasuredCost } from './pathway-cost';
import type { ScopeState } from './controller-state';
import { decideScope, type ScopeDecision } from './scope-decision';
import { regionOf, WORLD_POOL } from './country-regions';

export interface RoutingWeightsInput {
  readonly pathways: readonly PathwayEntry[];
  /** Rollups of the window; distinct session counts (ADR 0054) are used when present. */
  readonly rollups: Iterable<QoeRollup | ScoredRollup>;
  readonly previous: ReadonlyMap<string, ScopeState>;
  /** Epoch ms of this evaluation. */
  readonly now: number;
  readonly params?: Partial<ScoringParams>;
}

/** Computes every scope: the global scope "*" and each country with data in the window. */
export function computeRoutingWeights(input: RoutingWeightsInput): ScopeDecision[] {
  const params: ScoringParams = { ...DEFAULT_SCORING_PARAMS, ...input.params };
  const summary = summariseRollups(input.rollups, input.now, params);
  const countries = [...summary.keys()].filter((s) => s !== GLOBAL_SCOPE).sort();
  const local = new Map(countries.map((c) => [c, measureScope(summary.get(c), params)]));
  const borrowed = borrowedEvidence(summary, local, input.previous, params);

  const telemetry = (scope: string) => [...(summary.get(scope)?.values() ?? [])].some((cell) => quorumUnits(cell.recent, params) > 0);
  const decide = (scope: string, measured: ReadonlyMap<string, MeasuredCost>) =>
    decideScope({ scope, pathways: input.pathways, measured, telemetry: telemetry(scope), previous: input.previous.get(scope), now: input.now, params });
  return [
    decide(GLOBAL_SCOPE, measureScope(summary.get(GLOBAL_SCOPE), params)),
    ...countries.map((country) => decide(country, withBorrowed(local.get(country)!, borrowed(country)))),
  ];
}

/**
 * Evidence a small country borrows (ADR 0065). A country is *small* when its cells hold on average fewer
 * than `borrowBelowQuorums` quorums: too few sessions to see a brownout, or anything at all on a pathway
 * with no quorum there. Pools sum the cells of every country of a region (continent), and of the world,
 * except countries whose own comparison finds any pathway significantly worse, or that still hold a local
 * failure: a one-country outage stays in its country, and each pool compares pathways over the same set of
 * countries. A small country's
 * borrowed figure for a pathway is the worse of its region pool's and the world pool's.
 */
function borrowedEvidence(
  summary: ReadonlyMap<string, ReadonlyMap<string, CellWindows>>,
  local: ReadonlyMap<string, ReadonlyMap<string, MeasuredCost>>,
  previous: ReadonlyMap<string, ScopeState>,
  params: ScoringParams,
): (country: string) => Map<string, MeasuredCost> {
  // Significantly worse now, or still under a local failure its players have left (their probes keep failing).
  const flagged = new Set(
    [...local]
      .filter(
        ([country, measured]) =>
          [...measured.values()].some((m) => m.cost > params.costDeadband) ||
          Object.values(previous.get(country)?.control ?? {}).some((c) => c?.localFailure === true),
      )
      .map(([c]) => c),
  );
  const members = new Map<string, string[]>([[WORLD_POOL, []]]);
  for (const country of local.keys()) {
    if (flagged.has(country)) continue;
    members.get(WORLD_POOL)!.push(country);
    const region = regionOf(country);
    if (region !== undefined) members.set(region, [...(members.get(region) ?? []), country]);
  }
  const measuredPools = new Map<string, Map<string, MeasuredCost>>();
  const pool = (name: string): Map<string, MeasuredCost> => {
    let measured = measuredPools.get(name);
    if (!measured) measuredPools.set(name, (measured = measureScope(poolCells((members.get(name) ?? []).map((c) => summary.get(c)!)), params)));
    return measured;
  };
  const small = (country: string): boolean => {
    const cells = [...(summary.get(country)?.values() ?? [])];
    const units = cells.reduce((sum, cell) => sum + quorumUnits(cell.recent, params), 0) / Math.max(1, cells.length);
    return units < params.borrowBelowQuorums;
  };
  return (country) => {
    const result = new Map<string, MeasuredCost>();
    if (!small(country)) return result;
    const region = regionOf(country);
    for (const name of region === undefined ? [WORLD_POOL] : [region, WORLD_POOL]) {
      for (const [pathway, m] of pool(name)) {
        const before = result.get(pathway);
        if (!before || m.cost > before.cost) result.set(pathway, { ...m, borrowedFrom: { pool: name, samples: m.samples } });
      }
    }
    return result;
  };
}

/**
 * A pathway's evidence in a small country: its own figures, unless borrowed ones show it worse (borrowing
 * can only demote; decideScope keeps it from lifting a local failure).
 */
function withBorrowed(own: ReadonlyMap<string, MeasuredCost>, borrowed: ReadonlyMap<string, MeasuredCost>): Map<string, MeasuredCost> {
  const result = new Map(own);
  for (const [pathway, m] of borrowed) {
    const mine = own.get(pathway);
    if (!mine || m.cost > mine.cost) result.set(pathway, m);
  }
  return result;
}
