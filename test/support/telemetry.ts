import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { type CmcdIngestRecord, encodeIngestRecord, SESSION_MINUTE_BUDGET } from '../../core/cmcd-report';
import { MalformedRecordError } from '../../core/realtime-log';
import type { PathwayEntry } from '../../core/routing-types';

/**
 * The two CloudFront pathways the telemetry fixtures were recorded against: the hosts in
 * test/fixtures/telemetry/ (real-time log lines, hls.js CMCD reports) are these two.
 */
export const FIXTURE_PATHWAYS: readonly PathwayEntry[] = [
  { id: 'cf-a', host: 'd111111abcdef8.cloudfront.net', enabled: true, cap: 1 },
  { id: 'cf-b', host: 'd222222abcdef8.cloudfront.net', enabled: true, cap: 1 },
];

/** CloudFront real-time log lines (tab-separated, one record each), test/fixtures/telemetry/realtime-log-lines.tsv. */
export function realtimeLogFixtureLines(): string[] {
  return readFileSync(new URL('../fixtures/telemetry/realtime-log-lines.tsv', import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => line !== '');
}

/** Bodies of CMCD v2 event reports as hls.js posts them, test/fixtures/telemetry/hlsjs-cmcd-v2-reports.json. */
export function hlsjsCmcdReportBodies(): string[] {
  const { bodies } = JSON.parse(readFileSync(new URL('../fixtures/telemetry/hlsjs-cmcd-v2-reports.json', import.meta.url), 'utf8')) as {
    bodies: string[];
  };
  return bodies;
}

/** The `reason` of the MalformedRecordError that `fn` throws, undefined when it throws nothing; rethrows any other error. */
export function malformedReasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof MalformedRecordError) return error.reason;
    throw error;
  }
  return undefined;
}

/**
 * A stream record as the ingest writes it, for lines whose verified host is `host` (default: the first
 * fixture pathway's), at the default interval with a whole session-minute budget unless given.
 */
export function ingestRecordText(
  record: Omit<CmcdIngestRecord, 't' | 'v' | 'vh' | 'iv' | 'gms' | 'gn'> & Partial<Pick<CmcdIngestRecord, 'iv' | 'gms' | 'gn'>> & { readonly host?: string },
): string {
  const { host = FIXTURE_PATHWAYS[0]!.host, ...rest } = record;
  return encodeIngestRecord({
    iv: 30_000,
    gms: SESSION_MINUTE_BUDGET.ms,
    gn: SESSION_MINUTE_BUDGET.lines,
    ...rest,
    vh: record.lines.map(() => host),
  });
}

/** The API Gateway (payload v2) event of a report POST to cmcd-ingest with these request headers, received at `at` (epoch ms). */
export function reportPostEvent(token: string, body: string, headers: Record<string, string>, at: number): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /v1/cmcd/{token}',
    rawPath: `/v1/cmcd/${token}`,
    rawQueryString: '',
    headers,
    pathParameters: { token },
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'ingest.example',
      domainPrefix: 'ingest',
      http: { method: 'POST', path: `/v1/cmcd/${token}`, protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'test' },
      requestId: 'r',
      routeKey: 'POST /v1/cmcd/{token}',
      stage: '$default',
      time: '',
      timeEpoch: at,
    },
  };
}
