/**
 * Per-session steering from what the player tells the steering server (docs/steering.md "Session
 * memory", ADRs 0045–0047).
 *
 * Lambda@Edge keeps no state between requests and runs in many Regions, so the session's memory
 * travels in the steering manifest's RELOAD-URI: every player sends that URI back on its next reload
 * with its own parameters added (hls.js 1.7 sets `_HLS_*` on it, dash.js 5.2 and Shaka Player 5.2
 * append theirs; all three keep our query). What is remembered:
 *
 *   first=<id>             the pathway our previous answer ranked first
 *   on=<id>                the pathway the player last reported using
 *   kbps=<k>_<k>…          the player's throughput reports on `on`, oldest first (kbit/s, at most 4)
 *   left=<id>.<s>.<‰>.<n>_… pathways the session left: when (epoch s), the pathway's share of the
 *                          weights then (per mille), how many times (1–4)
 *
 * Rules (pure: same inputs, same answer):
 * - Departure: the player reports pathway P while our previous answer ranked X ≠ P first → X was left
 *   (the player penalised it, or could not get there). Without a memory, the previous answer was the
 *   platform's order (the manifest's PATHWAY-ID / defaultServiceLocation, or a bare steering answer).
 *   A move to the pathway we ranked first is the player following us, not a departure of the one it
 *   was on.
 * - Throughput collapse: the report's throughput on P is below both `collapseRatio` × the best of its
 *   recent reports on P and `throughputFloorBps` → P is left now, for this session alone.
 * - A left pathway is held out of first place until the platform's evidence says it is healthy: at
 *   least `minAvoidSeconds` × 2^(n−1) have passed AND its share in the weights read now is at least
 *   `recoveryShareRatio` × its share when it was left. Entries older than `memorySeconds` are forgotten.
 * - A player that reports no pathway it can use and brings no memory gets the platform's order and a
 *   bare RELOAD-URI, as before.
 *
 * Everything read from the query is untrusted: unknown pathways, malformed or out-of-range numbers and
 * entries from the future are ignored, lists and lengths are bounded, and nothing here throws on input.
 * A forged memory changes only the forger's own order; it feeds nothing shared.
 */

import { PLAYER_VALUE_BOUNDS } from './player-value-bounds';
import { rankPathways } from './rendezvous';
import { readSteeringReport, type SteeringClientReport } from './steering-manifest';

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

/** Query parameter names of the memory carried in RELOAD-URI. */
export const MEMORY_PARAMS = { first: 'first', on: 'on', kbps: 'kbps', left: 'left' } as const;

/** Throughput reports kept per session (on its current pathway). */
export const THROUGHPUT_HISTORY = 4;
/** Reports needed on a pathway before a collapse can be judged: one sample is not a history. */
export const MIN_THROUGHPUT_HISTORY = 2;
/** Repeated departures from one pathway double the hold up to 2^(4−1) × minAvoidSeconds. */
export const MAX_STRIKES = 4;
/** Longest memory value read; anything longer is a forgery or a bug and is ignored whole. */
const MAX_PARAM_LENGTH = 512;
/** Clock skew between edge locations tolerated on a departure time. */
const CLOCK_SKEW_SECONDS = 60;
/** The most pathway ids a DASH report may list that are looked at. */
const MAX_REPORTED_PATHWAYS = 16;
/** A player cannot measure more than this (the bound every player-reported throughput has; ADR 0053). */
const MAX_THROUGHPUT_KBPS = PLAYER_VALUE_BOUNDS.throughputKbps.max;

export interface Departure {
  readonly pathway: string;
  /** Epoch seconds when the departure was noticed (the last time, when repeated). */
  readonly atSeconds: number;
  /** The pathway's share of the weights then, per mille. */
  readonly sharePermille: number;
  /** How many times the session left it within the memory (1..MAX_STRIKES). */
  readonly strikes: number;
}

export interface SessionMemory {
  readonly first?: string;
  readonly on?: string;
  /** kbit/s reports on `on`, oldest first. */
  readonly kbps: readonly number[];
  readonly left: readonly Departure[];
}

export const EMPTY_MEMORY: SessionMemory = { kbps: [], left: [] };

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
  const kbps: number[] = [];
  if (on !== undefined) {
    for (const item of (value(MEMORY_PARAMS.kbps) ?? '').split('_', THROUGHPUT_HISTORY)) {
      const k = boundedInteger(item, MAX_THROUGHPUT_KBPS);
      if (k !== undefined) kbps.push(k);
    }
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
  return { first: id(MEMORY_PARAMS.first), on, kbps, left };
}

/** The memory as a query string (no `?`), only unreserved characters so no player re-encodes it. */
export function writeSessionMemory(memory: SessionMemory): string {
  const parts: string[] = [];
  if (memory.first !== undefined) parts.push(`${MEMORY_PARAMS.first}=${memory.first}`);
  if (memory.on !== undefined) parts.push(`${MEMORY_PARAMS.on}=${memory.on}`);
  if (memory.kbps.length > 0) parts.push(`${MEMORY_PARAMS.kbps}=${memory.kbps.join('_')}`);
  if (memory.left.length > 0) {
    parts.push(`${MEMORY_PARAMS.left}=${memory.left.map((d) => `${d.pathway}.${d.atSeconds}.${d.sharePermille}.${d.strikes}`).join('_')}`);
  }
  return parts.join('&');
}

/** The pathway a report says the player is on, with its throughput (bit/s) when it gave a usable one. */
export interface ReportedUse {
  readonly pathway: string;
  readonly throughputBps?: number;
}

/**
 * The current pathway of a report: HLS names one; dash.js lists the service locations used since its
 * previous request in order of first use, so the last one is where it is now (Shaka sends one). A
 * pathway not in `known`, or a throughput that is not a number within what a player can measure, is
 * ignored (hls.js 1.7 wraps estimates above 2^31 bit/s to negative numbers: `estimate | 0`).
 */
export function reportedUse(report: SteeringClientReport, known: ReadonlySet<string>): ReportedUse | undefined {
  const listed = report.pathways.slice(0, MAX_REPORTED_PATHWAYS);
  for (let i = listed.length - 1; i >= 0; i--) {
    if (!known.has(listed[i])) continue;
    const bps = report.throughputBps[i];
    const usable = bps !== undefined && Number.isFinite(bps) && bps >= 0 && bps <= MAX_THROUGHPUT_KBPS * 1000;
    return { pathway: listed[i], ...(usable ? { throughputBps: bps } : {}) };
  }
  return undefined;
}

export interface SessionSteeringInput {
  readonly sessionId: string;
  /** The weights of the viewer's scope (RoutingSnapshot.weights): every enabled pathway, 0 = failover only. */
  readonly weights: Readonly<Record<string, number>>;
  readonly report: SteeringClientReport;
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

/** Whether a throughput report is a collapse against the session's own recent reports on that pathway (ADR 0046). */
export function isThroughputCollapse(bps: number, historyKbps: readonly number[], policy: SessionSteeringPolicy): boolean {
  if (historyKbps.length < MIN_THROUGHPUT_HISTORY) return false;
  const bestBps = Math.max(...historyKbps) * 1000;
  return bps < policy.collapseRatio * bestBps && bps < policy.throughputFloorBps;
}

export function steerSession(input: SessionSteeringInput): SessionSteeringDecision {
  const { weights, memory, nowSeconds, policy } = input;
  const base = rankPathways(input.sessionId, weights);
  const known = new Set(base);
  const use = reportedUse(input.report, known);
  const remembers = memory.first !== undefined || memory.on !== undefined || memory.left.length > 0;
  if (use === undefined && !remembers) return { priority: base, memory: '', held: [] };

  const shares = sharesPermille(weights);
  const left = new Map(memory.left.map((d) => [d.pathway, d]));
  const leave = (pathway: string): void => {
    const previous = left.get(pathway);
    // A repeated departure restarts the hold, longer; the share is re-read so recovery is measured from now.
    left.set(pathway, { pathway, atSeconds: nowSeconds, sharePermille: shares.get(pathway) ?? 0, strikes: Math.min(MAX_STRIKES, (previous?.strikes ?? 0) + 1) });
  };

  let on = memory.on;
  let kbps = memory.kbps;
  let collapsedFrom: string | undefined;
  if (use !== undefined) {
    // Without a memory the player's last answer (the manifest, or a bare steering answer) had the platform's order.
    const expected = memory.first ?? base[0];
    if (expected !== use.pathway) leave(expected);

    const history = use.pathway === memory.on ? memory.kbps : [];
    if (use.throughputBps !== undefined && isThroughputCollapse(use.throughputBps, history, policy)) {
      leave(use.pathway);
      collapsedFrom = use.pathway;
      // Start the history again, so a player that cannot move is not told twice by the same collapse.
      kbps = [Math.round(use.throughputBps / 1000)];
    } else if (use.throughputBps !== undefined) {
      kbps = [...history, Math.round(use.throughputBps / 1000)].slice(-THROUGHPUT_HISTORY);
    } else {
      kbps = history;
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

  const next: SessionMemory = { first: priority[0], on, kbps: on === undefined ? [] : kbps, left: [...left.values()] };
  return { priority, memory: writeSessionMemory(next), held, ...(collapsedFrom !== undefined ? { collapsedFrom } : {}) };
}

export interface SteeringRequestContext {
  readonly sessionId: string;
  readonly weights: Readonly<Record<string, number>>;
  readonly nowSeconds: number;
  readonly policy: SessionSteeringPolicy;
}

/** The whole per-request decision from the steering request's raw (URL-encoded) query string. */
export function steerSessionFromQuery(querystring: string, context: SteeringRequestContext): SessionSteeringDecision {
  // dash.js's first request (queryBeforeStart) and players that report nothing: no parse at all.
  if (querystring === '') return { priority: rankPathways(context.sessionId, context.weights), memory: '', held: [] };
  const params = new URLSearchParams(querystring);
  const known = new Set(Object.keys(context.weights));
  return steerSession({ ...context, report: readSteeringReport(params), memory: readSessionMemory(params, known, context.nowSeconds, context.policy) });
}
