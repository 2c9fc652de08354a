/**
 * CloudFront stand-in (ADR 0073): one HTTP server per distribution. Each request goes through
 * the same stages as at a CloudFront edge — viewer-request Lambda@Edge, cache, origin-request
 * Lambda@Edge, origin (S3) — with literal Lambda@Edge events
 * (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-event-structure.html),
 * then one real-time log record per request to the Kinesis stream. A control API under `/__twin/`
 * injects faults (latency, errors, throughput cap, down) so steering can be exercised.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import type {
  CloudFrontHeaders,
  CloudFrontRequest,
  CloudFrontRequestEvent,
  CloudFrontRequestResult,
  CloudFrontResultResponse,
  Context,
} from 'aws-lambda';
import { lambdaContext } from '../apigw';
import { closeServer, listenOnLoopback, readBody, sendJson } from '../http-server';
import { formatRealtimeLogLine, REALTIME_LOG_FIELDS } from '../../core/realtime-log';
import { formatTabSeparatedLine, pickFields, realtimeLogValues, type RealtimeLogValues } from './realtime-log';
import { type CorsPolicy, corsPreflightHeaders, corsResponseHeaders } from '../../core/identifiers';
import type { OriginFetchCounters, OriginShield } from './origin-shield';

/** A Lambda@Edge request handler in either async or callback style (`CloudFrontRequestHandler`). */
export type EdgeRequestHandler = (
  event: CloudFrontRequestEvent,
  context: Context,
  callback: (error?: unknown, result?: CloudFrontRequestResult) => void,
) => Promise<CloudFrontRequestResult> | void;

/**
 * What can go wrong at a twin CDN (ADR 0073, 0083): the kinds the player matrix exercises
 * (test/e2e/player-matrix.test.ts). Combinable; `{}` is a healthy CDN.
 */
export interface EdgeFaults {
  /** Added before the first byte of every response (an overloaded or far-away edge). */
  readonly latencyMs?: number;
  /** Share (0..1) of requests answered 503 by the edge, each request drawn independently. */
  readonly errorRate?: number;
  /** Cap on each response body's throughput, kilobits per second (a congested edge or peering link). */
  readonly throughputKbps?: number;
  /** true/"reset": connections are reset before any answer; "503": every request gets 503. */
  readonly down?: boolean | 'reset' | '503';
  /**
   * The CDN heals by itself this long after these faults were set: every fault is lifted, as a DELETE
   * would (down, then healed). Setting faults again restarts the clock.
   */
  readonly healAfterMs?: number;
}

export interface RealtimeLogTarget {
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  /**
   * Percent of requests logged, each drawn independently (the real-time log configuration's SamplingRate,
   * `telemetrySamplingRate` in the cloud). @default 100
   */
  readonly samplingRate?: number;
  /** @default REALTIME_LOG_FIELDS from core/realtime-log (the delivery distributions' configuration) */
  readonly fields?: readonly string[];
  /**
   * @default formatRealtimeLogLine from core/realtime-log; with custom `fields`, CloudFront's
   * tab-separated layout in that order
   */
  readonly formatLine?: (values: RealtimeLogValues) => string;
}

export interface DistributionOptions {
  /** The pathway this distribution is, e.g. "cf-a"; also used as the distribution id. */
  readonly id: string;
  /** Host name the edge events carry as `distributionDomainName`. @default "<id>.cloudfront.twin" */
  readonly domainName?: string;
  readonly port?: number;
  readonly origin: { readonly s3: S3Client; readonly bucket: string; readonly region?: string };
  readonly viewerRequest?: EdgeRequestHandler;
  readonly originRequest?: EdgeRequestHandler;
  /** false for the gateway distribution (CachingDisabled). @default true */
  readonly caching?: boolean;
  /** TTL when the origin sends no Cache-Control (the cache policy's default TTL). @default 86400 */
  readonly defaultTtlSeconds?: number;
  /**
   * Add CloudFront-Viewer-Country / -ASN / device headers to origin requests, as the origin request
   * policy does. The twin takes them from `x-twin-country`, `x-twin-asn`, `x-twin-device`.
   * @default true
   */
  readonly viewerHeaders?: boolean;
  /** @default 'US' */
  readonly defaultCountry?: string;
  readonly realtimeLog?: RealtimeLogTarget;
  readonly faults?: EdgeFaults;
  /**
   * Extra cache behaviors that send a path prefix to a custom (HTTP) origin, uncached and without
   * edge functions, adding the viewer headers an origin request policy forwards. The gateway uses
   * one for `/v1/cmcd/*` → the ingest API (ADR 0004).
   */
  readonly customOrigins?: readonly CustomOriginBehavior[];
  /** Draws the error-rate fault's coin for each request, uniform in [0, 1). @default Math.random */
  readonly random?: () => number;
  /**
   * The CORS part of the distribution's response headers policy (origin override on): the
   * Access-Control-* headers added to every response, preflight ones to OPTIONS answers. The delivery
   * distributions have DELIVERY_CORS (lib/constructs/delivery-network.ts); the gateway has none, its
   * edge function and the report API answer CORS themselves.
   * @default none
   */
  readonly cors?: CorsPolicy;
  /**
   * The Origin Shield this distribution's S3 origin fetches through (local/edge/origin-shield.ts, ADR 0038);
   * the twin's pathways share one, as pathways with the same `platform.originShield.region` share a shield Region.
   * In mode "shared" (ADR 0098) it is the inner shield distribution, the pathway's origin, and the pathway
   * sends it `shieldOriginSecret` in the origin-verify header.
   * @default none: every edge cache miss is an S3 GET
   */
  readonly originShield?: OriginShield;
  /** The origin custom header value this pathway sends the shared shield distribution (mode "shared"). @default none */
  readonly shieldOriginSecret?: string;
  /** Cache behaviors matched before the default one (the default keeps `caching`, `viewerRequest`, `originRequest`). @default none */
  readonly behaviors?: readonly CachedBehavior[];
}

/** What `GET /__twin/origin-stats` answers: how this distribution's S3 origin was reached (ADR 0038). */
export interface OriginFetchStats extends OriginFetchCounters {
  readonly distributionId: string;
  /** The shield Region, or null when the distribution has no Origin Shield. */
  readonly originShieldRegion: string | null;
  /** "per-pathway" (ADR 0038), "shared" (ADR 0098), or null without Origin Shield. */
  readonly originShieldMode: OriginShield['mode'] | null;
}

/**
 * A cache behavior of the distribution with its own functions and cache policy (the gateway's steering
 * behavior, ADR 0036): matched before the default behavior by its path pattern, cached by exactly the
 * key's query strings and headers, with the policy's TTL bounds applied to the origin's Cache-Control.
 * As on CloudFront without an origin request policy, the origin-request function sees only what is in the key.
 */
export interface CachedBehavior {
  /** Name in `GET /__twin/edge-stats`. */
  readonly name: string;
  /** CloudFront path pattern: `*` matches any characters, `?` exactly one; the gateway's steering behavior has `*` + `/steering`. */
  readonly pathPattern: string;
  readonly viewerRequest?: EdgeRequestHandler;
  readonly originRequest?: EdgeRequestHandler;
  readonly cacheKey: { readonly queryStrings: readonly string[]; readonly headers: readonly string[] };
  readonly minTtlSeconds: number;
  readonly defaultTtlSeconds: number;
  readonly maxTtlSeconds: number;
}

/** Requests and edge-function invocations of one behavior, for the load harness and tests (`GET /__twin/edge-stats`). */
export interface BehaviorStats {
  /** Viewer requests the behavior received (answered by a function, from the cache or from the origin). */
  requests: number;
  cacheHits: number;
  cacheMisses: number;
  /** Runs of the viewer-request function (every request: it sits in front of the cache). */
  viewerRequestInvocations: number;
  /** Runs of the origin-request function (cache misses only). For the gateway's `steering` behavior: steering function invocations. */
  originRequestInvocations: number;
}

export interface EdgeStats {
  readonly distributionId: string;
  /** `default` and each cached behavior by name. */
  readonly behaviors: Readonly<Record<string, BehaviorStats>>;
}

export interface CustomOriginBehavior {
  /** e.g. `/v1/cmcd/` */
  readonly pathPrefix: string;
  /** e.g. `http://127.0.0.1:4570`; the viewer's path and query are appended. */
  readonly origin: string;
  /** Origin custom headers, set on every request to the origin over any the viewer sent (ADR 0055). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface Distribution {
  readonly id: string;
  readonly endpoint: string;
  readonly domainName: string;
  /** Replaces the faults (`{}` heals); `healAfterMs` lifts them later by itself. */
  setFaults(faults: EdgeFaults): void;
  /** The faults in force now. */
  readonly faults: EdgeFaults;
  purgeCache(pathPrefix?: string): number;
  /**
   * Removes what a CloudFront invalidation with these paths removes: a path ending in `*` every cached
   * object under it, any other path that object only (ADR 0012). Returns how many entries went.
   */
  invalidate(paths: readonly string[]): number;
  /** Writes buffered real-time log records to the stream now. */
  flushLogs(): Promise<void>;
  /** S3 GETs and shield hits and misses of this distribution so far (also `GET /__twin/origin-stats`). */
  originStats(): OriginFetchStats;
  /** Requests, cache hits and function invocations per behavior so far (also `GET /__twin/edge-stats`). */
  edgeStats(): EdgeStats;
  stop(): Promise<void>;
}

/** CORS of the twin's own control endpoints (`/__twin/*`), which the operator page calls from another port. */
const CONTROL_CORS_HEADERS = corsPreflightHeaders({
  allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
  allowHeaders: ['Content-Type'],
  exposeHeaders: [],
  maxAgeSeconds: 600,
});

const TWIN_HEADERS = ['x-twin-country', 'x-twin-asn', 'x-twin-device'];

interface EdgeResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

interface CacheEntry extends EdgeResponse {
  storedAt: number;
  expiresAt: number;
}

class EdgeFunctionError extends Error {}

export function toCloudFrontHeaders(headers: Record<string, string>): CloudFrontHeaders {
  const result: CloudFrontHeaders = {};
  for (const [name, value] of Object.entries(headers)) result[name.toLowerCase()] = [{ key: name, value }];
  return result;
}

function fromCloudFrontHeaders(headers: CloudFrontHeaders | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, values] of Object.entries(headers ?? {})) {
    if (values.length > 0) result[name] = values.map((v) => v.value).join(', ');
  }
  return result;
}

function viewerHeaderEntries(headers: Record<string, string>, defaultCountry: string): Record<string, string> {
  const device = headers['x-twin-device'] ?? 'desktop';
  return {
    'CloudFront-Viewer-Country': (headers['x-twin-country'] ?? defaultCountry).toUpperCase(),
    'CloudFront-Viewer-ASN': headers['x-twin-asn'] ?? '64512',
    'CloudFront-Is-Desktop-Viewer': String(device === 'desktop'),
    'CloudFront-Is-Mobile-Viewer': String(device === 'mobile'),
    'CloudFront-Is-Tablet-Viewer': String(device === 'tablet'),
    'CloudFront-Is-SmartTV-Viewer': String(device === 'smarttv'),
  };
}

/** Cache lifetime from Cache-Control as CloudFront reads it: s-maxage, then max-age; no-store/no-cache/private never. */
export function cacheTtlSeconds(cacheControl: string | undefined, defaultTtl: number): number {
  if (!cacheControl) return defaultTtl;
  const directives = cacheControl.toLowerCase().split(',').map((d) => d.trim());
  if (directives.some((d) => d === 'no-store' || d === 'no-cache' || d === 'private')) return 0;
  const read = (name: string) => {
    const found = directives.find((d) => d.startsWith(`${name}=`));
    return found === undefined ? undefined : Number(found.slice(name.length + 1));
  };
  return read('s-maxage') ?? read('max-age') ?? defaultTtl;
}

/** A CloudFront path pattern as a RegExp: `*` any characters, `?` one, everything else literal. */
export function pathPatternRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${pattern.startsWith('/') || pattern.startsWith('*') ? '' : '/'}${body}$`);
}

/** A behavior's cache key: the path, then the key's query strings and headers in a fixed order, each as sent. */
function behaviorCacheKey(behavior: CachedBehavior, uri: string, querystring: string, headers: Record<string, string>): string {
  const params = new URLSearchParams(querystring);
  const query = behavior.cacheKey.queryStrings.flatMap((name) => params.getAll(name).map((value) => `${name}=${value}`));
  const named = behavior.cacheKey.headers.map((name) => `${name.toLowerCase()}:${headers[name.toLowerCase()] ?? ''}`);
  return [uri, query.join('&'), ...named].join('\n');
}

const newBehaviorStats = (): BehaviorStats => ({ requests: 0, cacheHits: 0, cacheMisses: 0, viewerRequestInvocations: 0, originRequestInvocations: 0 });

async function invokeEdge(
  handler: EdgeRequestHandler,
  event: CloudFrontRequestEvent,
  functionName: string,
): Promise<CloudFrontRequestResult> {
  const context = lambdaContext(functionName, event.Records[0]!.cf.config.requestId, 5_000);
  try {
    return await new Promise<CloudFrontRequestResult>((resolve, reject) => {
      const returned = handler(event, context, (error, result) => (error ? reject(error) : resolve(result)));
      if (returned && typeof (returned as Promise<unknown>).then === 'function') {
        (returned as Promise<CloudFrontRequestResult>).then(resolve, reject);
      }
    });
  } catch (error) {
    throw new EdgeFunctionError(`${functionName} failed: ${(error as Error)?.message ?? String(error)}`);
  }
}

function isGeneratedResponse(result: CloudFrontRequestResult): result is CloudFrontResultResponse {
  return result !== null && result !== undefined && 'status' in result;
}

function generatedToEdgeResponse(result: CloudFrontResultResponse): EdgeResponse {
  const body = result.body ?? '';
  return {
    status: Number(result.status),
    headers: fromCloudFrontHeaders(result.headers),
    body: result.bodyEncoding === 'base64' ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8'),
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function startDistribution(options: DistributionOptions): Promise<Distribution> {
  const domainName = options.domainName ?? `${options.id}.cloudfront.twin`;
  const region = options.origin.region ?? 'us-east-1';
  const caching = options.caching ?? true;
  const defaultTtl = options.defaultTtlSeconds ?? 86_400;
  const addViewerHeaders = options.viewerHeaders ?? true;
  const defaultCountry = options.defaultCountry ?? 'US';
  const cache = new Map<string, CacheEntry>();
  const behaviors = (options.behaviors ?? []).map((behavior) => ({ behavior, pattern: pathPatternRegExp(behavior.pathPattern) }));
  const statsByBehavior: Record<string, BehaviorStats> = Object.fromEntries([['default', newBehaviorStats()], ...behaviors.map((b) => [b.behavior.name, newBehaviorStats()])]);
  const edgeStats = (): EdgeStats => ({ distributionId: options.id, behaviors: structuredClone(statsByBehavior) });
  const sockets = new Set<Socket>();
  const random = options.random ?? Math.random;
  let faults: EdgeFaults = {};
  let healTimer: NodeJS.Timeout | undefined;
  /** Every fault change goes through here, so a pending heal is always the one of the faults in force. */
  function applyFaults(next: EdgeFaults): void {
    clearTimeout(healTimer);
    healTimer = undefined;
    faults = { ...next };
    if (next.healAfterMs !== undefined && next.healAfterMs > 0) {
      healTimer = setTimeout(() => applyFaults({}), next.healAfterMs);
      healTimer.unref();
    }
  }
  applyFaults(options.faults ?? {});
  let pendingLogs: string[] = [];
  let flushing: Promise<void> = Promise.resolve();

  const logFields = options.realtimeLog?.fields ?? REALTIME_LOG_FIELDS;
  const formatLine =
    options.realtimeLog?.formatLine ??
    (options.realtimeLog?.fields
      ? (values: RealtimeLogValues) => formatTabSeparatedLine(logFields, values)
      : formatRealtimeLogLine);

  async function flushLogs(): Promise<void> {
    const target = options.realtimeLog;
    if (!target) return;
    flushing = flushing.then(async () => {
      while (pendingLogs.length > 0) {
        // PutRecords takes at most 500 records per call.
        const batch = pendingLogs.slice(0, 500);
        pendingLogs = pendingLogs.slice(500);
        await target.kinesis
          .send(
            new PutRecordsCommand({
              StreamName: target.streamName,
              Records: batch.map((line) => ({
                PartitionKey: randomBytes(8).toString('hex'),
                Data: Buffer.from(line.endsWith('\n') ? line : `${line}\n`),
              })),
            }),
          )
          .catch((error: unknown) => console.warn(`[twin ${options.id}] real-time log delivery failed`, error));
      }
    });
    await flushing;
  }
  const flushTimer = setInterval(() => void flushLogs(), 250);
  flushTimer.unref();

  function baseEvent(
    eventType: 'viewer-request' | 'origin-request',
    request: CloudFrontRequest,
    requestId: string,
  ): CloudFrontRequestEvent {
    return {
      Records: [
        { cf: { config: { distributionDomainName: domainName, distributionId: options.id, eventType, requestId }, request } },
      ],
    };
  }

  /** S3 GETs made without a shield (with one, the shield counts them). */
  let directOriginGets = 0;
  function originStats(): OriginFetchStats {
    const shield = options.originShield;
    const counters = shield ? shield.countersOf(options.id) : { originGets: directOriginGets, shieldHits: 0, shieldMisses: 0, shieldFailovers: 0 };
    return { distributionId: options.id, originShieldRegion: shield?.region ?? null, originShieldMode: shield?.mode ?? null, ...counters };
  }

  async function fromOrigin(uri: string, method = 'GET'): Promise<EdgeResponse> {
    // The origin bucket has no CORS rules: S3 refuses a preflight (403). In the cloud none gets this far;
    // viewer-auth and the steering function answer preflights themselves.
    if (method === 'OPTIONS') return { status: 403, headers: { 'content-type': 'text/plain' }, body: Buffer.from('CORS is not enabled for this bucket') };
    const shield = options.originShield;
    if (!shield) {
      directOriginGets += 1;
      return fromS3(uri);
    }
    return shield.fetch({
      cacheScope: domainName,
      distributionId: options.id,
      path: uri,
      ttlSeconds: (answer) => cacheTtlSeconds(answer.headers['cache-control'], defaultTtl),
      load: () => fromS3(uri),
      ...(options.shieldOriginSecret !== undefined ? { originVerify: options.shieldOriginSecret } : {}),
    });
  }

  async function fromS3(uri: string): Promise<EdgeResponse> {
    const key = decodeURIComponent(uri.replace(/^\//, ''));
    try {
      const object = await options.origin.s3.send(new GetObjectCommand({ Bucket: options.origin.bucket, Key: key }));
      const headers: Record<string, string> = {};
      if (object.ContentType) headers['content-type'] = object.ContentType;
      if (object.CacheControl) headers['cache-control'] = object.CacheControl;
      if (object.ETag) headers.etag = object.ETag;
      if (object.LastModified) headers['last-modified'] = object.LastModified.toUTCString();
      return { status: 200, headers, body: Buffer.from(await object.Body!.transformToByteArray()) };
    } catch (error) {
      // With OAC and no s3:ListBucket, S3 answers a missing key with 403, and so does CloudFront.
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 || status === 403) {
        return { status: 403, headers: { 'content-type': 'application/xml' }, body: Buffer.from('<Error><Code>AccessDenied</Code></Error>') };
      }
      throw error;
    }
  }

  async function fromCustomOrigin(
    behavior: CustomOriginBehavior,
    url: URL,
    method: string,
    forwarded: Record<string, string>,
    viewerHeaders: Record<string, string>,
    base64Body: string | undefined,
  ): Promise<EdgeResponse> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(forwarded)) {
      if (!['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive'].includes(name)) headers[name] = value;
    }
    // CloudFront's viewer headers and the origin's custom headers replace any a viewer sent under those names (ADR 0055).
    for (const [name, value] of Object.entries(viewerHeaders)) headers[name.toLowerCase()] = value;
    for (const [name, value] of Object.entries(behavior.headers ?? {})) headers[name.toLowerCase()] = value;
    const answer = await fetch(`${behavior.origin}${url.pathname}${url.search}`, {
      method,
      headers,
      ...(base64Body !== undefined ? { body: Buffer.from(base64Body, 'base64') } : {}),
    });
    const responseHeaders: Record<string, string> = {};
    answer.headers.forEach((value, name) => {
      if (!['content-length', 'connection', 'transfer-encoding', 'keep-alive', 'date'].includes(name)) responseHeaders[name] = value;
    });
    return { status: answer.status, headers: responseHeaders, body: Buffer.from(await answer.arrayBuffer()) };
  }

  async function process(
    req: IncomingMessage,
    requestId: string,
  ): Promise<{ response: EdgeResponse; resultType: string; country: string; asn?: number }> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const rawHeaders: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) rawHeaders[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const viewerHeaders = viewerHeaderEntries(rawHeaders, defaultCountry);
    const country = viewerHeaders['CloudFront-Viewer-Country']!;
    const asn = Number(viewerHeaders['CloudFront-Viewer-ASN']);
    const forwarded = Object.fromEntries(Object.entries(rawHeaders).filter(([name]) => !TWIN_HEADERS.includes(name)));
    forwarded.host = domainName;

    let request: CloudFrontRequest = {
      clientIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
      headers: toCloudFrontHeaders(forwarded),
      method: req.method ?? 'GET',
      querystring: url.search.slice(1),
      uri: url.pathname,
    };
    if (req.method === 'POST' || req.method === 'PUT') {
      const body = await readBody(req);
      if (body.length > 0) {
        request = { ...request, body: { action: 'read-only', data: body.toString('base64'), encoding: 'base64', inputTruncated: false } };
      }
    }

    const behavior = options.customOrigins?.find((b) => url.pathname.startsWith(b.pathPrefix));
    if (behavior) {
      // ALLOW_ALL on this behavior (lib/constructs/steering-gateway.ts): a preflight reaches the origin, which answers it.
      // The report origin request policy also forwards the viewer's address (lib/constructs/steering-gateway.ts).
      const withAddress = { ...viewerHeaders, 'CloudFront-Viewer-Address': `${request.clientIp}:${req.socket.remotePort ?? 0}` };
      return { response: await fromCustomOrigin(behavior, url, req.method ?? 'GET', forwarded, withAddress, request.body?.data), resultType: 'Miss', country, asn };
    }

    // Cache behaviors are chosen by the viewer's path, before any function runs (as on CloudFront).
    const cached = behaviors.find((b) => b.pattern.test(url.pathname));
    const stats = cached ? statsByBehavior[cached.behavior.name]! : statsByBehavior.default!;
    stats.requests += 1;
    const viewerRequest = cached ? cached.behavior.viewerRequest : options.viewerRequest;
    if (cached) {
      // CloudFront adds the CloudFront-Viewer-* headers a behavior's cache policy names before the viewer-request
      // function runs, so the function can read them (the steering key function reads the country, ADR 0097).
      const added = cached.behavior.cacheKey.headers.filter((name) => viewerHeaders[name] !== undefined).map((name) => [name, viewerHeaders[name]!]);
      request = { ...request, headers: { ...request.headers, ...toCloudFrontHeaders(Object.fromEntries(added)) } };
    }
    if (viewerRequest) {
      stats.viewerRequestInvocations += 1;
      const result = await invokeEdge(viewerRequest, baseEvent('viewer-request', request, requestId), `${options.id}-viewer-request`);
      if (isGeneratedResponse(result)) {
        const response = generatedToEdgeResponse(result);
        return { response, resultType: response.status >= 400 ? 'Error' : 'LambdaGeneratedResponse', country, asn };
      }
      if (result) request = result as CloudFrontRequest;
    }

    const cacheable = cached !== undefined || caching;
    let cacheKey = request.uri;
    let originHeaders: CloudFrontHeaders = addViewerHeaders ? { ...request.headers, ...toCloudFrontHeaders(viewerHeaders) } : request.headers;
    if (cached) {
      // The key's headers are all the origin gets; CloudFront-Viewer-Country comes from CloudFront, not the viewer.
      const available = { ...fromCloudFrontHeaders(request.headers), ...Object.fromEntries(Object.entries(viewerHeaders).map(([k, v]) => [k.toLowerCase(), v])) };
      cacheKey = behaviorCacheKey(cached.behavior, request.uri, request.querystring, available);
      originHeaders = toCloudFrontHeaders(Object.fromEntries(cached.behavior.cacheKey.headers.filter((name) => available[name.toLowerCase()] !== undefined).map((name) => [name, available[name.toLowerCase()]!])));
      const params = new URLSearchParams(request.querystring);
      request = { ...request, querystring: cached.behavior.cacheKey.queryStrings.flatMap((name) => params.getAll(name).map((value) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)).join('&') };
    }
    const hit = cacheable ? cache.get(cacheKey) : undefined;
    if (hit && hit.expiresAt > Date.now()) {
      stats.cacheHits += 1;
      const age = Math.floor((Date.now() - hit.storedAt) / 1000);
      return { response: { ...hit, headers: { ...hit.headers, age: String(age) } }, resultType: 'Hit', country, asn };
    }
    if (cacheable) stats.cacheMisses += 1;

    let response: EdgeResponse;
    const originRequestHandler = cached ? cached.behavior.originRequest : options.originRequest;
    if (originRequestHandler) {
      const originRequest: CloudFrontRequest = {
        ...request,
        headers: originHeaders,
        origin: {
          s3: {
            // The aws-lambda types pair `region` with the signed-origin method; OAC signs the same way.
            authMethod: 'origin-access-identity',
            customHeaders: {},
            domainName: `${options.origin.bucket}.s3.${region}.amazonaws.com`,
            path: '',
            region,
          },
        },
      };
      stats.originRequestInvocations += 1;
      const result = await invokeEdge(originRequestHandler, baseEvent('origin-request', originRequest, requestId), `${options.id}-origin-request`);
      response = isGeneratedResponse(result) ? generatedToEdgeResponse(result) : await fromOrigin((result as CloudFrontRequest).uri, request.method);
    } else {
      response = await fromOrigin(request.uri, request.method);
    }

    const originTtl = cacheTtlSeconds(response.headers['cache-control'], cached ? cached.behavior.defaultTtlSeconds : defaultTtl);
    // A cache policy bounds what the origin asks for (CloudFront Developer Guide, "Managing how long content stays in the cache").
    const ttl = cached ? Math.min(cached.behavior.maxTtlSeconds, Math.max(cached.behavior.minTtlSeconds, originTtl)) : originTtl;
    if (cacheable && response.status === 200 && ttl > 0 && request.method === 'GET') {
      cache.set(cacheKey, { ...response, storedAt: Date.now(), expiresAt: Date.now() + ttl * 1000 });
    }
    return { response, resultType: response.status >= 400 ? 'Error' : 'Miss', country, asn };
  }

  async function writeBody(res: ServerResponse, body: Buffer): Promise<void> {
    const kbps = faults.throughputKbps;
    if (!kbps || body.length === 0) return void res.end(body);
    // Pace the body in 50 ms slices so the player measures the capped throughput.
    const sliceBytes = Math.max(1, Math.floor((kbps * 1000) / 8 / 20));
    for (let offset = 0; offset < body.length; offset += sliceBytes) {
      if (res.destroyed) return;
      res.write(body.subarray(offset, offset + sliceBytes));
      await sleep(50);
    }
    res.end();
  }

  async function control(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (path === '/__twin/faults') {
      if (req.method === 'POST') applyFaults({ ...faults, ...(JSON.parse((await readBody(req)).toString() || '{}') as EdgeFaults) });
      if (req.method === 'DELETE') applyFaults({});
      return sendJson(res, 200, faults, CONTROL_CORS_HEADERS);
    }
    if (path === '/__twin/cache' && req.method === 'DELETE') {
      const prefix = new URL(req.url ?? '/', 'http://localhost').searchParams.get('prefix') ?? undefined;
      return sendJson(res, 200, { purged: purgeCache(prefix) }, CONTROL_CORS_HEADERS);
    }
    if (path === '/__twin/origin-stats' && req.method === 'GET') return sendJson(res, 200, originStats(), CONTROL_CORS_HEADERS);
    if (path === '/__twin/edge-stats' && req.method === 'GET') return sendJson(res, 200, edgeStats(), CONTROL_CORS_HEADERS);
    if (req.method === 'OPTIONS') return void res.writeHead(204, CONTROL_CORS_HEADERS).end();
    sendJson(res, 404, { message: 'unknown control path' });
  }

  function purgeCache(prefix?: string): number {
    let purged = 0;
    for (const key of [...cache.keys()]) {
      if (prefix === undefined || key.startsWith(prefix)) purged += Number(cache.delete(key));
    }
    return purged;
  }

  function invalidate(paths: readonly string[]): number {
    const matches = (key: string) => paths.some((path) => (path.endsWith('*') ? key.startsWith(path.slice(0, -1)) : key === path));
    let removed = 0;
    for (const key of [...cache.keys()]) if (matches(key)) removed += Number(cache.delete(key));
    // An invalidation reaches every caching layer of the distribution, Origin Shield included.
    options.originShield?.invalidate(domainName, matches);
    return removed;
  }

  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path.startsWith('/__twin/')) return void control(req, res, path).catch(() => sendJson(res, 400, { message: 'bad request' }));

    void (async () => {
      if (faults.down === true || faults.down === 'reset') return void req.socket.destroy();
      const startedAt = Date.now();
      const requestId = randomBytes(21).toString('base64url');
      let outcome: { response: EdgeResponse; resultType: string; country: string; asn?: number };
      if (faults.down === '503' || (faults.errorRate && random() < faults.errorRate)) {
        outcome = {
          response: { status: 503, headers: { 'content-type': 'text/plain', 'cache-control': 'no-store' }, body: Buffer.from('twin fault: service unavailable') },
          resultType: 'Error',
          country: (req.headers['x-twin-country'] as string | undefined)?.toUpperCase() ?? defaultCountry,
        };
      } else {
        try {
          outcome = await process(req, requestId);
        } catch (error) {
          // A failing edge function is CloudFront's 503 LambdaExecutionError; a failing origin, 502.
          const status = error instanceof EdgeFunctionError ? 503 : 502;
          console.warn(`[twin ${options.id}]`, (error as Error).message);
          outcome = {
            response: { status, headers: { 'content-type': 'text/plain' }, body: Buffer.from(`twin edge error ${status}`) },
            resultType: 'Error',
            country: defaultCountry,
          };
        }
      }
      if (faults.latencyMs) await sleep(faults.latencyMs);

      const { response } = outcome;
      const policyCorsHeaders = options.cors === undefined ? {} : req.method === 'OPTIONS' ? corsPreflightHeaders(options.cors) : corsResponseHeaders(options.cors);
      const headers: Record<string, string> = {
        ...response.headers,
        ...policyCorsHeaders,
        'content-length': String(response.body.length),
        'x-cache': `${outcome.resultType === 'Hit' ? 'Hit' : outcome.resultType === 'Error' ? 'Error' : 'Miss'} from cloudfront`,
        via: `1.1 ${options.id}.cloudfront.twin (CloudFront)`,
        'x-amz-cf-pop': 'TWIN50-C1',
        'x-amz-cf-id': requestId,
      };
      res.writeHead(response.status, headers);
      const firstByteAt = Date.now();
      if (req.method === 'HEAD') res.end();
      else await writeBody(res, response.body);
      const finishedAt = Date.now();

      const samplingRate = options.realtimeLog?.samplingRate ?? 100;
      if (options.realtimeLog && (samplingRate >= 100 || Math.random() * 100 < samplingRate)) {
        const url = new URL(req.url ?? '/', 'http://localhost');
        const rawHeaders = Object.fromEntries(
          Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
        );
        const values = pickFields(
          realtimeLogValues({
            startedAt,
            firstByteAt,
            finishedAt,
            clientIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
            method: req.method ?? 'GET',
            uri: url.pathname,
            query: url.search.slice(1),
            host: domainName,
            headers: rawHeaders,
            status: response.status,
            bytes: req.method === 'HEAD' ? 0 : response.body.length,
            contentType: response.headers['content-type'],
            resultType: outcome.resultType,
            requestId,
            country: outcome.country,
            asn: outcome.asn,
            distributionId: options.id,
            distributionDomainName: domainName,
          }),
          logFields,
        );
        try {
          pendingLogs.push(formatLine(values));
        } catch (error) {
          console.warn(`[twin ${options.id}] real-time log record dropped`, (error as Error).message);
        }
      }
    })().catch((error: unknown) => {
      console.warn(`[twin ${options.id}] request failed`, error);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const endpoint = await listenOnLoopback(server, options.port ?? 0);

  return {
    id: options.id,
    endpoint,
    domainName,
    setFaults: applyFaults,
    get faults() {
      return faults;
    },
    purgeCache,
    invalidate,
    flushLogs,
    originStats,
    edgeStats,
    async stop() {
      clearInterval(flushTimer);
      clearTimeout(healTimer);
      for (const socket of sockets) socket.destroy();
      await closeServer(server);
      await flushLogs();
    },
  };
}
