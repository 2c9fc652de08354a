import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledgeNagFinding } from '../nag';
import { PlatformFunction } from './platform-function';
import { playbackApiConfig } from '../../lambdas/playback-api/config';
import { takedownConfig } from '../../lambdas/takedown/config';
import { takedownWorkerConfig } from '../../lambdas/takedown-worker/config';
import { takedownRequestedPattern, toCdkEventPattern } from '../../core/event-patterns';
import { TAKEDOWN_WORKER_TIMEOUT_SECONDS } from '../../core/takedown';
import { API_THROTTLES, PLAYBACK_API_ROUTES } from '../topology';
import { addHttpRoutes } from './topology-cdk';
import { MEDIA_PREFIX } from '../../core/identifiers';

export interface PlaybackApiProps {
  readonly assetsTable: dynamodb.ITableV2;
  readonly originBucket: s3.IBucket;
  readonly keyringSecret: secretsmanager.ISecret;
  readonly gateway: cloudfront.IDistribution;
  /** Every distribution that may cache an asset's objects: a takedown invalidates them all. */
  readonly distributions: readonly cloudfront.IDistribution[];
  readonly catalogBus: events.IEventBus;
  /** Dead-letter queue of takedown requests whose retries ran out (the platform's failure queue, alarmed). */
  readonly failureQueue: sqs.IQueue;
  readonly tokenLifetime: Duration;
  /** Percent of sessions given a reportUrl (`reportSamplingRate`, ADR 0058); @default 100 */
  readonly reportSamplingRate?: number;
}

/**
 * The regional API a product backend calls (docs/architecture.md#delivery-token-check-and-content-steering): `POST /sessions` signs gateway URLs for an
 * asset's current revision; `DELETE /assets/{assetId}` is the operator's takedown, accepted at once and
 * carried out by the takedown worker behind an `Asset Takedown Requested` rule on the catalog bus;
 * `GET /assets/{assetId}` reports its progress (ADR 0011).
 */
export class PlaybackApi extends Construct {
  readonly api: apigwv2.HttpApi;
  readonly sessions: PlatformFunction;
  /** `DELETE /assets/{assetId}` and `GET /assets/{assetId}`: accepts takedowns and reports them. */
  readonly takedown: PlatformFunction;
  /** Carries out accepted takedowns (ADR 0011). */
  readonly takedownWorker: PlatformFunction;

  constructor(scope: Construct, id: string, props: PlaybackApiProps) {
    super(scope, id);

    this.sessions = new PlatformFunction(this, 'Sessions', {
      handlerDir: 'playback-api',
      serviceName: 'playback-api',
      timeout: Duration.seconds(10),
      environment: playbackApiConfig.encode({
        assetsTableName: props.assetsTable.tableName,
        keyringSecretArn: props.keyringSecret.secretArn,
        gatewayDomain: props.gateway.distributionDomainName,
        tokenLifetimeSeconds: props.tokenLifetime.toSeconds(),
        ...(props.reportSamplingRate !== undefined ? { reportSamplingPercent: props.reportSamplingRate } : {}),
      }),
    });
    props.assetsTable.grantReadData(this.sessions);
    props.keyringSecret.grantRead(this.sessions);

    // The takedown API answers at once; the work is the worker's, behind an event (ADR 0011).
    this.takedown = new PlatformFunction(this, 'Takedown', {
      handlerDir: 'takedown',
      serviceName: 'takedown',
      timeout: Duration.seconds(10),
      environment: takedownConfig.encode({ assetsTableName: props.assetsTable.tableName, eventBusName: props.catalogBus.eventBusName }),
    });
    props.assetsTable.grant(this.takedown, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
    props.catalogBus.grantPutEventsTo(this.takedown);

    this.takedownWorker = new PlatformFunction(this, 'TakedownWorker', {
      handlerDir: 'takedown-worker',
      serviceName: 'takedown-worker',
      timeout: Duration.seconds(TAKEDOWN_WORKER_TIMEOUT_SECONDS),
      deadLetterQueue: props.failureQueue,
      // Lambda's asynchronous retries (about 1 and 2 minutes later) finish a partly failed takedown.
      retryAttempts: 2,
      environment: takedownWorkerConfig.encode({
        assetsTableName: props.assetsTable.tableName,
        originBucketName: props.originBucket.bucketName,
        distributionIds: props.distributions.map((d) => d.distributionId),
        eventBusName: props.catalogBus.eventBusName,
      }),
    });
    props.assetsTable.grant(this.takedownWorker, 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem');
    props.catalogBus.grantPutEventsTo(this.takedownWorker);
    // Listing is limited to the media/ prefix; deleting to the objects under it.
    this.takedownWorker.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [props.originBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${MEDIA_PREFIX}*`] } },
      }),
    );
    this.takedownWorker.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:DeleteObject'], resources: [props.originBucket.arnForObjects(`${MEDIA_PREFIX}*`)] }));
    acknowledgeNagFinding(
      this.takedownWorker.role!,
      `AwsSolutions-IAM5[Resource::<${logicalId(props.originBucket)}.Arn>/${MEDIA_PREFIX}*]`,
      'A takedown deletes every rendition of one asset; keys are generated per revision, so the grant is the media/ prefix with DeleteObject only.',
    );
    for (const distribution of props.distributions) distribution.grantCreateInvalidation(this.takedownWorker);
    // Job ids are generated by MediaConvert at submission, so the narrowest resource is this account's jobs in this Region.
    this.takedownWorker.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['mediaconvert:CancelJob', 'mediaconvert:GetJob'],
        resources: [Stack.of(this).formatArn({ service: 'mediaconvert', resource: 'jobs', resourceName: '*' })],
      }),
    );
    acknowledgeNagFinding(
      this.takedownWorker.role!,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:mediaconvert:${Token.isUnresolved(Stack.of(this).region) ? '<AWS::Region>' : Stack.of(this).region}:<AWS::AccountId>:jobs/*]`,
      'A takedown cancels the jobs of one asset, whose ids MediaConvert generates at submission; job tags are user metadata, not IAM resource tags, so jobs/* of this account and Region with CancelJob and GetJob only is the narrowest grant.',
    );

    // EventBridge retries delivery (throttling, an unavailable service); Lambda retries a failed attempt
    // twice more; either way a request that still fails lands in the platform's failure queue, whose alarm
    // fires (lib/constructs/telemetry-pipeline.ts). This alarm says sooner that a takedown is struggling.
    new events.Rule(this, 'TakedownRequestedRule', {
      eventBus: props.catalogBus,
      description: 'Accepted takedowns are carried out by the takedown worker',
      eventPattern: toCdkEventPattern(takedownRequestedPattern()),
      targets: [new targets.LambdaFunction(this.takedownWorker, { deadLetterQueue: props.failureQueue, retryAttempts: 4, maxEventAge: Duration.hours(1) })],
    });
    new cloudwatch.Alarm(this, 'TakedownAttemptsFailing', {
      alarmDescription:
        'A takedown attempt failed: the asset may still be at the origin or in a CDN cache until a retry finishes it (GET /assets/{assetId} shows lastError; DELETE again once the cause is fixed)',
      metric: this.takedownWorker.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    this.api = new apigwv2.HttpApi(this, 'Api', {
      description: 'Playback sessions and takedowns',
      createDefaultStage: false,
      // Product backends and operators call it with SigV4; viewers never do (they get signed URLs).
      defaultAuthorizer: new HttpIamAuthorizer(),
    });
    this.api.addStage('PublicStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: API_THROTTLES.playback,
      accessLogSettings: { destination: new apigwv2.LogGroupLogDestination(accessLogs) },
    });
    addHttpRoutes(this.api, PLAYBACK_API_ROUTES, { 'playback-api': this.sessions, takedown: this.takedown });
  }
}

function logicalId(bucket: s3.IBucket): string {
  return Stack.of(bucket).getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
}
