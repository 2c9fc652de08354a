/**
 * The gateway's steering path as CloudFront runs it (ADR 0036), for unit tests: the key function's uploaded code
 * (in the CloudFront Functions harness) at viewer request, then a cache keyed like the cache policy, then the
 * steering handler at origin request with only the key's country header. No network, no timers: the clock is the
 * caller's.
 */
import type { CloudFrontHeaders, CloudFrontRequest, CloudFrontRequestEvent, CloudFrontResultResponse } from 'aws-lambda';
import type { Keyring } from '../../core/keyring';
import type { SessionSteeringPolicy } from '../../core/session-steering';
import type { SteeringHandler } from '../../edge-functions/steering/handler';
import { buildSteeringKeyFunctionCode } from '../../lib/bundling/cloudfront-function';
import { cloudFrontFunctionAsEdgeHandler } from '../../local/edge/cloudfront-function';
import { cacheTtlSeconds } from '../../local/edge/cloudfront-server';
import { steeringCacheSeconds } from '../../core/steering-cache-key';

export interface KeyedSteering {
  /** One viewer request of a steering URL (absolute); `country` is what CloudFront would set. */
  request(url: string, country?: string): Promise<CloudFrontResultResponse>;
  /** The canonical request the key function made of a URL, or its refusal. */
  key(url: string, method?: string, country?: string): Promise<CloudFrontRequest | CloudFrontResultResponse>;
  readonly stats: { requests: number; hits: number; steeringInvocations: number };
}

export interface KeyedSteeringOptions {
  readonly handler: SteeringHandler;
  readonly keyring: Keyring;
  readonly nowMs: () => number;
  readonly gatewayHost?: string;
  readonly policy?: Pick<SessionSteeringPolicy, 'throughputFloorBps' | 'collapseRatio'>;
  /** Keep answers as the behavior's cache does: max-age, else the policy's default TTL, at most its max TTL. @default true */
  readonly cache?: boolean;
  /** The steering cache policy's default and max TTL. @default steeringCacheSeconds(10) */
  readonly cacheSeconds?: number;
  /**
   * The rest of the associated KeyValueStore (the routing generations, ADR 0097): a value, undefined when absent,
   * or a throw when the store cannot be read. @default none
   */
  readonly kvs?: (key: string) => string | undefined;
}

export function keyedSteering(options: KeyedSteeringOptions): KeyedSteering {
  const keyFunction = cloudFrontFunctionAsEdgeHandler(buildSteeringKeyFunctionCode(options.policy), {
    kvsGet: (key) => options.kvs?.(key) ?? options.keyring.keys.get(key)?.toString('base64'),
    nowMs: options.nowMs,
  });
  const host = options.gatewayHost ?? 'gw.example.net';
  const cache = new Map<string, { response: CloudFrontResultResponse; expiresMs: number }>();
  const stats = { requests: 0, hits: 0, steeringInvocations: 0 };

  const event = (request: CloudFrontRequest, eventType: 'viewer-request' | 'origin-request'): CloudFrontRequestEvent =>
    ({ Records: [{ cf: { config: { distributionDomainName: host, distributionId: 'EGATEWAY', eventType, requestId: 'r' }, request } }] }) as CloudFrontRequestEvent;

  const countryHeader = (country: string | undefined): CloudFrontHeaders =>
    country === undefined ? {} : { 'cloudfront-viewer-country': [{ key: 'CloudFront-Viewer-Country', value: country }] };

  // CloudFront adds the country to the viewer request too: the cache policy names it (ADR 0097).
  async function key(url: string, method = 'GET', country?: string): Promise<CloudFrontRequest | CloudFrontResultResponse> {
    const u = new URL(url);
    const viewerRequest: CloudFrontRequest = { clientIp: '203.0.113.9', headers: countryHeader(country), method, querystring: u.search.slice(1), uri: u.pathname };
    const result = await (keyFunction(event(viewerRequest, 'viewer-request'), {} as never, () => undefined) as Promise<CloudFrontRequest | CloudFrontResultResponse>);
    return result;
  }

  async function request(url: string, country?: string): Promise<CloudFrontResultResponse> {
    stats.requests += 1;
    const keyed = await key(url, 'GET', country);
    if ('status' in keyed) return keyed;
    const cacheKey = `${keyed.uri}?${keyed.querystring}#${country ?? ''}`;
    const cached = cache.get(cacheKey);
    if (cached !== undefined && cached.expiresMs > options.nowMs()) {
      stats.hits += 1;
      return cached.response;
    }
    stats.steeringInvocations += 1;
    const headers = countryHeader(country);
    const response = await options.handler(event({ ...keyed, headers }, 'origin-request'));
    const policySeconds = options.cacheSeconds ?? steeringCacheSeconds(10);
    const ttl = Math.min(policySeconds, cacheTtlSeconds(response.headers?.['cache-control']?.[0]?.value, policySeconds));
    if ((options.cache ?? true) && response.status === '200' && ttl > 0) cache.set(cacheKey, { response, expiresMs: options.nowMs() + ttl * 1000 });
    return response;
  }

  return { request, key, stats };
}
