/** takedown-worker's configuration (lib/constructs/playback-api.ts sets it; the twin encodes it in local/twin/function-environments.ts). */
import { type ConfigOf, defineFunctionConfig, envList, envString } from '../shared/function-config';

export const takedownWorkerConfig = defineFunctionConfig({
  assetsTableName: envString('ASSETS_TABLE_NAME'),
  originBucketName: envString('ORIGIN_BUCKET_NAME'),
  /** Every delivery distribution, so a takedown invalidates each pathway's cache. */
  distributionIds: envList('DISTRIBUTION_IDS'),
  /** The catalog bus: `Asset Removed` goes there. */
  eventBusName: envString('EVENT_BUS_NAME'),
});
export type TakedownWorkerConfig = ConfigOf<typeof takedownWorkerConfig>;
