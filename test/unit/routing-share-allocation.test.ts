import { describe, expect, it } from 'vitest';
import { fillShares } from '../../core/routing/share-allocation';

describe('fillShares', () => {
  it('keeps every share within its floor and cap and sums to the total', () => {
    const shares = fillShares(
      new Map([['a', 100], ['b', 1], ['c', 0.001]]),
      new Map([['a', { lo: 0.05, hi: 0.5 }], ['b', { lo: 0.05, hi: 1 }], ['c', { lo: 0.05, hi: 1 }]]),
    );

    expect(shares.get('a')).toBeCloseTo(0.5, 9);
    expect(shares.get('b')).toBeCloseTo(0.45, 9);
    expect(shares.get('c')).toBeCloseTo(0.05, 9);
  });

  it('scales the caps up proportionally when they cannot hold all the traffic', () => {
    const shares = fillShares(new Map([['a', 1], ['b', 1]]), new Map([['a', { lo: 0, hi: 0.2 }], ['b', { lo: 0, hi: 0.3 }]]));

    expect(shares.get('a')).toBeCloseTo(0.4, 9);
    expect(shares.get('b')).toBeCloseTo(0.6, 9);
  });
});
