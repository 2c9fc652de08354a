import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  BadRequestException,
  CreateJobCommand,
  MediaConvertClient,
  ProbeCommand,
  TooManyRequestsException,
} from '@aws-sdk/client-mediaconvert';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { jobRequestToken } from '../../core/asset-id';
import { type SubmitJobConfig, submitJobConfig } from '../../lambdas/submit-job/config';
import { createSubmitJobHandler, MalformedUploadEventError } from '../../lambdas/submit-job/index';
import { InMemoryAssetsTable } from '../support/memory-table';
import { publishedEvents } from '../support/published-events';
import { proresMaster } from '../support/probe-results';

const config: SubmitJobConfig = {
  assetsTableName: 'Assets',
  originBucketName: 'acme-origin',
  mediaConvertRoleArn: 'arn:aws:iam::111122223333:role/MediaConvertRole',
  eventBusName: 'catalog-bus',
  stackName: 'streaming-eu',
  ladder: 'standard',
  perTitle: false,
};

/** S3's EventBridge "Object Created" event for a multipart upload (S3 user guide, "EventBridge event message structure"). */
function objectCreated(key: string, overrides: { size?: number; time?: string; sequencer?: string; id?: string } = {}) {
  return {
    version: '0',
    id: overrides.id ?? '17793124-05d4-b198-2fde-7ededc63b103',
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '111122223333',
    time: overrides.time ?? '2024-05-14T09:21:07Z',
    region: 'eu-west-1',
    resources: ['arn:aws:s3:::acme-uploads'],
    detail: {
      version: '0',
      bucket: { name: 'acme-uploads' },
      object: {
        key,
        size: overrides.size ?? 734003200,
        etag: '6f5902ac237024bdd0c176cb93063dc4-88',
        sequencer: overrides.sequencer ?? '0066432B73A1C2D9E4',
      },
      'request-id': 'N4N7GDK58NMKJ12R',
      requester: '111122223333',
      'source-ip-address': '203.0.113.10',
      reason: 'CompleteMultipartUpload',
    },
  };
}

const REVISION = '20240514-092107-0066432b73a1c2d9e4000000';

const dynamo = mockClient(DynamoDBDocumentClient);
const mediaConvert = mockClient(MediaConvertClient);
const eventBridge = mockClient(EventBridgeClient);
let table: InMemoryAssetsTable;

function handler() {
  return createSubmitJobHandler({
    documents: DynamoDBDocumentClient.from(new DynamoDBClient({})),
    mediaConvert: new MediaConvertClient({}),
    events: new EventBridgeClient({}),
    config,
    now: () => new Date('2024-05-14T09:21:09.000Z'),
  });
}

beforeEach(() => {
  dynamo.reset();
  mediaConvert.reset();
  eventBridge.reset();
  table = new InMemoryAssetsTable();
  table.attach(dynamo);
  mediaConvert.on(ProbeCommand).resolves({ ProbeResults: [proresMaster] });
  mediaConvert.on(CreateJobCommand).resolves({ Job: { Id: '1715678469123-abc123', Role: config.mediaConvertRoleArn, Settings: {}, Status: 'SUBMITTED' } });
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
});

describe('submit-job', () => {
  it('probes a master, submits one CMAF job and records the revision as SUBMITTED', async () => {
    // Act
    const outcome = await handler()(objectCreated('uploads/Big Buck.mov'));
    // Assess
    expect(outcome).toEqual({ outcome: 'submitted', assetId: 'big-buck', revision: REVISION, jobId: '1715678469123-abc123' });
    expect(mediaConvert.commandCalls(ProbeCommand)[0]!.args[0].input).toEqual({
      InputFiles: [{ FileUrl: 's3://acme-uploads/uploads/Big Buck.mov' }],
    });
    const request = mediaConvert.commandCalls(CreateJobCommand)[0]!.args[0].input;
    expect(request.ClientRequestToken).toBe(jobRequestToken('streaming-eu', 'big-buck', REVISION));
    expect(request.UserMetadata).toEqual({ stack: 'streaming-eu', assetId: 'big-buck', revision: REVISION });
    expect(request.Settings?.Inputs?.[0]?.FileInput).toBe('s3://acme-uploads/uploads/Big Buck.mov');
    expect(JSON.stringify(request.Settings?.OutputGroups)).toContain(`s3://acme-origin/media/big-buck/${REVISION}/`);
    expect(table.revision('big-buck', REVISION)).toMatchObject({
      status: 'SUBMITTED',
      jobId: '1715678469123-abc123',
      sourceKey: 'uploads/Big Buck.mov',
      sourceSize: 734003200,
      uploadedAt: '2024-05-14T09:21:07.000Z',
    });
    expect(table.head('big-buck')).toMatchObject({ latestRevision: REVISION, status: 'SUBMITTED' });
    expect(table.head('big-buck')?.currentRevision).toBeUndefined();
    expect(publishedEvents(eventBridge)).toEqual([]);
  });

  it.each([2, 3])('creates exactly one job when the same upload event arrives %i times', async (deliveries) => {
    // Prepare
    const submit = handler();
    // Act
    const outcomes = [];
    for (let i = 0; i < deliveries; i++) outcomes.push(await submit(objectCreated('uploads/Big Buck.mov', { id: `delivery-${i}` })));
    // Assess
    expect(mediaConvert.commandCalls(CreateJobCommand)).toHaveLength(1);
    expect(outcomes.slice(1).every((o) => o.outcome === 'duplicate')).toBe(true);
    expect(table.revision('big-buck', REVISION)?.status).toBe('SUBMITTED');
  });

  it('submits a re-upload of the same name as a new, later revision of the same asset', async () => {
    // Prepare
    const submit = handler();
    await submit(objectCreated('uploads/Big Buck.mov'));
    // Act
    const second = await submit(objectCreated('uploads/Big Buck.mov', { time: '2024-05-15T08:00:00Z', sequencer: '00664471A0B0C0D0E1' }));
    // Assess
    expect(second).toMatchObject({ outcome: 'submitted', assetId: 'big-buck' });
    expect(mediaConvert.commandCalls(CreateJobCommand)).toHaveLength(2);
    expect(table.head('big-buck')?.latestRevision).toBe((second as { revision: string }).revision);
    expect((second as { revision: string }).revision > REVISION).toBe(true);
  });

  it('fails an empty file without probing, with a reason and an Asset Failed event', async () => {
    // Act
    const outcome = await handler()(objectCreated('uploads/Big Buck.mov', { size: 0 }));
    // Assess
    expect(outcome).toMatchObject({ outcome: 'failed', reason: 'the file is empty (0 bytes)' });
    expect(mediaConvert.commandCalls(ProbeCommand)).toHaveLength(0);
    expect(table.revision('big-buck', REVISION)).toMatchObject({ status: 'FAILED', errorCode: 'EMPTY_FILE', errorReason: 'the file is empty (0 bytes)' });
    expect(table.head('big-buck')).toMatchObject({ status: 'FAILED', latestRevision: REVISION });
    expect(publishedEvents(eventBridge)).toEqual([
      expect.objectContaining({
        Source: 'streaming.catalog',
        DetailType: 'Asset Failed',
        EventBusName: 'catalog-bus',
        Detail: expect.objectContaining({ assetId: 'big-buck', revision: REVISION, reason: 'the file is empty (0 bytes)' }),
      }),
    ]);
  });

  it('publishes the empty-file failure once when that event is delivered twice', async () => {
    // Prepare
    const submit = handler();
    // Act
    await submit(objectCreated('uploads/Big Buck.mov', { size: 0 }));
    await submit(objectCreated('uploads/Big Buck.mov', { size: 0 }));
    // Assess
    expect(publishedEvents(eventBridge)).toHaveLength(1);
  });

  it('fails an audio-only file with a reason and an event, and does not throw', async () => {
    // Prepare
    mediaConvert.on(ProbeCommand).resolves({
      ProbeResults: [{ Container: { Format: 'mp4', Duration: 180, Tracks: [{ Index: 1, TrackType: 'audio', Codec: 'AAC', AudioProperties: { Channels: 2 } }] } }],
    });
    // Act
    const outcome = await handler()(objectCreated('uploads/Podcast.m4a'));
    // Assess
    expect(outcome).toMatchObject({ outcome: 'failed', reason: 'the file has audio but no video track' });
    expect(mediaConvert.commandCalls(CreateJobCommand)).toHaveLength(0);
    expect(table.revision('podcast', REVISION)).toMatchObject({ status: 'FAILED', errorCode: 'UNREADABLE' });
    expect(publishedEvents(eventBridge)).toEqual([
      expect.objectContaining({ DetailType: 'Asset Failed', Detail: expect.objectContaining({ assetId: 'podcast', reason: 'the file has audio but no video track' }) }),
    ]);
  });

  it('fails a file MediaConvert cannot read (Probe rejects it) instead of retrying', async () => {
    // Prepare
    mediaConvert.on(ProbeCommand).rejects(new BadRequestException({ message: 'Unable to open input file [s3://acme-uploads/uploads/Broken.mov]', $metadata: {} }));
    // Act
    const outcome = await handler()(objectCreated('uploads/Broken.mov'));
    // Assess
    expect(outcome).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('Unable to open input file') });
    expect(table.revision('broken', REVISION)?.status).toBe('FAILED');
    expect(publishedEvents(eventBridge)).toHaveLength(1);
  });

  it('fails a source the ladder cannot encode with the ladder\'s reason', async () => {
    // Prepare: 16x16 is below MediaConvert's smallest output size.
    mediaConvert.on(ProbeCommand).resolves({
      ProbeResults: [
        {
          Container: {
            Format: 'mp4',
            Duration: 4,
            Tracks: [{ Index: 1, TrackType: 'video', Codec: 'AVC', VideoProperties: { Width: 16, Height: 16, FrameRate: { Numerator: 25, Denominator: 1 } } }],
          },
        },
      ],
    });
    // Act
    const outcome = await handler()(objectCreated('uploads/Tiny.mp4'));
    // Assess
    expect(outcome).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('16x16') });
    expect(table.revision('tiny', REVISION)).toMatchObject({ status: 'FAILED', errorCode: 'UNSUPPORTED' });
  });

  it.each(['uploads/trailers/', 'uploads/Big Buck.srt', 'uploads/Big Buck.mov.md5', 'uploads/.DS_Store'])(
    'ignores %j without touching the catalog or MediaConvert',
    async (key) => {
      // Act
      const outcome = await handler()(objectCreated(key, { size: 0 }));
      // Assess
      expect(outcome.outcome).toBe('ignored');
      expect(dynamo.calls()).toHaveLength(0);
      expect(mediaConvert.calls()).toHaveLength(0);
      expect(eventBridge.calls()).toHaveLength(0);
    },
  );

  it('accepts an upload from an IPv6 client (S3 reports it in source-ip-address)', async () => {
    // Prepare
    const event = objectCreated('uploads/Big Buck.mov');
    event.detail['source-ip-address'] = '2001:db8::1';
    // Act
    const outcome = await handler()(event);
    // Assess
    expect(outcome.outcome).not.toBe('ignored');
    expect(table.revision('big-buck', REVISION)).toBeDefined();
  });

  it('throws on an event that is not an S3 Object Created event, so retries and the DLQ keep it visible', async () => {
    await expect(handler()({ 'detail-type': 'Object Created', detail: {} })).rejects.toThrow(MalformedUploadEventError);
    expect(mediaConvert.calls()).toHaveLength(0);
  });

  it('rejects a name that yields no asset id with an Asset Failed event and no catalog item', async () => {
    // Act
    const outcome = await handler()(objectCreated('uploads/今晩は.mov'));
    // Assess
    expect(outcome).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('rename the file') });
    expect(table.items.size).toBe(0);
    expect(publishedEvents(eventBridge)).toEqual([expect.objectContaining({ DetailType: 'Asset Failed', Detail: expect.objectContaining({ sourceKey: 'uploads/今晩は.mov' }) })]);
  });

  it('throws on a transient MediaConvert error and leaves the revision to be resumed by the retry', async () => {
    // Prepare
    const submit = handler();
    mediaConvert.on(ProbeCommand).rejectsOnce(new TooManyRequestsException({ message: 'Too Many Requests', $metadata: {} })).resolves({ ProbeResults: [proresMaster] });
    // Act
    const first = submit(objectCreated('uploads/Big Buck.mov'));
    // Assess
    await expect(first).rejects.toThrow(TooManyRequestsException);
    expect(table.revision('big-buck', REVISION)?.status).toBe('RECEIVED');
    expect(publishedEvents(eventBridge)).toEqual([]);

    // Act: Lambda's async retry delivers the same event again.
    const retried = await submit(objectCreated('uploads/Big Buck.mov'));
    // Assess
    expect(retried).toMatchObject({ outcome: 'submitted' });
    expect(mediaConvert.commandCalls(CreateJobCommand)).toHaveLength(1);
    expect(table.revision('big-buck', REVISION)?.status).toBe('SUBMITTED');
  });

  it('reuses the same ClientRequestToken when CreateJob is retried after a crash', async () => {
    // Prepare: the job was created but the invocation died before recording it.
    const submit = handler();
    mediaConvert.on(CreateJobCommand).rejectsOnce(new Error('socket hang up')).resolves({ Job: { Id: 'job-1', Role: 'r', Settings: {} } });
    await expect(submit(objectCreated('uploads/Big Buck.mov'))).rejects.toThrow('socket hang up');
    // Act
    await submit(objectCreated('uploads/Big Buck.mov'));
    // Assess
    const tokens = mediaConvert.commandCalls(CreateJobCommand).map((call) => call.args[0].input.ClientRequestToken);
    expect(tokens).toHaveLength(2);
    expect(new Set(tokens).size).toBe(1);
  });

  it('throws on a transient DynamoDB error before anything is submitted', async () => {
    // Prepare
    dynamo.on(PutCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' }));
    // Act + Assess
    await expect(handler()(objectCreated('uploads/Big Buck.mov'))).rejects.toThrow('Rate exceeded');
    expect(mediaConvert.calls()).toHaveLength(0);
  });

  it('throws when EventBridge drops the failure event, and the retry publishes it once', async () => {
    // Prepare
    const submit = handler();
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }] })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-2' }] });
    // Act + Assess
    await expect(submit(objectCreated('uploads/Big Buck.mov', { size: 0 }))).rejects.toThrow(/InternalFailure/);
    await submit(objectCreated('uploads/Big Buck.mov', { size: 0 }));
    await submit(objectCreated('uploads/Big Buck.mov', { size: 0 }));
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(2);
    expect(table.revision('big-buck', REVISION)?.eventPublishedAt).toBeDefined();
  });
});

describe('submitJobConfig', () => {
  it('reads the environment the IngestPipeline construct sets', () => {
    // Act
    const parsed = submitJobConfig.decode({
      ASSETS_TABLE_NAME: 'Assets',
      ORIGIN_BUCKET_NAME: 'acme-origin',
      MEDIACONVERT_ROLE_ARN: 'arn:aws:iam::111122223333:role/mc',
      EVENT_BUS_NAME: 'catalog-bus',
      STACK_NAME: 'streaming-eu',
      LADDER: 'compact',
      PER_TITLE: 'true',
    });
    // Assess
    expect(parsed).toEqual({
      assetsTableName: 'Assets',
      originBucketName: 'acme-origin',
      mediaConvertRoleArn: 'arn:aws:iam::111122223333:role/mc',
      eventBusName: 'catalog-bus',
      stackName: 'streaming-eu',
      ladder: 'compact',
      perTitle: true,
    });
  });

  it('names the missing or bad variable', () => {
    expect(() => submitJobConfig.decode({})).toThrow('STACK_NAME');
    expect(() =>
      submitJobConfig.decode({ ASSETS_TABLE_NAME: 'a', ORIGIN_BUCKET_NAME: 'b', MEDIACONVERT_ROLE_ARN: 'c', EVENT_BUS_NAME: 'd', STACK_NAME: 'e', LADDER: 'huge', PER_TITLE: 'false' }),
    ).toThrow('environment variable LADDER ("huge"): must be one of standard, compact');
  });
});
