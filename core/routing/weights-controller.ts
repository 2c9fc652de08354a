/**
 * The routing-weights controller: QoE scoring of pathways, run for every scope on every tick
 * (docs/routing.md).
 *
 * Per scope (each country with data, plus the global scope "*") and per tick:
 *   1. measure each pathway's *cost* from the recent rollups: excess error rate, time-based rebuffering
 *      ratio, startup time / throughput / TTFB relative to the best pathway of the scope
 *      (core/routing/rollup-windows.ts, core/routing/pathway-cost.ts);
 *   2. pass the measured cost through a dead band to get the *applied* cost, except for error spikes,
 *      which apply at once;
 *   3. turn applied costs into target shares `∝ exp(-sharpness × cost)`, with an exploration floor,
 *      per-pathway capacity caps and 0 for disabled pathways (core/routing/share-allocation.ts);
 *   4. move the published shares toward the target with an EWMA step (fast for demotion, slow for
 *      promotion, immediate for a spike);
 *   5. hold any share that would reverse direction sooner than `reversalHoldSeconds` after its last
 *      turn (spikes exempt), so steady noise cannot make weights oscillate.
 * Steps 2–5 are `decideScope` (core/routing/scope-decision.ts). The controller state that must survive
 * between ticks (applied cost, last share direction and when it turned) is returned as `control` and
 * stored next to the weights (core/routing/controller-state.ts). Design and defaults: docs/routing.md and
 * docs/adr/0060-routing-weights-controller.md.
 */
import type { QoeRollup } from '../qoe-types';
import { GLOBAL_SCOPE, type PathwayEntry } from '../routing-types';
import { DEFAULT_SCORING_PARAMS, type ScoringParams } from './scoring-params';
import { sampleCount, summariseRollups, type CellWindows } from './rollup-windows';
import { measureScope } from './pathway-cost';
import type { ScopeState } from './controller-state';
import { decideScope, type ScopeDecision } from './scope-decision';

export interface RoutingWeightsInput {
  readonly pathways: readonly PathwayEntry[];
  readonly rollups: Iterable<QoeRollup>;
  readonly previous: ReadonlyMap<string, ScopeState>;
  /** Epoch ms of this evaluation. */
  readonly now: number;
  readonly params?: Partial<ScoringParams>;
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
