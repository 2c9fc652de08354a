/**
 * Telemetry contract (docs/telemetry.md): the normalised sample both sources are turned into, and the
 * per-cell rollup the aggregator writes and the routing-weights scorer reads.
 */

export type SampleSource = 'cdn-log' | 'cmcd';

export interface QoeSample {
  /** Epoch milliseconds of the observation. */
  readonly ts: number;
  readonly source: SampleSource;
  readonly pathway: string;
  /** ISO 3166-1 alpha-2, upper case; "XX" when unknown. */
  readonly country: string;
  readonly asn?: number;
  /**
   * The session the evidence belongs to, as the platform verified it: the playback token's `sid` of a
   * report, or of the path token of a CDN log line the edge served (never the client-chosen CMCD `sid`).
   */
  readonly sid?: string;
  readonly assetId?: string;
  readonly status?: number;
  readonly ttfbMs?: number;
  readonly bytes?: number;
  readonly bitrateKbps?: number;
  readonly throughputKbps?: number;
  readonly bufferMs?: number;
  readonly starved?: boolean;
  readonly stallMs?: number;
  readonly startupMs?: number;
  readonly fatalError?: boolean;
  /** Milliseconds of playback this sample covers (CMCD event interval), for time-based rebuffering ratio. */
  readonly playMs?: number;
  /**
   * A player line beyond its session's per-minute evidence budget (docs/telemetry.md "Per-session evidence"):
   * it still marks its session in the distinct-session sets, but adds nothing to the additive counters.
   */
  readonly sessionOnly?: boolean;
}

/** A rollup cell: one pathway in one country for one UTC minute. */
export interface QoeCellKey {
  readonly pathway: string;
  readonly country: string;
  /** Epoch milliseconds of the start of the minute. */
  readonly minute: number;
}

/** Additive counters of one cell; adding two rollups of the same cell is element-wise sum. */
export interface QoeCounters {
  /** CDN requests seen (real-time log lines). */
  requests: number;
  /** CDN responses with status >= 500, plus player fatal errors. */
  errors: number;
  bytes: number;
  /**
   * TTFB as the CDN measured it (real-time log `time-to-first-byte`: edge to viewer, near 0 on a cache
   * hit) and as the player measured it (CMCD `ttfb`: request to first byte in the browser, network
   * included). Two signals, never summed together: they measure different spans, and the scorer only
   * compares a pathway with others on the same signal (docs/adr/0053-two-ttfb-signals-and-player-value-bounds.md).
   */
  edgeTtfbMsSum: number;
  edgeTtfbCount: number;
  playerTtfbMsSum: number;
  playerTtfbCount: number;
  throughputKbpsSum: number;
  throughputCount: number;
  /** Player-reported playing time and stall time, for the time-based rebuffering ratio. */
  playMs: number;
  stallMs: number;
  stalls: number;
  startupMsSum: number;
  startupCount: number;
  /** Player reports seen (CMCD lines). */
  reports: number;
}

export interface QoeRollup extends QoeCellKey, QoeCounters {}

/**
 * Distinct counts of one cell (docs/telemetry.md "Per-session evidence", ADR 0054): not additive, stored as
 * bitmaps whose union is idempotent, read as estimates. The controller's quorum inputs.
 */
export interface QoeSessionCounts {
  /** Distinct sessions with any evidence in the cell-minute. */
  readonly sessions: number;
  /** Of those, sessions that saw at least one error (CDN 5xx, player `rr` with `rc` ≥ 500 or 0, play state `f`). */
  readonly errorSessions: number;
  /** Of those, sessions that stalled. */
  readonly stallSessions: number;
  /** Distinct client networks (ASNs) among those sessions. */
  readonly networks: number;
}
