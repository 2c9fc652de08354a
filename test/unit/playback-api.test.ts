import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { generateInitialKeyring } from '../../core/keyring';
import { splitTokenPath } from '../../core/token-path';
import { verifyToken } from '../../core/token';
import { createPlaybackApiHandler } from '../../lambdas/playback-api';

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
const dynamo = mockClient(documents);
const keyring = generateInitialKeyring({ nowSeconds: 1_700_000_000 });
const NOW_MS = 1_800_000_000_000;

const handler = createPlaybackApiHandler({
  documents,
  keyring: { get: async () => keyring },
  assetsTableName: 'Assets',
  gatewayDomain: 'gw.example.net',
  tokenLifetimeSeconds: 3600,
  now: () => NOW_MS,
});

const post = (body: string | undefined) => ({ body, isBase64Encoded: false, requestContext: { http: { method: 'POST' } } }) as unknown as APIGatewayProxyEventV2;

beforeEach(() => dynamo.reset());

describe('playback API: POST /sessions', () => {
  it('signs HLS and DASH gateway URLs for the current revision', async () => {
    dynamo.on(GetCommand, { TableName: 'Assets', Key: { assetId: 'big-buck', sk: 'asset' } }).resolves({ Item: { assetId: 'big-buck', currentRevision: 'r20261124T0800-abc', status: 'READY' } });

    const result = await handler(post('{"assetId":"big-buck"}'));

    expect(result.statusCode).toBe(201);
    const session = JSON.parse(result.body!);
    expect(session.hls).toMatch(/^https:\/\/gw\.example\.net\/[^/]+\/play\/big-buck\/r20261124T0800-abc\/main\.m3u8$/);
    expect(session.dash).toMatch(/\/play\/big-buck\/r20261124T0800-abc\/main\.mpd$/);
    expect(session.reportUrl).toMatch(/^https:\/\/gw\.example\.net\/v1\/cmcd\/[^/]+$/);
    expect(session.expiresAt).toBe(new Date(NOW_MS + 3_600_000).toISOString());
    const { token } = splitTokenPath(new URL(session.hls).pathname)!;
    const verified = verifyToken(token, keyring, { nowSeconds: NOW_MS / 1000, assetId: 'big-buck' });
    expect(verified).toEqual({ ok: true, claims: expect.objectContaining({ sid: session.sessionId, aid: 'big-buck' }) });
  });

  it('gives every session its own id', async () => {
    dynamo.on(GetCommand).resolves({ Item: { assetId: 'a', currentRevision: 'r1', status: 'READY' } });
    const first = JSON.parse((await handler(post('{"assetId":"a"}'))).body!);
    const second = JSON.parse((await handler(post('{"assetId":"a"}'))).body!);
    expect(first.sessionId).not.toBe(second.sessionId);
  });

  it('answers 404 for an unknown asset', async () => {
    dynamo.on(GetCommand).resolves({});
    expect((await handler(post('{"assetId":"nope"}'))).statusCode).toBe(404);
  });

  it('answers 404 for an asset with no READY revision yet', async () => {
    dynamo.on(GetCommand).resolves({ Item: { assetId: 'a', status: 'PROGRESSING' } });
    expect((await handler(post('{"assetId":"a"}'))).statusCode).toBe(404);
  });

  it('answers 404 for a taken-down asset', async () => {
    dynamo.on(GetCommand).resolves({ Item: { assetId: 'a', currentRevision: 'r1', status: 'TAKEDOWN_PENDING' } });
    expect((await handler(post('{"assetId":"a"}'))).statusCode).toBe(404);
  });

  it.each([
    ['no body', undefined, 'body must be a JSON object'],
    ['not JSON', '{assetId:', 'body must be a JSON object'],
    ['bad asset id', '{"assetId":"Big Buck"}', 'assetId: must be an asset id'],
    ['unknown device', '{"assetId":"a","device":"fridge"}', 'device'],
    ['extra keys', '{"assetId":"a","admin":true}', 'admin'],
  ])('answers 400 with a reason for %s', async (_name, body, reason) => {
    const result = await handler(post(body));
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body!).reason).toContain(reason);
    expect(dynamo.calls()).toHaveLength(0);
  });
});
