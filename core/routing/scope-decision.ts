/**
 * One scope's step of the routing-weights controller: from the pathways' measured costs and what the
 * previous tick left behind to the new weights. Steps 3–6 of docs/routing.md "What one tick does":
 * a dead band on cost (error spikes apply at once), target shares, an EWMA step toward them, and the
 * reversal hold. Why each exists: ADR 0060.
 */
import { GLOBAL_SCOPE, type PathwayEntry } from '../routing-types';
import type { ScoringParams } from './scoring-params';
import type { MeasuredCost } from './pathway-cost';
import { boundsOf, fillShares, roundShares } from './share-allocation';
import type { Direction, PathwayControl, ScopeState } from './controller-state';
import { describeAll, explainChange, explainSteady, formatShares } from './weights-reason';

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

const NO_CONTROL: PathwayControl = { cost: 0, direction: 0, changedAt: 0 };

/** Below this a faded cost is 0: the share is then within rounding of a healthy one. */
const NEGLIGIBLE_COST = 0.05;

/** One tick of a cost's fading without evidence (half-life `unmeasuredCostHalfLifeSeconds`). */
function decayUnmeasured(cost: number, p: ScoringParams): number {
  const faded = cost * 2 ** (-p.evaluationIntervalSeconds / p.unmeasuredCostHalfLifeSeconds);
  return faded < NEGLIGIBLE_COST ? 0 : faded;
}

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
    if (!enabled.get(id)) continue;
    if (!m) {
      // No evidence either way: the last cost fades, so the pathway earns probe traffic back.
      if (prevCost > 0) costs.set(id, decayUnmeasured(prevCost, p));
      continue;
    }
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
