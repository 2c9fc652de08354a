/**
 * How many steering reloads run the steering function once answers are reused from the gateway's cache
 * (docs/steering.md "Cacheable steering", ADR 0036), checked against the twin's counters
 * (bench/steering-cache-model.ts beside `npx tsx bench/audience.bench.ts`).
 *
 * A session reloads steering every TTL. Its reload is answered from the cache while its key — its steering
 * folder, country, reported pathway and throughput class, memory — is one the cache answered less than the
 * cache TTL ago. A session whose key stays the same runs the function once per cache TTL; every change of key
 * (a failover, a throughput class crossed, a memory that changed with the previous answer) runs it once more.
 */

export interface SteeringReuse {
  readonly steeringTtlSeconds: number;
  /** How long the cache reuses one answer (core/steering-cache-key.ts steeringCacheSeconds). */
  readonly cacheSeconds: number;
  /** Reloads whose key differs from the session's previous one, per viewer-hour. */
  readonly keyChangesPerHour: number;
}

/** Reloads per viewer-hour: every one ran the function before the cache. */
export function reloadsPerViewerHour(steeringTtlSeconds: number): number {
  return 3600 / steeringTtlSeconds;
}

/**
 * Steering function invocations per viewer-hour. Between key changes a session runs the function once per cache
 * TTL (rounded up to whole reloads); a key change starts a new entry at once. Never more than the reloads.
 */
export function steeringInvocationsPerViewerHour(reuse: SteeringReuse): number {
  const reloads = reloadsPerViewerHour(reuse.steeringTtlSeconds);
  const reloadsPerEntry = Math.max(1, Math.ceil(reuse.cacheSeconds / reuse.steeringTtlSeconds));
  const runs = Math.min(reloads, reuse.keyChangesPerHour);
  // The reloads between key changes, in stretches of `runs` (or one stretch of the whole hour).
  const stretches = Math.max(1, runs);
  const reloadsPerStretch = reloads / stretches;
  return Math.min(reloads, stretches * Math.ceil(reloadsPerStretch / reloadsPerEntry));
}
