/**
 * Routing table contract: the pathway registry (written at deploy time) and the per-scope weights
 * (written by routing-weights), key attribute `pk` (string). docs/routing.md "Items written".
 *
 * At run time every read and write of these items goes through tables/routing-table.ts, which also
 * holds the one validation of the registry (ADR 0007). The key constants and item types are defined
 * here because the deploy-time writer (lib/constructs/routing-table.ts) and the twin's seeding
 * (local/dev.ts) import them too.
 */
import type { PathwayControl } from './routing/controller-state';

/** Partition key of the pathway registry item. */
export const PATHWAYS_KEY = 'pathways';
/** Prefix of a weights item's partition key. */
export const WEIGHTS_KEY_PREFIX = 'weights#';
/** Partition key of a weights item for a scope ("*" or an ISO 3166-1 alpha-2 country). */
export const weightsKey = (scope: string): string => `${WEIGHTS_KEY_PREFIX}${scope}`;
export const GLOBAL_SCOPE = '*';

export interface PathwayEntry {
  /** Pathway id, e.g. "cf-a"; what HLS PATHWAY-ID and DASH serviceLocation carry. */
  readonly id: string;
  /** Host name viewers use for this CDN, e.g. "d111111abcdef8.cloudfront.net". */
  readonly host: string;
  readonly enabled: boolean;
  /** Maximum share of new sessions (0..1] this pathway may receive; capacity cap. */
  readonly cap: number;
}

/** Item `pk = "pathways"`. */
export interface PathwayRegistryItem {
  readonly pk: typeof PATHWAYS_KEY;
  readonly pathways: readonly PathwayEntry[];
  /** Absent when written by the deploy-time custom resource (kept deterministic for `cdk diff`). */
  readonly updatedAt?: string;
}

/** Item `pk = "weights#<scope>"`. Weights are shares that sum to 1 over enabled pathways. */
export interface WeightsItem {
  readonly pk: string;
  readonly scope: string;
  readonly weights: Readonly<Record<string, number>>;
  /** Optimistic-concurrency version; incremented by every write. */
  readonly version: number;
  readonly updatedAt: string;
  /** Human-readable explanation of the last change. */
  readonly reason: string;
  /** Where the controller is steering the weights to (routing-weights internal state; readers may ignore). */
  readonly target?: Readonly<Record<string, number>>;
  /** Per-pathway controller state for hysteresis (routing-weights internal state; readers may ignore). */
  readonly control?: Readonly<Record<string, PathwayControl>>;
}
