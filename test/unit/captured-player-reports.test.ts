import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { type CmcdIngestRecord, decodeCmcdReportLines, parseIngestRecord, SESSION_MINUTE_BUDGET, splitCmcdReportBody } from '../../core/cmcd-report';
import { generateInitialKeyring } from '../../core/keyring';
import { ORIGIN_VERIFY_HEADER } from '../../core/origin-verify';
import { buildPathwayHosts, normalizeHost, type PathwayHosts } from '../../core/pathway-hosts';
import { aggregateSamples, aggregateSessionEvidence, samplesOfStreamRecord } from '../../core/qoe-aggregate';
import type { QoeSample } from '../../core/qoe-types';
import { parseRealtimeLogRecord, REALTIME_LOG_FIELDS } from '../../core/realtime-log';
import { bitOf } from '../../core/session-evidence';
import { signToken } from '../../core/token';
import { createIngestHandler } from '../../lambdas/cmcd-ingest/index';
import { type CapturedSession, loadCapturedSessions, TIME_ORIGIN, withSession } from '../fixtures/telemetry/captured-session';
import { InMemoryRateLimitTable } from '../support/rate-limit-memory';
import { reportPostEvent } from '../support/telemetry';

/**
 * Stock players' real reports (test/fixtures/telemetry/captured/, captured from hls.js, dash.js and Shaka
 * Player in Chromium against the twin; ADR 0067) replayed through the real path: the cmcd-ingest handler
 * (Kinesis and the rate-limit table mocked), then the aggregator's core (core/qoe-aggregate.ts,
 * core/session-evidence.ts) together with the CDN real-time log lines the twin wrote for the same session.
 */

const captures = loadCapturedSessions();
const SID = 'captured-session-0001';
const ORIGIN_SECRET = 'gateway-origin-secret';
const keyring = generateInitialKeyring({ nowSeconds: TIME_ORIGIN / 1000 - 60, kid: 'k1', key: Buffer.alloc(32, 3) });

/**
 * What each capture's player can tell the platform, from what it sends at the configuration captured:
 * - `attributed`: report lines carry `sid` and `url` on `rr`, so they are attributed to the verified pathway;
 * - `no-url`: lines never carry a `url` (Shaka at its default CMCD version 1 reports v1 keys only; dash.js's
 *   event-target keys default to `e`, `ts`, `v`, so its lines are the token's session), so they are accepted
 *   but attributed to nothing; the session reaches routing through its CDN log lines.
 */
const EXPECTED: Readonly<Record<string, 'attributed' | 'no-url'>> = {
  hlsjs: 'attributed',
  dashjs: 'attributed',
  'dashjs-target-keys-default': 'no-url',
  shaka: 'attributed',
  'shaka-version-default': 'no-url',
};

const kinesisMock = mockClient(KinesisClient);
const ddbMock = mockClient(DynamoDBDocumentClient);

interface Replay {
  /** The ingest's answer to each captured POST, in order. */
  readonly statuses: number[];
  /** The stream records the ingest wrote, in order. */
  readonly records: CmcdIngestRecord[];
  /** Per record, whether its POST had an `rr` line. */
  readonly postHadRr: boolean[];
  readonly token: string;
}

/** The captured POSTs through the ingest handler, one after another, each at its captured time. */
async function replayReports(captured: CapturedSession): Promise<Replay> {
  const token = signToken({ sid: SID, aid: captured.session.assetId, exp: TIME_ORIGIN / 1000 + 6 * 3600 }, keyring);
  const session = { sessionId: SID, token };
  let now = TIME_ORIGIN;
  const handler = createIngestHandler({
    kinesis: new KinesisClient({ region: 'eu-west-1' }),
    ddb: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })),
    keyring: { get: async () => keyring },
    originSecret: { get: async () => ORIGIN_SECRET, refresh: async () => ORIGIN_SECRET },
    config: { streamName: 'telemetry', rateLimitTableName: 'rate', linesPerSessionMinute: 600 },
    now: () => now,
    sleep: async () => {},
    random: () => 0.5,
    logger: { info: vi.fn(), warn: vi.fn(), error: vi.fn() },
    metrics: { addMetric: vi.fn() },
  });
  const statuses: number[] = [];
  const postHadRr: boolean[] = [];
  for (const report of captured.reports) {
    now = TIME_ORIGIN + report.atMs;
    const before = kinesisMock.commandCalls(PutRecordsCommand).length;
    const body = withSession(report.body, session);
    const response = await handler(reportEvent(body, token, report.contentType ?? 'application/cmcd'));
    statuses.push(response.statusCode ?? 0);
    const written = kinesisMock.commandCalls(PutRecordsCommand).length - before;
    const hasRr = splitCmcdReportBody(body).some((line) => /(^|,)e=rr(,|$)/.test(line));
    for (let i = 0; i < written; i++) postHadRr.push(hasRr);
  }
  const records = kinesisMock
    .commandCalls(PutRecordsCommand)
    .flatMap((call) => call.args[0].input.Records!.map((entry) => parseIngestRecord(Buffer.from(entry.Data!).toString('utf8'))));
  return { statuses, records, postHadRr, token };
}

function reportEvent(body: string, token: string, contentType: string): APIGatewayProxyEventV2 {
  const headers = { 'content-type': contentType, 'cloudfront-viewer-country': 'DE', 'cloudfront-viewer-asn': '3320', [ORIGIN_VERIFY_HEADER]: ORIGIN_SECRET };
  return reportPostEvent(token, body, headers, TIME_ORIGIN);
}

const pathwayHostsOf = (captured: CapturedSession): PathwayHosts =>
  buildPathwayHosts(Object.entries(captured.pathways).map(([id, host]) => ({ id, host, enabled: true, cap: 1 })));

/** The CDN log lines of the session, with the test's token in their paths. */
const cdnLogLines = (captured: CapturedSession, token: string) => captured.cdnLog.map((line) => withSession(line, { sessionId: SID, token }));

/** Samples of the session from both sources, as the aggregator derives them from the stream. */
function samplesOfSession(captured: CapturedSession, replay: Replay): QoeSample[] {
  const hosts = pathwayHostsOf(captured);
  const fromLogs = cdnLogLines(captured, replay.token).flatMap((line) => samplesOfStreamRecord(line, hosts).samples);
  const fromReports = replay.records.flatMap((record) => samplesOfStreamRecord(JSON.stringify(record), hosts).samples);
  return [...fromLogs, ...fromReports];
}

/** Hosts of the media the session actually fetched (the captured requests), normalised. */
const fetchedHosts = (captured: CapturedSession) =>
  new Set(captured.requests.filter((r) => r.url.includes('/media/')).map((r) => normalizeHost(new URL(r.url).host)));

/** The log fields of the CMCD keys the parser reads as numbers, and the key each carries. */
const NUMERIC_LOG_FIELDS: Readonly<Record<string, string>> = {
  br: 'cmcd-encoded-bitrate',
  bl: 'cmcd-buffer-length',
  d: 'cmcd-object-duration',
  mtp: 'cmcd-measured-throughput',
  tb: 'cmcd-top-bitrate',
};

/** `key=value` pairs of a request's `CMCD=` query as the player wrote them (values not decoded: `(3000)` stays). */
function rawCmcdOf(url: string): Record<string, string> {
  const text = new URL(url).searchParams.get('CMCD') ?? '';
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (!quoted && c === '(') depth += 1;
    else if (!quoted && c === ')') depth -= 1;
    else if (!quoted && depth === 0 && c === ',') {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return Object.fromEntries(parts.filter((p) => p.includes('=')).map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
}

describe('captured stock-player sessions', () => {
  it('include hls.js, dash.js and Shaka Player, each with its version and capture date', () => {
    expect(new Set(captures.map((c) => c.captured.player))).toEqual(new Set(['hls.js', 'dash.js', 'Shaka Player']));
    for (const { file, captured } of captures) {
      expect(file).toContain(captured.version);
      expect(captured.capturedOn).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(EXPECTED[captured.variant], `${file}: add the variant's expectation`).toBeDefined();
    }
  });
});

describe.each(captures)('$file', ({ captured }) => {
  const expected = EXPECTED[captured.variant];

  beforeEach(() => {
    kinesisMock.reset();
    ddbMock.reset();
    new InMemoryRateLimitTable().attach(ddbMock);
    kinesisMock.on(PutRecordsCommand).callsFake((input: { Records: unknown[] }) => ({
      FailedRecordCount: 0,
      Records: input.Records.map((_, i) => ({ SequenceNumber: String(i + 1), ShardId: 'shardId-000000000000' })),
    }));
  });

  it('captured reports, CMCD-carrying requests, CDN log lines and a fault that failed requests', () => {
    expect(captured.reports.length).toBeGreaterThan(0);
    expect(captured.requests.length).toBeGreaterThan(0);
    expect(captured.cdnLog.length).toBeGreaterThan(0);
    expect(captured.fault.failedMediaRequests).toBeGreaterThan(0);
  });

  it('gets the same answers from the replayed ingest as the twin gave the player', async () => {
    const replay = await replayReports(captured);

    expect(replay.statuses).toEqual(captured.reports.map((r) => r.status));
  });

  if (expected === 'attributed') {
    it("attributes every line after the session's first verified response to a pathway it fetched from, also in POSTs without an rr line", async () => {
      const replay = await replayReports(captured);
      const vh = replay.records.flatMap((r) => r.vh);
      const firstVerified = vh.findIndex((host) => host !== '');

      expect(firstVerified).toBeGreaterThanOrEqual(0);
      expect(vh.slice(firstVerified).filter((host) => host === '')).toEqual([]);
      const fetched = fetchedHosts(captured);
      expect(vh.filter((host) => host !== '' && !fetched.has(host))).toEqual([]);
      const attributedWithoutRr = replay.records.filter((r, i) => !replay.postHadRr[i] && r.vh.some((host) => host !== '')).length;
      expect(attributedWithoutRr).toBeGreaterThan(0);
    });
  }

  if (expected === 'no-url') {
    it('accepts the reports but attributes none of their lines: no line names a URL', async () => {
      const replay = await replayReports(captured);

      expect(replay.statuses.every((status) => status === 204)).toBe(true);
      expect(replay.records.flatMap((r) => r.vh).every((host) => host === '')).toBe(true);
      const lines = replay.records.flatMap((r) => decodeCmcdReportLines(r.lines));
      expect(lines.some((line) => line.url !== undefined)).toBe(false);
    });
  }

  it('keeps every CDN log line of the session, v2 and decimal CMCD values included, with its status', async () => {
    const replay = await replayReports(captured);
    const hosts = pathwayHostsOf(captured);

    for (const line of cdnLogLines(captured, replay.token)) {
      const parsed = parseRealtimeLogRecord(line, hosts);
      if (parsed.refused) continue;
      expect(parsed.sample.status, line).toBe(Number(line.split('\t')[2]));
      expect(parsed.sample.sid, line).toBe(SID);
    }
  });

  it("keeps a CDN log line whose CMCD fields hold the player's raw request values (v2 inner lists, decimals)", () => {
    // The twin's log formatter writes v2 inner lists as plain numbers; a CDN may log them as sent.
    const token = signToken({ sid: SID, aid: captured.session.assetId, exp: TIME_ORIGIN / 1000 + 3600 }, keyring);
    const hosts = pathwayHostsOf(captured);
    const template = cdnLogLines(captured, token).find((line) => !parseRealtimeLogRecord(line, hosts).refused)!;
    const cdnRequests = captured.requests.filter((r) => Object.values(captured.pathways).includes(new URL(r.url).host) && r.url.includes('CMCD='));

    expect(cdnRequests.length).toBeGreaterThan(0);
    for (const request of cdnRequests) {
      const raw = rawCmcdOf(request.url);
      const fields = template.split('\t');
      for (const [key, field] of Object.entries(NUMERIC_LOG_FIELDS)) fields[REALTIME_LOG_FIELDS.indexOf(field)] = raw[key] ?? '-';
      const parsed = parseRealtimeLogRecord(fields.join('\t'), hosts);

      expect(parsed.refused).toBe(false);
      expect(parsed.sample.status, request.url).toBe(Number(template.split('\t')[2]));
      expect(parsed.sample.sid).toBe(SID);
      if (raw.br !== undefined) expect(parsed.sample.bitrateKbps ?? parsed.implausible, `br=${raw.br}`).toBeTruthy();
    }
  });

  it('loses no accepted report line: each is a sample or counted unattributed', async () => {
    const replay = await replayReports(captured);
    const hosts = pathwayHostsOf(captured);

    for (const record of replay.records) {
      const out = samplesOfStreamRecord(JSON.stringify(record), hosts);
      expect(out.samples.length + out.unattributed).toBe(record.lines.length);
    }
  });

  it('counts each failed request once: CDN 5xx lines in errors, the session once in errorSessions', async () => {
    const replay = await replayReports(captured);
    const samples = samplesOfSession(captured, replay);
    const rollups = [...aggregateSamples(samples).values()];
    const evidence = [...aggregateSessionEvidence(samples).entries()];
    const failedLogLines = cdnLogLines(captured, replay.token).filter((line) => Number(line.split('\t')[2]) >= 500).length;
    const faultedPathway = captured.fault.pathway;

    expect(failedLogLines).toBeGreaterThan(0);
    expect(rollups.reduce((sum, r) => sum + r.errors, 0)).toBe(failedLogLines);
    const faultedCells = evidence.filter(([key]) => key.includes(`/${faultedPathway}#`));
    expect(faultedCells.some(([, bits]) => bits.errorSessions.has(bitOf('session', SID)))).toBe(true);
    for (const [, bits] of evidence) expect(bits.errorSessions.size).toBeLessThanOrEqual(1);
  });

  it("bounds the session's contribution to each cell-minute", async () => {
    const replay = await replayReports(captured);
    const samples = samplesOfSession(captured, replay);

    // The budget is the session's per UTC minute, whichever cells its lines went to.
    const perMinute = new Map<number, { ms: number; reports: number }>();
    for (const rollup of aggregateSamples(samples).values()) {
      const minute = perMinute.get(rollup.minute) ?? { ms: 0, reports: 0 };
      perMinute.set(rollup.minute, { ms: minute.ms + rollup.playMs + rollup.stallMs, reports: minute.reports + rollup.reports });
    }
    for (const minute of perMinute.values()) {
      expect(minute.ms).toBeLessThanOrEqual(SESSION_MINUTE_BUDGET.ms);
      expect(minute.reports).toBeLessThanOrEqual(SESSION_MINUTE_BUDGET.lines);
    }
    for (const bits of aggregateSessionEvidence(samples).values()) expect(bits.sessions.size).toBe(1);
  });
});
