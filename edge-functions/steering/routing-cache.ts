import { GLOBAL_SCOPE, type PathwayEntry } from '../../core/routing-types';
import { isRoutingCountry } from '../../core/identifiers';
import { type RoutingItemReader, steeringKeys, steeringReadOf, weightsKey } from '../../tables/routing-table';

export type { RoutingItemReader };

/**
 * In-memory view of the routing table for the steering function (fail static: ADR 0044, docs/steering.md).
 *
 * - Items are served from memory; after `ttlMs` the next request triggers ONE background refresh
 *   and is answered from the stale copy, so a request never waits on DynamoDB once warm.
 * - Cold (nothing cached for the scope): the request waits for the read, but at most `coldWaitMs`.
 * - A failed read keeps the last good items and backs off for `ttlMs` (no request storm on a table
 *   that is down). Without any weights item: equal weights over the enabled pathways.
 * - Without a registry ever read there is nothing to route to: RoutingUnavailableError.
 */

export interface RoutingSnapshot {
  /** Enabled pathways, registry order. */
  readonly pathways: readonly PathwayEntry[];
  /** Weight per enabled pathway id (0 = failover only). */
  readonly weights: Readonly<Record<string, number>>;
  /** Where the weights came from: `weights#DE`, `weights#*`, or `equal`. */
  readonly source: string;
}

export class RoutingUnavailableError extends Error {
  constructor(cause?: unknown) {
    super('routing table has never been read: no pathway registry', { cause });
    this.name = 'RoutingUnavailableError';
  }
}

export interface RoutingCacheOptions {
  readonly ttlMs: number;
  readonly coldWaitMs: number;
  readonly nowMs: () => number;
  readonly onRefreshError?: (error: unknown) => void;
}

interface Cached<T> {
  readonly value: T;
  readonly fetchedAt: number;
}

export class RoutingCache {
  private registry: Cached<readonly PathwayEntry[]> | undefined;
  /** `null` = the item is known to be absent. */
  private readonly weights = new Map<string, Cached<Readonly<Record<string, number>> | null>>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly retryAfter = new Map<string, number>();

  constructor(
    private readonly read: RoutingItemReader,
    private readonly opts: RoutingCacheOptions,
  ) {}

  async snapshot(viewerCountry: string | undefined): Promise<RoutingSnapshot> {
    // "XX" (unknown) and anything malformed read the global weights only: there is no such scope.
    const country = isRoutingCountry(viewerCountry) ? viewerCountry : undefined;
    const scopes = country === undefined ? [GLOBAL_SCOPE] : [country, GLOBAL_SCOPE];
    const now = this.opts.nowMs();
    const known = this.registry !== undefined && scopes.every((s) => this.weights.has(s));
    const fresh = known && this.isFresh(this.registry, now) && scopes.every((s) => this.isFresh(this.weights.get(s), now));
    if (!fresh) {
      const refresh = this.refresh(country, scopes, now);
      if (!known) await this.waitAtMost(refresh, this.opts.coldWaitMs);
    }
    return this.compute(scopes);
  }

  private isFresh(entry: Cached<unknown> | undefined, now: number): boolean {
    return entry !== undefined && now - entry.fetchedAt < this.opts.ttlMs;
  }

  /** Starts (or joins) the read for this country; never rejects. */
  private refresh(country: string | undefined, scopes: readonly string[], now: number): Promise<void> {
    const flightKey = country ?? GLOBAL_SCOPE;
    const running = this.inFlight.get(flightKey);
    if (running !== undefined) return running;
    if ((this.retryAfter.get(flightKey) ?? 0) > now) return Promise.resolve();
    const flight = this.read(steeringKeys(scopes))
      .then((items) => {
        const at = this.opts.nowMs();
        // The registry and the weights are interpreted by the routing table's own module, like every other reader's.
        const { registry, shares } = steeringReadOf(items, scopes);
        if (registry !== undefined) this.registry = { value: registry.pathways, fetchedAt: at };
        else if (this.registry === undefined) throw new Error('routing registry item "pathways" is missing');
        for (const scope of scopes) this.weights.set(scope, { value: shares.get(scope) ?? null, fetchedAt: at });
        this.retryAfter.delete(flightKey);
      })
      .catch((error: unknown) => {
        this.retryAfter.set(flightKey, this.opts.nowMs() + this.opts.ttlMs);
        this.opts.onRefreshError?.(error);
      })
      .finally(() => this.inFlight.delete(flightKey));
    this.inFlight.set(flightKey, flight);
    return flight;
  }

  private async waitAtMost(promise: Promise<void>, ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    });
    await Promise.race([promise, timeout]);
    clearTimeout(timer);
  }

  private compute(scopes: readonly string[]): RoutingSnapshot {
    if (this.registry === undefined) throw new RoutingUnavailableError();
    const pathways = this.registry.value.filter((p) => p.enabled);
    if (pathways.length === 0) throw new RoutingUnavailableError(new Error('no enabled pathway in the registry'));
    for (const scope of scopes) {
      const table = this.weights.get(scope)?.value;
      if (table === null || table === undefined) continue;
      const weights: Record<string, number> = {};
      let total = 0;
      for (const p of pathways) {
        weights[p.id] = table[p.id] ?? 0;
        total += weights[p.id];
      }
      if (total > 0) return { pathways, weights, source: weightsKey(scope) };
    }
    const equal: Record<string, number> = {};
    for (const p of pathways) equal[p.id] = 1;
    return { pathways, weights: equal, source: 'equal' };
  }
}
