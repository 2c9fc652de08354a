import { CMCD_DEFAULT_TIME_INTERVAL, type Cmcd, decodeCmcd } from '@svta/cml-cmcd';
import type { QoeSample } from './qoe-types';
import { type PathwayHosts, pathwayOfCdnValue, pathwayOfHost, pathwayOfUrl } from './pathway-hosts';
import { MalformedRecordError } from './realtime-log';
import { isCountryCode } from './identifiers';

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
  /** Epoch ms at which the ingest endpoint received the report (server clock). */
  readonly receivedAt: number;
  /** Server-side viewer country (CloudFront-Viewer-Country), "XX" when unknown. */
  readonly country: string;
  readonly asn?: number;
  /** Asset id proven by the playback token; preferred over the player-supplied `cid`. */
  readonly assetId?: string;
  readonly hosts: PathwayHosts;
  /**
   * Period of the player's time-interval (`t`) reports in ms. CTA-5004-B leaves it to the player;
   * @svta/cml-cmcd and hls.js default to CMCD_DEFAULT_TIME_INTERVAL (30 s).
   */
  readonly intervalMs?: number;
}

export interface CmcdSamples {
  readonly samples: QoeSample[];
  /** Lines that named no known pathway (no `cdn`, `h` or `url`, none earlier in the report). */
  readonly unattributed: number;
  /** Player-reported values outside {@link PLAYER_VALUE_BOUNDS}, set aside (the rest of their line is kept). */
  readonly implausible: number;
}

/** The player-reported figures that feed routing, by the sample field they become. */
export type BoundedField = 'ttfbMs' | 'startupMs' | 'stallMs' | 'throughputKbps' | 'bitrateKbps' | 'bufferMs' | 'status';

/**
 * What a player may plausibly report, inclusive. A value outside is not clamped (a clamp would still
 * let a made-up value pull a mean to the bound) but set aside and counted: dash.js 5 sends `ttfb` as an
 * epoch timestamp (≈ 1.8e12), and one `bsd=(999999999)` once demoted a CDN for a country.
 * - ttfb: a first byte after more than a minute is a timeout, not a latency;
 * - msd: players give up on a start long before 10 minutes;
 * - bsd: starvation reported in one line covers at most the time since the session's previous
 *   report, i.e. about one reporting interval; two intervals allow for a late timer ({@link stallBound});
 * - mtp: 10 Gbit/s is beyond any access link a player measures; br: 500 Mbit/s beyond any rung;
 * - bl: an hour of forward buffer is beyond any player's default;
 * - rc: an HTTP status (CTA-5004-B) or 0 for "no response".
 */
export const PLAYER_VALUE_BOUNDS: Readonly<Record<Exclude<BoundedField, 'stallMs'>, { readonly min: number; readonly max: number }>> = {
  ttfbMs: { min: 0, max: 60_000 },
  startupMs: { min: 0, max: 600_000 },
  throughputKbps: { min: 0, max: 10_000_000 },
  bitrateKbps: { min: 0, max: 500_000 },
  bufferMs: { min: 0, max: 3_600_000 },
  status: { min: 0, max: 599 },
};

/** Upper bound of one line's starvation time (`bsd`) for a player reporting every `intervalMs`. */
export function stallBound(intervalMs: number): number {
  return 2 * intervalMs;
}

/**
 * Client clocks are not trusted for bucketing: an event stamped more than this far before the receive
 * time (beyond what batching explains) or at all after it is bucketed at the receive time instead.
 */
const MAX_CLIENT_LAG_MS = 10 * 60_000;
const MAX_CLIENT_LEAD_MS = 30_000;

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

function pathwayOfEvent(event: Cmcd, hosts: PathwayHosts): string | undefined {
  return (
    pathwayOfCdnValue(hosts, stringOf(event.cdn)) ??
    pathwayOfHost(hosts, stringOf(event.h)) ??
    pathwayOfUrl(hosts, stringOf(event.url))
  );
}

/**
 * Decoded event lines of one report to samples, one per attributable line.
 *
 * - pathway: CMCD `cdn`, else hostname `h`, else the host of `url` (response-received events), else the
 *   last pathway named by an earlier line of the same session in the same report.
 * - playing / stalled time: each time-interval (`t`) event stands for one interval in its state `sta`
 *   (`p` → playMs, `r` → stallMs); buffer-starvation durations `bsd` are used as stall time when sent.
 * - stalls: `bs` or a play-state change into rebuffering (`ps` with `sta=r`).
 * - fatal error: a play-state change into `f`; hls.js also sends an `e` event for the same failure,
 *   which is therefore not counted again.
 * - response received (`rr`): `rc` and `ttfb`; `rc=0` means no response (CTA-5004-B "Response code").
 */
export function cmcdEventsToSamples(events: readonly Cmcd[], ctx: CmcdReportContext): CmcdSamples {
  const intervalMs = ctx.intervalMs ?? CMCD_DEFAULT_TIME_INTERVAL * 1000;
  const lastPathwayBySession = new Map<string, string>();
  const samples: QoeSample[] = [];
  let unattributed = 0;
  let implausible = 0;
  /** The value when it is within [min, max]; otherwise undefined, counted as implausible. */
  const plausible = (value: number | undefined, min: number, max: number, integer = false): number | undefined => {
    if (value === undefined) return undefined;
    if (value >= min && value <= max && (!integer || Number.isInteger(value))) return value;
    implausible += 1;
    return undefined;
  };
  const bounded = (field: Exclude<BoundedField, 'stallMs'>, value: number | undefined): number | undefined =>
    plausible(value, PLAYER_VALUE_BOUNDS[field].min, PLAYER_VALUE_BOUNDS[field].max, field === 'status');

  for (const event of events) {
    const sid = stringOf(event.sid);
    const sessionKey = sid ?? '';
    const pathway = pathwayOfEvent(event, ctx.hosts) ?? lastPathwayBySession.get(sessionKey);
    if (pathway === undefined) {
      unattributed += 1;
      continue;
    }
    lastPathwayBySession.set(sessionKey, pathway);

    const clientTs = numberOf(event.ts);
    const ts =
      clientTs !== undefined && clientTs >= ctx.receivedAt - MAX_CLIENT_LAG_MS && clientTs <= ctx.receivedAt + MAX_CLIENT_LEAD_MS
        ? Math.round(clientTs)
        : ctx.receivedAt;
    const sample: MutableSample = { ts, source: 'cmcd', pathway, country: ctx.country };
    if (ctx.asn !== undefined) sample.asn = ctx.asn;
    if (sid !== undefined) sample.sid = sid;
    const assetId = ctx.assetId ?? stringOf(event.cid);
    if (assetId !== undefined) sample.assetId = assetId;

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
    const reportedStall = sumOf(event.bsd);
    const starvedFor = plausible(reportedStall, 0, stallBound(intervalMs));
    if (starvedFor !== undefined) sample.stallMs = starvedFor;
    if (event.e === 't' && state === 'p') sample.playMs = intervalMs;
    if (event.e === 't' && state === 'r' && reportedStall === undefined) sample.stallMs = intervalMs;
    if (event.e === 'ps' && state === 'f') sample.fatalError = true;
    if (event.e === 'rr') {
      const rc = numberOf(event.rc);
      const status = bounded('status', rc);
      if (status !== undefined) sample.status = status;
      const ttfb = bounded('ttfbMs', numberOf(event.ttfb));
      if (ttfb !== undefined) sample.ttfbMs = ttfb;
    }
    samples.push(sample);
  }
  return { samples, unattributed, implausible };
}

/**
 * What the ingest endpoint puts on the telemetry stream for one accepted report (docs/telemetry.md):
 * JSON `{"t":"cmcd","v":1,"rt":<receive epoch ms>,"country":"US","asn":16509,"sid":…,"aid":…,"lines":[…]}`.
 * `lines` are the raw CMCD lines as received (already decoded once and sid-checked by the ingest);
 * country/ASN/receive time are server-side facts the player cannot forge.
 */
export interface CmcdIngestRecord {
  readonly t: 'cmcd';
  readonly v: 1;
  readonly rt: number;
  readonly country: string;
  readonly asn?: number;
  readonly sid: string;
  readonly aid?: string;
  readonly lines: readonly string[];
}

export function encodeIngestRecord(record: Omit<CmcdIngestRecord, 't' | 'v'>): string {
  const out: CmcdIngestRecord = { t: 'cmcd', v: 1, ...record };
  return JSON.stringify(out);
}

export function parseIngestRecord(text: string): CmcdIngestRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new MalformedRecordError('bad-json');
  }
  if (value === null || typeof value !== 'object') throw new MalformedRecordError('bad-ingest-record');
  const r = value as Record<string, unknown>;
  if (r.t !== 'cmcd' || r.v !== 1) throw new MalformedRecordError('unknown-record-type');
  if (typeof r.rt !== 'number' || !Number.isSafeInteger(r.rt) || r.rt <= 0) throw new MalformedRecordError('bad-rt');
  if (typeof r.country !== 'string' || !isCountryCode(r.country)) throw new MalformedRecordError('bad-country');
  if (r.asn !== undefined && (typeof r.asn !== 'number' || !Number.isSafeInteger(r.asn) || r.asn < 0)) throw new MalformedRecordError('bad-asn');
  if (typeof r.sid !== 'string' || r.sid === '') throw new MalformedRecordError('bad-sid');
  if (r.aid !== undefined && typeof r.aid !== 'string') throw new MalformedRecordError('bad-aid');
  if (!Array.isArray(r.lines) || r.lines.length === 0 || !r.lines.every((l) => typeof l === 'string')) {
    throw new MalformedRecordError('bad-lines');
  }
  return r as unknown as CmcdIngestRecord;
}

/** Samples of one ingest record; lines whose `sid` is not the record's (the ingest already refuses those) are dropped. */
export function ingestRecordToSamples(record: CmcdIngestRecord, hosts: PathwayHosts, intervalMs?: number): CmcdSamples {
  const events = decodeCmcdReportLines(record.lines).filter((event) => event.sid === undefined || event.sid === record.sid);
  const ctx: CmcdReportContext = {
    receivedAt: record.rt,
    country: record.country,
    hosts,
    ...(record.asn !== undefined ? { asn: record.asn } : {}),
    ...(record.aid !== undefined ? { assetId: record.aid } : {}),
    ...(intervalMs !== undefined ? { intervalMs } : {}),
  };
  return cmcdEventsToSamples(events, ctx);
}
