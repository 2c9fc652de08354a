/**
 * The controller's view of the QoE rollups: per scope and pathway, the counters of two windows (ADR 0064):
 *
 * - **fresh**: the last `freshSeconds` (60 s) as a sliding window: the current partial minute plus the
 *   matching tail of the previous minute, pro rata. A fault that began seconds ago weighs as much as it
 *   lasted, and the partial minute is never scored on its own (at 12:00:05 it holds 5 s of traffic).
 * - **recent**: every whole minute of the last `windowMinutes` (current included) and `clockSkewMinutes`
 *   after it. Records that arrive minutes late land in their own (past) minute and still count; so do
 *   reports from a player clock that runs slow or fast.
 */
import { COUNTER_NAMES, emptyCounters, MINUTE_MS, minuteStartOf } from '../qoe-aggregate';
import type { QoeCounters, QoeRollup, QoeSessionCounts } from '../qoe-types';
import { GLOBAL_SCOPE } from '../routing-types';
import { isRoutingCountry } from '../identifiers';
import type { ScoringParams } from './scoring-params';

/** The rollup as the controller reads it: distinct counts are present in items written since ADR 0054. */
export type ScoredRollup = QoeRollup & Partial<QoeSessionCounts>;

/** Additive counters plus distinct counts summed over minutes (session-minutes, not sessions). */
export type WindowCounters = QoeCounters & { -readonly [K in keyof QoeSessionCounts]: number };

const SESSION_COUNT_NAMES: readonly (keyof QoeSessionCounts)[] = ['sessions', 'errorSessions', 'stallSessions', 'networks'];

export function emptyWindowCounters(): WindowCounters {
  return { ...emptyCounters(), sessions: 0, errorSessions: 0, stallSessions: 0, networks: 0 };
}

/**
 * `into += weight × from`. Rollups come from DynamoDB, where an item written by an older aggregator (or by
 * hand) may lack a counter; a missing or non-numeric counter counts as 0 rather than turning the sums into NaN.
 */
export function addWindowCounters(into: WindowCounters, from: Partial<WindowCounters>, weight = 1): WindowCounters {
  for (const field of COUNTER_NAMES) into[field] += weight * (Number(from[field]) || 0);
  for (const field of SESSION_COUNT_NAMES) into[field] += weight * (Number(from[field]) || 0);
  return into;
}

/** Counters of one pathway in one scope, for the fresh and the recent window. */
export interface CellWindows {
  readonly fresh: WindowCounters;
  readonly recent: WindowCounters;
}
export type WindowName = keyof CellWindows;
export const WINDOW_NAMES: readonly WindowName[] = ['fresh', 'recent'];

/** scope ("*" or a country) → pathway → windows. */
export type RollupSummary = Map<string, Map<string, CellWindows>>;

/**
 * How much of a minute's counters belong to the fresh window `[now - freshSeconds, now]`: the overlap
 * with the part of the minute that has happened, over that part's length.
 */
function freshWeight(minute: number, now: number, freshMs: number): number {
  const end = Math.min(minute + MINUTE_MS, now);
  if (end <= minute) return 0;
  const overlap = Math.max(0, end - Math.max(minute, now - freshMs));
  return overlap / (end - minute);
}

/**
 * Sums the rollups into scope → pathway → windows. Rollups outside the window are ignored;
 * unknown-country rollups count only toward the global scope.
 */
export function summariseRollups(rollups: Iterable<ScoredRollup>, now: number, p: Pick<ScoringParams, 'windowMinutes' | 'clockSkewMinutes' | 'freshSeconds'>): RollupSummary {
  const currentMinute = minuteStartOf(now);
  const oldest = currentMinute - (Math.max(1, p.windowMinutes) - 1) * MINUTE_MS;
  const newest = currentMinute + p.clockSkewMinutes * MINUTE_MS;
  const scopes: RollupSummary = new Map();
  const cellOf = (scope: string, pathway: string): CellWindows => {
    let byPathway = scopes.get(scope);
    if (!byPathway) scopes.set(scope, (byPathway = new Map()));
    let cell = byPathway.get(pathway);
    if (!cell) byPathway.set(pathway, (cell = { fresh: emptyWindowCounters(), recent: emptyWindowCounters() }));
    return cell;
  };
  for (const rollup of rollups) {
    if (rollup.minute < oldest || rollup.minute > newest) continue;
    const targets = [cellOf(GLOBAL_SCOPE, rollup.pathway)];
    if (isRoutingCountry(rollup.country)) targets.push(cellOf(rollup.country, rollup.pathway));
    const fresh = freshWeight(rollup.minute, now, p.freshSeconds * 1000);
    for (const cell of targets) {
      addWindowCounters(cell.recent, rollup);
      if (fresh > 0) addWindowCounters(cell.fresh, rollup, fresh);
    }
  }
  return scopes;
}

/** The minutes `summariseRollups` reads at `now`, for the handler's queries. */
export function windowMinutesAt(now: number, p: Pick<ScoringParams, 'windowMinutes' | 'clockSkewMinutes'>): number[] {
  const current = minuteStartOf(now);
  const minutes: number[] = [];
  for (let i = -p.clockSkewMinutes; i < Math.max(1, p.windowMinutes); i++) minutes.push(current - i * MINUTE_MS);
  return minutes;
}

/** Sum of several scopes' cells, pathway by pathway: the pooled evidence a small country borrows (ADR 0065). */
export function poolCells(cells: Iterable<ReadonlyMap<string, CellWindows>>): Map<string, CellWindows> {
  const pooled = new Map<string, CellWindows>();
  for (const byPathway of cells) {
    for (const [pathway, windows] of byPathway) {
      let into = pooled.get(pathway);
      if (!into) pooled.set(pathway, (into = { fresh: emptyWindowCounters(), recent: emptyWindowCounters() }));
      addWindowCounters(into.fresh, windows.fresh);
      addWindowCounters(into.recent, windows.recent);
    }
  }
  return pooled;
}

/** What `minSamples` counts: CDN requests plus player reports. */
export const sampleCount = (c: QoeCounters): number => c.requests + c.reports;

/** A cell's size in quorums: sessions over `minSessions`, or samples over `minSamples` without session counts. */
export function quorumUnits(c: WindowCounters, p: Pick<ScoringParams, 'minSessions' | 'minSamples'>): number {
  return c.sessions > 0 ? c.sessions / Math.max(1, p.minSessions) : sampleCount(c) / Math.max(1, p.minSamples);
}

/**
 * Whether a cell's figures count (its quorum): enough distinct sessions (and, when the networks are known,
 * more than one client network), or — for rollups without distinct counts — enough requests and reports.
 */
export function hasQuorum(c: WindowCounters, p: Pick<ScoringParams, 'minSessions' | 'minSamples'>): boolean {
  if (c.sessions > 0) return c.sessions >= p.minSessions - 1e-9 && (c.networks === 0 || c.networks >= Math.min(2, p.minSessions));
  return sampleCount(c) >= p.minSamples - 1e-9;
}
