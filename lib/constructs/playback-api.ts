import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledgeNagFinding } from '../nag';
import { PlatformFunction } from './platform-function';
import { playbackApiConfig } from '../../lambdas/playback-api/config';
import { takedownConfig } from '../../lambdas/takedown/config';
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
  readonly tokenLifetime: Duration;
}

/**
 * The regional API a product backend calls (docs/architecture.md#delivery-token-check-and-content-steering): `POST /sessions` signs gateway URLs for an
 * asset's current revision; `DELETE /assets/{assetId}` is the operator's takedown.
 */
export class PlaybackApi extends Construct {
  readonly api: apigwv2.HttpApi;
  readonly sessions: PlatformFunction;
  readonly takedown: PlatformFunction;

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
      }),
    });
    props.assetsTable.grantReadData(this.sessions);
    props.keyringSecret.grantRead(this.sessions);

    this.takedown = new PlatformFunction(this, 'Takedown', {
      handlerDir: 'takedown',
      serviceName: 'takedown',
      timeout: Duration.minutes(5),
      environment: takedownConfig.encode({
        assetsTableName: props.assetsTable.tableName,
        originBucketName: props.originBucket.bucketName,
        distributionIds: props.distributions.map((d) => d.distributionId),
        eventBusName: props.catalogBus.eventBusName,
      }),
    });
    props.assetsTable.grantReadWriteData(this.takedown);
    props.catalogBus.grantPutEventsTo(this.takedown);
    this.takedown.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [props.originBucket.bucketArn] }));
    this.takedown.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:DeleteObject'], resources: [props.originBucket.arnForObjects(`${MEDIA_PREFIX}*`)] }));
    acknowledgeNagFinding(
      this.takedown.role!,
      `AwsSolutions-IAM5[Resource::<${logicalId(props.originBucket)}.Arn>/${MEDIA_PREFIX}*]`,
      'A takedown deletes every rendition of one asset; keys are generated per revision, so the grant is the media/ prefix with DeleteObject only.',
    );
    for (const distribution of props.distributions) distribution.grantCreateInvalidation(this.takedown);

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
