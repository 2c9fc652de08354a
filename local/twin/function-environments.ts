/**
 * The environment of every Lambda the twin runs, encoded with the same per-function configuration
 * schemas the CDK constructs use (lambdas/<fn>/config.ts), from the same platform defaults
 * (core/platform-config.ts). The twin runs every handler in one process, so their variables share
 * `process.env`; test/infra/function-config.test.ts checks that each function's share decodes, and that
 * synth and twin set the same variables.
 */
import type { LadderName } from '../../core/ladder';
import { DEFAULT_PREWARM, parsePlatformConfig, prewarmFunctionSettings, trendingPrewarmSettings } from '../../core/platform-config';
import type { ScoringParams } from '../../core/routing/scoring-params';
import { ROLLUP_STAGES } from '../../lib/topology';
import { cmcdIngestConfig } from '../../lambdas/cmcd-ingest/config';
import { jobStatusConfig } from '../../lambdas/job-status/config';
import { playbackApiConfig } from '../../lambdas/playback-api/config';
import { prewarmConfig } from '../../lambdas/prewarm/config';
import { qoeAggregatorConfig } from '../../lambdas/qoe-aggregator/config';
import { rollupMergerConfig } from '../../lambdas/rollup-merger/config';
import { routingWeightsConfig } from '../../lambdas/routing-weights/config';
import { submitJobConfig } from '../../lambdas/submit-job/config';
import { takedownConfig } from '../../lambdas/takedown/config';
import { takedownWorkerConfig } from '../../lambdas/takedown-worker/config';
import { TWIN_KVS_ARN } from '../edge/key-value-store';

export interface TwinEnvironmentInputs {
  readonly stackName: string;
  readonly assetsTable: string;
  readonly originBucket: string;
  readonly routingTable: string;
  readonly rollupsTable: string;
  readonly rateLimitTable: string;
  readonly telemetryStream: string;
  /** Stage 1 -> stage 2 of the rollup writes (ADR 0057). */
  readonly partialsStream: string;
  readonly keyringSecret: string;
  /** The origin-verify secret the gateway sends the report ingest (ADR 0055). */
  readonly ingestOriginSecret: string;
  readonly pathways: readonly string[];
  /** `gateway.localhost:<port>`, the gateway distribution's host (ADR 0076). */
  readonly gatewayHost: string;
  readonly ladder: LadderName;
  /** The twin's own timer runs routing-weights every this many seconds, one evaluation per call. */
  readonly routingTickSeconds: number;
  readonly scoringParams: Partial<ScoringParams>;
  /** Signed URLs' lifetime; shorter than the cloud's default so a long-running twin exercises expiry. */
  readonly tokenLifetimeSeconds: number;
  /**
   * `<host>:<port>` of each twin CDN, in the order of `pathways` (ADR 0076): where the pre-warm fetches.
   * @default `<pathway>.localhost`
   */
  readonly cdnHosts?: readonly string[];
  /** Percent of sessions that report (`reportSamplingRate`). @default TWIN_REPORT_SAMPLING_PERCENT (100) */
  readonly reportSamplingPercent?: number;
}

/**
 * Every twin session reports: its audience is tens of viewers, far below the size the platform's default
 * sampling is made for (docs/scale.md "Enough sessions per cell").
 */
export const TWIN_REPORT_SAMPLING_PERCENT = 100;

/** What the twin stands in for: the platform with its defaults, one pathway per twin CDN. */
const PLATFORM_DEFAULTS = (pathways: readonly string[]) =>
  parsePlatformConfig({ stackPrefix: 'twin', region: 'us-east-1', pathways: pathways.map((id) => ({ id })) });

export function twinFunctionEnvironments(twin: TwinEnvironmentInputs) {
  const platform = PLATFORM_DEFAULTS(twin.pathways);
  const catalog = { stackName: twin.stackName, assetsTableName: twin.assetsTable, eventBusName: 'default' };
  return {
    'submit-job': submitJobConfig.encode({
      ...catalog,
      originBucketName: twin.originBucket,
      mediaConvertRoleArn: 'arn:aws:iam::000000000000:role/twin-mediaconvert',
      ladder: twin.ladder,
      perTitle: platform.perTitleEncoding,
      surroundAudio: platform.surroundAudio,
      // The twin's event bus delivers once and does not retry a failed target (local/event-bus.ts).
      invocationAttempts: 1,
    }),
    'job-status': jobStatusConfig.encode(catalog),
    'playback-api': playbackApiConfig.encode({
      assetsTableName: twin.assetsTable,
      keyringSecretArn: twin.keyringSecret,
      gatewayDomain: twin.gatewayHost,
      // The twin has no TLS: signed URLs point at the plain-http gateway.
      gatewayOrigin: `http://${twin.gatewayHost}`,
      tokenLifetimeSeconds: twin.tokenLifetimeSeconds,
      reportSamplingPercent: twin.reportSamplingPercent ?? TWIN_REPORT_SAMPLING_PERCENT,
    }),
    takedown: takedownConfig.encode({ assetsTableName: twin.assetsTable, eventBusName: 'default' }),
    // The twin's distribution ids are its pathway ids; its CloudFront API stand-in invalidates them by id.
    'takedown-worker': takedownWorkerConfig.encode({
      assetsTableName: twin.assetsTable,
      originBucketName: twin.originBucket,
      distributionIds: twin.pathways,
      eventBusName: 'default',
    }),
    'cmcd-ingest': cmcdIngestConfig.encode({
      keyringSecretArn: twin.keyringSecret,
      originSecretArn: twin.ingestOriginSecret,
      streamName: twin.telemetryStream,
      rateLimitTableName: twin.rateLimitTable,
      reportSamplingPercent: twin.reportSamplingPercent ?? TWIN_REPORT_SAMPLING_PERCENT,
    }),
    'qoe-aggregator': qoeAggregatorConfig.encode({
      rollupsTableName: twin.rollupsTable,
      routingTableName: twin.routingTable,
      partialsStreamName: twin.partialsStream,
      rollupBuckets: ROLLUP_STAGES.buckets,
      // Title demand for the trending pre-warm, as synth sets it (ADR 0102).
      demandTopK: trendingPrewarmSettings(platform.prewarm)?.demandTopK ?? 0,
    }),
    'rollup-merger': rollupMergerConfig.encode({
      rollupsTableName: twin.rollupsTable,
      rollupTtlDays: platform.rollupRetentionDays,
    }),
    'routing-weights': routingWeightsConfig.encode({
      routingTableName: twin.routingTable,
      rollupsTableName: twin.rollupsTable,
      // One evaluation per invocation; the twin's own timer is the schedule.
      ticks: 1,
      tickSeconds: twin.routingTickSeconds,
      params: twin.scoringParams,
      // The twin's KeyValueStore, which the gateway's key function reads (ADR 0097).
      generationStoreArn: TWIN_KVS_ARN,
    }),
    // The twin's CDNs serve plain http (ADR 0076); the pre-warm's settings are the platform's defaults (ADR 0039).
    prewarm: prewarmConfig.encode({
      keyringSecretArn: twin.keyringSecret,
      pathwayIds: twin.pathways,
      pathwayOrigins: twin.pathways.map((id, i) => `http://${twin.cdnHosts?.[i] ?? `${id}.localhost`}`),
      ...prewarmFunctionSettings(platform.prewarm || DEFAULT_PREWARM),
      // The trending settings as synth sets them (ADR 0102); the twin runs no schedule for them.
      ...trendingPrewarmEnvironment(platform.prewarm, twin),
    }),
  } as const;
}

export type TwinFunctionName = keyof ReturnType<typeof twinFunctionEnvironments>;

function trendingPrewarmEnvironment(prewarm: Parameters<typeof trendingPrewarmSettings>[0], twin: TwinEnvironmentInputs) {
  const settings = trendingPrewarmSettings(prewarm);
  if (settings === undefined) return {};
  const { demandTopK: _aggregatorOnly, ...trending } = settings;
  return { ...trending, rollupsTableName: twin.rollupsTable, assetsTableName: twin.assetsTable };
}

