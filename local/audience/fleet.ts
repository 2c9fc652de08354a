/**
 * A simulated audience: `sessions` concurrent viewers (viewer.ts) spread round-robin over `countries`,
 * each watching a READY asset for a while, leaving, and being replaced by a new viewer with a new
 * session (a real audience churns; new sessions are what brings traffic back to a CDN that every
 * failed-over session has in its penalty box, docs/adr/0086-audience-churn-brings-a-healed-cdn-back.md).
 * The same code
 * runs the twin's built-in audience (`npm run dev`, local/dev.ts) and the load harness
 * (bench/audience.bench.ts): only the size and the clock budget differ.
 */
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { isRoutingCountry } from '../../core/identifiers';
import { reportBody, type ObjectType, type ViewerState } from './cmcd-events';
import { createHttpClient, type HttpClient, type HttpResult } from './http-client';
import { HLS_PATHWAY_PENALTY_MS } from './pathway-choice';
import { ViewerSession, type SessionOutcome, type ViewerObserver } from './viewer';

export interface AudienceOptions {
  /** Concurrent viewers. */
  readonly sessions: number;
  /** ISO 3166-1 alpha-2 countries, assigned to viewers round-robin (sent as `x-twin-country`). */
  readonly countries: readonly string[];
  /** Playback API base URL (`POST /sessions`), e.g. `http://127.0.0.1:4570`. */
  readonly playbackApi: string;
  /** Ids of the assets viewers may pick (READY ones); asked again at most every few seconds. */
  readonly assets: () => Promise<readonly string[]>;
  /**
   * Mean time a viewer watches before leaving: a third of it at least, the rest exponential (capped at
   * five times the mean). Short by default: new sessions are what brings traffic back to a healed CDN
   * (docs/adr/0086-audience-churn-brings-a-healed-cdn-back.md). @default 30
   */
  readonly meanWatchSeconds?: number;
  /** Forward buffer each player keeps. @default 10 */
  readonly maxBufferSeconds?: number;
  /** How long a viewer avoids a pathway that failed it. @default HLS_PATHWAY_PENALTY_MS (hls.js: 300 s) */
  readonly penaltyMs?: number;
  /**
   * Viewers' first sessions start spread over this long, not all at once: 48 players starting within a
   * second saturate the twin's one process, and the slow first minute reads as a slow CDN to the routing
   * scorer. @default 1 s per session, at most 60 s
   */
  readonly rampUpMs?: number;
  /**
   * Every viewer's access link, kbps (viewer.ts). One figure for all: with a few viewers per pathway and
   * country, a spread of links would make one CDN's cell look slower than another's by the luck of who
   * watches it, and the routing scorer compares throughput between pathways. @default 12000
   */
  readonly accessKbps?: number;
  /** @default Math.random */
  readonly random?: () => number;
  /** One line per noteworthy fleet event (no per-request logging). @default none */
  readonly log?: (message: string) => void;
}

/** What a twin is told about its audience; the playback API and the asset list come from the twin itself. */
export type AudienceSettings = Omit<AudienceOptions, 'playbackApi' | 'assets' | 'log'>;

export interface PathwaySwitch {
  readonly at: number;
  readonly country: string;
  readonly from: string;
  readonly to: string;
  readonly reason: 'steering' | 'failover';
}

export interface AudienceStats {
  readonly target: number;
  /** Viewers with a session, by player state (s starting, p playing, r rebuffering). */
  readonly active: number;
  readonly playing: number;
  readonly rebuffering: number;
  readonly sessions: { readonly started: number; readonly watched: number; readonly failed: number; readonly notReady: number };
  /** Viewers currently on each pathway, per country. */
  readonly pathwaysByCountry: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** CDN requests (every attempt) per pathway, and how many of them failed. */
  readonly requests: Readonly<Record<string, { readonly total: number; readonly failed: number; readonly bytes: number }>>;
  readonly switches: { readonly steering: number; readonly failover: number };
  /** The last 200 pathway switches, oldest first. */
  readonly recentSwitches: readonly PathwaySwitch[];
  readonly steeringRequests: { readonly ok: number; readonly failed: number };
  readonly reports: { readonly posts: number; readonly lines: number; readonly failed: number };
  /** Totals of finished sessions. */
  readonly playedMs: number;
  readonly stalledMs: number;
  readonly stalls: number;
}

export interface Audience {
  stats(): AudienceStats;
  /** Ends every session (reports still queued are dropped, those in flight finish) and waits for the viewers to leave. */
  stop(): Promise<void>;
}

export class InvalidAudienceOptionsError extends Error {
  constructor(message: string) {
    super(`audience: ${message}`);
    this.name = 'InvalidAudienceOptionsError';
  }
}

const RECENT_SWITCHES = 200;
const ASSET_REFRESH_MS = 5_000;
const REPORT_TIMEOUTS = { firstByteTimeoutMs: 5_000, loadTimeoutMs: 10_000 } as const;

export function validateAudienceOptions(options: Pick<AudienceOptions, 'sessions' | 'countries'>): void {
  if (!Number.isInteger(options.sessions) || options.sessions < 0) {
    throw new InvalidAudienceOptionsError(`sessions must be a whole number ≥ 0, got ${options.sessions}`);
  }
  if (options.countries.length === 0) throw new InvalidAudienceOptionsError('at least one country is needed');
  const bad = options.countries.find((c) => !isRoutingCountry(c));
  if (bad !== undefined) throw new InvalidAudienceOptionsError(`countries are ISO 3166-1 alpha-2 codes like US, got "${bad}"`);
}

interface Slot {
  readonly country: string;
  pathway: string | undefined;
  state: ViewerState | undefined;
}

export function startAudience(options: AudienceOptions): Audience {
  validateAudienceOptions(options);
  const random = options.random ?? Math.random;
  const meanWatchMs = (options.meanWatchSeconds ?? 30) * 1000;
  const accessKbps = options.accessKbps ?? 12_000;
  const rampUpMs = options.rampUpMs ?? Math.min(60_000, 1_000 * options.sessions);
  const http: HttpClient = createHttpClient();
  const stopping = new AbortController();
  // Every viewer and every pause listens to the fleet's stop signal.
  setMaxListeners(0, stopping.signal);
  const inflightReports = new Set<Promise<void>>();

  const counters = {
    started: 0,
    watched: 0,
    failed: 0,
    notReady: 0,
    steeringOk: 0,
    steeringFailed: 0,
    posts: 0,
    lines: 0,
    reportsFailed: 0,
    playedMs: 0,
    stalledMs: 0,
    stalls: 0,
    steeringSwitches: 0,
    failovers: 0,
  };
  const requests = new Map<string, { total: number; failed: number; bytes: number }>();
  const recentSwitches: PathwaySwitch[] = [];
  const slots: Slot[] = Array.from({ length: options.sessions }, (_, i) => ({
    country: options.countries[i % options.countries.length]!,
    pathway: undefined,
    state: undefined,
  }));

  let assetList: { at: number; ids: Promise<readonly string[]> } | undefined;
  const readyAssets = (): Promise<readonly string[]> => {
    if (!assetList || Date.now() - assetList.at > ASSET_REFRESH_MS) {
      assetList = { at: Date.now(), ids: options.assets().catch(() => []) };
    }
    return assetList.ids;
  };

  function sendReport(lines: readonly string[], reportUrl: string, country: string): void {
    if (stopping.signal.aborted || reportUrl === '') return;
    counters.posts += 1;
    counters.lines += lines.length;
    const sent = http
      .request(reportUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/cmcd', 'x-twin-country': country },
        body: reportBody(lines),
        // Not aborted on stop: a report in flight is let finish (within its timeouts), so the twin's
        // gateway is not left forwarding a report to an ingest API that has shut down.
        ...REPORT_TIMEOUTS,
      })
      .then((answer: HttpResult) => {
        if (!answer.ok && answer.failure !== 'aborted') counters.reportsFailed += 1;
      });
    inflightReports.add(sent);
    void sent.finally(() => inflightReports.delete(sent));
  }

  function observerFor(slot: Slot): ViewerObserver {
    return {
      sessionStarted: () => {
        counters.started += 1;
        slot.state = 's';
      },
      pathwayChanged: (from, to, reason, at) => {
        slot.pathway = to;
        if (reason === 'start' || from === undefined) return;
        if (reason === 'failover') counters.failovers += 1;
        else counters.steeringSwitches += 1;
        recentSwitches.push({ at, country: slot.country, from, to, reason });
        if (recentSwitches.length > RECENT_SWITCHES) recentSwitches.shift();
      },
      request: (pathway: string, _objectType: ObjectType, result: HttpResult) => {
        let entry = requests.get(pathway);
        if (!entry) requests.set(pathway, (entry = { total: 0, failed: 0, bytes: 0 }));
        entry.total += 1;
        entry.bytes += result.bytes;
        if (!result.ok) entry.failed += 1;
      },
      steering: (ok) => {
        if (ok) counters.steeringOk += 1;
        else counters.steeringFailed += 1;
      },
      stateChanged: (state) => (slot.state = state),
      report: (lines, reportUrl) => sendReport(lines, reportUrl, slot.country),
    };
  }

  const drawWatchMs = (): number => Math.min(5 * meanWatchMs, meanWatchMs / 3 - meanWatchMs * Math.log(1 - random()) * (2 / 3));
  const pause = (ms: number) => sleep(ms, undefined, { signal: stopping.signal });

  async function runSlot(slot: Slot): Promise<void> {
    await pause(rampUpMs * random());
    let waitingLogged = false;
    for (;;) {
      const ids = await readyAssets();
      if (ids.length === 0) {
        if (!waitingLogged && slot === slots[0]) options.log?.('audience: waiting for a READY asset');
        waitingLogged = true;
        await pause(2_000 + 1_000 * random());
        continue;
      }
      const assetId = ids[Math.floor(random() * ids.length)]!;
      const session = new ViewerSession(
        { http, playbackApi: options.playbackApi, observer: observerFor(slot), signal: stopping.signal },
        {
          country: slot.country,
          accessKbps,
          watchMs: drawWatchMs(),
          maxBufferSeconds: options.maxBufferSeconds ?? 10,
          penaltyMs: options.penaltyMs ?? HLS_PATHWAY_PENALTY_MS,
        },
        assetId,
      );
      const outcome: SessionOutcome = await session.watch();
      slot.pathway = undefined;
      slot.state = undefined;
      if (outcome.kind === 'stopped') return;
      if (outcome.kind === 'watched') {
        counters.watched += 1;
        counters.playedMs += outcome.playedMs;
        counters.stalledMs += outcome.stalledMs;
        counters.stalls += outcome.stalls;
        // A new viewer arrives a moment after the last one left.
        await pause(250 + 1_000 * random());
      } else if (outcome.kind === 'not-ready') {
        counters.notReady += 1;
        assetList = undefined;
        await pause(2_000 + 1_000 * random());
      } else {
        counters.failed += 1;
        if (counters.failed === 1 || counters.failed % 100 === 0) options.log?.(`audience: a session failed (${counters.failed} so far): ${outcome.reason}`);
        await pause(2_000 + 3_000 * random());
      }
    }
  }

  const running = Promise.all(slots.map((slot) => runSlot(slot).catch((error: unknown) => {
    if (!stopping.signal.aborted) options.log?.(`audience: a viewer stopped: ${(error as Error).message}`);
  })));

  return {
    stats(): AudienceStats {
      const pathwaysByCountry: Record<string, Record<string, number>> = {};
      let active = 0;
      let playing = 0;
      let rebuffering = 0;
      for (const slot of slots) {
        if (slot.state === undefined) continue;
        active += 1;
        if (slot.state === 'p') playing += 1;
        if (slot.state === 'r') rebuffering += 1;
        if (slot.pathway === undefined) continue;
        const byPathway = (pathwaysByCountry[slot.country] ??= {});
        byPathway[slot.pathway] = (byPathway[slot.pathway] ?? 0) + 1;
      }
      return {
        target: options.sessions,
        active,
        playing,
        rebuffering,
        sessions: { started: counters.started, watched: counters.watched, failed: counters.failed, notReady: counters.notReady },
        pathwaysByCountry,
        requests: Object.fromEntries([...requests].map(([id, r]) => [id, { ...r }])),
        switches: { steering: counters.steeringSwitches, failover: counters.failovers },
        recentSwitches: [...recentSwitches],
        steeringRequests: { ok: counters.steeringOk, failed: counters.steeringFailed },
        reports: { posts: counters.posts, lines: counters.lines, failed: counters.reportsFailed },
        playedMs: counters.playedMs,
        stalledMs: counters.stalledMs,
        stalls: counters.stalls,
      };
    },
    async stop() {
      stopping.abort();
      await running;
      await Promise.allSettled([...inflightReports]);
      http.close();
    },
  };
}
