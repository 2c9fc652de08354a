import type { QoeSample } from './qoe-types';
import { type PathwayHosts, pathwayOfHost } from './pathway-hosts';
import { assetIdOfPath, splitTokenPath } from './token-path';
import { countryOrUnknown, isCountryCode } from './identifiers';
import { PLAYER_VALUE_BOUNDS } from './player-value-bounds';
import { sessionIdOfVerifiedToken } from './token';

/**
 * CloudFront real-time log fields this platform configures, in CloudFront's canonical order.
 *
 * CloudFront writes the values of a real-time log record in its own fixed field order, whatever order
 * the configuration lists them in (Developer Guide, "Real-time logs" > "Fields"; the CloudFront API
 * returns `Fields` "in the same order in which they are sent to the Kinesis data stream"). Keeping
 * this list in that order means the CDK construct, the local twin and the parser agree by position.
 *
 * Deliberately left out: `c-ip` (QoE needs country and ASN, not the address; data minimisation),
 * `cs-uri-query` and `cs-headers` (may carry credentials). `cs-uri-stem` carries the path token
 * (docs/token.md "Where the token goes"); the parser keeps only the asset id from it.
 */
export const REALTIME_LOG_FIELDS: readonly string[] = Object.freeze([
  'timestamp',
  'time-to-first-byte',
  'sc-status',
  'sc-bytes',
  'cs-method',
  'cs-host',
  'cs-uri-stem',
  'x-edge-location',
  'x-edge-request-id',
  'x-host-header',
  'time-taken',
  'x-edge-result-type',
  'c-country',
  'asn',
  'cmcd-encoded-bitrate',
  'cmcd-buffer-length',
  'cmcd-buffer-starvation',
  'cmcd-content-id',
  'cmcd-object-duration',
  'cmcd-measured-throughput',
  'cmcd-object-type',
  'cmcd-streaming-format',
  'cmcd-session-id',
  'cmcd-startup',
  'cmcd-top-bitrate',
  'cmcd-version',
]);

/**
 * A record that cannot be normalised. `reason` is a short stable code (it becomes a log field and,
 * for the ingest endpoint, a response body), never the offending input.
 */
export class MalformedRecordError extends Error {
  constructor(readonly reason: string) {
    super(`malformed telemetry record: ${reason}`);
    this.name = 'MalformedRecordError';
  }
}

/**
 * Longest accepted line. CloudFront caps a request URL at 8,192 bytes (Developer Guide, quotas) and
 * the other configured fields are short, so anything beyond 16 KiB is not a CloudFront record.
 */
export const MAX_REALTIME_LOG_LINE_BYTES = 16 * 1024;

const FIELD_INDEX: ReadonlyMap<string, number> = new Map(REALTIME_LOG_FIELDS.map((name, i) => [name, i]));
const EMPTY = '-';
/** Real-time log `timestamp`: epoch seconds with millisecond precision, e.g. `1700000000.123`. */
const TIMESTAMP = /^\d{9,11}(\.\d{1,3})?$/;
const DECIMAL = /^\d+(\.\d+)?$/;
const INTEGER = /^\d{1,15}$/;

function field(values: readonly string[], name: string): string | undefined {
  const value = values[FIELD_INDEX.get(name)!];
  return value === undefined || value === EMPTY || value === '' ? undefined : value;
}

function integerField(values: readonly string[], name: string): number | undefined {
  const value = field(values, name);
  if (value === undefined) return undefined;
  if (!INTEGER.test(value)) throw new MalformedRecordError(`bad-${name}`);
  return Number(value);
}

function secondsFieldAsMs(values: readonly string[], name: string): number | undefined {
  const value = field(values, name);
  if (value === undefined) return undefined;
  if (!DECIMAL.test(value)) throw new MalformedRecordError(`bad-${name}`);
  return Math.round(Number(value) * 1000);
}

/**
 * A CMCD number as CloudFront logs it, read leniently: v1 integers (`3000`), v2 inner lists with or
 * without parameters (`(3000)`, `(3000;v 128;a)`: the first entry), decimals (`1234.5`, rounded). The CMCD
 * fields are whatever the player sent, so an unreadable or implausible value is dropped (and counted) and
 * never costs the line its status and timing, which are the CDN's own.
 */
const CMCD_NUMBER = /^\(?\s*(\d{1,15}(?:\.\d+)?)(?:[;\s)].*)?$/;

function cmcdNumberField(values: readonly string[], name: string, bounds: { min: number; max: number }, found: { implausible: number }): number | undefined {
  const value = field(values, name);
  if (value === undefined) return undefined;
  const match = CMCD_NUMBER.exec(value);
  const number = match === null ? Number.NaN : Math.round(Number(match[1]));
  if (Number.isFinite(number) && number >= bounds.min && number <= bounds.max) return number;
  found.implausible += 1;
  return undefined;
}

/** CloudFront logs CMCD booleans as the key's presence; accept the spellings seen in practice, drop the rest. */
function cmcdBooleanField(values: readonly string[], name: string, found: { implausible: number }): boolean | undefined {
  const value = field(values, name);
  if (value === undefined) return undefined;
  const lower = value.toLowerCase();
  if (lower === 'true' || lower === '1' || lower === '?1') return true;
  if (lower === 'false' || lower === '0' || lower === '?0') return false;
  found.implausible += 1;
  return undefined;
}

/**
 * Responses the edge gave itself rather than the CDN serving the content (docs/telemetry.md "Which CDN log
 * lines count"): the token check's 403, and responses an edge function generated or a redirect. Their
 * CMCD fields are the client's word about a request that was never served, so they feed nothing. An `Error`
 * with status ≥ 500 (and LimitExceeded / CapacityExceeded) is the CDN failing and counts.
 */
const EDGE_ANSWERED_RESULT_TYPES: ReadonlySet<string> = new Set(['LambdaGeneratedResponse', 'FunctionGeneratedResponse', 'Redirect']);

export function isRefusedByEdge(status: number, resultType: string | undefined): boolean {
  if (status === 403) return true;
  if (resultType === undefined) return false;
  return EDGE_ANSWERED_RESULT_TYPES.has(resultType) || (resultType === 'Error' && status < 500);
}

/**
 * The asset of a logged request path: the viewer's `/<token>/media/<assetId>/<revision>/…` (core/playback-paths.ts),
 * or the token-stripped `/media/…`. Uses the same path rules as the edge (core/token-path.ts).
 */
export function assetIdOfLoggedPath(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  const rest = path.startsWith('/media/') ? path : splitTokenPath(path)?.rest;
  return (rest !== undefined && assetIdOfPath(rest)) || undefined;
}

/** The sample of a log line, whether the edge refused or answered it itself, and how many CMCD values were dropped. */
export interface ParsedLogLine {
  readonly sample: QoeSample;
  readonly refused: boolean;
  readonly implausible: number;
}

/** The sample of one real-time log line, whether or not it counts (tests and the twin); see parseRealtimeLogRecord. */
export function parseRealtimeLogLine(line: string, hosts: PathwayHosts): QoeSample {
  return parseRealtimeLogRecord(line, hosts).sample;
}

/**
 * One real-time log line (tab-separated, `-` for empty, fields in REALTIME_LOG_FIELDS order) to a
 * QoE sample. The pathway is the distribution the viewer addressed: `x-host-header` (the Host header,
 * which is an alternate domain name when one is configured), else `cs-host`. The session is the `sid`
 * of the path token, which the edge verified for every line it did not refuse.
 */
export function parseRealtimeLogRecord(line: string, hosts: PathwayHosts): ParsedLogLine {
  if (line.length > MAX_REALTIME_LOG_LINE_BYTES) throw new MalformedRecordError('oversize');
  const trimmed = line.endsWith('\r\n') ? line.slice(0, -2) : line.endsWith('\n') ? line.slice(0, -1) : line;
  if (trimmed.includes('\n')) throw new MalformedRecordError('multiple-lines');
  const values = trimmed.split('\t');
  if (values.length !== REALTIME_LOG_FIELDS.length) throw new MalformedRecordError('field-count');

  const timestamp = field(values, 'timestamp');
  if (timestamp === undefined || !TIMESTAMP.test(timestamp)) throw new MalformedRecordError('bad-timestamp');
  const ts = Math.round(Number(timestamp) * 1000);

  const status = integerField(values, 'sc-status');
  if (status === undefined || status > 999) throw new MalformedRecordError('bad-sc-status');

  const host = field(values, 'x-host-header') ?? field(values, 'cs-host');
  const pathway = pathwayOfHost(hosts, host) ?? pathwayOfHost(hosts, field(values, 'cs-host'));
  if (pathway === undefined) throw new MalformedRecordError('unknown-host');

  const countryText = field(values, 'c-country');
  if (countryText !== undefined && !isCountryCode(countryText.toUpperCase())) throw new MalformedRecordError('bad-c-country');

  const sample: {
    -readonly [K in keyof QoeSample]: QoeSample[K];
  } = {
    ts,
    source: 'cdn-log',
    pathway,
    country: countryOrUnknown(countryText),
    status,
  };
  const asn = integerField(values, 'asn');
  if (asn !== undefined) sample.asn = asn;
  const path = field(values, 'cs-uri-stem');
  const pathToken = path === undefined ? undefined : splitTokenPath(path)?.token;
  const sid = pathToken === undefined ? undefined : sessionIdOfVerifiedToken(pathToken);
  if (sid !== undefined) sample.sid = sid;
  const assetId = assetIdOfLoggedPath(path) ?? field(values, 'cmcd-content-id');
  if (assetId !== undefined) sample.assetId = assetId;
  // Edge TTFB of cache hits only: a miss's TTFB measures the origin fetch and how warm the cache is, and
  // the warmth follows the share routing gives the CDN; scoring it would demote a CDN for being demoted.
  const ttfbMs = field(values, 'x-edge-result-type') === 'Hit' ? secondsFieldAsMs(values, 'time-to-first-byte') : undefined;
  if (ttfbMs !== undefined) sample.ttfbMs = ttfbMs;
  const bytes = integerField(values, 'sc-bytes');
  if (bytes !== undefined) sample.bytes = bytes;
  const found = { implausible: 0 };
  const bitrate = cmcdNumberField(values, 'cmcd-encoded-bitrate', PLAYER_VALUE_BOUNDS.bitrateKbps, found);
  if (bitrate !== undefined) sample.bitrateKbps = bitrate;
  const throughput = cmcdNumberField(values, 'cmcd-measured-throughput', PLAYER_VALUE_BOUNDS.throughputKbps, found);
  if (throughput !== undefined) sample.throughputKbps = throughput;
  const buffer = cmcdNumberField(values, 'cmcd-buffer-length', PLAYER_VALUE_BOUNDS.bufferMs, found);
  if (buffer !== undefined) sample.bufferMs = buffer;
  const starved = cmcdBooleanField(values, 'cmcd-buffer-starvation', found);
  if (starved === true) sample.starved = true;
  return { sample, refused: isRefusedByEdge(status, field(values, 'x-edge-result-type')), implausible: found.implausible };
}

/**
 * The inverse, for the local twin's edge servers: values by field name, missing or empty as `-`.
 * Returns the line without its terminating newline (CloudFront ends each record with one).
 */
export function formatRealtimeLogLine(fields: Record<string, string | number | undefined>): string {
  for (const name of Object.keys(fields)) {
    if (!FIELD_INDEX.has(name)) throw new Error(`"${name}" is not a configured real-time log field`);
  }
  return REALTIME_LOG_FIELDS.map((name) => {
    const value = fields[name];
    if (value === undefined || value === '') return EMPTY;
    const text = String(value);
    if (/[\t\r\n]/.test(text)) throw new Error(`real-time log field "${name}" must not contain tabs or line breaks`);
    return text;
  }).join('\t');
}
