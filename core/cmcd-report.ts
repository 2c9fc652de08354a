import { CMCD_DEFAULT_TIME_INTERVAL, type Cmcd, decodeCmcd } from '@svta/cml-cmcd';
import type { QoeSample } from './qoe-types';
import { normalizeHost, type PathwayHosts, pathwayOfHost } from './pathway-hosts';
import { type BoundedField, PLAYER_VALUE_BOUNDS } from './player-value-bounds';
import { MalformedRecordError } from './realtime-log';
import { isCountryCode } from './identifiers';
import type { Keyring } from './keyring';
import { verifyToken } from './token';
import { assetIdOfPath, splitTokenPath } from './token-path';

export { type BoundedField, PLAYER_VALUE_BOUNDS };

/**
 * CMCD v2 event-mode reports (CTA-5004-B "Event mode"): an `application/cmcd` POST body of
 * newline-separated CMCD lines, one event per line. This is what @svta/cml-cmcd's CmcdReporter (and so
 * hls.js ≥ 1.7 with `cmcd: { version: 2, eventTargets }`) sends: `body: lines.join("\n")`, one line per
 * event, `batchSize` lines per POST (default 1). Decoding is @svta/cml-cmcd's `decodeCmcd`; this module
 * only maps decoded events to QoE samples.
 */

/** Largest line accepted; CTA-5004-B caps string values at 128 chars (url excepted), hls.js lines are < 1 KiB. */
export const MAX_CMCD_LINE_BYTES = 4 * 1024;

export function splitCmcdReportBody(body: string): string[] {
  const lines: string[] = [];
  for (const raw of body.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() !== '') lines.push(line);
  }
  return lines;
}

/** Decodes every line; one undecodable line makes the whole report malformed (it was not built by a CMCD encoder). */
export function decodeCmcdReportLines(lines: readonly string[]): Cmcd[] {
  return lines.map((line) => {
    if (line.length > MAX_CMCD_LINE_BYTES) throw new MalformedRecordError('oversize-cmcd-line');
    let decoded: Cmcd;
    try {
      decoded = decodeCmcd(line) as Cmcd;
    } catch {
      throw new MalformedRecordError('bad-cmcd-line');
    }
    if (typeof decoded.e !== 'string') throw new MalformedRecordError('cmcd-line-without-event');
    return decoded;
  });
}

export interface CmcdReportContext {
  /** Epoch ms at which the ingest endpoint received the report (server clock): every sample's minute. */
  readonly receivedAt: number;
  /** Server-side viewer country (CloudFront-Viewer-Country), "XX" when unknown. */
  readonly country: string;
  readonly asn?: number;
  /** Asset id proven by the playback token; preferred over the player-supplied `cid`. */
  readonly assetId?: string;
  readonly hosts: PathwayHosts;
  /**
   * Per event, the pathway host the ingest verified for it ('' when none): the host of a `url` carrying a
   * token of the same session, else the session's last such host (docs/telemetry.md "Which pathway").
   */
  readonly verifiedHosts: readonly string[];
  /** Time one `t` event covers: the interval the session actually reports at (ingest, {@link reportIntervalOf}). */
  readonly intervalMs: number;
  /** The share of the session's per-minute evidence budget the ingest granted these lines. */
  readonly grant: EvidenceGrant;
}

/** Evidence budget of lines (docs/telemetry.md "Per-session evidence"). */
export interface EvidenceGrant {
  /** Playing + stalled milliseconds the lines may add. */
  readonly ms: number;
  /** Lines that may add to the additive counters; the rest only mark their session. */
  readonly lines: number;
}

/** Per session and UTC minute of receipt: time played can never exceed the minute. */
export const SESSION_MINUTE_BUDGET: EvidenceGrant = Object.freeze({ ms: 60_000, lines: 60 });

export interface CmcdSamples {
  readonly samples: QoeSample[];
  /** Lines with no verified pathway. */
  readonly unattributed: number;
  /** Player-reported values outside {@link PLAYER_VALUE_BOUNDS}, set aside (the rest of their line is kept). */
  readonly implausible: number;
  /** Lines beyond their session's evidence budget: counted in the session sets only. */
  readonly overBudget: number;
  /** CDN log lines of requests the edge refused or answered itself. */
  readonly refused: number;
}

/** Upper bound of one line's starvation time (`bsd`) for a player reporting every `intervalMs`. */
export function stallBound(intervalMs: number): number {
  return 2 * intervalMs;
}

/** Interval assumed when a session has sent only one `t` event so far: CTA-5004-B's and hls.js's default (30 s). */
export const DEFAULT_REPORT_INTERVAL_MS = CMCD_DEFAULT_TIME_INTERVAL * 1000;
/** Longest interval one `t` event may stand for; a longer gap is a paused or backgrounded player. */
export const MAX_REPORT_INTERVAL_MS = 5 * 60_000;
const MIN_REPORT_INTERVAL_MS = 1000;

/**
 * The interval a session's `t` events stand for: the gap between its two most recent `t` timestamps
 * (`previousT` from the session's state, then this report's), clamped to 1 s – 5 min; 30 s without two.
 * Players choose their interval (hls.js and @svta/cml-cmcd default to 30 s, configurable per target).
 */
export function reportIntervalOf(events: readonly Cmcd[], previousT?: number): { intervalMs: number; lastT?: number } {
  const times = events.filter((e) => e.e === 't').map((e) => numberOf(e.ts)).filter((ts): ts is number => ts !== undefined);
  const all = previousT === undefined ? times : [previousT, ...times];
  const lastT = all.length > 0 ? Math.max(...all) : undefined;
  if (all.length < 2) return { intervalMs: DEFAULT_REPORT_INTERVAL_MS, ...(lastT !== undefined ? { lastT } : {}) };
  const gap = all[all.length - 1]! - all[all.length - 2]!;
  const intervalMs = gap > 0 ? Math.min(MAX_REPORT_INTERVAL_MS, Math.max(MIN_REPORT_INTERVAL_MS, Math.round(gap))) : DEFAULT_REPORT_INTERVAL_MS;
  return { intervalMs, ...(lastT !== undefined ? { lastT } : {}) };
}

/**
 * Playing and stalled time one line claims: a `t` event one interval in its state (`p` → play, `r` →
 * stall), `bsd` (within {@link stallBound}) as the stall time when sent. `implausible` when a `bsd` is out of bounds.
 */
export function timeClaimOf(event: Cmcd, intervalMs: number): { playMs: number; stallMs: number; implausible: boolean } {
  const state = stringOf(event.sta);
  const reportedStall = sumOf(event.bsd);
  const implausible = reportedStall !== undefined && !(reportedStall >= 0 && reportedStall <= stallBound(intervalMs));
  const stallMs = reportedStall !== undefined ? (implausible ? 0 : reportedStall) : event.e === 't' && state === 'r' ? intervalMs : 0;
  const playMs = event.e === 't' && state === 'p' ? intervalMs : 0;
  return { playMs, stallMs, implausible };
}

/** What a report asks of its session's budget: its lines and the time its lines claim. */
export function evidenceClaimOf(events: readonly Cmcd[], intervalMs: number): EvidenceGrant {
  let ms = 0;
  for (const event of events) {
    const claim = timeClaimOf(event, intervalMs);
    ms += claim.playMs + claim.stallMs;
  }
  return { ms: Math.round(ms), lines: events.length };
}

/**
 * The pathway host the platform can vouch for, per event: the host of an event's `url` when
 * `hostOfSessionUrl` accepts it (the ingest accepts a media URL of the session's own token,
 * {@link sessionMediaHostOf}), else the last such host before it — earlier in the report, or `previousHost` from the
 * session's state. Stock players send `url` only on response-received events, and hls.js posts one
 * event per request by default, so the session's state carries the attribution across reports.
 */
export function verifiedHostsOf(
  events: readonly Cmcd[],
  hostOfSessionUrl: (url: string) => string | undefined,
  previousHost?: string,
): { readonly hosts: string[]; readonly lastHost?: string } {
  let current = previousHost;
  const hosts = events.map((event) => {
    const url = stringOf(event.url);
    const verified = url === undefined ? undefined : hostOfSessionUrl(url);
    if (verified !== undefined) current = verified;
    return current ?? '';
  });
  return { hosts, ...(current !== undefined ? { lastHost: current } : {}) };
}

/**
 * The pathway host a response URL proves for a session (ADR 0068): the URL's host when its path is a
 * delivery-media path (`/<token>/media/<asset>/…`, core/playback-paths.ts) whose token verifies with the
 * keyring, names `session.sid` and the path's asset; otherwise undefined. Only CDN pathways serve media
 * paths: the gateway's manifest (`/play/`) and steering (`/steer/`) answers, which carry the same token,
 * say nothing about the CDN the session plays from and must not replace the host it does.
 */
export function sessionMediaHostOf(
  url: string,
  session: { readonly sid: string; readonly keyring: Keyring; readonly nowSeconds: number; readonly ip?: string },
): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const split = splitTokenPath(parsed.pathname);
  // The same path rules as the edge's token check (core/token-path.ts): dot segments and encoded separators name no asset.
  const assetId = split !== null && split.rest.startsWith('/media/') ? assetIdOfPath(split.rest) : null;
  if (split === null || assetId === null) return undefined;
  const verified = verifyToken(split.token, session.keyring, {
    nowSeconds: session.nowSeconds,
    assetId,
    ...(session.ip !== undefined ? { ip: session.ip } : {}),
  });
  return verified.ok && verified.claims.sid === session.sid ? normalizeHost(parsed.host) : undefined;
}

type MutableSample = { -readonly [K in keyof QoeSample]: QoeSample[K] };

function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (value !== null && typeof value === 'object' && 'value' in value) return numberOf((value as { value: unknown }).value);
  return undefined;
}

/**
 * CMCD v2 numeric keys are inner lists with object-type parameters, e.g. `br=(3000;v 128;a)`. The
 * video (or muxed) entry is the one that matters for QoE; otherwise the first entry.
 */
function primaryNumber(value: unknown): number | undefined {
  if (!Array.isArray(value)) return numberOf(value);
  const video = value.find((item: unknown) => {
    const params = item !== null && typeof item === 'object' ? (item as { params?: Record<string, unknown> }).params : undefined;
    return params?.v === true || params?.av === true;
  });
  return numberOf(video ?? value[0]);
}

function sumOf(value: unknown): number | undefined {
  if (!Array.isArray(value)) return numberOf(value);
  let sum = 0;
  for (const item of value) sum += numberOf(item) ?? 0;
  return sum;
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Decoded event lines of one report to samples, one per attributed line (ADR 0051 as amended by ADR 0054).
 *
 * - pathway: the ingest-verified host of the line ({@link CmcdReportContext.verifiedHosts}); `cdn`, `h` and an
 *   unverified `url` are the player's word and attribute nothing.
 * - minute: the server receive time (the per-session budgets are per receive minute; client clocks drift).
 * - budget: lines beyond `grant.lines` only mark their session; playing + stalled time stops at `grant.ms`.
 * - playing / stalled time: {@link timeClaimOf}.
 * - stalls: `bs` or a play-state change into rebuffering (`ps` with `sta=r`).
 * - fatal error: a play-state change into `f`; hls.js also sends an `e` event for the same failure,
 *   which is therefore not counted again.
 * - response received (`rr`): `rc` and `ttfb`; `rc=0` means no response (CTA-5004-B "Response code").
 */
export function cmcdEventsToSamples(events: readonly Cmcd[], ctx: CmcdReportContext): CmcdSamples {
  const samples: QoeSample[] = [];
  let unattributed = 0;
  let implausible = 0;
  let overBudget = 0;
  let linesLeft = ctx.grant.lines;
  let msLeft = ctx.grant.ms;
  /** The value when it is within [min, max]; otherwise undefined, counted as implausible. */
  const bounded = (field: Exclude<BoundedField, 'stallMs'>, value: number | undefined): number | undefined => {
    if (value === undefined) return undefined;
    const { min, max } = PLAYER_VALUE_BOUNDS[field];
    if (value >= min && value <= max && (field !== 'status' || Number.isInteger(value))) return value;
    implausible += 1;
    return undefined;
  };

  events.forEach((event, i) => {
    const pathway = pathwayOfHost(ctx.hosts, ctx.verifiedHosts[i]);
    if (pathway === undefined) {
      unattributed += 1;
      return;
    }
    const sample: MutableSample = { ts: ctx.receivedAt, source: 'cmcd', pathway, country: ctx.country };
    if (ctx.asn !== undefined) sample.asn = ctx.asn;
    const sid = stringOf(event.sid);
    if (sid !== undefined) sample.sid = sid;
    const assetId = ctx.assetId ?? stringOf(event.cid);
    if (assetId !== undefined) sample.assetId = assetId;
    if (linesLeft > 0) linesLeft -= 1;
    else {
      sample.sessionOnly = true;
      overBudget += 1;
    }

    const bitrate = bounded('bitrateKbps', primaryNumber(event.br));
    if (bitrate !== undefined) sample.bitrateKbps = bitrate;
    const throughput = bounded('throughputKbps', primaryNumber(event.mtp));
    if (throughput !== undefined) sample.throughputKbps = throughput;
    const buffer = bounded('bufferMs', primaryNumber(event.bl));
    if (buffer !== undefined) sample.bufferMs = buffer;
    const startup = bounded('startupMs', numberOf(event.msd));
    if (startup !== undefined) sample.startupMs = startup;

    const state = stringOf(event.sta);
    if (event.bs === true || (event.e === 'ps' && state === 'r')) sample.starved = true;
    const claim = timeClaimOf(event, ctx.intervalMs);
    if (claim.implausible) implausible += 1;
    // Stall first: a session's stalled time is what the budget exists to bound.
    const stallMs = Math.min(claim.stallMs, sample.sessionOnly ? 0 : msLeft);
    msLeft -= stallMs;
    const playMs = Math.min(claim.playMs, sample.sessionOnly ? 0 : msLeft);
    msLeft -= playMs;
    if (claim.stallMs > 0) sample.stallMs = sample.sessionOnly ? claim.stallMs : stallMs;
    if (playMs > 0) sample.playMs = playMs;
    if (event.e === 'ps' && state === 'f') sample.fatalError = true;
    if (event.e === 'rr') {
      const status = bounded('status', numberOf(event.rc));
      if (status !== undefined) sample.status = status;
      const ttfb = bounded('ttfbMs', numberOf(event.ttfb));
      if (ttfb !== undefined) sample.ttfbMs = ttfb;
    }
    samples.push(sample);
  });
  return { samples, unattributed, implausible, overBudget, refused: 0 };
}

/**
 * What the ingest endpoint puts on the telemetry stream for one accepted report (docs/telemetry.md, ADRs
 * 0052 and 0054): JSON `{"t":"cmcd","v":2,"rt":…,"country":"US","asn":16509,"sid":…,"aid":…,"lines":[…],
 * "vh":[…],"iv":30000,"gms":60000,"gn":4}`. `lines` are the raw CMCD lines as received (decoded once and
 * sid-checked by the ingest); country/ASN/receive time are edge facts the player cannot forge; `vh` the
 * verified pathway host per line, `iv` the session's report interval, `gms`/`gn` the evidence budget the
 * ingest granted these lines from the session's minute.
 */
export interface CmcdIngestRecord {
  readonly t: 'cmcd';
  readonly v: 2;
  readonly rt: number;
  readonly country: string;
  readonly asn?: number;
  readonly sid: string;
  readonly aid?: string;
  readonly lines: readonly string[];
  readonly vh: readonly string[];
  readonly iv: number;
  readonly gms: number;
  readonly gn: number;
}

export function encodeIngestRecord(record: Omit<CmcdIngestRecord, 't' | 'v'>): string {
  const out: CmcdIngestRecord = { t: 'cmcd', v: 2, ...record };
  return JSON.stringify(out);
}

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/**
 * Parses a stream record. Version 1 records (before ADR 0054, at most 24 h of stream retention) carry no
 * verified hosts or grants: they get the host of each line's `url`, the default interval and at most one
 * session-minute budget per record.
 */
export function parseIngestRecord(text: string): CmcdIngestRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new MalformedRecordError('bad-json');
  }
  if (value === null || typeof value !== 'object') throw new MalformedRecordError('bad-ingest-record');
  const r = value as Record<string, unknown>;
  if (r.t !== 'cmcd' || (r.v !== 1 && r.v !== 2)) throw new MalformedRecordError('unknown-record-type');
  if (typeof r.rt !== 'number' || !Number.isSafeInteger(r.rt) || r.rt <= 0) throw new MalformedRecordError('bad-rt');
  if (typeof r.country !== 'string' || !isCountryCode(r.country)) throw new MalformedRecordError('bad-country');
  if (r.asn !== undefined && !isCount(r.asn)) throw new MalformedRecordError('bad-asn');
  if (typeof r.sid !== 'string' || r.sid === '') throw new MalformedRecordError('bad-sid');
  if (r.aid !== undefined && typeof r.aid !== 'string') throw new MalformedRecordError('bad-aid');
  if (!Array.isArray(r.lines) || r.lines.length === 0 || !r.lines.every((l) => typeof l === 'string')) {
    throw new MalformedRecordError('bad-lines');
  }
  const lines = r.lines as string[];
  if (r.v === 1) {
    const vh = decodeCmcdReportLines(lines).map((event) => hostOfUrl(stringOf(event.url)) ?? '');
    return { ...(r as unknown as CmcdIngestRecord), v: 2, lines, vh, iv: DEFAULT_REPORT_INTERVAL_MS, gms: SESSION_MINUTE_BUDGET.ms, gn: SESSION_MINUTE_BUDGET.lines };
  }
  if (!Array.isArray(r.vh) || r.vh.length !== lines.length || !r.vh.every((h) => typeof h === 'string')) throw new MalformedRecordError('bad-vh');
  if (!isCount(r.iv) || r.iv < MIN_REPORT_INTERVAL_MS || r.iv > MAX_REPORT_INTERVAL_MS) throw new MalformedRecordError('bad-iv');
  if (!isCount(r.gms) || r.gms > SESSION_MINUTE_BUDGET.ms) throw new MalformedRecordError('bad-gms');
  if (!isCount(r.gn) || r.gn > SESSION_MINUTE_BUDGET.lines) throw new MalformedRecordError('bad-gn');
  return r as unknown as CmcdIngestRecord;
}

function hostOfUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

/**
 * Samples of one ingest record; a line without `sid` is the record's (token's) session, lines naming another
 * session (the ingest already refuses those) are dropped.
 */
export function ingestRecordToSamples(record: CmcdIngestRecord, hosts: PathwayHosts): CmcdSamples {
  const decoded = decodeCmcdReportLines(record.lines);
  const kept = decoded
    .map((event, i) => ({ event: event.sid === undefined ? { ...event, sid: record.sid } : event, host: record.vh[i]! }))
    .filter(({ event }) => event.sid === record.sid);
  const ctx: CmcdReportContext = {
    receivedAt: record.rt,
    country: record.country,
    hosts,
    verifiedHosts: kept.map((k) => k.host),
    intervalMs: record.iv,
    grant: { ms: record.gms, lines: record.gn },
    ...(record.asn !== undefined ? { asn: record.asn } : {}),
    ...(record.aid !== undefined ? { assetId: record.aid } : {}),
  };
  return cmcdEventsToSamples(kept.map((k) => k.event), ctx);
}
