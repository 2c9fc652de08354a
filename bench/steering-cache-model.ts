/**
 * Steering function invocations per viewer-hour with cached steering answers (ADR 0036): the model of
 * core/steering-cache-model.ts, to set beside the load harness's measured `steering` figure
 * (`npx tsx bench/audience.bench.ts`). Run: `npx tsx bench/steering-cache-model.ts`.
 */
import { steeringCacheSeconds } from '../core/steering-cache-key';
import { reloadsPerViewerHour, steeringInvocationsPerViewerHour } from '../core/steering-cache-model';

const TTL = 10;
console.log(`steering TTL ${TTL} s: ${reloadsPerViewerHour(TTL)} reloads per viewer-hour; cache TTL ${steeringCacheSeconds(TTL)} s\n`);
console.log('| key changes per viewer-hour | steering function invocations per viewer-hour |');
console.log('| ---: | ---: |');
for (const changes of [0, 2, 6, 12, 30, 60, 120]) {
  console.log(`| ${changes} | ${steeringInvocationsPerViewerHour({ steeringTtlSeconds: TTL, cacheSeconds: steeringCacheSeconds(TTL), keyChangesPerHour: changes })} |`);
}
