import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { REALTIME_LOG_FIELDS } from '../../core/realtime-log';
import { EdgeHandler } from './edge-handler';
import { DELIVERY_CORS } from '../../core/identifiers';
import { type ViewerAuthConfig, viewerAuthEdgeFunction } from '../../edge-functions/viewer-auth/config';
import type { TokenCheck } from '../../core/platform-config';
import { buildViewerAuthFunctionCode } from '../bundling/cloudfront-function';
import { buildShieldOriginCheckCode } from '../bundling/shield-origin-check';
import { type OriginShieldPlacement, SHIELD_FAILOVER_STATUS_CODES } from '../../core/origin-shield';
import { ORIGIN_VERIFY_HEADER } from '../../core/origin-verify';
import { acknowledgeNagFinding } from '../nag';


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
  /**
   * CloudFront Origin Shield, the extra caching layer every edge location and regional edge cache fetches
   * through: "per-pathway" on every pathway's S3 origin (ADR 0038; an object leaves S3 about once per pathway),
   * "shared" on one inner distribution that is every pathway's origin, with S3 as the fallback of an origin
   * group (ADR 0098; about once in all).
   * @default - no Origin Shield
   */
  readonly originShield?: OriginShieldPlacement;
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
  /**
   * The shared Origin Shield distribution (mode "shared", ADR 0098): the pathways' origin, reachable only with
   * the secret header. A takedown invalidates it before the pathways, or they would refill from it.
   */
  readonly shieldDistribution?: cloudfront.Distribution;
  /** The value of the origin-verify header the pathways send the shield distribution (mode "shared"). */
  readonly shieldOriginSecret?: secretsmanager.Secret;
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
    const s3Origin = origins.S3BucketOrigin.withOriginAccessControl(props.originBucket, {
      originAccessControl,
      ...(props.originShield !== undefined ? { originShieldRegion: props.originShield.region } : { originShieldEnabled: false }),
    });
    let origin: cloudfront.IOrigin = s3Origin;
    if (props.originShield?.mode === 'shared') {
      const shield = this.sharedShield(props, s3Origin, segmentCache, manifestCache);
      this.shieldDistribution = shield.distribution;
      this.shieldOriginSecret = shield.secret;
      // Failover to S3 directly (with the same Origin Shield Region) when the inner tier answers an error or
      // not at all: the shared distribution must not be a single point of failure of every CloudFront pathway.
      // 403 and 404 included: a refusal by the inner check (a secret being replaced) must not reach viewers.
      origin = new origins.OriginGroup({
        primaryOrigin: new origins.HttpOrigin(shield.distribution.distributionDomainName, {
          protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
          originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
          customHeaders: { [ORIGIN_VERIFY_HEADER]: shield.secret.secretValue.unsafeUnwrap() },
          // The inner tier's own Origin Shield does the collapsing; a second one here would add a hop.
          originShieldEnabled: false,
        }),
        fallbackOrigin: s3Origin,
        fallbackStatusCodes: [...SHIELD_FAILOVER_STATUS_CODES],
      });
    }
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

  /**
   * The shared Origin Shield tier (ADR 0098): one distribution with Origin Shield in front of S3 (OAC), cached like
   * the pathways (same segment and manifest policies), whose viewer-request function refuses every request
   * without the pathways' secret header. No real-time log: the pathways' lines already describe every viewer
   * request; its standard log goes to the access-log bucket next to theirs.
   */
  private sharedShield(
    props: DeliveryNetworkProps,
    s3Origin: cloudfront.IOrigin,
    segmentCache: cloudfront.ICachePolicy,
    manifestCache: cloudfront.ICachePolicy,
  ): { distribution: cloudfront.Distribution; secret: secretsmanager.Secret } {
    const secret = new secretsmanager.Secret(this, 'ShieldOriginSecret', {
      description: 'Origin-verify header value the delivery pathways send the shared Origin Shield distribution',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledgeNagFinding(
      secret,
      'AwsSolutions-SMG4',
      'The value is the origin custom header of the delivery pathways and the constant of the shield distribution’s viewer-request function, both resolved at deployment: it is rotated by replacing the secret in a deployment, which changes both together (docs/adr/0098-a-shared-origin-shield-distribution.md), not by a rotation Lambda neither would follow.',
    );
    const check = new cloudfront.Function(this, 'ShieldOriginCheck', {
      comment: 'Shared Origin Shield tier: only the delivery pathways (secret origin header, ADR 0098)',
      code: cloudfront.FunctionCode.fromInline(buildShieldOriginCheckCode(secret.secretValue.unsafeUnwrap())),
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      autoPublish: true,
    });
    const behavior = (cachePolicy: cloudfront.ICachePolicy): cloudfront.BehaviorOptions => ({
      origin: s3Origin,
      cachePolicy,
      functionAssociations: [{ function: check, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
      cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
      // The pathways compress for their viewers; this tier hands them the object as stored.
      compress: false,
    });
    const distribution = new cloudfront.Distribution(this, 'Shield', {
      comment: 'Shared Origin Shield tier in front of the origin bucket (origin of every CDN pathway)',
      defaultBehavior: behavior(segmentCache),
      additionalBehaviors: { '*.m3u8': behavior(manifestCache), '*.mpd': behavior(manifestCache) },
      httpVersion: cloudfront.HttpVersion.HTTP2,
      // Every pathway's edge locations call it, from wherever their viewers are.
      priceClass: cloudfront.PriceClass.PRICE_CLASS_ALL,
      enableLogging: true,
      logBucket: props.logBucket,
      logFilePrefix: 'cdn/origin-shield/',
    });
    return { distribution, secret };
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
