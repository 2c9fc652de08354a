/**
 * What happened during one CDN break, read from the platform's own records (ADR 0083):
 * - traffic: the QoE rollups' per-pathway request counters (one line per CDN request in the real-time
 *   log, core/qoe-aggregate.ts), sampled every few seconds and differenced into short buckets;
 * - weights: the routing table's `weights#<scope>` items, sampled on the same clock.
 *
 * Pure: the operator API does the sampling and keeps the history; this turns history into the events
 * the operator page draws on the break's timeline.
 */

/** Requests each pathway logged in one sampling interval, ending at `at` (epoch ms). */
export interface TrafficBucket {
  readonly at: number;
  /** Interval length in ms (the time since the previous sample). */
  readonly spanMs: number;
  readonly pathways: Readonly<Record<string, { readonly requests: number; readonly errors: number }>>;
}

/** The weights of one scope as read at `at`. */
export interface WeightsSample {
  readonly at: number;
  readonly scope: string;
  readonly weights: Readonly<Record<string, number>>;
  readonly reason?: string;
}

export interface CdnBreak {
  readonly id: string;
  readonly pathway: string;
  readonly faults: Readonly<Record<string, unknown>>;
  readonly startedAt: number;
  /** When the break is (or was) due to end. */
  readonly endsAt: number;
  /** When the fault was actually lifted; absent while the break lasts. */
  readonly healedAt?: number;
}

export type TimelineEventKind =
  | 'break-started'
  | 'traffic-left'
  | 'weights-moved'
  | 'demoted'
  | 'break-ended'
  | 'traffic-returned'
  | 'readmitted';

export interface TimelineEvent {
  readonly at: number;
  readonly kind: TimelineEventKind;
  /** Weights events only: the scope ("*" or a country) whose weights moved. */
  readonly scope?: string;
  readonly text: string;
}

/**
 * The routing controller's demotion floor as the e2e test and the docs read it: below 10 % a pathway
 * is demoted, at or above 10 % again it is re-admitted (docs/routing.md).
 */
export const READMISSION_WEIGHT = 0.1;
/** A weight change smaller than this (2 percentage points) is noise from promotion steps, not a move. */
export const WEIGHT_MOVE = 0.02;
/** The broken pathway's traffic "left" when its share fell to a quarter of what it was before. */
export const LEFT_SHARE_FACTOR = 0.25;
/** …and "returned" once its share is back to half of what it was before. */
export const RETURNED_SHARE_FACTOR = 0.5;
/** How much history before the break is the baseline for its share and weights. */
export const BASELINE_MS = 60_000;

const pct = (share: number) => `${Math.round(share * 100)} %`;

function totalRequests(bucket: TrafficBucket): number {
  return Object.values(bucket.pathways).reduce((sum, p) => sum + p.requests, 0);
}

/** The pathway's share of all CDN requests in the buckets, or undefined when there were none. */
export function requestShare(buckets: readonly TrafficBucket[], pathway: string): number | undefined {
  const total = buckets.reduce((sum, b) => sum + totalRequests(b), 0);
  if (total === 0) return undefined;
  return buckets.reduce((sum, b) => sum + (b.pathways[pathway]?.requests ?? 0), 0) / total;
}

function sharesText(bucket: TrafficBucket): string {
  const total = totalRequests(bucket);
  return Object.keys(bucket.pathways)
    .sort()
    .map((id) => `${id} ${pct(bucket.pathways[id]!.requests / total)}`)
    .join(', ');
}

function trafficEvents(cdnBreak: CdnBreak, traffic: readonly TrafficBucket[]): TimelineEvent[] {
  const { pathway, startedAt, healedAt } = cdnBreak;
  const baseline = requestShare(
    traffic.filter((b) => b.at <= startedAt && b.at > startedAt - BASELINE_MS),
    pathway,
  );
  if (baseline === undefined || baseline === 0) return [];
  const events: TimelineEvent[] = [];
  const left = traffic.find((b) => b.at > startedAt && totalRequests(b) > 0 && (requestShare([b], pathway) ?? 0) <= baseline * LEFT_SHARE_FACTOR);
  if (left) {
    events.push({
      at: left.at,
      kind: 'traffic-left',
      text: `players left ${pathway}: its share of CDN requests fell from ${pct(baseline)} to ${pct(requestShare([left], pathway)!)} (${sharesText(left)})`,
    });
  }
  if (healedAt !== undefined) {
    const back = traffic.find((b) => b.at > healedAt && totalRequests(b) > 0 && (requestShare([b], pathway) ?? 0) >= baseline * RETURNED_SHARE_FACTOR);
    if (back) {
      events.push({
        at: back.at,
        kind: 'traffic-returned',
        text: `players back on ${pathway}: ${pct(requestShare([back], pathway)!)} of CDN requests (before the break ${pct(baseline)})`,
      });
    }
  }
  return events;
}

function weightEvents(cdnBreak: CdnBreak, weights: readonly WeightsSample[]): TimelineEvent[] {
  const { pathway, startedAt, healedAt } = cdnBreak;
  const events: TimelineEvent[] = [];
  for (const scope of [...new Set(weights.map((w) => w.scope))].sort()) {
    const samples = weights.filter((w) => w.scope === scope).sort((a, b) => a.at - b.at);
    const before = samples.filter((w) => w.at <= startedAt).at(-1);
    const initial = before?.weights[pathway];
    if (initial === undefined) continue;
    const after = samples.filter((w) => w.at > startedAt);
    const label = scope === '*' ? 'global' : scope;
    const weightOf = (w: WeightsSample) => w.weights[pathway] ?? 0;

    const moved = after.find((w) => weightOf(w) <= initial - WEIGHT_MOVE);
    if (moved) {
      events.push({ at: moved.at, kind: 'weights-moved', scope, text: `${label} weights moved: ${pathway} ${pct(initial)} → ${pct(weightOf(moved))}` });
    }
    if (initial < READMISSION_WEIGHT) continue;
    const demoted = after.find((w) => weightOf(w) < READMISSION_WEIGHT);
    if (!demoted) continue;
    events.push({
      at: demoted.at,
      kind: 'demoted',
      scope,
      text: `${label}: ${pathway} demoted to ${pct(weightOf(demoted))}${demoted.reason ? ` (${demoted.reason})` : ''}`,
    });
    if (healedAt === undefined) continue;
    const readmitted = after.find((w) => w.at > Math.max(healedAt, demoted.at) && weightOf(w) >= READMISSION_WEIGHT);
    if (readmitted) {
      events.push({ at: readmitted.at, kind: 'readmitted', scope, text: `${label}: ${pathway} re-admitted at ${pct(weightOf(readmitted))}` });
    }
  }
  return events;
}

/**
 * The events of one break, in time order:
 * - `break-started` / `break-ended`: when the fault was set and lifted;
 * - `traffic-left`: the first bucket after the start in which the pathway's share of CDN requests is
 *   at most a quarter of its share in the minute before — the players have moved to other CDNs;
 * - `traffic-returned`: after the heal, its share is back to half of what it was;
 * - per scope, `weights-moved` (its weight fell by 2 points or more), `demoted` (below 10 %) and
 *   `readmitted` (at or above 10 % again after the heal).
 */
export function breakTimeline(cdnBreak: CdnBreak, traffic: readonly TrafficBucket[], weights: readonly WeightsSample[]): TimelineEvent[] {
  const faultText = Object.entries(cdnBreak.faults)
    .map(([name, value]) => `${name}: ${JSON.stringify(value)}`)
    .join(', ');
  const events: TimelineEvent[] = [
    { at: cdnBreak.startedAt, kind: 'break-started', text: `${cdnBreak.pathway} broken (${faultText}) until ${new Date(cdnBreak.endsAt).toISOString().slice(11, 19)} UTC` },
    ...trafficEvents(cdnBreak, traffic),
    ...weightEvents(cdnBreak, weights),
  ];
  if (cdnBreak.healedAt !== undefined) {
    events.push({ at: cdnBreak.healedAt, kind: 'break-ended', text: `${cdnBreak.pathway} healed` });
  }
  // Stable for equal times: the order above (cause before effect) is kept.
  return events.map((event, i) => ({ event, i })).sort((a, b) => a.event.at - b.event.at || a.i - b.i).map(({ event }) => event);
}

/** The part of a QoE rollup item (tables/rollups-table.ts `RollupItem`) the timeline reads. */
export interface RollupCounts {
  readonly minute: number;
  /** `<pathway>#<country>`. */
  readonly cell: string;
  readonly pathway: string;
  readonly requests: number;
  readonly errors: number;
}

/** The counters of one rollup cell that the timeline uses. */
export interface CellCounts {
  readonly requests: number;
  readonly errors: number;
}

/**
 * Rollup items are running totals per `minute × pathway × country`, grown by every aggregator batch.
 * Differencing two reads gives what arrived in between, per pathway: a bucket a few seconds long
 * instead of a minute. `previous` holds the last read per `<minute>/<cell>`; the returned `seen` is
 * the next call's `previous` (cells of minutes no longer read are dropped with it).
 */
export function trafficSince(
  previous: ReadonlyMap<string, CellCounts>,
  items: readonly RollupCounts[],
): { pathways: Record<string, { requests: number; errors: number }>; seen: Map<string, CellCounts> } {
  const pathways: Record<string, { requests: number; errors: number }> = {};
  const seen = new Map<string, CellCounts>();
  for (const item of items) {
    const counts = { requests: item.requests, errors: item.errors };
    const key = `${item.minute}/${item.cell}`;
    const pathway = item.pathway;
    const before = previous.get(key) ?? { requests: 0, errors: 0 };
    seen.set(key, counts);
    const sum = (pathways[pathway] ??= { requests: 0, errors: 0 });
    // Counters only grow; a smaller value would be a reset table, not negative traffic.
    sum.requests += Math.max(0, counts.requests - before.requests);
    sum.errors += Math.max(0, counts.errors - before.errors);
  }
  return { pathways, seen };
}
