/** prewarm's configuration (lib/constructs/cache-prewarm.ts sets it; the twin encodes it in local/twin/function-environments.ts). */
import { type ConfigOf, defineFunctionConfig, envInteger, envIntegerWithDefault, envList, envOptionalString, envString } from '../shared/function-config';

export const prewarmConfig = defineFunctionConfig({
  keyringSecretArn: envString('KEYRING_SECRET_ARN'),
  /** Every deployed pathway's id, in the order of `PATHWAY_ORIGINS`. */
  pathwayIds: envList('PATHWAY_IDS'),
  /**
   * `https://<distribution domain>` of each pathway in `PATHWAY_IDS` (`http://<host>:<port>` in the twin).
   * Checked when the handler is built: at synth the domains are CloudFormation references.
   */
  pathwayOrigins: envList('PATHWAY_ORIGINS'),
  /** Seconds of each chosen rendition warmed from its start (`platform.prewarm.minutes` × 60). */
  warmSeconds: envInteger('WARM_SECONDS', { min: 6, max: 1800 }),
  /** Highest rungs per device class (`platform.prewarm.topRungs`). */
  topRungs: envInteger('TOP_RUNGS', { min: 1, max: 10 }),
  /** Requests in flight at once, all pathways together (`platform.prewarm.concurrency`). */
  concurrency: envInteger('CONCURRENCY', { min: 1, max: 64 }),
  /**
   * Trending pre-warm (ADR 0102, `platform.prewarm.trending`): titles warmed per scheduled run at most; 0 turns
   * it off (the function then only warms on `Asset Ready`).
   */
  trendingTopK: envIntegerWithDefault('TRENDING_TOP_K', 0, { min: 0, max: 20 }),
  /** Distinct sessions a title needs in the last complete minute to be trending. */
  trendingMinSessions: envIntegerWithDefault('TRENDING_MIN_SESSIONS', 20, { min: 1, max: 100_000 }),
  /** The minute's sessions over the mean of the baseline minutes, in percent (200: demand doubled). */
  trendingRisePercent: envIntegerWithDefault('TRENDING_RISE_PERCENT', 200, { min: 100, max: 10_000 }),
  /** Minutes before the last complete one whose mean is the baseline. */
  trendingBaselineMinutes: envIntegerWithDefault('TRENDING_BASELINE_MINUTES', 5, { min: 1, max: 30 }),
  /** A title warmed for trending is not warmed again for trending within this many minutes. */
  trendingCooldownMinutes: envIntegerWithDefault('TRENDING_COOLDOWN_MINUTES', 30, { min: 1, max: 1440 }),
  /** Where the aggregator writes title demand (the QoE rollups table); required when trendingTopK > 0. */
  rollupsTableName: envOptionalString('ROLLUPS_TABLE_NAME'),
  /** The catalog, for the revision playback serves; required when trendingTopK > 0. */
  assetsTableName: envOptionalString('ASSETS_TABLE_NAME'),
});
export type PrewarmConfig = ConfigOf<typeof prewarmConfig>;
