import { type CmcdSamples, ingestRecordToSamples, parseIngestRecord } from './cmcd-report';
import type { PathwayHosts } from './pathway-hosts';
import type { QoeCounters, QoeRollup, QoeSample } from './qoe-types';
import { MalformedRecordError, parseRealtimeLogRecord } from './realtime-log';
import {
  addSessionEvidence,
  emptySessionBits,
  isErrorSample,
  type LogLineEvidenceBudget,
  type ReportEvidenceBudget,
  type SessionBits,
} from './session-evidence';

/**
 * Per-cell aggregation of QoE samples (docs/telemetry.md "Aggregator": cells are `pathway × country × minute`). Pure and
 * additive: aggregating a batch in any split and adding the parts gives the same rollup, which is
 * what lets the aggregator write one ADD per cell instead of one write per record.
 */

export const MINUTE_MS = 60_000;

export const COUNTER_NAMES: readonly (keyof QoeCounters)[] = Object.freeze([
  'requests',
  'errors',
  'bytes',
  'edgeTtfbMsSum',
  'edgeTtfbCount',
  'playerTtfbMsSum',
  'playerTtfbCount',
  'throughputKbpsSum',
  'throughputCount',
  'playMs',
  'stallMs',
  'stalls',
  'startupMsSum',
  'startupCount',
  'reports',
] as const);

export function minuteStartOf(ts: number): number {
  return Math.floor(ts / MINUTE_MS) * MINUTE_MS;
}

/** Sort key of a rollup item in the QoE rollups table: `<pathway>#<country>`. */
export function cellSortKey(pathway: string, country: string): string {
  return `${pathway}#${country}`;
}

/** Identity of a sample's cell within one aggregation: `<minute>/<pathway>#<country>`. */
export function cellKeyOf(sample: QoeSample): string {
  return `${minuteStartOf(sample.ts)}/${cellSortKey(sample.pathway, sample.country)}`;
}

export function emptyCounters(): QoeCounters {
  return {
    requests: 0,
    errors: 0,
    bytes: 0,
    edgeTtfbMsSum: 0,
    edgeTtfbCount: 0,
    playerTtfbMsSum: 0,
    playerTtfbCount: 0,
    throughputKbpsSum: 0,
    throughputCount: 0,
    playMs: 0,
    stallMs: 0,
    stalls: 0,
    startupMsSum: 0,
    startupCount: 0,
    reports: 0,
  };
}

/** Element-wise `into += from`; returns `into`. */
export function addCounters<T extends QoeCounters>(into: T, from: QoeCounters): T {
  for (const name of COUNTER_NAMES) into[name] += from[name];
  return into;
}

/**
 * What one sample adds to its cell. Source-agnostic except for the volume counters and errors: a CDN log
 * line is one request, a player report line is one report, and `errors` is the CDN's own evidence (its 5xx
 * lines); player-reported failures count once per session in `errorSessions` (core/session-evidence.ts), so
 * one failure the player and the CDN log both describe is never two errors. A line beyond its session's
 * evidence budget (`sessionOnly`) adds nothing here (docs/telemetry.md "Per-session evidence").
 */
export function addSample<T extends QoeCounters>(into: T, sample: QoeSample): T {
  if (sample.sessionOnly === true) return into;
  if (sample.source === 'cdn-log') {
    into.requests += 1;
    if (isErrorSample(sample)) into.errors += 1;
  } else {
    into.reports += 1;
  }
  if (sample.bytes !== undefined) into.bytes += sample.bytes;
  if (sample.ttfbMs !== undefined) {
    if (sample.source === 'cdn-log') {
      into.edgeTtfbMsSum += sample.ttfbMs;
      into.edgeTtfbCount += 1;
    } else {
      into.playerTtfbMsSum += sample.ttfbMs;
      into.playerTtfbCount += 1;
    }
  }
  if (sample.throughputKbps !== undefined) {
    into.throughputKbpsSum += sample.throughputKbps;
    into.throughputCount += 1;
  }
  if (sample.playMs !== undefined) into.playMs += sample.playMs;
  if (sample.stallMs !== undefined) into.stallMs += sample.stallMs;
  if (sample.starved === true) into.stalls += 1;
  if (sample.startupMs !== undefined) {
    into.startupMsSum += sample.startupMs;
    into.startupCount += 1;
  }
  return into;
}

export function emptyRollup(pathway: string, country: string, minute: number): QoeRollup {
  return { pathway, country, minute, ...emptyCounters() };
}

/** O(samples) time, O(cells) space; adds into `into` when given (so batches can be folded). */
export function aggregateSamples(samples: Iterable<QoeSample>, into: Map<string, QoeRollup> = new Map()): Map<string, QoeRollup> {
  for (const sample of samples) {
    const key = cellKeyOf(sample);
    let rollup = into.get(key);
    if (rollup === undefined) {
      rollup = emptyRollup(sample.pathway, sample.country, minuteStartOf(sample.ts));
      into.set(key, rollup);
    }
    addSample(rollup, sample);
  }
  return into;
}

/** Session evidence per cell (core/session-evidence.ts), keyed like `aggregateSamples` (`<minute>/<pathway>#<country>`). */
export function aggregateSessionEvidence(samples: Iterable<QoeSample>, into: Map<string, SessionBits> = new Map()): Map<string, SessionBits> {
  for (const sample of samples) {
    if (sample.sid === undefined) continue;
    const key = cellKeyOf(sample);
    let bits = into.get(key);
    if (bits === undefined) {
      bits = emptySessionBits();
      into.set(key, bits);
    }
    addSessionEvidence(bits, sample);
  }
  return into;
}

/**
 * One telemetry stream record to samples. The stream carries two shapes (docs/telemetry.md): CloudFront
 * real-time log records (one tab-separated line each, in practice; several tolerated) and ingest records
 * (JSON, first byte `{`; a log line always starts with its timestamp digits). Throws
 * MalformedRecordError for anything else.
 *
 * With `logBudget` (kept by the aggregator across its batches), a session's log lines carry player values
 * only within its per-minute budget; the player values of the lines beyond it are set aside and counted in
 * `overBudget` (ADR 0069). Without it, every line keeps its values (tools that replay one record at a time).
 * With `reportBudget`, an ingest record's grant is charged again to its session-minute in this container and
 * clipped to what is left (ADR 0101: the ingest's own budget is per ingest container); `recordId` (the stream
 * sequence number) makes a record normalised twice get the same grant.
 */
export function samplesOfStreamRecord(
  text: string,
  hosts: PathwayHosts,
  logBudget?: LogLineEvidenceBudget,
  reportBudget?: { readonly budget: ReportEvidenceBudget; readonly recordId?: string },
): CmcdSamples {
  if (text.startsWith('{')) {
    const record = parseIngestRecord(text);
    if (reportBudget === undefined) return ingestRecordToSamples(record, hosts);
    const grant = reportBudget.budget.grant(record.sid, record.rt, { ms: record.gms, lines: record.gn }, reportBudget.recordId);
    return ingestRecordToSamples({ ...record, gms: grant.ms, gn: grant.lines }, hosts);
  }
  const lines = text.split('\n').filter((line) => line !== '' && line !== '\r');
  if (lines.length === 0) throw new MalformedRecordError('empty');
  const samples: QoeSample[] = [];
  let refused = 0;
  let implausible = 0;
  let overBudget = 0;
  for (const line of lines) {
    const parsed = parseRealtimeLogRecord(line, hosts);
    implausible += parsed.implausible;
    if (parsed.refused) {
      refused += 1;
      continue;
    }
    const admitted = logBudget?.admit(parsed.sample) ?? { sample: parsed.sample, setAside: false };
    if (admitted.setAside) overBudget += 1;
    samples.push(admitted.sample);
  }
  return { samples, unattributed: 0, implausible, overBudget, refused };
}
