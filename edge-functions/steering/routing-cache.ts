import { GLOBAL_SCOPE, type PathwayEntry } from '../../core/routing-types';
import { isRoutingCountry } from '../../core/identifiers';
import { parseRoutingSnapshot, type RoutingSnapshot, type RoutingSnapshotReader, weightsKey } from '../../tables/routing-table';

export type { RoutingSnapshotReader };

/**
 * The steering function's view of the routing state (fail static: ADRs 0044, 0048; docs/steering.md).
 *
 * - The whole state — registry and every country's weights — is ONE snapshot item, read at most once per
 *   `ttlMs` per container, whatever the countries and the traffic: a request older than the period starts
 *   one background read and is answered from what the container has.
 * - A read that fails, is throttled, returns an older generation or an unusable item keeps the last good
 *   snapshot; the request is answered as if nothing happened (the failure is only logged).
 * - Cold (no snapshot yet): the requests that come while the container's first read is in flight wait
 *   for it, at most `coldWaitMs`; otherwise, and when that read fails or finds no snapshot, they are
 *   answered from the static weights baked at build time.
 * - With neither a snapshot nor static weights there is nothing to route to: RoutingUnavailableError.
 */

/** A pathway of the static routing baked into the function; `host` is empty when unknown at build time. */
export interface StaticPathway {
  readonly id: string;
  readonly host: string;
  readonly weight: number;
}

/** What one request is routed by. */
export interface RoutingView {
  /** Enabled pathways, registry order. `host` may be empty for a static pathway (unknown at build time). */
  readonly pathways: readonly PathwayEntry[];
  /** Weight per enabled pathway id (0 = failover only). */
  readonly weights: Readonly<Record<string, number>>;
  /** Where the weights came from: `weights#DE`, `weights#*`, `equal` (snapshot without weights) or `static`. */
  readonly source: string;
}

export class RoutingUnavailableError extends Error {
  constructor(cause?: unknown) {
    super('no routing snapshot read and no static weights: nothing to route to', { cause });
    this.name = 'RoutingUnavailableError';
  }
}

export interface RoutingCacheOptions {
  /** Refresh period: at most one read per this many ms. */
  readonly ttlMs: number;
  /** Longest a cold request waits on the container's first read before static weights answer. */
  readonly coldWaitMs: number;
  readonly nowMs: () => number;
  /** Baked static weights for a container without any snapshot. @default none (503 until a read succeeds) */
  readonly staticPathways?: readonly StaticPathway[];
  readonly onRefreshError?: (error: unknown) => void;
}

/** Counters a benchmark or a test reads; they cost an increment per read. */
export interface RoutingCacheStats {
  /** Reads started (each one GetItem). */
  readonly reads: number;
  /** Reads finished, whatever their outcome. */
  readonly settledReads: number;
  /** Reads that failed or returned an unusable item (the last good snapshot was kept). */
  readonly failedReads: number;
  /** Generation of the snapshot in use; undefined while there is none. */
  readonly generation: number | undefined;
}

export class RoutingCache {
  private current: RoutingSnapshot | undefined;
  /** Start of the last read, successful or not: the next one starts `ttlMs` later. */
  private lastReadAt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<void> | undefined;
  private readonly staticView: RoutingView | undefined;
  /** Views already computed for the current snapshot, by scope used: a request does a map lookup. */
  private views = new Map<string, RoutingView>();
  private counters = { reads: 0, settledReads: 0, failedReads: 0 };
  /** The newest routing generation a read was started for out of period (`ensureGeneration`): one read per generation. */
  private forcedFor = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly read: RoutingSnapshotReader,
    private readonly opts: RoutingCacheOptions,
  ) {
    this.staticView = staticViewOf(opts.staticPathways ?? []);
  }

  get stats(): RoutingCacheStats {
    return { ...this.counters, generation: this.current?.generation };
  }

  async view(viewerCountry: string | undefined): Promise<RoutingView> {
    const now = this.opts.nowMs();
    if (this.inFlight === undefined && now - this.lastReadAt >= this.opts.ttlMs) this.refresh(now);
    if (this.current === undefined && this.inFlight !== undefined && this.counters.reads === 1) await this.waitAtMost(this.inFlight, this.opts.coldWaitMs);
    // "XX" (unknown) and anything malformed use the global weights only: there is no such scope.
    const country = isRoutingCountry(viewerCountry) ? viewerCountry : GLOBAL_SCOPE;
    const cached = this.views.get(country);
    if (cached !== undefined) return cached;
    const computed = this.compute(country);
    if (this.current !== undefined) this.views.set(country, computed);
    return computed;
  }

  /**
   * Whether the snapshot in use is at least `generation` (a steering key's `g`, ADR 0097), after at most one read
   * out of period per newer generation asked for. The key function reads the generation from the KeyValueStore,
   * which routing-weights writes after the snapshot; a container may still hold an older snapshot for up to
   * `ttlMs`, and an answer it caches under the new key would keep the old weights for the whole reuse time. The
   * wait for that read is bounded by `coldWaitMs`; a generation far ahead (a bad store value) costs one read, not
   * one per request. False means: answer, but do not let the answer be cached.
   */
  async ensureGeneration(generation: number): Promise<boolean> {
    const fresh = () => (this.current?.generation ?? Number.NEGATIVE_INFINITY) >= generation;
    if (fresh()) return true;
    // A read already under way may bring it (or a newer one).
    if (this.inFlight !== undefined) await this.waitAtMost(this.inFlight, this.opts.coldWaitMs);
    if (fresh()) return true;
    // One read out of period per newer generation; and once the period is over, its read (which `view` would
    // start in the background) is waited for here, so the answer is not built from the snapshot it replaces.
    const now = this.opts.nowMs();
    if (this.inFlight === undefined && (generation > this.forcedFor || now - this.lastReadAt >= this.opts.ttlMs)) {
      this.forcedFor = Math.max(this.forcedFor, generation);
      this.refresh(now);
    }
    if (this.inFlight !== undefined) await this.waitAtMost(this.inFlight, this.opts.coldWaitMs);
    return fresh();
  }

  /** Starts the period's one read; never rejects. */
  private refresh(now: number): void {
    this.lastReadAt = now;
    this.counters.reads++;
    this.inFlight = Promise.resolve()
      .then(this.read)
      .then((item) => {
        if (item === undefined) {
          // Before routing-weights' first tick: static weights answer; nothing to log per period.
          return;
        }
        const next = parseRoutingSnapshot(item);
        // Shards are written one after another: a lagging copy must not roll the container back.
        if (this.current !== undefined && next.generation < this.current.generation) return;
        this.current = next;
        this.views = new Map();
      })
      .catch((error: unknown) => {
        this.counters.failedReads++;
        this.opts.onRefreshError?.(error);
      })
      .finally(() => {
        this.counters.settledReads++;
        this.inFlight = undefined;
      });
  }

  private async waitAtMost(promise: Promise<void>, ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    });
    await Promise.race([promise, timeout]);
    clearTimeout(timer);
  }

  private compute(country: string): RoutingView {
    const snapshot = this.current;
    if (snapshot === undefined) {
      if (this.staticView === undefined) throw new RoutingUnavailableError();
      return this.staticView;
    }
    const pathways = snapshot.pathways.filter((p) => p.enabled);
    if (pathways.length === 0) throw new RoutingUnavailableError(new Error('no enabled pathway in the registry'));
    for (const scope of country === GLOBAL_SCOPE ? [GLOBAL_SCOPE] : [country, GLOBAL_SCOPE]) {
      const table = snapshot.shares.get(scope);
      if (table === undefined) continue;
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

/** The static view, or undefined when nothing is baked (or every baked weight is 0). */
function staticViewOf(pathways: readonly StaticPathway[]): RoutingView | undefined {
  if (!pathways.some((p) => p.weight > 0)) return undefined;
  return {
    pathways: pathways.map((p) => ({ id: p.id, host: p.host, enabled: true, cap: 1 })),
    weights: Object.fromEntries(pathways.map((p) => [p.id, p.weight])),
    source: 'static',
  };
}
