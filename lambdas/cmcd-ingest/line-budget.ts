/**
 * The per-session line rate limit (ADR 0052) in one ingest container's memory (ADR 0101). It guards the
 * telemetry stream, not routing (the evidence budgets do that, core/session-evidence.ts): lines a session
 * may put on the stream per UTC minute through this container, all of a report's lines or none of them, and
 * reports (records) it may post.
 *
 * Per container, not per session: Lambda hands a request to any free execution environment, so a session
 * whose POSTs reach k containers in a minute can put up to k × budget lines; ADR 0101 bounds k and what the
 * lines can do (they all land on the one shard of the session's partition key).
 */
export class LineBudget {
  private readonly used = new Map<string, { lines: number; posts: number }>();

  constructor(
    readonly linesPerSessionMinute: number,
    /**
     * Reports (stream records) per session-minute: stock hls.js posts one event per report, about 30 a minute at
     * 6 s segments with separate audio (ADR 0056); 60 leaves room. It bounds records where the line budget
     * bounds bytes: a session filling one shard's 1,000 records/s would need 1,000 containers (ADR 0101).
     */
    readonly postsPerSessionMinute: number = 60,
    /** Session-minutes remembered, the oldest forgotten first (≈ 100 bytes each). */
    readonly maxEntries: number = 100_000,
  ) {
    if (!Number.isInteger(linesPerSessionMinute) || linesPerSessionMinute < 1) throw new Error(`linesPerSessionMinute must be a positive integer, got ${linesPerSessionMinute}`);
    if (!Number.isInteger(postsPerSessionMinute) || postsPerSessionMinute < 1) throw new Error(`postsPerSessionMinute must be a positive integer, got ${postsPerSessionMinute}`);
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new Error(`maxEntries must be a positive integer, got ${maxEntries}`);
  }

  /**
   * Takes one report of `lines` from the session's minute starting at `minute` (epoch ms); false, and nothing
   * taken, when the lines or the report do not fit.
   */
  take(sid: string, minute: number, lines: number): boolean {
    const key = `${sid}#${minute}`;
    const used = this.used.get(key);
    if ((used?.lines ?? 0) + lines > this.linesPerSessionMinute || (used?.posts ?? 0) + 1 > this.postsPerSessionMinute) return false;
    if (used === undefined) {
      if (this.used.size >= this.maxEntries) this.used.delete(this.used.keys().next().value!);
      this.used.set(key, { lines, posts: 1 });
    } else {
      used.lines += lines;
      used.posts += 1;
    }
    return true;
  }
}
