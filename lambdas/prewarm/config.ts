/** prewarm's configuration (lib/constructs/cache-prewarm.ts sets it; the twin encodes it in local/twin/function-environments.ts). */
import { type ConfigOf, defineFunctionConfig, envInteger, envList, envString } from '../shared/function-config';

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
});
export type PrewarmConfig = ConfigOf<typeof prewarmConfig>;
