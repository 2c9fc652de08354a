/**
 * The gateway's steering cache behavior as the twin runs it, the same as lib/constructs/steering-gateway.ts
 * builds it (ADR 0036): every path ending in /steering, the key function at viewer request, the cache keyed on
 * exactly the key's query strings and the viewer's country for steeringCacheSeconds(ttl), and the steering
 * function at origin request on a miss.
 */
import { STEERING_BEHAVIOR_PATH_PATTERN, STEERING_KEY_HEADERS, STEERING_KEY_QUERY_NAMES, steeringCacheSeconds } from '../../core/steering-cache-key';
import type { CachedBehavior, EdgeRequestHandler } from './cloudfront-server';

/** Name of the behavior in the gateway's `GET /__twin/edge-stats`. */
export const STEERING_BEHAVIOR_NAME = 'steering';

export function steeringCacheBehavior(keyFunction: EdgeRequestHandler, steering: EdgeRequestHandler, steeringTtlSeconds: number): CachedBehavior {
  return {
    name: STEERING_BEHAVIOR_NAME,
    pathPattern: STEERING_BEHAVIOR_PATH_PATTERN,
    viewerRequest: keyFunction,
    originRequest: steering,
    cacheKey: { queryStrings: STEERING_KEY_QUERY_NAMES, headers: STEERING_KEY_HEADERS },
    minTtlSeconds: 0,
    defaultTtlSeconds: steeringCacheSeconds(steeringTtlSeconds),
    maxTtlSeconds: steeringCacheSeconds(steeringTtlSeconds),
  };
}
