/** takedown's configuration (lib/constructs/playback-api.ts sets it; the twin encodes it in local/twin/function-environments.ts). */
import { type ConfigOf, defineFunctionConfig, envString } from '../shared/function-config';

export const takedownConfig = defineFunctionConfig({
  assetsTableName: envString('ASSETS_TABLE_NAME'),
  /** The catalog bus: `Asset Takedown Requested` goes there, for the takedown worker's rule. */
  eventBusName: envString('EVENT_BUS_NAME'),
});
export type TakedownConfig = ConfigOf<typeof takedownConfig>;
