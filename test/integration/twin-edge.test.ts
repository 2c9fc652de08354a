import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import type { CloudFrontRequest, CloudFrontRequestEvent, CloudFrontRequestResult } from 'aws-lambda';
import { startLocalAws, type LocalAws } from '../../local/aws-servers';
import { startDistribution, type Distribution } from '../../local/edge/cloudfront-server';
import { DELIVERY_CORS } from '../../core/identifiers';
import { resolveLocalhostNames } from '../../local/http-server';
import { waitFor } from '../support/wait-for';

/** A 25 KB segment: 400 ms at 500 kbit/s. */
const SEGMENT_2_BYTES = 25_000;

const LOG_FIELDS = ['sc-status', 'cs-uri-stem', 'c-country', 'x-host-header', 'cmcd-session-id', 'cmcd-encoded-bitrate', 'x-edge-result-type'];

describe('twin CloudFront distribution', () => {
  let aws: LocalAws;
  let cdn: Distribution;
  const viewerEvents: CloudFrontRequestEvent[] = [];
  const originEvents: CloudFrontRequestEvent[] = [];

  // Stand-ins for the real edge functions: a path-token check (async) and a pass-through (callback style).
  const viewerRequest = async (event: CloudFrontRequestEvent): Promise<CloudFrontRequestResult> => {
    viewerEvents.push(event);
    const request = event.Records[0]!.cf.request;
    // Like viewer-auth: a preflight carries no token and is answered at the edge.
    if (request.method === 'OPTIONS') return { status: '204', statusDescription: 'No Content', headers: {} };
    const [, token, ...rest] = request.uri.split('/');
    if (token !== 'good') {
      return { status: '403', statusDescription: 'Forbidden', headers: { 'cache-control': [{ key: 'Cache-Control', value: 'no-store' }], 'x-token-error': [{ key: 'X-Token-Error', value: 'bad-signature' }] } };
    }
    return { ...request, uri: `/${rest.join('/')}` };
  };
  const originRequest = (
    event: CloudFrontRequestEvent,
    _context: unknown,
    callback: (error?: unknown, result?: CloudFrontRequestResult) => void,
  ) => {
    originEvents.push(event);
    callback(undefined, event.Records[0]!.cf.request);
  };

  beforeAll(async () => {
    aws = await startLocalAws();
    await aws.createBuckets(['origin']);
    await aws.createStream('telemetry', 1);
    const put = (Key: string, Body: string, extra: Record<string, string> = {}) =>
      aws.clients.s3.send(new PutObjectCommand({ Bucket: 'origin', Key, Body, ...extra }));
    await put('media/a/r1/seg-0-00001.m4s', 'segment-bytes', { ContentType: 'video/mp4' });
    await put('media/a/r1/live.m3u8', '#EXTM3U', { ContentType: 'application/vnd.apple.mpegurl', CacheControl: 'no-store' });
    await put('media/a/r1/seg-0-00002.m4s', 'x'.repeat(SEGMENT_2_BYTES), { ContentType: 'video/mp4' });
    cdn = await startDistribution({
      id: 'cf-a',
      origin: { s3: aws.clients.s3, bucket: 'origin', region: aws.region },
      viewerRequest,
      originRequest,
      realtimeLog: { kinesis: aws.clients.kinesis, streamName: 'telemetry', fields: LOG_FIELDS },
      cors: DELIVERY_CORS,
    });
  });

  afterAll(async () => {
    await cdn?.stop();
    await aws?.stop();
  });

  beforeEach(() => {
    viewerEvents.length = 0;
    originEvents.length = 0;
    cdn.setFaults({});
  });

  it('runs viewer-request with a literal CloudFront event and serves the rewritten uri from S3', async () => {
    const response = await fetch(`${cdn.endpoint}/good/media/a/r1/seg-0-00001.m4s?CMCD=sid%3D%22s1%22`, {
      headers: { 'User-Agent': 'twin-test' },
    });

    const cf = viewerEvents[0]!.Records[0]!.cf;
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('segment-bytes');
    expect(cf.config).toMatchObject({ distributionDomainName: 'cf-a.cloudfront.twin', distributionId: 'cf-a', eventType: 'viewer-request' });
    expect(cf.config.requestId).toBeTruthy();
    expect(cf.request).toMatchObject({
      clientIp: '127.0.0.1',
      method: 'GET',
      uri: '/good/media/a/r1/seg-0-00001.m4s',
      querystring: 'CMCD=sid%3D%22s1%22',
    });
    expect(cf.request.headers['user-agent']).toEqual([{ key: 'user-agent', value: 'twin-test' }]);
  });

  it('serves a repeated request from cache without calling origin-request again', async () => {
    await fetch(`${cdn.endpoint}/good/media/a/r1/seg-0-00001.m4s`);
    const second = await fetch(`${cdn.endpoint}/good/media/a/r1/seg-0-00001.m4s`);

    expect(second.headers.get('x-cache')).toBe('Hit from cloudfront');
    expect(originEvents).toHaveLength(0);
  });

  it('never caches an object whose Cache-Control is no-store', async () => {
    await fetch(`${cdn.endpoint}/good/media/a/r1/live.m3u8`);
    const second = await fetch(`${cdn.endpoint}/good/media/a/r1/live.m3u8`);

    expect(second.headers.get('x-cache')).toBe('Miss from cloudfront');
    expect(originEvents).toHaveLength(2);
  });

  it('adds the origin s3 block and viewer geo/device headers to the origin-request event', async () => {
    await fetch(`${cdn.endpoint}/good/media/a/r1/live.m3u8`, { headers: { 'x-twin-country': 'de', 'x-twin-device': 'mobile' } });

    const cf = originEvents[0]!.Records[0]!.cf;
    const request = cf.request as CloudFrontRequest;
    expect(cf.config.eventType).toBe('origin-request');
    expect(request.uri).toBe('/media/a/r1/live.m3u8');
    expect(request.origin?.s3).toMatchObject({ domainName: 'origin.s3.us-east-1.amazonaws.com', region: 'us-east-1', path: '' });
    expect(request.headers['cloudfront-viewer-country']).toEqual([{ key: 'CloudFront-Viewer-Country', value: 'DE' }]);
    expect(request.headers['cloudfront-is-mobile-viewer']?.[0]?.value).toBe('true');
    expect(request.headers['x-twin-country']).toBeUndefined();
  });

  it('sends a response generated by viewer-request as is', async () => {
    const response = await fetch(`${cdn.endpoint}/forged/media/a/r1/seg-0-00001.m4s`);

    expect(response.status).toBe(403);
    expect(response.headers.get('x-token-error')).toBe('bad-signature');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(originEvents).toHaveLength(0);
  });

  it('answers a CORS preflight allowing the CMCD request headers', async () => {
    const response = await fetch(`${cdn.endpoint}/good/media/a/r1/seg-0-00001.m4s`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://127.0.0.1:9', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'cmcd-request' },
    });

    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-headers')).toContain('CMCD-Request');
  });

  it('adds the delivery CORS policy to every response, as the response headers policy does', async () => {
    const response = await fetch(`${cdn.endpoint}/bad/media/a/r1/seg-0-00001.m4s`, { headers: { Origin: 'http://127.0.0.1:9' } });

    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-expose-headers')).toBe(DELIVERY_CORS.exposeHeaders.join(', '));
  });

  it('injects faults through the control API: 503s, errors, latency, and connection resets when down', async () => {
    const control = (faults: object) =>
      fetch(`${cdn.endpoint}/__twin/faults`, { method: 'POST', body: JSON.stringify(faults) });
    const url = `${cdn.endpoint}/good/media/a/r1/seg-0-00001.m4s`;

    await control({ down: '503' });
    const unavailable = await fetch(url);
    await fetch(`${cdn.endpoint}/__twin/faults`, { method: 'DELETE' });
    await control({ errorRate: 1 });
    const erroring = await fetch(url);
    await fetch(`${cdn.endpoint}/__twin/faults`, { method: 'DELETE' });
    await control({ latencyMs: 150 });
    const started = Date.now();
    const slow = await fetch(url);
    const slowMs = Date.now() - started;
    await fetch(`${cdn.endpoint}/__twin/faults`, { method: 'DELETE' });
    await control({ down: true });
    const reset = await fetch(url).then(
      () => 'answered',
      () => 'reset',
    );
    await fetch(`${cdn.endpoint}/__twin/faults`, { method: 'DELETE' }).catch(() => undefined);

    expect(unavailable.status).toBe(503);
    expect(erroring.status).toBe(503);
    expect(slow.status).toBe(200);
    expect(slowMs).toBeGreaterThanOrEqual(140);
    expect(reset).toBe('reset');
  });

  it('caps each response body at the throughput fault, so a segment takes its size over the cap', async () => {
    cdn.setFaults({ throughputKbps: 500 });
    const url = `${cdn.endpoint}/good/media/a/r1/seg-0-00002.m4s`;

    const started = performance.now();
    const response = await fetch(url);
    const body = await response.arrayBuffer();
    const elapsedMs = performance.now() - started;

    expect(response.status).toBe(200);
    expect(body.byteLength).toBe(SEGMENT_2_BYTES);
    // 25,000 B at 500 kbit/s is 400 ms, paced in 50 ms slices: the last slice cannot leave before 350 ms
    // (a few ms less where timers round down). A loaded machine only makes it slower.
    expect(elapsedMs).toBeGreaterThanOrEqual(300);
  });

  it('heals by itself after healAfterMs (down, then healed), set through the control API', async () => {
    const url = `${cdn.endpoint}/good/media/a/r1/seg-0-00001.m4s`;
    await fetch(`${cdn.endpoint}/__twin/faults`, { method: 'POST', body: JSON.stringify({ down: '503', healAfterMs: 300 }) });

    const whileDown = await fetch(url);
    const healed = await waitFor('the CDN to heal', async () => {
      const response = await fetch(url);
      return response.status === 200 ? response : undefined;
    }, 10_000, 20);

    expect(whileDown.status).toBe(503);
    expect(healed.status).toBe(200);
    expect(cdn.faults).toEqual({});
  });

  it('lifts only the faults in force: setting faults again restarts the heal clock', async () => {
    const setAt = performance.now();
    cdn.setFaults({ down: '503', healAfterMs: 50 });
    cdn.setFaults({ latencyMs: 1, healAfterMs: 300 });

    await waitFor('the second faults to heal', async () => Object.keys(cdn.faults).length === 0, 10_000, 10);
    const healedAfterMs = performance.now() - setAt;

    // Had the first timer survived, the latency would have been lifted after 50 ms; timers never fire early.
    expect(healedAfterMs).toBeGreaterThanOrEqual(250);
  });

  it('writes one real-time log line per request to the stream, in the configured field order, with CMCD', async () => {
    await cdn.flushLogs();
    const shards = await aws.clients.kinesis.send(new ListShardsCommand({ StreamName: 'telemetry' }));
    const iterator = await aws.clients.kinesis.send(
      new GetShardIteratorCommand({ StreamName: 'telemetry', ShardId: shards.Shards![0]!.ShardId!, ShardIteratorType: 'LATEST' }),
    );
    await fetch(`${cdn.endpoint}/good/media/a/r1/seg-0-00001.m4s?CMCD=${encodeURIComponent('br=3200,sid="s-42"')}`, {
      headers: { 'x-twin-country': 'fr' },
    });
    await fetch(`${cdn.endpoint}/nope/media/a/r1/seg-0-00001.m4s`, { headers: { 'CMCD-Session': 'sid="s-43"' } });

    await cdn.flushLogs();
    const records = await aws.clients.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator.ShardIterator! }));

    const lines = (records.Records ?? []).map((r) => Buffer.from(r.Data!).toString('utf8'));
    expect(lines).toEqual([
      '200\t/good/media/a/r1/seg-0-00001.m4s\tFR\tcf-a.cloudfront.twin\ts-42\t3200\tHit\n',
      '403\t/nope/media/a/r1/seg-0-00001.m4s\tUS\tcf-a.cloudfront.twin\ts-43\t-\tError\n',
    ]);
  });
});

describe('twin CloudFront distribution faults that need their own distribution', () => {
  let aws: LocalAws;
  beforeAll(async () => {
    aws = await startLocalAws();
    await aws.createBuckets(['origin']);
    await aws.clients.s3.send(new PutObjectCommand({ Bucket: 'origin', Key: 'seg.m4s', Body: 'x' }));
  });
  afterAll(async () => {
    await aws?.stop();
  });

  it('answers the error-rate share of requests with 503, drawing a coin per request', async () => {
    // Ten requests whose coins are 0.00, 0.10, …, 0.90: at 30 % the first three fail.
    let draw = 0;
    const cdn = await startDistribution({ id: 'cf-e', origin: { s3: aws.clients.s3, bucket: 'origin' }, random: () => (draw++ % 10) / 10 });
    try {
      cdn.setFaults({ errorRate: 0.3 });
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) statuses.push((await fetch(`${cdn.endpoint}/seg.m4s`)).status);

      expect(statuses).toEqual([503, 503, 503, 200, 200, 200, 200, 200, 200, 200]);
    } finally {
      await cdn.stop();
    }
  });

  it('is reached by a *.localhost host name from Node once the process resolves such names', async () => {
    resolveLocalhostNames();
    const cdn = await startDistribution({ id: 'cf-h', origin: { s3: aws.clients.s3, bucket: 'origin' } });
    try {
      const port = new URL(cdn.endpoint).port;
      const response = await fetch(`http://cf-h.localhost:${port}/seg.m4s`);

      expect(response.status).toBe(200);
      expect(await response.text()).toBe('x');
    } finally {
      await cdn.stop();
    }
  });
});

describe('twin CloudFront distribution with the platform\'s real-time log configuration', () => {
  it('writes lines that core/realtime-log parses back into a QoE sample', async () => {
    const { parseRealtimeLogLine } = await import('../../core/realtime-log');
    const { buildPathwayHosts } = await import('../../core/pathway-hosts');
    const aws = await startLocalAws();
    try {
      await aws.createBuckets(['origin']);
      await aws.createStream('telemetry', 1);
      await aws.clients.s3.send(new PutObjectCommand({ Bucket: 'origin', Key: 'media/a/r1/seg.m4s', Body: 'x' }));
      const cdn = await startDistribution({
        id: 'cf-b',
        origin: { s3: aws.clients.s3, bucket: 'origin' },
        realtimeLog: { kinesis: aws.clients.kinesis, streamName: 'telemetry' },
      });
      const shards = await aws.clients.kinesis.send(new ListShardsCommand({ StreamName: 'telemetry' }));
      const iterator = await aws.clients.kinesis.send(
        new GetShardIteratorCommand({ StreamName: 'telemetry', ShardId: shards.Shards![0]!.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }),
      );

      await fetch(`${cdn.endpoint}/media/a/r1/seg.m4s?CMCD=${encodeURIComponent('br=800,sid="s-9"')}`, { headers: { 'x-twin-country': 'nl' } });
      await cdn.stop();
      const records = await aws.clients.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator.ShardIterator! }));

      const line = Buffer.from(records.Records![0]!.Data!).toString('utf8');
      const sample = parseRealtimeLogLine(
        line,
        buildPathwayHosts([{ id: 'cf-b', host: 'cf-b.cloudfront.twin', enabled: true, cap: 1 }]),
      );
      expect(sample).toMatchObject({ source: 'cdn-log', pathway: 'cf-b', country: 'NL', status: 200, bitrateKbps: 800 });
      // The session is the path token's (none here), never the client-chosen CMCD sid (ADR 0054).
      expect(sample.sid).toBeUndefined();
    } finally {
      await aws.stop();
    }
  });
});
