import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CloudFrontRequest, CloudFrontRequestEvent, CloudFrontResultResponse, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { generateInitialKeyring, rotateKeyring, serializeKeyring } from '../../core/keyring';
import { signToken } from '../../core/token';
import { createViewerAuthHandler, refusalResponse, type ViewerAuthRefusal } from '../../edge-functions/viewer-auth/handler';

const NOW = 1_750_000_000;
const keyring = generateInitialKeyring({ nowSeconds: NOW - 3600, kid: 'ka', key: Buffer.alloc(32, 0xa1) });
const token = signToken({ sid: '3f1c1e7a-4a8b-4c55-9d2e-0a1b2c3d4e5f', aid: 'big-buck', exp: NOW + 3600 }, keyring);

/**
 * A viewer-request event as CloudFront sends it (CloudFront Developer Guide, "Lambda@Edge event
 * structure", example viewer request), written out by hand.
 */
function viewerRequest(uri: string, request: Partial<{ method: string; clientIp: string; querystring: string }> = {}): CloudFrontRequestEvent {
  return {
    Records: [
      {
        cf: {
          config: {
            distributionDomainName: 'd111111abcdef8.cloudfront.net',
            distributionId: 'EDFDVBD6EXAMPLE',
            eventType: 'viewer-request',
            requestId: '4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==',
          },
          request: {
            clientIp: request.clientIp ?? '203.0.113.178',
            headers: {
              host: [{ key: 'Host', value: 'd111111abcdef8.cloudfront.net' }],
              'user-agent': [{ key: 'User-Agent', value: 'curl/7.66.0' }],
              accept: [{ key: 'accept', value: '*/*' }],
            },
            method: request.method ?? 'GET',
            querystring: request.querystring ?? '',
            uri,
          },
        },
      },
    ],
  };
}

const handlerWith = (overrides: Partial<Parameters<typeof createViewerAuthHandler>[0]> = {}) =>
  createViewerAuthHandler({ keyring: () => keyring, now: () => NOW, ...overrides });

function expectRefusal(result: unknown, reason: ViewerAuthRefusal, status = '403'): void {
  const response = result as CloudFrontResultResponse;
  expect(response.status).toBe(status);
  expect(response.headers?.['cache-control']).toEqual([{ key: 'Cache-Control', value: 'no-store' }]);
  expect(response.headers?.['x-token-error']).toEqual([{ key: 'X-Token-Error', value: reason }]);
}

describe('viewer-auth', () => {
  it('strips a valid token from the URI and forwards the request otherwise unchanged', async () => {
    // Prepare
    const event = viewerRequest(`/${token}/media/big-buck/r1/video_720p/seg_00012.m4s`, { querystring: 'CMCD=bl%3D21300' });
    const before = structuredClone(event.Records[0]!.cf.request);
    // Act
    const result = (await handlerWith()(event)) as CloudFrontRequest;
    // Assess
    expect(result).toEqual({ ...before, uri: '/media/big-buck/r1/video_720p/seg_00012.m4s' });
  });

  it('accepts playback and steering paths of the token asset', async () => {
    const handler = handlerWith();
    expect(((await handler(viewerRequest(`/${token}/play/big-buck/main.m3u8`))) as CloudFrontRequest).uri).toBe('/play/big-buck/main.m3u8');
    expect(((await handler(viewerRequest(`/${token}/steer/big-buck`))) as CloudFrontRequest).uri).toBe('/steer/big-buck');
  });

  it('answers an expired token with 403, no-store and the reason code', async () => {
    const result = await handlerWith({ now: () => NOW + 7200 })(viewerRequest(`/${token}/media/big-buck/r1/main.m3u8`));
    expectRefusal(result, 'expired');
  });

  it('rejects a token whose asset differs from the path', async () => {
    expectRefusal(await handlerWith()(viewerRequest(`/${token}/media/sintel/r1/main.m3u8`)), 'asset-mismatch');
  });

  it('rejects a path that escapes into another asset through dot segments', async () => {
    expectRefusal(await handlerWith()(viewerRequest(`/${token}/media/big-buck/../sintel/r1/main.m3u8`)), 'asset-mismatch');
  });

  it('rejects a request without a token segment', async () => {
    expectRefusal(await handlerWith()(viewerRequest('/media')), 'malformed');
    expectRefusal(await handlerWith()(viewerRequest('/not-a-token/media/big-buck/r1/main.m3u8')), 'malformed');
  });

  it('checks IP binding against the viewer address CloudFront reports', async () => {
    const bound = signToken({ sid: 's1', aid: 'big-buck', exp: NOW + 60, ip: '2001:db8:85a3::8a2e:370:7334' }, keyring);
    const handler = handlerWith();
    const same = await handler(viewerRequest(`/${bound}/media/big-buck/r1/x.m4s`, { clientIp: '2001:0db8:85a3:0:0:8a2e:0370:7334' }));
    expect((same as CloudFrontRequest).uri).toBe('/media/big-buck/r1/x.m4s');
    expectRefusal(await handler(viewerRequest(`/${bound}/media/big-buck/r1/x.m4s`, { clientIp: '203.0.113.178' })), 'ip-mismatch');
  });

  it('answers CORS preflight itself, allowing the CMCD request headers, without a token', async () => {
    const event = viewerRequest('/no-token-here/media/big-buck/r1/main.m3u8', { method: 'OPTIONS' });
    const result = (await handlerWith()(event)) as CloudFrontResultResponse;
    expect(result.status).toBe('204');
    expect(result.headers!['access-control-allow-origin']![0]!.value).toBe('*');
    expect(result.headers!['access-control-allow-headers']![0]!.value).toContain('CMCD-Request');
  });

  it('waits for the keyring at cold start', async () => {
    const result = await handlerWith({ keyring: () => Promise.resolve(keyring) })(viewerRequest(`/${token}/media/big-buck/r1/main.m3u8`));
    expect((result as CloudFrontRequest).uri).toBe('/media/big-buck/r1/main.m3u8');
  });

  it('answers 503 (not 403) when no keyring can be loaded, so players retry', async () => {
    const onKeyringUnavailable = vi.fn();
    const result = await handlerWith({ keyring: () => Promise.reject(new Error('down')), onKeyringUnavailable })(
      viewerRequest(`/${token}/media/big-buck/r1/main.m3u8`),
    );
    expectRefusal(result, 'keyring-unavailable', '503');
    expect(onKeyringUnavailable).toHaveBeenCalledOnce();
  });

  it('refreshes the keyring once when a token names a kid newer than the cache', async () => {
    // Prepare: the signer already uses a key created by a rotation this edge has not fetched yet
    const rotated = rotateKeyring(keyring, { nowSeconds: NOW, maxTokenLifetimeSeconds: 3600, newKid: 'kb', newKey: Buffer.alloc(32, 0xb2) });
    const newer = signToken({ sid: 's2', aid: 'big-buck', exp: NOW + 60 }, rotated);
    const refreshKeyring = vi.fn(async () => rotated);
    // Act
    const result = await handlerWith({ refreshKeyring })(viewerRequest(`/${newer}/media/big-buck/r1/main.m3u8`));
    // Assess
    expect((result as CloudFrontRequest).uri).toBe('/media/big-buck/r1/main.m3u8');
    expect(refreshKeyring).toHaveBeenCalledOnce();
  });

  it('still refuses an unknown kid when the refresh brings nothing new', async () => {
    const stranger = signToken({ sid: 's3', aid: 'big-buck', exp: NOW + 60 }, generateInitialKeyring({ kid: 'kx', key: Buffer.alloc(32, 9) }));
    const result = await handlerWith({ refreshKeyring: async () => keyring })(viewerRequest(`/${stranger}/media/big-buck/r1/main.m3u8`));
    expectRefusal(result, 'unknown-kid');
  });

  it('never echoes the token or claims in a refusal', async () => {
    const result = (await handlerWith({ now: () => NOW + 7200 })(viewerRequest(`/${token}/media/big-buck/r1/main.m3u8`))) as CloudFrontResultResponse;
    expect(JSON.stringify(result)).not.toContain(token.slice(0, 20));
    expect(JSON.stringify(result)).not.toContain('big-buck');
  });

  it('keeps every generated response far below the 40 KB viewer-request limit', () => {
    const reasons: ViewerAuthRefusal[] = ['malformed', 'too-long', 'unknown-kid', 'bad-signature', 'expired', 'not-yet-valid', 'asset-mismatch', 'ip-mismatch', 'keyring-unavailable'];
    for (const reason of reasons) {
      const response = refusalResponse(reason);
      const headerBytes = Object.values(response.headers ?? {}).flat().reduce((sum, h) => sum + (h.key?.length ?? 0) + h.value.length, 0);
      expect(Buffer.byteLength(response.body ?? '') + headerBytes).toBeLessThan(40 * 1024);
    }
  });
});

describe('viewer-auth module (baked configuration)', () => {
  const sm = mockClient(SecretsManagerClient);
  afterEach(() => {
    sm.reset();
    vi.unstubAllEnvs();
    delete (globalThis as { __EDGE_CONFIG__?: unknown }).__EDGE_CONFIG__;
    vi.resetModules();
  });

  it('reads the baked config, loads the keyring from Secrets Manager and guards requests', async () => {
    // Prepare
    (globalThis as { __EDGE_CONFIG__?: unknown }).__EDGE_CONFIG__ = JSON.stringify({
      pathwayId: 'cf-a',
      keyring: { secretId: 'playback-keyring', regions: ['us-east-1'], timeoutMs: 1500, refreshSeconds: 300 },
    });
    vi.stubEnv('AWS_REGION', 'us-east-1');
    const fresh = generateInitialKeyring({ kid: 'kz', key: Buffer.alloc(32, 0x5a) });
    sm.on(GetSecretValueCommand, { SecretId: 'playback-keyring' }).resolves({ SecretString: serializeKeyring(fresh) });
    const { handler } = await import('../../edge-functions/viewer-auth/index');
    const valid = signToken({ sid: 's1', aid: 'big-buck', exp: Math.floor(Date.now() / 1000) + 60 }, fresh);
    // Act
    const ok = await handler(viewerRequest(`/${valid}/media/big-buck/r1/main.m3u8`), {} as Context, () => undefined);
    const refused = await handler(viewerRequest(`/${token}/media/big-buck/r1/main.m3u8`), {} as Context, () => undefined);
    // Assess
    expect((ok as CloudFrontRequest).uri).toBe('/media/big-buck/r1/main.m3u8');
    expectRefusal(refused, 'unknown-kid');
  });

  it('fails at init when the configuration is missing', async () => {
    await expect(import('../../edge-functions/viewer-auth/index')).rejects.toThrow(/__EDGE_CONFIG__ is not defined/);
  });
});
