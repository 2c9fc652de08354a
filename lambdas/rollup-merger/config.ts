/** rollup-merger's configuration (lib/constructs/telemetry-pipeline.ts sets it; the twin encodes it in local/twin/function-environments.ts). */
import { type ConfigOf, defineFunctionConfig, envInteger, envString } from '../shared/function-config';

export const rollupMergerConfig = defineFunctionConfig({
  rollupsTableName: envString('ROLLUPS_TABLE_NAME'),
  /** Days a rollup item lives (DynamoDB TTL); the platform's `rollupRetentionDays`. */
  rollupTtlDays: envInteger('ROLLUP_TTL_DAYS', { min: 1, max: 400 }),
});
export type RollupMergerConfig = ConfigOf<typeof rollupMergerConfig>;
