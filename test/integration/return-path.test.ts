import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { formatRealtimeLogLine } from '../../core/realtime-log';
import { GLOBAL_SCOPE, type PathwayEntry, weightsKey, type WeightsItem } from '../../core/routing-types';
import { createRoutingWeightsTick } from '../../lambdas/routing-weights/index';
import { type LocalAws, startLocalAws } from '../../local/aws-servers';
import { putPathwayRegistry, routingTableSpecs } from '../support/routing-tables';
import { type RollupStages, startRollupStages } from '../support/rollup-stages';

// The whole return path on real AWS-compatible servers: CloudFront real-time log lines put to kinesalite,
// delivered by the event-source-mapping stand-in to the real two rollup stages, rolled up in dynalite, and turned
// into routing weights by the real routing-weights evaluation.
const STREAM = 'telemetry';
const ROUTING = 'Routing';
const ROLLUPS = 'QoeRollups';
const PATHWAYS: PathwayEntry[] = [
  { id: 'cf-a', host: 'da.cloudfront.net', enabled: true, cap: 1 },
  { id: 'cf-b', host: 'db.cloudfront.net', enabled: true, cap: 1 },
  { id: 'cf-c', host: 'dc.cloudfront.net', enabled: true, cap: 1 },
];
const quiet = { info: vi.fn(), warn: vi.fn(), error: vi.fn(), debug: vi.fn() };
const noMetrics = () => ({ addMetric: vi.fn(), addDimension: vi.fn(), publishStoredMetrics: vi.fn(), singleMetric: () => ({ addDimension: vi.fn(), addMetric: vi.fn() }) });

function logLine(host: string, country: string, status: number, tsSeconds: number, i: number): string {
  return formatRealtimeLogLine({
    timestamp: tsSeconds.toFixed(3),
    'time-to-first-byte': '0.012',
    'sc-status': status,
    'sc-bytes': 250_000,
    'cs-method': 'GET',
    'cs-host': host,
    'cs-uri-stem': `/media/big-buck/r1/video_720p_${i}.m4s`,
    'x-edge-location': 'FRA56-P1',
    'x-edge-request-id': `req-${host}-${i}`,
    'x-host-header': host,
    'time-taken': '0.080',
    'x-edge-result-type': status >= 500 ? 'Error' : 'Hit',
    'c-country': country,
    asn: 3320,
  });
}

describe('return path: stream -> aggregator -> partials -> merger -> rollups -> routing weights', () => {
  let aws: LocalAws;
  let ddb: DynamoDBDocumentClient;
  let stages: RollupStages | undefined;

  beforeAll(async () => {
    aws = await startLocalAws({ region: 'eu-west-1' });
    ddb = DynamoDBDocumentClient.from(aws.clients.dynamodb);
    await aws.createTables(routingTableSpecs({ routingTableName: ROUTING, rollupsTableName: ROLLUPS }));
    await aws.createStream(STREAM, 1);
    await putPathwayRegistry(ddb, ROUTING, PATHWAYS);
    const equal: WeightsItem = { pk: weightsKey(GLOBAL_SCOPE), scope: GLOBAL_SCOPE, weights: { 'cf-a': 1 / 3, 'cf-b': 1 / 3, 'cf-c': 1 / 3 }, version: 0, updatedAt: new Date(0).toISOString(), reason: 'seed' };
    await ddb.send(new PutCommand({ TableName: ROUTING, Item: equal }));
  });

  afterAll(async () => {
    await stages?.stop();
    await aws?.stop();
  });

  it('demotes the pathway that serves errors in one country and leaves the others', async () => {
    // Prepare: one minute of traffic in DE where cf-b answers 30% 5xx, cf-a and cf-c are healthy.
    const now = Date.now();
    const lines: string[] = [];
    for (let i = 0; i < 300; i++) {
      const ts = now / 1000 - 30 + i * 0.1;
      lines.push(logLine('da.cloudfront.net', 'DE', 200, ts, i));
      lines.push(logLine('db.cloudfront.net', 'DE', i % 10 < 3 ? 503 : 200, ts, i));
      lines.push(logLine('dc.cloudfront.net', 'DE', 200, ts, i));
    }
    for (let start = 0; start < lines.length; start += 500) {
      await aws.clients.kinesis.send(
        new PutRecordsCommand({
          StreamName: STREAM,
          Records: lines.slice(start, start + 500).map((line, i) => ({ Data: Buffer.from(`${line}\n`), PartitionKey: `edge-${start + i}` })),
        }),
      );
    }
    // Act: the mappings deliver everything through both stages; then the weights evaluation runs twice (fast demotion is immediate).
    stages = await startRollupStages({ aws, ddb, telemetryStream: STREAM, routingTableName: ROUTING, rollupsTableName: ROLLUPS });
    await stages.drain(30_000);
    const tick = createRoutingWeightsTick({ ddb, logger: quiet as never, metrics: noMetrics() as never }, { routingTableName: ROUTING, rollupsTableName: ROLLUPS, ticks: 1, tickSeconds: 10 });
    await tick(now);
    await tick(now + 10_000);

    // Assess
    const { Item } = await ddb.send(new GetCommand({ TableName: ROUTING, Key: { pk: weightsKey('DE') } }));
    const de = Item as WeightsItem | undefined;
    expect(de).toBeDefined();
    expect(de!.weights['cf-b']).toBeLessThan(0.1);
    expect(de!.weights['cf-a']).toBeGreaterThan(0.4);
    expect(de!.weights['cf-c']).toBeGreaterThan(0.4);
    expect(de!.reason).toMatch(/cf-b/);
    expect(de!.version).toBeGreaterThan(0);
  });
});
