/** playback-api's configuration (lib/constructs/playback-api.ts sets it; the twin encodes it in local/twin/function-environments.ts). */
import { type ConfigOf, defineFunctionConfig, envInteger, envIntegerWithDefault, envOptionalString, envString } from '../shared/function-config';
import { MAX_REPORT_SAMPLING_PERCENT, MIN_REPORT_SAMPLING_PERCENT } from '../../core/report-sampling';

export const playbackApiConfig = defineFunctionConfig({
  assetsTableName: envString('ASSETS_TABLE_NAME'),
  keyringSecretArn: envString('KEYRING_SECRET_ARN'),
  /** Host name of the gateway distribution the signed URLs point at. */
  gatewayDomain: envString('GATEWAY_DOMAIN'),
  /**
   * Scheme and host of the signed URLs when they are not `https://<gatewayDomain>`: only the local twin,
   * which serves plain http (docs/local-twin.md).
   */
  gatewayOrigin: envOptionalString('GATEWAY_ORIGIN'),
  /** The platform's `tokenLifetimeSeconds`. */
  tokenLifetimeSeconds: envInteger('TOKEN_LIFETIME_SECONDS', { min: 60, max: 7 * 24 * 3600 }),
  /** The platform's `reportSamplingRate`: percent of sessions that get a `reportUrl` (ADR 0058). */
  reportSamplingPercent: envIntegerWithDefault('REPORT_SAMPLING_PERCENT', MAX_REPORT_SAMPLING_PERCENT, {
    min: MIN_REPORT_SAMPLING_PERCENT,
    max: MAX_REPORT_SAMPLING_PERCENT,
  }),
});
export type PlaybackApiConfig = ConfigOf<typeof playbackApiConfig>;
