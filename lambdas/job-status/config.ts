/** job-status's configuration (lib/constructs/ingest-pipeline.ts sets it; the twin encodes it in local/twin/function-environments.ts). */
import { type ConfigOf, defineFunctionConfig, envString } from '../shared/function-config';

export const jobStatusConfig = defineFunctionConfig({
  stackName: envString('STACK_NAME'),
  assetsTableName: envString('ASSETS_TABLE_NAME'),
  eventBusName: envString('EVENT_BUS_NAME'),
});
export type JobStatusConfig = ConfigOf<typeof jobStatusConfig>;
