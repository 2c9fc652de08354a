import { describe, expect, it } from 'vitest';
import type { QoeCounters } from '../../core/qoe-types';
import { emptyCounters } from '../../core/qoe-aggregate';
import { DEFAULT_SCORING_PARAMS } from '../../core/routing/scoring-params';
import { measureWindow, wilsonLowerBound } from '../../core/routing/pathway-cost';
import { describeCost } from '../../core/routing/weights-reason';

describe('wilsonLowerBound', () => {
  it('keeps a small noisy cell far below its observed rate', () => {
    expect(wilsonLowerBound(5, 10, 3)).toBeLessThan(0.2);
    expect(wilsonLowerBound(240, 1200, 3)).toBeGreaterThan(0.16);
  });
});

describe('measureWindow: TTFB compares like with like', () => {
  const p = DEFAULT_SCORING_PARAMS;
  const counters = (overrides: Partial<QoeCounters>): QoeCounters => ({ ...emptyCounters(), requests: 500, reports: 100, ...overrides });

  it('does not cost a healed pathway whose only TTFB is player-measured against another pathway\'s edge TTFB near 0 ms', () => {
    // Prepare: cf-a serves cache hits (edge TTFB ≈ 0 ms) and its players see 150 ms; cf-b is healed, its
    // few CDN log lines carry no TTFB yet, its players also see 150 ms. The bug this pins compared 150 with 0.
    const measured = measureWindow(
      new Map([
        ['cf-a', counters({ edgeTtfbMsSum: 0, edgeTtfbCount: 500, playerTtfbMsSum: 100 * 150, playerTtfbCount: 100 })],
        ['cf-b', counters({ playerTtfbMsSum: 100 * 165, playerTtfbCount: 100 })],
      ]),
      p,
    );

    // Assess
    expect(measured.get('cf-b')!.components.ttfb).toBe(0);
    expect(measured.get('cf-b')!.cost).toBe(0);
  });

  it('costs a pathway whose players see several times the TTFB other players see', () => {
    const measured = measureWindow(
      new Map([
        ['cf-a', counters({ playerTtfbMsSum: 100 * 100, playerTtfbCount: 100 })],
        ['cf-b', counters({ playerTtfbMsSum: 100 * 800, playerTtfbCount: 100 })],
      ]),
      p,
    );

    expect(measured.get('cf-a')!.components.ttfb).toBe(0);
    expect(measured.get('cf-b')!.components.ttfb).toBeCloseTo((Math.log2(8) - p.relativeDeadband) * p.ttfbWeight, 6);
    expect(describeCost(measured.get('cf-b')!)).toBe('player TTFB 800 ms vs best 100 ms');
  });

  it('costs the worse of the two signals when both are present', () => {
    const measured = measureWindow(
      new Map([
        ['cf-a', counters({ edgeTtfbMsSum: 500 * 50, edgeTtfbCount: 500, playerTtfbMsSum: 100 * 100, playerTtfbCount: 100 })],
        ['cf-b', counters({ edgeTtfbMsSum: 500 * 400, edgeTtfbCount: 500, playerTtfbMsSum: 100 * 100, playerTtfbCount: 100 })],
      ]),
      p,
    );

    expect(measured.get('cf-b')!.components.ttfb).toBeCloseTo((Math.log2(400 / 50) - p.relativeDeadband) * p.ttfbWeight, 6);
    expect(describeCost(measured.get('cf-b')!)).toBe('edge TTFB 400 ms vs best 50 ms');
  });
});
