import { describe, expect, it } from 'vitest';
import { rankPathways, rendezvousUniform } from '../../core/rendezvous';

const sessions = (n: number, prefix = 'sid-'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i.toString(36)}-${(i * 2654435761) >>> 0}`);

function firstChoiceShares(weights: Record<string, number>, sids: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(Object.keys(weights).map((id) => [id, 0]));
  for (const sid of sids) counts[rankPathways(sid, weights)[0]]++;
  return Object.fromEntries(Object.entries(counts).map(([id, c]) => [id, c / sids.length]));
}

describe('rendezvousUniform', () => {
  it('stays strictly inside (0, 1) and is deterministic', () => {
    // Prepare
    const sids = sessions(5000);
    // Act
    const values = sids.map((sid) => rendezvousUniform(sid, 'cf-a'));
    // Assess
    expect(values.every((u) => u > 0 && u < 1)).toBe(true);
    expect(sids.map((sid) => rendezvousUniform(sid, 'cf-a'))).toEqual(values);
  });

  it('spreads values uniformly (each decile holds about a tenth)', () => {
    const buckets = new Array<number>(10).fill(0);
    for (const sid of sessions(20_000)) buckets[Math.floor(rendezvousUniform(sid, 'cf-b') * 10)]++;
    for (const count of buckets) expect(Math.abs(count / 20_000 - 0.1)).toBeLessThan(0.01);
  });

  it('does not confuse the boundary between session id and pathway id', () => {
    expect(rendezvousUniform('ab', 'c')).not.toBe(rendezvousUniform('a', 'bc'));
  });
});

describe('rankPathways', () => {
  it('ranks every pathway exactly once', () => {
    const ranked = rankPathways('s1', { 'cf-a': 0.5, 'cf-b': 0.3, 'cf-c': 0.2, ext: 0 });
    expect([...ranked].sort()).toEqual(['cf-a', 'cf-b', 'cf-c', 'ext']);
  });

  it('gives one session the same order on every call', () => {
    const weights = { 'cf-a': 0.2, 'cf-b': 0.5, 'cf-c': 0.3 };
    const first = rankPathways('session-42', weights);
    for (let i = 0; i < 20; i++) expect(rankPathways('session-42', { ...weights })).toEqual(first);
  });

  it('does not depend on the key order of the weights object', () => {
    for (const sid of sessions(200)) {
      expect(rankPathways(sid, { 'cf-a': 0.2, 'cf-b': 0.5, 'cf-c': 0.3 })).toEqual(rankPathways(sid, { 'cf-c': 0.3, 'cf-a': 0.2, 'cf-b': 0.5 }));
    }
  });

  it('hands out first choices in proportion to the weights over 20k sessions', () => {
    // Prepare
    const weights = { 'cf-a': 0.6, 'cf-b': 0.3, 'cf-c': 0.1 };
    // Act
    const shares = firstChoiceShares(weights, sessions(20_000));
    // Assess: binomial sd at n=20k is <= 0.0035; 0.015 is > 4 sd.
    expect(shares['cf-a']).toBeCloseTo(0.6, 1);
    for (const [id, w] of Object.entries(weights)) expect(Math.abs(shares[id] - w)).toBeLessThan(0.015);
  });

  it('treats weights as relative (shares need not sum to 1)', () => {
    const sids = sessions(20_000);
    const shares = firstChoiceShares({ 'cf-a': 3, 'cf-b': 1 }, sids);
    expect(Math.abs(shares['cf-a'] - 0.75)).toBeLessThan(0.015);
  });

  it('puts zero-weight pathways last, still listed as failover', () => {
    for (const sid of sessions(500)) {
      const ranked = rankPathways(sid, { 'cf-a': 0, 'cf-b': 0.7, 'cf-c': 0.3, ext: Number.NaN });
      expect(ranked.slice(0, 2).sort()).toEqual(['cf-b', 'cf-c']);
      expect(ranked.slice(2).sort()).toEqual(['cf-a', 'ext']);
    }
  });

  it('spreads the failover order evenly among zero-weight pathways', () => {
    const shares = firstChoiceShares({ 'cf-a': 0, 'cf-b': 0 }, sessions(20_000));
    expect(Math.abs(shares['cf-a'] - 0.5)).toBeLessThan(0.015);
  });

  it('moves sessions only to or from the pathway whose weight changed', () => {
    // Prepare
    const before = { 'cf-a': 0.4, 'cf-b': 0.35, 'cf-c': 0.25 };
    const after = { ...before, 'cf-b': 0.1 };
    const sids = sessions(20_000);
    // Act
    const moved = sids
      .map((sid) => [rankPathways(sid, before)[0], rankPathways(sid, after)[0]] as const)
      .filter(([from, to]) => from !== to);
    // Assess: every change involves cf-b, and only as a loss (its weight fell).
    expect(moved.length).toBeGreaterThan(0);
    for (const [from, to] of moved) {
      expect(from).toBe('cf-b');
      expect(to).not.toBe('cf-b');
    }
    // Minimal churn: about the share cf-b lost (0.35/1.0 -> 0.1/0.75), not a reshuffle.
    const expectedLoss = 0.35 - 0.1 / 0.75;
    expect(Math.abs(moved.length / sids.length - expectedLoss)).toBeLessThan(0.02);
  });

  it('keeps the relative order of the other pathways when one pathway is removed', () => {
    for (const sid of sessions(1000)) {
      const full = rankPathways(sid, { 'cf-a': 0.4, 'cf-b': 0.35, 'cf-c': 0.25 });
      const without = rankPathways(sid, { 'cf-a': 0.4, 'cf-c': 0.25 });
      expect(without).toEqual(full.filter((id) => id !== 'cf-b'));
    }
  });

  it('returns an empty list for no pathways', () => {
    expect(rankPathways('s', {})).toEqual([]);
  });
});
