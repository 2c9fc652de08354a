import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { startHttpApi, type HttpApiServer } from '../../local/apigw';

describe('twin API Gateway (HTTP API, payload v2)', () => {
  let api: HttpApiServer;
  const sessions = vi.fn(async (event: APIGatewayProxyEventV2) => ({
    statusCode: 201,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
    body: JSON.stringify({ got: JSON.parse(event.body ?? '{}') }),
  }));
  const ingest = vi.fn(async () => ({ statusCode: 204 }));
  const plain = vi.fn(async () => ({ hello: 'world' }) as unknown as string);
  const broken = vi.fn(async () => {
    throw new Error('boom');
  });

  beforeAll(async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    api = await startHttpApi(
      [
        { routeKey: 'POST /sessions', handler: sessions },
        { routeKey: 'POST /v1/cmcd/{token}', handler: ingest },
        { routeKey: 'GET /plain', handler: plain },
        { routeKey: 'GET /broken', handler: broken },
      ],
      { iamCaller: { accountId: '000000000000', userArn: 'arn:aws:iam::000000000000:user/dev' } },
    );
  });
  afterAll(async () => {
    await api?.stop();
    vi.restoreAllMocks();
  });

  it('builds a payload v2 event and writes the structured result back', async () => {
    const response = await fetch(`${api.endpoint}/sessions?x=1&x=2`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: 'a=1; b=2' },
      body: JSON.stringify({ assetId: 'big-buck' }),
    });

    const event = sessions.mock.calls[0]![0];
    expect(response.status).toBe(201);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({ got: { assetId: 'big-buck' } });
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /sessions',
      rawPath: '/sessions',
      rawQueryString: 'x=1&x=2',
      queryStringParameters: { x: '1,2' },
      cookies: ['a=1', 'b=2'],
      isBase64Encoded: false,
      requestContext: {
        http: { method: 'POST', path: '/sessions', sourceIp: '127.0.0.1' },
        stage: '$default',
        authorizer: { iam: { userArn: 'arn:aws:iam::000000000000:user/dev' } },
      },
    });
    expect(event.requestContext.time).toMatch(/^\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
  });

  it('extracts path parameters and keeps an application/cmcd body as text', async () => {
    const response = await fetch(`${api.endpoint}/v1/cmcd/tok.sig`, {
      method: 'POST',
      headers: { 'content-type': 'application/cmcd' },
      body: 'br=3200,bs,d=4004\nbr=800',
    });

    const event = (ingest.mock.calls[0] as unknown as [APIGatewayProxyEventV2])[0];
    expect(response.status).toBe(204);
    expect(event.pathParameters).toEqual({ token: 'tok.sig' });
    expect(event.body).toBe('br=3200,bs,d=4004\nbr=800');
  });

  it('answers a result without statusCode as 200 JSON, an unknown route with 404 and a throw with 500', async () => {
    const plainResponse = await fetch(`${api.endpoint}/plain`);
    const missing = await fetch(`${api.endpoint}/nowhere`);
    const failing = await fetch(`${api.endpoint}/broken`);

    expect(await plainResponse.json()).toEqual({ hello: 'world' });
    expect(missing.status).toBe(404);
    expect(failing.status).toBe(500);
  });
});
