import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { REALTIME_LOG_FIELDS } from '../../core/realtime-log';
import { EdgeHandler } from './edge-handler';
import { DELIVERY_CORS } from '../../core/identifiers';
import { type ViewerAuthConfig, viewerAuthEdgeFunction } from '../../edge-functions/viewer-auth/config';
import type { TokenCheck } from '../../core/platform-config';
import { buildViewerAuthFunctionCode } from '../bundling/cloudfront-function';


export interface DeliveryPathway {
  readonly id: string;
  readonly priceClass: cloudfront.PriceClass;
  /** Which viewer-request code checks this pathway's tokens (ADR 0033). */
  readonly tokenCheck: TokenCheck;
}

/** What an edge function needs to find the keyring replica nearest to it. */
export interface EdgeKeyringRef {
  readonly secretName: string;
  /** Regions holding a copy; the edge prefers its own region, else the first. */
  readonly regions: readonly string[];
}

export interface DeliveryNetworkProps {
  readonly originBucket: s3.IBucket;
  readonly pathways: readonly DeliveryPathway[];
  readonly keyring: EdgeKeyringRef;
  /**
   * The keyring's copy in CloudFront KeyValueStore (PlaybackKeyring publishes it); required when a pathway's
   * tokenCheck is "cloudfront-function".
   */
  readonly keyringStore?: cloudfront.IKeyValueStore;
  readonly telemetryStream: kinesis.IStream;
  /** Percent of viewer requests written to the real-time log. */
  readonly telemetrySamplingRate: number;
  readonly logBucket: s3.IBucket;
  /** us-east-1 stack for the Lambda@Edge functions. */
  readonly edgeStack: Stack;
  /** Account-wide physical names (core/physical-names.ts): CloudFront resources are global. */
  readonly names: DeliveryNetworkNames;
}

export interface DeliveryNetworkNames {
  readonly viewerAuthFunction: string;
  readonly segmentCachePolicy: string;
  readonly manifestCachePolicy: string;
  readonly corsPolicy: string;
  /** One Origin Access Control shared by every delivery distribution. */
  readonly originAccessControl: string;
  readonly realtimeLogConfig: string;
}

/**
 * N CloudFront distributions over one private origin, each one CDN pathway (docs/architecture.md#delivery-token-check-and-content-steering). Every request
 * passes `viewer-auth` (token check, token segment stripped so all viewers share one cache entry), manifests
 * and segments get their own cache policies, CORS allows the CMCD headers, and every request is written to the
 * telemetry stream as a real-time log line.
 */
export class DeliveryNetwork extends Construct {
  readonly distributions: ReadonlyMap<string, cloudfront.Distribution>;
  /** The Lambda@Edge check; only when some pathway's tokenCheck is "lambda-edge". */
  readonly viewerAuth?: EdgeHandler<ViewerAuthConfig>;
  /** The CloudFront Functions check; only when some pathway's tokenCheck is "cloudfront-function". */
  readonly viewerAuthFunction?: cloudfront.Function;
  readonly realtimeLogConfig: cloudfront.RealtimeLogConfig;

  constructor(scope: Construct, id: string, props: DeliveryNetworkProps) {
    super(scope, id);

    const checks = new Set(props.pathways.map((p) => p.tokenCheck));
    if (checks.has('cloudfront-function')) {
      if (props.keyringStore === undefined) {
        const ids = props.pathways.filter((p) => p.tokenCheck === 'cloudfront-function').map((p) => p.id);
        throw new Error(`platform.pathways tokenCheck "cloudfront-function" (${ids.join(', ')}) needs the keyring published to a KeyValueStore`);
      }
      // One function guards every such pathway: the code has no per-pathway configuration.
      this.viewerAuthFunction = new cloudfront.Function(this, 'ViewerAuthFunction', {
        comment: 'Playback token v1 check (ADR 0033); keyring from the associated KeyValueStore',
        code: cloudfront.FunctionCode.fromInline(buildViewerAuthFunctionCode()),
        runtime: cloudfront.FunctionRuntime.JS_2_0,
        keyValueStore: props.keyringStore,
        autoPublish: true,
      });
    }
    if (checks.has('lambda-edge')) this.viewerAuth = this.lambdaEdgeCheck(props);

    // Revision paths are immutable (media/<asset>/<revision>/…), so segments may live for a year at the edge.
    const segmentCache = new cloudfront.CachePolicy(this, 'SegmentCachePolicy', {
      cachePolicyName: props.names.segmentCachePolicy,
      comment: 'CMAF segments and init segments: immutable per revision',
      defaultTtl: Duration.days(365),
      minTtl: Duration.days(1),
      maxTtl: Duration.days(365),
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.none(),
      headerBehavior: cloudfront.CacheHeaderBehavior.none(),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
      enableAcceptEncodingGzip: false,
      enableAcceptEncodingBrotli: false,
    });
    // Manifests are small and the first thing a takedown must stop serving: keep them short-lived.
    const manifestCache = new cloudfront.CachePolicy(this, 'ManifestCachePolicy', {
      cachePolicyName: props.names.manifestCachePolicy,
      comment: 'HLS playlists and DASH MPDs: short TTL',
      defaultTtl: Duration.seconds(30),
      minTtl: Duration.seconds(0),
      maxTtl: Duration.minutes(5),
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.none(),
      headerBehavior: cloudfront.CacheHeaderBehavior.none(),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });
    const cors = new cloudfront.ResponseHeadersPolicy(this, 'CorsPolicy', {
      responseHeadersPolicyName: props.names.corsPolicy,
      comment: 'Browser players on any origin; CMCD request headers allowed',
      corsBehavior: {
        accessControlAllowCredentials: false,
        accessControlAllowOrigins: ['*'],
        accessControlAllowMethods: [...DELIVERY_CORS.allowMethods],
        accessControlAllowHeaders: [...DELIVERY_CORS.allowHeaders],
        accessControlExposeHeaders: [...DELIVERY_CORS.exposeHeaders],
        accessControlMaxAge: Duration.seconds(DELIVERY_CORS.maxAgeSeconds),
        originOverride: true,
      },
    });

    this.realtimeLogConfig = new cloudfront.RealtimeLogConfig(this, 'RealtimeLogs', {
      realtimeLogConfigName: props.names.realtimeLogConfig,
      endPoints: [cloudfront.Endpoint.fromKinesisStream(props.telemetryStream)],
      fields: [...REALTIME_LOG_FIELDS],
      samplingRate: props.telemetrySamplingRate,
    });

    const originAccessControl = new cloudfront.S3OriginAccessControl(this, 'OriginAccess', {
      originAccessControlName: props.names.originAccessControl,
      description: 'Delivery pathways read the private origin bucket',
    });
    const origin = origins.S3BucketOrigin.withOriginAccessControl(props.originBucket, { originAccessControl });
    const viewerRequest = (tokenCheck: TokenCheck): Pick<cloudfront.BehaviorOptions, 'edgeLambdas' | 'functionAssociations'> =>
      tokenCheck === 'cloudfront-function'
        ? { functionAssociations: [{ function: this.viewerAuthFunction!, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }] }
        : { edgeLambdas: [{ functionVersion: this.viewerAuth!.function.currentVersion, eventType: cloudfront.LambdaEdgeEventType.VIEWER_REQUEST }] };
    const behavior = (cachePolicy: cloudfront.ICachePolicy, tokenCheck: TokenCheck): cloudfront.BehaviorOptions => ({
      origin,
      cachePolicy,
      ...viewerRequest(tokenCheck),
      responseHeadersPolicy: cors,
      realtimeLogConfig: this.realtimeLogConfig,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
      cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD_OPTIONS,
      compress: true,
    });

    const distributions = new Map<string, cloudfront.Distribution>();
    for (const pathway of props.pathways) {
      distributions.set(
        pathway.id,
        new cloudfront.Distribution(this, `Cdn-${pathway.id}`, {
          comment: `CDN pathway ${pathway.id}`,
          defaultBehavior: behavior(segmentCache, pathway.tokenCheck),
          additionalBehaviors: { '*.m3u8': behavior(manifestCache, pathway.tokenCheck), '*.mpd': behavior(manifestCache, pathway.tokenCheck) },
          httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
          priceClass: pathway.priceClass,
          enableLogging: true,
          logBucket: props.logBucket,
          logFilePrefix: `cdn/${pathway.id}/`,
        }),
      );
    }
    this.distributions = distributions;
  }

  private lambdaEdgeCheck(props: DeliveryNetworkProps): EdgeHandler<ViewerAuthConfig> {
    const viewerAuth = new EdgeHandler(this, 'ViewerAuth', {
      edgeFunction: viewerAuthEdgeFunction,
      functionName: props.names.viewerAuthFunction,
      edgeStack: props.edgeStack,
      timeout: Duration.seconds(5),
      config: {
        // One function guards every delivery distribution, so its log tag names them all.
        pathwayId: 'delivery',
        keyring: { secretId: props.keyring.secretName, regions: props.keyring.regions, timeoutMs: 1500, refreshSeconds: 300 },
      },
    });
    grantKeyringRead(viewerAuth.role, props.edgeStack, props.keyring);
    return viewerAuth;
  }
}

/** Read access to the keyring in each region that holds a copy (ARNs spelled out: the edge stack is elsewhere). */
export function grantKeyringRead(role: iam.IRole, edgeStack: Stack, keyring: EdgeKeyringRef): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['secretsmanager:GetSecretValue'],
      // Secrets Manager appends "-" and six random characters to the name.
      resources: keyring.regions.map((region) =>
        edgeStack.formatArn({ service: 'secretsmanager', region, resource: 'secret', resourceName: `${keyring.secretName}-??????`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      ),
    }),
  );
}
