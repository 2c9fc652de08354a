/**
 * The cache key a steering answer is a function of (docs/steering.md "Cacheable steering", ADR 0036): the
 * session's steering path, the viewer's country (a cache-key header), what the player reports (its pathway and a
 * throughput class) and the session memory of ADR 0045 in quantised form.
 *
 * The gateway's viewer-request CloudFront Function (edge-functions/steering-key-cf/function.js) checks the
 * token and rewrites every steering request to `CANONICAL_STEERING_URI?<these parameters>`; the cache policy
 * keys on exactly them; the steering function (origin-request, behind the cache) reads nothing else. A session
 * whose situation does not change sends the same key on every reload, so CloudFront answers it from the cache
 * for `steeringCacheSeconds(ttl)` while a changed report or memory is a new key, answered at once. The
 * constants and formulas here are the ones the CloudFront Function bakes (lib/bundling/cloudfront-function.ts);
 * test/unit/steering-cache-key.test.ts proves the two agree.
 */

/** The path every steering request has after the key function. */
export const CANONICAL_STEERING_URI = '/steering';

/** Query parameters of the cache key, in the order the key function writes them. */
export const STEERING_KEY_PARAMS = {
  /**
   * The session's steering folder as the viewer asked for it, `/<token>/play/<asset>/<revision>/`: the answer's
   * absolute RELOAD-URI is built on it (Shaka Player 5.2 cannot follow a relative one), so no two sessions share
   * a key.
   */
  session: 's',
  /** The pathway the player reports it is on (HLS: the one it names; DASH: the last one it lists). */
  pathway: 'p',
  /** The throughput class of the player's report on that pathway. */
  throughput: 't',
  /** Session memory written by the previous answer (core/session-steering.ts). */
  first: 'first',
  on: 'on',
  best: 'best',
  left: 'left',
  /**
   * The routing generation of the viewer's country (core/routing-generation.ts, ADR 0097), read by the key
   * function from the KeyValueStore: routing-weights moves it when the country's answers would materially
   * change, so a weights change is a new key, answered at the session's next reload rather than from an answer
   * cached up to `steeringCacheSeconds(ttl)` ago. Absent when the store has none (or cannot be read).
   */
  generation: 'g',
} as const;

export const STEERING_KEY_QUERY_NAMES: readonly string[] = Object.values(STEERING_KEY_PARAMS);

/**
 * How many steering TTLs one answer is reused for a session whose key does not change: 9 → a steady session runs
 * the steering function once every 90 s (40 times an hour) instead of every 10 s; anything the session reports
 * differently is a new key, answered at once (ADR 0036), and so is a material weights change of its country, through
 * the routing generation `g` (ADR 0097).
 */
export const STEERING_ANSWER_REUSE_TTLS = 9;

/** The steering cache's TTL for a steering TTL. */
export function steeringCacheSeconds(steeringTtlSeconds: number): number {
  return steeringTtlSeconds * STEERING_ANSWER_REUSE_TTLS;
}

/**
 * Throughput classes are quarter-octaves of kbit/s: class c covers [2^(c/4), 2^((c+1)/4)) kbit/s, class 0
 * everything below 1 kbit/s too. Every figure at or above the top class's floor is the top class: there a
 * collapse can only be judged by the floor (ADR 0046), so finer classes would only split the cache.
 */
export const THROUGHPUT_CLASSES_PER_OCTAVE = 4;

/**
 * The top class for a policy: the smallest class whose lower bound is at least `floorBps / collapseRatio`.
 * A session whose best report is there collapses exactly when it falls below the floor.
 */
export function topThroughputClass(policy: { readonly throughputFloorBps: number; readonly collapseRatio: number }): number {
  const kbps = policy.throughputFloorBps / policy.collapseRatio / 1000;
  return kbps <= 1 ? 0 : Math.ceil(THROUGHPUT_CLASSES_PER_OCTAVE * (Math.log(kbps) / Math.LN2) - 1e-9);
}

/** The class of a throughput in bit/s (finite, non-negative; the caller drops anything else). */
export function throughputClass(bps: number, topClass: number): number {
  const kbps = bps / 1000;
  if (kbps < 1) return 0;
  return Math.min(topClass, Math.floor(THROUGHPUT_CLASSES_PER_OCTAVE * (Math.log(kbps) / Math.LN2)));
}

/** The bit/s a class stands for: its geometric middle; the top class its lower bound (it is open-ended). */
export function throughputOfClass(cls: number, topClass: number): number {
  const c = Math.min(cls, topClass);
  return 1000 * 2 ** ((c + (c === topClass ? 0 : 0.5)) / THROUGHPUT_CLASSES_PER_OCTAVE);
}

/** The upper bound (exclusive) of a class below the top, in bit/s: every figure in the class is below it. */
export function throughputClassCeiling(cls: number): number {
  return 1000 * 2 ** ((cls + 1) / THROUGHPUT_CLASSES_PER_OCTAVE);
}

/** The gateway's steering cache behavior: every path ending in the steering file (core/playback-paths.ts STEERING_FILE). */
export const STEERING_BEHAVIOR_PATH_PATTERN = '*/steering';

/** Headers of the steering cache key: the viewer's country picks the weights (CloudFront sets it; a viewer cannot). */
export const STEERING_KEY_HEADERS: readonly string[] = ['CloudFront-Viewer-Country'];
