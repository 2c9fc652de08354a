import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { MediaConvertClient } from '@aws-sdk/client-mediaconvert';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ASSET_FAILED, ASSET_READY, CATALOG_EVENT_SOURCE } from '../../core/identifiers';
import { jobStateChangePattern, uploadCreatedPattern } from '../../core/event-patterns';
import { TABLES } from '../../lib/topology';
import { createJobStatusHandler } from '../../lambdas/job-status/index';
import { createSubmitJobHandler, type SubmitOutcome } from '../../lambdas/submit-job/index';
import { startLocalAws, s3ClientConfig, TWIN_CREDENTIALS, type LocalAws } from '../../local/aws-servers';
import { LocalEventBus, type BusEvent } from '../../local/event-bus';
import { startMediaConvertServer, type MediaConvertServer } from '../../local/mediaconvert/server';
import { CatalogTable } from '../../tables/catalog-table';
import { makeTestMaster } from './twin-media-fixtures';

const STACK = 'names-stack';
const UPLOADS = 'names-uploads';
const ORIGIN = 'names-origin';
const ASSETS = 'names-assets';

/**
 * The ingest path of the twin with real servers and the real handlers: s3rver's upload → the bus's
 * S3 "Object Created" event (key URL-encoded as S3 writes it) → submit-job → the ffmpeg MediaConvert
 * stand-in → job-status → catalog. Names that S3 encodes must reach the asset id a content team
 * expects and play.
 */
describe('twin ingest of file names S3 encodes', () => {
  let aws: LocalAws;
  let bus: LocalEventBus;
  let mediaconvert: MediaConvertServer;
  let catalog: CatalogTable;
  const clients: { destroy(): void }[] = [];
  const submitted: SubmitOutcome[] = [];
  const workDir = mkdtempSync(join(tmpdir(), 'twin-names-'));

  beforeAll(async () => {
    aws = await startLocalAws();
    await aws.createBuckets([UPLOADS, ORIGIN]);
    await aws.createTables([{ tableName: ASSETS, ...TABLES.assets }]);
    bus = new LocalEventBus({ region: aws.region });
    const busEndpoint = await bus.listen();
    bus.attachS3rver(aws.s3rver);
    mediaconvert = await startMediaConvertServer({ s3: aws.clients.s3, region: aws.region, onJobStateChange: (event) => void bus.publish(event) });

    const documents = DynamoDBDocumentClient.from(aws.clients.dynamodb, { marshallOptions: { removeUndefinedValues: true } });
    const events = new EventBridgeClient({ endpoint: busEndpoint, region: aws.region, credentials: TWIN_CREDENTIALS });
    const mediaConvert = new MediaConvertClient({ endpoint: mediaconvert.endpoint, region: aws.region, credentials: TWIN_CREDENTIALS });
    const s3 = new S3Client(s3ClientConfig(aws.endpoints.s3, aws.region));
    clients.push(events, mediaConvert, s3);
    const common = { stackName: STACK, assetsTableName: ASSETS, eventBusName: 'default' };
    const submitJob = createSubmitJobHandler({
      documents,
      mediaConvert,
      events,
      s3,
      config: {
        ...common,
        originBucketName: ORIGIN,
        mediaConvertRoleArn: 'arn:aws:iam::000000000000:role/twin-mediaconvert',
        ladder: 'compact',
        perTitle: false,
        surroundAudio: false,
        invocationAttempts: 1,
      },
    });
    const jobStatus = createJobStatusHandler({ documents, events, config: common });
    bus.addRule('SubmitJob', uploadCreatedPattern(UPLOADS), async (event) => void submitted.push(await submitJob(event)));
    bus.addRule('JobStatus', jobStateChangePattern(STACK), (event) => jobStatus(event));
    catalog = new CatalogTable(documents, ASSETS);

    makeTestMaster(join(workDir, 'master.mp4'));
  });

  afterAll(async () => {
    await mediaconvert?.stop();
    await bus?.close();
    for (const client of clients) client.destroy();
    await aws?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  /** Catalog events (`Asset Ready`/`Asset Failed`) the handlers put on the bus so far. */
  const catalogEvents = () =>
    bus.history.filter((event): event is BusEvent<Record<string, unknown>> => event.source === CATALOG_EVENT_SOURCE);

  it.each([
    ['uploads/My Movie (Final) + été.mov', 'my-movie-final-ete'],
    ['uploads/Season 2/C++ 100% [Director’s Cut].mp4', 'season-2-c-100-directors-cut'],
  ])('encodes %j into asset %j and makes it READY', async (key, assetId) => {
    // Act
    await aws.clients.s3.send(new PutObjectCommand({ Bucket: UPLOADS, Key: key, Body: readFileSync(join(workDir, 'master.mp4')) }));
    await bus.idle();
    const outcome = submitted.at(-1);
    expect(outcome).toMatchObject({ outcome: 'submitted', assetId });
    await mediaconvert.waitForJob((outcome as { jobId: string }).jobId);
    await bus.idle();
    // Assess
    const entry = await catalog.getAsset(assetId);
    expect(entry?.head).toMatchObject({ status: 'READY' });
    expect(entry?.revisions).toEqual([expect.objectContaining({ status: 'READY', sourceKey: key })]);
    expect(catalogEvents().filter((event) => event.detail.assetId === assetId).map((event) => event['detail-type'])).toEqual([ASSET_READY]);
  });

  it('fails a name with a line break with a reason and an Asset Failed event, and submits nothing', async () => {
    // Act
    await aws.clients.s3.send(new PutObjectCommand({ Bucket: UPLOADS, Key: 'uploads/Two\nLines.mov', Body: readFileSync(join(workDir, 'master.mp4')) }));
    await bus.idle();
    // Assess
    expect(submitted.at(-1)).toMatchObject({ outcome: 'failed', assetId: 'two-lines', reason: expect.stringContaining('U+000A') });
    const entry = await catalog.getAsset('two-lines');
    expect(entry?.revisions).toEqual([expect.objectContaining({ status: 'FAILED', errorCode: 'INVALID_NAME' })]);
    expect(catalogEvents().filter((event) => event.detail.assetId === 'two-lines').map((event) => event['detail-type'])).toEqual([ASSET_FAILED]);
  });
});
