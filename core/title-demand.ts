/**
 * Demand per title (ADR 0102): how many distinct sessions watched each asset in a UTC minute, counted by the
 * QoE aggregator (stage 1) from the samples it already has — a report's asset is its token's `aid`, a log
 * line's the asset in its path — and written as the same linear-counting bitmaps as the rollups' session
 * counts (core/session-evidence.ts): a set union, so redelivered batches add nothing. The pre-warm reads it
 * every minute and warms the titles whose demand rises (`trendingTitles`).
 *
 * Bounded: a container tracks at most `maxTitlesPerMinute` titles a minute (the first seen; a trending title
 * has many sessions and is seen early in every batch) and writes only its `topK` of each minute.
 */
import { bitOf, estimateDistinct } from './session-evidence';
import type { QoeSample } from './qoe-types';

const MINUTE_MS = 60_000;

export interface TitleDemandMinute {
  /** Epoch ms of the UTC minute. */
  readonly minute: number;
  /** The minute's titles with the session bits seen, most sessions first. */
  readonly titles: readonly { readonly assetId: string; readonly sessionBits: ReadonlySet<number> }[];
}

/** One aggregator container's demand of the minutes it has not written yet. */
export class TitleDemand {
  private readonly minutes = new Map<number, Map<string, Set<number>>>();

  constructor(
    readonly topK: number,
    readonly maxTitlesPerMinute: number = 500,
  ) {
    if (!Number.isInteger(topK) || topK < 0) throw new Error(`topK must be a non-negative integer, got ${topK}`);
    if (!Number.isInteger(maxTitlesPerMinute) || maxTitlesPerMinute < 1) throw new Error(`maxTitlesPerMinute must be a positive integer, got ${maxTitlesPerMinute}`);
  }

  /** Counts the sample's session for its title and minute; a sample without both (or with `topK` 0) counts nowhere. */
  add(sample: QoeSample): void {
    if (this.topK === 0 || sample.sid === undefined || sample.assetId === undefined) return;
    // The pre-warm's own fetches are not viewers (lambdas/prewarm signs `prewarm-…` session ids).
    if (sample.sid.startsWith('prewarm-')) return;
    const minute = Math.floor(sample.ts / MINUTE_MS) * MINUTE_MS;
    let titles = this.minutes.get(minute);
    if (titles === undefined) this.minutes.set(minute, (titles = new Map()));
    let bits = titles.get(sample.assetId);
    if (bits === undefined) {
      if (titles.size >= this.maxTitlesPerMinute) return;
      titles.set(sample.assetId, (bits = new Set()));
    }
    bits.add(bitOf('session', sample.sid));
  }

  /**
   * Removes and returns the minutes that ended before `nowMs` (the samples of a minute arrive within the
   * seconds after it, so a minute is written once its end has passed), each with its `topK` titles.
   */
  takeEndedMinutes(nowMs: number): TitleDemandMinute[] {
    const current = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS;
    const ended: TitleDemandMinute[] = [];
    for (const [minute, titles] of this.minutes) {
      if (minute >= current) continue;
      this.minutes.delete(minute);
      const top = [...titles]
        .sort(([a, x], [b, y]) => y.size - x.size || (a < b ? -1 : 1))
        .slice(0, this.topK)
        .map(([assetId, sessionBits]) => ({ assetId, sessionBits }));
      if (top.length > 0) ended.push({ minute, titles: top });
    }
    return ended.sort((a, b) => a.minute - b.minute);
  }
}

/** When a title counts as trending (platform config `prewarm.trending`, ADR 0102). */
export interface TrendingSettings {
  /** Titles warmed per run at most, most-watched first. */
  readonly topK: number;
  /** Distinct sessions a title needs in the minute. */
  readonly minSessions: number;
  /** The minute's sessions over the mean of the baseline minutes (1 for a title unseen before). */
  readonly riseFactor: number;
}

/**
 * The titles to warm: at least `minSessions` sessions in `current` and at least `riseFactor` times their mean
 * over the `baseline` minutes (a title absent from a baseline minute had no sessions in it), the most-watched
 * `topK` of them. Session counts are the bitmaps' estimates.
 */
export function trendingTitles(
  current: ReadonlyMap<string, number>,
  baseline: readonly ReadonlyMap<string, number>[],
  settings: TrendingSettings,
): { readonly assetId: string; readonly sessions: number; readonly baseline: number }[] {
  return [...current]
    .map(([assetId, sessions]) => {
      const mean = baseline.length === 0 ? 0 : baseline.reduce((sum, minute) => sum + (minute.get(assetId) ?? 0), 0) / baseline.length;
      return { assetId, sessions, baseline: mean };
    })
    .filter((t) => t.sessions >= settings.minSessions && t.sessions >= settings.riseFactor * Math.max(1, t.baseline))
    .sort((a, b) => b.sessions - a.sessions || (a.assetId < b.assetId ? -1 : 1))
    .slice(0, settings.topK);
}

/** A title's distinct sessions from its bitmap's set bits. */
export const sessionsOfBits = (bits: ReadonlySet<number>): number => estimateDistinct(bits.size);
