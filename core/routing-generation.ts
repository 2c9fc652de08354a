/**
 * Routing generations (ADR 0097): a short value per country (and one global) in the gateway's KeyValueStore that
 * the steering key function adds to the steering cache key as `g` (core/steering-cache-key.ts). routing-weights
 * moves a scope's generation when the answers its sessions get would materially change, so a steady session's
 * next reload is a new key and is answered with the new weights at once instead of from a cached answer that is
 * up to `steeringCacheSeconds(ttl)` old (ADR 0036).
 *
 * The generation is the routing snapshot's generation (the routing-weights tick time, epoch ms) whose weights it
 * announces: a steering container whose snapshot is older than the `g` it is asked for knows it would cache old
 * weights under the new key (edge-functions/steering/routing-cache.ts).
 */
import { GLOBAL_SCOPE, type PathwayEntry } from './routing-types';
import { isRoutingCountry } from './identifiers';

/**
 * KeyValueStore key of a scope's generation. The store also holds the keyring (one key per kid,
 * `^[A-Za-z0-9_-]{1,32}$`, core/keyring.ts): a "." is never in a kid, so the two never collide, and a token
 * can never make the token check read a generation.
 */
export const ROUTING_GENERATION_KEY_PREFIX = 'rg.';
export const GLOBAL_ROUTING_GENERATION_KEY = `${ROUTING_GENERATION_KEY_PREFIX}global`;

export function routingGenerationKey(scope: string): string {
  if (scope === GLOBAL_SCOPE) return GLOBAL_ROUTING_GENERATION_KEY;
  if (!isRoutingCountry(scope)) throw new Error(`no routing generation for scope ${JSON.stringify(scope)}: not "*" or a country`);
  return `${ROUTING_GENERATION_KEY_PREFIX}${scope}`;
}

/** A generation as the store and the key carry it: the snapshot generation in decimal, no sign, no leading zero. */
export const ROUTING_GENERATION_PATTERN = /^(?:0|[1-9]\d{0,15})$/;

/** A key's `g` as a number, or undefined when it is absent or not a generation. */
export function parseRoutingGeneration(text: string | null | undefined): number | undefined {
  if (typeof text !== 'string' || !ROUTING_GENERATION_PATTERN.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * The smallest move that is a new generation: the total variation distance between the shares last announced
 * and the shares now, Σ|now − then| / 2. Weighted rendezvous (ADR 0040) moves only the sessions whose best
 * pathway's share changed, about that distance of the country's sessions, so below 5 % at most 1 session in 20
 * keeps a first pathway the new weights would not give it, for at most the reuse time (90 s). Above it every
 * steady session of the country re-keys once (one steering invocation each); the controller's ramps (ADR 0061)
 * therefore announce a full shift in ≤ 20 steps, not one per 10 s tick.
 */
export const MATERIAL_SHARE_CHANGE = 0.05;

/** The shares a scope's sessions are ranked by: what the steering function computes (routing-cache.ts). */
export type EffectiveShares = Readonly<Record<string, number>>;

/**
 * Shares per enabled pathway for `scope` as the steering function ranks by: the scope's own weights when they
 * total more than 0, else the global ones, else equal; normalised to sum to 1 (rendezvous only sees ratios).
 * Undefined when no pathway is enabled (nothing to announce: every answer is an error).
 */
export function effectiveShares(pathways: readonly PathwayEntry[], shares: ReadonlyMap<string, Readonly<Record<string, number>>>, scope: string): EffectiveShares | undefined {
  const enabled = pathways.filter((p) => p.enabled);
  if (enabled.length === 0) return undefined;
  for (const candidate of scope === GLOBAL_SCOPE ? [GLOBAL_SCOPE] : [scope, GLOBAL_SCOPE]) {
    const table = shares.get(candidate);
    if (table === undefined) continue;
    const total = enabled.reduce((sum, p) => sum + positive(table[p.id]), 0);
    if (total > 0) return Object.fromEntries(enabled.map((p) => [p.id, positive(table[p.id]) / total]));
  }
  return Object.fromEntries(enabled.map((p) => [p.id, 1 / enabled.length]));
}

const positive = (v: number | undefined): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);

/**
 * Whether sessions ranked by `next` would get materially different answers than under `announced`: always when
 * nothing was announced, when the enabled pathways differ, or when a pathway went to or came back from 0 (a
 * demotion to failover-only must reach every session: it is how an operator or the controller takes a CDN out);
 * otherwise when the total variation distance reaches `threshold`.
 */
export function isMaterialChange(announced: EffectiveShares | undefined, next: EffectiveShares, threshold = MATERIAL_SHARE_CHANGE): boolean {
  if (announced === undefined) return true;
  const ids = Object.keys(next);
  if (ids.length !== Object.keys(announced).length || !ids.every((id) => id in announced)) return true;
  let distance = 0;
  for (const id of ids) {
    const before = announced[id]!;
    const after = next[id]!;
    if ((before > 0) !== (after > 0)) return true;
    distance += Math.abs(after - before);
  }
  // Shares come from 4-digit snapshot integers: round the sum so 0.05 exactly is 0.05.
  return Math.round((distance / 2) * 1e6) / 1e6 >= threshold;
}

/** What routing-weights last announced for a scope: the generation and the shares it announced. */
export interface AnnouncedGeneration {
  readonly generation: number;
  readonly shares: EffectiveShares;
}

/** A snapshot's content as the rule needs it (tables/routing-table.ts RoutingSnapshot). */
export interface GenerationSnapshot {
  readonly generation: number;
  readonly pathways: readonly PathwayEntry[];
  readonly shares: ReadonlyMap<string, Readonly<Record<string, number>>>;
}

/**
 * The scopes whose generation moves to `snapshot.generation`: the global scope and every country with weights in
 * the snapshot, each compared with what was announced for it (not with the previous tick, so a slow drift adds
 * up and is announced once it is material). A country without weights of its own has no key: the key function
 * falls back to the global one, which announces the weights it is ranked by.
 */
export function generationChanges(
  announced: ReadonlyMap<string, AnnouncedGeneration>,
  snapshot: GenerationSnapshot,
  threshold = MATERIAL_SHARE_CHANGE,
): { scope: string; announcement: AnnouncedGeneration }[] {
  const scopes = [GLOBAL_SCOPE, ...[...snapshot.shares.keys()].filter((s) => isRoutingCountry(s)).sort()];
  const changes: { scope: string; announcement: AnnouncedGeneration }[] = [];
  for (const scope of scopes) {
    const shares = effectiveShares(snapshot.pathways, snapshot.shares, scope);
    if (shares === undefined) continue;
    const previous = announced.get(scope);
    // Never announce backwards: an older snapshot than the announcement (a lagging shard, an overlapping tick).
    if (previous !== undefined && previous.generation >= snapshot.generation) continue;
    if (isMaterialChange(previous?.shares, shares, threshold)) changes.push({ scope, announcement: { generation: snapshot.generation, shares } });
  }
  return changes;
}
