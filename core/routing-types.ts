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
/**
 * Partition key of what routing-weights last announced to the gateway's KeyValueStore per scope (ADR 0097):
 * `{ pk, version, scopes: { <scope>: { generation, shares } } }`.
 */
export const ANNOUNCED_GENERATIONS_KEY = 'routing-generations';
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

/**
 * Prefix of the routing snapshot items (`routing-snapshot#<shard>`, ADR 0048): routing-weights writes the
 * same snapshot — the registry and every scope's weights — to each shard after every tick, and each
 * steering edge container reads ONE random shard per refresh period, whatever the countries and traffic.
 */
export const SNAPSHOT_KEY_PREFIX = 'routing-snapshot#';
/**
 * Identical copies of the snapshot. One item lives on one partition (≤ 3,000 read units/s); copies spread
 * the containers' reads. Sizing in docs/routing.md "Routing snapshot" (ADR 0049).
 */
export const ROUTING_SNAPSHOT_SHARDS = 4;
export const snapshotKey = (shard: number): string => `${SNAPSHOT_KEY_PREFIX}${shard}`;
/** Weights in the snapshot are integers in parts of this (4 digits: 0.01 % resolution, compact). */
export const SNAPSHOT_WEIGHT_SCALE = 10_000;

/**
 * Item `pk = "routing-snapshot#<n>"`. `pathways` has the registry's shape (validated the same way);
 * `weights` is compact text, one entry per scope: `<scope>=<w1>,<w2>,…` joined by `;`, the integers in
 * parts of SNAPSHOT_WEIGHT_SCALE in the order of `ids` (e.g. ids "cf-a,cf-b", weights "*=5000,5000;DE=8000,2000").
 */
export interface RoutingSnapshotItem {
  readonly pk: string;
  /** Generation: the tick time (epoch ms). A reader never replaces a newer generation by an older one. */
  readonly generation: number;
  readonly pathways: readonly PathwayEntry[];
  readonly ids: string;
  readonly weights: string;
}
