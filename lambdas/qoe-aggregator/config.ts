/** qoe-aggregator's configuration (lib/constructs/telemetry-pipeline.ts sets it; the twin encodes it in local/twin/function-environments.ts). */
import { type ConfigOf, defineFunctionConfig, envInteger, envIntegerWithDefault, envString } from '../shared/function-config';

export const qoeAggregatorConfig = defineFunctionConfig({
  /** Where the claims live (tables/rollups-table.ts). */
  rollupsTableName: envString('ROLLUPS_TABLE_NAME'),
  routingTableName: envString('ROUTING_TABLE_NAME'),
  /** The stream stage 2 (rollup-merger) reads (ADR 0057). */
  partialsStreamName: envString('ROLLUP_PARTIALS_STREAM_NAME'),
  /** Buckets cells are hashed into; one partials record per bucket and claim (ADR 0057). */
  rollupBuckets: envInteger('ROLLUP_BUCKETS', { min: 1, max: 1024 }),
  /**
   * Titles per minute whose distinct sessions a container writes for the trending pre-warm (ADR 0102);
   * 0 turns the demand signal off (`platform.prewarm.trending` false or `prewarm` false).
   */
  demandTopK: envIntegerWithDefault('DEMAND_TOP_K', 10, { min: 0, max: 100 }),
});
export type QoeAggregatorConfig = ConfigOf<typeof qoeAggregatorConfig>;
