import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledgeNagFinding } from '../nag';
import { MAX_BATCHING_WINDOW_SECONDS, type PlatformConfig } from '../../core/platform-config';
import type { StageThrottle } from '../../core/return-path-sizing';
import { PlatformFunction } from './platform-function';
import { METRICS_NAMESPACE } from '../../core/identifiers';
import { cmcdIngestConfig } from '../../lambdas/cmcd-ingest/config';
import { qoeAggregatorConfig } from '../../lambdas/qoe-aggregator/config';
import { rollupMergerConfig } from '../../lambdas/rollup-merger/config';
import { routingWeightsConfig } from '../../lambdas/routing-weights/config';
import { API_THROTTLES, INGEST_API_ROUTES, ROLLUP_STAGES, type RollupStageSettings, TABLES } from '../topology';
import { addHttpRoutes, tableKeyProps } from './topology-cdk';


export interface TelemetryPipelineProps {
  readonly routingTable: dynamodb.ITableV2;
  readonly keyringSecret: secretsmanager.ISecret;
  readonly pathwayIds: readonly string[];
  readonly rollupRetentionDays: number;
  /** What happens to the QoE rollups table when it leaves the stack. */
  readonly removalPolicy: RemovalPolicy;
  /** Where telemetry batches that exhausted their retries go (with their shard and sequence range). */
  readonly failureQueue: sqs.IQueue;
  /** How often the weights are recomputed inside each one-minute scheduled invocation. */
  readonly weightsTickSeconds: number;
  /**
   * The gateway's KeyValueStore (the keyring's copy the steering key function reads): routing-weights writes each
   * country's routing generation there (ADR 0097). @default none: no generations, answers reused for their TTL
   */
  readonly routingGenerationStore?: cloudfront.IKeyValueStore;
  /** Dashboard names are account-wide (core/physical-names.ts). */
  readonly dashboardName: string;
  /** `telemetryStream` of the platform configuration (ADR 0059); @default on-demand */
  readonly streamCapacity?: PlatformConfig['telemetryStream'];
  /** The report API's stage throttle, from `peakConcurrentViewers` (core/return-path-sizing.ts); @default API_THROTTLES.ingest */
  readonly reportApiThrottle?: StageThrottle;
  /** Buckets and batching windows of the two rollup stages (ADR 0057); the stack sets `mergeWindowSeconds` from `rollupMergeWindowSeconds`. @default ROLLUP_STAGES */
  readonly rollupStages?: Partial<RollupStageSettings>;
  /** Percent of sessions whose reports the ingest takes (`reportSamplingRate`, ADR 0058); @default 100 */
  readonly reportSamplingRate?: number;
  /** Titles per minute whose sessions the aggregator writes for the trending pre-warm (ADR 0102); @default 0 (off) */
  readonly demandTopK?: number;
}

/**
 * The return path (docs/telemetry.md, docs/routing.md): CDN real-time logs and player CMCD reports land in one encrypted
 * Kinesis stream; `qoe-aggregator` rolls them up per pathway × country × minute; `routing-weights` turns the
 * rollups into routing weights. Alarms watch per-pathway errors, aggregator lag and set-aside records.
 */
export class TelemetryPipeline extends Construct {
  readonly stream: kinesis.Stream;
  readonly rollupsTable: dynamodb.TableV2;
  readonly rateLimitTable: dynamodb.TableV2;
  readonly ingestApi: apigwv2.HttpApi;
  /** The value only the gateway distribution sends the ingest API, in the origin-verify header (ADR 0055). */
  readonly ingestOriginSecret: secretsmanager.Secret;
  readonly aggregator: PlatformFunction;
  /** Stage 1 -> stage 2 of the rollup writes (ADR 0057). */
  readonly partialsStream: kinesis.Stream;
  readonly rollupMerger: PlatformFunction;
  readonly routingWeights: PlatformFunction;
  readonly cmcdIngest: PlatformFunction;
  readonly failedBatches: sqs.IQueue;
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: TelemetryPipelineProps) {
    super(scope, id);

    // On-demand by default: volume follows the audience. Provisioned when the peak is known and the on-demand
    // start (about 4,000 records/s) would throttle its ramp; docs/scale.md sizes the shards.
    const capacity = props.streamCapacity ?? { mode: 'on-demand' as const };
    this.stream = new kinesis.Stream(this, 'TelemetryStream', {
      ...(capacity.mode === 'provisioned'
        ? { streamMode: kinesis.StreamMode.PROVISIONED, shardCount: capacity.shards }
        : { streamMode: kinesis.StreamMode.ON_DEMAND }),
      // The AWS managed key (aws/kinesis): encrypted at rest without per-producer key policies for CloudFront.
      encryption: kinesis.StreamEncryption.MANAGED,
      retentionPeriod: Duration.hours(24),
      // Not retained with the data (ADR 0009): records live 24 h and their result is in the rollups table, while a
      // stream left behind by a deleted stack is billed by the hour with nothing reading it.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.rollupsTable = new dynamodb.TableV2(this, 'QoeRollups', {
      ...tableKeyProps(TABLES.rollups),
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: props.removalPolicy,
    });
    this.rateLimitTable = new dynamodb.TableV2(this, 'ReportRateLimits', {
      ...tableKeyProps(TABLES.rateLimits),
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Session state lives hours (ADR 0101); nothing to keep.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // --- player report ingest: POST /v1/cmcd/{token}, only through the gateway distribution (ADR 0055) ---
    this.ingestOriginSecret = new secretsmanager.Secret(this, 'IngestOriginSecret', {
      description: 'Origin-verify header value the gateway distribution sends the report ingest API',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledgeNagFinding(
      this.ingestOriginSecret,
      'AwsSolutions-SMG4',
      'The value is also the origin custom header of the gateway distribution, resolved at deployment: it is rotated by replacing the secret in a deployment, which changes the header and the function setting together (docs/adr/0055-report-ingest-only-through-the-edge.md), not by a rotation Lambda the distribution would not follow.',
    );
    this.cmcdIngest = new PlatformFunction(this, 'CmcdIngest', {
      handlerDir: 'cmcd-ingest',
      serviceName: 'cmcd-ingest',
      timeout: Duration.seconds(10),
      environment: cmcdIngestConfig.encode({
        streamName: this.stream.streamName,
        keyringSecretArn: props.keyringSecret.secretArn,
        originSecretArn: this.ingestOriginSecret.secretArn,
        rateLimitTableName: this.rateLimitTable.tableName,
        ...(props.reportSamplingRate !== undefined ? { reportSamplingPercent: props.reportSamplingRate } : {}),
      }),
    });
    this.stream.grantWrite(this.cmcdIngest);
    props.keyringSecret.grantRead(this.cmcdIngest);
    this.ingestOriginSecret.grantRead(this.cmcdIngest);
    // Session-state items only (`<sid>#session`, ADR 0101): read on every report, SET when they change; no scan,
    // query or delete, and no other item.
    this.cmcdIngest.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        resources: [this.rateLimitTable.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['*#session'] } },
      }),
    );

    const accessLogs = new logs.LogGroup(this, 'IngestApiAccessLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    this.ingestApi = new apigwv2.HttpApi(this, 'IngestApi', {
      description: 'Player CMCD v2 event reports; the playback token in the path authorises each report',
      createDefaultStage: false,
    });
    const stage = this.ingestApi.addStage('PublicStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: props.reportApiThrottle ?? API_THROTTLES.ingest,
      accessLogSettings: { destination: new apigwv2.LogGroupLogDestination(accessLogs) },
    });
    void stage;
    addHttpRoutes(this.ingestApi, INGEST_API_ROUTES, { 'cmcd-ingest': this.cmcdIngest });
    acknowledgeNagFinding(
      this.ingestApi,
      'AwsSolutions-APIG4',
      'Reports are authorised by the HMAC playback token in the path, verified by the handler before anything reaches the stream (docs/token.md).',
    );

    // --- aggregation: two stages, so each cell is written by one consumer (ADR 0057) ---
    this.failedBatches = props.failureQueue;
    const stages = rollupStagesOf(props.rollupStages);
    // Internal, small: partials of every telemetry shard, partition key = bucket of cells.
    this.partialsStream = new kinesis.Stream(this, 'RollupPartialsStream', {
      streamMode: kinesis.StreamMode.ON_DEMAND,
      encryption: kinesis.StreamEncryption.MANAGED,
      retentionPeriod: Duration.hours(24),
      // Like the telemetry stream: partials live minutes until the merger applies them, and a stream left behind
      // by a deleted stack is billed by the hour with nothing reading it.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.aggregator = new PlatformFunction(this, 'QoeAggregator', {
      handlerDir: 'qoe-aggregator',
      serviceName: 'qoe-aggregator',
      timeout: Duration.seconds(60),
      memorySize: 1024,
      environment: qoeAggregatorConfig.encode({
        rollupsTableName: this.rollupsTable.tableName,
        routingTableName: props.routingTable.tableName,
        partialsStreamName: this.partialsStream.streamName,
        rollupBuckets: stages.buckets,
        demandTopK: props.demandTopK ?? 0,
      }),
    });
    this.aggregator.addEventSource(
      new KinesisEventSource(this.stream, {
        startingPosition: lambda.StartingPosition.LATEST,
        // Larger batches, fewer partials: every batch emits one record per bucket it touches.
        batchSize: 10_000,
        maxBatchingWindow: Duration.seconds(stages.aggregatorWindowSeconds),
        // The aggregator fails a batch whole (its claim is retried whole); bisecting is handled exactly (ADR 0057).
        bisectBatchOnError: true,
        retryAttempts: 5,
        maxRecordAge: Duration.hours(1),
        onFailure: new SqsDlq(this.failedBatches),
      }),
    );
    // The event source mapping grants the telemetry stream's reads, which also serve a claim's re-read.
    this.partialsStream.grantWrite(this.aggregator);
    props.routingTable.grantReadData(this.aggregator);
    // Only its claims in the rollups table: items whose partition key starts with `claim#`.
    this.aggregator.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        resources: [this.rollupsTable.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['claim#*'] } },
      }),
    );
    if ((props.demandTopK ?? 0) > 0) {
      // Title demand (ADR 0102): set unions into `demand#<minute>` items only.
      this.aggregator.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:UpdateItem'],
          resources: [this.rollupsTable.tableArn],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['demand#*'] } },
        }),
      );
    }

    this.rollupMerger = new PlatformFunction(this, 'RollupMerger', {
      handlerDir: 'rollup-merger',
      serviceName: 'rollup-merger',
      timeout: Duration.seconds(120),
      memorySize: 1024,
      environment: rollupMergerConfig.encode({
        rollupsTableName: this.rollupsTable.tableName,
        rollupTtlDays: props.rollupRetentionDays,
      }),
    });
    this.rollupMerger.addEventSource(
      new KinesisEventSource(this.partialsStream, {
        // Nothing emitted before the mapping exists may be skipped.
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 10_000,
        // The window is what makes a cell's writes per minute few (ADR 0057); ParallelizationFactor stays 1.
        maxBatchingWindow: Duration.seconds(stages.mergeWindowSeconds),
        reportBatchItemFailures: true,
        bisectBatchOnError: true,
        retryAttempts: 5,
        maxRecordAge: Duration.hours(1),
        onFailure: new SqsDlq(this.failedBatches),
      }),
    );
    // Reads a cell before writing it, and the applied marks; never deletes, queries or scans.
    this.rollupsTable.grant(this.rollupMerger, 'dynamodb:GetItem', 'dynamodb:UpdateItem');

    this.routingWeights = new PlatformFunction(this, 'RoutingWeights', {
      handlerDir: 'routing-weights',
      serviceName: 'routing-weights',
      // One invocation a minute runs several ticks (EventBridge schedules have one-minute granularity).
      timeout: Duration.seconds(70),
      retryAttempts: 0,
      environment: routingWeightsConfig.encode({
        routingTableName: props.routingTable.tableName,
        rollupsTableName: this.rollupsTable.tableName,
        tickSeconds: props.weightsTickSeconds,
        ticks: Math.max(1, Math.floor(60 / props.weightsTickSeconds)),
        generationStoreArn: props.routingGenerationStore?.keyValueStoreArn,
      }),
    });
    if (props.routingGenerationStore !== undefined) {
      // Generations only (ADR 0097): batched puts on this one store, the ETag from DescribeKeyValueStore; no
      // single-key writes or deletes (the keyring's keys are the rotation's).
      this.routingWeights.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['cloudfront-keyvaluestore:DescribeKeyValueStore', 'cloudfront-keyvaluestore:UpdateKeys'],
          resources: [props.routingGenerationStore.keyValueStoreArn],
        }),
      );
    }
    this.rollupsTable.grantReadData(this.routingWeights);
    // Reads the registry and weights, writes weights with a version condition; never deletes.
    // Scan: the routing snapshot is built from the whole (small) table every tick (ADR 0048).
    props.routingTable.grant(this.routingWeights, 'dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:Scan');
    new events.Rule(this, 'WeightsSchedule', {
      description: 'Recompute routing weights from recent QoE rollups',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(this.routingWeights, { retryAttempts: 0, maxEventAge: Duration.seconds(60) })],
    });

    // --- alarms and dashboard ---
    const metric = (metricName: string, dimensionsMap: Record<string, string>, statistic = 'Sum') =>
      new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap, statistic, period: Duration.minutes(1) });

    // Every alarm here fires at or above its threshold and treats missing data as healthy (no traffic, no alarm).
    const alarm = (id: string, alarmDescription: string, watched: cloudwatch.IMetric, threshold: number, evaluationPeriods: number) =>
      new cloudwatch.Alarm(this, id, { alarmDescription, metric: watched, threshold, evaluationPeriods, treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING });

    alarm(
      'AggregatorIteratorAge',
      'The QoE aggregator is falling behind the telemetry stream: routing reacts late',
      this.aggregator.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1) }),
      120_000,
      3,
    );
    alarm(
      'MergerIteratorAge',
      'The rollup merger is falling behind the partials stream: routing reacts late',
      // Records wait up to the batching window by design; alarm on lag beyond it.
      this.rollupMerger.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1) }),
      120_000 + stages.mergeWindowSeconds * 1000,
      3,
    );
    alarm('WeightsTickFailures', 'Routing weights could not be recomputed: the edge keeps serving the last good weights', metric('TickFailures', { service: 'routing-weights' }), 3, 3);
    alarm('SetAsideRecords', 'Malformed telemetry records are being set aside', metric('SetAsideRecords', { service: 'qoe-aggregator' }), 100, 5);
    alarm(
      'FailedBatchesAlarm',
      'Platform events or telemetry batches exhausted their retries and went to the failure queue',
      this.failedBatches.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
      1,
      1,
    );
    const errorRateWidgets: cloudwatch.IMetric[] = [];
    props.pathwayIds.forEach((pathway, i) => {
      // Metric ids must be unique across a graph and match ^[a-z][a-zA-Z0-9_]*$.
      const errorRate = new cloudwatch.MathExpression({
        expression: `100 * errors${i} / MAX([requests${i}, 1])`,
        usingMetrics: {
          [`errors${i}`]: metric('PathwayErrors', { service: 'qoe-aggregator', pathway }),
          [`requests${i}`]: metric('PathwayRequests', { service: 'qoe-aggregator', pathway }),
        },
        label: `${pathway} error %`,
        period: Duration.minutes(1),
      });
      errorRateWidgets.push(errorRate);
      alarm(`ErrorSpike-${pathway}`, `CDN pathway ${pathway} serves more than 5% errors`, errorRate, 5, 2);
    });
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      widgets: [
        [
          new cloudwatch.GraphWidget({ title: 'Error rate per pathway (%)', left: errorRateWidgets, width: 12 }),
          new cloudwatch.GraphWidget({
            title: 'Global weight per pathway (%)',
            left: props.pathwayIds.map((pathway) => metric('GlobalWeightPercent', { service: 'routing-weights', pathway }, 'Average')),
            width: 12,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Aggregator',
            left: [this.aggregator.metric('IteratorAge', { statistic: 'Maximum' }), this.rollupMerger.metric('IteratorAge', { statistic: 'Maximum' })],
            right: [metric('SetAsideRecords', { service: 'qoe-aggregator' })],
            width: 24,
          }),
        ],
      ],
    });
  }
}

/**
 * The rollup stages' settings with the defaults of lib/topology.ts; a value Lambda or the merger cannot take
 * fails synth naming it (event source mappings take batching windows of 0–300 s).
 */
function rollupStagesOf(overrides: Partial<RollupStageSettings> = {}): RollupStageSettings {
  const stages = { ...ROLLUP_STAGES, ...overrides };
  const check = (name: keyof RollupStageSettings, min: number, max: number) => {
    const value = stages[name];
    if (!Number.isInteger(value) || value < min || value > max) throw new Error(`rollupStages.${name} must be an integer from ${min} to ${max}, got ${value}`);
  };
  check('buckets', 1, 1024);
  check('aggregatorWindowSeconds', 0, MAX_BATCHING_WINDOW_SECONDS);
  check('mergeWindowSeconds', 0, MAX_BATCHING_WINDOW_SECONDS);
  return stages;
}
