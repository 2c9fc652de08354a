/**
 * One simulated viewer session, doing over HTTP what the reference player (hls.js 1.7 with the failover
 * policy of ADR 0075, local/public/player.js) does:
 *
 *  1. `POST <playback API>/sessions {assetId}` → signed `hls` and `reportUrl`;
 *  2. the multivariant playlist from the gateway; the first pathway is its EXT-X-CONTENT-STEERING
 *     PATHWAY-ID; the steering server is asked at once and then every TTL (pathway-choice.ts);
 *  3. the media playlists and init segments of the chosen rung and its audio group on that pathway's
 *     CDN, then segments at real-time pace, keeping `maxBufferSeconds` of media ahead, the asset looped;
 *  4. a request that fails is retried once (500 ms after an error, at once after a timeout); when the
 *     retry of a video request fails too, the other rungs of the same pathway are tried (next lower
 *     first), and when none is left — or an audio request failed — the pathway goes into the penalty
 *     box and the next pathway of the last PATHWAY-PRIORITY takes over (hls.js error-controller.ts,
 *     `getLevelSwitchAction`);
 *  5. CMCD v2 event reports (cmcd-events.ts) to `reportUrl` in batches of 4 — `rr` for every segment and
 *     init segment that loaded, as hls.js does — and CMCD v2 query data on every CDN request (hls.js's
 *     default transmission mode), which the CDN's real-time log keeps.
 *
 * Every request carries `x-twin-country`, which the twin's CloudFront stand-in turns into
 * CloudFront-Viewer-Country (local/edge/cloudfront-server.ts): steering, CDN logs and the report ingest
 * all see the viewer's country.
 */
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { toCmcdQuery, type Cmcd } from '@svta/cml-cmcd';
import { CmcdEventLog, type ObjectType, type PlayerSnapshot } from './cmcd-events';
import type { HttpClient, HttpResult } from './http-client';
import {
  parseMediaPlaylist,
  parseMultivariant,
  pickVariant,
  rungsInFailoverOrder,
  sameVariantOn,
  type MediaPlaylist,
  type MultivariantPlaylist,
  type VariantStream,
} from '../../core/steered-hls-playlists';
import {
  failoverPathway,
  HLS_DEFAULT_ESTIMATE_BPS,
  parseSteeringManifest,
  PenaltyBox,
  steeredPathway,
  steeringRequestUrl,
} from './pathway-choice';
import { PlaybackClock } from './playback-clock';

/** hls.js's load policies in the reference player (ADR 0075), and its steering manifest policy. */
export const LOAD_POLICY = {
  segment: { firstByteTimeoutMs: 5_000, loadTimeoutMs: 60_000 },
  playlist: { firstByteTimeoutMs: 5_000, loadTimeoutMs: 10_000 },
  steering: { firstByteTimeoutMs: 10_000, loadTimeoutMs: 20_000 },
  /** Wait before the one retry after an HTTP error; a timeout is retried at once. */
  errorRetryDelayMs: 500,
} as const;
/** CTA-5004-B: players report `t` events every CMCD_DEFAULT_TIME_INTERVAL (30 s); hls.js keeps that default. */
export const TIME_INTERVAL_MS = 30_000;
/** hls.js's ABR moves up only while the estimate leaves this headroom (abrBandWidthUpFactor). */
const ABR_UP_FACTOR = 0.7;

export interface ViewerProfile {
  readonly country: string;
  /**
   * The viewer's access link, kbps. What it measures is capped by it: the twin's loopback moves a
   * segment in milliseconds, which no viewer's network does, so without a cap every rung is affordable
   * and `mtp` reads in Gbit/s.
   */
  readonly accessKbps: number;
  /** How long this viewer watches before leaving. */
  readonly watchMs: number;
  /** Forward buffer the player keeps (hls.js maxBufferLength); short, so requests keep flowing. */
  readonly maxBufferSeconds: number;
  /** How long a failed pathway stays in the penalty box. */
  readonly penaltyMs: number;
}

/** What a session tells the fleet as it goes (counters, the pathway in use, switches). */
export interface ViewerObserver {
  sessionStarted(sessionId: string): void;
  pathwayChanged(from: string | undefined, to: string, reason: 'start' | 'steering' | 'failover', at: number): void;
  request(pathway: string, objectType: ObjectType, result: HttpResult): void;
  steering(ok: boolean): void;
  stateChanged(state: PlayerSnapshot['state']): void;
  report(lines: readonly string[], reportUrl: string): void;
}

export type SessionOutcome =
  | { readonly kind: 'watched'; readonly playedMs: number; readonly stalledMs: number; readonly stalls: number }
  | { readonly kind: 'not-ready' }
  | { readonly kind: 'failed'; readonly reason: string }
  | { readonly kind: 'stopped' };

export interface ViewerDeps {
  readonly http: HttpClient;
  /** Playback API base URL, e.g. `http://127.0.0.1:4570`. */
  readonly playbackApi: string;
  readonly observer: ViewerObserver;
  /** Aborted when the fleet stops. */
  readonly signal: AbortSignal;
  readonly now?: () => number;
}

interface SessionAnswer {
  readonly sessionId: string;
  readonly hls: string;
  /** Absent for a session not sampled for reports (ADR 0058): the viewer then reports nothing. */
  readonly reportUrl?: string;
}

interface Track {
  readonly kind: 'video' | 'audio';
  playlist: MediaPlaylist;
  /** Index of the next segment in `playlist.segments` (wraps: the asset is looped). */
  next: number;
  /** Media seconds buffered, continuous across loops. */
  bufferedEnd: number;
}

/** The pathway whose playlists and init segments the tracks hold, and the rung they are on. */
interface PathwayMedia {
  readonly pathway: string;
  readonly variant: VariantStream;
}

/** No pathway is left to fail over to: the player gives up (CMCD `sta=f`). */
class SessionFailure extends Error {}

/** Both attempts of a request on one pathway failed: time to fail over. */
class PathwayFailure extends Error {}

interface CdnRequest {
  readonly url: string;
  readonly objectType: ObjectType;
  readonly pathway: string;
  readonly durationMs?: number;
}

export class ViewerSession {
  private readonly now: () => number;
  private readonly penalties: PenaltyBox;
  private readonly abort = new AbortController();
  private playlist!: MultivariantPlaylist;
  private log: CmcdEventLog | undefined;
  private clock!: PlaybackClock;
  private sessionId = '';
  private reportUrl = '';
  private current = '';
  private priority: readonly string[] | undefined;
  private media: PathwayMedia | undefined;
  /** Rungs of the current pathway that failed (hls.js `level.loadError`); a new pathway starts clean. */
  private readonly failedRungs = new Set<string>();
  private readonly tracks = new Map<Track['kind'], Track>();
  /** ABR's bandwidth estimate (also `_HLS_throughput`), seeded with hls.js's default. */
  private estimateKbps = HLS_DEFAULT_ESTIMATE_BPS / 1000;
  /** Throughput of the last video segment (CMCD `mtp`); undefined before the first one. */
  private measuredKbps: number | undefined;
  private bitrateKbps = 0;

  constructor(
    private readonly deps: ViewerDeps,
    private readonly profile: ViewerProfile,
    private readonly assetId: string,
  ) {
    this.now = deps.now ?? Date.now;
    this.penalties = new PenaltyBox(profile.penaltyMs);
  }

  async watch(): Promise<SessionOutcome> {
    const onStop = () => this.abort.abort();
    if (this.deps.signal.aborted) return { kind: 'stopped' };
    // The steering loop, the segment loop and their requests all listen to the session's signal.
    setMaxListeners(0, this.abort.signal);
    this.deps.signal.addEventListener('abort', onStop, { once: true });
    const startedAt = this.now();
    let interval: NodeJS.Timeout | undefined;
    try {
      const session = await this.createSession();
      if (session === undefined) return { kind: 'not-ready' };
      this.sessionId = session.sessionId;
      this.reportUrl = session.reportUrl ?? '';
      this.log = new CmcdEventLog({ sessionId: session.sessionId, contentId: this.assetId });
      this.clock = new PlaybackClock({ startedAt });
      this.deps.observer.sessionStarted(session.sessionId);

      this.playlist = await this.loadMultivariant(session.hls);
      const initial = this.playlist.steering?.initialPathway;
      this.switchTo(initial !== undefined && this.playlist.pathways.includes(initial) ? initial : this.playlist.pathways[0]!, 'start');
      // CmcdReporter.start() sends a time-interval event at once and then one per interval; the first
      // play state (starting) is a state change of its own.
      this.send(() => this.log!.timeInterval(this.now(), this.snapshot()));
      this.send(() => this.log!.playState(this.now(), this.snapshot()));
      interval = setInterval(() => this.send(() => this.log!.timeInterval(this.now(), this.snapshot())), TIME_INTERVAL_MS);
      interval.unref();
      if (this.playlist.steering) void this.followSteering(this.playlist.steering.serverUri);

      await this.play(startedAt + this.profile.watchMs);
      return { kind: 'watched', playedMs: this.clock.playedMs, stalledMs: this.clock.stalledMs, stalls: this.clock.stalls };
    } catch (error) {
      if (this.abort.signal.aborted) return { kind: 'stopped' };
      const reason = error instanceof Error ? error.message : String(error);
      if (this.log) {
        const at = this.now();
        this.clock.end(at, 'f');
        this.deps.observer.stateChanged('f');
        this.send(() => this.log!.playState(at, this.snapshot()));
        this.send(() => this.log!.error(at, this.snapshot(), error instanceof SessionFailure ? 'no-pathway' : 'player'));
      }
      return { kind: 'failed', reason };
    } finally {
      clearInterval(interval);
      this.deps.signal.removeEventListener('abort', onStop);
      this.abort.abort();
      // CmcdReporter.flush() on destroy: whatever is queued goes out.
      if (this.log && this.log.pending > 0) this.deps.observer.report(this.log.drain(), this.reportUrl);
    }
  }

  private get headers(): Record<string, string> {
    return { 'x-twin-country': this.profile.country };
  }

  /** `undefined` when the asset is not playable (404: unknown or not READY yet). */
  private async createSession(): Promise<SessionAnswer | undefined> {
    const answer = await this.deps.http.request(`${this.deps.playbackApi}/sessions`, {
      method: 'POST',
      headers: { ...this.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ assetId: this.assetId }),
      keepBody: true,
      ...LOAD_POLICY.playlist,
      signal: this.abort.signal,
    });
    if (answer.status === 404) return undefined;
    if (answer.status !== 201 || !answer.body) throw new Error(`POST /sessions answered ${answer.status || answer.failure}`);
    return JSON.parse(answer.body.toString('utf8')) as SessionAnswer;
  }

  private async loadMultivariant(url: string): Promise<MultivariantPlaylist> {
    const answer = await this.deps.http.request(url, { headers: this.headers, keepBody: true, ...LOAD_POLICY.playlist, signal: this.abort.signal });
    if (!answer.ok || !answer.body) throw new Error(`multivariant playlist answered ${answer.status || answer.failure}`);
    return parseMultivariant(answer.body.toString('utf8'), url);
  }

  /** The steering loop: ask now, then every TTL (after a failure, again after the last TTL), until the session ends. */
  private async followSteering(serverUri: string): Promise<void> {
    let uri = serverUri;
    let ttlMs = 10_000;
    while (!this.abort.signal.aborted) {
      const url = steeringRequestUrl(uri, this.current, this.estimateKbps * 1000);
      const answer = await this.deps.http.request(url, { headers: this.headers, keepBody: true, ...LOAD_POLICY.steering, signal: this.abort.signal });
      if (this.abort.signal.aborted) return;
      // 410 Gone: the steering server asks the player to stop asking (hls.js then disables steering).
      if (answer.status === 410) return this.deps.observer.steering(false);
      try {
        if (!answer.ok || !answer.body) throw new Error(`steering answered ${answer.status}`);
        const manifest = parseSteeringManifest(answer.body.toString('utf8'), url);
        ttlMs = manifest.ttlSeconds * 1000;
        uri = manifest.reloadUri ?? uri;
        this.priority = manifest.priority;
        const next = steeredPathway(manifest.priority, this.context());
        if (next !== this.current) this.switchTo(next, 'steering');
        this.deps.observer.steering(true);
      } catch {
        this.deps.observer.steering(false);
      }
      await sleep(ttlMs, undefined, { signal: this.abort.signal }).catch(() => undefined);
    }
  }

  private context() {
    return { current: this.current, available: this.playlist.pathways, penalties: this.penalties, now: this.now() };
  }

  private switchTo(pathway: string, reason: 'start' | 'steering' | 'failover'): void {
    const from = this.current || undefined;
    this.current = pathway;
    this.failedRungs.clear();
    this.deps.observer.pathwayChanged(from, pathway, reason, this.now());
  }

  /** A request on `pathway` failed for good: fail over, unless steering already moved the session. */
  private pathwayFailed(error: unknown, pathway: string): void {
    if (!(error instanceof PathwayFailure)) throw error;
    if (this.current !== pathway) return;
    const next = failoverPathway(this.priority, this.context());
    if (next === undefined) throw new SessionFailure(`every pathway failed (${this.playlist.pathways.join(', ')})`);
    this.switchTo(next, 'failover');
  }

  /** Segments at real-time pace until `until` (epoch ms). */
  private async play(until: number): Promise<void> {
    while (this.now() < until) {
      this.clock.advance(this.now());
      this.applyClockEvents();
      if (this.media?.pathway !== this.current) {
        await this.loadPathway();
        continue;
      }
      if (await this.adaptBitrate()) continue;
      const position = this.clock.position(this.now());
      // The track furthest behind first (hls.js runs one stream controller per track).
      const due = [...this.tracks.values()]
        .filter((t) => t.bufferedEnd - position < this.profile.maxBufferSeconds)
        .sort((a, b) => a.bufferedEnd - b.bufferedEnd)[0];
      if (due) {
        await this.loadSegment(due.kind);
        continue;
      }
      const waitMs = Math.min(
        until - this.now(),
        ...[...this.tracks.values()].map((t) => (t.bufferedEnd - position - this.profile.maxBufferSeconds) * 1000),
      );
      await sleep(Math.max(20, waitMs + 20), undefined, { signal: this.abort.signal });
    }
  }

  /** Start, stall and resume to CMCD play-state events, stamped when they happened. */
  private applyClockEvents(): void {
    for (const event of this.clock.drainEvents()) {
      const state = event.type === 'stalled' ? ('r' as const) : ('p' as const);
      this.deps.observer.stateChanged(state);
      this.send(() => this.log!.playState(event.at, { ...this.snapshot(), state }, event.type === 'playing' ? event.startupMs : undefined));
    }
  }

  /** The next segment of a track from the current pathway; on failure, the next pathway takes over. */
  private async loadSegment(kind: Track['kind']): Promise<void> {
    const track = this.tracks.get(kind)!;
    const segment = track.playlist.segments[track.next]!;
    const pathway = this.current;
    let result: HttpResult;
    try {
      result = await this.cdnRequest(
        { url: segment.uri, objectType: kind === 'video' ? 'v' : 'a', pathway, durationMs: segment.durationSeconds * 1000 },
        false,
      );
    } catch (error) {
      if (error instanceof PathwayFailure && kind === 'video' && this.current === pathway && (await this.switchRung(pathway))) return;
      return this.pathwayFailed(error, pathway);
    }
    track.bufferedEnd += segment.durationSeconds;
    track.next = (track.next + 1) % track.playlist.segments.length;
    if (kind === 'video' && result.ttlbMs > 0 && result.bytes > 0) {
      // What the viewer's link let through; ABR smooths it (hls.js keeps a fast and a slow EWMA, one is
      // enough here), `mtp` reports it as measured, so a slow CDN shows at once and a new session's
      // ramp from the default estimate does not read as a slow CDN.
      this.measuredKbps = Math.min((result.bytes * 8) / result.ttlbMs, this.profile.accessKbps);
      this.estimateKbps = 0.7 * this.estimateKbps + 0.3 * this.measuredKbps;
    }
    this.clock.buffered(Math.min(...[...this.tracks.values()].map((t) => t.bufferedEnd)), this.now());
    this.applyClockEvents();
  }

  /**
   * hls.js's answer to a video request that failed twice: another rung of the same pathway that has not
   * failed yet, the next lower first. False when none is left (time to change pathway).
   */
  private async switchRung(pathway: string): Promise<boolean> {
    const failed = this.media!.variant;
    this.failedRungs.add(failed.uri);
    const variant = await this.loadFirstWorkingRung(pathway, rungsInFailoverOrder(this.playlist, failed).slice(1));
    if (variant === undefined) return this.current !== pathway;
    this.media = { pathway, variant };
    this.setBitrate(variant);
    return true;
  }

  /** Loads the first rung of `candidates` whose playlist and init segment load; undefined when none does. */
  private async loadFirstWorkingRung(pathway: string, candidates: readonly VariantStream[]): Promise<VariantStream | undefined> {
    for (const candidate of candidates) {
      if (this.failedRungs.has(candidate.uri)) continue;
      try {
        await this.loadTrack('video', candidate.uri);
        return candidate;
      } catch (error) {
        if (!(error instanceof PathwayFailure)) throw error;
        if (this.current !== pathway) return undefined;
        this.failedRungs.add(candidate.uri);
      }
    }
    return undefined;
  }

  /** Moves to the best rung the estimate allows (CMCD `bc`); true when it made a request. */
  private async adaptBitrate(): Promise<boolean> {
    const media = this.media!;
    const wanted = pickVariant(this.playlist, media.pathway, this.estimateKbps * 1000 * ABR_UP_FACTOR, this.failedRungs);
    if (wanted.uri === media.variant.uri) return false;
    try {
      await this.loadTrack('video', wanted.uri);
    } catch (error) {
      this.pathwayFailed(error, media.pathway);
      return true;
    }
    this.media = { pathway: media.pathway, variant: wanted };
    this.setBitrate(wanted);
    return true;
  }

  /** A rung change is a CMCD `bc` event; the first rung is one too (the reporter's first state change always fires). */
  private setBitrate(variant: VariantStream): void {
    const kbps = Math.round(variant.bandwidth / 1000);
    if (kbps === this.bitrateKbps) return;
    this.bitrateKbps = kbps;
    this.send(() => this.log!.bitrateChange(this.now(), this.snapshot()));
  }

  /**
   * The current pathway's playlists and init segments, on the rung in use (or the one the estimate
   * allows); a rung whose playlist fails gives way to the others before the pathway does.
   */
  private async loadPathway(): Promise<void> {
    const pathway = this.current;
    const wanted =
      (this.media ? sameVariantOn(this.playlist, this.media.variant, pathway) : undefined) ??
      pickVariant(this.playlist, pathway, this.bitrateKbps > 0 ? this.bitrateKbps * 1000 : this.estimateKbps * 1000 * ABR_UP_FACTOR);
    const variant = await this.loadFirstWorkingRung(pathway, rungsInFailoverOrder(this.playlist, wanted));
    if (this.current !== pathway) return;
    try {
      if (variant === undefined) throw new PathwayFailure(`no rung of ${pathway} loads`);
      const audio = variant.audioGroup !== undefined ? this.playlist.audioByGroup.get(variant.audioGroup) : undefined;
      if (audio !== undefined) await this.loadTrack('audio', audio);
    } catch (error) {
      return this.pathwayFailed(error, pathway);
    }
    if (this.current !== pathway) return;
    this.media = { pathway, variant };
    this.setBitrate(variant);
  }

  /** A media playlist and its init segment on the current pathway, keeping the track's position. */
  private async loadTrack(kind: Track['kind'], playlistUrl: string): Promise<void> {
    const pathway = this.current;
    const answer = await this.cdnRequest({ url: playlistUrl, objectType: 'm', pathway }, true);
    const playlist = parseMediaPlaylist(answer.body!.toString('utf8'), playlistUrl);
    if (playlist.initUri) await this.cdnRequest({ url: playlist.initUri, objectType: 'i', pathway }, false);
    const previous = this.tracks.get(kind);
    this.tracks.set(kind, {
      kind,
      playlist,
      next: previous ? previous.next % playlist.segments.length : 0,
      bufferedEnd: previous?.bufferedEnd ?? 0,
    });
  }

  /** One CDN request with hls.js's one retry; throws PathwayFailure when both attempts fail. */
  private async cdnRequest(request: CdnRequest, keepBody: boolean): Promise<HttpResult> {
    const policy = request.objectType === 'm' ? LOAD_POLICY.playlist : LOAD_POLICY.segment;
    let result: HttpResult | undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      if (attempt > 0 && result?.failure !== 'timeout') await sleep(LOAD_POLICY.errorRetryDelayMs, undefined, { signal: this.abort.signal });
      const requestedAt = this.now();
      result = await this.deps.http.request(this.withCmcdQuery(request), { headers: this.headers, keepBody, ...policy, signal: this.abort.signal });
      if (this.abort.signal.aborted) throw new Error('stopped');
      this.deps.observer.request(request.pathway, request.objectType, result);
      // hls.js records a response-received event for fragments (segments and init segments) that loaded,
      // not for playlists and not for failures (its CMCD fragment loader wraps onSuccess only): a CDN's
      // 5xx reaches the platform through the CDN's log, a reset connection not at all.
      if (result.ok && request.objectType !== 'm') {
        const loaded = result;
        this.send(() =>
          this.log!.responseReceived(
            {
              requestedAt,
              url: request.url,
              status: loaded.status,
              objectType: request.objectType,
              ttlbMs: loaded.ttlbMs,
              ...(loaded.ttfbMs !== undefined ? { ttfbMs: loaded.ttfbMs } : {}),
              ...(request.durationMs !== undefined ? { durationMs: request.durationMs } : {}),
            },
            this.snapshot(),
          ),
        );
      }
      if (result.ok) return result;
      // hls.js retries network errors, timeouts and 5xx; a 4xx is final for that request.
      if (result.status >= 400 && result.status < 500) break;
    }
    throw new PathwayFailure(`${request.url} failed: ${result!.status || result!.failure}`);
  }

  /** hls.js adds CMCD v2 request data as a `CMCD=` query parameter to every media request. */
  private withCmcdQuery(request: CdnRequest): string {
    const data = {
      v: 2,
      sid: this.sessionId,
      cid: this.assetId,
      sf: 'h',
      st: 'v',
      ot: request.objectType,
      bl: [Math.round((this.clock.ahead(this.now()) * 1000) / 100) * 100],
      ...(this.measuredKbps !== undefined ? { mtp: [Math.max(100, Math.round(this.measuredKbps / 100) * 100)] } : {}),
      ...(this.bitrateKbps > 0 ? { br: [this.bitrateKbps] } : {}),
      ...(request.durationMs !== undefined ? { d: Math.round(request.durationMs) } : {}),
      ...(this.clock.state !== 'p' ? { su: true } : {}),
    } as Cmcd;
    return `${request.url}${request.url.includes('?') ? '&' : '?'}${toCmcdQuery(data, { version: 2 })}`;
  }

  private snapshot(): PlayerSnapshot {
    return {
      state: this.clock.state,
      pathway: this.current,
      bufferMs: this.clock.ahead(this.now()) * 1000,
      bitrateKbps: this.bitrateKbps,
      ...(this.measuredKbps !== undefined ? { throughputKbps: this.measuredKbps } : {}),
    };
  }

  /**
   * Records a CMCD event and sends what the log hands back. A session sampled out of reporting (no
   * `reportUrl`, ADR 0058) has no event reporter, as a player configured without a report URL has none:
   * nothing is recorded, so the fleet does not spend its CPU encoding lines nobody sends.
   */
  private send(record: () => string[] | undefined): void {
    if (this.reportUrl === '') return;
    const lines = record();
    if (lines) this.deps.observer.report(lines, this.reportUrl);
  }
}
