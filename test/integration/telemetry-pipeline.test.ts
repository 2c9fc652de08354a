import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { APIGatewayProxyEventV2, KinesisStreamEvent } from 'aws-lambda';
import dynalite from 'dynalite';
import kinesalite from 'kinesalite';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateInitialKeyring } from '../../core/keyring';
import { COUNTER_NAMES } from '../../core/qoe-aggregate';
import { signToken } from '../../core/token';
import { createIngestHandler } from '../../lambdas/cmcd-ingest/index';
import { createAggregatorHandler } from '../../lambdas/qoe-aggregator/index';

const STREAM = 'telemetry';
const ROUTING = 'Routing';
const ROLLUPS = 'QoeRollups';
const RATE = 'CmcdRateLimit';
const SID = '6e2f1c4a-3b7d-4a8e-9c1f-2d5e8b7a9c0d';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const logLines = readFileSync(new URL('../fixtures/telemetry/realtime-log-lines.tsv', import.meta.url), 'utf8').split('\n').filter(Boolean);
const { bodies } = JSON.parse(readFileSync(new URL('../fixtures/telemetry/hlsjs-cmcd-v2-reports.json', import.meta.url), 'utf8')) as {
  bodies: string[];
};
const quiet = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
const noMetrics = () => ({ addMetric: vi.fn(), publishStoredMetrics: vi.fn(), singleMetric: () => ({ addDimension: vi.fn(), addMetric: vi.fn() }) });

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

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
  const dynamoServer = dynalite({ createTableMs: 0 });
  const kinesisServer = kinesalite({ createStreamMs: 0 });
  let ddb: DynamoDBDocumentClient;
  let kinesis: KinesisClient;
  const keyring = generateInitialKeyring({ kid: 'k1' });

  beforeAll(async () => {
    const [dynamoUrl, kinesisUrl] = await Promise.all([listen(dynamoServer), listen(kinesisServer)]);
    ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: dynamoUrl, region: 'eu-west-1', credentials }));
    // kinesalite speaks HTTP/1.1 only; the Kinesis client defaults to HTTP/2 (TOOLCHAIN.md).
    kinesis = new KinesisClient({ endpoint: kinesisUrl, region: 'eu-west-1', credentials, requestHandler: new NodeHttpHandler() });
    const table = (TableName: string, hash: [string, 'S' | 'N'], range?: [string, 'S' | 'N']) =>
      ddb.send(
        new CreateTableCommand({
          TableName,
          AttributeDefinitions: [
            { AttributeName: hash[0], AttributeType: hash[1] },
            ...(range ? [{ AttributeName: range[0], AttributeType: range[1] }] : []),
          ],
          KeySchema: [{ AttributeName: hash[0], KeyType: 'HASH' }, ...(range ? [{ AttributeName: range[0], KeyType: 'RANGE' as const }] : [])],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    await table(ROUTING, ['pk', 'S']);
    await table(ROLLUPS, ['minute', 'N'], ['cell', 'S']);
    await table(RATE, ['pk', 'S']);
    await kinesis.send(new CreateStreamCommand({ StreamName: STREAM, ShardCount: 1 }));
    for (let i = 0; i < 50; i++) {
      const { StreamDescription } = await kinesis.send(new DescribeStreamCommand({ StreamName: STREAM }));
      if (StreamDescription?.StreamStatus === 'ACTIVE') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await ddb.send(
      new PutCommand({
        TableName: ROUTING,
        Item: {
          pk: 'pathways',
          pathways: [
            { id: 'cf-a', host: 'd111111abcdef8.cloudfront.net', enabled: true, cap: 1 },
            { id: 'cf-b', host: 'd222222abcdef8.cloudfront.net', enabled: true, cap: 1 },
          ],
          updatedAt: '2026-11-24T00:00:00Z',
        },
      }),
    );
  });

  afterAll(async () => {
    kinesis?.destroy();
    await Promise.all([
      new Promise((resolve) => dynamoServer.close(resolve)),
      new Promise((resolve) => kinesisServer.close(resolve)),
    ]);
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
      config: { streamName: STREAM, rateLimitTableName: RATE },
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
    expect(afterFirst['cf-a#DE']).toMatchObject({ requests: 2, reports: 4, stalls: 2, stallMs: 30_000, ttfbCount: 3, bytes: 3_686_400 });
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
