/**
 * CMCD v2 event-mode reports of one simulated viewer (CTA-5004-B "Event mode"), shaped like the ones
 * hls.js 1.7 sends through @svta/cml-cmcd's CmcdReporter with the reference player's event target
 * (local/public/player.js: events t, ps, e, rr, bc; batches of 4): one line per event, encoded by
 * @svta/cml-cmcd's `encodeCmcd`, `sn` counting per target from 0, `msd` once, every line carrying the
 * session's data (`sid`, `cid`, `sta`, `bl`, `br`, `mtp`).
 *
 * Every line also carries `cdn` (the pathway id, CTA-5004-B "CDN ID"), for people reading the reports: the
 * platform attributes nothing by it (a free-text claim, ADR 0054). A line counts for the host of a verified
 * `url` (`rr` lines carry the segment URL with the session's token) or the session's last such host,
 * which the ingest remembers across POSTs (ADR 0056).
 *
 * Pure apart from the encoder: the caller passes timestamps and sends the batches.
 */
import { CMCD_EVENT_MODE, encodeCmcd, type Cmcd, type CmcdEventType } from '@svta/cml-cmcd';

/** The CMCD player states a simulated viewer goes through (CTA-5004-B `sta`). */
export type ViewerState = 's' | 'p' | 'r' | 'e' | 'f';

/** The player's data store at the time of an event. */
export interface PlayerSnapshot {
  readonly state: ViewerState;
  readonly pathway: string;
  /** Forward buffer, ms. */
  readonly bufferMs: number;
  /** Bitrate of the video rendition playing, kbps. */
  readonly bitrateKbps: number;
  /** Measured throughput, kbps; undefined before the first measurement. */
  readonly throughputKbps?: number;
}

/** CTA-5004-B object types a viewer requests from a CDN. */
export type ObjectType = 'm' | 'v' | 'a' | 'i';

export interface ResponseReceived {
  /** Epoch ms at which the request started (CmcdReporter takes `resourceTiming.startTime`). */
  readonly requestedAt: number;
  readonly url: string;
  /** HTTP status; 0 when no response arrived (reset, timeout), as CTA-5004-B defines `rc`. */
  readonly status: number;
  readonly ttfbMs?: number;
  readonly ttlbMs?: number;
  readonly objectType: ObjectType;
  /** Media duration of a segment, ms. */
  readonly durationMs?: number;
}

export const REPORTED_EVENTS: readonly CmcdEventType[] = ['t', 'ps', 'e', 'rr', 'bc'];
export const DEFAULT_BATCH_SIZE = 4;

export interface CmcdEventLogOptions {
  readonly sessionId: string;
  readonly contentId: string;
  /** Events of the target; others are not recorded. @default REPORTED_EVENTS */
  readonly events?: readonly CmcdEventType[];
  /** Lines per report. @default DEFAULT_BATCH_SIZE */
  readonly batchSize?: number;
}

const round = (value: number, step: number): number => Math.round(value / step) * step;

/** One encoded CMCD v2 event line. */
export function encodeEventLine(data: Cmcd): string {
  return encodeCmcd(data, { version: 2, reportingMode: CMCD_EVENT_MODE });
}

/**
 * The session's event target: records events as encoded lines and hands back a batch whenever
 * `batchSize` lines are queued. CTA-5004-B rounds `bl` to 100 ms and `mtp` to 100 kbps.
 */
export class CmcdEventLog {
  private sequence = 0;
  private queue: string[] = [];
  private readonly events: ReadonlySet<CmcdEventType>;
  private readonly batchSize: number;

  constructor(private readonly options: CmcdEventLogOptions) {
    this.events = new Set(options.events ?? REPORTED_EVENTS);
    this.batchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH_SIZE);
  }

  /** Lines queued and not yet handed out. */
  get pending(): number {
    return this.queue.length;
  }

  timeInterval(at: number, player: PlayerSnapshot): string[] | undefined {
    return this.record('t', at, player, {});
  }

  /** A play-state change; `startupMs` (CMCD `msd`) goes with the first change into playing. */
  playState(at: number, player: PlayerSnapshot, startupMs?: number): string[] | undefined {
    return this.record('ps', at, player, startupMs !== undefined ? { msd: Math.round(startupMs) } : {});
  }

  bitrateChange(at: number, player: PlayerSnapshot): string[] | undefined {
    return this.record('bc', at, player, {});
  }

  error(at: number, player: PlayerSnapshot, code: string): string[] | undefined {
    return this.record('e', at, player, { ec: [code] } as Partial<Cmcd>);
  }

  responseReceived(response: ResponseReceived, player: PlayerSnapshot): string[] | undefined {
    return this.record('rr', response.requestedAt, player, {
      url: response.url,
      rc: response.status,
      ot: response.objectType,
      ...(response.ttfbMs !== undefined ? { ttfb: Math.max(0, Math.round(response.ttfbMs)) } : {}),
      ...(response.ttlbMs !== undefined ? { ttlb: Math.max(0, Math.round(response.ttlbMs)) } : {}),
      ...(response.durationMs !== undefined ? { d: Math.round(response.durationMs) } : {}),
    });
  }

  /** Everything still queued (session end, like CmcdReporter.flush). */
  drain(): string[] {
    const lines = this.queue;
    this.queue = [];
    return lines;
  }

  private record(type: CmcdEventType, at: number, player: PlayerSnapshot, fields: Partial<Cmcd>): string[] | undefined {
    if (!this.events.has(type)) return undefined;
    const line = encodeEventLine({
      v: 2,
      e: type,
      ts: Math.round(at),
      sn: this.sequence++,
      sid: this.options.sessionId,
      cid: this.options.contentId,
      sf: 'h',
      st: 'v',
      sta: player.state,
      cdn: player.pathway,
      bl: [round(Math.max(0, player.bufferMs), 100)],
      br: [Math.round(player.bitrateKbps)],
      ...(player.throughputKbps !== undefined ? { mtp: [Math.max(100, round(player.throughputKbps, 100))] } : {}),
      ...fields,
    } as Cmcd);
    this.queue.push(line);
    if (this.queue.length < this.batchSize) return undefined;
    return this.drain();
  }
}

/** The POST body of one report: lines joined by newlines (what CmcdReporter sends). */
export const reportBody = (lines: readonly string[]): string => lines.join('\n');
