import { z } from 'zod';
import { PATHWAY_ID_PATTERN, PATHWAY_ID_RULE } from './identifiers';
import { EDGE_STACK_SUFFIX } from './physical-names';
import { DEFAULT_ORIGIN_SHIELD_MODE, ORIGIN_SHIELD_MODES, type OriginShieldPlacement, recommendedOriginShieldRegion } from './origin-shield';
import { MAX_PROVISIONED_SHARDS, MAX_REPORT_SAMPLING_PERCENT, MIN_REPORT_SAMPLING_PERCENT, shardsFor } from './return-path-sizing';

/**
 * The one typed configuration of the platform (README "Configuration" lists every key). `bin/` builds it from the `platform`
 * object of `cdk.json` context; nothing else reads context or environment.
 */

/** AWS region names, e.g. eu-west-1, us-gov-west-1, ap-southeast-5. */
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const HOST = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** Pre-warm settings when the config says nothing (ADR 0039): two minutes of each device class's top rung. */
/** Trending pre-warm defaults (ADR 0102): up to 3 titles a minute, each at most once per 30 minutes. */
export const DEFAULT_TRENDING_PREWARM = { topK: 3, minSessions: 20, risePercent: 200, cooldownMinutes: 30 } as const;
export const DEFAULT_PREWARM = { minutes: 2, topRungs: 1, concurrency: 8, trending: DEFAULT_TRENDING_PREWARM } as const;

/** Lambda event source mappings take a MaximumBatchingWindowInSeconds of 0–300 (Lambda API reference, EventSourceMapping). */
export const MAX_BATCHING_WINDOW_SECONDS = 300;
/** The rollup merger's batching window when the config says nothing (ADR 0057's amendment: reaction first). */
export const DEFAULT_ROLLUP_MERGE_WINDOW_SECONDS = 30;

/** The two viewer-request token checks a pathway can run (ADR 0033). */
export const TOKEN_CHECKS = ['cloudfront-function', 'lambda-edge'] as const;
export type TokenCheck = (typeof TOKEN_CHECKS)[number];
/** ADR 0034: Lambda@Edge until switching an existing deployment seeds the KeyValueStore by itself. */
export const DEFAULT_TOKEN_CHECK: TokenCheck = 'lambda-edge';

const deployedPathway = z
  .object({
    id: z.string().regex(PATHWAY_ID_PATTERN, PATHWAY_ID_RULE),
    /** Maximum share of new sessions (capacity cap). */
    cap: z.number().gt(0).lte(1).default(1),
    enabled: z.boolean().default(true),
    /** CloudFront price class of this pathway's distribution. */
    priceClass: z.enum(['PriceClass_100', 'PriceClass_200', 'PriceClass_All']).default('PriceClass_All'),
    /**
     * Which edge code checks this pathway's playback tokens (docs/token.md "Two edge checks", ADR 0033/0034):
     * a CloudFront Function reading the keyring from CloudFront KeyValueStore, or the Lambda@Edge
     * `viewer-auth` reading it from Secrets Manager.
     */
    tokenCheck: z.enum(TOKEN_CHECKS, { message: `must be one of ${TOKEN_CHECKS.map((c) => `"${c}"`).join(', ')}` }).default(DEFAULT_TOKEN_CHECK),
  })
  .strict();

const externalPathway = z
  .object({
    id: z.string().regex(PATHWAY_ID_PATTERN, PATHWAY_ID_RULE),
    host: z.string().regex(HOST, 'must be a DNS host name without scheme or path'),
    cap: z.number().gt(0).lte(1).default(1),
    enabled: z.boolean().default(true),
  })
  .strict();

const platformConfigSchema = z
  .object({
    /** Prefix of stack names and of every other account-wide physical name (core/physical-names.ts, ADR 0009). */
    stackPrefix: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,40}$/, 'must be letters, digits and "-", starting with a letter')
      .refine((prefix) => !prefix.endsWith(EDGE_STACK_SUFFIX), `must not end in "${EDGE_STACK_SUFFIX}": <prefix>${EDGE_STACK_SUFFIX} names the edge stack of the copy called <prefix>`),
    /** The region of the regional resources. Explicit: Lambda@Edge needs a literal stack region. */
    region: z.string().regex(REGION, 'must be an AWS region name such as eu-west-1'),
    /** Optional account id; when absent the stacks are account-agnostic. */
    account: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id').optional(),
    ladder: z.enum(['standard', 'compact']).default('standard'),
    /** MediaConvert Automated ABR (per-title) instead of the fixed ladder's bitrates. */
    perTitleEncoding: z.boolean().default(false),
    /**
     * Also encode every 5.1 audio track as an E-AC-3 5.1 rendition (its own HLS audio group), next to
     * the stereo AAC downmix every player gets (ADR 0017).
     */
    surroundAudio: z.boolean().default(false),
    pathways: z.array(deployedPathway).min(1, 'needs at least one CloudFront pathway').max(10),
    /** CDNs not deployed by CDK that honour the same token scheme. */
    externalPathways: z.array(externalPathway).default([]),
    tokenLifetimeSeconds: z.number().int().min(60).max(7 * 24 * 3600).default(6 * 3600),
    steeringTtlSeconds: z.number().int().min(5).max(3600).default(10),
    /**
     * CloudFront real-time log sampling rate, percent of requests (the service accepts 1..100). 4 % keeps the
     * log at about 70 records per viewer-hour while a session still shows up in most minutes' logs
     * (docs/scale.md, ADR 0059).
     */
    telemetrySamplingRate: z.number().int().min(1).max(100).default(4),
    /**
     * Percent of playback sessions that send player reports, decided per session at creation
     * (core/report-sampling.ts, ADR 0058). The default keeps a 100-viewer country above the controller's
     * quorum (docs/scale.md "Enough sessions per cell").
     */
    reportSamplingRate: z.number().int().min(MIN_REPORT_SAMPLING_PERCENT).max(MAX_REPORT_SAMPLING_PERCENT).default(25),
    /**
     * The telemetry stream's capacity (ADR 0059): `on-demand` follows the audience but starts near 4,000
     * records/s; `provisioned` takes `shards` (1,000 records/s and 1 MB/s each), sized by docs/scale.md.
     */
    telemetryStream: z
      .discriminatedUnion('mode', [
        z.object({ mode: z.literal('on-demand') }).strict(),
        z.object({ mode: z.literal('provisioned'), shards: z.number().int().min(1).max(MAX_PROVISIONED_SHARDS) }).strict(),
      ])
      .default({ mode: 'on-demand' }),
    /** Concurrent viewers the platform is sized for at its peak; the report API's throttle follows from it (docs/scale.md). */
    peakConcurrentViewers: z.number().int().min(1).max(100_000_000).default(100_000),
    /**
     * Regions besides us-east-1 that get a keyring replica, close to the regional edge caches, so a cold
     * Lambda@Edge never reads the keyring across an ocean (a far read was seen to take 1.7–4 s).
     */
    keyringReplicaRegions: z
      .array(z.string().regex(REGION, 'must be an AWS region name such as eu-west-1'))
      .default(['us-west-2', 'eu-central-1', 'ap-northeast-1', 'ap-southeast-1', 'ap-south-1', 'sa-east-1']),
    /**
     * CloudFront Origin Shield in front of the origin bucket (ADR 0038, 0098). `mode`: "per-pathway" puts it on
     * every pathway's S3 origin (a segment leaves S3 once per pathway); "shared" puts one inner distribution with
     * Origin Shield in front of S3 and makes it every pathway's origin (once in all; each pathway miss costs a
     * second CloudFront request); "off" has none. `region` unset: the Region the CloudFront guide recommends
     * for `region` (core/origin-shield.ts); a `region` the guide has no recommendation for must set it.
     */
    originShield: z
      .object({
        mode: z.enum(ORIGIN_SHIELD_MODES).default(DEFAULT_ORIGIN_SHIELD_MODE),
        region: z.string().regex(REGION, 'must be an AWS region name such as eu-west-1').optional(),
      })
      .strict()
      .default({ mode: DEFAULT_ORIGIN_SHIELD_MODE }),
    /**
     * Cache pre-warming on `Asset Ready` (ADR 0039): the first `minutes` of the `topRungs` highest video rungs each
     * device class plays (and their audio), fetched through every deployed pathway with at most `concurrency`
     * requests in flight. `false` turns it off. `trending` (ADR 0102) also warms, once a minute, the `topK` titles
     * whose distinct sessions in the last complete minute reached `minSessions` and `risePercent` % of their mean
     * over the five minutes before, each at most once per `cooldownMinutes`; `false` turns that part off.
     */
    prewarm: z
      .union([
        z.literal(false),
        z
          .object({
            minutes: z.number().min(0.1).max(30).default(DEFAULT_PREWARM.minutes),
            topRungs: z.number().int().min(1).max(10).default(DEFAULT_PREWARM.topRungs),
            concurrency: z.number().int().min(1).max(64).default(DEFAULT_PREWARM.concurrency),
            trending: z
              .union([
                z.literal(false),
                z
                  .object({
                    topK: z.number().int().min(1).max(20).default(DEFAULT_TRENDING_PREWARM.topK),
                    minSessions: z.number().int().min(1).max(100_000).default(DEFAULT_TRENDING_PREWARM.minSessions),
                    risePercent: z.number().int().min(100).max(10_000).default(DEFAULT_TRENDING_PREWARM.risePercent),
                    cooldownMinutes: z.number().int().min(1).max(1440).default(DEFAULT_TRENDING_PREWARM.cooldownMinutes),
                  })
                  .strict(),
              ])
              .default(DEFAULT_TRENDING_PREWARM),
          })
          .strict(),
      ])
      .default(DEFAULT_PREWARM),
    /** What happens to buckets and tables when the stack is deleted. */
    removalPolicy: z.enum(['retain', 'destroy']).default('retain'),
    /** Days QoE rollups are kept before DynamoDB TTL removes them. */
    rollupRetentionDays: z.number().int().min(1).max(400).default(14),
    /**
     * Batching window of the rollup merger's event source mapping (stage 2 of the rollup writes, ADR 0057), whole
     * seconds within what Lambda's MaximumBatchingWindowInSeconds takes. It trades routing reaction for rollup write
     * units (docs/scale.md "Rollup writes"): 30 keeps a one-country outage under issue 9's 60 s; 120 holds a
     * 200-country × 10-pathway × 64-shard premiere under 2 writes per cell and minute.
     */
    rollupMergeWindowSeconds: z.number().int().min(0).max(MAX_BATCHING_WINDOW_SECONDS).default(DEFAULT_ROLLUP_MERGE_WINDOW_SECONDS),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    const all = [...cfg.pathways.map((p) => ['pathways', p.id] as const), ...cfg.externalPathways.map((p) => ['externalPathways', p.id] as const)];
    all.forEach(([list, id]) => {
      if (seen.has(id)) ctx.addIssue({ code: 'custom', path: [list], message: `pathway id "${id}" is used twice` });
      seen.add(id);
    });
    // A bad `region` has its own problem; only a valid one can lack a recommendation.
    if (cfg.originShield.mode !== 'off' && cfg.originShield.region === undefined && REGION.test(cfg.region) && recommendedOriginShieldRegion(cfg.region) === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['originShield', 'region'],
        message: `the CloudFront guide recommends no Origin Shield Region for region "${cfg.region}": set the Region nearest to it, or mode "off" (docs/adr/0038-origin-shield-on-every-pathway.md)`,
      });
    }
    if (cfg.telemetryStream.mode === 'provisioned') {
      const needed = shardsFor(cfg.peakConcurrentViewers, cfg);
      if (cfg.telemetryStream.shards < needed) {
        ctx.addIssue({
          code: 'custom',
          path: ['telemetryStream', 'shards'],
          message: `${needed} shards are needed for peakConcurrentViewers ${cfg.peakConcurrentViewers} at telemetrySamplingRate ${cfg.telemetrySamplingRate} and reportSamplingRate ${cfg.reportSamplingRate} (docs/scale.md)`,
        });
      }
    }
  });

export type PlatformConfig = z.output<typeof platformConfigSchema>;

export type PrewarmSettings = Exclude<PlatformConfig['prewarm'], false>;

/** The pre-warm function's settings from the config's (lambdas/prewarm/config.ts). */
export function prewarmFunctionSettings(prewarm: PrewarmSettings): { warmSeconds: number; topRungs: number; concurrency: number } {
  return { warmSeconds: Math.round(prewarm.minutes * 60), topRungs: prewarm.topRungs, concurrency: prewarm.concurrency };
}

/**
 * The trending pre-warm's function settings (lambdas/prewarm/config.ts) and the aggregator's demand signal
 * (`demandTopK`, lambdas/qoe-aggregator/config.ts), ADR 0102: `undefined` when either pre-warm or its trending
 * part is off, and then the aggregator writes no demand (0). The aggregator writes 10 titles a minute, more than
 * the pre-warm takes, so a title just below the top few still has its baseline.
 */
export function trendingPrewarmSettings(prewarm: PlatformConfig['prewarm']):
  | { trendingTopK: number; trendingMinSessions: number; trendingRisePercent: number; trendingCooldownMinutes: number; demandTopK: number }
  | undefined {
  if (prewarm === false || prewarm.trending === false) return undefined;
  const t = prewarm.trending;
  return { trendingTopK: t.topK, trendingMinSessions: t.minSessions, trendingRisePercent: t.risePercent, trendingCooldownMinutes: t.cooldownMinutes, demandTopK: Math.max(10, t.topK) };
}

/** Where the delivery pathways' Origin Shield sits (ADR 0038, 0098): its mode and Region, or undefined for none. */
export function originShieldOf(config: Pick<PlatformConfig, 'region' | 'originShield'>): OriginShieldPlacement | undefined {
  if (config.originShield.mode === 'off') return undefined;
  const region = config.originShield.region ?? recommendedOriginShieldRegion(config.region);
  return region === undefined ? undefined : { mode: config.originShield.mode, region };
}
export type PlatformConfigInput = z.input<typeof platformConfigSchema>;
export type LadderChoice = PlatformConfig['ladder'];

export class InvalidConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid platform configuration (cdk.json context "platform"):\n  - ${problems.join('\n  - ')}`);
    this.name = 'InvalidConfigError';
  }
}

/**
 * Validates raw context into a PlatformConfig. Every problem names the key and shows the bad value,
 * e.g. `platform.pathways[1].id = "CF B": must be lower-case letters…`.
 */
export function parsePlatformConfig(raw: unknown): PlatformConfig {
  if (raw === undefined || raw === null) {
    throw new InvalidConfigError(['platform: missing; add a "platform" object to the context in cdk.json']);
  }
  const result = platformConfigSchema.safeParse(raw);
  if (result.success) return result.data;
  throw new InvalidConfigError(result.error.issues.map((issue) => describeIssue(raw, issue.path, issue.message)));
}

function describeIssue(raw: unknown, path: readonly PropertyKey[], message: string): string {
  const key = ['platform', ...path].reduce<string>(
    (acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc === '' ? String(part) : `${acc}.${String(part)}`),
    '',
  );
  const value = valueAt(raw, path);
  return value === undefined ? `${key}: ${message}` : `${key} = ${JSON.stringify(value)}: ${message}`;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let node: unknown = raw;
  for (const part of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[part];
  }
  return node;
}
