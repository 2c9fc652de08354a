import { Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as events from 'aws-cdk-lib/aws-events';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { acknowledgeNagFinding } from '../nag';
import { CfnOutput } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { PlatformConfig } from '../../core/platform-config';
import { ContentStorage } from '../constructs/content-storage';
import { DeliveryNetwork } from '../constructs/delivery-network';
import { IngestPipeline } from '../constructs/ingest-pipeline';
import { PlaybackApi } from '../constructs/playback-api';
import { PlaybackKeyring } from '../constructs/playback-keyring';
import { RoutingTable } from '../constructs/routing-table';
import { SteeringGateway } from '../constructs/steering-gateway';
import { TelemetryPipeline } from '../constructs/telemetry-pipeline';

export interface StreamingPlatformStackProps extends StackProps {
  readonly config: PlatformConfig;
  /** The us-east-1 stack that holds the Lambda@Edge functions (this stack itself when it is in us-east-1). */
  readonly edgeStack?: Stack;
}

/** Names the edge functions bake in at build time; derived from the stack prefix so they are known at synth. */
export function edgeVisibleNames(config: PlatformConfig): { routingTableName: string; keyringSecretName: string; functionPrefix: string } {
  return {
    routingTableName: `${config.stackPrefix}-routing`,
    keyringSecretName: `${config.stackPrefix}/playback-keyring`,
    functionPrefix: config.stackPrefix.toLowerCase(),
  };
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
    const removalPolicy = config.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const names = edgeVisibleNames(config);

    const storage = new ContentStorage(this, 'Storage', { removalPolicy });
    // One failure queue for the whole platform: ingest events and telemetry batches that exhausted retries.
    const failureQueue = new sqs.Queue(this, 'FailureQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledgeNagFinding(failureQueue, 'AwsSolutions-SQS3', 'This queue is itself the platform’s dead-letter queue; an operator drains it, so it has no consumer of its own to fail.');
    const catalogBus = new events.EventBus(this, 'CatalogBus', { description: 'Asset Ready / Asset Failed / Asset Removed events' });

    new IngestPipeline(this, 'Ingest', {
      uploadBucket: storage.uploadBucket,
      originBucket: storage.originBucket,
      assetsTable: storage.assetsTable,
      catalogBus,
      failureQueue,
      ladder: config.ladder,
      perTitleEncoding: config.perTitleEncoding,
    });

    const keyring = new PlaybackKeyring(this, 'Keyring', {
      secretName: names.keyringSecretName,
      // Lambda@Edge runs in the regions of the regional edge caches; us-east-1 always holds a copy.
      replicaRegions: [...new Set(['us-east-1', ...config.keyringReplicaRegions])].filter((r) => r !== config.region),
      maxTokenLifetime: Duration.seconds(config.tokenLifetimeSeconds),
      removalPolicy,
    });
    const edgeKeyring = { secretName: keyring.secretName, regions: ['us-east-1', ...keyring.regions.filter((r) => r !== 'us-east-1')] };

    const routing = new RoutingTable(this, 'Routing', { tableName: names.routingTableName, removalPolicy });

    const telemetry = new TelemetryPipeline(this, 'Telemetry', {
      routingTable: routing.table,
      keyringSecret: keyring.secret,
      pathwayIds: [...config.pathways.map((p) => p.id), ...config.externalPathways.map((p) => p.id)],
      rollupRetentionDays: config.rollupRetentionDays,
      removalPolicy,
      failureQueue,
      weightsTickSeconds: 10,
    });

    const delivery = new DeliveryNetwork(this, 'Delivery', {
      originBucket: storage.originBucket,
      pathways: config.pathways.map((p) => ({ id: p.id, priceClass: p.priceClass as cloudfront.PriceClass })),
      keyring: edgeKeyring,
      telemetryStream: telemetry.stream,
      telemetrySamplingRate: config.telemetrySamplingRate,
      logBucket: storage.accessLogsBucket,
      edgeStack,
      namePrefix: names.functionPrefix,
    });

    const gateway = new SteeringGateway(this, 'Gateway', {
      originBucket: storage.originBucket,
      keyring: edgeKeyring,
      routingTable: { name: names.routingTableName, region: config.region },
      steeringTtlSeconds: config.steeringTtlSeconds,
      ingestApi: telemetry.ingestApi,
      logBucket: storage.accessLogsBucket,
      edgeStack,
      namePrefix: names.functionPrefix,
    });

    routing.publishPathways([
      ...config.pathways.map((p) => ({ id: p.id, host: delivery.distributions.get(p.id)!.distributionDomainName, enabled: p.enabled, cap: p.cap })),
      ...config.externalPathways.map((p) => ({ id: p.id, host: p.host, enabled: p.enabled, cap: p.cap })),
    ]);

    const playback = new PlaybackApi(this, 'Playback', {
      assetsTable: storage.assetsTable,
      originBucket: storage.originBucket,
      keyringSecret: keyring.secret,
      gateway: gateway.distribution,
      distributions: [...delivery.distributions.values()],
      catalogBus,
      tokenLifetime: Duration.seconds(config.tokenLifetimeSeconds),
    });

    new CfnOutput(this, 'UploadBucketName', { value: storage.uploadBucket.bucketName, description: 'Drop masters under uploads/' });
    new CfnOutput(this, 'PlaybackApiUrl', { value: playback.api.apiEndpoint });
    new CfnOutput(this, 'GatewayDomain', { value: gateway.distribution.distributionDomainName });
    for (const [id, distribution] of delivery.distributions) new CfnOutput(this, `CdnDomain-${id}`, { value: distribution.distributionDomainName });
  }
}
