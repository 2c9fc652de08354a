import { Duration } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { currentRevisionReadyPattern, toCdkEventPattern } from '../../core/event-patterns';
import { prewarmConfig } from '../../lambdas/prewarm/config';
import { PlatformFunction } from './platform-function';

export interface CachePrewarmProps {
  /** The deployed pathways by id: the warm-up fetches through each. */
  readonly distributions: ReadonlyMap<string, cloudfront.IDistribution>;
  readonly keyringSecret: secretsmanager.ISecret;
  readonly catalogBus: events.IEventBus;
  /** Where an `Asset Ready` event goes when EventBridge cannot deliver it to the function (alarmed). */
  readonly failureQueue: sqs.IQueue;
  /** Seconds of each chosen rendition warmed from its start. */
  readonly warmSeconds: number;
  /** Highest rungs per device class. */
  readonly topRungs: number;
  /** Requests in flight at once. */
  readonly concurrency: number;
  /**
   * Trending pre-warm (ADR 0102): once a minute, the titles whose demand (written by the aggregator into the
   * rollups table) rose. @default off
   */
  readonly trending?: {
    readonly topK: number;
    readonly minSessions: number;
    readonly risePercent: number;
    readonly cooldownMinutes: number;
    readonly rollupsTable: dynamodb.ITableV2;
    readonly assetsTable: dynamodb.ITableV2;
  };
}

/**
 * Cache pre-warm (ADR 0039): on `Asset Ready` for the revision playback serves, a function signs itself a
 * playback token and fetches the first minutes of the renditions viewers ask for first through every
 * delivery pathway, so each pathway's Origin Shield and edge hold them before the first viewer.
 *
 * The function reads nothing but the keyring: it reaches the media through the pathways like a viewer,
 * so it needs no S3 or CloudFront permission.
 */
export class CachePrewarm extends Construct {
  readonly function: PlatformFunction;

  constructor(scope: Construct, id: string, props: CachePrewarmProps) {
    super(scope, id);
    const pathways = [...props.distributions];
    this.function = new PlatformFunction(this, 'Function', {
      handlerDir: 'prewarm',
      serviceName: 'prewarm',
      // A cold pathway fills each object from S3: minutes of several renditions through three pathways.
      timeout: Duration.minutes(5),
      memorySize: 256,
      // Best effort: the handler never throws, and a retried warm-up would fetch everything again.
      retryAttempts: 0,
      environment: prewarmConfig.encode({
        keyringSecretArn: props.keyringSecret.secretArn,
        pathwayIds: pathways.map(([pathwayId]) => pathwayId),
        pathwayOrigins: pathways.map(([, distribution]) => `https://${distribution.distributionDomainName}`),
        warmSeconds: props.warmSeconds,
        topRungs: props.topRungs,
        concurrency: props.concurrency,
        ...(props.trending !== undefined
          ? {
              trendingTopK: props.trending.topK,
              trendingMinSessions: props.trending.minSessions,
              trendingRisePercent: props.trending.risePercent,
              trendingCooldownMinutes: props.trending.cooldownMinutes,
              rollupsTableName: props.trending.rollupsTable.tableName,
              assetsTableName: props.trending.assetsTable.tableName,
            }
          : {}),
      }),
    });
    props.keyringSecret.grantRead(this.function);

    if (props.trending !== undefined) {
      // Reads title demand (`demand#<minute>`), claims a title's warm (`trending#<assetId>`), and nothing else there.
      this.function.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:Query'],
          resources: [props.trending.rollupsTable.tableArn],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['demand#*'] } },
        }),
      );
      this.function.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:PutItem'],
          resources: [props.trending.rollupsTable.tableArn],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['trending#*'] } },
        }),
      );
      // The revision playback serves: the asset's head item.
      this.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [props.trending.assetsTable.tableArn] }));
      new events.Rule(this, 'TrendingSchedule', {
        description: 'Once a minute, titles whose demand rose are pre-warmed through every pathway (ADR 0102)',
        schedule: events.Schedule.rate(Duration.minutes(1)),
        // A missed run is replaced by the next minute's: no retries, no queue.
        targets: [new targets.LambdaFunction(this.function, { retryAttempts: 0 })],
      });
    }

    new events.Rule(this, 'AssetReadyRule', {
      eventBus: props.catalogBus,
      description: 'A revision playback now serves is pre-warmed through every pathway',
      eventPattern: toCdkEventPattern(currentRevisionReadyPattern()),
      targets: [new targets.LambdaFunction(this.function, { deadLetterQueue: props.failureQueue, retryAttempts: 4, maxEventAge: Duration.minutes(30) })],
    });
  }
}
