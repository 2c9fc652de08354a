import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { signedFetch } from '../../lib/smoke/signed-fetch';

describe('SigV4-signed requests to the playback API', () => {
  it('signs for execute-api in the Region with the given credentials, and sends the body unchanged', async () => {
    // Prepare: a fetch that records what it was asked to send.
    const sent: { url: string; init: RequestInit }[] = [];
    const fakeFetch = (async (url: string, init: RequestInit) => (sent.push({ url, init }), new Response('{}', { status: 201 }))) as typeof fetch;
    const call = signedFetch({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' }, fetch: fakeFetch });
    // Act
    const response = await call('https://abc123.execute-api.eu-west-1.amazonaws.com/sessions', { method: 'POST', body: '{"assetId":"smoke-test-ete"}' });
    // Assess
    expect(response.status).toBe(201);
    const headers = sent[0]!.init.headers as Record<string, string>;
    expect(sent[0]!.init.method).toBe('POST');
    expect(sent[0]!.init.body).toBe('{"assetId":"smoke-test-ete"}');
    expect(headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/);
    expect(headers['x-amz-security-token']).toBe('token');
    expect(headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    // fetch sets Host from the URL itself and refuses one given.
    expect(Object.keys(headers).map((name) => name.toLowerCase())).not.toContain('host');
  });

  it('signs the path and query of a GET exactly as the SDK signer does for that request', async () => {
    // Prepare
    const sent: RequestInit[] = [];
    const fakeFetch = (async (_url: string, init: RequestInit) => (sent.push(init), new Response('{}'))) as typeof fetch;
    const credentials = { accessKeyId: 'AKID', secretAccessKey: 's' };
    const call = signedFetch({ region: 'us-east-1', credentials, fetch: fakeFetch });
    // Act
    await call('http://127.0.0.1:4570/assets/smoke-test-ete?detail=1');
    // Assess: the same request, signed independently at the same instant, has the same signature.
    const headers = sent[0]!.headers as Record<string, string>;
    const at = headers['x-amz-date']!.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z');
    const expected = await new SignatureV4({ service: 'execute-api', region: 'us-east-1', credentials, sha256: Hash.bind(null, 'sha256') }).sign(
      { method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port: 4570, path: '/assets/smoke-test-ete', query: { detail: '1' }, headers: { host: '127.0.0.1:4570' } },
      { signingDate: new Date(at) },
    );
    expect(sent[0]!.method).toBe('GET');
    expect(headers.authorization).toBe(expected.headers.authorization);
  });
});
