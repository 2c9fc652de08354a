/**
 * The values one CloudFront real-time log record carries, computed from a request the twin served
 * (field names: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/real-time-logs.html).
 * Field ORDER and the line format belong to the platform (`REALTIME_LOG_FIELDS` and
 * `formatRealtimeLogLine` in core/realtime-log.ts), which the distribution server uses by default.
 */
import { fromCmcdHeaders, fromCmcdQuery, type CmcdData } from '@svta/cml-cmcd';

export type RealtimeLogValues = Record<string, string | number | undefined>;

/** CloudFront's layout: values in configured order, tab-separated, "-" for an absent value. */
export function formatTabSeparatedLine(fields: readonly string[], values: RealtimeLogValues): string {
  return fields
    .map((field) => {
      const value = values[field];
      return value === undefined || value === '' ? '-' : String(value);
    })
    .join('\t');
}

// CMCD v1 keys, the ones CloudFront logs (`nrr` is v1-only, hence plain strings rather than CmcdData keys).
const CMCD_LOG_FIELDS: Record<string, string> = {
  'cmcd-encoded-bitrate': 'br',
  'cmcd-buffer-length': 'bl',
  'cmcd-buffer-starvation': 'bs',
  'cmcd-content-id': 'cid',
  'cmcd-object-duration': 'd',
  'cmcd-deadline': 'dl',
  'cmcd-measured-throughput': 'mtp',
  'cmcd-next-object-request': 'nor',
  'cmcd-next-range-request': 'nrr',
  'cmcd-object-type': 'ot',
  'cmcd-playback-rate': 'pr',
  'cmcd-requested-maximum-throughput': 'rtp',
  'cmcd-streaming-format': 'sf',
  'cmcd-session-id': 'sid',
  'cmcd-stream-type': 'st',
  'cmcd-startup': 'su',
  'cmcd-top-bitrate': 'tb',
  'cmcd-version': 'v',
};

/** CMCD sent by the player, from the `CMCD=` query parameter or the four CMCD-* request headers. */
export function cmcdFromRequest(query: URLSearchParams, headers: Record<string, string>): CmcdData {
  if (query.has('CMCD')) return fromCmcdQuery(query);
  const cmcdHeaders = Object.fromEntries(Object.entries(headers).filter(([name]) => name.startsWith('cmcd-')));
  return Object.keys(cmcdHeaders).length > 0 ? fromCmcdHeaders(cmcdHeaders) : {};
}

function logValue(value: unknown): string | number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value ? 'true' : undefined; // CloudFront logs bs/su only when set
  if (typeof value === 'number' || typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map((v) => logValue(v)).join(',');
  if (typeof value === 'object' && 'value' in (value as object)) return logValue((value as { value: unknown }).value);
  return String(value);
}

export interface ServedRequest {
  readonly startedAt: number;
  readonly firstByteAt: number;
  readonly finishedAt: number;
  readonly clientIp: string;
  readonly method: string;
  readonly uri: string;
  readonly query: string;
  readonly host: string;
  readonly headers: Record<string, string>;
  readonly status: number;
  readonly bytes: number;
  readonly contentType?: string;
  readonly resultType: string;
  readonly requestId: string;
  readonly country: string;
  readonly asn?: number;
  readonly distributionId: string;
  readonly distributionDomainName: string;
}

/** Only the configured fields, so a strict formatter never sees a field it does not log. */
export function pickFields(values: RealtimeLogValues, fields: readonly string[]): RealtimeLogValues {
  return Object.fromEntries(fields.map((field) => [field, values[field]]));
}

export function realtimeLogValues(served: ServedRequest): RealtimeLogValues {
  const cmcd = cmcdFromRequest(new URLSearchParams(served.query), served.headers);
  const values: RealtimeLogValues = {
    timestamp: (served.startedAt / 1000).toFixed(3),
    'c-ip': served.clientIp,
    'c-ip-version': served.clientIp.includes(':') ? 'IPv6' : 'IPv4',
    'time-to-first-byte': ((served.firstByteAt - served.startedAt) / 1000).toFixed(3),
    'time-taken': ((served.finishedAt - served.startedAt) / 1000).toFixed(3),
    'sc-status': served.status,
    'sc-bytes': served.bytes,
    'sc-content-type': served.contentType,
    'sc-content-len': served.bytes,
    'cs-method': served.method,
    'cs-protocol': 'http',
    'cs-protocol-version': 'HTTP/1.1',
    'cs-host': served.distributionDomainName,
    'cs-uri-stem': served.uri,
    'cs-uri-query': served.query || undefined,
    'cs-user-agent': served.headers['user-agent'] ? encodeURIComponent(served.headers['user-agent']) : undefined,
    'cs-referer': served.headers.referer,
    'x-host-header': served.host,
    'x-edge-location': 'TWIN50-C1',
    'x-edge-request-id': served.requestId,
    'x-edge-result-type': served.resultType,
    'x-edge-response-result-type': served.resultType,
    'x-edge-detailed-result-type': served.resultType,
    'c-country': served.country,
    asn: served.asn,
    'primary-distribution-id': served.distributionId,
    'primary-distribution-dns-name': served.distributionDomainName,
  };
  for (const [field, key] of Object.entries(CMCD_LOG_FIELDS)) values[field] = logValue((cmcd as Record<string, unknown>)[key]);
  return values;
}
