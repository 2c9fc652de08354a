import type { CloudFrontRequestEvent, CloudFrontResultResponse } from 'aws-lambda';
import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it, vi } from 'vitest';
import { generateInitialKeyring } from '../../core/keyring';
import { rankPathways } from '../../core/rendezvous';
import { signToken } from '../../core/token';
import { createSteeringHandler, MAX_GENERATED_BODY_BYTES, type SteeringHandlerDeps } from '../../edge-functions/steering/handler';
import type { OriginManifestRequest } from '../../edge-functions/steering/manifest-cache';
import { snapshotOfItems } from '../support/routing-tables';

const NOW_S = 1_750_000_000;
const KEYRING = generateInitialKeyring({ nowSeconds: NOW_S - 100 });
const GATEWAY = 'd9999gateway.cloudfront.net';
const REGISTRY = {
  pk: 'pathways',
  updatedAt: '2025-06-15T00:00:00Z',
  pathways: [
    { id: 'cf-a', host: 'd1111.cloudfront.net', enabled: true, cap: 1 },
    { id: 'cf-b', host: 'd2222.cloudfront.net', enabled: true, cap: 1 },
    { id: 'cf-c', host: 'd3333.cloudfront.net', enabled: true, cap: 1 },
    { id: 'old', host: 'old.example.net', enabled: false, cap: 1 },
  ],
};
const weightsItem = (scope: string, weights: Record<string, number>) => ({ pk: `weights#${scope}`, scope, weights, version: 3, updatedAt: '2025-06-15T00:00:00Z', reason: 'test' });

function rungs(n: number): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:6', '#EXT-X-INDEPENDENT-SEGMENTS'];
  for (let i = 0; i < n; i++) {
    const h = 1080 - (i % 8) * 120;
    lines.push(`#EXT-X-STREAM-INF:BANDWIDTH=${6_000_000 - i * 400_000},CODECS="avc1.640028,mp4a.40.2",RESOLUTION=${Math.round((h * 16) / 9)}x${h},AUDIO="program_audio"`, `main_${h}p_${i}.m3u8`);
    lines.push(`#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=${600_000 - i * 40_000},CODECS="avc1.640028",RESOLUTION=${Math.round((h * 16) / 9)}x${h},URI="main_${h}p_${i}_iframe.m3u8"`);
  }
  lines.push('#EXT-X-MEDIA:TYPE=AUDIO,URI="main_audio.m3u8",GROUP-ID="program_audio",LANGUAGE="eng",NAME="English",AUTOSELECT=YES,DEFAULT=YES,CHANNELS="2"');
  return `${lines.join('\n')}\n`;
}
const ORIGIN_MPD = `<?xml version="1.0" encoding="UTF-8"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" minBufferTime="PT12S" profiles="urn:mpeg:dash:profile:cmaf:2019" mediaPresentationDuration="PT60S"><Period id="1"><AdaptationSet mimeType="video/mp4"><Representation id="1" width="1920" height="1080" bandwidth="6000000" codecs="avc1.640028"><SegmentTemplate timescale="30000" media="v1080_$Number$.cmfv" initialization="v1080_init.cmfv" duration="180000"/></Representation><Representation id="2" width="1280" height="720" bandwidth="3000000" codecs="avc1.64001f"><SegmentTemplate timescale="30000" media="v720_$Number$.cmfv" initialization="v720_init.cmfv" duration="180000"/></Representation></AdaptationSet></Period></MPD>`;

const ORIGIN: Record<string, string> = {
  'media/big-buck/20260101-000002-000000000000000000000002/main.m3u8': rungs(6),
  'media/big-buck/20260101-000002-000000000000000000000002/main.mpd': ORIGIN_MPD,
  'media/huge/20260101-000001-000000000000000000000001/main.m3u8': rungs(900),
};

/** An origin-request event as CloudFront documents it (Lambda@Edge event structure), S3 origin, geo + device headers added by the origin request policy. */
function originRequest(uri: string, opts: { querystring?: string; method?: string; country?: string; mobile?: boolean } = {}): CloudFrontRequestEvent {
  const headers: Record<string, { key: string; value: string }[]> = {
    host: [{ key: 'Host', value: 'origin-bucket.s3.eu-west-1.amazonaws.com' }],
    'user-agent': [{ key: 'User-Agent', value: 'Amazon CloudFront' }],
    via: [{ key: 'Via', value: '2.0 2afae0d44e2540f472c0635ab62c232b.cloudfront.net (CloudFront)' }],
    'x-forwarded-for': [{ key: 'X-Forwarded-For', value: '203.0.113.178' }],
    'cloudfront-viewer-asn': [{ key: 'CloudFront-Viewer-ASN', value: '3320' }],
    'cloudfront-is-mobile-viewer': [{ key: 'CloudFront-Is-Mobile-Viewer', value: String(opts.mobile ?? false) }],
    'cloudfront-is-tablet-viewer': [{ key: 'CloudFront-Is-Tablet-Viewer', value: 'false' }],
    'cloudfront-is-smarttv-viewer': [{ key: 'CloudFront-Is-SmartTV-Viewer', value: 'false' }],
    'cloudfront-is-desktop-viewer': [{ key: 'CloudFront-Is-Desktop-Viewer', value: String(!(opts.mobile ?? false)) }],
  };
  if (opts.country !== undefined) headers['cloudfront-viewer-country'] = [{ key: 'CloudFront-Viewer-Country', value: opts.country }];
  return {
    Records: [
      {
        cf: {
          config: { distributionDomainName: GATEWAY, distributionId: 'EDFDVBD6EXAMPLE', eventType: 'origin-request', requestId: '4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==' },
          request: {
            clientIp: '203.0.113.178',
            headers,
            method: opts.method ?? 'GET',
            origin: {
              s3: { authMethod: 'origin-access-identity', customHeaders: {}, domainName: 'origin-bucket.s3.eu-west-1.amazonaws.com', path: '', region: 'eu-west-1' },
            },
            querystring: opts.querystring ?? '',
            uri,
          },
        },
      },
    ],
  } as CloudFrontRequestEvent;
}

const token = (claims: Partial<{ sid: string; aid: string; exp: number }> = {}) =>
  signToken({ sid: claims.sid ?? 'sess-1', aid: claims.aid ?? 'big-buck', exp: claims.exp ?? NOW_S + 3600 }, KEYRING);

function setup(overrides: Partial<SteeringHandlerDeps> & { items?: Record<string, unknown> } = {}) {
  const items = overrides.items ?? { pathways: REGISTRY, 'weights#*': weightsItem('*', { 'cf-a': 0.5, 'cf-b': 0.3, 'cf-c': 0.2 }) };
  const readRoutingSnapshot = vi.fn(async (): Promise<unknown> => snapshotOfItems(items));
  const readOriginText = vi.fn(async ({ key }: OriginManifestRequest) => ORIGIN[key] ?? null);
  const clock = { ms: NOW_S * 1000 };
  const log = vi.fn();
  const handler = createSteeringHandler({
    getKeyring: () => KEYRING,
    readOriginText,
    readRoutingSnapshot,
    steeringTtlSeconds: 10,
    routingCacheSeconds: 5,
    nowMs: () => clock.ms,
    log,
    ...overrides,
  });
  return { handler, readRoutingSnapshot, readOriginText, clock, log };
}

const header = (r: CloudFrontResultResponse, name: string) => r.headers?.[name]?.[0]?.value;
const WEIGHTS = { 'cf-a': 0.5, 'cf-b': 0.3, 'cf-c': 0.2 };
/** A session's order: weighted rendezvous on its session id (ADR 0040). */
const orderOf = (sid: string) => rankPathways(sid, WEIGHTS);
const REV = '20260101-000002-000000000000000000000002';

describe('steering edge handler: /play manifests', () => {
  it('returns a multi-pathway HLS playlist ranked for the session, uncached, with CORS', async () => {
    // Prepare
    const { handler } = setup();
    const t = token({ sid: 'sess-77' });
    // Act
    const res = await handler(originRequest(`/${t}/play/big-buck/20260101-000002-000000000000000000000002/main.m3u8`, { country: 'DE' }));
    // Assess
    expect(res.status).toBe('200');
    expect(header(res, 'content-type')).toBe('application/vnd.apple.mpegurl');
    expect(header(res, 'cache-control')).toBe('no-store');
    expect(header(res, 'access-control-allow-origin')).toBe('*');
    const expectedFirst = orderOf('sess-77')[0];
    // The steering URL sits next to the manifest, so a relative RELOAD-URI resolves to it in every player.
    expect(res.body).toContain(`#EXT-X-CONTENT-STEERING:SERVER-URI="https://${GATEWAY}/${t}/play/big-buck/${REV}/steering",PATHWAY-ID="${expectedFirst}"`);
    expect(res.body?.match(/^#EXT-X-STREAM-INF:/gm)).toHaveLength(18);
    expect(res.body).not.toContain('old.example.net');
    expect(res.body).toContain(`https://d1111.cloudfront.net/${t}/media/big-buck/20260101-000002-000000000000000000000002/main_1080p_0.m3u8`);
  });

  it('returns a DASH MPD with one BaseURL per enabled pathway and ContentSteering', async () => {
    const { handler } = setup();
    const res = await handler(originRequest(`/${token()}/play/big-buck/20260101-000002-000000000000000000000002/main.mpd`));
    expect(res.status).toBe('200');
    expect(header(res, 'content-type')).toBe('application/dash+xml');
    expect(XMLValidator.validate(res.body as string)).toBe(true);
    expect(res.body?.match(/<BaseURL serviceLocation="/g)).toHaveLength(3);
    expect(res.body).toMatch(/<ContentSteering defaultServiceLocation="cf-[abc]" queryBeforeStart="true">https:\/\/d9999gateway/);
  });

  it('leaves out renditions above the mobile cap', async () => {
    const { handler } = setup();
    const res = await handler(originRequest(`/${token()}/play/big-buck/20260101-000002-000000000000000000000002/main.mpd`, { mobile: true }));
    expect(res.body).not.toContain('height="1080"');
    expect(res.body).toContain('height="720"');
  });

  it('reads an origin manifest once, with the viewer token and ranked pathways, then serves it from memory', async () => {
    const { handler, readOriginText } = setup();
    const t = token({ sid: 'a' });
    await handler(originRequest(`/${t}/play/big-buck/20260101-000002-000000000000000000000002/main.m3u8`));
    await handler(originRequest(`/${token({ sid: 'b' })}/play/big-buck/20260101-000002-000000000000000000000002/main.m3u8`));
    expect(readOriginText).toHaveBeenCalledTimes(1);
    const request = readOriginText.mock.calls[0][0];
    expect(request.key).toBe('media/big-buck/20260101-000002-000000000000000000000002/main.m3u8');
    expect(request.token).toBe(t);
    expect(request.pathways.map((p) => p.id)).toEqual(orderOf('a'));
  });

  it('answers 502 when the origin manifest is not a multivariant playlist', async () => {
    const { handler } = setup({ readOriginText: async () => '#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6,\na.cmfv\n' });
    const res = await handler(originRequest(`/${token()}/play/big-buck/20260101-000002-000000000000000000000002/main.m3u8`));
    expect(res.status).toBe('502');
    expect(header(res, 'cache-control')).toBe('no-store');
  });

  it('answers 404 for a revision the origin does not have', async () => {
    const { handler } = setup();
    const res = await handler(originRequest(`/${token()}/play/big-buck/20260101-000009-000000000000000000000009/main.m3u8`));
    expect(res.status).toBe('404');
    expect(header(res, 'cache-control')).toBe('no-store');
  });

  it('keeps a generated manifest within the 1 MB origin-request limit by dropping failover pathways', async () => {
    const { handler, log } = setup();
    const res = await handler(originRequest(`/${token({ aid: 'huge' })}/play/huge/20260101-000001-000000000000000000000001/main.m3u8`));
    expect(res.status).toBe('200');
    expect(Buffer.byteLength(res.body as string)).toBeLessThanOrEqual(MAX_GENERATED_BODY_BYTES);
    expect(log).toHaveBeenCalledWith(expect.objectContaining({ message: 'manifest trimmed to fit 1 MB' }));
  });

  it('keeps a realistic manifest (6 rungs, I-frames, 3 pathways) far below 1 MB', async () => {
    const { handler } = setup();
    const res = await handler(originRequest(`/${token()}/play/big-buck/20260101-000002-000000000000000000000002/main.m3u8`));
    expect(Buffer.byteLength(res.body as string)).toBeLessThan(MAX_GENERATED_BODY_BYTES / 50);
  });
});

describe('steering edge handler: steering reloads by cache key (ADR 0036)', () => {
  /** What the key function hands on: the session's steering folder in `s`, then the report and memory. */
  const keyed = (t: string, query: string, country?: string) =>
    originRequest('/steering', { querystring: `s=${encodeURIComponent(`/${t}/play/big-buck/${REV}/`)}${query === '' ? '' : `&${query}`}`, ...(country !== undefined ? { country } : {}) });

  it('answers from the key: TTL, an absolute RELOAD-URI on the session\'s token path carrying the memory, cacheable', async () => {
    // Prepare
    const { handler } = setup();
    const t = token({ sid: 'sess-9' });
    const priority = orderOf('sess-9');
    // Act
    const res = await handler(keyed(t, `p=${priority[0]}&t=44`, 'DE'));
    // Assess
    expect(res.status).toBe('200');
    expect(header(res, 'content-type')).toBe('application/json');
    // No max-age: the cache policy's default TTL decides how long the answer is reused.
    expect(header(res, 'cache-control')).toBe('public');
    expect(header(res, 'access-control-allow-origin')).toBe('*');
    expect(JSON.parse(res.body as string)).toEqual({
      VERSION: 1,
      TTL: 10,
      'RELOAD-URI': `https://${GATEWAY}/${t}/play/big-buck/${REV}/steering?first=${priority[0]}&on=${priority[0]}&best=44.1`,
      'PATHWAY-PRIORITY': priority,
    });
  });

  it('gives the same bytes to the same key', async () => {
    const { handler } = setup();
    const t = token({ sid: 'sess-3' });
    const answers = await Promise.all([1, 2, 3].map(() => handler(keyed(t, 'p=cf-b&t=40&first=cf-b&on=cf-b&best=44.2', 'BR'))));
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
  });

  it('logs what it held and why with each decision when decision logging is on', async () => {
    const { handler, log } = setup({ logSteeringDecisions: true });
    const [first, second] = orderOf('sess-9');
    await handler(keyed(token({ sid: 'sess-9' }), `p=${first}&t=30&first=${first}&on=${first}&best=44.2`));
    expect(log).toHaveBeenLastCalledWith(expect.objectContaining({ message: 'steer', sid: 'sess-9', held: [first], collapsedFrom: first }));
    expect(log.mock.lastCall?.[0].priority[0]).toBe(second);
  });

  it('keeps RELOAD-URI bare and the session\'s order for a key that reports nothing', async () => {
    const { handler } = setup();
    const t = token({ sid: 'sess-9' });
    const res = JSON.parse((await handler(keyed(t, '', 'DE'))).body as string);
    expect(res['RELOAD-URI']).toBe(`https://${GATEWAY}/${t}/play/big-buck/${REV}/steering`);
    expect(res['PATHWAY-PRIORITY']).toEqual(orderOf('sess-9'));
  });

  it('answers 400, never cached, to a key whose session folder the key function would not write', async () => {
    const { handler } = setup();
    const t = token();
    for (const s of ['', `/${t}/play/big-buck/`, `/${t}/media/big-buck/${REV}/`, `/${t}/steer/big-buck/`, '/steering/', 'x']) {
      const res = await handler(originRequest('/steering', { querystring: `s=${encodeURIComponent(s)}` }));
      expect(res.status, s).toBe('400');
      expect(header(res, 'cache-control')).toBe('no-store');
    }
  });

  it('checks the token in the key again: 403 for an expired one', async () => {
    const { handler } = setup();
    const res = await handler(keyed(token({ exp: NOW_S - 3600 }), ''));
    expect(res.status).toBe('403');
    expect(header(res, 'x-token-error')).toBe('expired');
  });

  it('uses the viewer country\'s weights, falling back to the global ones', async () => {
    const { handler, readRoutingSnapshot } = setup({
      items: { pathways: REGISTRY, 'weights#*': weightsItem('*', { 'cf-a': 1 }), 'weights#FR': weightsItem('FR', { 'cf-c': 1 }) },
    });
    const fr = JSON.parse((await handler(keyed(token(), '', 'FR'))).body as string);
    const jp = JSON.parse((await handler(keyed(token(), '', 'JP'))).body as string);
    expect(fr['PATHWAY-PRIORITY'][0]).toBe('cf-c');
    expect(jp['PATHWAY-PRIORITY'][0]).toBe('cf-a');
    // Both countries from the one snapshot read.
    expect(readRoutingSnapshot).toHaveBeenCalledTimes(1);
  });
});

describe('steering edge handler: steering URLs that did not come through the key function', () => {
  it('answers a pre-ADR 0036 /steer/<asset> reload with the session\'s order, its own URL, no memory and no-store', async () => {
    const { handler } = setup();
    const t = token({ sid: 'sess-9' });
    const res = await handler(originRequest(`/${t}/steer/big-buck`, { querystring: '_HLS_pathway=cf-c&_HLS_throughput=100', country: 'DE' }));
    expect(header(res, 'cache-control')).toBe('no-store');
    expect(JSON.parse(res.body as string)).toEqual({ VERSION: 1, TTL: 10, 'RELOAD-URI': `https://${GATEWAY}/${t}/steer/big-buck`, 'PATHWAY-PRIORITY': orderOf('sess-9') });
  });

  it('answers a tokened steering path reaching it directly with its own URL, not cached', async () => {
    const { handler } = setup();
    const t = token({ sid: 'sess-9' });
    const res = await handler(originRequest(`/${t}/play/big-buck/${REV}/steering`));
    expect(header(res, 'cache-control')).toBe('no-store');
    expect(JSON.parse(res.body as string)['RELOAD-URI']).toBe(`https://${GATEWAY}/${t}/play/big-buck/${REV}/steering`);
    expect(JSON.parse(res.body as string)['PATHWAY-PRIORITY']).toEqual(orderOf('sess-9'));
  });
});

describe('steering edge handler: fail static', () => {
  it('keeps serving the last good snapshot when DynamoDB starts throwing, and does not fail the request', async () => {
    // Prepare
    const items = { pathways: REGISTRY, 'weights#*': weightsItem('*', { 'cf-c': 1 }) };
    const { handler, readRoutingSnapshot, clock, log } = setup({ items });
    await handler(originRequest(`/${token()}/steer/big-buck`));
    readRoutingSnapshot.mockRejectedValue(new Error('ProvisionedThroughputExceededException'));
    clock.ms += 60_000; // long past the 5 s period
    // Act
    const first = await handler(originRequest(`/${token()}/play/big-buck/20260101-000002-000000000000000000000002/main.m3u8`));
    await vi.waitFor(() => expect(log).toHaveBeenCalledWith(expect.objectContaining({ level: 'WARN' })));
    const second = await handler(originRequest(`/${token()}/steer/big-buck`));
    // Assess
    expect(first.status).toBe('200');
    expect(header(first, 'x-routing-source')).toBe('weights#*');
    expect(JSON.parse(second.body as string)['PATHWAY-PRIORITY'][0]).toBe('cf-c');
  });

  it('does not wait on DynamoDB once warm: a stale snapshot answers while one refresh runs in the background', async () => {
    const { handler, readRoutingSnapshot, clock } = setup();
    await handler(originRequest(`/${token()}/steer/big-buck`));
    let release: () => void = () => undefined;
    readRoutingSnapshot.mockImplementation(() => new Promise((resolve) => (release = () => resolve(undefined))));
    clock.ms += 6_000;
    const responses = await Promise.all(['DE', 'FR', 'JP'].map((country) => handler(originRequest(`/${token()}/steer/big-buck`, { country }))));
    expect(responses.map((r) => r.status)).toEqual(['200', '200', '200']);
    expect(readRoutingSnapshot).toHaveBeenCalledTimes(2); // the cold read plus ONE background refresh, whatever the countries
    release();
  });

  it('answers a cold container from the static weights when the first read hangs, marking the source', async () => {
    const { handler } = setup({
      readRoutingSnapshot: () => new Promise(() => undefined),
      routingColdWaitMs: 20,
      staticPathways: [{ id: 'cf-a', host: 'cdn-a.example.net', weight: 1 }, { id: 'cf-b', weight: 0 }],
    });
    const steer = await handler(originRequest(`/${token()}/steer/big-buck`));
    expect(steer.status).toBe('200');
    expect(JSON.parse(steer.body as string)['PATHWAY-PRIORITY']).toEqual(['cf-a', 'cf-b']);
    const play = await handler(originRequest(`/${token()}/play/big-buck/20260101-000002-000000000000000000000002/main.m3u8`));
    expect(play.status).toBe('200');
    expect(header(play, 'x-routing-source')).toBe('static');
    // cf-b's host is unknown at build time: it is not listed in a playback manifest.
    expect(play.body).not.toContain('cf-b');
  });

  it('answers from the static weights while no snapshot has been written yet', async () => {
    const { handler } = setup({ items: {}, staticPathways: [{ id: 'cf-a', host: 'cdn-a.example.net', weight: 0.5 }, { id: 'cf-b', host: 'cdn-b.example.net', weight: 0.5 }] });
    const res = await handler(originRequest(`/${token()}/play/big-buck/20260101-000002-000000000000000000000002/main.m3u8`));
    expect(res.status).toBe('200');
    expect(header(res, 'x-routing-source')).toBe('static');
  });

  it('uses equal weights over enabled pathways when the snapshot has no weights', async () => {
    const { handler } = setup({ items: { pathways: REGISTRY } });
    const res = await handler(originRequest(`/${token()}/play/big-buck/20260101-000002-000000000000000000000002/main.m3u8`, { country: 'DE' }));
    expect(res.status).toBe('200');
    expect(header(res, 'x-routing-source')).toBe('equal');
    expect(res.body?.match(/^#EXT-X-STREAM-INF:/gm)).toHaveLength(18);
  });

  it('answers 503 with Retry-After, not a broken manifest, with neither a snapshot nor static weights', async () => {
    const { handler } = setup({ readRoutingSnapshot: async () => Promise.reject(new Error('AccessDenied')) });
    const res = await handler(originRequest(`/${token()}/steer/big-buck`));
    expect(res.status).toBe('503');
    expect(header(res, 'retry-after')).toBe('1');
    expect(header(res, 'cache-control')).toBe('no-store');
  });

  it('answers a cold playback start 503 when no static pathway has a host known at build time', async () => {
    const { handler } = setup({ items: {}, staticPathways: [{ id: 'cf-a', weight: 1 }] });
    const res = await handler(originRequest(`/${token()}/play/big-buck/20260101-000002-000000000000000000000002/main.m3u8`));
    expect(res.status).toBe('503');
    expect((await handler(originRequest(`/${token()}/steer/big-buck`))).status).toBe('200');
  });
});

describe('steering edge handler: tokens and methods', () => {
  it('answers 403 with a reason code and no-store for an expired token', async () => {
    const { handler } = setup();
    const res = await handler(originRequest(`/${token({ exp: NOW_S - 3600 })}/steer/big-buck`));
    expect(res.status).toBe('403');
    expect(header(res, 'x-token-error')).toBe('expired');
    expect(header(res, 'cache-control')).toBe('no-store');
  });

  it('answers 403 for a token of another asset', async () => {
    const { handler } = setup();
    const res = await handler(originRequest(`/${token({ aid: 'other' })}/play/big-buck/20260101-000002-000000000000000000000002/main.m3u8`));
    expect(res.status).toBe('403');
    expect(header(res, 'x-token-error')).toBe('asset-mismatch');
  });

  it('answers 403 for a path without a token', async () => {
    const { handler } = setup();
    expect((await handler(originRequest('/play'))).status).toBe('403');
  });

  it('answers a CORS preflight with 204 without looking at the token', async () => {
    const { handler, readRoutingSnapshot } = setup();
    const res = await handler(originRequest('/garbage/steer/big-buck', { method: 'OPTIONS' }));
    expect(res.status).toBe('204');
    expect(header(res, 'access-control-allow-methods')).toContain('GET');
    expect(readRoutingSnapshot).not.toHaveBeenCalled();
  });

  it('answers 404 for media paths, which belong on the delivery CDNs', async () => {
    const { handler } = setup();
    expect((await handler(originRequest(`/${token()}/media/big-buck/20260101-000002-000000000000000000000002/main_720p.m3u8`))).status).toBe('404');
  });

  it('answers 405 for POST', async () => {
    const { handler } = setup();
    expect((await handler(originRequest(`/${token()}/steer/big-buck`, { method: 'POST' }))).status).toBe('405');
  });

  it('answers 503 when the keyring cannot be loaded', async () => {
    const { handler } = setup({ getKeyring: () => Promise.reject(new Error('secrets manager timeout')) });
    expect((await handler(originRequest(`/${token()}/steer/big-buck`))).status).toBe('503');
  });
});
