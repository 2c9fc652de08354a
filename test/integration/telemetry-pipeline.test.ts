import { DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand, type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, KinesisStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateInitialKeyring } from '../../core/keyring';
import { minuteStartOf, COUNTER_NAMES } from '../../core/qoe-aggregate';
import { ORIGIN_VERIFY_HEADER } from '../../core/origin-verify';
import { signToken } from '../../core/token';
import { cellPartitionKey, RollupsTable } from '../../tables/rollups-table';
import { SESSION_MINUTE_BUDGET } from '../../core/cmcd-report';
import { bitOf, estimateDistinct } from '../../core/session-evidence';
import { createIngestHandler } from '../../lambdas/cmcd-ingest/index';
import { createSession } from '../../lambdas/playback-api/sessions';
import { type LocalAws, startLocalAws } from '../../local/aws-servers';
import { putPathwayRegistry, routingTableSpecs } from '../support/routing-tables';
import { rollupStageHandlers } from '../support/rollup-stages';
import { FIXTURE_PATHWAYS, hlsjsCmcdReportBodies, realtimeLogFixtureLines, reportPostEvent } from '../support/telemetry';
import { cmcdIngestConfig } from '../../lambdas/cmcd-ingest/config';
import { RATE_LIMIT_TABLE_SCHEMA } from '../../tables/table-schema';

const STREAM = 'telemetry';
const ROUTING = 'Routing';
const ROLLUPS = 'QoeRollups';
const RATE = 'CmcdRateLimit';
const PARTIALS = 'rollup-partials';
const SID = '6e2f1c4a-3b7d-4a8e-9c1f-2d5e8b7a9c0d';
const logLines = realtimeLogFixtureLines();
const bodies = hlsjsCmcdReportBodies();
const quiet = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
const ORIGIN_SECRET = 'the-gateway-origin-secret';
const noMetrics = () => ({ addMetric: vi.fn(), publishStoredMetrics: vi.fn(), singleMetric: () => ({ addDimension: vi.fn(), addMetric: vi.fn() }) });

/** A report as the gateway distribution forwards it: the edge's viewer headers and its origin-verify secret. */
function ingestEvent(token: string, body: string, viewer: { country?: string; asn?: number } = {}): APIGatewayProxyEventV2 {
  const headers = {
    'content-type': 'application/cmcd',
    'cloudfront-viewer-country': viewer.country ?? 'DE',
    'cloudfront-viewer-asn': String(viewer.asn ?? 3320),
    'cloudfront-viewer-address': '198.51.100.20:50123',
    [ORIGIN_VERIFY_HEADER]: ORIGIN_SECRET,
  };
  return reportPostEvent(token, body, headers, Date.now());
}

describe('telemetry pipeline against kinesalite and dynalite', () => {
  let aws: LocalAws;
  let ddb: DynamoDBDocumentClient;
  let kinesis: KinesisClient;
  const keyring = generateInitialKeyring({ kid: 'k1' });

  beforeAll(async () => {
    aws = await startLocalAws({ region: 'eu-west-1' });
    ddb = DynamoDBDocumentClient.from(aws.clients.dynamodb);
    kinesis = aws.clients.kinesis;
    await aws.createTables([
      ...routingTableSpecs({ routingTableName: ROUTING, rollupsTableName: ROLLUPS }),
      { tableName: RATE, ...RATE_LIMIT_TABLE_SCHEMA },
    ]);
    await aws.createStream(STREAM, 1);
    await aws.createStream(PARTIALS, 1);
    await putPathwayRegistry(ddb, ROUTING, FIXTURE_PATHWAYS, '2026-11-24T00:00:00Z');
  });

  afterAll(async () => {
    await aws?.stop();
  });

  async function readStream(streamName = STREAM): Promise<KinesisStreamEvent> {
    const { StreamDescription } = await kinesis.send(new DescribeStreamCommand({ StreamName: streamName }));
    const shardId = StreamDescription!.Shards![0]!.ShardId!;
    const { ShardIterator } = await kinesis.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }));
    const { Records } = await kinesis.send(new GetRecordsCommand({ ShardIterator }));
    // The shape the Lambda event source mapping delivers (Lambda developer guide, "Kinesis event").
    return {
      Records: (Records ?? []).map((r) => ({
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: r.PartitionKey!,
          sequenceNumber: r.SequenceNumber!,
          data: Buffer.from(r.Data!).toString('base64'),
          approximateArrivalTimestamp: (r.ApproximateArrivalTimestamp ?? new Date()).getTime() / 1000,
        },
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: `${shardId}:${r.SequenceNumber}`,
        eventName: 'aws:kinesis:record',
        invokeIdentityArn: 'arn:aws:iam::123456789012:role/qoe-aggregator',
        awsRegion: 'eu-west-1',
        eventSourceARN: `arn:aws:kinesis:eu-west-1:123456789012:stream/${streamName}`,
      })),
    };
  }

  /**
   * Both rollup stages on one batch of telemetry: qoe-aggregator puts partials, rollup-merger gets every record
   * of the partials stream so far (older ones come again, as after a replay) and writes the cells.
   */
  function rollUp() {
    const { aggregate, merge } = rollupStageHandlers({ aws, ddb, routingTableName: ROUTING, rollupsTableName: ROLLUPS, partialsStream: PARTIALS });
    return async (event: KinesisStreamEvent) => {
      const first = await aggregate(event);
      const second = await merge(await readStream(PARTIALS));
      return { batchItemFailures: [...first.batchItemFailures, ...second.batchItemFailures] };
    };
  }

  async function rollups(): Promise<Record<string, Record<string, number>>> {
    const { Items } = await ddb.send(new ScanCommand({ TableName: ROLLUPS }));
    const byCell: Record<string, Record<string, number>> = {};
    for (const item of (Items ?? []).filter((i) => /^\d+#\d+$/.test(String(i.pk)))) {
      const sum = (byCell[item.cell as string] ??= Object.fromEntries(COUNTER_NAMES.map((n) => [n, 0])));
      for (const name of COUNTER_NAMES) sum[name]! += (item[name] as number | undefined) ?? 0;
    }
    return byCell;
  }

  it('ingests real-time log lines and player reports, aggregates them once, and ignores a redelivery', async () => {
    // Prepare: CloudFront writes one log line per record; the ingest endpoint writes player reports.
    await kinesis.send(
      new PutRecordsCommand({
        StreamName: STREAM,
        Records: [
          ...logLines.map((line, i) => ({ Data: Buffer.from(`${line}\n`), PartitionKey: `edge-${i}` })),
          { Data: Buffer.from('\u0000not a record'), PartitionKey: 'garbage' },
        ],
      }),
    );
    const ingest = createIngestHandler({
      kinesis,
      ddb,
      keyring: { get: async () => keyring },
      originSecret: { get: async () => ORIGIN_SECRET, refresh: async () => ORIGIN_SECRET },
      // The deployed defaults (lambdas/cmcd-ingest/config.ts), as the function decodes them at cold start.
      config: cmcdIngestConfig.decode({ KEYRING_SECRET_ARN: 'keyring', ORIGIN_VERIFY_SECRET_ARN: 'origin', TELEMETRY_STREAM_NAME: STREAM, RATE_LIMIT_TABLE_NAME: RATE }),
      logger: quiet,
      metrics: noMetrics(),
    });
    const token = signToken({ sid: SID, aid: 'big-buck', exp: Math.floor(Date.now() / 1000) + 3600 }, keyring);
    const forged = signToken({ sid: SID, aid: 'big-buck', exp: Math.floor(Date.now() / 1000) + 3600 }, generateInitialKeyring({ kid: 'k1' }));
    // The fixture's response URL carries the session's token, as a real player's does.
    const report = bodies[1]!.replace('/TOKEN/', `/${token}/`);
    expect((await ingest(ingestEvent(token, report))).statusCode).toBe(204);
    expect((await ingest(ingestEvent(forged, report))).statusCode).toBe(403);

    const event = await readStream();
    expect(event.Records).toHaveLength(logLines.length + 2);
    const aggregate = rollUp();

    // Act
    const first = await aggregate(event);
    const afterFirst = await rollups();
    const redelivered = await aggregate(event);
    const retriedFromMiddle = await aggregate({ Records: event.Records.slice(2) });

    // Assess
    expect(first.batchItemFailures).toEqual([]);
    expect(afterFirst['cf-a#DE']).toMatchObject({ requests: 2, reports: 4, stalls: 2, stallMs: 30_000, edgeTtfbCount: 2, playerTtfbCount: 1, bytes: 3_686_400 });
    expect(afterFirst['cf-b#US']).toMatchObject({ requests: 1, errors: 1 });
    expect(redelivered.batchItemFailures).toEqual([]);
    expect(retriedFromMiddle.batchItemFailures).toEqual([]);
    expect(await rollups()).toEqual(afterFirst);
  });

  it('stores the rollup item under its minute\'s write shard, with its TTL and one high-water mark, of the partials shard', async () => {
    const { Items } = await ddb.send(new ScanCommand({ TableName: ROLLUPS }));
    const item = Items!.find((i) => i.cell === 'cf-b#US')!;

    expect(item).toMatchObject({ pk: cellPartitionKey(1_699_999_980_000, 'cf-b#US'), expiresAt: 1_699_999_980 + 7 * 86_400 });
    // one mark whatever the number of telemetry shards: only the partials shard of the cell's bucket writes it (ADR 0057)
    expect(Object.keys(item).filter((k) => k.startsWith('hwm_'))).toEqual(['hwm_shardId-000000000000']);
    expect(item['hwm_shardId-000000000000']).toMatch(/^\d{3}[1-9]\d*$/);
  });

  describe('one hostile session among honest ones: its evidence is one bounded session (ADR 0054)', () => {
    const POISON_STREAM = 'telemetry-poison';
    const HOST_A = FIXTURE_PATHWAYS[0]!.host;
    // One fixed receive time: the budgets are per session and receive minute, and the test must not straddle two.
    const NOW = minuteStartOf(Date.now()) + 30_000;
    const tokenOf = (sid: string) => signToken({ sid, aid: 'big-buck', exp: Math.floor(NOW / 1000) + 3600 }, keyring);
    const rr = (sid: string, rc: number) => `e=rr,rc=${rc},ttfb=40,url="https://${HOST_A}/${tokenOf(sid)}/media/big-buck/r1/v720/seg_1.m4s",sid="${sid}"`;
    const repeat = (n: number, line: string) => Array.from({ length: n }, () => line);

    it('bounds a stall flood, an absurd bsd and a flood of fake 503s, and counts distinct sessions and networks', async () => {
      // Prepare
      await aws.createStream(POISON_STREAM, 1);
      const ingest = createIngestHandler({
        kinesis,
        ddb,
        keyring: { get: async () => keyring },
        originSecret: { get: async () => ORIGIN_SECRET, refresh: async () => ORIGIN_SECRET },
        config: cmcdIngestConfig.decode({ KEYRING_SECRET_ARN: 'k', ORIGIN_VERIFY_SECRET_ARN: 'o', TELEMETRY_STREAM_NAME: POISON_STREAM, RATE_LIMIT_TABLE_NAME: RATE }),
        now: () => NOW,
        logger: quiet,
        metrics: noMetrics(),
      });
      // Viewers in BR: a cell of its own (the test above writes DE cells of this minute from another stream).
      const post = async (sid: string, lines: readonly string[], asn: number) => (await ingest(ingestEvent(tokenOf(sid), lines.join('\n'), { asn, country: 'BR' }))).statusCode ?? 0;
      const honest = Array.from({ length: 20 }, (_, i) => `honest-${i}`);
      const statuses: number[] = [];
      for (const [i, sid] of honest.entries()) statuses.push(await post(sid, [rr(sid, 200), `e=t,sta=p,sid="${sid}"`], 100 + i));
      // 3 POSTs of 200 `e=t,sta=r` lines (the first starts with a response, which verifies the session's pathway)
      statuses.push(await post('stall-flood', [rr('stall-flood', 200), ...repeat(199, 'e=t,sta=r,sid="stall-flood"')], 666));
      statuses.push(await post('stall-flood', repeat(200, 'e=t,sta=r,sid="stall-flood"'), 666));
      statuses.push(await post('stall-flood', repeat(200, 'e=t,sta=r,sid="stall-flood"'), 666));
      statuses.push(await post('absurd-bsd', [rr('absurd-bsd', 200), 'e=t,sta=r,bsd=(999999999),sid="absurd-bsd"'], 666));
      for (let i = 0; i < 3; i++) statuses.push(await post('fake-503s', repeat(200, rr('fake-503s', 503)), 666));
      const aggregate = rollUp();

      // Act: aggregate, then aggregate a redelivery of the same records
      const event = await readStream(POISON_STREAM);
      expect((await aggregate(event)).batchItemFailures).toEqual([]);
      const [cell] = (await new RollupsTable(ddb, ROLLUPS).readMinute(minuteStartOf(NOW))).filter((item) => item.cell === 'cf-a#BR');
      await aggregate(event);
      const [again] = (await new RollupsTable(ddb, ROLLUPS).readMinute(minuteStartOf(NOW))).filter((item) => item.cell === 'cf-a#BR');

      // Assess
      expect(statuses.every((status) => status === 204)).toBe(true);
      const everyone = [...honest, 'stall-flood', 'absurd-bsd', 'fake-503s'];
      const distinct = (kind: 'session' | 'network', values: readonly string[]) => estimateDistinct(new Set(values.map((v) => bitOf(kind, v))).size);
      expect(cell).toMatchObject({
        sessions: distinct('session', everyone),
        errorSessions: 1,
        stallSessions: 1,
        networks: distinct('network', [...honest.map((_, i) => String(100 + i)), '666']),
        // one session stalled for the whole minute at most, whatever it claimed; the absurd bsd added nothing
        stallMs: 60_000,
        playMs: 20 * 30_000,
        // the CDN's own error count is untouched by player claims
        errors: 0,
      });
      // each hostile session's lines count up to one session-minute budget, the rest only mark the session
      expect(cell!.reports).toBeLessThanOrEqual(20 * 2 + 2 * SESSION_MINUTE_BUDGET.lines + 2);
      expect(again).toEqual(cell);
    });
  });

  it('takes reports only from sessions playback-api sampled in, and refuses the others before any write (ADR 0058)', async () => {
    // Prepare: sessions as playback-api signs them at 30 %, until there is one of each kind
    const SAMPLED_STREAM = 'sampled-telemetry';
    await aws.createStream(SAMPLED_STREAM, 1);
    const sessionOpts = { gatewayDomain: 'gw.example.net', lifetimeSeconds: 3600, nowSeconds: Math.floor(Date.now() / 1000), reportSamplingPercent: 30 };
    const sessions = Array.from({ length: 64 }, () => createSession({ assetId: 'big-buck' }, 'r1', keyring, sessionOpts));
    const sampledIn = sessions.find((session) => session.reportSampled)!;
    const sampledOut = sessions.find((session) => !session.reportSampled)!;
    expect(sampledIn.reportUrl).toBeDefined();
    expect(sampledOut.reportUrl).toBeUndefined();
    const ingest = createIngestHandler({
      kinesis,
      ddb,
      keyring: { get: async () => keyring },
      originSecret: { get: async () => ORIGIN_SECRET, refresh: async () => ORIGIN_SECRET },
      config: cmcdIngestConfig.decode({
        KEYRING_SECRET_ARN: 'keyring',
        ORIGIN_VERIFY_SECRET_ARN: 'origin',
        TELEMETRY_STREAM_NAME: SAMPLED_STREAM,
        RATE_LIMIT_TABLE_NAME: RATE,
        REPORT_SAMPLING_PERCENT: '30',
      }),
      logger: quiet,
      metrics: noMetrics(),
    });
    const tokenOf = (session: { hls: string }) => new URL(session.hls).pathname.split('/')[1]!;
    const reportOf = (session: { sessionId: string; hls: string }) => bodies[1]!.replaceAll(SID, session.sessionId).replace('/TOKEN/', `/${tokenOf(session)}/`);

    // Act: the sampled-out session posts anyway, with its valid token
    const refused = await ingest(ingestEvent(tokenOf(sampledOut), reportOf(sampledOut)));
    const accepted = await ingest(ingestEvent(tokenOf(sampledIn), reportOf(sampledIn)));

    // Assess: only the sampled session reached the stream; the other charged nothing
    expect(refused.statusCode).toBe(403);
    expect(JSON.parse(refused.body!)).toMatchObject({ reason: 'not-sampled' });
    expect(accepted.statusCode).toBe(204);
    const records = (await readStream(SAMPLED_STREAM)).Records;
    expect(records.map((record) => record.kinesis.partitionKey)).toEqual([sampledIn.sessionId]);
    const { Items } = await ddb.send(new ScanCommand({ TableName: RATE }));
    expect((Items ?? []).filter((item) => String(item.pk).startsWith(sampledOut.sessionId))).toEqual([]);
  });
});
