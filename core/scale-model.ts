/**
 * The scale and cost model (docs/scale.md, ADR 0078): what a concurrent viewer asks of each AWS service per
 * hour — measured by the load harness against the twin (bench/audience.bench.ts) — extrapolated to an
 * audience, checked against the default quotas, and priced at list price next to what CloudFront charges
 * to deliver the same hours. Pure arithmetic: every figure that goes in is an argument or a constant with
 * its source, so the documented table is the one `npm run bench -- audience` prints.
 */

/** What one concurrent viewer makes the platform do in an hour (the harness's `perViewerHour`). */
export interface ViewerHourUsage {
  /** CloudFront requests on the delivery pathways (segments, playlists, init segments). */
  readonly deliveryRequests: number;
  /** CloudFront requests on the gateway: multivariant playlists, steering, report POSTs. */
  readonly gatewayRequests: number;
  /** Token check invocations (one per delivery request, cache hits included). */
  readonly tokenChecks: number;
  /** Steering function invocations (Lambda@Edge, origin-request on the gateway). */
  readonly steeringInvocations: number;
  /**
   * Steering key function runs (CloudFront Function, viewer request on every steering reload, each with one
   * KeyValueStore read for the token's key: ADR 0036). @default 0 (before cacheable steering)
   */
  readonly steeringKeyChecks?: number;
  /** Playback API calls (`POST /sessions`): API Gateway requests and Lambda invocations. */
  readonly playbackApiCalls: number;
  /** Report API calls (CMCD POSTs that reach the ingest): API Gateway requests and Lambda invocations. */
  readonly reportApiCalls: number;
  /** CloudFront real-time log lines published (sampled delivery requests). */
  readonly realtimeLogLines: number;
  /** Records into the telemetry stream (real-time log lines and report records). */
  readonly kinesisRecords: number;
  /** Kinesis bytes, each record rounded up to 1 KB (on-demand ingest billing). */
  readonly kinesisBilledBytes: number;
  /** DynamoDB units of the tables on the viewer's path (catalog reads, report rate limits). */
  readonly dynamoReadUnits: number;
  readonly dynamoWriteUnits: number;
  /** S3 GETs on the origin bucket (CloudFront origin fetches; cache fills). */
  readonly originGets: number;
}

/**
 * What the control plane does per cell (pathway × country) and minute, whatever the viewers in it: rollup
 * writes and the controller's reads, the routing table, the rollup partials stream (ADRs 0063, 0078). It
 * grows with cells, not viewers; the harness measures it over the twin's cells.
 */
export interface CellMinuteUsage {
  readonly dynamoReadUnits: number;
  readonly dynamoWriteUnits: number;
  readonly kinesisRecords: number;
  readonly kinesisBilledBytes: number;
}

export const NO_CELL_USAGE: CellMinuteUsage = { dynamoReadUnits: 0, dynamoWriteUnits: 0, kinesisRecords: 0, kinesisBilledBytes: 0 };

/** The audience the figures are extrapolated to. */
export interface Audience {
  readonly concurrentViewers: number;
  /** Cells with viewers (pathways × countries). */
  readonly cells: number;
}

/** What the audience watches: the bytes CloudFront delivers per viewer-hour follow from it. */
export interface DeliveryAssumption {
  /** Mean delivered bitrate over the audience's rung mix, video and audio, Mbit/s. */
  readonly meanBitrateMbps: number;
  /** CloudFront data transfer out, USD per GB (the tier the month's volume reaches). */
  readonly dataTransferUsdPerGb: number;
}

export function deliveredGbPerViewerHour(meanBitrateMbps: number): number {
  return (meanBitrateMbps * 1e6 * 3600) / 8 / 1e9;
}

/**
 * Per-invocation compute the model charges (billed duration × memory). Not measurable in the twin, where
 * every handler shares one process: the edge figures follow issue 11's measurement of viewer-auth
 * ($0.71 per million = $0.60 + 18 ms at 128 MB), the rest are the functions' configured memory and a
 * conservative duration.
 */
export interface ComputeAssumptions {
  readonly tokenCheckLambdaEdgeMs: number;
  readonly tokenCheckLambdaEdgeMb: number;
  readonly steeringMs: number;
  readonly steeringMb: number;
  readonly playbackApiMs: number;
  readonly playbackApiMb: number;
  readonly reportIngestMs: number;
  readonly reportIngestMb: number;
  /** The aggregator's compute per 1,000 stream records (batch size 1,000, lib/constructs/telemetry-pipeline.ts). */
  readonly aggregatorMsPer1000Records: number;
  readonly aggregatorMb: number;
}

export const DEFAULT_COMPUTE: ComputeAssumptions = {
  tokenCheckLambdaEdgeMs: 18,
  tokenCheckLambdaEdgeMb: 128,
  steeringMs: 20,
  steeringMb: 256,
  playbackApiMs: 50,
  playbackApiMb: 512,
  reportIngestMs: 20,
  reportIngestMb: 512,
  aggregatorMsPer1000Records: 500,
  aggregatorMb: 1024,
};

/** List prices, us-east-1 / United States and Europe, USD; each with the page it comes from (docs/scale.md). */
export interface PriceList {
  /** CloudFront HTTPS requests (https://aws.amazon.com/cloudfront/pricing/): $0.0100 per 10,000. */
  readonly cloudFrontHttpsRequest: number;
  /** CloudFront real-time logs: $0.01 per 1,000,000 lines (How AWS Pricing Works, CloudFront). */
  readonly realtimeLogLine: number;
  /** CloudFront Functions: $0.10 per 1,000,000 invocations (https://aws.amazon.com/cloudfront/pricing/). */
  readonly cloudFrontFunctionInvocation: number;
  /** CloudFront KeyValueStore reads: $0.03 per 1,000,000 (https://aws.amazon.com/cloudfront/pricing/). */
  readonly keyValueStoreRead: number;
  /** Lambda@Edge: $0.60 per 1,000,000 requests (https://aws.amazon.com/lambda/pricing/). */
  readonly lambdaEdgeRequest: number;
  /** Lambda@Edge: $0.00005001 per GB-second (https://aws.amazon.com/lambda/pricing/). */
  readonly lambdaEdgeGbSecond: number;
  /** Lambda: $0.20 per 1,000,000 requests (https://aws.amazon.com/lambda/pricing/). */
  readonly lambdaRequest: number;
  /** Lambda x86: $0.0000166667 per GB-second (https://aws.amazon.com/lambda/pricing/). */
  readonly lambdaGbSecond: number;
  /** API Gateway HTTP APIs: $1.00 per 1,000,000 requests, first 300 million (https://aws.amazon.com/api-gateway/pricing/). */
  readonly httpApiRequest: number;
  /** DynamoDB on-demand: $0.625 per 1,000,000 write request units (https://aws.amazon.com/dynamodb/pricing/on-demand/). */
  readonly dynamoWriteUnit: number;
  /** DynamoDB on-demand: $0.125 per 1,000,000 read request units (https://aws.amazon.com/dynamodb/pricing/on-demand/). */
  readonly dynamoReadUnit: number;
  /** Kinesis Data Streams on-demand: $0.08 per GB ingested (https://aws.amazon.com/kinesis/data-streams/pricing/). */
  readonly kinesisIngestGb: number;
  /** Kinesis Data Streams on-demand: $0.04 per GB retrieved; the aggregator reads every record once. */
  readonly kinesisRetrieveGb: number;
  /** S3 Standard GET: $0.0004 per 1,000 (https://aws.amazon.com/s3/pricing/). */
  readonly s3Get: number;
}

export const LIST_PRICES: PriceList = {
  cloudFrontHttpsRequest: 0.01 / 10_000,
  realtimeLogLine: 0.01 / 1e6,
  cloudFrontFunctionInvocation: 0.1 / 1e6,
  keyValueStoreRead: 0.03 / 1e6,
  lambdaEdgeRequest: 0.6 / 1e6,
  lambdaEdgeGbSecond: 0.00005001,
  lambdaRequest: 0.2 / 1e6,
  lambdaGbSecond: 0.0000166667,
  httpApiRequest: 1 / 1e6,
  dynamoWriteUnit: 0.625 / 1e6,
  dynamoReadUnit: 0.125 / 1e6,
  kinesisIngestGb: 0.08,
  kinesisRetrieveGb: 0.04,
  s3Get: 0.0004 / 1_000,
};

/** CloudFront data transfer out, United States / Europe (https://aws.amazon.com/cloudfront/pricing/). */
export const CLOUDFRONT_TRANSFER_USD_PER_GB = { first10Tb: 0.085, over5Pb: 0.02 } as const;

export type TokenCheckRuntime = 'lambda-edge' | 'cloudfront-function';

export interface CostLine {
  readonly item: string;
  readonly usdPerViewerHour: number;
}

export interface CostModelInput {
  readonly usage: ViewerHourUsage;
  /** The control plane's per-cell figures and the audience they are shared by. @default none */
  readonly control?: { readonly perCellMinute: CellMinuteUsage; readonly audience: Audience };
  readonly tokenCheck: TokenCheckRuntime;
  readonly delivery: DeliveryAssumption;
  readonly compute?: ComputeAssumptions;
  readonly prices?: PriceList;
}

export interface CostModel {
  /** What CloudFront charges to deliver the hour without the platform: bytes and media requests. */
  readonly deliveryUsdPerViewerHour: number;
  /** Everything the platform adds, item by item. */
  readonly overhead: readonly CostLine[];
  readonly overheadUsdPerViewerHour: number;
  /** overhead ÷ delivery. */
  readonly overheadShare: number;
  /** The overhead of a million viewer-hours, USD. */
  readonly overheadUsdPerMillionViewerHours: number;
}

const gbSeconds = (ms: number, mb: number) => (ms / 1000) * (mb / 1024);

export function costModel(input: CostModelInput): CostModel {
  const { usage, delivery } = input;
  const c = input.compute ?? DEFAULT_COMPUTE;
  const p = input.prices ?? LIST_PRICES;
  const deliveryUsd =
    deliveredGbPerViewerHour(delivery.meanBitrateMbps) * delivery.dataTransferUsdPerGb + usage.deliveryRequests * p.cloudFrontHttpsRequest;

  const tokenCheckUsd =
    input.tokenCheck === 'lambda-edge'
      ? usage.tokenChecks * (p.lambdaEdgeRequest + gbSeconds(c.tokenCheckLambdaEdgeMs, c.tokenCheckLambdaEdgeMb) * p.lambdaEdgeGbSecond)
      : // One KeyValueStore read per check: the key of the token's kid.
        usage.tokenChecks * (p.cloudFrontFunctionInvocation + p.keyValueStoreRead);
  // The control plane's cell-minutes shared out over the audience's viewer-hours.
  const cellMinutesPerViewerHour = input.control ? (input.control.audience.cells * 60) / input.control.audience.concurrentViewers : 0;
  const cell = input.control?.perCellMinute ?? NO_CELL_USAGE;
  const kinesisGb = (usage.kinesisBilledBytes + cell.kinesisBilledBytes * cellMinutesPerViewerHour) / 1e9;
  const kinesisRecords = usage.kinesisRecords + cell.kinesisRecords * cellMinutesPerViewerHour;
  const overhead: CostLine[] = [
    { item: `token check (${input.tokenCheck})`, usdPerViewerHour: tokenCheckUsd },
    {
      item: 'steering (Lambda@Edge)',
      usdPerViewerHour: usage.steeringInvocations * (p.lambdaEdgeRequest + gbSeconds(c.steeringMs, c.steeringMb) * p.lambdaEdgeGbSecond),
    },
    {
      item: 'steering key function (CloudFront Function + KeyValueStore)',
      usdPerViewerHour: (usage.steeringKeyChecks ?? 0) * (p.cloudFrontFunctionInvocation + p.keyValueStoreRead),
    },
    { item: 'gateway requests (CloudFront)', usdPerViewerHour: usage.gatewayRequests * p.cloudFrontHttpsRequest },
    {
      item: 'playback API (API Gateway + Lambda)',
      usdPerViewerHour: usage.playbackApiCalls * (p.httpApiRequest + p.lambdaRequest + gbSeconds(c.playbackApiMs, c.playbackApiMb) * p.lambdaGbSecond),
    },
    {
      item: 'report API (API Gateway + Lambda)',
      usdPerViewerHour: usage.reportApiCalls * (p.httpApiRequest + p.lambdaRequest + gbSeconds(c.reportIngestMs, c.reportIngestMb) * p.lambdaGbSecond),
    },
    { item: 'real-time logs (CloudFront)', usdPerViewerHour: usage.realtimeLogLines * p.realtimeLogLine },
    { item: 'Kinesis (on-demand, in + out)', usdPerViewerHour: kinesisGb * (p.kinesisIngestGb + p.kinesisRetrieveGb) },
    {
      item: 'aggregator (Lambda)',
      usdPerViewerHour:
        (kinesisRecords / 1000) * (p.lambdaRequest + gbSeconds(c.aggregatorMsPer1000Records, c.aggregatorMb) * p.lambdaGbSecond),
    },
    { item: 'DynamoDB, viewer path (on-demand)', usdPerViewerHour: usage.dynamoReadUnits * p.dynamoReadUnit + usage.dynamoWriteUnits * p.dynamoWriteUnit },
    {
      item: 'DynamoDB, control plane (on-demand)',
      usdPerViewerHour: (cell.dynamoReadUnits * p.dynamoReadUnit + cell.dynamoWriteUnits * p.dynamoWriteUnit) * cellMinutesPerViewerHour,
    },
    { item: 'origin GETs (S3)', usdPerViewerHour: usage.originGets * p.s3Get },
  ];
  const overheadUsd = overhead.reduce((sum, line) => sum + line.usdPerViewerHour, 0);
  return {
    deliveryUsdPerViewerHour: deliveryUsd,
    overhead,
    overheadUsdPerViewerHour: overheadUsd,
    overheadShare: overheadUsd / deliveryUsd,
    overheadUsdPerMillionViewerHours: overheadUsd * 1e6,
  };
}

/** A default quota the audience meets, with the rate the audience needs of it. */
export interface QuotaCheck {
  readonly quota: string;
  /** The default limit, in the quota's unit per second (or concurrent executions). */
  readonly limit: number;
  /** What the audience needs of it at the given concurrency. */
  readonly needed: number;
  /** needed ≥ limit: raise the quota (or change the setting named in `remedy`) before the event. */
  readonly exceeded: boolean;
  readonly remedy: string;
  readonly source: string;
}

/** Default quotas (each with its source; docs/scale.md lists them). */
export const DEFAULT_QUOTAS = {
  /** Lambda@Edge requests per second, per Region (CloudFront Developer Guide, "Quotas on Lambda@Edge"). */
  lambdaEdgeRequestsPerSecond: 10_000,
  /** Concurrent executions per Region, shared with every Lambda there (Lambda Developer Guide, "Lambda quotas"). */
  lambdaConcurrentExecutions: 1_000,
  /** CloudFront requests per second per distribution (CloudFront Developer Guide, "Quotas", general quotas). */
  cloudFrontRequestsPerSecondPerDistribution: 250_000,
  /** API Gateway throttle per account and Region (API Gateway Developer Guide, "Amazon API Gateway quotas"). */
  apiGatewayRequestsPerSecond: 10_000,
  /** A new on-demand Kinesis stream's write capacity, records/s (Kinesis Developer Guide, "On-demand mode"). */
  kinesisOnDemandInitialRecordsPerSecond: 4_000,
  /** A new on-demand DynamoDB table's instant capacity, write units/s (DynamoDB Developer Guide, "Initial throughput for on-demand"). */
  dynamoOnDemandInitialWriteUnitsPerSecond: 4_000,
  dynamoOnDemandInitialReadUnitsPerSecond: 12_000,
} as const;

const QUOTA_SOURCES = {
  lambdaEdge: 'https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html#limits-lambda-at-edge',
  lambda: 'https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html',
  cloudFront: 'https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html',
  apiGateway: 'https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html',
  kinesis: 'https://docs.aws.amazon.com/streams/latest/dev/how-do-i-size-a-stream.html',
  dynamo: 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode.html',
} as const;

export interface QuotaInput {
  readonly usage: ViewerHourUsage;
  /** @default NO_CELL_USAGE */
  readonly perCellMinute?: CellMinuteUsage;
  /** @default 0 */
  readonly cells?: number;
  readonly tokenCheck: TokenCheckRuntime;
  readonly concurrentViewers: number;
  /** Delivery pathways the audience is spread over (CloudFront distributions). */
  readonly pathways: number;
  readonly compute?: ComputeAssumptions;
}

/**
 * The default quotas an audience of `concurrentViewers` meets, all of it in one edge Region and one
 * account Region (a national premiere: Lambda@Edge quotas are per Region, so this is the worst case).
 */
export function quotaChecks(input: QuotaInput): QuotaCheck[] {
  const perSecond = (perHour: number) => (perHour * input.concurrentViewers) / 3600;
  const cell = input.perCellMinute ?? NO_CELL_USAGE;
  const perCellSecond = (perMinute: number) => (perMinute * (input.cells ?? 0)) / 60;
  const c = input.compute ?? DEFAULT_COMPUTE;
  const q = DEFAULT_QUOTAS;
  const edgeRequests = perSecond(input.usage.steeringInvocations) + (input.tokenCheck === 'lambda-edge' ? perSecond(input.usage.tokenChecks) : 0);
  const edgeConcurrency =
    perSecond(input.usage.steeringInvocations) * (c.steeringMs / 1000) +
    (input.tokenCheck === 'lambda-edge' ? perSecond(input.usage.tokenChecks) * (c.tokenCheckLambdaEdgeMs / 1000) : 0);
  const regionalConcurrency =
    perSecond(input.usage.playbackApiCalls) * (c.playbackApiMs / 1000) +
    perSecond(input.usage.reportApiCalls) * (c.reportIngestMs / 1000) +
    (perSecond(input.usage.kinesisRecords) / 1000) * (c.aggregatorMsPer1000Records / 1000);
  const streamRecords = perSecond(input.usage.kinesisRecords);
  const check = (quota: string, limit: number, needed: number, remedy: string, source: string): QuotaCheck => ({
    quota,
    limit,
    needed,
    exceeded: needed >= limit,
    remedy,
    source,
  });
  return [
    check(
      'Lambda@Edge requests/s per Region',
      q.lambdaEdgeRequestsPerSecond,
      edgeRequests,
      input.tokenCheck === 'lambda-edge' ? 'tokenCheck "cloudfront-function" on the pathways (ADR 0034), or raise the quota' : 'raise the quota (steering alone)',
      QUOTA_SOURCES.lambdaEdge,
    ),
    check('Lambda@Edge concurrent executions per edge Region', q.lambdaConcurrentExecutions, edgeConcurrency, 'raise Lambda concurrent executions in the edge Regions', QUOTA_SOURCES.lambdaEdge),
    check(
      'CloudFront requests/s per distribution',
      q.cloudFrontRequestsPerSecondPerDistribution,
      perSecond(input.usage.deliveryRequests) / input.pathways,
      'raise the distribution quota, or add pathways',
      QUOTA_SOURCES.cloudFront,
    ),
    check(
      'API Gateway requests/s per account and Region',
      q.apiGatewayRequestsPerSecond,
      perSecond(input.usage.playbackApiCalls + input.usage.reportApiCalls),
      'raise the account throttle (quota L-8A5B8E43), or lower reportSamplingRate',
      QUOTA_SOURCES.apiGateway,
    ),
    check('Lambda concurrent executions (regional functions)', q.lambdaConcurrentExecutions, regionalConcurrency, 'raise Lambda concurrent executions in the platform Region', QUOTA_SOURCES.lambda),
    check(
      'Kinesis records/s (new on-demand stream)',
      q.kinesisOnDemandInitialRecordsPerSecond,
      streamRecords,
      'provisioned shards sized by shardsFor (core/return-path-sizing.ts), or pre-warm on-demand',
      QUOTA_SOURCES.kinesis,
    ),
    check(
      'DynamoDB write units/s (new on-demand table)',
      q.dynamoOnDemandInitialWriteUnitsPerSecond,
      perSecond(input.usage.dynamoWriteUnits) + perCellSecond(cell.dynamoWriteUnits),
      'pre-warm the tables (warm throughput) before the event',
      QUOTA_SOURCES.dynamo,
    ),
    check(
      'DynamoDB read units/s (new on-demand table)',
      q.dynamoOnDemandInitialReadUnitsPerSecond,
      perSecond(input.usage.dynamoReadUnits) + perCellSecond(cell.dynamoReadUnits),
      'pre-warm the tables (warm throughput) before the event',
      QUOTA_SOURCES.dynamo,
    ),
  ];
}

/**
 * Per viewer-hour figures from counts over a run: `viewerHours` is concurrent viewers × the run's hours.
 * Throws on a run too short to say anything rather than divide by zero.
 */
export function perViewerHour<K extends string>(counts: Readonly<Record<K, number>>, viewerHours: number): Record<K, number> {
  if (!(viewerHours > 0)) throw new RangeError(`viewer-hours must be positive, got ${viewerHours}`);
  return Object.fromEntries(Object.entries<number>(counts).map(([key, value]) => [key, value / viewerHours])) as Record<K, number>;
}

/**
 * The load harness's short run of 2026-12-02 (docs/scale.md "The run": 60 sessions, nothing failed), per viewer-hour,
 * before cacheable steering (ADR 0036) and before ADR 0101: steering ran on 324 of 364 reloads and the report
 * limiter wrote 2 units per report. `MEASURED_CELL_MINUTE` is the same run's control plane over the twin's 9 cells.
 */
export const MEASURED_VIEWER_HOUR: ViewerHourUsage = {
  deliveryRequests: 1243.9,
  gatewayRequests: 500,
  tokenChecks: 1243.9,
  steeringInvocations: 324,
  playbackApiCalls: 4,
  reportApiCalls: 132,
  realtimeLogLines: 49.8,
  kinesisRecords: 194,
  kinesisBilledBytes: 423.9e3,
  dynamoReadUnits: 2,
  dynamoWriteUnits: 264,
  originGets: 0,
};
export const MEASURED_CELL_MINUTE: CellMinuteUsage = { dynamoReadUnits: 54.9, dynamoWriteUnits: 31.6, kinesisRecords: 15.3, kinesisBilledBytes: 15.3 * 1024 };
/** Steering requests of the measured run: the 360 reloads of a 10 s TTL plus the first request of each session. */
const MEASURED_STEERING_REQUESTS = 364;
const MEASURED_STEERING_TTL_SECONDS = 10;

/**
 * DynamoDB units of the report ingest's session state per viewer-hour (ADR 0101): one eventually consistent read
 * (0.5 unit) per report, and a few writes per reporting session (first host, first `t`, interval, a pathway
 * change). `sessionsPerViewerHour` = 3600 / mean watch seconds; `reportSamplingRate` in percent.
 */
export function reportStateUnits(input: {
  readonly reportApiCalls: number;
  readonly sessionsPerViewerHour: number;
  readonly reportSamplingRate: number;
  readonly writesPerSession?: number;
}): { readonly readUnits: number; readonly writeUnits: number } {
  return {
    readUnits: 0.5 * input.reportApiCalls,
    writeUnits: input.sessionsPerViewerHour * (input.reportSamplingRate / 100) * (input.writesPerSession ?? 4),
  };
}

/** ADR 0101 at the measured run's defaults: 600 s mean watch, 25 % of sessions reporting. */
export const REPORT_STATE_UNITS = reportStateUnits({ reportApiCalls: MEASURED_VIEWER_HOUR.reportApiCalls, sessionsPerViewerHour: 6, reportSamplingRate: 25 });
/** The measured run's `reportSamplingRate`, percent. */
const MEASURED_REPORT_SAMPLING_RATE = 25;

/**
 * The measured viewer-hour as the platform runs now, and with the two config levers that move the overhead:
 * - steering at a TTL of `steeringTtlSeconds`, answers reused for 9 TTLs (ADR 0036): `steeringInvocations` as
 *   measured with cacheable steering (44.3 per viewer-hour at 10 s, docs/steering.md) or from the cache model for
 *   another TTL; every reload a gateway request and a key-function run;
 * - `reportSamplingRate` (percent, ADR 0058): report POSTs, their gateway requests and stream records, and the
 *   session state's units scale with it (one stream record per report);
 * and the report ingest's DynamoDB units of ADR 0101 in place of the limiter's. The catalog's reads stay.
 */
export function currentViewerHour(options: {
  readonly steeringInvocations: number;
  readonly steeringTtlSeconds?: number;
  readonly reportSamplingRate?: number;
}): ViewerHourUsage {
  const ttl = options.steeringTtlSeconds ?? MEASURED_STEERING_TTL_SECONDS;
  const steeringRequests = MEASURED_STEERING_REQUESTS - 3600 / MEASURED_STEERING_TTL_SECONDS + 3600 / ttl;
  const m = MEASURED_VIEWER_HOUR;
  const reportShare = (options.reportSamplingRate ?? MEASURED_REPORT_SAMPLING_RATE) / MEASURED_REPORT_SAMPLING_RATE;
  const reportApiCalls = m.reportApiCalls * reportShare;
  const kinesisRecords = m.kinesisRecords - m.reportApiCalls + reportApiCalls;
  const state = reportStateUnits({ reportApiCalls, sessionsPerViewerHour: 6, reportSamplingRate: MEASURED_REPORT_SAMPLING_RATE * reportShare });
  return {
    ...m,
    gatewayRequests: m.gatewayRequests - MEASURED_STEERING_REQUESTS + steeringRequests - m.reportApiCalls + reportApiCalls,
    steeringInvocations: options.steeringInvocations,
    steeringKeyChecks: steeringRequests,
    reportApiCalls,
    kinesisRecords,
    kinesisBilledBytes: (m.kinesisBilledBytes * kinesisRecords) / m.kinesisRecords,
    dynamoReadUnits: m.dynamoReadUnits + state.readUnits,
    dynamoWriteUnits: state.writeUnits,
  };
}

/** Steering invocations per viewer-hour measured with cacheable steering (docs/steering.md, 200 twin viewers, TTL 10 s). */
export const MEASURED_CACHEABLE_STEERING_INVOCATIONS = 44.3;
