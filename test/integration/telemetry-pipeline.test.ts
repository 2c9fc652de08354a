import { DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand, type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, KinesisStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateInitialKeyring } from '../../core/keyring';
import { COUNTER_NAMES } from '../../core/qoe-aggregate';
import { signToken } from '../../core/token';
import { createIngestHandler } from '../../lambdas/cmcd-ingest/index';
import { createAggregatorHandler } from '../../lambdas/qoe-aggregator/index';
import { type LocalAws, startLocalAws } from '../../local/aws-servers';
import { putPathwayRegistry, routingTableSpecs } from '../support/routing-tables';
import { FIXTURE_PATHWAYS, hlsjsCmcdReportBodies, realtimeLogFixtureLines } from '../support/telemetry';
import { cmcdIngestConfig } from '../../lambdas/cmcd-ingest/config';
import { RATE_LIMIT_TABLE_SCHEMA } from '../../tables/table-schema';

const STREAM = 'telemetry';
const ROUTING = 'Routing';
const ROLLUPS = 'QoeRollups';
const RATE = 'CmcdRateLimit';
const SID = '6e2f1c4a-3b7d-4a8e-9c1f-2d5e8b7a9c0d';
const logLines = realtimeLogFixtureLines();
const bodies = hlsjsCmcdReportBodies();
const quiet = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
const noMetrics = () => ({ addMetric: vi.fn(), publishStoredMetrics: vi.fn(), singleMetric: () => ({ addDimension: vi.fn(), addMetric: vi.fn() }) });

function ingestEvent(token: string, body: string): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /v1/cmcd/{token}',
    rawPath: `/v1/cmcd/${token}`,
    rawQueryString: '',
    headers: { 'content-type': 'application/cmcd', 'cloudfront-viewer-country': 'DE', 'cloudfront-viewer-asn': '3320' },
    pathParameters: { token },
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'ingest.example',
      domainPrefix: 'ingest',
      http: { method: 'POST', path: `/v1/cmcd/${token}`, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'r',
      routeKey: 'POST /v1/cmcd/{token}',
      stage: '$default',
      time: '',
      timeEpoch: Date.now(),
    },
  };
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
    await putPathwayRegistry(ddb, ROUTING, FIXTURE_PATHWAYS, '2026-11-24T00:00:00Z');
  });

  afterAll(async () => {
    await aws?.stop();
  });

  async function readStream(): Promise<KinesisStreamEvent> {
    const { StreamDescription } = await kinesis.send(new DescribeStreamCommand({ StreamName: STREAM }));
    const shardId = StreamDescription!.Shards![0]!.ShardId!;
    const { ShardIterator } = await kinesis.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }));
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
        eventSourceARN: `arn:aws:kinesis:eu-west-1:123456789012:stream/${STREAM}`,
      })),
    };
  }

  async function rollups(): Promise<Record<string, Record<string, number>>> {
    const { Items } = await ddb.send(new ScanCommand({ TableName: ROLLUPS }));
    const byCell: Record<string, Record<string, number>> = {};
    for (const item of Items ?? []) {
      const sum = (byCell[item.cell as string] ??= Object.fromEntries(COUNTER_NAMES.map((n) => [n, 0])));
      for (const name of COUNTER_NAMES) sum[name]! += item[name] as number;
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
      // The deployed defaults (lambdas/cmcd-ingest/config.ts), as the function decodes them at cold start.
      config: cmcdIngestConfig.decode({ KEYRING_SECRET_ARN: 'keyring', TELEMETRY_STREAM_NAME: STREAM, RATE_LIMIT_TABLE_NAME: RATE }),
      logger: quiet,
      metrics: noMetrics(),
    });
    const token = signToken({ sid: SID, aid: 'big-buck', exp: Math.floor(Date.now() / 1000) + 3600 }, keyring);
    const forged = signToken({ sid: SID, aid: 'big-buck', exp: Math.floor(Date.now() / 1000) + 3600 }, generateInitialKeyring({ kid: 'k1' }));
    expect((await ingest(ingestEvent(token, bodies[1]!))).statusCode).toBe(204);
    expect((await ingest(ingestEvent(forged, bodies[1]!))).statusCode).toBe(403);

    const event = await readStream();
    expect(event.Records).toHaveLength(logLines.length + 2);
    const aggregate = createAggregatorHandler({
      ddb,
      config: { rollupsTableName: ROLLUPS, routingTableName: ROUTING, rollupTtlDays: 7 },
      logger: quiet,
      metrics: noMetrics(),
    });

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

  it('stores the rollup item with the key schema, pathway, country, TTL and a per-shard high-water mark', async () => {
    const { Items } = await ddb.send(new ScanCommand({ TableName: ROLLUPS }));
    const item = Items!.find((i) => i.cell === 'cf-b#US')!;

    expect(item).toMatchObject({ minute: 1_699_999_980_000, pathway: 'cf-b', country: 'US', expiresAt: 1_699_999_980 + 7 * 86_400 });
    expect(Object.keys(item).filter((k) => k.startsWith('hwm_'))).toEqual(['hwm_shardId-000000000000']);
    expect(item['hwm_shardId-000000000000']).toHaveLength(129);
  });
});
