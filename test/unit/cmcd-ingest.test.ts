import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ingestRecordToSamples, parseIngestRecord } from '../../core/cmcd-report';
import { generateInitialKeyring } from '../../core/keyring';
import { ORIGIN_VERIFY_HEADER } from '../../core/origin-verify';
import { buildPathwayHosts } from '../../core/pathway-hosts';
import { reportSampleBucket } from '../../core/report-sampling';
import { signToken } from '../../core/token';
import { createIngestHandler, type IngestConfig, intervalOf } from '../../lambdas/cmcd-ingest/index';
import { InMemoryRateLimitTable } from '../support/rate-limit-memory';

const NOW_MS = 1_700_000_030_000;
const SID = '6e2f1c4a-3b7d-4a8e-9c1f-2d5e8b7a9c0d';
const keyring = generateInitialKeyring({ nowSeconds: 1_699_990_000, kid: 'k1', key: Buffer.alloc(32, 7) });
const otherKeyring = generateInitialKeyring({ nowSeconds: 1_699_990_000, kid: 'k1', key: Buffer.alloc(32, 9) });
const token = signToken({ sid: SID, aid: 'big-buck', exp: NOW_MS / 1000 + 3600 }, keyring);
const ORIGIN_SECRET = 'gateway-origin-secret-value';
const STATE_KEY = `${SID}#session`;
const HOST_A = 'd111111abcdef8.cloudfront.net';
const { bodies } = JSON.parse(readFileSync(new URL('../fixtures/telemetry/hlsjs-cmcd-v2-reports.json', import.meta.url), 'utf8')) as {
  bodies: string[];
};

function post(body: string, over: { token?: string; contentType?: string; headers?: Record<string, string>; base64?: boolean } = {}): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /v1/cmcd/{token}',
    rawPath: `/v1/cmcd/${over.token ?? token}`,
    rawQueryString: '',
    headers: {
      'content-type': over.contentType ?? 'application/cmcd',
      'cloudfront-viewer-country': 'DE',
      'cloudfront-viewer-asn': '3320',
      'cloudfront-viewer-address': '198.51.100.20:50123',
      [ORIGIN_VERIFY_HEADER]: ORIGIN_SECRET,
      ...over.headers,
    },
    pathParameters: { token: over.token ?? token },
    body: over.base64 ? Buffer.from(body).toString('base64') : body,
    isBase64Encoded: over.base64 ?? false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'ingest.example',
      domainPrefix: 'ingest',
      http: { method: 'POST', path: '/v1/cmcd/x', protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'test' },
      requestId: 'r1',
      routeKey: 'POST /v1/cmcd/{token}',
      stage: '$default',
      time: '14/Nov/2023:22:13:50 +0000',
      timeEpoch: NOW_MS,
    },
  };
}

const kinesisMock = mockClient(KinesisClient);
const ddbMock = mockClient(DynamoDBDocumentClient);
const config: IngestConfig = { streamName: 'telemetry', rateLimitTableName: 'rate', linesPerSessionMinute: 10 };

function makeHandler(
  over: Partial<IngestConfig> = {},
  ring = keyring,
  originSecret: { get(): Promise<string>; refresh(): Promise<string> } = fixedSecret(ORIGIN_SECRET),
  metrics: { addMetric: ReturnType<typeof vi.fn> } = { addMetric: vi.fn() },
) {
  return createIngestHandler({
    kinesis: new KinesisClient({ region: 'eu-west-1' }),
    ddb: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })),
    keyring: { get: async () => ring },
    originSecret,
    config: { ...config, ...over },
    now: () => NOW_MS,
    sleep: async () => {},
    random: () => 0.5,
    logger: { info: vi.fn(), warn: vi.fn(), error: vi.fn() },
    metrics: metrics as never,
  });
}

function fixedSecret(value: string) {
  return { get: async () => value, refresh: async () => value };
}

/** The stream records of every PutRecords call so far. */
const putRecords = () =>
  kinesisMock.commandCalls(PutRecordsCommand).flatMap((call) => call.args[0].input.Records!.map((entry) => parseIngestRecord(Buffer.from(entry.Data!).toString('utf8'))));

const reasonOf = (body: string | undefined) => (JSON.parse(body ?? '{}') as { reason?: string }).reason;

describe('cmcd-ingest handler', () => {
  beforeEach(() => {
    kinesisMock.reset();
    ddbMock.reset();
    ddbMock.on(GetCommand).resolves({});
    ddbMock.on(UpdateCommand).resolves({});
    kinesisMock.on(PutRecordsCommand).callsFake((input) => ({
      FailedRecordCount: 0,
      Records: input.Records.map((_: unknown, i: number) => ({ SequenceNumber: String(i + 1), ShardId: 'shardId-000000000000' })),
    }));
  });

  it('refuses a sampled-out session (ADR 0058) with 403 not-sampled before any write', async () => {
    // The highest whole percent below the session's bucket samples it out; its own bucket's percent samples it in.
    const outAt = Math.floor(reportSampleBucket(SID) * 100);
    expect(outAt, 'the fixture session must be sampled out at some rate ≥ 1 %').toBeGreaterThanOrEqual(1);
    const refused = await makeHandler({ reportSamplingPercent: outAt })(post(bodies[1]!));
    expect(refused.statusCode).toBe(403);
    expect(reasonOf(refused.body)).toBe('not-sampled');
    expect(ddbMock.calls()).toHaveLength(0);
    expect(kinesisMock.commandCalls(PutRecordsCommand)).toHaveLength(0);

    const accepted = await makeHandler({ reportSamplingPercent: outAt + 1 })(post(bodies[1]!));
    expect(accepted.statusCode).toBe(204);
  });

  it('puts a good hls.js report on the stream with server-side country, ASN, receive time and sid as partition key', async () => {
    const response = await makeHandler()(post(bodies[1]!));

    expect(response.statusCode).toBe(204);
    const entries = kinesisMock.commandCalls(PutRecordsCommand)[0]!.args[0].input.Records!;
    expect(entries).toHaveLength(1);
    expect(entries[0]!.PartitionKey).toBe(SID);
    const record = parseIngestRecord(Buffer.from(entries[0]!.Data!).toString('utf8'));
    expect(record).toMatchObject({ t: 'cmcd', rt: NOW_MS, country: 'DE', asn: 3320, sid: SID, aid: 'big-buck' });
    expect(record.lines).toHaveLength(4);
  });

  it('accepts text/plain bodies (sendBeacon) and base64-encoded bodies', async () => {
    expect((await makeHandler()(post(bodies[0]!, { contentType: 'text/plain;charset=UTF-8' }))).statusCode).toBe(204);
    expect((await makeHandler()(post(bodies[0]!, { base64: true }))).statusCode).toBe(204);
  });

  it('uses XX when the viewer country header is missing', async () => {
    await makeHandler()(post(bodies[0]!, { headers: { 'cloudfront-viewer-country': '' } }));

    const data = kinesisMock.commandCalls(PutRecordsCommand)[0]!.args[0].input.Records![0]!.Data!;
    expect(parseIngestRecord(Buffer.from(data).toString('utf8')).country).toBe('XX');
  });

  it('answers a CORS preflight without touching the stream', async () => {
    const event = post('');
    event.requestContext.http.method = 'OPTIONS';

    const response = await makeHandler()(event);

    expect(response.statusCode).toBe(204);
    expect(response.headers).toMatchObject({ 'access-control-allow-origin': '*', 'access-control-allow-methods': 'POST, OPTIONS', 'access-control-allow-headers': 'Content-Type' });
    expect(kinesisMock.commandCalls(PutRecordsCommand)).toHaveLength(0);
  });

  it('refuses a forged token with 403 and writes nothing', async () => {
    const response = await makeHandler({}, otherKeyring)(post(bodies[1]!));

    expect(response.statusCode).toBe(403);
    expect(reasonOf(response.body)).toBe('bad-signature');
    expect(response.headers).toMatchObject({ 'access-control-allow-origin': '*' });
    expect(kinesisMock.commandCalls(PutRecordsCommand)).toHaveLength(0);
  });

  it('refuses an expired token with 403', async () => {
    const expired = signToken({ sid: SID, aid: 'big-buck', exp: NOW_MS / 1000 - 600 }, keyring);

    const response = await makeHandler()(post(bodies[1]!, { token: expired }));

    expect(response.statusCode).toBe(403);
    expect(reasonOf(response.body)).toBe('expired');
  });

  it('refuses a report whose sid differs from the token with 403', async () => {
    const response = await makeHandler()(post(bodies[1]!.replaceAll(SID, 'someone-else')));

    expect(response.statusCode).toBe(403);
    expect(reasonOf(response.body)).toBe('sid-mismatch');
    expect(kinesisMock.commandCalls(PutRecordsCommand)).toHaveLength(0);
  });

  it('refuses an oversize body with 413 before verifying anything', async () => {
    const response = await makeHandler({ maxBodyBytes: 1024 })(post(`${bodies[1]!}\n`.repeat(10)));

    expect(response.statusCode).toBe(413);
    expect(reasonOf(response.body)).toBe('body-too-large');
    expect(ddbMock.calls()).toHaveLength(0);
  });

  it('refuses too many lines and undecodable CMCD with 400', async () => {
    const tooMany = await makeHandler({ maxLines: 3 })(post(bodies[1]!));
    const garbage = await makeHandler()(post(`e=t,sid="${SID}"\n"unterminated`));

    expect([tooMany.statusCode, reasonOf(tooMany.body)]).toEqual([400, 'too-many-lines']);
    expect([garbage.statusCode, reasonOf(garbage.body)]).toEqual([400, 'bad-cmcd-line']);
  });

  it('refuses other content types with 415', async () => {
    expect((await makeHandler()(post(bodies[1]!, { contentType: 'application/json' }))).statusCode).toBe(415);
  });

  describe('per-session budgets in the container (ADR 0101)', () => {
    it('answers 429 with Retry-After once the session used its lines of the minute, counts it, and reads or writes nothing for it', async () => {
      // Prepare: one container, a budget of 10 lines, reports of 4
      const metrics = { addMetric: vi.fn() };
      const handler = makeHandler({}, keyring, fixedSecret(ORIGIN_SECRET), metrics);
      // Act
      const statuses = [(await handler(post(bodies[1]!))).statusCode, (await handler(post(bodies[1]!))).statusCode];
      const readsBefore = ddbMock.calls().length;
      const refused = await handler(post(bodies[1]!));
      // Assess: 8 of 10 lines taken, the third report of 4 does not fit
      expect(statuses).toEqual([204, 204]);
      expect([refused.statusCode, reasonOf(refused.body)]).toEqual([429, 'rate-limited']);
      expect(refused.headers).toMatchObject({ 'retry-after': '10' });
      expect(ddbMock.calls()).toHaveLength(readsBefore);
      expect(kinesisMock.commandCalls(PutRecordsCommand)).toHaveLength(2);
      expect(metrics.addMetric).toHaveBeenCalledWith('RateLimitedReports', 'Count', 1);
      expect(metrics.addMetric).toHaveBeenCalledWith('ReportsRejected', 'Count', 1);
    });

    it('answers 429 once the session posted its reports of the minute, however few lines each had', async () => {
      const handler = makeHandler({ linesPerSessionMinute: 600, postsPerSessionMinute: 3 });
      const line = `e=t,sta=p,sid="${SID}",ts=${NOW_MS}`;

      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await handler(post(line))).statusCode);

      expect(statuses).toEqual([204, 204, 204, 429]);
    });

    it('refuses a single report with more lines than the minute\'s budget', async () => {
      const response = await makeHandler({ linesPerSessionMinute: 3 })(post(bodies[1]!));

      expect(response.statusCode).toBe(429);
      expect(kinesisMock.commandCalls(PutRecordsCommand)).toHaveLength(0);
    });

    it('keeps one line budget per session and UTC minute', async () => {
      // Prepare: two handlers share nothing; within one, the next minute starts over and another session has its own
      let now = NOW_MS;
      const other = signToken({ sid: 'other-session', aid: 'big-buck', exp: NOW_MS / 1000 + 3600 }, keyring);
      const handler = createIngestHandler({
        kinesis: new KinesisClient({ region: 'eu-west-1' }),
        ddb: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })),
        keyring: { get: async () => keyring },
        originSecret: fixedSecret(ORIGIN_SECRET),
        config: { ...config, linesPerSessionMinute: 4 },
        now: () => now,
        logger: { info: vi.fn(), warn: vi.fn(), error: vi.fn() },
        metrics: { addMetric: vi.fn() },
      });
      // Act
      const first = await handler(post(bodies[1]!));
      const again = await handler(post(bodies[1]!));
      const otherSession = await handler(post(bodies[1]!.replaceAll(SID, 'other-session'), { token: other }));
      now += 60_000;
      const nextMinute = await handler(post(bodies[1]!));
      // Assess
      expect([first.statusCode, again.statusCode, otherSession.statusCode, nextMinute.statusCode]).toEqual([204, 429, 204, 204]);
    });

    it('grants repeated reports of one session-minute no more evidence together than the budget (60 s, 60 lines)', async () => {
      // Prepare: 13 reports of 5 rebuffering t events, 30 s each by default: 150 s and 5 lines claimed per report
      const handler = makeHandler({ linesPerSessionMinute: 600 });
      const body = Array.from({ length: 5 }, () => `e=t,sta=r,sid="${SID}"`).join('\n');
      // Act
      for (let i = 0; i < 13; i++) expect((await handler(post(body))).statusCode).toBe(204);
      // Assess
      const records = putRecords();
      expect(records.reduce((sum, r) => sum + r.gms, 0)).toBe(60_000);
      expect(records.reduce((sum, r) => sum + r.gn, 0)).toBe(60);
      expect(records.at(-1)).toMatchObject({ gms: 0, gn: 0 });
    });
  });

  describe('session state read on every report, written only when it changes (ADR 0101)', () => {
    const ownUrl = `https://${HOST_A}/${token}/media/big-buck/r1/v720/seg_1.m4s`;

    it('writes a session\'s state a few times in all, not per report: first host, first t, interval', async () => {
      // Prepare: the state table in memory; a stock hls.js session posting one event per report (ADR 0056)
      const table = new InMemoryRateLimitTable();
      table.attach(ddbMock);
      const handler = makeHandler({ linesPerSessionMinute: 600 });
      const events = [
        `e=rr,rc=200,url="${ownUrl}",sid="${SID}"`,
        `e=t,sta=p,sid="${SID}",ts=${NOW_MS - 20_000}`,
        `e=rr,rc=200,url="${ownUrl}",sid="${SID}"`,
        `e=t,sta=p,sid="${SID}",ts=${NOW_MS - 10_000}`,
        `e=rr,rc=200,url="${ownUrl}",sid="${SID}"`,
        `e=t,sta=p,sid="${SID}",ts=${NOW_MS}`,
        `e=rr,rc=200,url="${ownUrl}",sid="${SID}"`,
        `e=t,sta=r,sid="${SID}",ts=${NOW_MS}`,
      ];
      // Act
      for (const line of events) expect((await handler(post(line))).statusCode).toBe(204);
      // Assess: 8 reads (half a read unit each), 3 writes; every t line attributed; the interval learned from the first two
      expect([table.reads, table.writes]).toEqual([8, 3]);
      expect(table.items.get(STATE_KEY)).toMatchObject({ host: HOST_A, lastT: NOW_MS - 20_000, iv: 10_000 });
      const ts = putRecords().filter((r) => r.lines[0]!.startsWith('e=t'));
      expect(ts.map((r) => [r.vh[0], r.iv])).toEqual([
        [HOST_A, 30_000],
        [HOST_A, 10_000],
        [HOST_A, 10_000],
        [HOST_A, 10_000],
      ]);
    });

    it('writes again when the verified host changes, and refreshes an item about to expire', async () => {
      const HOST_B = 'cdn-b.example.net';
      const urlB = `https://${HOST_B}/${token}/media/big-buck/r1/v720/seg_1.m4s`;
      ddbMock.on(GetCommand).resolves({ Item: { pk: STATE_KEY, host: HOST_A, iv: 10_000, expiresAt: NOW_MS / 1000 + 7200 } });

      await makeHandler()(post(`e=rr,rc=200,url="${ownUrl}",sid="${SID}"`));
      expect(ddbMock.commandCalls(UpdateCommand)).toHaveLength(0);
      await makeHandler()(post(`e=rr,rc=200,url="${urlB}",sid="${SID}"`));
      expect(ddbMock.commandCalls(UpdateCommand)[0]!.args[0].input.ExpressionAttributeValues).toMatchObject({ ':host': HOST_B });

      ddbMock.on(GetCommand).resolves({ Item: { pk: STATE_KEY, host: HOST_A, iv: 10_000, expiresAt: NOW_MS / 1000 + 600 } });
      await makeHandler()(post(`e=rr,rc=200,url="${ownUrl}",sid="${SID}"`));
      expect(ddbMock.commandCalls(UpdateCommand)[1]!.args[0].input).toMatchObject({ UpdateExpression: 'SET #expiresAt = :expiresAt' });
    });

    it('reads the state eventually consistent, from the table it is given', async () => {
      await makeHandler()(post(bodies[1]!));

      expect(ddbMock.commandCalls(GetCommand)[0]!.args[0].input).toEqual({ TableName: 'rate', Key: { pk: STATE_KEY } });
    });

    it('still takes the report when the state table fails: lines unattributed, counted, never refused for it', async () => {
      ddbMock.on(GetCommand).rejects(new Error('ProvisionedThroughputExceededException'));
      const metrics = { addMetric: vi.fn() };

      const response = await makeHandler({}, keyring, fixedSecret(ORIGIN_SECRET), metrics)(post(`e=t,sta=p,sid="${SID}",ts=${NOW_MS}`));

      expect(response.statusCode).toBe(204);
      expect(putRecords()[0]).toMatchObject({ vh: [''], iv: 30_000 });
      expect(metrics.addMetric).toHaveBeenCalledWith('SessionStateUnavailable', 'Count', 1);
      expect(ddbMock.commandCalls(UpdateCommand)).toHaveLength(0);
    });

    it('measures the interval from a report with two t events, ignoring a remembered one', () => {
      const twoTs = [{ e: 't', ts: 1_000 }, { e: 't', ts: 6_000 }] as const;
      expect(intervalOf(twoTs as never, { iv: 30_000 })).toEqual({ intervalMs: 5_000, learned: 5_000 });
      expect(intervalOf([{ e: 't', ts: 6_000 }] as never, { lastT: 1_000 })).toEqual({ intervalMs: 5_000, learned: 5_000 });
      expect(intervalOf([{ e: 't', ts: 6_000 }] as never, {})).toEqual({ intervalMs: 30_000, firstT: 6_000 });
      expect(intervalOf([{ e: 'rr' }] as never, {})).toEqual({ intervalMs: 30_000 });
      // A pause between the first two t events is not kept as the interval: the measurement starts again
      expect(intervalOf([{ e: 't', ts: 181_000 }] as never, { lastT: 1_000 })).toEqual({ intervalMs: 180_000, firstT: 181_000 });
    });
  });

  it('retries only the entries PutRecords failed, then succeeds', async () => {
    const lines = Array.from({ length: 120 }, (_, i) => `e=t,sta=p,sid="${SID}",ts=${NOW_MS - i},com.example-pad="${'x'.repeat(400)}"`);
    kinesisMock
      .on(PutRecordsCommand)
      .resolvesOnce({
        FailedRecordCount: 1,
        Records: [{ SequenceNumber: '1', ShardId: 's' }, { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'slow down' }, { SequenceNumber: '3', ShardId: 's' }],
      })
      .resolves({ FailedRecordCount: 0, Records: [{ SequenceNumber: '4', ShardId: 's' }] });

    const response = await makeHandler({ linesPerSessionMinute: 600 })(post(lines.join('\n')));

    expect(response.statusCode).toBe(204);
    const calls = kinesisMock.commandCalls(PutRecordsCommand);
    expect(calls).toHaveLength(2);
    const first = calls[0]!.args[0].input.Records!;
    expect(first).toHaveLength(3);
    expect(calls[1]!.args[0].input.Records).toEqual([first[1]]);
  });

  it('answers 503 when nothing could be stored, so the player re-queues the events', async () => {
    kinesisMock.on(PutRecordsCommand).rejects(new Error('ServiceUnavailable'));

    const response = await makeHandler({ maxPutAttempts: 3 })(post(bodies[1]!));

    expect(response.statusCode).toBe(503);
    expect(kinesisMock.commandCalls(PutRecordsCommand)).toHaveLength(3);
  });

  describe('only through the edge (ADR 0055)', () => {
    it.each([
      ['without the origin-verify header', { [ORIGIN_VERIFY_HEADER]: undefined as unknown as string }],
      ['with a wrong origin-verify value', { [ORIGIN_VERIFY_HEADER]: 'guess' }],
    ])('refuses a direct request %s with 403 before touching anything', async (_name, headers) => {
      const event = post(bodies[1]!, { headers });
      if (event.headers[ORIGIN_VERIFY_HEADER] === undefined) delete event.headers[ORIGIN_VERIFY_HEADER];

      const response = await makeHandler()(event);

      expect(response.statusCode).toBe(403);
      expect(reasonOf(response.body)).toBe('not-through-edge');
      expect(ddbMock.commandCalls(UpdateCommand)).toHaveLength(0);
      expect(kinesisMock.commandCalls(PutRecordsCommand)).toHaveLength(0);
    });

    it('accepts the new value right after a rotation by re-reading the secret once', async () => {
      const rotated = { get: vi.fn(async () => 'old-value'), refresh: vi.fn(async () => ORIGIN_SECRET) };

      const response = await makeHandler({}, keyring, rotated)(post(bodies[1]!));

      expect(response.statusCode).toBe(204);
      expect(rotated.refresh).toHaveBeenCalledTimes(1);
    });

    it('binds an IP-bound token to the address the edge saw, never to the API\'s source IP', async () => {
      const bound = signToken({ sid: SID, aid: 'big-buck', exp: NOW_MS / 1000 + 3600, ip: '203.0.113.7' }, keyring);
      const noEdgeAddress = post(bodies[1]!, { token: bound });
      delete noEdgeAddress.headers['cloudfront-viewer-address'];

      const viaSourceIp = await makeHandler()(noEdgeAddress);
      const viaEdge = await makeHandler()(post(bodies[1]!, { token: bound, headers: { 'cloudfront-viewer-address': '203.0.113.7:443' } }));

      expect([viaSourceIp.statusCode, reasonOf(viaSourceIp.body)]).toEqual([403, 'ip-mismatch']);
      expect(viaEdge.statusCode).toBe(204);
    });
  });

  describe('verified pathway and evidence budget (ADR 0054)', () => {
    const ownUrl = `https://${HOST_A}/${token}/media/big-buck/r1/v720/seg_1.m4s`;

    it('verifies a response URL that carries the session\'s own token and remembers its host for the session', async () => {
      await makeHandler()(post(`e=rr,rc=200,url="${ownUrl}",sid="${SID}"\ne=t,sta=p,sid="${SID}",ts=${NOW_MS}`));

      expect(putRecords()[0]!.vh).toEqual([HOST_A, HOST_A]);
      const state = ddbMock.commandCalls(UpdateCommand).find((call) => call.args[0].input.Key!.pk === STATE_KEY)!.args[0].input;
      expect(state.ExpressionAttributeValues).toMatchObject({ ':host': HOST_A, ':lastT': NOW_MS });
    });

    it('takes lines without sid (dash.js report targets at their defaults) as the token\'s session, never as another', async () => {
      const response = await makeHandler()(post(`e=rr,rc=503,url="${ownUrl}",ts=${NOW_MS}\ne=t,ts=${NOW_MS},v=2`));

      expect(response.statusCode).toBe(204);
      const [record] = putRecords();
      expect(record!.sid).toBe(SID);
      const { samples } = ingestRecordToSamples(record!, buildPathwayHosts([{ id: 'cf-a', host: HOST_A, enabled: true, cap: 1 }]));
      expect(samples.map((s) => ({ sid: s.sid, pathway: s.pathway }))).toEqual([
        { sid: SID, pathway: 'cf-a' },
        { sid: SID, pathway: 'cf-a' },
      ]);
    });

    it('does not take a URL with another session\'s token or a forged one as the pathway', async () => {
      const otherSession = signToken({ sid: 'other-session', aid: 'big-buck', exp: NOW_MS / 1000 + 3600 }, keyring);
      const forged = signToken({ sid: SID, aid: 'big-buck', exp: NOW_MS / 1000 + 3600 }, otherKeyring);

      await makeHandler()(
        post([otherSession, forged].map((t) => `e=rr,rc=503,url="https://${HOST_A}/${t}/media/big-buck/r1/v720/seg_1.m4s",sid="${SID}"`).join('\n')),
      );

      expect(putRecords()[0]!.vh).toEqual(['', '']);
    });

    it('attributes a report without a URL (stock hls.js, batch size 1) to the host the session\'s state remembers', async () => {
      ddbMock.on(GetCommand, { Key: { pk: STATE_KEY } }).resolves({ Item: { pk: STATE_KEY, host: HOST_A, lastT: NOW_MS - 10_000 } });

      await makeHandler()(post(`e=t,sta=p,sid="${SID}",ts=${NOW_MS}`));

      // Assess: attributed, and the interval is the gap since the session's previous t event
      expect(putRecords()[0]).toMatchObject({ vh: [HOST_A], iv: 10_000, gms: 10_000, gn: 1 });
    });

    it('keeps the remembered CDN when the session reports a response of the gateway (manifest, steering): only media URLs prove a pathway (ADR 0068)', async () => {
      ddbMock.on(GetCommand, { Key: { pk: STATE_KEY } }).resolves({ Item: { pk: STATE_KEY, host: HOST_A } });
      const manifest = `https://gw.example.net/${token}/play/big-buck/r1/main.m3u8`;
      const steering = `https://gw.example.net/${token}/steer/big-buck`;

      await makeHandler()(post([manifest, steering].map((url) => `e=rr,rc=200,url="${url}",sid="${SID}"`).concat(`e=ps,sta=r,sid="${SID}"`).join('\n')));

      // Assess: every line still counts for the CDN, and the state is not overwritten with the gateway
      expect(putRecords()[0]!.vh).toEqual([HOST_A, HOST_A, HOST_A]);
      expect(ddbMock.commandCalls(UpdateCommand)).toHaveLength(0);
    });

    it('leaves a line unattributed when the session has no verified CDN yet, whatever cdn= or h= it claims (ADR 0068)', async () => {
      await makeHandler()(post(`e=ps,sta=f,cdn="cf-a",h="${HOST_A}",sid="${SID}"`));

      expect(putRecords()[0]!.vh).toEqual(['']);
      expect(ddbMock.commandCalls(UpdateCommand)).toHaveLength(0);
    });

    it('grants only what is left of the session-minute budget to a later report of the same minute', async () => {
      // Prepare: one container; the first report claims 50 s (five 10 s intervals of playing) and 58 lines
      ddbMock.on(GetCommand, { Key: { pk: STATE_KEY } }).resolves({ Item: { pk: STATE_KEY, host: HOST_A, iv: 10_000 } });
      const handler = makeHandler({ linesPerSessionMinute: 600 });
      const first = [...Array.from({ length: 5 }, () => `e=t,sta=p,sid="${SID}"`), ...Array.from({ length: 53 }, () => `e=rr,rc=200,sid="${SID}"`)];
      await handler(post(first.join('\n')));
      // Act: a rebuffering t (10 s) and two more lines
      await handler(post([`e=t,sta=r,sid="${SID}"`, `e=rr,rc=200,sid="${SID}"`, `e=rr,rc=200,sid="${SID}"`].join('\n')));
      // Assess
      expect(putRecords().map((r) => [r.gms, r.gn])).toEqual([
        [50_000, 58],
        [10_000, 2],
      ]);
    });
  });
});
