/**
 * One scope's step of the routing-weights controller: from the pathways' measured costs (its own and, for
 * thin cells, borrowed ones) and what the previous tick left behind to the new weights. Steps 3–6 of
 * docs/routing.md "What one tick does". Why each rule exists: ADR 0060 (shares), ADR 0063 (significance,
 * holds for cause), ADR 0065 (local evidence first, probe share).
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
  /** Pathways demoted at once because of a significant error spike in this tick. */
  readonly spikes: readonly string[];
}

const NO_CONTROL: PathwayControl = { cost: 0, direction: 0, changedAt: 0 };

/** Below this a faded cost is 0: the share is then within rounding of a healthy one. */
const NEGLIGIBLE_COST = 0.05;

/**
 * An applied cost from the scope's own evidence at or above this (one unit: a twentieth of a healthy
 * share) marks a local failure, which caps the pathway at the probe share until local evidence clears it.
 * Smaller costs (a TTFB a little worse than a peer's) only shade the share.
 */
const LOCAL_FAILURE_COST = 1;

/** One tick of a cost's fading without evidence (half-life `unmeasuredCostHalfLifeSeconds`). */
function decayUnmeasured(cost: number, p: ScoringParams): number {
  const faded = cost * 2 ** (-p.evaluationIntervalSeconds / p.unmeasuredCostHalfLifeSeconds);
  return faded < NEGLIGIBLE_COST ? 0 : faded;
}

/**
 * Computes one scope. `measured` holds the scope's evidence; figures marked `borrowedFrom` are a pool's,
 * standing in for a pathway without a quorum of its own here (core/routing/weights-controller.ts).
 */
export function decideScope(args: {
  readonly scope: string;
  readonly pathways: readonly PathwayEntry[];
  readonly measured: ReadonlyMap<string, MeasuredCost>;
  /**
   * Whether any telemetry reached this scope in the window, even too little to compare: then a pathway
   * without evidence fades and probes; without any, nothing moves (a return-path outage).
   */
  readonly telemetry?: boolean;
  readonly previous: ScopeState | undefined;
  readonly now: number;
  readonly params: ScoringParams;
}): ScopeDecision {
  const { scope, pathways, now, params: p } = args;
  const where = scope === GLOBAL_SCOPE ? 'globally' : `in ${scope}`;
  const ids = pathways.map((e) => e.id);
  const enabled = new Map(pathways.map((e) => [e.id, e.enabled]));

  const measured = args.measured;
  const anyData = measured.size > 0;
  const live = anyData || args.telemetry === true;

  // 1–2. applied costs. Demotions apply beyond a dead band (significant error spikes at once) and are never
  // held; promotions wait out the reversal hold after a demotion for cause. Borrowed evidence can demote a
  // local failure further but never lift it; only the scope's own evidence clears it.
  const costs = new Map<string, number>();
  const localFailure = new Map<string, boolean>();
  const spikes: string[] = [];
  const costChanged = new Map<string, Direction>();
  const held: string[] = [];
  // Local failures without current evidence of failure, past their hold: sent probe traffic (ADR 0065).
  const probing = new Set<string>();
  const prevControl = (id: string): PathwayControl => args.previous?.control[id] ?? NO_CONTROL;
  for (const id of ids) {
    const prev = prevControl(id);
    const prevCost = Number.isFinite(prev.cost) ? prev.cost : 0;
    const wasLocalFailure = prev.localFailure === true;
    costs.set(id, prevCost);
    localFailure.set(id, wasLocalFailure);
    if (!enabled.get(id)) continue;
    const m = measured.get(id);
    const local = m !== undefined && m.borrowedFrom === undefined;
    const inHold = prev.direction === 1 && now - prev.changedAt < p.reversalHoldSeconds * 1000;
    if (!m) {
      // No evidence about this pathway while others are measured: the last cost fades (after the hold), so
      // the pathway earns probe traffic. With no evidence in the scope at all (a telemetry outage) nothing
      // fades: an outage of the return path must not undo a demotion.
      if (live && prevCost > 0 && !inHold) costs.set(id, decayUnmeasured(prevCost, p));
      if (live && wasLocalFailure && !inHold) probing.add(id);
      continue;
    }
    // Demote to what the pathway is worse by at least; promote only down to what it may be worse by at
    // most; in between the evidence is inconclusive and the cost fades as if unmeasured, never below the
    // lower bound (ADR 0063, ADR 0062).
    if (m.cost > prevCost && (m.spike || m.cost - prevCost > p.costDeadband)) {
      costs.set(id, m.cost);
      costChanged.set(id, 1);
      if (m.spike) spikes.push(id);
    } else if (m.ceiling < prevCost - p.costDeadband) {
      if (!local && wasLocalFailure) {
        // Another scope's health never re-admits against this scope's own evidence of failure.
        if (!inHold) costs.set(id, Math.max(m.cost, decayUnmeasured(prevCost, p)));
      } else if (inHold) held.push(id);
      else {
        // Confidently close to healthy: the estimate; otherwise no further than the evidence allows.
        costs.set(id, m.ceiling <= p.costDeadband ? m.cost : m.ceiling);
        costChanged.set(id, -1);
      }
    } else if (prevCost > m.cost && !inHold) {
      costs.set(id, Math.max(m.cost, decayUnmeasured(prevCost, p)));
    }
    if (local) {
      if (costs.get(id)! >= LOCAL_FAILURE_COST && m.cost > p.costDeadband) localFailure.set(id, true);
      else if (m.ceiling <= p.costDeadband && !held.includes(id)) localFailure.set(id, false);
    }
    if (localFailure.get(id) && !inHold && m.cost <= p.costDeadband) probing.add(id);
  }

  // 3. target shares: exp(-sharpness × cost) within [floor, cap]; a local failure no higher than the probe
  // share, and exactly the probe share while nothing shows it still failing: the fresh local evidence that
  // can re-admit it has to come from somewhere.
  const bounds = boundsOf(pathways, p);
  const targetBounds = new Map(
    [...bounds].map(([id, b]) => {
      if (!localFailure.get(id)) return [id, b];
      const probe = Math.max(b.lo, Math.min(b.hi, p.probeShare));
      return [id, { lo: probing.has(id) ? probe : b.lo, hi: probe }];
    }),
  );
  const target = fillShares(new Map(ids.map((id) => [id, Math.exp(-p.sharpness * costs.get(id)!)])), targetBounds);

  const controlOf = (id: string): PathwayControl => {
    const prev = prevControl(id);
    const d = costChanged.get(id) ?? 0;
    const turned = d === 1 || (d === -1 && prev.direction !== -1);
    return {
      cost: costs.get(id)!,
      direction: d === 0 ? prev.direction : d,
      changedAt: turned ? now : prev.changedAt,
      ...(localFailure.get(id) ? { localFailure: true } : {}),
    };
  };
  const control = Object.fromEntries(ids.map((id) => [id, controlOf(id)]));

  const prevShares = previousShares(args.previous, ids);
  if (!prevShares) {
    const weights = roundShares(target);
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
  if (!anyData && Object.keys(args.previous?.control ?? {}).length === 0) {
    // No evidence and no controller state (weights written by hand, or by an older controller): hold them.
    return { scope, weights: roundShares(prevShares), target: roundShares(prevShares), control, changed: false, spikes, reason: explainSteady({ where, held: [], anyData }) };
  }

  // 4. EWMA step from the previous shares: immediate for a spike or a cap/enable change, fast while a
  // pathway is being demoted, slow otherwise (promotion, rebalancing).
  const outOfBounds = (id: string) => prevShares.get(id)! > bounds.get(id)!.hi + 1e-9 || prevShares.get(id)! < bounds.get(id)!.lo - 1e-4;
  const forced = ids.some(outOfBounds);
  const demoting = ids.some((id) => costs.get(id)! > 0 && target.get(id)! < prevShares.get(id)! - p.snapEpsilon);
  const alpha =
    spikes.length > 0 || forced ? 1 : 1 - 2 ** (-p.evaluationIntervalSeconds / (demoting ? p.demotionHalfLifeSeconds : p.promotionHalfLifeSeconds));
  let next = new Map(ids.map((id) => [id, prevShares.get(id)! + alpha * (target.get(id)! - prevShares.get(id)!)]));
  if (ids.every((id) => Math.abs(target.get(id)! - next.get(id)!) < p.snapEpsilon)) next = new Map(target);

  const weights = roundShares(next);
  const previousRounded = roundShares(prevShares);
  const weightsChanged = ids.some((id) => weights[id] !== previousRounded[id]);
  // The controller state must be written too when only it moved (a fading cost, a local failure cleared):
  // the next tick starts from what is stored.
  const changed = weightsChanged || ids.some((id) => controlChanged(args.previous?.control[id], control[id]));
  const targetRounded = roundShares(target);
  return {
    scope,
    weights,
    target: targetRounded,
    control,
    changed,
    spikes,
    reason: weightsChanged
      ? explainChange({ ids, where, measured, costs, costChanged, prev: previousRounded, next: weights, target: targetRounded })
      : explainSteady({ where, held, anyData }),
  };
}

function controlChanged(before: PathwayControl | undefined, after: PathwayControl): boolean {
  const was = before ?? NO_CONTROL;
  return (
    Math.abs((Number.isFinite(was.cost) ? was.cost : 0) - after.cost) > 1e-6 ||
    was.direction !== after.direction ||
    was.changedAt !== after.changedAt ||
    (was.localFailure === true) !== (after.localFailure === true)
  );
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
