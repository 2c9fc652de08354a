/**
 * Per-session steering from what the player tells the steering server (docs/steering.md "Session
 * memory", ADRs 0045–0047), in the cacheable form of ADR 0036.
 *
 * Lambda@Edge keeps no state between requests and runs in many Regions, so the session's memory
 * travels in the steering manifest's RELOAD-URI: every player sends that URI back on its next reload
 * with its own parameters added (hls.js 1.7 sets `_HLS_*` on it, dash.js 5.2 and Shaka Player 5.2
 * append theirs; all three keep our query). The gateway's key function (CloudFront Function, viewer
 * request) reduces the players' parameters to a pathway `p` and a throughput class `t`
 * (core/steering-cache-key.ts) and passes the memory through; the answer is a pure function of those, the
 * session and the country's weights, so CloudFront reuses it while the session's situation stays the same.
 * What is remembered, quantised so that a session in an unchanged situation sends an unchanged key:
 *
 *   first=<id>              the pathway our previous answer ranked first
 *   on=<id>                 the pathway the player last reported using
 *   best=<class>.<n>        the best throughput class reported on `on` since the session came to it, and
 *                           how many reports that is (1, or 2 for "two or more")
 *   left=<id>.<s>.<‰>.<n>_… pathways the session left, sorted by id: when (epoch s, rounded up to the
 *                           minute), the pathway's share of the weights then (per mille, to 50 ‰), how
 *                           many times (1–4)
 *
 * Rules (pure: same inputs, same answer):
 * - Departure: the player reports pathway P while our previous answer ranked X ≠ P first → X was left
 *   (the player penalised it, or could not get there). Without a memory, the previous answer was the
 *   platform's order (the manifest's PATHWAY-ID / defaultServiceLocation, or a bare steering answer).
 *   A move to the pathway we ranked first is the player following us, not a departure of the one it
 *   was on.
 * - Throughput collapse: with at least two reports on P, the report's class stands for less than both
 *   `collapseRatio` × the best class reported on P and `throughputFloorBps` → P is left now, for this
 *   session alone.
 * - A left pathway is held out of first place until the platform's evidence says it is healthy: at
 *   least `minAvoidSeconds` × 2^(n−1) have passed AND its share in the weights read now is at least
 *   `recoveryShareRatio` × its share when it was left. Entries older than `memorySeconds` are forgotten.
 * - A player that reports no pathway it can use and brings no memory gets the platform's order and a
 *   bare RELOAD-URI.
 *
 * Everything read from the query is untrusted: unknown pathways, malformed or out-of-range numbers and
 * entries from the future are ignored, lists and lengths are bounded, and nothing here throws on input.
 * A forged memory changes only the forger's own order; it feeds nothing shared.
 */

import { rankPathways } from './rendezvous';
import { STEERING_KEY_PARAMS, throughputClassCeiling, throughputOfClass, topThroughputClass } from './steering-cache-key';

export interface SessionSteeringPolicy {
  /** Shortest time a left pathway is held out of first place (doubles with each repeated departure). */
  readonly minAvoidSeconds: number;
  /** How long a departure is remembered at all; also the longest hold. */
  readonly memorySeconds: number;
  /** A left pathway is healthy again only when its share is at least this fraction of its share when it was left. */
  readonly recoveryShareRatio: number;
  /** Throughput (bit/s) under which a collapse moves the session: about what the lower-middle rungs need. */
  readonly throughputFloorBps: number;
  /** A report below this fraction of the session's best recent report on the same pathway is a collapse. */
  readonly collapseRatio: number;
}

/**
 * Defaults. 300 s is hls.js 1.7's own penalty for a failed pathway (PATHWAY_PENALTY_DURATION_MS) and
 * ten times the routing loop's measured reaction to a dead CDN (30 s, docs/benchmarks.md), so weights
 * read after it had time to demote the pathway. 1 Mbit/s is just under the standard ladder's 432p rung
 * (1.1 Mbit/s, core/ladder.ts): below it a session is on its lowest rungs.
 */
export const DEFAULT_SESSION_STEERING_POLICY: SessionSteeringPolicy = {
  minAvoidSeconds: 300,
  memorySeconds: 1800,
  recoveryShareRatio: 0.8,
  throughputFloorBps: 1_000_000,
  collapseRatio: 0.5,
};

/** Query parameter names of the memory carried in RELOAD-URI (part of the steering cache key). */
export const MEMORY_PARAMS = { first: STEERING_KEY_PARAMS.first, on: STEERING_KEY_PARAMS.on, best: STEERING_KEY_PARAMS.best, left: STEERING_KEY_PARAMS.left } as const;

/** Reports needed on a pathway before a collapse can be judged: one sample is not a history. */
export const MIN_THROUGHPUT_HISTORY = 2;
/** Repeated departures from one pathway double the hold up to 2^(4−1) × minAvoidSeconds. */
export const MAX_STRIKES = 4;
/**
 * Departure times are rounded up to this many seconds and shares to this many per mille, so a memory is
 * written in few forms (ADR 0036). Rounding the time up keeps every hold at least `minAvoidSeconds` long.
 */
export const DEPARTURE_TIME_STEP_SECONDS = 60;
export const DEPARTURE_SHARE_STEP_PERMILLE = 50;
/** Longest memory value read; anything longer is a forgery or a bug and is ignored whole. */
const MAX_PARAM_LENGTH = 512;
/** Clock skew between edge locations tolerated on a departure time (plus the rounding up). */
const CLOCK_SKEW_SECONDS = 60 + DEPARTURE_TIME_STEP_SECONDS;
/** Highest throughput class read (10 Gbit/s, the bound of every player-reported throughput, is class 53). */
const MAX_THROUGHPUT_CLASS = 99;

export interface Departure {
  readonly pathway: string;
  /** Epoch seconds when the departure was noticed (the last time, when repeated), a multiple of DEPARTURE_TIME_STEP_SECONDS. */
  readonly atSeconds: number;
  /** The pathway's share of the weights then, per mille, a multiple of DEPARTURE_SHARE_STEP_PERMILLE. */
  readonly sharePermille: number;
  /** How many times the session left it within the memory (1..MAX_STRIKES). */
  readonly strikes: number;
}

/** The best throughput class reported on the current pathway, and how many reports (capped at MIN_THROUGHPUT_HISTORY). */
export interface ThroughputHistory {
  readonly bestClass: number;
  readonly reports: number;
}

export interface SessionMemory {
  readonly first?: string;
  readonly on?: string;
  /** Reports on `on` since the session came to it. */
  readonly best?: ThroughputHistory;
  readonly left: readonly Departure[];
}

export const EMPTY_MEMORY: SessionMemory = { left: [] };

const INTEGER = /^\d{1,12}$/;

function boundedInteger(text: string, max: number): number | undefined {
  if (!INTEGER.test(text)) return undefined;
  const n = Number(text);
  return n <= max ? n : undefined;
}

/**
 * Reads the memory from the steering request's query, keeping only what names a pathway in `known`.
 * Never throws; a malformed part is dropped, the rest kept.
 */
export function readSessionMemory(params: URLSearchParams, known: ReadonlySet<string>, nowSeconds: number, policy: SessionSteeringPolicy): SessionMemory {
  const value = (name: string): string | undefined => {
    const v = params.get(name);
    return v === null || v.length > MAX_PARAM_LENGTH ? undefined : v;
  };
  const id = (name: string): string | undefined => {
    const v = value(name);
    return v !== undefined && known.has(v) ? v : undefined;
  };
  const on = id(MEMORY_PARAMS.on);
  let best: ThroughputHistory | undefined;
  if (on !== undefined) {
    const [cls, reports, extra] = (value(MEMORY_PARAMS.best) ?? '').split('.', 3);
    const bestClass = boundedInteger(cls ?? '', MAX_THROUGHPUT_CLASS);
    const n = boundedInteger(reports ?? '', MIN_THROUGHPUT_HISTORY);
    if (extra === undefined && bestClass !== undefined && n !== undefined && n >= 1) best = { bestClass, reports: n };
  }
  const left: Departure[] = [];
  for (const entry of (value(MEMORY_PARAMS.left) ?? '').split('_')) {
    if (left.length === known.size) break;
    const [pathway, at, share, strikes, extra] = entry.split('.', 5);
    if (extra !== undefined || !known.has(pathway) || left.some((d) => d.pathway === pathway)) continue;
    const atSeconds = boundedInteger(at ?? '', nowSeconds + CLOCK_SKEW_SECONDS);
    const sharePermille = boundedInteger(share ?? '', 1000);
    const n = boundedInteger(strikes ?? '', MAX_STRIKES);
    if (atSeconds === undefined || sharePermille === undefined || n === undefined || n < 1) continue;
    if (nowSeconds - atSeconds > policy.memorySeconds) continue;
    left.push({ pathway, atSeconds, sharePermille, strikes: n });
  }
  return { first: id(MEMORY_PARAMS.first), on, ...(best !== undefined ? { best } : {}), left };
}

/**
 * The memory as a query string (no `?`), only unreserved characters so no player re-encodes it, and in one
 * canonical form (departures sorted by pathway) so equal memories are equal cache keys.
 */
export function writeSessionMemory(memory: SessionMemory): string {
  const parts: string[] = [];
  if (memory.first !== undefined) parts.push(`${MEMORY_PARAMS.first}=${memory.first}`);
  if (memory.on !== undefined) parts.push(`${MEMORY_PARAMS.on}=${memory.on}`);
  if (memory.on !== undefined && memory.best !== undefined) parts.push(`${MEMORY_PARAMS.best}=${memory.best.bestClass}.${memory.best.reports}`);
  if (memory.left.length > 0) {
    const sorted = [...memory.left].sort((x, y) => (x.pathway < y.pathway ? -1 : 1));
    parts.push(`${MEMORY_PARAMS.left}=${sorted.map((d) => `${d.pathway}.${d.atSeconds}.${d.sharePermille}.${d.strikes}`).join('_')}`);
  }
  return parts.join('&');
}

/** What the key function read from the player's report: the pathway it is on, with the throughput class it reported there. */
export interface ReportedUse {
  readonly pathway: string;
  readonly throughputClass?: number;
}

/** The report part of the cache key (`p`, `t`), kept only when `p` names a pathway in `known`. */
export function readReportedUse(params: URLSearchParams, known: ReadonlySet<string>): ReportedUse | undefined {
  const pathway = params.get(STEERING_KEY_PARAMS.pathway);
  if (pathway === null || !known.has(pathway)) return undefined;
  const cls = boundedInteger(params.get(STEERING_KEY_PARAMS.throughput) ?? '', MAX_THROUGHPUT_CLASS);
  return { pathway, ...(cls !== undefined ? { throughputClass: cls } : {}) };
}

export interface SessionSteeringInput {
  /** What weighted rendezvous ranks by: the token's session id (ADR 0040). */
  readonly rankingKey: string;
  /** The weights of the viewer's scope (RoutingSnapshot.weights): every enabled pathway, 0 = failover only. */
  readonly weights: Readonly<Record<string, number>>;
  readonly use?: ReportedUse;
  readonly memory: SessionMemory;
  readonly nowSeconds: number;
  readonly policy: SessionSteeringPolicy;
}

export interface SessionSteeringDecision {
  /** Every pathway of `weights`, best first for this session. */
  readonly priority: readonly string[];
  /** What to carry in RELOAD-URI (no `?`); empty when there is nothing to remember. */
  readonly memory: string;
  /** Pathways held out of first place, in the order they were placed at the end. */
  readonly held: readonly string[];
  /** Set when this answer moves the session because its own throughput collapsed. */
  readonly collapsedFrom?: string;
}

function sharesPermille(weights: Readonly<Record<string, number>>): Map<string, number> {
  let total = 0;
  for (const id of Object.keys(weights)) total += weights[id] > 0 ? weights[id] : 0;
  const out = new Map<string, number>();
  for (const id of Object.keys(weights)) out.set(id, total > 0 && weights[id] > 0 ? Math.round((1000 * weights[id]) / total) : 0);
  return out;
}

/** Whether the evidence of `nowPermille` lets the session go back to a pathway it left (ADR 0045). */
export function isHeld(departure: Departure, nowPermille: number, nowSeconds: number, policy: SessionSteeringPolicy): boolean {
  const hold = Math.min(policy.memorySeconds, policy.minAvoidSeconds * 2 ** (departure.strikes - 1));
  if (nowSeconds - departure.atSeconds < hold) return true;
  return nowPermille < policy.recoveryShareRatio * departure.sharePermille;
}

/** Whether a report's throughput class is a collapse against the session's history on that pathway (ADR 0046). */
export function isThroughputCollapse(reportClass: number, history: ThroughputHistory | undefined, policy: SessionSteeringPolicy): boolean {
  if (history === undefined || history.reports < MIN_THROUGHPUT_HISTORY) return false;
  const top = topThroughputClass(policy);
  const bps = throughputOfClass(reportClass, top);
  // Below the floor only when the whole class is: a class judged by its middle would call a report just above
  // the floor (e.g. 1.01 Mbit/s in the 861–1,024 kbit/s class) a collapse and move a session that plays fine
  // (the player matrix's hls.js +2 s latency cells did). The benefit of the doubt is less than one class.
  return bps < policy.collapseRatio * throughputOfClass(history.bestClass, top) && throughputClassCeiling(reportClass) <= policy.throughputFloorBps;
}

const roundUpTo = (value: number, step: number): number => Math.ceil(value / step) * step;
const roundTo = (value: number, step: number): number => Math.min(1000, Math.round(value / step) * step);

export function steerSession(input: SessionSteeringInput): SessionSteeringDecision {
  const { weights, memory, nowSeconds, policy, use } = input;
  const base = rankPathways(input.rankingKey, weights);
  const remembers = memory.first !== undefined || memory.on !== undefined || memory.left.length > 0;
  if (use === undefined && !remembers) return { priority: base, memory: '', held: [] };

  const shares = sharesPermille(weights);
  const left = new Map(memory.left.map((d) => [d.pathway, d]));
  const departedAt = roundUpTo(nowSeconds, DEPARTURE_TIME_STEP_SECONDS);
  const leave = (pathway: string): void => {
    const previous = left.get(pathway);
    // A repeated departure restarts the hold, longer; the share is re-read so recovery is measured from now.
    const sharePermille = roundTo(shares.get(pathway) ?? 0, DEPARTURE_SHARE_STEP_PERMILLE);
    left.set(pathway, { pathway, atSeconds: departedAt, sharePermille, strikes: Math.min(MAX_STRIKES, (previous?.strikes ?? 0) + 1) });
  };

  let on = memory.on;
  let best = memory.best;
  let collapsedFrom: string | undefined;
  if (use !== undefined) {
    // Without a memory the player's last answer (the manifest, or a bare steering answer) had the platform's order.
    const expected = memory.first ?? base[0];
    if (expected !== use.pathway) leave(expected);

    const history = use.pathway === memory.on ? memory.best : undefined;
    if (use.throughputClass !== undefined && isThroughputCollapse(use.throughputClass, history, policy)) {
      leave(use.pathway);
      collapsedFrom = use.pathway;
      // Start the history again, so a player that cannot move is not told twice by the same collapse.
      best = { bestClass: use.throughputClass, reports: 1 };
    } else if (use.throughputClass !== undefined) {
      best = {
        bestClass: Math.max(history?.bestClass ?? 0, use.throughputClass),
        reports: Math.min(MIN_THROUGHPUT_HISTORY, (history?.reports ?? 0) + 1),
      };
    } else {
      best = history;
    }
    on = use.pathway;
  }

  const heldDepartures = [...left.values()].filter((d) => isHeld(d, shares.get(d.pathway) ?? 0, nowSeconds, policy));
  // Held pathways go last, the longest-held first among them: if every pathway is held, the one the
  // session left longest ago leads.
  heldDepartures.sort((x, y) => x.atSeconds - y.atSeconds || (x.pathway < y.pathway ? -1 : 1));
  const held = heldDepartures.map((d) => d.pathway);
  const heldSet = new Set(held);
  const priority = [...base.filter((id) => !heldSet.has(id)), ...held];

  const next: SessionMemory = { first: priority[0], on, ...(on !== undefined && best !== undefined ? { best } : {}), left: [...left.values()] };
  return { priority, memory: writeSessionMemory(next), held, ...(collapsedFrom !== undefined ? { collapsedFrom } : {}) };
}

export interface SteeringRequestContext {
  /** What weighted rendezvous ranks by: the token's session id (ADR 0040). */
  readonly rankingKey: string;
  readonly weights: Readonly<Record<string, number>>;
  readonly nowSeconds: number;
  readonly policy: SessionSteeringPolicy;
}

/**
 * The whole per-request decision from the canonical steering query the key function wrote (the cache key's
 * parameters, raw URL-encoded). Reads nothing else, so the answer is the same for every request with that key.
 */
export function steerSessionFromQuery(querystring: string, context: SteeringRequestContext): SessionSteeringDecision {
  // dash.js's first request (queryBeforeStart) and players that report nothing: no parse at all.
  if (querystring === '') return { priority: rankPathways(context.rankingKey, context.weights), memory: '', held: [] };
  const params = new URLSearchParams(querystring);
  const known = new Set(Object.keys(context.weights));
  const use = readReportedUse(params, known);
  return steerSession({ ...context, ...(use !== undefined ? { use } : {}), memory: readSessionMemory(params, known, context.nowSeconds, context.policy) });
}
