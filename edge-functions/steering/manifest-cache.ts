/**
 * Parsed origin manifests by S3 key. Revision paths are immutable (URL contract), so an entry never
 * goes stale; the bound only limits memory (a 128 MB edge function serving a large catalogue).
 * Concurrent misses for one key share a single S3 read.
 */

/** Reads an origin object as text; null when it does not exist. */
export type OriginTextReader = (key: string) => Promise<string | null>;

export class ParsedManifestCache<T> {
  private readonly entries = new Map<string, T>();
  private readonly inFlight = new Map<string, Promise<T | null>>();

  constructor(
    private readonly read: OriginTextReader,
    private readonly parse: (text: string) => T,
    private readonly maxEntries = 256,
  ) {}

  /** Parsed manifest, or null when the object does not exist. Parse errors propagate. */
  get(key: string): Promise<T | null> {
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      // Map keeps insertion order: re-inserting makes this the most recently used entry.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return Promise.resolve(hit);
    }
    const running = this.inFlight.get(key);
    if (running !== undefined) return running;
    const load = this.read(key)
      .then((text) => {
        if (text === null) return null;
        const parsed = this.parse(text);
        this.entries.set(key, parsed);
        if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
        return parsed;
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, load);
    return load;
  }
}
