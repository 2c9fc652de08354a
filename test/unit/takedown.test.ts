import { CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createTakedownHandler } from '../../lambdas/takedown';

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
const s3 = new S3Client({ region: 'eu-west-1' });
const cloudfront = new CloudFrontClient({ region: 'us-east-1' });
const events = new EventBridgeClient({ region: 'eu-west-1' });
const [dynamo, s3Mock, cfMock, ebMock] = [mockClient(documents), mockClient(s3), mockClient(cloudfront), mockClient(events)];

const handler = createTakedownHandler({
  documents,
  s3,
  cloudfront,
  events,
  assetsTableName: 'Assets',
  originBucketName: 'origin',
  distributionIds: ['E1', 'E2', 'E3'],
  eventBusName: 'catalog',
  now: () => new Date('2026-11-24T09:00:00Z'),
});
const del = (assetId: string) => ({ pathParameters: { assetId } }) as unknown as APIGatewayProxyEventV2;

beforeEach(() => {
  for (const m of [dynamo, s3Mock, cfMock, ebMock]) m.reset();
  dynamo.on(GetCommand).resolves({ Item: { assetId: 'big-buck', sk: 'asset', currentRevision: 'r1' } });
  dynamo.on(UpdateCommand).resolves({});
  cfMock.on(CreateInvalidationCommand).resolves({ Invalidation: { Id: 'I1', Status: 'InProgress', CreateTime: new Date(), InvalidationBatch: undefined } });
  ebMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
});

describe('takedown: DELETE /assets/{assetId}', () => {
  it('marks the asset deleted, deletes every origin object page by page and invalidates every distribution', async () => {
    s3Mock
      .on(ListObjectsV2Command)
      .resolvesOnce({ Contents: [{ Key: 'media/big-buck/r1/main.m3u8' }, { Key: 'media/big-buck/r1/seg1.m4s' }], IsTruncated: true, NextContinuationToken: 't' })
      .resolvesOnce({ Contents: [{ Key: 'media/big-buck/r2/main.mpd' }], IsTruncated: false });
    s3Mock.on(DeleteObjectsCommand).resolves({});

    const result = await handler(del('big-buck'));

    expect(result.statusCode).toBe(202);
    expect(JSON.parse(result.body!)).toMatchObject({ assetId: 'big-buck', status: 'DELETED', deletedObjects: 3 });
    expect(dynamo.commandCalls(UpdateCommand)[0]!.args[0].input.ExpressionAttributeValues).toMatchObject({ ':deleted': 'DELETED' });
    expect(s3Mock.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input.Prefix)).toEqual(['media/big-buck/', 'media/big-buck/']);
    const invalidations = cfMock.commandCalls(CreateInvalidationCommand).map((c) => c.args[0].input);
    expect(invalidations.map((i) => i.DistributionId)).toEqual(['E1', 'E2', 'E3']);
    for (const i of invalidations) expect(i.InvalidationBatch!.Paths!.Items).toEqual(['/media/big-buck/*']);
    expect(JSON.parse(ebMock.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!.Detail!)).toMatchObject({ assetId: 'big-buck', deletedObjects: 3 });
  });

  it('marks the catalog before deleting so no new session is signed mid-takedown', async () => {
    const order: string[] = [];
    dynamo.on(UpdateCommand).callsFake(() => (order.push('catalog'), {}));
    s3Mock.on(ListObjectsV2Command).callsFake(() => (order.push('list'), { Contents: [{ Key: 'media/big-buck/r1/a' }], IsTruncated: false }));
    s3Mock.on(DeleteObjectsCommand).callsFake(() => (order.push('delete'), {}));
    cfMock.on(CreateInvalidationCommand).callsFake(() => (order.push('invalidate'), { Invalidation: { Id: 'I' } }));

    await handler(del('big-buck'));

    expect(order).toEqual(['catalog', 'list', 'delete', 'invalidate', 'invalidate', 'invalidate']);
  });

  it('fails loudly when S3 reports per-key delete errors, so the operator can retry', async () => {
    s3Mock.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'media/big-buck/r1/a' }], IsTruncated: false });
    s3Mock.on(DeleteObjectsCommand).resolves({ Errors: [{ Key: 'media/big-buck/r1/a', Code: 'AccessDenied' }] });
    await expect(handler(del('big-buck'))).rejects.toThrow(/could not delete 1 objects/);
    expect(cfMock.commandCalls(CreateInvalidationCommand)).toHaveLength(0);
  });

  it('answers 404 for an unknown asset and touches nothing', async () => {
    dynamo.on(GetCommand).resolves({});
    expect((await handler(del('ghost'))).statusCode).toBe(404);
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it('answers 404 when the asset disappears between read and update', async () => {
    dynamo.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
    expect((await handler(del('big-buck'))).statusCode).toBe(404);
  });

  it('answers 400 for something that is not an asset id', async () => {
    expect((await handler(del('../etc'))).statusCode).toBe(400);
    expect(dynamo.calls()).toHaveLength(0);
  });
});
