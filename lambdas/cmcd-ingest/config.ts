/** cmcd-ingest's configuration (lib/constructs/telemetry-pipeline.ts sets it; the twin encodes it in local/twin/function-environments.ts). */
import { type ConfigOf, defineFunctionConfig, envIntegerWithDefault, envString } from '../shared/function-config';
import { MAX_REPORT_SAMPLING_PERCENT, MIN_REPORT_SAMPLING_PERCENT } from '../../core/report-sampling';

export const cmcdIngestConfig = defineFunctionConfig({
  keyringSecretArn: envString('KEYRING_SECRET_ARN'),
  /** The value the gateway puts in the origin-verify header (ADR 0055). */
  originSecretArn: envString('ORIGIN_VERIFY_SECRET_ARN'),
  streamName: envString('TELEMETRY_STREAM_NAME'),
  rateLimitTableName: envString('RATE_LIMIT_TABLE_NAME'),
  /** CMCD lines one session may post per UTC minute (ADR 0052): about 10 lines/s of a chatty player. */
  linesPerSessionMinute: envIntegerWithDefault('RATE_LIMIT_LINES_PER_MINUTE', 600, { min: 1 }),
  /** The platform's `reportSamplingRate` (ADR 0058); must equal playback-api's, both come from one key. */
  reportSamplingPercent: envIntegerWithDefault('REPORT_SAMPLING_PERCENT', MAX_REPORT_SAMPLING_PERCENT, {
    min: MIN_REPORT_SAMPLING_PERCENT,
    max: MAX_REPORT_SAMPLING_PERCENT,
  }),
});
export type CmcdIngestConfig = ConfigOf<typeof cmcdIngestConfig>;
