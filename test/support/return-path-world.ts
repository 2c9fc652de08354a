import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { vi } from 'vitest';
import { generateInitialKeyring } from '../../core/keyring';
import { ORIGIN_VERIFY_HEADER } from '../../core/origin-verify';
import type { QoeRollup, QoeSessionCounts } from '../../core/qoe-types';
import { formatRealtimeLogLine } from '../../core/realtime-log';
import { type PathwayEntry, weightsKey, type WeightsItem } from '../../core/routing-types';
import { signToken } from '../../core/token';
import { cmcdIngestConfig } from '../../lambdas/cmcd-ingest/config';
import { createIngestHandler } from '../../lambdas/cmcd-ingest/index';
import { createAggregatorHandler } from '../../lambdas/qoe-aggregator/index';
import { createRollupMergerHandler } from '../../lambdas/rollup-merger/index';
import { createRoutingWeightsTick } from '../../lambdas/routing-weights/index';
import { type LocalAws, startLocalAws } from '../../local/aws-servers';
import { KinesisPoller } from '../../local/kinesis-poller';
import { RollupsTable } from '../../tables/rollups-table';
import { RATE_LIMIT_TABLE_SCHEMA } from '../../tables/table-schema';
import { putPathwayRegistry, routingTableSpecs } from './routing-tables';
import { reportPostEvent } from './telemetry';

/**
 * The whole return path on this machine's AWS-compatible servers, for tests that drive it like viewers do
 * (test/integration/return-path-*.test.ts): player reports through the real cmcd-ingest handler (with the
 * gateway's origin-verify header and CloudFront's viewer headers, or without them like a direct caller),
 * CloudFront real-time log lines put on the telemetry stream, the real qoe-aggregator and rollup-merger fed
 * by the event-source-mapping stand-in, rollups in dynalite, and the real routing-weights evaluation run
 * explicitly at a given time. Time is the test's: the ingest's clock is `world.clock`, ticks take `now`.
 */
export const RETURN_PATH_PATHWAYS: readonly PathwayEntry[] = [
  { id: 'cf-a', host: 'da.cloudfront.net', enabled: true, cap: 1 },
  { id: 'cf-b', host: 'db.cloudfront.net', enabled: true, cap: 1 },
  { id: 'cf-c', host: 'dc.cloudfront.net', enabled: true, cap: 1 },
];
export const hostOf = (pathway: string): string => RETURN_PATH_PATHWAYS.find((p) => p.id === pathway)!.host;

const ORIGIN_SECRET = 'return-path-origin-secret';
const ASSET = 'big-buck';
const quiet = () => ({ info: vi.fn(), warn: vi.fn(), error: vi.fn(), debug: vi.fn() });
const noMetrics = () => ({ addMetric: vi.fn(), addDimension: vi.fn(), publishStoredMetrics: vi.fn(), singleMetric: () => ({ addDimension: vi.fn(), addMetric: vi.fn() }) });

export interface Viewer {
  readonly country: string;
  readonly asn: number;
}

/** A request one viewer session made to a CDN, as CloudFront logs it. */
export interface LoggedRequest extends Viewer {
  readonly sid: string;
  readonly pathway: string;
  readonly status: number;
  /** Epoch ms (the CDN's clock). */
  readonly at: number;
  readonly segment: number;
  /** CMCD the player put on the request (CloudFront's `cmcd-*` fields), as sent. */
  readonly cmcd?: { readonly mtp?: string; readonly bl?: string; readonly br?: string; readonly bs?: string };
}

export interface ReturnPathWorld {
  readonly aws: LocalAws;
  /** The ingest's clock (epoch ms): every report is received at this time. */
  clock: number;
  tokenOf(sid: string): string;
  /** A media URL of the session's own token on a pathway, as a player's `rr` line carries it. */
  mediaUrl(sid: string, pathway: string, segment: number): string;
  /**
   * POSTs a report as the gateway forwards it; `edge: false` posts like a direct caller of the API's own
   * endpoint (no origin-verify header), `secret` overrides its value. Returns the HTTP status.
   */
  post(sid: string, lines: readonly string[], viewer: Viewer, options?: { readonly edge?: boolean; readonly secret?: string; readonly headers?: Record<string, string> }): Promise<number>;
  /** Puts CloudFront real-time log lines of these requests on the telemetry stream. */
  logRequests(requests: readonly LoggedRequest[]): Promise<void>;
  /** Waits until both stages have processed everything on their streams. */
  settle(): Promise<void>;
  tick(now: number): Promise<void>;
  weightsOf(scope: string): Promise<Readonly<Record<string, number>>>;
  /** One rollup cell of a minute, with its distinct-session counts; undefined when nothing was written. */
  cell(minute: number, pathway: string, country: string): Promise<(QoeRollup & QoeSessionCounts) | undefined>;
  stop(): Promise<void>;
}

export async function startReturnPath(start: number): Promise<ReturnPathWorld> {
  const names = { routingTableName: 'Routing', rollupsTableName: 'QoeRollups' };
  const rateLimitTableName = 'CmcdRateLimit';
  const aws = await startLocalAws({ region: 'eu-west-1' });
  const ddb = DynamoDBDocumentClient.from(aws.clients.dynamodb);
  const kinesis = aws.clients.kinesis;
  await aws.createTables([...routingTableSpecs(names), { tableName: rateLimitTableName, ...RATE_LIMIT_TABLE_SCHEMA }]);
  await aws.createStream('telemetry', 1);
  await aws.createStream('rollup-partials', 1);
  await putPathwayRegistry(ddb, names.routingTableName, RETURN_PATH_PATHWAYS);
  const keyring = generateInitialKeyring({ kid: 'k1' });

  const world: ReturnPathWorld = {
    aws,
    clock: start,
    tokenOf: (sid) => signToken({ sid, aid: ASSET, exp: Math.floor(start / 1000) + 6 * 3600 }, keyring),
    mediaUrl: (sid, pathway, segment) => `https://${hostOf(pathway)}/${world.tokenOf(sid)}/media/${ASSET}/r1/v720/seg_${segment}.m4s`,
    async post(sid, lines, viewer, options = {}) {
      const token = world.tokenOf(sid);
      const headers: Record<string, string> = {
        'content-type': 'application/cmcd',
        'cloudfront-viewer-country': viewer.country,
        'cloudfront-viewer-asn': String(viewer.asn),
        ...(options.edge === false ? {} : { [ORIGIN_VERIFY_HEADER]: options.secret ?? ORIGIN_SECRET }),
        ...options.headers,
      };
      const response = await ingest(reportPostEvent(token, lines.join('\n'), headers, world.clock));
      return response.statusCode ?? 0;
    },
    async logRequests(requests) {
      const lines = requests.map((r) => logLineOf(r, world.tokenOf(r.sid)));
      for (let from = 0; from < lines.length; from += 500) {
        const chunk = lines.slice(from, from + 500);
        await kinesis.send(new PutRecordsCommand({ StreamName: 'telemetry', Records: chunk.map((line, i) => ({ Data: Buffer.from(`${line}\n`), PartitionKey: `edge-${from + i}` })) }));
      }
    },
    async settle() {
      await aggregatorPoller.drain(60_000);
      await mergerPoller.drain(60_000);
    },
    async tick(now) {
      await tick(now);
    },
    async weightsOf(scope) {
      const { Item } = await ddb.send(new GetCommand({ TableName: names.routingTableName, Key: { pk: weightsKey(scope) } }));
      if (Item === undefined) throw new Error(`no weights item for scope ${scope}`);
      return (Item as WeightsItem).weights;
    },
    async cell(minute, pathway, country) {
      return (await rollups.readMinute(minute)).find((item) => item.pathway === pathway && item.country === country);
    },
    async stop() {
      await aggregatorPoller.stop();
      await mergerPoller.stop();
      await aws.stop();
    },
  };

  const ingest = createIngestHandler({
    kinesis,
    ddb,
    keyring: { get: async () => keyring },
    originSecret: { get: async () => ORIGIN_SECRET, refresh: async () => ORIGIN_SECRET },
    // The deployed defaults (lambdas/cmcd-ingest/config.ts), as the function decodes them at cold start.
    config: cmcdIngestConfig.decode({ KEYRING_SECRET_ARN: 'keyring', ORIGIN_VERIFY_SECRET_ARN: 'origin', TELEMETRY_STREAM_NAME: 'telemetry', RATE_LIMIT_TABLE_NAME: rateLimitTableName }),
    now: () => world.clock,
    logger: quiet(),
    metrics: noMetrics(),
  });
  const aggregator = createAggregatorHandler({
    ddb,
    kinesis,
    config: { ...names, partialsStreamName: 'rollup-partials', rollupBuckets: 4 },
    logger: quiet(),
    metrics: noMetrics(),
  });
  const merger = createRollupMergerHandler({ ddb, config: { rollupsTableName: names.rollupsTableName, rollupTtlDays: 1 }, logger: quiet(), metrics: noMetrics() });
  const aggregatorPoller = new KinesisPoller({ client: kinesis, streamName: 'telemetry', handler: aggregator, batchSize: 1000, maximumBatchingWindowMs: 100 });
  const mergerPoller = new KinesisPoller({ client: kinesis, streamName: 'rollup-partials', handler: merger, batchSize: 100, maximumBatchingWindowMs: 50 });
  await aggregatorPoller.start();
  await mergerPoller.start();
  const rollups = new RollupsTable(ddb, names.rollupsTableName);
  const tick = createRoutingWeightsTick(
    { ddb, logger: quiet() as never, metrics: noMetrics() as never },
    { ...names, ticks: 1, tickSeconds: 10 },
  );
  return world;
}

function logLineOf(r: LoggedRequest, token: string): string {
  const served = r.status < 500;
  return formatRealtimeLogLine({
    timestamp: (r.at / 1000).toFixed(3),
    'time-to-first-byte': served ? '0.012' : '0.002',
    'sc-status': r.status,
    'sc-bytes': served ? 250_000 : 0,
    'cs-method': 'GET',
    'cs-host': hostOf(r.pathway),
    'cs-uri-stem': `/${token}/media/${ASSET}/r1/v720/seg_${r.segment}.m4s`,
    'x-edge-location': 'FRA56-P1',
    'x-edge-request-id': `${r.sid}-${r.pathway}-${r.segment}-${r.at}`,
    'x-host-header': hostOf(r.pathway),
    'time-taken': served ? '0.080' : '0.003',
    'x-edge-result-type': served ? 'Hit' : 'Error',
    'c-country': r.country,
    asn: r.asn,
    'cmcd-measured-throughput': r.cmcd?.mtp,
    'cmcd-buffer-length': r.cmcd?.bl,
    'cmcd-encoded-bitrate': r.cmcd?.br,
    'cmcd-buffer-starvation': r.cmcd?.bs,
    'cmcd-session-id': r.sid,
    'cmcd-version': 2,
  });
}
