import { describe, expect, it } from 'vitest';
import { ORIGIN_VERIFY_HEADER } from '../../core/origin-verify';
import { buildShieldOriginCheckCode } from '../../lib/bundling/shield-origin-check';
import { type FunctionViewerRequestEvent, isFunctionResponse, loadCloudFrontFunction } from '../../local/edge/cloudfront-function';

/** The shared shield distribution's viewer-request function (ADR 0098), run as CloudFront Functions would. */
const SECRET = 'Zk3q9VbL0pXy7TnR2mWc5HsA8dJf4GuE1iKo6QaN0rYt3BvC';
const check = loadCloudFrontFunction(buildShieldOriginCheckCode(SECRET), { kvsGet: () => undefined });

function event(headers: Record<string, string>): FunctionViewerRequestEvent {
  return {
    version: '1.0',
    context: { eventType: 'viewer-request', distributionId: 'EINNER', requestId: 'r1' },
    viewer: { ip: '198.51.100.7' },
    request: {
      method: 'GET',
      uri: '/media/premiere/20261202-120000-0123456789abcdef01234567/v1080_00001.m4s',
      querystring: {},
      headers: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, { value }])),
      cookies: {},
    },
  };
}

describe('shared shield origin check (CloudFront Function)', () => {
  it('passes a pathway’s request with the secret on to the cache and S3, without the header', async () => {
    const result = await check(event({ [ORIGIN_VERIFY_HEADER]: SECRET, host: 'd111.cloudfront.net' }));
    expect(isFunctionResponse(result)).toBe(false);
    expect((result as FunctionViewerRequestEvent['request']).headers).toEqual({ host: { value: 'd111.cloudfront.net' } });
    expect((result as FunctionViewerRequestEvent['request']).uri).toBe(event({}).request.uri);
  });

  it('refuses with 403 a request without the header, with another value, a prefix, or the secret plus more', async () => {
    const refused: Record<string, string>[] = [{}, { [ORIGIN_VERIFY_HEADER]: '' }, { [ORIGIN_VERIFY_HEADER]: SECRET.slice(0, -1) }, { [ORIGIN_VERIFY_HEADER]: `${SECRET}x` }, { [ORIGIN_VERIFY_HEADER]: SECRET.toLowerCase() }];
    for (const headers of refused) {
      const result = await check(event(headers));
      expect(isFunctionResponse(result) && result.statusCode).toBe(403);
    }
  });

  it('fits the runtime and keeps the secret a plain string literal (a synth token stays intact for CloudFormation)', () => {
    const token = '${Token[TOKEN.123]}';
    expect(buildShieldOriginCheckCode(token)).toContain(JSON.stringify(token));
  });
});
