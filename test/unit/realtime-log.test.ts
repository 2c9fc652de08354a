import { describe, expect, it } from 'vitest';
import { buildPathwayHosts, pathwayOfCdnValue, pathwayOfUrl } from '../../core/pathway-hosts';
import { generateInitialKeyring } from '../../core/keyring';
import {
  assetIdOfLoggedPath,
  formatRealtimeLogLine,
  isRefusedByEdge,
  parseRealtimeLogLine,
  parseRealtimeLogRecord,
  REALTIME_LOG_FIELDS,
} from '../../core/realtime-log';
import { signToken } from '../../core/token';
import { FIXTURE_PATHWAYS, malformedReasonOf, realtimeLogFixtureLines } from '../support/telemetry';

const hosts = buildPathwayHosts([...FIXTURE_PATHWAYS, { id: 'ext-c', host: 'Video.Example.COM', enabled: false, cap: 0.5 }]);
const fixtureLines = realtimeLogFixtureLines();

/** CloudFront's canonical real-time log field order (Developer Guide, "Real-time logs" > fields 1..69). */
const CANONICAL_ORDER = [
  'timestamp', 'c-ip', 's-ip', 'time-to-first-byte', 'sc-status', 'sc-bytes', 'cs-method', 'cs-protocol', 'cs-host',
  'cs-uri-stem', 'cs-bytes', 'x-edge-location', 'x-edge-request-id', 'x-host-header', 'time-taken', 'cs-protocol-version',
  'c-ip-version', 'cs-user-agent', 'cs-referer', 'cs-cookie', 'cs-uri-query', 'x-edge-response-result-type', 'x-forwarded-for',
  'ssl-protocol', 'ssl-cipher', 'x-edge-result-type', 'fle-encrypted-fields', 'fle-status', 'sc-content-type', 'sc-content-len',
  'sc-range-start', 'sc-range-end', 'c-port', 'x-edge-detailed-result-type', 'c-country', 'cs-accept-encoding', 'cs-accept',
  'cache-behavior-path-pattern', 'cs-headers', 'cs-header-names', 'cs-headers-count', 'primary-distribution-id',
  'primary-distribution-dns-name', 'origin-fbl', 'origin-lbl', 'asn', 'cmcd-encoded-bitrate', 'cmcd-buffer-length',
  'cmcd-buffer-starvation', 'cmcd-content-id', 'cmcd-object-duration', 'cmcd-deadline', 'cmcd-measured-throughput',
  'cmcd-next-object-request', 'cmcd-next-range-request', 'cmcd-object-type', 'cmcd-playback-rate',
  'cmcd-requested-maximum-throughput', 'cmcd-streaming-format', 'cmcd-session-id', 'cmcd-stream-type', 'cmcd-startup',
  'cmcd-top-bitrate', 'cmcd-version', 'r-host', 'sr-reason', 'x-edge-mqcs', 'distribution-tenant-id', 'connection-id',
];

describe('REALTIME_LOG_FIELDS', () => {
  it('lists only CloudFront field names, in CloudFront canonical order', () => {
    const positions = REALTIME_LOG_FIELDS.map((name) => CANONICAL_ORDER.indexOf(name));
    expect(positions).not.toContain(-1);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it('includes the host, geography, timing and CMCD fields the aggregator reads', () => {
    for (const name of ['timestamp', 'sc-status', 'sc-bytes', 'cs-uri-stem', 'x-host-header', 'cs-host', 'c-country', 'asn',
      'time-to-first-byte', 'x-edge-result-type', 'cmcd-encoded-bitrate', 'cmcd-buffer-length', 'cmcd-buffer-starvation',
      'cmcd-content-id', 'cmcd-session-id', 'cmcd-measured-throughput', 'cmcd-startup', 'cmcd-streaming-format',
      'cmcd-top-bitrate', 'cmcd-object-type']) {
      expect(REALTIME_LOG_FIELDS).toContain(name);
    }
  });
});

describe('parseRealtimeLogLine', () => {
  it('normalises a CloudFront segment hit with CMCD fields', () => {
    const sample = parseRealtimeLogLine(fixtureLines[0]!, hosts);

    expect(sample).toEqual({
      ts: 1_700_000_012_345,
      source: 'cdn-log',
      pathway: 'cf-a',
      country: 'DE',
      asn: 3320,
      status: 200,
      // the path token's session (the fixture's MAC is zeros: the parser trusts the edge, it does not verify)
      sid: 's1',
      assetId: 'big-buck',
      ttfbMs: 12,
      bytes: 1_843_200,
      bitrateKbps: 3000,
      throughputKbps: 8200,
      bufferMs: 12_400,
    });
  });

  it('keeps a 5xx without CMCD fields and attributes it to the second pathway', () => {
    const sample = parseRealtimeLogLine(fixtureLines[1]!, hosts);

    expect(sample).toMatchObject({ pathway: 'cf-b', country: 'US', status: 503 });
    expect(sample.bitrateKbps).toBeUndefined();
  });

  it('takes the edge TTFB of cache hits only: a miss measures the origin path and the cache warmth', () => {
    const line = (resultType: string) =>
      formatRealtimeLogLine({ timestamp: '1700000001.250', 'time-to-first-byte': '0.180', 'sc-status': 200, 'x-host-header': 'd111111abcdef8.cloudfront.net', 'x-edge-result-type': resultType });

    expect(parseRealtimeLogLine(line('Hit'), hosts).ttfbMs).toBe(180);
    for (const other of ['Miss', 'RefreshHit', 'Error', 'LambdaGeneratedResponse']) expect(parseRealtimeLogLine(line(other), hosts).ttfbMs).toBeUndefined();
  });

  it('reads cmcd-buffer-starvation as a stall signal', () => {
    expect(parseRealtimeLogLine(fixtureLines[2]!, hosts).starved).toBe(true);
  });

  it('accepts the line with its terminating newline', () => {
    expect(parseRealtimeLogLine(`${fixtureLines[0]}\n`, hosts).pathway).toBe('cf-a');
  });

  it('falls back to cs-host when the Host header is an unknown alias and maps a missing country to XX', () => {
    const line = formatRealtimeLogLine({
      timestamp: '1700000000.5', 'sc-status': 200, 'cs-host': 'd222222abcdef8.cloudfront.net', 'x-host-header': 'www.other.example',
    });

    expect(parseRealtimeLogLine(line, hosts)).toMatchObject({ pathway: 'cf-b', country: 'XX', ts: 1_700_000_000_500 });
  });

  it('matches hosts case-insensitively and with a port', () => {
    const line = formatRealtimeLogLine({ timestamp: '1700000000.000', 'sc-status': 200, 'x-host-header': 'video.example.com:443' });

    expect(parseRealtimeLogLine(line, hosts).pathway).toBe('ext-c');
  });

  it.each([
    ['garbage', 'not a log line at all', 'field-count'],
    ['truncated', fixtureLines[0]!.split('\t').slice(0, 10).join('\t'), 'field-count'],
    ['oversize', `${fixtureLines[0]}${'x'.repeat(20_000)}`, 'oversize'],
    ['bad timestamp', fixtureLines[0]!.replace('1700000012.345', 'yesterday'), 'bad-timestamp'],
    ['bad status', fixtureLines[0]!.replace('\t200\t', '\tOK\t'), 'bad-sc-status'],
    ['two lines in one', `${fixtureLines[0]}\n${fixtureLines[1]}`, 'multiple-lines'],
    ['unknown host', fixtureLines[0]!.replaceAll('d111111abcdef8.cloudfront.net', 'd999.cloudfront.net'), 'unknown-host'],
    ['bad country', fixtureLines[0]!.replace('\tDE\t', '\tGermany\t'), 'bad-c-country'],
  ])('rejects a %s line with a typed reason', (_name, line, reason) => {
    expect(malformedReasonOf(() => parseRealtimeLogLine(line, hosts))).toBe(reason);
  });
});

describe('which CDN log lines count', () => {
  const keyring = generateInitialKeyring({ nowSeconds: 1_699_990_000, kid: 'k1', key: Buffer.alloc(32, 7) });
  const token = signToken({ sid: 'sess-1', aid: 'big-buck', exp: 1_700_003_600 }, keyring);
  const logged = (fields: Record<string, string | number>) =>
    formatRealtimeLogLine({ timestamp: '1700000001.250', 'sc-status': 200, 'x-host-header': 'd111111abcdef8.cloudfront.net', ...fields });

  it('takes the session from the path token the edge verified, never from the client-chosen cmcd-session-id', () => {
    const line = logged({ 'cs-uri-stem': `/${token}/media/big-buck/r1/v720/seg_1.m4s`, 'cmcd-session-id': 'someone-else' });

    expect(parseRealtimeLogLine(line, hosts)).toMatchObject({ sid: 'sess-1', assetId: 'big-buck' });
    expect(parseRealtimeLogLine(logged({ 'cmcd-session-id': 'forged' }), hosts).sid).toBeUndefined();
  });

  it.each([
    ['the token check\'s 403', 403, 'Error'],
    ['a response an edge function generated', 200, 'LambdaGeneratedResponse'],
    ['a CloudFront Function response', 200, 'FunctionGeneratedResponse'],
    ['a redirect', 301, 'Redirect'],
    ['an edge error below 500', 404, 'Error'],
  ])('sets aside %s', (_name, status, resultType) => {
    const parsed = parseRealtimeLogRecord(logged({ 'sc-status': status, 'x-edge-result-type': resultType, 'cmcd-buffer-starvation': 'true' }), hosts);

    expect(parsed.refused).toBe(true);
    expect(isRefusedByEdge(status, resultType)).toBe(true);
  });

  it.each([
    ['a 503 the CDN served', 503, 'Error'],
    ['a capacity failure', 503, 'CapacityExceeded'],
    ['a cache miss', 200, 'Miss'],
  ])('counts %s', (_name, status, resultType) => {
    expect(parseRealtimeLogRecord(logged({ 'sc-status': status, 'x-edge-result-type': resultType }), hosts).refused).toBe(false);
  });
});

describe('lenient CMCD fields of a log line', () => {
  const logged = (fields: Record<string, string | number>) =>
    formatRealtimeLogLine({ timestamp: '1700000001.250', 'sc-status': 503, 'time-taken': '0.250', 'x-host-header': 'd111111abcdef8.cloudfront.net', ...fields });

  it.each([
    ['a v1 integer', '3000', 3000],
    ['a v2 inner list', '(3000)', 3000],
    ['a v2 inner list with parameters', '(3000;v 128;a)', 3000],
    ['a decimal', '1234.5', 1235],
  ])('reads %s', (_name, text, expected) => {
    const parsed = parseRealtimeLogRecord(logged({ 'cmcd-measured-throughput': text, 'cmcd-encoded-bitrate': text }), hosts);

    expect(parsed.sample).toMatchObject({ throughputKbps: expected, bitrateKbps: expected, status: 503 });
    expect(parsed.implausible).toBe(0);
  });

  it('drops an unreadable or implausible value and keeps the line with its status', () => {
    const parsed = parseRealtimeLogRecord(logged({ 'cmcd-measured-throughput': 'fast', 'cmcd-buffer-length': '99999999999', 'cmcd-buffer-starvation': 'maybe' }), hosts);

    expect(parsed.implausible).toBe(3);
    expect(parsed.sample.status).toBe(503);
    expect(parsed.sample.throughputKbps).toBeUndefined();
    expect(parsed.sample.bufferMs).toBeUndefined();
  });
});

describe('formatRealtimeLogLine', () => {
  it('round-trips through the parser with - for missing fields', () => {
    const line = formatRealtimeLogLine({
      timestamp: '1700000001.250', 'time-to-first-byte': '0.020', 'sc-status': 200, 'sc-bytes': 1000,
      'x-host-header': 'd111111abcdef8.cloudfront.net', 'c-country': 'fr', asn: 12322, 'cmcd-measured-throughput': 4500,
      'x-edge-result-type': 'Hit',
    });

    expect(line.split('\t')).toHaveLength(REALTIME_LOG_FIELDS.length);
    expect(line.split('\t').filter((v) => v === '-').length).toBe(REALTIME_LOG_FIELDS.length - 9);
    expect(parseRealtimeLogLine(line, hosts)).toMatchObject({ country: 'FR', asn: 12322, throughputKbps: 4500, ttfbMs: 20 });
  });

  it('refuses unknown field names and values with tabs', () => {
    expect(() => formatRealtimeLogLine({ 'c-ip': '1.2.3.4' })).toThrow(/not a configured/);
    expect(() => formatRealtimeLogLine({ 'cs-uri-stem': 'a\tb' })).toThrow(/tabs/);
  });
});

describe('pathway lookup helpers', () => {
  it('finds the asset id in a tokenised media path', () => {
    expect(assetIdOfLoggedPath('/TOKEN/media/big-buck/r1/v720/seg_1.m4s')).toBe('big-buck');
    expect(assetIdOfLoggedPath('/media/big-buck/r1/v720/seg_1.m4s')).toBe('big-buck');
    expect(assetIdOfLoggedPath('/favicon.ico')).toBeUndefined();
  });

  it('identifies a pathway from a URL, an id or a host given as CMCD cdn', () => {
    expect(pathwayOfUrl(hosts, 'https://d111111abcdef8.cloudfront.net/x/seg.m4s')).toBe('cf-a');
    expect(pathwayOfUrl(hosts, 'not a url')).toBeUndefined();
    expect(pathwayOfCdnValue(hosts, 'cf-b')).toBe('cf-b');
    expect(pathwayOfCdnValue(hosts, 'video.example.com')).toBe('ext-c');
    expect(pathwayOfCdnValue(hosts, 'https://d222222abcdef8.cloudfront.net/')).toBe('cf-b');
    expect(pathwayOfCdnValue(hosts, 'akamai')).toBeUndefined();
  });
});
