import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AssetHead, TakedownRecord } from '../../core/asset-status';
import { createTakedownHandler } from '../../lambdas/takedown';
import { publishedEvents } from '../support/published-events';

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
const events = new EventBridgeClient({ region: 'eu-west-1' });
const [dynamo, eventBridge] = [mockClient(documents), mockClient(events)];

const NOW = '2026-12-02T09:00:00.000Z';
const EARLIER = '2026-12-02T08:00:00.000Z';
const handler = createTakedownHandler({ documents, events, assetsTableName: 'Assets', eventBusName: 'catalog', now: () => new Date(NOW) });
const request = (method: 'DELETE' | 'GET', assetId: string) =>
  ({ pathParameters: { assetId }, requestContext: { http: { method } } }) as unknown as APIGatewayProxyEventV2;
const body = (result: { body?: string }) => JSON.parse(result.body!);

const READY: AssetHead = { assetId: 'big-buck', status: 'READY', latestRevision: 'r1', currentRevision: 'r1', version: 3, updatedAt: EARLIER };
const PENDING: TakedownRecord = { requestedAt: EARLIER, status: 'PENDING', attempts: 1, deletedObjects: 12, invalidations: { E1: 'I1' } };
const DONE: TakedownRecord = {
  requestedAt: EARLIER,
  status: 'TAKEN_DOWN',
  attempts: 2,
  canceledJobs: ['job-2'],
  jobsSettledAt: EARLIER,
  deletedObjects: 40,
  objectsDeletedAt: EARLIER,
  invalidations: { E1: 'I1', E2: 'I2' },
  completedAt: '2026-12-02T08:01:00.000Z',
};
const takenDown = (record: TakedownRecord): AssetHead => ({
  ...READY,
  status: record.status === 'PENDING' ? 'TAKEDOWN_PENDING' : 'TAKEN_DOWN',
  deletedAt: record.requestedAt,
  takedown: record,
});

beforeEach(() => {
  dynamo.reset();
  eventBridge.reset();
  dynamo.on(GetCommand).resolves({ Item: { ...READY, sk: 'asset' } });
  dynamo.on(UpdateCommand).resolves({});
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
});

describe('takedown API: DELETE /assets/{assetId}', () => {
  it('answers 202 at once with the status URL, the asset marked pending and the request on the bus', async () => {
    // Act
    const result = await handler(request('DELETE', 'big-buck'));

    // Assess
    expect(result.statusCode).toBe(202);
    expect(result.headers).toMatchObject({ location: '/assets/big-buck' });
    expect(body(result)).toEqual({
      assetId: 'big-buck',
      status: 'TAKEDOWN_PENDING',
      latestRevision: 'r1',
      currentRevision: 'r1',
      updatedAt: NOW,
      statusUrl: '/assets/big-buck',
      takedown: { status: 'PENDING', requestedAt: NOW, attempts: 0, canceledJobs: [], deletedObjects: 0, invalidations: [] },
    });
    const write = dynamo.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(write.ExpressionAttributeValues).toMatchObject({ ':pending': 'TAKEDOWN_PENDING', ':at': NOW, ':record': { requestedAt: NOW, status: 'PENDING' } });
    expect(publishedEvents(eventBridge)).toEqual([
      expect.objectContaining({ EventBusName: 'catalog', Source: 'streaming.catalog', DetailType: 'Asset Takedown Requested', Detail: { assetId: 'big-buck', requestedAt: NOW } }),
    ]);
  });

  it('marks the catalog before the request goes out, so no session is signed once the worker runs', async () => {
    // Prepare
    const order: string[] = [];
    dynamo.on(UpdateCommand).callsFake(() => (order.push('catalog'), {}));
    eventBridge.on(PutEventsCommand).callsFake(() => (order.push('event'), { FailedEntryCount: 0 }));
    // Act
    await handler(request('DELETE', 'big-buck'));
    // Assess
    expect(order).toEqual(['catalog', 'event']);
  });

  it('answers a repeat while pending with the same status, writes nothing and hands the same takedown to the worker again', async () => {
    // Prepare
    dynamo.on(GetCommand).resolves({ Item: { ...takenDown(PENDING), sk: 'asset' } });
    // Act
    const result = await handler(request('DELETE', 'big-buck'));
    // Assess
    expect(result.statusCode).toBe(202);
    expect(body(result)).toMatchObject({ status: 'TAKEDOWN_PENDING', takedown: { status: 'PENDING', requestedAt: EARLIER, deletedObjects: 12 } });
    expect(dynamo.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(publishedEvents(eventBridge).map((e) => e.Detail)).toEqual([{ assetId: 'big-buck', requestedAt: EARLIER }]);
  });

  it('answers a repeat after the takedown finished with its result and starts no work', async () => {
    // Prepare
    dynamo.on(GetCommand).resolves({ Item: { ...takenDown(DONE), sk: 'asset' } });
    // Act
    const result = await handler(request('DELETE', 'big-buck'));
    // Assess
    expect(result.statusCode).toBe(202);
    expect(body(result).takedown).toEqual({
      status: 'TAKEN_DOWN',
      requestedAt: EARLIER,
      completedAt: '2026-12-02T08:01:00.000Z',
      attempts: 2,
      canceledJobs: ['job-2'],
      deletedObjects: 40,
      invalidations: [
        { distributionId: 'E1', invalidationId: 'I1' },
        { distributionId: 'E2', invalidationId: 'I2' },
      ],
    });
    expect(dynamo.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it('answers a DELETE that lost the race to a concurrent one like a repeat of the winner', async () => {
    // Prepare
    dynamo.on(GetCommand).resolvesOnce({ Item: { ...READY, sk: 'asset' } }).resolves({ Item: { ...takenDown(PENDING), sk: 'asset' } });
    dynamo.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'taken', $metadata: {} }));
    // Act
    const result = await handler(request('DELETE', 'big-buck'));
    // Assess
    expect(result.statusCode).toBe(202);
    expect(body(result).takedown.requestedAt).toBe(EARLIER);
    expect(publishedEvents(eventBridge).map((e) => e.Detail.requestedAt)).toEqual([EARLIER]);
  });

  it('starts a new takedown for an asset an upload revived after an earlier one', async () => {
    // Prepare
    dynamo.on(GetCommand).resolves({ Item: { ...takenDown(DONE), status: 'PROGRESSING', latestRevision: 'r2', sk: 'asset' } });
    // Act
    const result = await handler(request('DELETE', 'big-buck'));
    // Assess
    expect(body(result)).toMatchObject({ status: 'TAKEDOWN_PENDING', takedown: { status: 'PENDING', requestedAt: NOW, deletedObjects: 0 } });
    expect(dynamo.commandCalls(UpdateCommand)).toHaveLength(1);
  });

  it('fails the call when EventBridge refuses the request, leaving the takedown pending for the caller to ask again', async () => {
    // Prepare
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try later' }] });
    // Act + Assess
    await expect(handler(request('DELETE', 'big-buck'))).rejects.toThrow(/Asset Takedown Requested not published: InternalFailure/);
    expect(dynamo.commandCalls(UpdateCommand)).toHaveLength(1);
  });

  it('answers 404 for an unknown asset and writes nothing', async () => {
    dynamo.on(GetCommand).resolves({});
    const result = await handler(request('DELETE', 'ghost'));
    expect(result.statusCode).toBe(404);
    expect(dynamo.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(eventBridge.calls()).toHaveLength(0);
  });

  it.each(['../etc', 'Big_Buck', ''])('answers 400 for %j, which is not an asset id, and reads nothing', async (assetId) => {
    expect((await handler(request('DELETE', assetId))).statusCode).toBe(400);
    expect(dynamo.calls()).toHaveLength(0);
  });
});

describe('takedown API: GET /assets/{assetId}', () => {
  it('shows a pending takedown with its progress so far', async () => {
    dynamo.on(GetCommand).resolves({ Item: { ...takenDown({ ...PENDING, lastError: { at: NOW, message: 'CloudFront throttled' } }), sk: 'asset' } });
    const result = await handler(request('GET', 'big-buck'));
    expect(result.statusCode).toBe(200);
    expect(body(result)).toMatchObject({
      status: 'TAKEDOWN_PENDING',
      statusUrl: '/assets/big-buck',
      takedown: { status: 'PENDING', attempts: 1, deletedObjects: 12, invalidations: [{ distributionId: 'E1', invalidationId: 'I1' }], lastError: { at: NOW, message: 'CloudFront throttled' } },
    });
    expect(dynamo.commandCalls(GetCommand)[0]!.args[0].input).toMatchObject({ Key: { assetId: 'big-buck', sk: 'asset' }, ConsistentRead: true });
  });

  it('shows an asset never taken down without a takedown', async () => {
    const result = await handler(request('GET', 'big-buck'));
    expect(body(result)).toEqual({ assetId: 'big-buck', status: 'READY', latestRevision: 'r1', currentRevision: 'r1', updatedAt: EARLIER, statusUrl: '/assets/big-buck' });
  });

  it('answers 404 for an unknown asset and 400 for a bad id', async () => {
    dynamo.on(GetCommand).resolves({});
    expect((await handler(request('GET', 'ghost'))).statusCode).toBe(404);
    expect((await handler(request('GET', 'NOT AN ID'))).statusCode).toBe(400);
  });
});
