// The twin's ingest path with real local servers and the real handlers, for tests that upload a
// master and follow it to the catalog: s3rver's upload → the bus's S3 "Object Created" event →
// submit-job → the ffmpeg MediaConvert stand-in → job-status → catalog.
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { MediaConvertClient } from '@aws-sdk/client-mediaconvert';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { jobStateChangePattern, uploadCreatedPattern } from '../../core/event-patterns';
import { CATALOG_EVENT_SOURCE, mediaPrefixOf } from '../../core/identifiers';
import { TABLES } from '../../lib/topology';
import { createJobStatusHandler } from '../../lambdas/job-status/index';
import { createSubmitJobHandler, type SubmitOutcome } from '../../lambdas/submit-job/index';
import { startLocalAws, s3ClientConfig, TWIN_CREDENTIALS, type LocalAws } from '../../local/aws-servers';
import { LocalEventBus } from '../../local/event-bus';
import { startMediaConvertServer, type MediaConvertServer } from '../../local/mediaconvert/server';
import { CatalogTable } from '../../tables/catalog-table';

export interface TwinIngest {
  readonly aws: LocalAws;
  readonly bus: LocalEventBus;
  readonly mediaconvert: MediaConvertServer;
  readonly catalog: CatalogTable;
  /**
   * Uploads `body` as `key`, waits for submit-job and, when it submitted a job, for the encode and
   * job-status; returns what submit-job answered (`ignored` for a sidecar, `failed` for a bad name, …).
   */
  ingest(key: string, body: Uint8Array): Promise<SubmitOutcome>;
  /** An object the encode wrote under the revision's origin prefix. */
  readOrigin(assetId: string, revision: string, name: string): Promise<Buffer>;
  /** The detail-types of the catalog events (`Asset Ready`, `Asset Failed`, …) published so far for `assetId`, in order. */
  catalogEventsOf(assetId: string): string[];
  stop(): Promise<void>;
}

/** Starts the servers and wires the handlers; `name` keeps buckets, table and stack apart per test file. */
export async function startTwinIngest(name: string): Promise<TwinIngest> {
  const names = { stack: `${name}-stack`, uploads: `${name}-uploads`, origin: `${name}-origin`, assets: `${name}-assets` };
  const aws = await startLocalAws();
  await aws.createBuckets([names.uploads, names.origin]);
  await aws.createTables([{ tableName: names.assets, ...TABLES.assets }]);
  const bus = new LocalEventBus({ region: aws.region });
  const busEndpoint = await bus.listen();
  bus.attachS3rver(aws.s3rver);
  const mediaconvert = await startMediaConvertServer({ s3: aws.clients.s3, region: aws.region, onJobStateChange: (event) => void bus.publish(event) });

  const documents = DynamoDBDocumentClient.from(aws.clients.dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  const events = new EventBridgeClient({ endpoint: busEndpoint, region: aws.region, credentials: TWIN_CREDENTIALS });
  const mediaConvert = new MediaConvertClient({ endpoint: mediaconvert.endpoint, region: aws.region, credentials: TWIN_CREDENTIALS });
  const s3 = new S3Client(s3ClientConfig(aws.endpoints.s3, aws.region));
  const common = { stackName: names.stack, assetsTableName: names.assets, eventBusName: 'default' };
  const submitJob = createSubmitJobHandler({
    documents,
    mediaConvert,
    events,
    s3,
    config: {
      ...common,
      originBucketName: names.origin,
      mediaConvertRoleArn: 'arn:aws:iam::000000000000:role/twin-mediaconvert',
      ladder: 'compact',
      perTitle: false,
      surroundAudio: false,
      invocationAttempts: 1,
    },
  });
  const jobStatus = createJobStatusHandler({ documents, events, config: common });
  const submitted: SubmitOutcome[] = [];
  bus.addRule('SubmitJob', uploadCreatedPattern(names.uploads), async (event) => void submitted.push(await submitJob(event)));
  bus.addRule('JobStatus', jobStateChangePattern(names.stack), (event) => jobStatus(event));

  return {
    aws,
    bus,
    mediaconvert,
    catalog: new CatalogTable(documents, names.assets),
    async ingest(key, body) {
      const before = submitted.length;
      await aws.clients.s3.send(new PutObjectCommand({ Bucket: names.uploads, Key: key, Body: body }));
      await bus.idle();
      const outcome = submitted[before];
      if (!outcome) throw new Error(`submit-job did not run for ${key}`);
      if (outcome.outcome === 'submitted') {
        await mediaconvert.waitForJob(outcome.jobId);
        await bus.idle();
      }
      return outcome;
    },
    async readOrigin(assetId, revision, file) {
      const { Body } = await aws.clients.s3.send(new GetObjectCommand({ Bucket: names.origin, Key: `${mediaPrefixOf(assetId, revision)}${file}` }));
      return Buffer.from(await Body!.transformToByteArray());
    },
    catalogEventsOf(assetId) {
      return bus.history
        .filter((event) => event.source === CATALOG_EVENT_SOURCE && (event.detail as { assetId?: unknown } | undefined)?.assetId === assetId)
        .map((event) => event['detail-type']);
    },
    async stop() {
      await mediaconvert.stop();
      await bus.close();
      for (const client of [events, mediaConvert, s3]) client.destroy();
      await aws.stop();
    },
  };
}
