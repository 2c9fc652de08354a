import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, CloudFrontRequestEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it, vi } from 'vitest';
import { generateInitialKeyring } from '../../core/keyring';
import { mediaBaseUrl, playUrl, steeringUrl } from '../../core/playback-paths';
import { signToken } from '../../core/token';
import { createPlaybackApiHandler, parseGatewayOrigin } from '../../lambdas/playback-api';
import { validateSteeringConfig } from '../../edge-functions/steering/config';
import { createSteeringHandler } from '../../edge-functions/steering/handler';
import { createPathwayOriginReader } from '../../edge-functions/steering/origin-fetch';
import { snapshotOfItems } from '../support/routing-tables';

// The local twin serves plain http (no TLS on 127.0.0.1); the cloud stays https by default.

const NOW_S = 1_750_000_000;
const KEYRING = generateInitialKeyring({ nowSeconds: NOW_S - 100 });
const BASE_CONFIG = {
  keyring: { secretId: 'twin/playback-keyring', regions: ['us-east-1'], timeoutMs: 1000, refreshSeconds: 60 },
  routingTable: { name: 'twin-routing', region: 'us-east-1' },
  steeringTtlSeconds: 10,
  routingCacheSeconds: 5,
};

describe('playback path builders: scheme', () => {
  it('builds https URLs when no scheme is given', () => {
    expect(playUrl('gw.net', 'T.S', 'a', '20260101-000001-000000000000000000000001', 'hls')).toBe('https://gw.net/T.S/play/a/20260101-000001-000000000000000000000001/main.m3u8');
  });

  it('builds http URLs for the twin when asked', () => {
    expect(playUrl('127.0.0.1:4580', 'T.S', 'a', '20260101-000001-000000000000000000000001', 'dash', 'http')).toBe('http://127.0.0.1:4580/T.S/play/a/20260101-000001-000000000000000000000001/main.mpd');
    expect(steeringUrl('127.0.0.1:4580', 'T.S', 'a', '20260101-000001-000000000000000000000001', 'http')).toBe('http://127.0.0.1:4580/T.S/play/a/20260101-000001-000000000000000000000001/steering');
    expect(mediaBaseUrl('127.0.0.1:4581', 'T.S', 'a', '20260101-000001-000000000000000000000001', 'http')).toBe('http://127.0.0.1:4581/T.S/media/a/20260101-000001-000000000000000000000001/');
  });
});

describe('steering edge config: publicScheme', () => {
  it('defaults to https when the baked config has no publicScheme', () => {
    expect(validateSteeringConfig(BASE_CONFIG).publicScheme).toBe('https');
  });

  it('accepts http and rejects any other scheme', () => {
    expect(validateSteeringConfig({ ...BASE_CONFIG, publicScheme: 'http' }).publicScheme).toBe('http');
    expect(() => validateSteeringConfig({ ...BASE_CONFIG, publicScheme: 'ftp' })).toThrow(/publicScheme = "ftp"/);
  });
});

const ORIGIN_HLS = [
  '#EXTM3U',
  '#EXT-X-VERSION:6',
  '#EXT-X-INDEPENDENT-SEGMENTS',
  '#EXT-X-STREAM-INF:BANDWIDTH=800000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=640x360',
  'media_0.m3u8',
  '',
].join('\n');
const ORIGIN_MPD = `<?xml version="1.0" encoding="UTF-8"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" minBufferTime="PT4S" profiles="urn:mpeg:dash:profile:isoff-live:2011" mediaPresentationDuration="PT10S"><Period id="0"><AdaptationSet mimeType="video/mp4"><Representation id="0" width="640" height="360" bandwidth="800000" codecs="avc1.64001f"><SegmentTemplate timescale="1000" media="seg-0-$Number$.m4s" initialization="init-0.m4s" duration="2000"/></Representation></AdaptationSet></Period></MPD>`;

function gatewayRequest(uri: string): CloudFrontRequestEvent {
  return {
    Records: [
      {
        cf: {
          config: { distributionDomainName: '127.0.0.1:4580', distributionId: 'gateway', eventType: 'origin-request', requestId: 'r1' },
          request: { clientIp: '127.0.0.1', headers: {}, method: 'GET', querystring: '', uri },
        },
      },
    ],
  } as CloudFrontRequestEvent;
}

function twinSteering() {
  const items: Record<string, unknown> = {
    pathways: {
      pk: 'pathways',
      updatedAt: '2025-06-15T00:00:00Z',
      pathways: [
        { id: 'cf-a', host: '127.0.0.1:4581', enabled: true, cap: 1 },
        { id: 'cf-b', host: '127.0.0.1:4582', enabled: true, cap: 1 },
      ],
    },
    'weights#*': { pk: 'weights#*', weights: { 'cf-a': 0.5, 'cf-b': 0.5 }, version: 1, updatedAt: '2025-06-15T00:00:00Z', reason: 'seed' },
  };
  return createSteeringHandler({
    getKeyring: () => KEYRING,
    readOriginText: async ({ key }) => (key.endsWith('.m3u8') ? ORIGIN_HLS : ORIGIN_MPD),
    readRoutingSnapshot: async () => snapshotOfItems(items),
    steeringTtlSeconds: 10,
    routingCacheSeconds: 5,
    nowMs: () => NOW_S * 1000,
    log: () => undefined,
    publicScheme: 'http',
  });
}

describe('steering edge handler: publicScheme http (local twin)', () => {
  it('writes http media bases and an http steering URI into the HLS playlist', async () => {
    // Prepare
    const token = signToken({ sid: 's1', aid: 'clip', exp: NOW_S + 600 }, KEYRING);
    // Act
    const res = await twinSteering()(gatewayRequest(`/${token}/play/clip/20260101-000001-000000000000000000000001/main.m3u8`));
    // Assess
    expect(res.status).toBe('200');
    expect(res.body).toContain(`SERVER-URI="http://127.0.0.1:4580/${token}/play/clip/20260101-000001-000000000000000000000001/steering"`);
    expect(res.body).toContain(`http://127.0.0.1:4581/${token}/media/clip/20260101-000001-000000000000000000000001/media_0.m3u8`);
    expect(res.body).toContain(`http://127.0.0.1:4582/${token}/media/clip/20260101-000001-000000000000000000000001/media_0.m3u8`);
    expect(res.body).not.toContain('https://');
  });

  it('writes http BaseURLs and an http ContentSteering URI into the MPD', async () => {
    const token = signToken({ sid: 's1', aid: 'clip', exp: NOW_S + 600 }, KEYRING);
    const res = await twinSteering()(gatewayRequest(`/${token}/play/clip/20260101-000001-000000000000000000000001/main.mpd`));
    expect(res.status).toBe('200');
    expect(res.body).toMatch(/<BaseURL serviceLocation="cf-a">http:\/\/127\.0\.0\.1:4581\//);
    expect(res.body).toMatch(/<ContentSteering [^>]*>http:\/\/127\.0\.0\.1:4580\//);
    expect(res.body).not.toContain('https://');
  });

  it('answers pre-ADR 0036 steering requests with an http RELOAD-URI', async () => {
    const token = signToken({ sid: 's1', aid: 'clip', exp: NOW_S + 600 }, KEYRING);
    const res = await twinSteering()(gatewayRequest(`/${token}/steer/clip`));
    expect(JSON.parse(res.body as string)['RELOAD-URI']).toBe(`http://127.0.0.1:4580/${token}/steer/clip`);
  });
});

describe('steering origin fetch: scheme', () => {
  it('fetches origin manifests over the configured scheme', async () => {
    // Prepare
    const fetch = vi.fn(async () => new Response('#EXTM3U\n', { status: 200 }));
    const read = createPathwayOriginReader({ timeoutMs: 100, fetch: fetch as unknown as typeof globalThis.fetch, scheme: 'http' });
    // Act
    await read({ key: 'media/clip/20260101-000001-000000000000000000000001/main.m3u8', token: 'T.S', pathways: [{ id: 'cf-a', host: '127.0.0.1:4581' }] });
    // Assess
    expect(fetch).toHaveBeenCalledWith('http://127.0.0.1:4581/T.S/media/clip/20260101-000001-000000000000000000000001/main.m3u8', expect.anything());
  });
});

describe('playback API: GATEWAY_ORIGIN', () => {
  it('signs URLs on the given origin instead of https://<GATEWAY_DOMAIN>', async () => {
    // Prepare
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
    mockClient(documents).on(GetCommand).resolves({ Item: { assetId: 'clip', currentRevision: 'r1', status: 'READY' } });
    const handler = createPlaybackApiHandler({
      documents,
      keyring: { get: async () => KEYRING },
      assetsTableName: 'twin-assets',
      gatewayDomain: 'ignored.example.net',
      gatewayOrigin: 'http://127.0.0.1:4580',
      tokenLifetimeSeconds: 600,
      now: () => NOW_S * 1000,
    });
    const event = { body: '{"assetId":"clip"}', isBase64Encoded: false, requestContext: { http: { method: 'POST' } } } as unknown as APIGatewayProxyEventV2;
    // Act
    const result = await handler(event);
    // Assess
    const session = JSON.parse(result.body as string);
    expect(session.hls).toMatch(/^http:\/\/127\.0\.0\.1:4580\/[^/]+\/play\/clip\/r1\/main\.m3u8$/);
    expect(session.dash).toMatch(/^http:\/\/127\.0\.0\.1:4580\/[^/]+\/play\/clip\/r1\/main\.mpd$/);
    expect(session.reportUrl).toMatch(/^http:\/\/127\.0\.0\.1:4580\/v1\/cmcd\/[^/]+$/);
  });

  it('rejects a GATEWAY_ORIGIN with a path or an unknown scheme', () => {
    expect(parseGatewayOrigin('https://gw.example.com')).toEqual({ scheme: 'https', host: 'gw.example.com' });
    expect(() => parseGatewayOrigin('http://127.0.0.1:4580/api')).toThrow(/GATEWAY_ORIGIN/);
    expect(() => parseGatewayOrigin('ftp://127.0.0.1')).toThrow(/GATEWAY_ORIGIN/);
  });
});
