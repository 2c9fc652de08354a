import { ArnFormat, Duration, Fn, Stack, Token } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { EdgeHandler } from './edge-handler';
import { EdgeKeyringRef, grantKeyringRead } from './delivery-network';
import { type SteeringEdgeConfig, staticPathwaysOf, steeringEdgeFunction } from '../../edge-functions/steering/config';
import type { PathwayEntry } from '../../core/routing-types';
import { ORIGIN_VERIFY_HEADER } from '../../core/origin-verify';
import { DEFAULT_SESSION_STEERING_POLICY } from '../../core/session-steering';
import { STEERING_BEHAVIOR_PATH_PATTERN, STEERING_KEY_HEADERS, STEERING_KEY_QUERY_NAMES, steeringCacheSeconds } from '../../core/steering-cache-key';
import { buildSteeringKeyFunctionCode } from '../bundling/cloudfront-function';

export interface SteeringGatewayProps {
  readonly originBucket: s3.IBucket;
  readonly keyring: EdgeKeyringRef;
  /**
   * The keyring's CloudFront KeyValueStore copy: the steering key function checks every steering reload's
   * token with it at viewer request, in front of the cache (ADR 0036).
   */
  readonly keyringStore: cloudfront.IKeyValueStore;
  /** Physical name and region of the routing table the steering function reads. */
  readonly routingTable: { readonly name: string; readonly region: string };
  /**
   * The registry's pathways, baked as the static weights a cold steering container answers with before
   * its first routing snapshot (ADR 0048): equal shares over the enabled ones. A host that is a deploy-time
   * token (a CloudFront domain) cannot be baked and is left out. @default none (cold → 503)
   */
  readonly staticPathways?: readonly PathwayEntry[];
  readonly steeringTtlSeconds: number;
  /** The player report ingest API, routed under /v1/cmcd/* so reports carry CloudFront's viewer country and ASN. */
  readonly ingestApi: apigwv2.IHttpApi;
  /**
   * Its value goes to the ingest API in the origin-verify header on every report, the proof the ingest
   * requires that a report came through this distribution (ADR 0055).
   */
  readonly ingestOriginSecret: secretsmanager.ISecret;
  readonly logBucket: s3.IBucket;
  readonly edgeStack: Stack;
  /** Account-wide physical names (core/physical-names.ts): CloudFront resources are global. */
  readonly names: SteeringGatewayNames;
}

export interface SteeringGatewayNames {
  readonly steeringFunction: string;
  readonly viewerContextPolicy: string;
  readonly reportContextPolicy: string;
  readonly steeringCachePolicy: string;
  readonly steeringKeyFunction: string;
  readonly originAccessControl: string;
}

/**
 * The playback entry point (docs/steering.md, ADRs 0044, 0036): a distribution whose origin-request function
 * `steering` answers `/<token>/play/…/main.m3u8|main.mpd` with multi-pathway manifests (not cached) and steering
 * reloads (`…/steering`) behind a cache: the key function (CloudFront Function, viewer request) checks the token
 * and rewrites each reload to its cache key, so the reloads of a session whose situation does not change are
 * answered from the cache and run no Lambda@Edge. Player reports under `/v1/cmcd/*` go to the ingest API with the viewer country and ASN headers
 * CloudFront adds.
 */
export class SteeringGateway extends Construct {
  readonly distribution: cloudfront.Distribution;
  readonly steering: EdgeHandler<SteeringEdgeConfig>;
  readonly steeringKeyFunction: cloudfront.Function;
  readonly steeringCachePolicy: cloudfront.CachePolicy;

  constructor(scope: Construct, id: string, props: SteeringGatewayProps) {
    super(scope, id);
    this.steering = new EdgeHandler(this, 'Steering', {
      edgeFunction: steeringEdgeFunction,
      functionName: props.names.steeringFunction,
      edgeStack: props.edgeStack,
      // Origin-request functions may use more memory and time; manifests are generated here.
      memorySize: 256,
      // Worst cold path: keyring (≤ 4 s) + first routing snapshot read (≤ 1 s) + origin manifest through up to 3 pathways.
      timeout: Duration.seconds(15),
      config: {
        keyring: { secretId: props.keyring.secretName, regions: props.keyring.regions, timeoutMs: 1500, refreshSeconds: 300 },
        routingTable: props.routingTable,
        steeringTtlSeconds: props.steeringTtlSeconds,
        // One snapshot read per container every 5 s: ≤ 12 per minute (ADR 0048).
        routingCacheSeconds: 5,
        staticPathways: staticPathwaysOf(props.staticPathways ?? [], (host) => !Token.isUnresolved(host)),
      },
    });
    grantKeyringRead(this.steering.role, props.edgeStack, props.keyring);
    this.steering.role.addToPolicy(
      new iam.PolicyStatement({
        // One GetItem of a routing snapshot copy per refresh period (ADR 0048).
        actions: ['dynamodb:GetItem'],
        resources: [
          props.edgeStack.formatArn({ service: 'dynamodb', region: props.routingTable.region, resource: 'table', resourceName: props.routingTable.name, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }),
        ],
      }),
    );

    // Viewer country, ASN and device class reach origin-request functions only when forwarded to the origin.
    const viewerContext = new cloudfront.OriginRequestPolicy(this, 'ViewerContext', {
      originRequestPolicyName: props.names.viewerContextPolicy,
      comment: 'Forward viewer country, ASN and device class to the steering function',
      headerBehavior: cloudfront.OriginRequestHeaderBehavior.allowList(
        'CloudFront-Viewer-Country',
        'CloudFront-Viewer-ASN',
        'CloudFront-Is-Mobile-Viewer',
        'CloudFront-Is-Tablet-Viewer',
        'CloudFront-Is-SmartTV-Viewer',
        'CloudFront-Is-Desktop-Viewer',
      ),
      queryStringBehavior: cloudfront.OriginRequestQueryStringBehavior.all(),
      cookieBehavior: cloudfront.OriginRequestCookieBehavior.none(),
    });
    const reportContext = new cloudfront.OriginRequestPolicy(this, 'ReportContext', {
      originRequestPolicyName: props.names.reportContextPolicy,
      comment: 'Forward player reports with viewer country and ASN to the ingest API',
      headerBehavior: cloudfront.OriginRequestHeaderBehavior.allowList('CloudFront-Viewer-Country', 'CloudFront-Viewer-ASN', 'CloudFront-Viewer-Address', 'Content-Type', 'Origin'),
      queryStringBehavior: cloudfront.OriginRequestQueryStringBehavior.all(),
      cookieBehavior: cloudfront.OriginRequestCookieBehavior.none(),
    });

    // Every steering reload's token is checked here, cache hits included; the answer's key is all the steering
    // function sees. The throughput classes follow the steering function's policy (the default: it bakes no
    // sessionSteering block), so both judge a collapse alike (core/steering-cache-key.ts).
    this.steeringKeyFunction = new cloudfront.Function(this, 'SteeringKeyFunction', {
      functionName: props.names.steeringKeyFunction,
      comment: 'Token v1 check and steering cache key (ADR 0036); keyring from the associated KeyValueStore',
      code: cloudfront.FunctionCode.fromInline(buildSteeringKeyFunctionCode(DEFAULT_SESSION_STEERING_POLICY)),
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      keyValueStore: props.keyringStore,
      autoPublish: true,
    });
    // Exactly the key: the country picks the weights, the query carries the session's folder, report and memory.
    // A session whose key does not change is answered from here for STEERING_ANSWER_REUSE_TTLS reloads.
    this.steeringCachePolicy = new cloudfront.CachePolicy(this, 'SteeringCache', {
      cachePolicyName: props.names.steeringCachePolicy,
      comment: 'Steering answers by session, country, report class and session memory (ADR 0036)',
      minTtl: Duration.seconds(0),
      defaultTtl: Duration.seconds(steeringCacheSeconds(props.steeringTtlSeconds)),
      maxTtl: Duration.seconds(steeringCacheSeconds(props.steeringTtlSeconds)),
      headerBehavior: cloudfront.CacheHeaderBehavior.allowList(...STEERING_KEY_HEADERS),
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.allowList(...STEERING_KEY_QUERY_NAMES),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
    });

    // Never reached for /play and steering (the function answers); kept private behind OAC.
    const gatewayOrigin = origins.S3BucketOrigin.withOriginAccessControl(props.originBucket, {
      originAccessControl: new cloudfront.S3OriginAccessControl(this, 'OriginAccess', {
        originAccessControlName: props.names.originAccessControl,
        description: 'The gateway reads the private origin bucket (never for /play or /steer)',
      }),
    });
    const ingestDomain = Fn.select(2, Fn.split('/', props.ingestApi.apiEndpoint));
    this.distribution = new cloudfront.Distribution(this, 'Gateway', {
      comment: 'Playback gateway: steering manifests and player reports',
      defaultBehavior: {
        origin: gatewayOrigin,
        cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
        originRequestPolicy: viewerContext,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
        edgeLambdas: [{ functionVersion: this.steering.function.currentVersion, eventType: cloudfront.LambdaEdgeEventType.ORIGIN_REQUEST }],
      },
      additionalBehaviors: {
        // No origin request policy: the origin-request function gets the cache key and nothing else, so its
        // answer cannot depend on anything two sessions sharing a key may differ in.
        [STEERING_BEHAVIOR_PATH_PATTERN]: {
          origin: gatewayOrigin,
          cachePolicy: this.steeringCachePolicy,
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
          cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
          functionAssociations: [{ function: this.steeringKeyFunction, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
          edgeLambdas: [{ functionVersion: this.steering.function.currentVersion, eventType: cloudfront.LambdaEdgeEventType.ORIGIN_REQUEST }],
        },
        '/v1/cmcd/*': {
          origin: new origins.HttpOrigin(ingestDomain, {
            protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
            // A CloudFormation dynamic reference: the value is resolved at deployment, never in the template.
            customHeaders: { [ORIGIN_VERIFY_HEADER]: props.ingestOriginSecret.secretValue.unsafeUnwrap() },
          }),
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          originRequestPolicy: reportContext,
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
        },
      },
      // Errors are never cached (CloudFront keeps 5xx for 10 s by default): a 503 of a cold steering function must
      // not stand in for the next minute's answers.
      errorResponses: [500, 502, 503, 504].map((httpStatus) => ({ httpStatus, ttl: Duration.seconds(0) })),
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      enableLogging: true,
      logBucket: props.logBucket,
      logFilePrefix: 'gateway/',
    });
  }
}
