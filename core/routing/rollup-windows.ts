/**
 * The controller's view of the QoE rollups: per scope and pathway, the counters of the current
 * (partial) minute and of the whole recent window. Why two windows: `measureScope` in
 * core/routing/pathway-cost.ts.
 */
import { COUNTER_NAMES, emptyCounters, MINUTE_MS, minuteStartOf } from '../qoe-aggregate';
import type { QoeCounters, QoeRollup } from '../qoe-types';
import { GLOBAL_SCOPE } from '../routing-types';
import { isRoutingCountry } from '../identifiers';

/**
 * Rollups come from DynamoDB, where an item written by an older aggregator (or by hand) may lack a
 * counter; a missing or non-numeric counter counts as 0 rather than turning the sums into NaN.
 */
function addInto(into: QoeCounters, from: QoeCounters): void {
  for (const field of COUNTER_NAMES) into[field] += Number(from[field]) || 0;
}

/** Counters of one pathway in one scope, for the current minute alone and for the whole recent window. */
export interface CellWindows {
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

/** What `minSamples` counts: CDN requests plus player reports. */
export const sampleCount = (c: QoeCounters): number => c.requests + c.reports;
