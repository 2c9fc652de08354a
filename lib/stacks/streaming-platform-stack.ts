import { Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as events from 'aws-cdk-lib/aws-events';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { acknowledgeNagFinding } from '../nag';
import { CfnOutput } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { platformNames } from '../../core/physical-names';
import { STACK_OUTPUT_KEYS } from '../../core/stack-outputs';
import { originShieldOf, type PlatformConfig, prewarmFunctionSettings, trendingPrewarmSettings } from '../../core/platform-config';
import { CachePrewarm } from '../constructs/cache-prewarm';
import { ContentStorage } from '../constructs/content-storage';
import { DeliveryNetwork } from '../constructs/delivery-network';
import { IngestPipeline } from '../constructs/ingest-pipeline';
import { PlaybackApi } from '../constructs/playback-api';
import { PlaybackKeyring } from '../constructs/playback-keyring';
import { RoutingTable } from '../constructs/routing-table';
import { SteeringGateway } from '../constructs/steering-gateway';
import { TelemetryPipeline } from '../constructs/telemetry-pipeline';
import { reportApiThrottleFor } from '../../core/return-path-sizing';

export interface StreamingPlatformStackProps extends StackProps {
  readonly config: PlatformConfig;
  /** The us-east-1 stack that holds the Lambda@Edge functions (this stack itself when it is in us-east-1). */
  readonly edgeStack?: Stack;
}

/**
 * The whole regional platform, composed from domain constructs: ingest and encode, delivery over N CDN
 * pathways, the steering gateway, the telemetry return path and the playback API (ADR 0002).
 */
export class StreamingPlatformStack extends Stack {
  constructor(scope: Construct, id: string, props: StreamingPlatformStackProps) {
    super(scope, id, props);
    const { config } = props;
    const edgeStack = props.edgeStack ?? this;
    // Retain except on create (ADR 0009): kept on update-replace and stack delete, removed when the create that
    // made them rolls back, so a failed first deploy can simply be retried.
    const removalPolicy = config.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;
    // Every account-wide name, from the prefix alone (core/physical-names.ts); the edge bakes some of them in.
    const names = platformNames(config.stackPrefix);

    const storage = new ContentStorage(this, 'Storage', { removalPolicy });
    // One failure queue for the whole platform: ingest events and telemetry batches that exhausted retries.
    const failureQueue = new sqs.Queue(this, 'FailureQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledgeNagFinding(failureQueue, 'AwsSolutions-SQS3', 'This queue is itself the platform’s dead-letter queue; an operator drains it, so it has no consumer of its own to fail.');
    const catalogBus = new events.EventBus(this, 'CatalogBus', {
      eventBusName: names.catalogBus,
      description: 'Asset Ready / Asset Failed / Asset Removed events',
    });

    new IngestPipeline(this, 'Ingest', {
      uploadBucket: storage.uploadBucket,
      originBucket: storage.originBucket,
      assetsTable: storage.assetsTable,
      catalogBus,
      failureQueue,
      ladder: config.ladder,
      perTitleEncoding: config.perTitleEncoding,
      surroundAudio: config.surroundAudio,
    });

    const keyring = new PlaybackKeyring(this, 'Keyring', {
      secretName: names.keyringSecret,
      // Lambda@Edge runs in the regions of the regional edge caches; us-east-1 always holds a copy.
      replicaRegions: [...new Set(['us-east-1', ...config.keyringReplicaRegions])].filter((r) => r !== config.region),
      maxTokenLifetime: Duration.seconds(config.tokenLifetimeSeconds),
      removalPolicy,
      keyValueStoreName: names.cloudFront.keyringStore,
    });
    const edgeKeyring = { secretName: keyring.secretName, regions: ['us-east-1', ...keyring.regions.filter((r) => r !== 'us-east-1')] };

    const routing = new RoutingTable(this, 'Routing', { tableName: names.routingTable, removalPolicy });

    const telemetry = new TelemetryPipeline(this, 'Telemetry', {
      routingTable: routing.table,
      keyringSecret: keyring.secret,
      pathwayIds: [...config.pathways.map((p) => p.id), ...config.externalPathways.map((p) => p.id)],
      rollupRetentionDays: config.rollupRetentionDays,
      removalPolicy,
      failureQueue,
      weightsTickSeconds: 10,
      routingGenerationStore: keyring.keyValueStore,
      dashboardName: names.dashboard,
      streamCapacity: config.telemetryStream,
      reportApiThrottle: reportApiThrottleFor(config.peakConcurrentViewers, config.reportSamplingRate),
      reportSamplingRate: config.reportSamplingRate,
      rollupStages: { mergeWindowSeconds: config.rollupMergeWindowSeconds },
      demandTopK: trendingPrewarmSettings(config.prewarm)?.demandTopK ?? 0,
    });

    const delivery = new DeliveryNetwork(this, 'Delivery', {
      originBucket: storage.originBucket,
      pathways: config.pathways.map((p) => ({ id: p.id, priceClass: p.priceClass as cloudfront.PriceClass, tokenCheck: p.tokenCheck })),
      keyring: edgeKeyring,
      keyringStore: keyring.keyValueStore,
      originShield: originShieldOf(config),
      telemetryStream: telemetry.stream,
      telemetrySamplingRate: config.telemetrySamplingRate,
      logBucket: storage.accessLogsBucket,
      edgeStack,
      names: {
        viewerAuthFunction: names.edgeFunctions.viewerAuth,
        segmentCachePolicy: names.cloudFront.segmentCachePolicy,
        manifestCachePolicy: names.cloudFront.manifestCachePolicy,
        corsPolicy: names.cloudFront.corsPolicy,
        originAccessControl: names.cloudFront.deliveryOriginAccess,
        realtimeLogConfig: names.cloudFront.realtimeLogConfig,
      },
    });

    const registeredPathways = [
      ...config.pathways.map((p) => ({ id: p.id, host: delivery.distributions.get(p.id)!.distributionDomainName, enabled: p.enabled, cap: p.cap })),
      ...config.externalPathways.map((p) => ({ id: p.id, host: p.host, enabled: p.enabled, cap: p.cap })),
    ];
    const gateway = new SteeringGateway(this, 'Gateway', {
      originBucket: storage.originBucket,
      // The static weights a cold steering container answers with before its first snapshot (ADR 0048).
      staticPathways: registeredPathways,
      keyring: edgeKeyring,
      keyringStore: keyring.keyValueStore,
      routingTable: { name: names.routingTable, region: config.region },
      steeringTtlSeconds: config.steeringTtlSeconds,
      ingestApi: telemetry.ingestApi,
      ingestOriginSecret: telemetry.ingestOriginSecret,
      logBucket: storage.accessLogsBucket,
      edgeStack,
      names: {
        steeringFunction: names.edgeFunctions.steering,
        viewerContextPolicy: names.cloudFront.viewerContextPolicy,
        reportContextPolicy: names.cloudFront.reportContextPolicy,
        steeringCachePolicy: names.cloudFront.steeringCachePolicy,
        steeringKeyFunction: names.cloudFront.steeringKeyFunction,
        originAccessControl: names.cloudFront.gatewayOriginAccess,
      },
    });

    routing.publishPathways(registeredPathways);

    const playback = new PlaybackApi(this, 'Playback', {
      assetsTable: storage.assetsTable,
      originBucket: storage.originBucket,
      keyringSecret: keyring.secret,
      gateway: gateway.distribution,
      // The shared shield tier first (ADR 0098): a pathway refilling from it must not find the title still there.
      distributions: [...(delivery.shieldDistribution ? [delivery.shieldDistribution] : []), ...delivery.distributions.values()],
      catalogBus,
      failureQueue,
      tokenLifetime: Duration.seconds(config.tokenLifetimeSeconds),
      reportSamplingRate: config.reportSamplingRate,
    });

    if (config.prewarm !== false) {
      new CachePrewarm(this, 'Prewarm', {
        distributions: delivery.distributions,
        keyringSecret: keyring.secret,
        catalogBus,
        failureQueue,
        ...prewarmFunctionSettings(config.prewarm),
        ...(config.prewarm.trending !== false
          ? { trending: { ...config.prewarm.trending, rollupsTable: telemetry.rollupsTable, assetsTable: storage.assetsTable } }
          : {}),
      });
    }

    // What a platform team needs after a deploy, and everything `npm run smoke` proves a deployment from
    // (core/stack-outputs.ts, ADR 0013).
    new CfnOutput(this, STACK_OUTPUT_KEYS.uploadBucket, { value: storage.uploadBucket.bucketName, description: 'Drop masters under uploads/' });
    new CfnOutput(this, STACK_OUTPUT_KEYS.playbackApiUrl, { value: playback.api.apiEndpoint });
    new CfnOutput(this, STACK_OUTPUT_KEYS.gatewayDomain, { value: gateway.distribution.distributionDomainName });
    new CfnOutput(this, STACK_OUTPUT_KEYS.assetsTable, { value: storage.assetsTable.tableName, description: 'The catalog' });
    new CfnOutput(this, STACK_OUTPUT_KEYS.rollupsTable, { value: telemetry.rollupsTable.tableName, description: 'QoE rollups per pathway, country and minute' });
    new CfnOutput(this, STACK_OUTPUT_KEYS.pathways, {
      value: this.toJsonString(Object.fromEntries([...delivery.distributions].map(([id, distribution]) => [id, distribution.distributionDomainName]))),
      description: 'Pathway id to CloudFront domain, as JSON',
    });
    for (const [id, distribution] of delivery.distributions) new CfnOutput(this, `CdnDomain-${id}`, { value: distribution.distributionDomainName });
    if (delivery.shieldDistribution && delivery.shieldOriginSecret) {
      // What an external CDN needs to fill from the shared shield tier too (ADR 0098): its domain and where the header value is.
      new CfnOutput(this, 'OriginShieldDomain', { value: delivery.shieldDistribution.distributionDomainName, description: 'Shared Origin Shield distribution; requests need the x-origin-verify header' });
      new CfnOutput(this, 'OriginShieldSecretArn', { value: delivery.shieldOriginSecret.secretArn, description: 'Secret holding the x-origin-verify value for the shared Origin Shield distribution' });
    }
  }
}
