import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { addCounters, COUNTER_NAMES, emptyCounters } from './qoe-aggregate';
import type { QoeCounters } from './qoe-types';
import { emptySessionBits, SESSION_BIT_FIELDS, SESSION_BITMAP_BITS, type SessionBits } from './session-evidence';

/**
 * The record between the two rollup stages (docs/telemetry.md "Two-stage rollup writes", ADR 0057): what
 * one claim — a contiguous range of one telemetry shard's records — adds to the cells of one bucket.
 * Stage 1 (qoe-aggregator) puts one per bucket and claim on the partials stream with the bucket as
 * partition key, so every partial of a cell reaches the same stage-2 (rollup-merger) shard, which merges
 * them and writes the cell once per batch.
 */

/** What one claim adds to one cell `pathway × country × minute`. */
export interface CellPartial {
  readonly minute: number;
  readonly pathway: string;
  readonly country: string;
  readonly counters: QoeCounters;
  readonly sessions: SessionBits;
}

export interface RollupPartials {
  /** The telemetry shard the claim belongs to: `<stream name>/<shard id>`. */
  readonly source: string;
  /** Sequence numbers of the claim's first and last record (decimal strings). */
  readonly first: string;
  readonly last: string;
  readonly bucket: number;
  readonly cells: readonly CellPartial[];
}

/** Kinesis caps a record's data blob at 1 MiB (PutRecords API reference); stage 1 splits a claim before that. */
export const MAX_PARTIALS_RECORD_BYTES = 1_000_000;

export class MalformedPartialsError extends Error {
  constructor(readonly reason: string) {
    super(`malformed rollup partials record: ${reason}`);
    this.name = 'MalformedPartialsError';
  }
}

/**
 * The bucket of a cell: a stable hash of its country, so a cell keeps its bucket (and its stage-2 shard) from
 * minute to minute and its items have one writer, and every pathway of a place is merged in the same batch.
 * The controller compares pathways within a place (ADR 0063); bucketed by cell, a country's pathways reached
 * the rollups at different moments, so when all degraded together one looked worse first and was demoted
 * (the reaction benchmark's equal-degradation row; ADR 0057 note).
 */
export function bucketOfCountry(country: string, buckets: number): number {
  return createHash('sha256').update(country).digest().readUInt32BE(0) % buckets;
}

/** Element-wise sum of counters and union of session bits, into `into`. */
export function mergeCellPartial(into: { counters: QoeCounters; sessions: SessionBits }, from: Pick<CellPartial, 'counters' | 'sessions'>): void {
  addCounters(into.counters, from.counters);
  for (const field of SESSION_BIT_FIELDS) for (const bit of from.sessions[field]) into.sessions[field].add(bit);
}

/** `<minute>/<pathway>#<country>`, the identity of a cell across partials. */
export function partialCellKey(partial: Pick<CellPartial, 'minute' | 'pathway' | 'country'>): string {
  return `${partial.minute}/${partial.pathway}#${partial.country}`;
}

type WireCell = [number, string, string, number[], number[], number[], number[], number[]];
interface Wire {
  v: 1;
  src: string;
  first: string;
  last: string;
  b: number;
  cells: WireCell[];
}

/** Gzipped JSON with the counters as an array in COUNTER_NAMES order: a bucket's cells compress well. */
export function encodeRollupPartials(partials: RollupPartials): Buffer {
  const wire: Wire = {
    v: 1,
    src: partials.source,
    first: partials.first,
    last: partials.last,
    b: partials.bucket,
    cells: partials.cells.map((c) => [
      c.minute,
      c.pathway,
      c.country,
      COUNTER_NAMES.map((name) => c.counters[name]),
      ...(SESSION_BIT_FIELDS.map((field) => [...c.sessions[field]]) as [number[], number[], number[], number[]]),
    ]),
  };
  return gzipSync(JSON.stringify(wire));
}

const SEQUENCE = /^(0|[1-9]\d{0,128})$/;
const isBitList = (value: unknown): value is number[] =>
  Array.isArray(value) && value.every((bit) => Number.isInteger(bit) && bit >= 0 && bit < SESSION_BITMAP_BITS);

/** Throws MalformedPartialsError for anything stage 1 would not have written. */
export function decodeRollupPartials(data: Uint8Array): RollupPartials {
  let wire: Partial<Wire>;
  try {
    wire = JSON.parse(gunzipSync(data).toString('utf8')) as Partial<Wire>;
  } catch {
    throw new MalformedPartialsError('not gzipped JSON');
  }
  if (wire?.v !== 1) throw new MalformedPartialsError('unknown version');
  if (typeof wire.src !== 'string' || wire.src === '') throw new MalformedPartialsError('no source');
  if (typeof wire.first !== 'string' || typeof wire.last !== 'string' || !SEQUENCE.test(wire.first) || !SEQUENCE.test(wire.last)) {
    throw new MalformedPartialsError('bad claim range');
  }
  if (BigInt(wire.first) > BigInt(wire.last)) throw new MalformedPartialsError('claim range reversed');
  if (!Number.isInteger(wire.b) || wire.b! < 0) throw new MalformedPartialsError('bad bucket');
  if (!Array.isArray(wire.cells)) throw new MalformedPartialsError('no cells');
  const cells = wire.cells.map((cell): CellPartial => {
    if (!Array.isArray(cell) || cell.length !== 8) throw new MalformedPartialsError('bad cell');
    const [minute, pathway, country, counters, ...bits] = cell;
    if (!Number.isSafeInteger(minute) || typeof pathway !== 'string' || typeof country !== 'string') throw new MalformedPartialsError('bad cell key');
    if (!Array.isArray(counters) || counters.length !== COUNTER_NAMES.length || !counters.every((n) => Number.isFinite(n) && n >= 0)) {
      throw new MalformedPartialsError('bad counters');
    }
    if (!bits.every(isBitList)) throw new MalformedPartialsError('bad session bits');
    const decoded = emptyCounters();
    COUNTER_NAMES.forEach((name, i) => (decoded[name] = counters[i] as number));
    const sessions = emptySessionBits();
    SESSION_BIT_FIELDS.forEach((field, i) => bits[i]!.forEach((bit) => sessions[field].add(bit)));
    return { minute, pathway, country, counters: decoded, sessions };
  });
  return { source: wire.src, first: wire.first, last: wire.last, bucket: wire.b!, cells };
}
