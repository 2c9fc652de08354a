/**
 * The platform's moving parts as typed data, described once: the CDK constructs deploy from it and the
 * local twin (local/dev.ts) runs from it. Event rules are shared the same way by core/event-patterns.ts.
 * No CDK types here: this module is read by the twin too.
 */
import { DEFAULT_ROLLUP_MERGE_WINDOW_SECONDS } from '../core/platform-config';
import { steeringEdgeFunction } from '../edge-functions/steering/config';
import { viewerAuthEdgeFunction } from '../edge-functions/viewer-auth/config';
import { cmcdIngestConfig } from '../lambdas/cmcd-ingest/config';
import { jobStatusConfig } from '../lambdas/job-status/config';
import { keyringRotationConfig } from '../lambdas/keyring-rotation/config';
import { playbackApiConfig } from '../lambdas/playback-api/config';
import { prewarmConfig } from '../lambdas/prewarm/config';
import { qoeAggregatorConfig } from '../lambdas/qoe-aggregator/config';
import { rollupMergerConfig } from '../lambdas/rollup-merger/config';
import { routingWeightsConfig } from '../lambdas/routing-weights/config';
import { submitJobConfig } from '../lambdas/submit-job/config';
import { takedownConfig } from '../lambdas/takedown/config';
import { takedownWorkerConfig } from '../lambdas/takedown-worker/config';
import {
  CATALOG_TABLE_SCHEMA,
  RATE_LIMIT_TABLE_SCHEMA,
  ROLLUPS_TABLE_SCHEMA,
  ROUTING_TABLE_SCHEMA,
  type TableSchema,
} from '../tables/table-schema';

/**
 * Every regional Lambda: its name is its folder under `lambdas/` and its Powertools service name; its
 * configuration schema is what the construct encodes into its environment and the handler decodes.
 */
export const PLATFORM_FUNCTIONS = {
  'submit-job': { config: submitJobConfig },
  'job-status': { config: jobStatusConfig },
  'playback-api': { config: playbackApiConfig },
  takedown: { config: takedownConfig },
  'takedown-worker': { config: takedownWorkerConfig },
  'cmcd-ingest': { config: cmcdIngestConfig },
  'qoe-aggregator': { config: qoeAggregatorConfig },
  'rollup-merger': { config: rollupMergerConfig },
  'routing-weights': { config: routingWeightsConfig },
  'keyring-rotation': { config: keyringRotationConfig },
  prewarm: { config: prewarmConfig },
} as const;
export type PlatformFunctionName = keyof typeof PLATFORM_FUNCTIONS;

/**
 * The two rollup stages (ADR 0057): qoe-aggregator hashes cells into `buckets` and puts one partials record
 * per bucket and batch on the partials stream; rollup-merger collects a stream shard's partials for up to
 * `mergeWindowSeconds` (its event source mapping's batching window) and writes each cell once per batch.
 * A merger batch writes each cell-minute it touches once, so a busy cell costs about 1 + 60 / mergeWindowSeconds
 * writes a minute, and a record reaches the rollups up to `aggregatorWindowSeconds + mergeWindowSeconds` after it
 * lands. The merge window is platform configuration (`rollupMergeWindowSeconds`, default 30 s for issue 9's
 * 60 s reaction; 120 s keeps a 200 × 10 × 64 premiere under 2 writes per cell and minute: docs/scale.md
 * "Rollup writes", bench/aggregator.bench.ts, bench/reaction/world.ts); `mergeWindowSeconds` here is its default.
 */
export interface RollupStageSettings {
  readonly buckets: number;
  readonly aggregatorWindowSeconds: number;
  readonly mergeWindowSeconds: number;
}
export const ROLLUP_STAGES: RollupStageSettings = {
  buckets: 16,
  aggregatorWindowSeconds: 10,
  mergeWindowSeconds: DEFAULT_ROLLUP_MERGE_WINDOW_SECONDS,
};

/** The Lambda@Edge functions and the folder each is bundled from. */
export const EDGE_FUNCTIONS = {
  'viewer-auth': viewerAuthEdgeFunction,
  steering: steeringEdgeFunction,
} as const;

/** The platform's DynamoDB tables (key schemas owned by tables/). */
export const TABLES = {
  assets: CATALOG_TABLE_SCHEMA,
  routing: ROUTING_TABLE_SCHEMA,
  rollups: ROLLUPS_TABLE_SCHEMA,
  rateLimits: RATE_LIMIT_TABLE_SCHEMA,
} as const satisfies Record<string, TableSchema>;

export interface HttpRoute {
  readonly method: 'GET' | 'POST' | 'DELETE' | 'OPTIONS';
  readonly path: string;
  readonly handledBy: PlatformFunctionName;
}

/** API Gateway HTTP API route key, e.g. `POST /sessions`. */
export const routeKeyOf = (route: HttpRoute): string => `${route.method} ${route.path}`;

/**
 * The playback API (IAM auth, lib/constructs/playback-api.ts): sessions, takedowns and the asset status a
 * takedown's `202` points at (ADR 0011).
 */
export const PLAYBACK_API_ROUTES: readonly HttpRoute[] = [
  { method: 'POST', path: '/sessions', handledBy: 'playback-api' },
  { method: 'DELETE', path: '/assets/{assetId}', handledBy: 'takedown' },
  { method: 'GET', path: '/assets/{assetId}', handledBy: 'takedown' },
];

/**
 * Stage throttles of the two HTTP APIs (steady requests per second and burst). `npm run doctor` sizes the
 * regional Lambda concurrency the stack can be asked for from them (core/doctor-checks.ts).
 */
export const API_THROTTLES = {
  playback: { rateLimit: 500, burstLimit: 200 },
  ingest: { rateLimit: 2000, burstLimit: 1000 },
} as const;

/**
 * The report API behind the gateway's `/v1/cmcd/*` (ADR 0004): browsers preflight a POST with
 * `Content-Type: application/cmcd` (not CORS-safelisted), and the handler answers OPTIONS too.
 */
export const INGEST_API_ROUTES: readonly HttpRoute[] = [
  { method: 'POST', path: '/v1/cmcd/{token}', handledBy: 'cmcd-ingest' },
  { method: 'OPTIONS', path: '/v1/cmcd/{token}', handledBy: 'cmcd-ingest' },
];
