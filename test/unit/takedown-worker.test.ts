import { CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { CancelJobCommand, ConflictException, GetJobCommand, MediaConvertClient } from '@aws-sdk/client-mediaconvert';
import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { EventBridgeEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Revision, TakedownRecord } from '../../core/asset-status';
import { createTakedownWorker, JobStillRunningError } from '../../lambdas/takedown-worker';
import { publishedEvents } from '../support/published-events';

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
const s3 = new S3Client({ region: 'eu-west-1' });
const cloudfront = new CloudFrontClient({ region: 'us-east-1' });
const mediaconvert = new MediaConvertClient({ region: 'eu-west-1' });
const events = new EventBridgeClient({ region: 'eu-west-1' });
const [dynamo, s3Mock, cfMock, mcMock, ebMock] = [mockClient(documents), mockClient(s3), mockClient(cloudfront), mockClient(mediaconvert), mockClient(events)];

const REQUESTED = '2026-12-02T09:00:00.000Z';
const NOW = '2026-12-02T09:00:05.000Z';
const R1 = '20261201-080000-aaaaaaaaaaaaaaaaaaaaaaaa';
const R2 = '20261202-085900-bbbbbbbbbbbbbbbbbbbbbbbb';
const R3 = '20261202-100000-cccccccccccccccccccccccc';
let pauses = 0;
const worker = createTakedownWorker({
  documents,
  s3,
  cloudfront,
  mediaconvert,
  events,
  assetsTableName: 'Assets',
  originBucketName: 'origin',
  distributionIds: ['E1', 'E2', 'E3'],
  eventBusName: 'catalog',
  now: () => new Date(NOW),
  pause: async () => void pauses++,
});
const requested = (detail: unknown = { assetId: 'big-buck', requestedAt: REQUESTED }) =>
  ({ source: 'streaming.catalog', 'detail-type': 'Asset Takedown Requested', detail }) as EventBridgeEvent<string, unknown>;

const revision = (id: string, status: Revision['status'], uploadedAt: string, jobId?: string) => ({
  assetId: 'big-buck',
  sk: `rev#${id}`,
  revision: id,
  status,
  uploadedAt,
  sourceBucket: 'uploads',
  sourceKey: 'uploads/big-buck.mov',
  createdAt: uploadedAt,
  updatedAt: uploadedAt,
  ...(jobId ? { jobId } : {}),
});

/** The takedown record as the catalog holds it; what `claimTakedown` returns and the final read sees. */
let record: TakedownRecord;
/** Every catalog write the worker made, by what it did. */
const writes = () =>
  dynamo.commandCalls(UpdateCommand).map((call) => {
    const input = call.args[0].input;
    const names = Object.values(input.ExpressionAttributeNames ?? {});
    if (input.UpdateExpression!.includes('#attempts')) return 'claim';
    if (names.includes('jobsSettledAt')) return `jobs-settled ${JSON.stringify(input.ExpressionAttributeValues![':s0'])}`;
    if (names.includes('deletedObjects')) return `deleted +${input.ExpressionAttributeValues![':a0']}`;
    if (names.includes('objectsDeletedAt')) return 'objects-deleted';
    if (names.includes('invalidations')) return `invalidation ${names.at(-1)}=${input.ExpressionAttributeValues![':mapValue']}`;
    if (names.includes('completedAt')) return input.ConditionExpression!.includes('#deletedAt') ? 'complete head' : 'complete record';
    if (names.includes('lastError')) return `failure ${(input.ExpressionAttributeValues![':s0'] as { message: string }).message}`;
    return `unknown ${input.UpdateExpression}`;
  });

beforeEach(() => {
  for (const m of [dynamo, s3Mock, cfMock, mcMock, ebMock]) m.reset();
  pauses = 0;
  record = { requestedAt: REQUESTED, status: 'PENDING', attempts: 1, deletedObjects: 0, invalidations: {}, leaseUntil: '2026-12-02T09:05:05.000Z' };
  dynamo.on(UpdateCommand).callsFake((input: { UpdateExpression: string }) =>
    input.UpdateExpression.includes('#attempts') ? { Attributes: { assetId: 'big-buck', sk: 'asset', status: 'TAKEDOWN_PENDING', takedown: record } } : {},
  );
  dynamo.on(GetCommand).callsFake(() => ({ Item: { assetId: 'big-buck', sk: 'asset', status: 'TAKEDOWN_PENDING', takedown: record } }));
  dynamo.on(QueryCommand).resolves({ Items: [revision(R1, 'READY', '2026-12-01T08:00:00.000Z', 'job-1')] });
  s3Mock.on(ListObjectsV2Command).resolves({ Contents: [{ Key: `media/big-buck/${R1}/main.m3u8` }], IsTruncated: false });
  s3Mock.on(DeleteObjectsCommand).resolves({});
  cfMock.on(CreateInvalidationCommand).callsFake((input: { DistributionId: string }) => ({ Invalidation: { Id: `I-${input.DistributionId}` } }));
  mcMock.on(CancelJobCommand).resolves({});
  mcMock.on(GetJobCommand).resolves({ Job: { Status: 'CANCELED' } as never });
  ebMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
});

describe('takedown worker', () => {
  it('cancels running jobs, then deletes the origin objects, then invalidates every distribution, then announces and records TAKEN_DOWN', async () => {
    // Prepare
    const order: string[] = [];
    dynamo.on(QueryCommand).resolves({ Items: [revision(R2, 'PROGRESSING', '2026-12-02T08:59:00.000Z', 'job-2')] });
    mcMock.on(CancelJobCommand).callsFake(() => (order.push('cancel'), {}));
    s3Mock.on(DeleteObjectsCommand).callsFake(() => (order.push('delete'), {}));
    cfMock.on(CreateInvalidationCommand).callsFake((input: { DistributionId: string }) => (order.push(`invalidate ${input.DistributionId}`), { Invalidation: { Id: `I-${input.DistributionId}` } }));
    ebMock.on(PutEventsCommand).callsFake(() => (order.push('announce'), { FailedEntryCount: 0 }));

    // Act
    await worker(requested());

    // Assess
    expect(order).toEqual(['cancel', 'delete', 'invalidate E1', 'invalidate E2', 'invalidate E3', 'announce']);
    expect(writes()).toEqual([
      'claim',
      'jobs-settled ["job-2"]',
      'deleted +1',
      'objects-deleted',
      'invalidation E1=I-E1',
      'invalidation E2=I-E2',
      'invalidation E3=I-E3',
      'complete head',
    ]);
    const invalidations = cfMock.commandCalls(CreateInvalidationCommand).map((c) => c.args[0].input.InvalidationBatch);
    for (const batch of invalidations) {
      expect(batch).toEqual({ CallerReference: `takedown-big-buck-${REQUESTED}`, Paths: { Quantity: 1, Items: ['/media/big-buck/*'] } });
    }
  });

  it('announces Asset Removed with the counts and invalidation ids the catalog recorded', async () => {
    // Prepare: the final read sees what the steps wrote.
    dynamo.on(GetCommand).resolves({
      Item: { assetId: 'big-buck', sk: 'asset', takedown: { ...record, canceledJobs: ['job-2'], deletedObjects: 7, invalidations: { E1: 'I1', E2: 'I2', E3: 'I3' } } },
    });
    // Act
    await worker(requested());
    // Assess
    expect(publishedEvents(ebMock)).toEqual([
      expect.objectContaining({
        EventBusName: 'catalog',
        DetailType: 'Asset Removed',
        Detail: {
          assetId: 'big-buck',
          requestedAt: REQUESTED,
          deletedObjects: 7,
          canceledJobs: ['job-2'],
          distributions: ['E1', 'E2', 'E3'],
          invalidations: [
            { distributionId: 'E1', invalidationId: 'I1' },
            { distributionId: 'E2', invalidationId: 'I2' },
            { distributionId: 'E3', invalidationId: 'I3' },
          ],
        },
      }),
    ]);
  });

  it('cancels only the jobs of revisions uploaded before the takedown that are still running; a job that already ended is fine', async () => {
    // Prepare
    dynamo.on(QueryCommand).resolves({
      Items: [
        revision(R1, 'READY', '2026-12-01T08:00:00.000Z', 'job-1'),
        revision(R2, 'PROGRESSING', '2026-12-02T08:59:00.000Z', 'job-2'),
        { ...revision('20261202-085930-dddddddddddddddddddddddd', 'SUBMITTED', '2026-12-02T08:59:30.000Z', 'job-4') },
        revision(R3, 'SUBMITTED', '2026-12-02T10:00:00.000Z', 'job-3'),
      ],
    });
    mcMock.on(CancelJobCommand, { Id: 'job-4' }).rejects(new ConflictException({ message: 'job is complete', $metadata: {} }));
    mcMock.on(GetJobCommand, { Id: 'job-4' }).resolves({ Job: { Status: 'COMPLETE' } as never });

    // Act
    await worker(requested());

    // Assess
    expect(mcMock.commandCalls(CancelJobCommand).map((c) => c.args[0].input.Id)).toEqual(['job-2', 'job-4']);
    expect(writes()).toContain('jobs-settled ["job-2"]');
  });

  it('waits for a cancelled job to end, and fails the attempt (recording why) when it does not', async () => {
    // Prepare
    dynamo.on(QueryCommand).resolves({ Items: [revision(R2, 'PROGRESSING', '2026-12-02T08:59:00.000Z', 'job-2')] });
    mcMock.on(GetJobCommand).resolves({ Job: { Status: 'PROGRESSING' } as never });

    // Act + Assess
    await expect(worker(requested())).rejects.toThrow(JobStillRunningError);
    expect(pauses).toBe(10);
    expect(s3Mock.commandCalls(DeleteObjectsCommand)).toHaveLength(0);
    expect(writes()).toEqual(['claim', 'failure MediaConvert job job-2 has not ended 20 s after CancelJob']);
  });

  it('deletes every page under media/<assetId>/ except the revisions uploaded after the takedown, counting each page', async () => {
    // Prepare
    dynamo.on(QueryCommand).resolves({ Items: [revision(R1, 'READY', '2026-12-01T08:00:00.000Z', 'job-1'), revision(R3, 'READY', '2026-12-02T10:00:00.000Z', 'job-3')] });
    s3Mock
      .on(ListObjectsV2Command)
      .resolvesOnce({ Contents: [{ Key: `media/big-buck/${R1}/a.m4s` }, { Key: `media/big-buck/${R3}/a.m4s` }], IsTruncated: true, NextContinuationToken: 't' })
      .resolvesOnce({ Contents: [{ Key: `media/big-buck/${R1}/b.m4s` }, { Key: 'media/big-buck/stray.txt' }], IsTruncated: false });

    // Act
    await worker(requested());

    // Assess
    expect(s3Mock.commandCalls(ListObjectsV2Command).map((c) => [c.args[0].input.Prefix, c.args[0].input.ContinuationToken])).toEqual([
      ['media/big-buck/', undefined],
      ['media/big-buck/', 't'],
    ]);
    expect(s3Mock.commandCalls(DeleteObjectsCommand).map((c) => c.args[0].input.Delete!.Objects!.map((o) => o.Key))).toEqual([
      [`media/big-buck/${R1}/a.m4s`],
      [`media/big-buck/${R1}/b.m4s`, 'media/big-buck/stray.txt'],
    ]);
    expect(writes().filter((w) => w.startsWith('deleted'))).toEqual(['deleted +1', 'deleted +2']);
  });

  it('fails loudly on per-key delete errors, invalidates nothing and records the failure for the retry', async () => {
    s3Mock.on(DeleteObjectsCommand).resolves({ Errors: [{ Key: `media/big-buck/${R1}/main.m3u8`, Code: 'AccessDenied' }] });
    await expect(worker(requested())).rejects.toThrow(/could not delete 1 objects under media\/big-buck\//);
    expect(cfMock.commandCalls(CreateInvalidationCommand)).toHaveLength(0);
    expect(writes()).toEqual(['claim', 'jobs-settled []', expect.stringMatching(/^failure could not delete 1 objects/)]);
  });

  it('finishes a partly failed takedown on the retry without repeating the steps that were done', async () => {
    // Prepare: the first attempt fails at the second distribution.
    let throttled = false;
    cfMock.on(CreateInvalidationCommand).callsFake((input: { DistributionId: string }) => {
      if (input.DistributionId === 'E2' && !throttled) throw ((throttled = true), new Error('Throttling: Rate exceeded'));
      return { Invalidation: { Id: `I-${input.DistributionId}` } };
    });
    await expect(worker(requested())).rejects.toThrow(/Rate exceeded/);
    expect(writes()).toEqual(['claim', 'jobs-settled []', 'deleted +1', 'objects-deleted', 'invalidation E1=I-E1', 'failure Throttling: Rate exceeded']);
    expect(ebMock.calls()).toHaveLength(0);
    // What the first attempt recorded is what the retry's claim returns.
    record = { ...record, attempts: 2, canceledJobs: [], jobsSettledAt: NOW, deletedObjects: 1, objectsDeletedAt: NOW, invalidations: { E1: 'I-E1' } };
    for (const m of [dynamo, s3Mock, cfMock, mcMock]) m.resetHistory();

    // Act
    await worker(requested());

    // Assess
    expect(mcMock.calls()).toHaveLength(0);
    expect(s3Mock.calls()).toHaveLength(0);
    expect(cfMock.commandCalls(CreateInvalidationCommand).map((c) => c.args[0].input.DistributionId)).toEqual(['E2', 'E3']);
    expect(writes()).toEqual(['claim', 'invalidation E2=I-E2', 'invalidation E3=I-E3', 'complete head']);
    expect(publishedEvents(ebMock).map((e) => e.DetailType)).toEqual(['Asset Removed']);
  });

  it('does nothing for a takedown that is done, replaced or held by another worker (the claim is refused)', async () => {
    dynamo.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
    await worker(requested());
    for (const m of [s3Mock, cfMock, mcMock, ebMock]) expect(m.calls()).toHaveLength(0);
    expect(dynamo.commandCalls(UpdateCommand)).toHaveLength(1);
  });

  it('stops quietly when a newer takedown replaces this one mid-way', async () => {
    // Prepare: every write after the claim is refused (the record's requestedAt changed).
    dynamo.on(UpdateCommand).callsFake((input: { UpdateExpression: string }) => {
      if (input.UpdateExpression.includes('#attempts')) return { Attributes: { assetId: 'big-buck', sk: 'asset', takedown: record } };
      throw new ConditionalCheckFailedException({ message: 'replaced', $metadata: {} });
    });
    // Act
    await worker(requested());
    // Assess
    expect(s3Mock.commandCalls(DeleteObjectsCommand)).toHaveLength(0);
    expect(writes()).toEqual(['claim', 'jobs-settled []']);
  });

  it('records TAKEN_DOWN on the record only when an upload revived the asset meanwhile', async () => {
    dynamo.on(UpdateCommand).callsFake((input: { UpdateExpression: string; ConditionExpression: string }) => {
      if (input.UpdateExpression.includes('#attempts')) return { Attributes: { assetId: 'big-buck', sk: 'asset', takedown: record } };
      if (input.ConditionExpression.includes('#deletedAt')) throw new ConditionalCheckFailedException({ message: 'revived', $metadata: {} });
      return {};
    });
    await worker(requested());
    expect(writes().slice(-2)).toEqual(['complete head', 'complete record']);
  });

  it.each([[{}], [{ assetId: '../x', requestedAt: REQUESTED }], [{ assetId: 'big-buck', requestedAt: 'yesterday' }]])(
    'ignores an event that is not a takedown request: %j',
    async (detail) => {
      await worker(requested(detail));
      expect(dynamo.calls()).toHaveLength(0);
    },
  );
});
