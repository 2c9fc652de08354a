/** submit-job's configuration (lib/constructs/ingest-pipeline.ts sets it; the twin encodes it in local/twin/function-environments.ts). */
import { LADDERS, type LadderName } from '../../core/ladder';
import { type ConfigOf, defineFunctionConfig, envBoolean, envEnum, envString } from '../shared/function-config';

export const submitJobConfig = defineFunctionConfig({
  /** Source of the MediaConvert job state changes this stack's job-status rule matches. */
  stackName: envString('STACK_NAME'),
  assetsTableName: envString('ASSETS_TABLE_NAME'),
  eventBusName: envString('EVENT_BUS_NAME'),
  originBucketName: envString('ORIGIN_BUCKET_NAME'),
  mediaConvertRoleArn: envString('MEDIACONVERT_ROLE_ARN'),
  ladder: envEnum('LADDER', Object.keys(LADDERS) as LadderName[]),
  perTitle: envBoolean('PER_TITLE'),
});
export type SubmitJobConfig = ConfigOf<typeof submitJobConfig>;
