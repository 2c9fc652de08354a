/**
 * The media timeline of one simulated viewer: what a `<video>` element does with the buffer hls.js
 * fills. Playback starts once `startSeconds` of media are buffered, the playhead then advances with
 * the wall clock while there is media ahead of it, stops (a stall, CMCD `sta=r`) when it reaches the
 * end of the buffer, and resumes as soon as `resumeSeconds` are buffered again. Nothing ticks: the
 * clock is advanced lazily to the `now` of each call, and reports when in the past a stall began, so
 * the viewer can stamp its CMCD event with the real time.
 *
 * Events (start, stall, resume) queue up inside the clock whichever call noticed them, and
 * `drainEvents()` hands them out: reading the buffer level may be what discovers a stall.
 *
 * Pure (the caller passes `now`, epoch ms), so it is unit-tested with literal clocks.
 */
import type { ViewerState } from './cmcd-events';

export type ClockEvent =
  | { readonly type: 'playing'; readonly at: number; readonly startupMs: number }
  | { readonly type: 'stalled'; readonly at: number }
  | { readonly type: 'resumed'; readonly at: number; readonly stallMs: number };

export interface PlaybackClockOptions {
  /** Epoch ms the session began (POST /sessions); startup delay is measured from here. */
  readonly startedAt: number;
  /** Media seconds buffered before the first frame. @default 1 */
  readonly startSeconds?: number;
  /** Media seconds buffered before a stalled player plays again. @default 1 */
  readonly resumeSeconds?: number;
}

export class PlaybackClock {
  private positionSeconds = 0;
  private bufferedEndSeconds = 0;
  private asOf: number;
  private stalledSince: number | undefined;
  private current: ViewerState = 's';
  private pending: ClockEvent[] = [];
  private readonly startSeconds: number;
  private readonly resumeSeconds: number;
  /** Totals over the session. */
  playedMs = 0;
  stalledMs = 0;
  stalls = 0;
  startupMs: number | undefined;

  constructor(private readonly options: PlaybackClockOptions) {
    this.asOf = options.startedAt;
    this.startSeconds = options.startSeconds ?? 1;
    this.resumeSeconds = options.resumeSeconds ?? 1;
  }

  get state(): ViewerState {
    return this.current;
  }

  /** Playhead position in media seconds (continuous across loops of the asset). */
  position(now: number): number {
    this.advance(now);
    return this.positionSeconds;
  }

  /** Media seconds buffered ahead of the playhead. */
  ahead(now: number): number {
    this.advance(now);
    return Math.max(0, this.bufferedEndSeconds - this.positionSeconds);
  }

  /** Wall-clock ms until the forward buffer drops below `seconds` (0 if it already has, or the playhead is not moving). */
  msUntilAheadBelow(seconds: number, now: number): number {
    const ahead = this.ahead(now);
    if (this.current !== 'p' || ahead < seconds) return 0;
    return (ahead - seconds) * 1000;
  }

  /** Start, stall and resume events noticed since the last call, oldest first. */
  drainEvents(): ClockEvent[] {
    const events = this.pending;
    this.pending = [];
    return events;
  }

  /** Moves the playhead to `now`; notes a stall if the buffer ran out on the way. */
  advance(now: number): void {
    if (now <= this.asOf) return;
    if (this.current === 'p') {
      const elapsed = (now - this.asOf) / 1000;
      const room = this.bufferedEndSeconds - this.positionSeconds;
      if (elapsed < room) {
        this.positionSeconds += elapsed;
        this.playedMs += elapsed * 1000;
      } else {
        const stalledAt = this.asOf + room * 1000;
        this.positionSeconds = this.bufferedEndSeconds;
        this.playedMs += room * 1000;
        this.current = 'r';
        this.stalledSince = stalledAt;
        this.stalls += 1;
        this.pending.push({ type: 'stalled', at: stalledAt });
      }
    }
    this.asOf = now;
  }

  /** The buffer now reaches `endSeconds` of media; starts or resumes playback when there is enough. */
  buffered(endSeconds: number, now: number): void {
    this.advance(now);
    this.bufferedEndSeconds = Math.max(this.bufferedEndSeconds, endSeconds);
    const ahead = this.bufferedEndSeconds - this.positionSeconds;
    if (this.current === 's' && ahead >= this.startSeconds) {
      this.current = 'p';
      this.startupMs = Math.max(0, now - this.options.startedAt);
      this.pending.push({ type: 'playing', at: now, startupMs: this.startupMs });
    } else if (this.current === 'r' && ahead >= this.resumeSeconds) {
      const stallMs = now - (this.stalledSince ?? now);
      this.current = 'p';
      this.stalledMs += stallMs;
      this.stalledSince = undefined;
      this.pending.push({ type: 'resumed', at: now, stallMs });
    }
  }

  /** The player gave up (fatal error) or the viewer left: the playhead stops here. */
  end(now: number, state: 'e' | 'f'): void {
    this.advance(now);
    if (this.current === 'r' && this.stalledSince !== undefined) this.stalledMs += now - this.stalledSince;
    this.stalledSince = undefined;
    this.current = state;
  }
}
