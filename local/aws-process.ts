/**
 * The twin's DynamoDB and Kinesis stand-ins (dynalite, kinesalite, metered) in a process of their own (ADR 0100):
 * forked by local/aws-servers.ts when `dataStandIns: 'own-process'`. They get an event loop, and so a core, apart
 * from the functions and distributions that call them, as the managed services are apart from Lambda and
 * CloudFront; the handlers still reach them only over HTTP through `AWS_ENDPOINT_URL_<SERVICE>`.
 */
import { DATA_STAND_INS_ENV, startDataStandIns } from './aws-servers';
import { serveHelperProcess } from './twin/helper-process';

await serveHelperProcess(DATA_STAND_INS_ENV, async (ports: { dynamodb?: number; kinesis?: number }) => {
  const standIns = await startDataStandIns(ports);
  return { ready: { dynamodb: standIns.dynamodb, kinesis: standIns.kinesis }, usage: () => standIns.usage(), stop: () => standIns.stop() };
});
