import type { QoeSample } from './qoe-types';
import { type PathwayHosts, pathwayOfHost } from './pathway-hosts';
import { assetIdOfPath, splitTokenPath } from './token-path';
import { countryOrUnknown, isCountryCode } from './identifiers';

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

/** CloudFront logs CMCD booleans as the key's presence; accept the spellings seen in practice. */
function booleanField(values: readonly string[], name: string): boolean | undefined {
  const value = field(values, name);
  if (value === undefined) return undefined;
  const lower = value.toLowerCase();
  if (lower === 'true' || lower === '1' || lower === '?1') return true;
  if (lower === 'false' || lower === '0' || lower === '?0') return false;
  throw new MalformedRecordError(`bad-${name}`);
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

/**
 * One real-time log line (tab-separated, `-` for empty, fields in REALTIME_LOG_FIELDS order) to a
 * QoE sample. The pathway is the distribution the viewer addressed: `x-host-header` (the Host header,
 * which is an alternate domain name when one is configured), else `cs-host`.
 */
export function parseRealtimeLogLine(line: string, hosts: PathwayHosts): QoeSample {
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
  const sid = field(values, 'cmcd-session-id');
  if (sid !== undefined) sample.sid = sid;
  const assetId = assetIdOfLoggedPath(field(values, 'cs-uri-stem')) ?? field(values, 'cmcd-content-id');
  if (assetId !== undefined) sample.assetId = assetId;
  // Edge TTFB of cache hits only: a miss's TTFB measures the origin fetch and how warm the cache is, and
  // the warmth follows the share routing gives the CDN; scoring it would demote a CDN for being demoted.
  const ttfbMs = field(values, 'x-edge-result-type') === 'Hit' ? secondsFieldAsMs(values, 'time-to-first-byte') : undefined;
  if (ttfbMs !== undefined) sample.ttfbMs = ttfbMs;
  const bytes = integerField(values, 'sc-bytes');
  if (bytes !== undefined) sample.bytes = bytes;
  const bitrate = integerField(values, 'cmcd-encoded-bitrate');
  if (bitrate !== undefined) sample.bitrateKbps = bitrate;
  const throughput = integerField(values, 'cmcd-measured-throughput');
  if (throughput !== undefined) sample.throughputKbps = throughput;
  const buffer = integerField(values, 'cmcd-buffer-length');
  if (buffer !== undefined) sample.bufferMs = buffer;
  const starved = booleanField(values, 'cmcd-buffer-starvation');
  if (starved === true) sample.starved = true;
  return sample;
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
