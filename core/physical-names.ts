/**
 * Every physical name the platform fixes in an AWS account, derived from `stackPrefix` alone (ADR 0009).
 * Everything else is named by CloudFormation. Two copies with different prefixes therefore never collide
 * (test/infra/lifecycle.test.ts synthesises two and compares), and `npm run doctor` looks for leftovers of a
 * failed deploy under exactly these names. The prefix is used as written everywhere (function names were once
 * lower-cased), so one string finds every name a copy owns.
 */

/** Names known at synth time; the edge functions bake some of them in (they have no environment variables). */
export interface PlatformNames {
  /** The regional stack. */
  readonly regionalStack: string;
  /** The us-east-1 stack of the Lambda@Edge functions (only when the regional stack is elsewhere). */
  readonly edgeStack: string;
  /** DynamoDB routing table, read by the steering edge function. */
  readonly routingTable: string;
  /** Secrets Manager keyring secret, read by both edge functions in the region nearest to them. */
  readonly keyringSecret: string;
  /** Lambda@Edge functions; their log groups are `/aws/lambda/us-east-1.<name>` in every region that served a viewer. */
  readonly edgeFunctions: { readonly viewerAuth: string; readonly steering: string };
  /** The EventBridge bus of `Asset Ready` / `Asset Failed` / `Asset Removed`, which product backends subscribe to. */
  readonly catalogBus: string;
  /** CloudWatch dashboard (names are account-wide). */
  readonly dashboard: string;
  /** CloudFront resources: CloudFront is global, so these names are account-wide. */
  readonly cloudFront: {
    readonly segmentCachePolicy: string;
    readonly manifestCachePolicy: string;
    readonly corsPolicy: string;
    readonly viewerContextPolicy: string;
    readonly reportContextPolicy: string;
    /** The gateway's steering cache policy and its viewer-request key function (ADR 0036). */
    readonly steeringCachePolicy: string;
    readonly steeringKeyFunction: string;
    /** The keyring's KeyValueStore copy, read by every CloudFront Function that checks tokens. */
    readonly keyringStore: string;
    readonly deliveryOriginAccess: string;
    readonly gatewayOriginAccess: string;
    readonly realtimeLogConfig: string;
  };
}

/** The edge stack's name is `<prefix>-Edge`; a prefix ending that way would name another copy's edge stack. */
export const EDGE_STACK_SUFFIX = '-Edge';

export function platformNames(stackPrefix: string): PlatformNames {
  const name = (suffix: string) => `${stackPrefix}-${suffix}`;
  return {
    regionalStack: stackPrefix,
    edgeStack: `${stackPrefix}${EDGE_STACK_SUFFIX}`,
    routingTable: name('routing'),
    keyringSecret: `${stackPrefix}/playback-keyring`,
    edgeFunctions: { viewerAuth: name('viewer-auth'), steering: name('steering') },
    catalogBus: name('catalog'),
    dashboard: name('qoe'),
    cloudFront: {
      segmentCachePolicy: name('segments'),
      manifestCachePolicy: name('manifests'),
      corsPolicy: name('cors'),
      viewerContextPolicy: name('viewer-context'),
      reportContextPolicy: name('report-context'),
      steeringCachePolicy: name('steering-cache'),
      steeringKeyFunction: name('steering-key'),
      keyringStore: name('playback-keys'),
      deliveryOriginAccess: name('delivery-origin'),
      gatewayOriginAccess: name('gateway-origin'),
      realtimeLogConfig: name('delivery-logs'),
    },
  };
}

/**
 * Retained stateful resources whose names CloudFormation generates as `<stack>-<logical id>-<suffix>` (bucket
 * names lower-cased). These are the stems of their pinned logical ids (test/infra/logical-ids.test.ts), which is
 * how `npm run doctor` recognises what an earlier deployment of the same prefix left behind on purpose.
 */
export const GENERATED_NAME_STEMS = {
  buckets: ['StorageAccessLogsBucket', 'StorageOriginBucket', 'StorageUploadBucket'],
  tables: ['StorageAssetsTable', 'TelemetryQoeRollups'],
} as const;
