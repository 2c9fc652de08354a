/** submit-job's configuration (lib/constructs/ingest-pipeline.ts sets it; the twin encodes it in local/twin/function-environments.ts). */
import { LADDERS, type LadderName } from '../../core/ladder';
import { type ConfigOf, defineFunctionConfig, envBoolean, envEnum, envInteger, envString } from '../shared/function-config';

/**
 * The MediaConvert queue jobs go to: the account's `Default` queue, which CreateJob uses when the
 * request names none. The construct scopes the CreateJob grant to it; a retry lists it (ADR 0024).
 */
export const MEDIACONVERT_QUEUE_NAME = 'Default';

export const submitJobConfig = defineFunctionConfig({
  /** Source of the MediaConvert job state changes this stack's job-status rule matches. */
  stackName: envString('STACK_NAME'),
  assetsTableName: envString('ASSETS_TABLE_NAME'),
  eventBusName: envString('EVENT_BUS_NAME'),
  originBucketName: envString('ORIGIN_BUCKET_NAME'),
  mediaConvertRoleArn: envString('MEDIACONVERT_ROLE_ARN'),
  ladder: envEnum('LADDER', Object.keys(LADDERS) as LadderName[]),
  perTitle: envBoolean('PER_TITLE'),
  /** Platform config `surroundAudio`: an E-AC-3 5.1 rendition of each 5.1 track (ADR 0017). */
  surroundAudio: envBoolean('SURROUND_AUDIO'),
  /**
   * How many times one upload event runs the function: the first invocation plus the asynchronous
   * retries the construct configures (Lambda allows 0–2). The last one fails a revision a transient
   * error would otherwise leave RECEIVED (ADR 0025).
   */
  invocationAttempts: envInteger('INVOCATION_ATTEMPTS', { min: 1, max: 3 }),
});
export type SubmitJobConfig = ConfigOf<typeof submitJobConfig>;
