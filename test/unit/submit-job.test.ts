import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  BadRequestException,
  CreateJobCommand,
  ForbiddenException,
  InternalServerErrorException,
  type Job,
  ListJobsCommand,
  MediaConvertClient,
  NotFoundException,
  ProbeCommand,
  TooManyRequestsException,
} from '@aws-sdk/client-mediaconvert';
import { HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { assetIdFromKey, jobRequestToken } from '../../core/asset-id';
import { encodeNotificationKey } from '../../core/upload-key';
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
  surroundAudio: false,
  invocationAttempts: 3,
};

const ETAG = '6f5902ac237024bdd0c176cb93063dc4-88';

/**
 * S3's EventBridge "Object Created" event for a multipart upload (S3 user guide, "EventBridge event
 * message structure"), carrying `eventKey` exactly as given: tests of the encoding pass it encoded.
 */
function objectCreated(eventKey: string, overrides: { size?: number; time?: string; sequencer?: string; id?: string; etag?: string } = {}) {
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
        key: eventKey,
        size: overrides.size ?? 734003200,
        etag: overrides.etag ?? ETAG,
        sequencer: overrides.sequencer ?? '0066432B73A1C2D9E4',
      },
      'request-id': 'N4N7GDK58NMKJ12R',
      requester: '111122223333',
      'source-ip-address': '203.0.113.10',
      reason: 'CompleteMultipartUpload',
    },
  };
}

/** Puts `key` in the mocked upload bucket and returns the event S3 sends for it (key form-encoded). */
function uploaded(key: string, overrides: Parameters<typeof objectCreated>[1] = {}) {
  bucket.set(key, overrides.etag ?? ETAG);
  return objectCreated(encodeNotificationKey(key), overrides);
}

const REVISION = '20240514-092107-0066432b73a1c2d9e4000000';
const START = new Date('2024-05-14T09:21:09.000Z');

const dynamo = mockClient(DynamoDBDocumentClient);
const mediaConvert = mockClient(MediaConvertClient);
const eventBridge = mockClient(EventBridgeClient);
const s3 = mockClient(S3Client);
let table: InMemoryAssetsTable;
/** The upload bucket: key → ETag. */
let bucket: Map<string, string>;
let clock: Date;

function handler(overrides: Partial<SubmitJobConfig> = {}) {
  return createSubmitJobHandler({
    documents: DynamoDBDocumentClient.from(new DynamoDBClient({})),
    mediaConvert: new MediaConvertClient({}),
    events: new EventBridgeClient({}),
    s3: new S3Client({}),
    config: { ...config, ...overrides },
    now: () => clock,
  });
}

function serviceError(name: string, status: number | undefined, message = name) {
  return Object.assign(new Error(message), { name, $metadata: status === undefined ? {} : { httpStatusCode: status } });
}

beforeEach(() => {
  dynamo.reset();
  mediaConvert.reset();
  eventBridge.reset();
  s3.reset();
  clock = START;
  table = new InMemoryAssetsTable();
  table.attach(dynamo);
  bucket = new Map();
  s3.on(HeadObjectCommand).callsFake(async (input: { Key: string }) => {
    const etag = bucket.get(input.Key);
    if (etag === undefined) throw serviceError('NotFound', 404, 'UnknownError');
    return { ETag: `"${etag}"`, ContentLength: 734003200 };
  });
  // Two keys a page, so every listing test also walks S3's continuation tokens.
  s3.on(ListObjectsV2Command).callsFake(async (input: { Prefix: string; ContinuationToken?: string }) => {
    const keys = [...bucket.keys()].filter((key) => key.startsWith(input.Prefix)).sort();
    const from = Number(input.ContinuationToken ?? 0);
    const page = keys.slice(from, from + 2);
    const more = from + 2 < keys.length;
    return { Contents: page.map((Key) => ({ Key })), IsTruncated: more, ...(more ? { NextContinuationToken: String(from + 2) } : {}) };
  });
  mediaConvert.on(ProbeCommand).resolves({ ProbeResults: [proresMaster] });
  mediaConvert.on(ListJobsCommand).resolves({ Jobs: [] });
  mediaConvert.on(CreateJobCommand).resolves({ Job: { Id: '1715678469123-abc123', Role: config.mediaConvertRoleArn, Settings: {}, Status: 'SUBMITTED' } });
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
});

describe('submit-job', () => {
  it('probes a master, submits one CMAF job and records the revision as SUBMITTED', async () => {
    // Act
    const outcome = await handler()(uploaded('uploads/Big Buck.mov'));
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
    for (let i = 0; i < deliveries; i++) outcomes.push(await submit(uploaded('uploads/Big Buck.mov', { id: `delivery-${i}` })));
    // Assess
    expect(mediaConvert.commandCalls(CreateJobCommand)).toHaveLength(1);
    expect(outcomes.slice(1).every((o) => o.outcome === 'duplicate')).toBe(true);
    expect(table.revision('big-buck', REVISION)?.status).toBe('SUBMITTED');
  });

  it('submits a re-upload of the same name as a new, later revision of the same asset', async () => {
    // Prepare
    const submit = handler();
    await submit(uploaded('uploads/Big Buck.mov'));
    // Act
    const second = await submit(uploaded('uploads/Big Buck.mov', { time: '2024-05-15T08:00:00Z', sequencer: '00664471A0B0C0D0E1' }));
    // Assess
    expect(second).toMatchObject({ outcome: 'submitted', assetId: 'big-buck' });
    expect(mediaConvert.commandCalls(CreateJobCommand)).toHaveLength(2);
    expect(table.head('big-buck')?.latestRevision).toBe((second as { revision: string }).revision);
    expect((second as { revision: string }).revision > REVISION).toBe(true);
  });

  it('fails an empty file without probing, with a reason and an Asset Failed event', async () => {
    // Act
    const outcome = await handler()(uploaded('uploads/Big Buck.mov', { size: 0 }));
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
    await submit(uploaded('uploads/Big Buck.mov', { size: 0 }));
    await submit(uploaded('uploads/Big Buck.mov', { size: 0 }));
    // Assess
    expect(publishedEvents(eventBridge)).toHaveLength(1);
  });

  it('fails an audio-only file with a reason and an event, and does not throw', async () => {
    // Prepare
    mediaConvert.on(ProbeCommand).resolves({
      ProbeResults: [{ Container: { Format: 'mp4', Duration: 180, Tracks: [{ Index: 1, TrackType: 'audio', Codec: 'AAC', AudioProperties: { Channels: 2 } }] } }],
    });
    // Act
    const outcome = await handler()(uploaded('uploads/Podcast.m4a'));
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
    const outcome = await handler()(uploaded('uploads/Broken.mov'));
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
    const outcome = await handler()(uploaded('uploads/Tiny.mp4'));
    // Assess
    expect(outcome).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('16x16') });
    expect(table.revision('tiny', REVISION)).toMatchObject({ status: 'FAILED', errorCode: 'UNSUPPORTED' });
  });

  it.each(['uploads/trailers/', 'uploads/Big Buck.srt', 'uploads/Big Buck.mov.md5', 'uploads/.DS_Store'])(
    'ignores %j without touching the catalog or MediaConvert',
    async (key) => {
      // Act
      const outcome = await handler()(uploaded(key, { size: 0 }));
      // Assess
      expect(outcome.outcome).toBe('ignored');
      expect(dynamo.calls()).toHaveLength(0);
      expect(mediaConvert.calls()).toHaveLength(0);
      expect(s3.calls()).toHaveLength(0);
      expect(eventBridge.calls()).toHaveLength(0);
    },
  );

  it('accepts an upload from an IPv6 client (S3 reports it in source-ip-address)', async () => {
    // Prepare
    const event = uploaded('uploads/Big Buck.mov');
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
    const outcome = await handler()(uploaded('uploads/今晩は.mov'));
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
    const first = submit(uploaded('uploads/Big Buck.mov'));
    // Assess
    await expect(first).rejects.toThrow(TooManyRequestsException);
    expect(table.revision('big-buck', REVISION)?.status).toBe('RECEIVED');
    expect(publishedEvents(eventBridge)).toEqual([]);

    // Act: Lambda's async retry delivers the same event again.
    const retried = await submit(uploaded('uploads/Big Buck.mov'));
    // Assess
    expect(retried).toMatchObject({ outcome: 'submitted' });
    expect(mediaConvert.commandCalls(CreateJobCommand)).toHaveLength(1);
    expect(table.revision('big-buck', REVISION)?.status).toBe('SUBMITTED');
  });

  it('reuses the same ClientRequestToken when CreateJob is retried after a crash', async () => {
    // Prepare: the job was created but the invocation died before recording it.
    const submit = handler();
    mediaConvert.on(CreateJobCommand).rejectsOnce(new Error('socket hang up')).resolves({ Job: { Id: 'job-1', Role: 'r', Settings: {} } });
    await expect(submit(uploaded('uploads/Big Buck.mov'))).rejects.toThrow('socket hang up');
    // Act
    await submit(uploaded('uploads/Big Buck.mov'));
    // Assess
    const tokens = mediaConvert.commandCalls(CreateJobCommand).map((call) => call.args[0].input.ClientRequestToken);
    expect(tokens).toHaveLength(2);
    expect(new Set(tokens).size).toBe(1);
  });

  it('throws on a transient DynamoDB error before anything is submitted', async () => {
    // Prepare
    dynamo.on(PutCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' }));
    // Act + Assess
    await expect(handler()(uploaded('uploads/Big Buck.mov'))).rejects.toThrow('Rate exceeded');
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
    await expect(submit(uploaded('uploads/Big Buck.mov', { size: 0 }))).rejects.toThrow(/InternalFailure/);
    await submit(uploaded('uploads/Big Buck.mov', { size: 0 }));
    await submit(uploaded('uploads/Big Buck.mov', { size: 0 }));
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(2);
    expect(table.revision('big-buck', REVISION)?.eventPublishedAt).toBeDefined();
  });
});

describe('submit-job: a takedown requested before the encode (ADR 0011)', () => {
  it('submits no job for an upload older than the takedown and fails it with the reason', async () => {
    // Prepare: the takedown came after the upload but before its (late, e.g. throttled) event was handled.
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    await documents.send(
      new PutCommand({
        TableName: config.assetsTableName,
        Item: { assetId: 'big-buck', sk: 'asset', status: 'TAKEDOWN_PENDING', deletedAt: '2024-05-14T09:30:00.000Z', updatedAt: '2024-05-14T09:30:00.000Z' },
      }),
    );
    // Act
    const outcome = await handler()(uploaded('uploads/Big Buck.mov'));
    // Assess
    expect(outcome).toMatchObject({ outcome: 'failed', assetId: 'big-buck' });
    expect(mediaConvert.commandCalls(CreateJobCommand)).toHaveLength(0);
    expect(table.revision('big-buck', REVISION)).toMatchObject({ status: 'FAILED', errorCode: 'TAKEN_DOWN' });
    expect(table.head('big-buck')).toMatchObject({ status: 'TAKEDOWN_PENDING' });
  });

  it('submits an upload made after the takedown (it revives the asset)', async () => {
    // Prepare
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    await documents.send(
      new PutCommand({
        TableName: config.assetsTableName,
        Item: { assetId: 'big-buck', sk: 'asset', status: 'TAKEN_DOWN', deletedAt: '2024-05-14T09:00:00.000Z', updatedAt: '2024-05-14T09:00:05.000Z' },
      }),
    );
    // Act
    const outcome = await handler()(uploaded('uploads/Big Buck.mov'));
    // Assess
    expect(outcome).toMatchObject({ outcome: 'submitted', assetId: 'big-buck' });
    expect(mediaConvert.commandCalls(CreateJobCommand)).toHaveLength(1);
  });
});

describe('submit-job: keys as S3 events carry them (ADR 0023)', () => {
  // [stored key, the key S3 puts in the event (form-encoded), the asset id]
  const VERY_LONG = `uploads/${'A very long title '.repeat(50).trim()}.mov`;
  it.each([
    ['uploads/My Movie (Final).mov', 'uploads/My+Movie+%28Final%29.mov', 'my-movie-final'],
    ['uploads/C++ Primer + Notes.mp4', 'uploads/C%2B%2B+Primer+%2B+Notes.mp4', 'c-primer-notes'],
    ['uploads/100% Pure.mov', 'uploads/100%25+Pure.mov', '100-pure'],
    ['uploads/50%2B off.mov', 'uploads/50%252B+off.mov', '50-2b-off'],
    ['uploads/été à Paris.mov', 'uploads/%C3%A9t%C3%A9+%C3%A0+Paris.mov', 'ete-a-paris'],
    ['uploads/e\u0301te\u0301.mov', 'uploads/e%CC%81te%CC%81.mov', 'ete'],
    ['uploads/Season 1/Épisode 01.mov', 'uploads/Season+1/%C3%89pisode+01.mov', 'season-1-episode-01'],
    ['uploads/今晩は Tokyo 🎬.mov', 'uploads/%E4%BB%8A%E6%99%A9%E3%81%AF+Tokyo+%F0%9F%8E%AC.mov', 'tokyo'],
    [VERY_LONG, VERY_LONG.replace(/ /g, '+'), assetIdFromKey(VERY_LONG)],
  ])('encodes %j, which arrives as %j, as asset %j from the object itself', async (stored, eventKey, assetId) => {
    // Prepare
    bucket.set(stored, ETAG);
    // Act
    const outcome = await handler()(objectCreated(eventKey));
    // Assess
    expect(outcome).toMatchObject({ outcome: 'submitted', assetId });
    expect(mediaConvert.commandCalls(ProbeCommand)[0]!.args[0].input.InputFiles).toEqual([{ FileUrl: `s3://acme-uploads/${stored}` }]);
    expect(mediaConvert.commandCalls(CreateJobCommand)[0]!.args[0].input.Settings?.Inputs?.[0]?.FileInput).toBe(`s3://acme-uploads/${stored}`);
    expect(table.revision(assetId, REVISION)).toMatchObject({ status: 'SUBMITTED', sourceKey: stored });
    expect(assetId.length).toBeLessThanOrEqual(64);
  });

  it('encodes the key S3 stores, not a normalised one: NFC and NFD names are two objects of one asset', async () => {
    // Prepare
    bucket.set('uploads/été.mov', ETAG);
    bucket.set('uploads/e\u0301te\u0301.mov', ETAG);
    // Act
    const nfc = await handler()(objectCreated('uploads/%C3%A9t%C3%A9.mov'));
    const nfd = await handler()(objectCreated('uploads/e%CC%81te%CC%81.mov', { sequencer: '0066432B73A1C2D9F0' }));
    // Assess
    expect(nfc).toMatchObject({ outcome: 'submitted', assetId: 'ete' });
    expect(nfd).toMatchObject({ outcome: 'submitted', assetId: 'ete' });
    expect(mediaConvert.commandCalls(ProbeCommand).map((call) => call.args[0].input.InputFiles?.[0]?.FileUrl)).toEqual([
      's3://acme-uploads/uploads/été.mov',
      's3://acme-uploads/uploads/e\u0301te\u0301.mov',
    ]);
  });

  it('uses the key verbatim when only that form exists (an event that did not encode it)', async () => {
    // Prepare: "a+b" and "x%41" are literal names; decoded they would be "a b" and "xA".
    bucket.set('uploads/a+b.mov', ETAG);
    bucket.set('uploads/x%41.mov', ETAG);
    // Act
    const plus = await handler()(objectCreated('uploads/a+b.mov'));
    const percent = await handler()(objectCreated('uploads/x%41.mov', { sequencer: '0066432B73A1C2D9F0' }));
    // Assess
    expect(plus).toMatchObject({ outcome: 'submitted', assetId: 'a-b' });
    expect(percent).toMatchObject({ outcome: 'submitted', assetId: 'x-41' });
    expect(s3.commandCalls(HeadObjectCommand).map((call) => call.args[0].input.Key)).toEqual([
      'uploads/a b.mov',
      'uploads/a+b.mov',
      'uploads/xA.mov',
      'uploads/x%41.mov',
    ]);
    expect(mediaConvert.commandCalls(ProbeCommand).map((call) => call.args[0].input.InputFiles?.[0]?.FileUrl)).toEqual([
      's3://acme-uploads/uploads/a+b.mov',
      's3://acme-uploads/uploads/x%41.mov',
    ]);
  });

  it('uses a key with a malformed escape verbatim', async () => {
    // Prepare
    bucket.set('uploads/100%+done.mov', ETAG);
    // Act
    const outcome = await handler()(objectCreated('uploads/100%+done.mov'));
    // Assess
    expect(outcome).toMatchObject({ outcome: 'submitted', assetId: '100-done' });
    expect(table.revision('100-done', REVISION)?.sourceKey).toBe('uploads/100%+done.mov');
  });

  it('picks the object whose ETag is the event\'s when both the decoded and the raw key exist', async () => {
    // Prepare
    bucket.set('uploads/a b.mov', 'etag-of-a-space-b');
    bucket.set('uploads/a+b.mov', 'etag-of-a-plus-b');
    // Act
    const outcome = await handler()(objectCreated('uploads/a+b.mov', { etag: 'etag-of-a-plus-b' }));
    // Assess
    expect(outcome).toMatchObject({ outcome: 'submitted', assetId: 'a-b' });
    expect(table.revision('a-b', REVISION)?.sourceKey).toBe('uploads/a+b.mov');
  });

  it.each([
    ['uploads/Line%0ABreak.mov', 'line-break', 'U+000A'],
    ['uploads/Carriage%0DReturn.mov', 'carriage-return', 'U+000D'],
    ['uploads/Para%E2%80%A8graph.mov', 'para-graph', 'U+2028'],
    ['uploads/Tab%09ulated.mov', 'tab-ulated', 'U+0009'],
  ])('fails %j (a control character) with a reason and an event, without reading it', async (eventKey, assetId, codePoint) => {
    // Act
    const outcome = await handler()(objectCreated(eventKey));
    // Assess
    expect(outcome).toMatchObject({ outcome: 'failed', assetId, reason: expect.stringContaining(codePoint) });
    expect(table.revision(assetId, REVISION)).toMatchObject({ status: 'FAILED', errorCode: 'INVALID_NAME' });
    expect(table.head(assetId)).toMatchObject({ status: 'FAILED' });
    expect(publishedEvents(eventBridge)).toEqual([
      expect.objectContaining({ DetailType: 'Asset Failed', Detail: expect.objectContaining({ assetId, reason: expect.stringContaining(codePoint) }) }),
    ]);
    expect(s3.calls()).toHaveLength(0);
    expect(mediaConvert.calls()).toHaveLength(0);
  });

  it('rejects a control-character name that gives no asset id with an event and no catalog item', async () => {
    // Act
    const outcome = await handler()(objectCreated('uploads/%0A.mov'));
    // Assess
    expect(outcome).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('U+000A') });
    expect(table.items.size).toBe(0);
    expect(publishedEvents(eventBridge)).toEqual([expect.objectContaining({ DetailType: 'Asset Failed', Detail: expect.objectContaining({ sourceKey: 'uploads/\n.mov' }) })]);
  });

  it('fails a key longer than S3 allows with a reason, without asking S3', async () => {
    // Prepare
    const eventKey = `uploads/${'x'.repeat(1100)}.mov`;
    // Act
    const outcome = await handler()(objectCreated(eventKey));
    // Assess
    expect(outcome).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('1024-byte limit') });
    expect(table.revision(assetIdFromKey(eventKey), REVISION)).toMatchObject({ status: 'FAILED', errorCode: 'INVALID_NAME' });
    expect(s3.calls()).toHaveLength(0);
  });

  it('fails an upload whose object is gone by the time it is processed', async () => {
    // Act
    const outcome = await handler()(objectCreated('uploads/Deleted+Soon.mov'));
    // Assess
    expect(outcome).toMatchObject({ outcome: 'failed', assetId: 'deleted-soon', reason: expect.stringContaining('no longer in the bucket') });
    expect(table.revision('deleted-soon', REVISION)).toMatchObject({ status: 'FAILED', errorCode: 'SOURCE_MISSING', sourceKey: 'uploads/Deleted Soon.mov' });
    expect(publishedEvents(eventBridge)).toEqual([expect.objectContaining({ DetailType: 'Asset Failed', Detail: expect.objectContaining({ assetId: 'deleted-soon' }) })]);
    expect(mediaConvert.calls()).toHaveLength(0);
  });

  it('fails an upload S3 refuses to let it read (403) at once', async () => {
    // Prepare
    s3.on(HeadObjectCommand).rejects(serviceError('Forbidden', 403, 'UnknownError'));
    // Act
    const outcome = await handler()(objectCreated('uploads/Locked.mov'));
    // Assess
    expect(outcome).toMatchObject({ outcome: 'failed', assetId: 'locked' });
    expect(table.revision('locked', REVISION)).toMatchObject({ status: 'FAILED', errorCode: 'ACCESS_DENIED' });
  });

  it('throws on a transient S3 error while resolving the key, so Lambda retries', async () => {
    // Prepare
    s3.on(HeadObjectCommand).rejects(serviceError('InternalError', 500));
    // Act + Assess
    await expect(handler()(objectCreated('uploads/Big+Buck.mov'))).rejects.toThrow('InternalError');
    expect(table.items.size).toBe(0);
  });
});

/**
 * MediaConvert as the job-once logic sees it: CreateJob returns the job of a ClientRequestToken
 * reused within one minute of the successful request (MediaConvert API reference, "Preventing
 * duplicate jobs") and creates a new job after that; ListJobs pages newest first.
 */
function fakeMediaConvert(options: { firstCreate?: 'answer-lost' | Error } = {}) {
  const jobs: Job[] = [];
  let creates = 0;
  mediaConvert.on(CreateJobCommand).callsFake(async (input: { ClientRequestToken?: string; UserMetadata?: Record<string, string> }) => {
    const first = creates++ === 0;
    if (first && options.firstCreate instanceof Error) throw options.firstCreate;
    const recent = jobs.find((job) => job.ClientRequestToken === input.ClientRequestToken && clock.getTime() - job.CreatedAt!.getTime() < 60_000);
    if (recent) return { Job: recent };
    const job: Job = {
      Id: `job-${jobs.length + 1}`,
      Role: config.mediaConvertRoleArn,
      Settings: {},
      CreatedAt: clock,
      ClientRequestToken: input.ClientRequestToken,
      UserMetadata: input.UserMetadata,
    };
    jobs.push(job);
    // The job exists, but the invocation never hears about it (a crash, a timeout, a lost connection).
    if (first && options.firstCreate === 'answer-lost') throw serviceError('TimeoutError', undefined, 'socket hang up');
    return { Job: job };
  });
  mediaConvert.on(ListJobsCommand).callsFake(async (input: { NextToken?: string; MaxResults?: number }) => {
    const newestFirst = [...jobs].reverse();
    const from = Number(input.NextToken ?? 0);
    const to = from + (input.MaxResults ?? 20);
    return { Jobs: newestFirst.slice(from, to), ...(to < newestFirst.length ? { NextToken: String(to) } : {}) };
  });
  return jobs;
}

describe('submit-job: exactly one job per revision (ADR 0024)', () => {
  it('finds the job an attempt created when the retry comes 61 s later, past the token window', async () => {
    // Prepare: CreateJob succeeded, but its answer was lost (the invocation crashed).
    const jobs = fakeMediaConvert({ firstCreate: 'answer-lost' });
    const submit = handler();
    await expect(submit(uploaded('uploads/Big Buck.mov'))).rejects.toThrow('socket hang up');
    // Act: Lambda's retry, 61 s later.
    clock = new Date(START.getTime() + 61_000);
    const retried = await submit(uploaded('uploads/Big Buck.mov'));
    // Assess
    expect(retried).toMatchObject({ outcome: 'submitted', jobId: 'job-1' });
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.ClientRequestToken).toBe(jobRequestToken('streaming-eu', 'big-buck', REVISION));
    expect(mediaConvert.commandCalls(CreateJobCommand)).toHaveLength(1);
    expect(mediaConvert.commandCalls(ProbeCommand)).toHaveLength(1);
    expect(table.revision('big-buck', REVISION)).toMatchObject({ status: 'SUBMITTED', jobId: 'job-1', attempts: 2 });
  });

  it('looks past newer jobs of other revisions, over several pages', async () => {
    // Prepare
    const jobs = fakeMediaConvert({ firstCreate: 'answer-lost' });
    const submit = handler();
    await expect(submit(uploaded('uploads/Big Buck.mov'))).rejects.toThrow();
    for (let i = 0; i < 45; i++) jobs.push({ Id: `other-${i}`, Role: 'r', Settings: {}, CreatedAt: new Date(START.getTime() + 1000 * i), UserMetadata: { stack: 'streaming-eu', assetId: `a-${i}`, revision: REVISION } });
    // Act
    clock = new Date(START.getTime() + 5 * 60_000);
    const retried = await submit(uploaded('uploads/Big Buck.mov'));
    // Assess
    expect(retried).toMatchObject({ outcome: 'submitted', jobId: 'job-1' });
    expect(mediaConvert.commandCalls(ListJobsCommand)).toHaveLength(3);
    expect(mediaConvert.commandCalls(CreateJobCommand)).toHaveLength(1);
  });

  it('creates the job once when the earlier attempt failed before MediaConvert created it, listing only back to that attempt', async () => {
    // Prepare: an old job of the same asset (a previous upload) and an attempt that never reached MediaConvert.
    const jobs = fakeMediaConvert({ firstCreate: serviceError('TooManyRequestsException', 429) });
    jobs.push({ Id: 'old', Role: 'r', Settings: {}, CreatedAt: new Date(START.getTime() - 3_600_000), UserMetadata: { stack: 'streaming-eu', assetId: 'big-buck', revision: 'earlier' } });
    const submit = handler();
    await expect(submit(uploaded('uploads/Big Buck.mov'))).rejects.toThrow();
    // Act
    clock = new Date(START.getTime() + 120_000);
    const retried = await submit(uploaded('uploads/Big Buck.mov'));
    // Assess
    expect(retried).toMatchObject({ outcome: 'submitted', jobId: 'job-2' });
    expect(jobs.map((job) => job.Id)).toEqual(['old', 'job-2']);
    expect(table.revision('big-buck', REVISION)?.submittingSince).toBe(START.toISOString());
  });

  it('creates no job when a concurrent delivery submitted the revision while this one was probing', async () => {
    // Prepare: while this delivery probes, another one submits the revision.
    mediaConvert.on(ProbeCommand).callsFake(async () => {
      const key = `big-buck|rev#${REVISION}`;
      table.items.set(key, { ...table.items.get(key)!, status: 'SUBMITTED', jobId: 'theirs', submittingSince: START.toISOString() });
      return { ProbeResults: [proresMaster] };
    });
    // Act
    const outcome = await handler()(uploaded('uploads/Big Buck.mov'));
    // Assess
    expect(outcome).toEqual({ outcome: 'duplicate', assetId: 'big-buck', revision: REVISION, status: 'SUBMITTED' });
    expect(mediaConvert.commandCalls(CreateJobCommand)).toHaveLength(0);
    expect(table.revision('big-buck', REVISION)).toMatchObject({ status: 'SUBMITTED', jobId: 'theirs' });
  });

  it('records when CreateJob was first attempted and keeps that time on later attempts', async () => {
    // Prepare
    fakeMediaConvert({ firstCreate: serviceError('InternalServerErrorException', 500) });
    const submit = handler();
    await expect(submit(uploaded('uploads/Big Buck.mov'))).rejects.toThrow();
    // Act
    clock = new Date(START.getTime() + 61_000);
    await submit(uploaded('uploads/Big Buck.mov'));
    // Assess
    expect(table.revision('big-buck', REVISION)).toMatchObject({ status: 'SUBMITTED', submittingSince: START.toISOString(), attempts: 2 });
  });
});

describe('submit-job: permanent and transient failures (ADR 0025)', () => {
  it.each([
    ['403 ForbiddenException', new ForbiddenException({ message: 'Access Denied to s3://acme-uploads/uploads/x.mov', $metadata: { httpStatusCode: 403 } }), 'ACCESS_DENIED'],
    ['404 NotFoundException', new NotFoundException({ message: 'Input file not found', $metadata: { httpStatusCode: 404 } }), 'SOURCE_MISSING'],
    ['400 BadRequestException (corrupt media)', new BadRequestException({ message: 'Unable to open input file: moov atom not found', $metadata: { httpStatusCode: 400 } }), 'UNREADABLE'],
  ])('fails at once on a permanent Probe error: %s', async (_, error, code) => {
    // Prepare
    mediaConvert.on(ProbeCommand).rejects(error);
    // Act
    const outcome = await handler()(uploaded('uploads/Big Buck.mov'));
    // Assess
    expect(outcome).toMatchObject({ outcome: 'failed', reason: expect.stringContaining(error.message) });
    expect(table.revision('big-buck', REVISION)).toMatchObject({ status: 'FAILED', errorCode: code, attempts: 1 });
    expect(publishedEvents(eventBridge)).toEqual([expect.objectContaining({ DetailType: 'Asset Failed', Detail: expect.objectContaining({ errorCode: code }) })]);
  });

  it.each([
    ['429 TooManyRequestsException', new TooManyRequestsException({ message: 'Too Many Requests', $metadata: { httpStatusCode: 429 } })],
    ['500 InternalServerErrorException', new InternalServerErrorException({ message: 'Internal error', $metadata: { httpStatusCode: 500 } })],
    ['503 with no modelled name', serviceError('ServiceUnavailable', 503)],
    ['a network error (no HTTP answer)', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
  ])('throws on a transient Probe error before the last attempt: %s', async (_, error) => {
    // Prepare
    mediaConvert.on(ProbeCommand).rejects(error);
    // Act + Assess
    await expect(handler()(uploaded('uploads/Big Buck.mov'))).rejects.toBe(error);
    expect(table.revision('big-buck', REVISION)).toMatchObject({ status: 'RECEIVED', attempts: 1 });
    expect(publishedEvents(eventBridge)).toEqual([]);
  });

  it('fails the revision with the error on the last attempt instead of leaving it RECEIVED', async () => {
    // Prepare
    mediaConvert.on(ProbeCommand).rejects(new InternalServerErrorException({ message: 'Internal error', $metadata: { httpStatusCode: 500 } }));
    const submit = handler();
    // Act: the first invocation and Lambda's two retries.
    await expect(submit(uploaded('uploads/Big Buck.mov'))).rejects.toThrow('Internal error');
    await expect(submit(uploaded('uploads/Big Buck.mov'))).rejects.toThrow('Internal error');
    const last = await submit(uploaded('uploads/Big Buck.mov'));
    // Assess
    expect(last).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('after 3 attempts') });
    expect(table.revision('big-buck', REVISION)).toMatchObject({
      status: 'FAILED',
      errorCode: 'RETRIES_EXHAUSTED',
      errorReason: expect.stringContaining('InternalServerErrorException: Internal error'),
      attempts: 3,
    });
    expect(table.head('big-buck')).toMatchObject({ status: 'FAILED' });
    expect(publishedEvents(eventBridge)).toEqual([expect.objectContaining({ DetailType: 'Asset Failed', Detail: expect.objectContaining({ errorCode: 'RETRIES_EXHAUSTED' }) })]);
    expect(mediaConvert.commandCalls(CreateJobCommand)).toHaveLength(0);
  });

  it('fails on the first transient error when the function is invoked only once', async () => {
    // Prepare
    mediaConvert.on(ProbeCommand).rejects(new TooManyRequestsException({ message: 'Too Many Requests', $metadata: { httpStatusCode: 429 } }));
    // Act
    const outcome = await handler({ invocationAttempts: 1 })(uploaded('uploads/Big Buck.mov'));
    // Assess
    expect(outcome).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('after 1 attempt:') });
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
      SURROUND_AUDIO: 'true',
      INVOCATION_ATTEMPTS: '3',
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
      surroundAudio: true,
      invocationAttempts: 3,
    });
  });

  it('names the missing or bad variable', () => {
    expect(() => submitJobConfig.decode({})).toThrow('STACK_NAME');
    expect(() =>
      submitJobConfig.decode({ ASSETS_TABLE_NAME: 'a', ORIGIN_BUCKET_NAME: 'b', MEDIACONVERT_ROLE_ARN: 'c', EVENT_BUS_NAME: 'd', STACK_NAME: 'e', LADDER: 'huge', PER_TITLE: 'false' }),
    ).toThrow('environment variable LADDER ("huge"): must be one of standard, compact');
  });
});

describe('submit-job caption and subtitle sidecars (ADR 0018)', () => {
  it('turns the sidecars next to the master into caption selectors and WebVTT outputs, and leaves other files alone', async () => {
    // Prepare: two sidecars of this master, one of another master, one unsupported format.
    for (const key of ['uploads/My Film (Final).de.vtt', 'uploads/My Film (Final).en.cc.srt', 'uploads/My Film (Final) 2.fr.vtt', 'uploads/My Film (Final).en.ttml']) bucket.set(key, 'x');
    // Act
    const outcome = await handler()(uploaded('uploads/My Film (Final).mov'));
    // Assess
    expect(outcome).toMatchObject({ outcome: 'submitted' });
    expect(s3.commandCalls(ListObjectsV2Command)[0]!.args[0].input).toMatchObject({ Bucket: 'acme-uploads', Prefix: 'uploads/My Film (Final).' });
    const input = mediaConvert.commandCalls(CreateJobCommand)[0]!.args[0].input.Settings!.Inputs![0]!;
    // The master's own CEA-608 track comes first (proresMaster has one), then the sidecars by key.
    expect(Object.values(input.CaptionSelectors!).map((selector) => [selector.SourceSettings!.SourceType, selector.SourceSettings!.FileSourceSettings?.SourceFile])).toEqual([
      ['EMBEDDED', undefined],
      ['WEBVTT', 's3://acme-uploads/uploads/My Film (Final).de.vtt'],
      ['SRT', 's3://acme-uploads/uploads/My Film (Final).en.cc.srt'],
    ]);
  });

  it('retries when S3 cannot list the folder for now, and fails with a reason when it refuses', async () => {
    // Prepare
    s3.on(ListObjectsV2Command).rejectsOnce(serviceError('SlowDown', 503)).rejects(serviceError('AccessDenied', 403));
    // Act + Assess: transient → throw (Lambda retries); permanent → FAILED with the reason.
    await expect(handler()(uploaded('uploads/Big Buck.mov'))).rejects.toThrow();
    const outcome = await handler()(uploaded('uploads/Big Buck.mov'));
    expect(outcome).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('S3 refused to list the caption files') });
    expect(mediaConvert.commandCalls(CreateJobCommand)).toHaveLength(0);
  });

  it('gives a master with a second language and 5.1 one rendition per track, with E-AC-3 when configured', async () => {
    // Prepare
    const video = proresMaster.Container!.Tracks!.find((track) => track.TrackType === 'video')!;
    mediaConvert.on(ProbeCommand).resolves({
      ProbeResults: [{
        ...proresMaster,
        Container: { ...proresMaster.Container, Tracks: [video, { Index: 2, TrackType: 'audio', AudioProperties: { Channels: 2, LanguageCode: 'eng' } }, { Index: 3, TrackType: 'audio', AudioProperties: { Channels: 6, LanguageCode: 'deu' } }] },
        TrackMappings: [{ VideoTrackIndexes: [1], AudioTrackIndexes: [2, 3] }],
      }],
    });
    // Act
    await handler({ surroundAudio: true })(uploaded('uploads/Big Buck.mov'));
    // Assess
    const outputs = mediaConvert.commandCalls(CreateJobCommand)[0]!.args[0].input.Settings!.OutputGroups![0]!.Outputs!;
    expect(outputs.filter((output) => output.AudioDescriptions).map((output) => output.NameModifier)).toEqual(['_aac-stereo-128k', '_aac-stereo-128k-de', '_eac3-5.1-384k-de']);
  });
});
