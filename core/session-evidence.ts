import { createHash } from 'node:crypto';
import { type EvidenceGrant, SESSION_MINUTE_BUDGET } from './cmcd-report';
import type { QoeSample, QoeSessionCounts } from './qoe-types';

/**
 * Distinct sessions, error sessions, stall sessions and client networks per cell (docs/telemetry.md
 * "Per-session evidence", ADR 0054), as linear-counting bitmaps (Whang, Vander-Zanden, Taylor 1990):
 * an element sets bit `hash(element) mod m`, and `m · ln(m / zeros)` estimates how many distinct
 * elements were seen. Stored as DynamoDB number sets of bit positions, so a write is a set union:
 * idempotent under any redelivery, and never more than `m` members per set however large the audience.
 */

/**
 * Bits per bitmap. 1,024 keeps an item's four sets under ≈ 12 KiB at saturation, is exact enough for a
 * quorum of a few sessions (two of 10 sessions share a bit with probability ≈ 4 %), within ± 3 % at 1,000
 * and saturates near `m · ln m` ≈ 7,100, far beyond any quorum.
 */
export const SESSION_BITMAP_BITS = 1024;

/** What "all bits set" reads as: the expected count that fills a bitmap (coupon collector, `m · ln m`). */
export const SATURATED_COUNT = Math.round(SESSION_BITMAP_BITS * Math.log(SESSION_BITMAP_BITS));

export interface SessionBits {
  readonly sessions: Set<number>;
  readonly errorSessions: Set<number>;
  readonly stallSessions: Set<number>;
  readonly networks: Set<number>;
}

export const SESSION_BIT_FIELDS: readonly (keyof SessionBits)[] = Object.freeze(['sessions', 'errorSessions', 'stallSessions', 'networks'] as const);

export function emptySessionBits(): SessionBits {
  return { sessions: new Set(), errorSessions: new Set(), stallSessions: new Set(), networks: new Set() };
}

/**
 * The bit of one element. Domain-separated so a session and a network never share a position by design;
 * SHA-256 because session ids come from the playback API and ASNs are small integers: both must spread evenly.
 */
export function bitOf(kind: 'session' | 'network', value: string): number {
  return createHash('sha256').update(`${kind}:${value}`).digest().readUInt32BE(0) % SESSION_BITMAP_BITS;
}

/** Linear-counting estimate from the number of set bits; a full bitmap reads as SATURATED_COUNT. */
export function estimateDistinct(setBits: number): number {
  if (setBits <= 0) return 0;
  if (setBits >= SESSION_BITMAP_BITS) return SATURATED_COUNT;
  return Math.round(SESSION_BITMAP_BITS * Math.log(SESSION_BITMAP_BITS / (SESSION_BITMAP_BITS - setBits)));
}

export function sessionCountsOf(bits: { readonly [K in keyof SessionBits]: ReadonlySet<number> }): QoeSessionCounts {
  return {
    sessions: estimateDistinct(bits.sessions.size),
    errorSessions: estimateDistinct(bits.errorSessions.size),
    stallSessions: estimateDistinct(bits.stallSessions.size),
    networks: estimateDistinct(bits.networks.size),
  };
}

/**
 * 5xx responses and player fatal errors. A player-reported status 0 is "no response received" (CTA-5004-B
 * `rc`), i.e. the CDN did not answer; a CDN log's 000 is a viewer that hung up.
 */
export function isErrorSample(sample: QoeSample): boolean {
  if (sample.fatalError === true) return true;
  if (sample.status === undefined) return false;
  return sample.status >= 500 || (sample.source === 'cmcd' && sample.status === 0);
}

export function isStallSample(sample: QoeSample): boolean {
  return sample.starved === true || (sample.stallMs !== undefined && sample.stallMs > 0);
}

/** Adds one sample's session evidence; a sample without a verified session adds nothing. */
export function addSessionEvidence(into: SessionBits, sample: QoeSample): SessionBits {
  if (sample.sid === undefined) return into;
  const bit = bitOf('session', sample.sid);
  into.sessions.add(bit);
  if (isErrorSample(sample)) into.errorSessions.add(bit);
  if (isStallSample(sample)) into.stallSessions.add(bit);
  if (sample.asn !== undefined) into.networks.add(bitOf('network', String(sample.asn)));
  return into;
}

/**
 * What a log line's CMCD says, as opposed to what the CDN measured: the player's word, copied from its
 * request (CloudFront's `cmcd-*` fields). Status, bytes, edge TTFB and the result type are the CDN's own.
 */
const PLAYER_VALUE_FIELDS = ['throughputKbps', 'bufferMs', 'bitrateKbps', 'starved'] as const satisfies readonly (keyof QoeSample)[];

/** A CDN log sample without the player values its request carried; the CDN's own facts and the session stay. */
export function withoutPlayerValues(sample: QoeSample): QoeSample {
  const kept: Record<string, unknown> = { ...sample };
  for (const field of PLAYER_VALUE_FIELDS) delete kept[field];
  return kept as unknown as QoeSample;
}

function hasPlayerValues(sample: QoeSample): boolean {
  return PLAYER_VALUE_FIELDS.some((field) => sample[field] !== undefined);
}

/**
 * How many samples each session has drawn per UTC minute of their timestamps, up to `perMinute`: the one
 * ledger of the per-container budgets below. One small entry per session-minute seen, the oldest forgotten
 * first beyond `maxEntries`; a forgotten entry starts over.
 */
class SessionMinuteLedger {
  private readonly used = new Map<string, number>();

  constructor(
    private readonly perMinute: number,
    private readonly maxEntries: number,
    perMinuteName: string,
  ) {
    if (!Number.isInteger(perMinute) || perMinute < 0) throw new Error(`${perMinuteName} must be a non-negative integer, got ${perMinute}`);
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new Error(`maxEntries must be a positive integer, got ${maxEntries}`);
  }

  /** Takes one from the session-minute's budget: false when it is spent. */
  take(sid: string, ts: number): boolean {
    const key = `${sid}#${Math.floor(ts / 60_000)}`;
    const used = this.used.get(key) ?? 0;
    if (used >= this.perMinute) return false;
    if (used === 0 && this.used.size >= this.maxEntries) this.used.delete(this.used.keys().next().value!);
    this.used.set(key, used + 1);
    return true;
  }
}

/**
 * Per-session budget of CDN log lines whose player values count (ADR 0069). A viewer chooses the CMCD of
 * its own requests and how many requests it makes, so without a bound one session could pull a cell's
 * mean throughput to 0 with a request flood. Per session and UTC minute of the line's timestamp (the CDN's
 * clock), the first `SESSION_MINUTE_BUDGET.lines` lines (60, what a session's reports may add: requests are
 * no cheaper a way to push claims than report POSTs) keep their player values; later lines keep the CDN's
 * facts and their session only. A line without a session (no path token) has no budget to draw on, so its
 * player values never count.
 *
 * Memory: a {@link SessionMinuteLedger} of at most `maxEntries` session-minutes. The aggregator keeps one
 * budget for its container's life, so the bound holds per container (docs/telemetry.md "Per-session evidence").
 */
export class LogLineEvidenceBudget {
  private readonly ledger: SessionMinuteLedger;

  constructor(
    readonly linesPerSessionMinute: number = SESSION_MINUTE_BUDGET.lines,
    readonly maxEntries: number = 200_000,
  ) {
    this.ledger = new SessionMinuteLedger(linesPerSessionMinute, maxEntries, 'linesPerSessionMinute');
  }

  /**
   * The log sample as it may count: unchanged while its session-minute has room (or it carries no player
   * values, which cost nothing), else without its player values (`setAside`).
   */
  admit(sample: QoeSample): { readonly sample: QoeSample; readonly setAside: boolean } {
    if (sample.source !== 'cdn-log' || !hasPlayerValues(sample)) return { sample, setAside: false };
    if (sample.sid === undefined || !this.ledger.take(sample.sid, sample.ts)) return { sample: withoutPlayerValues(sample), setAside: true };
    return { sample, setAside: false };
  }
}

/**
 * Throughput values one session may add to the cells per UTC minute, reports and CDN log lines together
 * (ADR 0069, note of 2026-12-02). The ladder cuts 6 s segments (`LADDERS[*].segmentSeconds`), so a player
 * measures about 10 times a minute; 12 (one per 5 s) leaves a segment or two of slack at a minute's edge.
 * Real players measure more often (video and audio requests, each both logged and reported: ≈ 40 a minute),
 * so every session playing through a minute reaches the cap: each weighs the same in a cell's mean
 * throughput, whatever its request or report rate.
 */
export const THROUGHPUT_VALUES_PER_SESSION_MINUTE = 12;

/** A sample without its throughput; everything else it says stays. */
function withoutThroughput(sample: QoeSample): QoeSample {
  const { throughputKbps: _dropped, ...kept } = sample;
  return kept;
}

/**
 * Per-session budget of throughput values, across both sources (ADR 0069, note of 2026-12-02). A cell's
 * throughput is a mean over values, so without it one session's 120 claims a minute outweigh a dozen honest
 * sessions. Per session and UTC minute of the sample's timestamp (the receive minute of a report, the CDN's
 * clock for a log line), the first `valuesPerSessionMinute` values count; later samples of that
 * session-minute keep everything but `throughputKbps`. A sample without a session never contributes one.
 * Memory as {@link LogLineEvidenceBudget}: at most `maxEntries` session-minutes, the oldest forgotten first.
 */
export class ThroughputEvidenceBudget {
  private readonly ledger: SessionMinuteLedger;

  constructor(
    readonly valuesPerSessionMinute: number = THROUGHPUT_VALUES_PER_SESSION_MINUTE,
    readonly maxEntries: number = 200_000,
  ) {
    this.ledger = new SessionMinuteLedger(valuesPerSessionMinute, maxEntries, 'valuesPerSessionMinute');
  }

  /** The sample as it may count: unchanged while its session-minute has room (or it has no throughput), else without it. */
  admit(sample: QoeSample): { readonly sample: QoeSample; readonly setAside: boolean } {
    if (sample.throughputKbps === undefined) return { sample, setAside: false };
    if (sample.sid === undefined || !this.ledger.take(sample.sid, sample.ts)) return { sample: withoutThroughput(sample), setAside: true };
    return { sample, setAside: false };
  }

  /** Every sample of a record through {@link admit}, in order, with how many throughput values were set aside. */
  admitAll(samples: readonly QoeSample[]): { readonly samples: QoeSample[]; readonly setAside: number } {
    let setAside = 0;
    const admitted = samples.map((sample) => {
      const result = this.admit(sample);
      if (result.setAside) setAside += 1;
      return result.sample;
    });
    return { samples: admitted, setAside };
  }
}

/**
 * A session-minute's evidence budget kept in one container's memory (ADR 0101): what the ingest's rate-limit
 * item did with one DynamoDB write per report (ADR 0054), without it. `grant` charges a claim of playing +
 * stalled time and lines to the session's minute and returns the part that fits, so repeated or concurrent
 * claims reaching this container are never granted more than `budget` together. The ingest keeps one per
 * container to fill a record's grant; the aggregator keeps one per container and clips every report
 * record's grant again, so the bound holds per aggregator container: a session's reports are one partition
 * key of the telemetry stream, so they reach one shard and the few containers that process it.
 * Memory as {@link LogLineEvidenceBudget}: at most `maxEntries` session-minutes, the oldest forgotten first.
 */
export class ReportEvidenceBudget {
  private readonly used = new Map<string, { ms: number; lines: number }>();
  /** The grants of the most recent records by id, the oldest forgotten first. */
  private readonly grants = new Map<string, EvidenceGrant>();

  constructor(
    readonly budget: EvidenceGrant = SESSION_MINUTE_BUDGET,
    readonly maxEntries: number = 200_000,
    /**
     * Record grants remembered for {@link grant}'s `recordId`. A claim the aggregator re-emits is its shard's last
     * batch (at most its 10,000-record batch size), so a few batches' worth is enough.
     */
    readonly maxRecords: number = 50_000,
  ) {
    for (const [name, value] of [['budget.ms', budget.ms], ['budget.lines', budget.lines], ['maxEntries', maxEntries], ['maxRecords', maxRecords]] as const) {
      if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got ${value}`);
    }
    if (maxEntries < 1) throw new Error(`maxEntries must be a positive integer, got ${maxEntries}`);
  }

  /**
   * Charges `claim` to the session's minute of `ts` (epoch ms) and returns what fits of it. With `recordId`
   * (the aggregator passes the stream record's shard and sequence number) a record normalised again — the
   * aggregator re-emits a claim from the same records, which must give the same partials (ADR 0057) — gets the
   * grant it got the first time and is not charged twice.
   */
  grant(sid: string, ts: number, claim: EvidenceGrant, recordId?: string): EvidenceGrant {
    const earlier = recordId === undefined ? undefined : this.grants.get(recordId);
    if (earlier !== undefined) return earlier;
    const key = `${sid}#${Math.floor(ts / 60_000)}`;
    let used = this.used.get(key);
    if (used === undefined) {
      if (this.used.size >= this.maxEntries) this.used.delete(this.used.keys().next().value!);
      used = { ms: 0, lines: 0 };
      this.used.set(key, used);
    }
    const granted = {
      ms: Math.max(0, Math.min(claim.ms, this.budget.ms - used.ms)),
      lines: Math.max(0, Math.min(claim.lines, this.budget.lines - used.lines)),
    };
    used.ms += granted.ms;
    used.lines += granted.lines;
    if (recordId !== undefined && this.maxRecords > 0) {
      if (this.grants.size >= this.maxRecords) this.grants.delete(this.grants.keys().next().value!);
      this.grants.set(recordId, granted);
    }
    return granted;
  }
}
