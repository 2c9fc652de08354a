/**
 * Parsed origin manifests by S3 key. Revision paths are immutable (URL contract), so an entry only goes
 * stale when a takedown removes the revision (ADR 0005): entries expire after `maxAgeMs` so a warm
 * function stops generating manifests for removed assets. The size bound limits memory (a 128 MB edge
 * function serving a large catalogue). Concurrent misses for one key share a single origin read.
 */

import type { ManifestPathway } from '../../core/hls-multivariant';

/** What a reader needs to fetch one origin manifest (ADR 0003: through a delivery pathway, with the viewer's token). */
export interface OriginManifestRequest {
  /** Origin path without the token, e.g. `media/<aid>/<rev>/main.m3u8`; also the cache key. */
  readonly key: string;
  readonly token: string;
  /** The session's pathways, best first. */
  readonly pathways: readonly ManifestPathway[];
}

/** Reads an origin manifest as text; null when it does not exist. */
export type OriginTextReader = (request: OriginManifestRequest) => Promise<string | null>;

export class ParsedManifestCache<T> {
  private readonly entries = new Map<string, { readonly value: T; readonly loadedAt: number }>();
  private readonly inFlight = new Map<string, Promise<T | null>>();

  constructor(
    private readonly read: OriginTextReader,
    private readonly parse: (text: string) => T,
    private readonly maxEntries = 256,
    private readonly maxAgeMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Parsed manifest, or null when the object does not exist. Parse errors propagate. */
  get(request: OriginManifestRequest): Promise<T | null> {
    const key = request.key;
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      // Map keeps insertion order: re-inserting makes this the most recently used entry.
      this.entries.delete(key);
      if (this.now() - hit.loadedAt < this.maxAgeMs) {
        this.entries.set(key, hit);
        return Promise.resolve(hit.value);
      }
    }
    const running = this.inFlight.get(key);
    if (running !== undefined) return running;
    const load = this.read(request)
      .then((text) => {
        if (text === null) return null;
        const parsed = this.parse(text);
        this.entries.set(key, { value: parsed, loadedAt: this.now() });
        if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
        return parsed;
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, load);
    return load;
  }
}
