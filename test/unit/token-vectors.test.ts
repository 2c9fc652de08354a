import { readFileSync } from 'node:fs';
import type { CloudFrontRequestEvent, CloudFrontRequestResult, CloudFrontResultResponse } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { parseKeyring } from '../../core/keyring';
import { normalizeIp, signToken } from '../../core/token';
import { createViewerAuthHandler } from '../../edge-functions/viewer-auth/handler';
import { buildViewerAuthFunctionCode, checkCloudFrontFunctionCode, CLOUDFRONT_FUNCTION_MAX_BYTES } from '../../lib/bundling/cloudfront-function';
import { fromFunctionResult, loadCloudFrontFunction, toFunctionEvent } from '../../local/edge/cloudfront-function';
import { seededRandom } from '../support/seeded-random';

/**
 * One set of token v1 vectors (test/fixtures/token-vectors.json) run against both viewer checks: the
 * Lambda@Edge handler and the CloudFront Function code as it is uploaded, in a harness emulating the
 * cloudfront-js-2.0 event, result and `cf.kvs()` (local/edge/cloudfront-function.ts).
 */
interface Vector {
  readonly name: string;
  readonly uri: string;
  readonly method?: string;
  readonly clientIp?: string;
  readonly expect: { readonly status: number; readonly reason?: string; readonly uri?: string };
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/token-vectors.json', import.meta.url), 'utf8')) as {
  nowSeconds: number;
  keyring: unknown;
  defaultClientIp: string;
  vectors: Vector[];
};
const NOW = fixture.nowSeconds;
const keyring = parseKeyring(JSON.stringify(fixture.keyring));
/** The KeyValueStore as the rotation writes it: one key per kid, the key material in standard base64. */
const keyValueStore = new Map([...keyring.keys].map(([kid, key]) => [kid, key.toString('base64')]));
const code = buildViewerAuthFunctionCode();

function viewerRequest(vector: Pick<Vector, 'uri' | 'method' | 'clientIp'>): CloudFrontRequestEvent {
  const request = {
    clientIp: vector.clientIp ?? fixture.defaultClientIp,
    headers: { host: [{ key: 'Host', value: 'd111111abcdef8.cloudfront.net' }] },
    method: vector.method ?? 'GET',
    querystring: '',
    uri: vector.uri,
  };
  const config = { distributionDomainName: 'd111111abcdef8.cloudfront.net', distributionId: 'EDFDVBD6EXAMPLE', eventType: 'viewer-request' as const, requestId: 'vector' };
  return { Records: [{ cf: { config, request } }] };
}

/** Status, refusal reason and forwarded URI: what a viewer and the origin can observe. */
function outcome(result: CloudFrontRequestResult): { status: number; reason?: string; uri?: string } {
  const response = result as CloudFrontResultResponse;
  if (response.status !== undefined) {
    const reason = response.headers?.['x-token-error']?.[0]?.value;
    return { status: Number(response.status), ...(reason !== undefined ? { reason } : {}) };
  }
  return { status: 200, uri: (result as { uri: string }).uri };
}

const lambdaEdge = createViewerAuthHandler({ keyring: () => keyring, now: () => NOW });
const cloudFrontFunction = loadCloudFrontFunction(code, { kvsGet: (kid) => keyValueStore.get(kid), nowMs: () => NOW * 1000 });

async function runLambdaEdge(vector: Pick<Vector, 'uri' | 'method' | 'clientIp'>) {
  return outcome((await lambdaEdge(viewerRequest(vector)))!);
}
async function runFunction(vector: Pick<Vector, 'uri' | 'method' | 'clientIp'>) {
  const event = viewerRequest(vector);
  const request = event.Records[0]!.cf.request;
  return outcome(fromFunctionResult(request, await cloudFrontFunction(toFunctionEvent('EDFDVBD6EXAMPLE', 'vector', request))));
}

describe('token vectors', () => {
  it('cover a valid token and every refusal reason a token can cause', () => {
    const reasons = new Set(fixture.vectors.map((v) => v.expect.reason).filter((r) => r !== undefined));
    expect([...reasons].sort()).toEqual(['asset-mismatch', 'bad-signature', 'expired', 'ip-mismatch', 'malformed', 'not-yet-valid', 'too-long', 'unknown-kid']);
    expect(fixture.vectors.some((v) => v.expect.status === 200)).toBe(true);
  });

  describe.each([
    ['Lambda@Edge viewer-auth', runLambdaEdge],
    ['CloudFront Function viewer-auth-cf', runFunction],
  ])('%s', (_, run) => {
    it.each(fixture.vectors.map((v) => [v.name, v] as const))('%s', async (_name, vector) => {
      expect(await run(vector)).toEqual(vector.expect);
    });
  });

  it('both checks answer 12,000 random mutations of valid tokens alike (the fuzz corpus, differentially)', async () => {
    // Prepare: the valid vectors' tokens, mutated by one character each (seeded, so a failure reproduces)
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=%';
    const valid = fixture.vectors.filter((v) => v.expect.status === 200 && v.method === undefined);
    const random = seededRandom(0xc0ffee);
    const pick = (n: number) => Math.floor(random() * n);
    const disagreements: string[] = [];
    const reasons = new Map<string, number>();
    // Act
    for (let i = 0; i < 12_000; i++) {
      const vector = valid[pick(valid.length)]!;
      const at = 1 + pick(vector.uri.indexOf('/', 1) - 1);
      const mutated = pick(3) === 0 ? vector.uri.slice(0, at) + vector.uri.slice(at + 1) : vector.uri.slice(0, at) + alphabet[pick(alphabet.length)]! + vector.uri.slice(at + 1);
      if (mutated === vector.uri) continue;
      const [edge, fn] = [await runLambdaEdge({ ...vector, uri: mutated }), await runFunction({ ...vector, uri: mutated })];
      if (JSON.stringify(edge) !== JSON.stringify(fn)) disagreements.push(`${mutated}: ${JSON.stringify(edge)} vs ${JSON.stringify(fn)}`);
      reasons.set(edge.reason ?? String(edge.status), (reasons.get(edge.reason ?? String(edge.status)) ?? 0) + 1);
    }
    // Assert: identical answers, and the mutations reached the MAC and shape checks, not only one of them
    expect(disagreements).toEqual([]);
    expect(reasons.get('200') ?? 0).toBe(0);
    expect(reasons.get('bad-signature')).toBeGreaterThan(1000);
    expect(reasons.get('malformed')).toBeGreaterThan(100);
  });

  it('both checks read the viewer address alike in every IPv4 and IPv6 spelling (canonical form without URL)', async () => {
    const spellings = [
      '203.0.113.7', '203.0.113.07', '256.1.1.1', '1.2.3', '::', '::1', '1::', '0:0:0:0:0:0:0:0', '2001:DB8::1', '2001:db8:0:0:1:0:0:1',
      '2001:0:0:1:0:0:0:1', '2001:db8::0:1', 'fe80::1%eth0', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '1::2::3', '::ffff:198.51.100.7',
      '::FFFF:c633:6407', '::ffff:0:0', '::1.2.3.4', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', '12345::1', ':1', '1:', 'g::1', '',
    ];
    for (const clientIp of spellings) {
      // Bound to the address's canonical form when it has one, else to an unrelated address
      const ip = normalizeIp(clientIp) ?? '192.0.2.99';
      const token = signToken({ sid: 's', aid: 'big-buck', exp: NOW + 60, ip }, keyring);
      const vector = { uri: `/${token}/media/big-buck/r1/seg.m4s`, clientIp };
      const [edge, fn] = [await runLambdaEdge(vector), await runFunction(vector)];
      expect({ clientIp, fn }).toEqual({ clientIp, fn: edge });
      expect(edge.status).toBe(normalizeIp(clientIp) === null ? 403 : 200);
    }
  });

  it('refuses unknown kids, without asking the store, when the kid cannot be a key id', async () => {
    // Prepare: a store that records which keys were read
    const asked: string[] = [];
    const fn = loadCloudFrontFunction(code, { kvsGet: (kid) => (asked.push(kid), keyValueStore.get(kid)), nowMs: () => NOW * 1000 });
    const payload = Buffer.from(`{"v":1,"kid":"../x","sid":"s","aid":"big-buck","exp":${NOW + 60}}`).toString('base64url');
    const request = viewerRequest({ uri: `/${payload}.${'A'.repeat(43)}/media/big-buck/r1/seg.m4s` }).Records[0]!.cf.request;
    // Act
    const result = outcome(fromFunctionResult(request, await fn(toFunctionEvent('E1', 'r1', request))));
    // Assert
    expect(result).toEqual({ status: 403, reason: 'unknown-kid' });
    expect(asked).toEqual([]);
  });
});

describe('CloudFront Function code', () => {
  it('fits the runtime: under 10 KB, imports only crypto and cloudfront, no require, no placeholders', () => {
    expect(Buffer.byteLength(code)).toBeLessThan(CLOUDFRONT_FUNCTION_MAX_BYTES);
    const imports = [...code.matchAll(/\bimport\s+\w+\s*from\s*"([^"]+)"/g)].map((m) => m[1]);
    expect(imports.sort()).toEqual(['cloudfront', 'crypto']);
    expect(code).not.toMatch(/\brequire\s*\(/);
    expect(() => checkCloudFrontFunctionCode(code)).not.toThrow();
  });

  it('is refused when it breaks a runtime rule', () => {
    expect(() => checkCloudFrontFunctionCode('import fs from "fs";function handler(e){return e.request}')).toThrow(/imports "fs"/);
    expect(() => checkCloudFrontFunctionCode('const c=require("crypto");function handler(e){return e.request}')).toThrow(/require/);
    expect(() => checkCloudFrontFunctionCode(`function handler(e){return e.request}//${'x'.repeat(CLOUDFRONT_FUNCTION_MAX_BYTES)}`)).toThrow(/bytes, the limit is 10240/);
  });

  it('has no Node globals at run time: a function reaching for process or require fails', async () => {
    const fn = loadCloudFrontFunction('async function handler(e){return {statusCode:200,headers:{x:{value:typeof process+","+typeof require}}}}', { kvsGet: () => undefined });
    const result = (await fn(toFunctionEvent('E1', 'r1', viewerRequest({ uri: '/x' }).Records[0]!.cf.request))) as { headers: Record<string, { value: string }> };
    expect(result.headers.x!.value).toBe('undefined,undefined');
  });
});
