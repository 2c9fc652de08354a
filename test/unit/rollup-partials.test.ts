import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { emptyCounters } from '../../core/qoe-aggregate';
import { bucketOfCountry, decodeRollupPartials, encodeRollupPartials, MalformedPartialsError, type RollupPartials } from '../../core/rollup-partials';
import { emptySessionBits } from '../../core/session-evidence';

const partials: RollupPartials = {
  source: 'telemetry/shardId-000000000003',
  first: '49620000000000000000000000000000000000000000000000000001',
  last: '49620000000000000000000000000000000000000000000000000099',
  bucket: 7,
  cells: [
    {
      minute: 1_700_000_040_000,
      pathway: 'cf-a',
      country: 'DE',
      counters: { ...emptyCounters(), requests: 3, errors: 1, edgeTtfbMsSum: 36.5 },
      sessions: { ...emptySessionBits(), sessions: new Set([1, 1023]), networks: new Set([5]) },
    },
  ],
};
const reasonOf = (data: Uint8Array) => {
  try {
    decodeRollupPartials(data);
  } catch (error) {
    if (error instanceof MalformedPartialsError) return error.reason;
    throw error;
  }
  return undefined;
};
const wire = (patch: Record<string, unknown>) => gzipSync(JSON.stringify({ v: 1, src: 's/1', first: '1', last: '2', b: 0, cells: [], ...patch }));

describe('rollup partials records', () => {
  it('decode to what was encoded', () => {
    expect(decodeRollupPartials(encodeRollupPartials(partials))).toEqual(partials);
  });

  it('refuse what stage 1 would not have written, naming why', () => {
    expect(reasonOf(Buffer.from('plain text'))).toBe('not gzipped JSON');
    expect(reasonOf(wire({ v: 2 }))).toBe('unknown version');
    expect(reasonOf(wire({ first: '3', last: '2' }))).toBe('claim range reversed');
    expect(reasonOf(wire({ last: '01' }))).toBe('bad claim range');
    expect(reasonOf(wire({ b: -1 }))).toBe('bad bucket');
    expect(reasonOf(wire({ cells: [[1, 'cf-a', 'DE', [1, 2], [], [], [], []]] }))).toBe('bad counters');
    expect(reasonOf(wire({ cells: [[1, 'cf-a', 'DE', new Array(15).fill(0), [1024], [], [], []]] }))).toBe('bad session bits');
  });

  it('put a country in the same bucket every minute, and spread countries over the buckets', () => {
    const countries = Array.from({ length: 2000 }, (_, i) => `C${i}`);
    const counts = new Array(16).fill(0);
    for (const country of countries) counts[bucketOfCountry(country, 16)] += 1;
    expect(bucketOfCountry('DE', 16)).toBe(bucketOfCountry('DE', 16));
    expect(Math.min(...counts)).toBeGreaterThan(2000 / 16 / 2);
  });
});
