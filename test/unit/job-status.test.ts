import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createJobStatusHandler } from '../../lambdas/job-status/index';
import { InMemoryAssetsTable } from '../support/memory-table';
import { publishedEvents } from '../support/published-events';

const config = { assetsTableName: 'Assets', eventBusName: 'catalog-bus', stackName: 'streaming-eu' };
const R1 = '20240514-092107-0066432b73a1c2d9e4000000';
const R2 = '20240515-080000-00664471a0b0c0d0e1000000';
const JOB_1 = '1715678469123-abc123';
const JOB_2 = '1715760000456-def456';

/**
 * A "MediaConvert Job State Change" event as EventBridge delivers it (MediaConvert user guide,
 * "List of MediaConvert EventBridge events"; COMPLETE shape from the "CMAF group" example).
 */
function jobEvent(status: string, detail: Record<string, unknown> = {}, options: { jobId?: string; revision?: string; stack?: string } = {}) {
  const jobId = options.jobId ?? JOB_1;
  return {
    version: '0',
    id: `evt-${status}-${Math.random().toString(16).slice(2)}`,
    'detail-type': 'MediaConvert Job State Change',
    source: 'aws.mediaconvert',
    account: '111122223333',
    time: '2024-05-14T09:31:40Z',
    region: 'eu-west-1',
    resources: [`arn:aws:mediaconvert:eu-west-1:111122223333:jobs/${jobId}`],
    detail: {
      timestamp: 1715679100391,
      accountId: '111122223333',
      queue: 'arn:aws:mediaconvert:eu-west-1:111122223333:queues/Default',
      jobId,
      status,
      userMetadata: { stack: options.stack ?? 'streaming-eu', assetId: 'big-buck', revision: options.revision ?? R1 },
      ...detail,
    },
  };
}

const complete = (revision = R1, jobId = JOB_1) =>
  jobEvent(
    'COMPLETE',
    {
      paddingInserted: 0,
      blackVideoDetected: 0,
      warnings: [{ code: 230001, count: 1 }],
      outputGroupDetails: [
        {
          outputDetails: [
            {
              outputFilePaths: [`s3://acme-origin/media/big-buck/${revision}/main_1080p.mp4`],
              durationInMs: 596480,
              videoDetails: { widthInPx: 1920, heightInPx: 1080, averageBitrate: 5210000, qvbrAvgQuality: 8.61, qvbrMinQuality: 7, qvbrMaxQuality: 9 },
            },
            {
              outputFilePaths: [`s3://acme-origin/media/big-buck/${revision}/main_720p.mp4`],
              durationInMs: 596480,
              videoDetails: { widthInPx: 1280, heightInPx: 720, averageBitrate: 2890000 },
            },
            { outputFilePaths: [`s3://acme-origin/media/big-buck/${revision}/main_aac-stereo-128k.mp4`], durationInMs: 596501 },
          ],
          playlistFilePaths: [`s3://acme-origin/media/big-buck/${revision}/main.m3u8`, `s3://acme-origin/media/big-buck/${revision}/main.mpd`],
          type: 'CMAF_GROUP',
        },
        {
          outputDetails: [
            {
              outputFilePaths: [`s3://acme-origin/media/big-buck/${revision}/thumbs/frame_poster.0000000.jpg`],
              durationInMs: 596480,
              videoDetails: { widthInPx: 1280, heightInPx: 720 },
            },
          ],
          type: 'FILE_GROUP',
        },
      ],
    },
    { revision, jobId },
  );

const dynamo = mockClient(DynamoDBDocumentClient);
const eventBridge = mockClient(EventBridgeClient);
let table: InMemoryAssetsTable;

function handler() {
  return createJobStatusHandler({
    documents: DynamoDBDocumentClient.from(new DynamoDBClient({})),
    events: new EventBridgeClient({}),
    config,
    now: () => new Date('2024-05-14T09:31:41.000Z'),
  });
}

/** The catalog as submit-job leaves it: revision SUBMITTED with its job, head pointing at it. */
function seedSubmitted(revision: string, jobId: string, uploadedAt: string, head: Record<string, unknown> = {}) {
  table.items.set(`big-buck|rev#${revision}`, {
    assetId: 'big-buck',
    sk: `rev#${revision}`,
    revision,
    status: 'SUBMITTED',
    jobId,
    sourceBucket: 'acme-uploads',
    sourceKey: 'uploads/Big Buck.mov',
    sourceSize: 734003200,
    uploadedAt,
    createdAt: uploadedAt,
    updatedAt: uploadedAt,
  });
  table.items.set('big-buck|asset', {
    assetId: 'big-buck',
    sk: 'asset',
    latestRevision: revision,
    status: 'SUBMITTED',
    createdAt: uploadedAt,
    updatedAt: uploadedAt,
    version: 2,
    ...head,
  });
}

beforeEach(() => {
  dynamo.reset();
  eventBridge.reset();
  table = new InMemoryAssetsTable();
  table.attach(dynamo);
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
  seedSubmitted(R1, JOB_1, '2024-05-14T09:21:07.000Z');
});

describe('job-status', () => {
  it('records PROGRESSING and moves the head along', async () => {
    // Act
    const outcome = await handler()(jobEvent('PROGRESSING', { currentPhase: 'PROBING' }));
    // Assess
    expect(outcome).toEqual({ outcome: 'applied', assetId: 'big-buck', revision: R1, status: 'PROGRESSING' });
    expect(table.revision('big-buck', R1)?.status).toBe('PROGRESSING');
    expect(table.head('big-buck')?.status).toBe('PROGRESSING');
    expect(publishedEvents(eventBridge)).toEqual([]);
  });

  it('makes a completed job READY with renditions, duration and manifests, serves it, and announces it', async () => {
    // Act
    await handler()(complete());
    // Assess
    expect(table.revision('big-buck', R1)).toMatchObject({
      status: 'READY',
      durationMs: 596501,
      renditions: [
        { type: 'video', width: 1920, height: 1080, averageBitrate: 5210000 },
        { type: 'video', width: 1280, height: 720, averageBitrate: 2890000 },
        { type: 'audio' },
      ],
      manifests: { hls: `media/big-buck/${R1}/main.m3u8`, dash: `media/big-buck/${R1}/main.mpd` },
    });
    expect(table.head('big-buck')).toMatchObject({ currentRevision: R1, latestRevision: R1, status: 'READY' });
    expect(publishedEvents(eventBridge)).toEqual([
      expect.objectContaining({
        Source: 'streaming.catalog',
        DetailType: 'Asset Ready',
        EventBusName: 'catalog-bus',
        Detail: expect.objectContaining({ assetId: 'big-buck', revision: R1, current: true, durationMs: 596501 }),
      }),
    ]);
  });

  it('stays READY when PROGRESSING and STATUS_UPDATE arrive after COMPLETE', async () => {
    // Prepare
    const apply = handler();
    await apply(complete());
    // Act
    const late = await apply(jobEvent('PROGRESSING'));
    const update = await apply(jobEvent('STATUS_UPDATE', { framesDecoded: 1200, jobProgress: { jobPercentComplete: 12 } }));
    // Assess
    expect(late.outcome).toBe('stale');
    expect(update.outcome).toBe('stale');
    expect(table.revision('big-buck', R1)?.status).toBe('READY');
    expect(table.head('big-buck')).toMatchObject({ status: 'READY', currentRevision: R1 });
    expect(publishedEvents(eventBridge)).toHaveLength(1);
  });

  it('publishes Asset Ready once when COMPLETE is delivered twice', async () => {
    // Prepare
    const apply = handler();
    // Act
    await apply(complete());
    const again = await apply(complete());
    // Assess
    expect(again.outcome).toBe('stale');
    expect(publishedEvents(eventBridge)).toHaveLength(1);
  });

  it('fails the revision with MediaConvert\'s message on ERROR and announces it', async () => {
    // Act
    await handler()(
      jobEvent('ERROR', { errorCode: 1010, errorMessage: 'Demuxer: [ReadPacketData File read failed - end of file hit at length [734003200]. Is file truncated?]' }),
    );
    // Assess
    expect(table.revision('big-buck', R1)).toMatchObject({ status: 'FAILED', errorCode: '1010', errorReason: expect.stringContaining('Is file truncated?') });
    expect(table.head('big-buck')).toMatchObject({ status: 'FAILED' });
    expect(table.head('big-buck')?.currentRevision).toBeUndefined();
    expect(publishedEvents(eventBridge)).toEqual([
      expect.objectContaining({ DetailType: 'Asset Failed', Detail: expect.objectContaining({ status: 'FAILED', errorCode: '1010' }) }),
    ]);
  });

  it('does not turn a READY revision into FAILED or CANCELED', async () => {
    // Prepare
    const apply = handler();
    await apply(complete());
    // Act
    await apply(jobEvent('ERROR', { errorCode: 1999, errorMessage: 'late' }));
    await apply(jobEvent('CANCELED'));
    // Assess
    expect(table.revision('big-buck', R1)?.status).toBe('READY');
    expect(publishedEvents(eventBridge).map((e) => e.DetailType)).toEqual(['Asset Ready']);
  });

  it('announces a canceled job as Asset Failed', async () => {
    // Act
    await handler()(jobEvent('CANCELED'));
    // Assess
    expect(table.revision('big-buck', R1)?.status).toBe('CANCELED');
    expect(publishedEvents(eventBridge)).toEqual([
      expect.objectContaining({ DetailType: 'Asset Failed', Detail: expect.objectContaining({ status: 'CANCELED', reason: 'the encode was canceled' }) }),
    ]);
  });

  it('keeps serving the newer revision when an older one completes late', async () => {
    // Prepare: R2 (a re-upload) is already READY and current; R1's job finishes afterwards.
    seedSubmitted(R2, JOB_2, '2024-05-15T08:00:00.000Z');
    const apply = handler();
    await apply(complete(R2, JOB_2));
    // Act
    await apply(complete(R1, JOB_1));
    // Assess
    expect(table.revision('big-buck', R1)?.status).toBe('READY');
    expect(table.head('big-buck')).toMatchObject({ currentRevision: R2, latestRevision: R2 });
    expect(publishedEvents(eventBridge).map((e) => [e.Detail.revision, e.Detail.current])).toEqual([
      [R2, true],
      [R1, false],
    ]);
  });

  it('ignores events of a job that does not own the revision', async () => {
    // Act
    const outcome = await handler()(complete(R1, 'someone-elses-job'));
    // Assess
    expect(outcome.outcome).toBe('stale');
    expect(table.revision('big-buck', R1)?.status).toBe('SUBMITTED');
    expect(publishedEvents(eventBridge)).toEqual([]);
  });

  it('does not bring back an asset taken down while its job was running', async () => {
    // Prepare
    table.items.set('big-buck|asset', { ...table.head('big-buck'), status: 'TAKEN_DOWN', deletedAt: '2024-05-14T09:25:00.000Z', updatedAt: '2024-05-14T09:25:00.000Z' });
    // Act
    await handler()(complete());
    // Assess
    expect(table.head('big-buck')).toMatchObject({ status: 'TAKEN_DOWN' });
    expect(table.head('big-buck')?.currentRevision).toBeUndefined();
    expect(publishedEvents(eventBridge)).toEqual([expect.objectContaining({ DetailType: 'Asset Ready', Detail: expect.objectContaining({ current: false }) })]);
  });

  it.each([
    ['a job of another stack', jobEvent('COMPLETE', {}, { stack: 'streaming-us' })],
    ['INPUT_INFORMATION', jobEvent('INPUT_INFORMATION', { inputDetails: [{ id: 1, uri: 's3://acme-uploads/uploads/Big Buck.mov' }] })],
    ['NEW_WARNING', jobEvent('NEW_WARNING', { warningCode: 230005 })],
    ['a malformed event', { 'detail-type': 'MediaConvert Job State Change', detail: {} }],
  ])('ignores %s without touching the catalog', async (_name, event) => {
    // Act
    const outcome = await handler()(event);
    // Assess
    expect(outcome.outcome).toBe('ignored');
    expect(dynamo.calls()).toHaveLength(0);
    expect(eventBridge.calls()).toHaveLength(0);
  });

  it('throws on a transient DynamoDB error so Lambda retries the event', async () => {
    // Prepare
    dynamo.on(UpdateCommand).rejects(Object.assign(new Error('Throughput exceeds the current capacity'), { name: 'ThrottlingException' }));
    // Act + Assess
    await expect(handler()(complete())).rejects.toThrow('Throughput exceeds');
    expect(publishedEvents(eventBridge)).toEqual([]);
  });

  it('publishes Asset Ready on the retry when EventBridge failed the first time, and only once', async () => {
    // Prepare
    const apply = handler();
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }] })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-2' }] });
    // Act
    await expect(apply(complete())).rejects.toThrow(/ThrottlingException/);
    await apply(complete());
    await apply(complete());
    // Assess
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(2);
    expect(table.revision('big-buck', R1)?.eventPublishedAt).toBeDefined();
    expect(table.head('big-buck')).toMatchObject({ status: 'READY', currentRevision: R1 });
  });
});
