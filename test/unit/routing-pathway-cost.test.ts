import { describe, expect, it } from 'vitest';
import { DEFAULT_SCORING_PARAMS } from '../../core/routing/scoring-params';
import { measureWindow, wilsonLowerBound, wilsonUpperBound } from '../../core/routing/pathway-cost';
import { emptyWindowCounters, type WindowCounters } from '../../core/routing/rollup-windows';
import { describeCost } from '../../core/routing/weights-reason';

describe('Wilson bounds', () => {
  it('keeps a small noisy cell far below its observed rate, a large one close to it', () => {
    expect(wilsonLowerBound(5, 10, 3)).toBeLessThan(0.2);
    expect(wilsonLowerBound(240, 1200, 3)).toBeGreaterThan(0.16);
    expect(wilsonUpperBound(0, 10, 3)).toBeGreaterThan(0.4);
    expect(wilsonUpperBound(0, 10_000, 3)).toBeLessThan(0.001);
  });
});

const counters = (overrides: Partial<WindowCounters>): WindowCounters => ({ ...emptyWindowCounters(), requests: 500, reports: 100, ...overrides });

describe('measureWindow: only significant differences between pathways cost anything', () => {
  const p = DEFAULT_SCORING_PARAMS;

  it('costs nothing when every pathway fails equally often (equal degradation)', () => {
    const measured = measureWindow(
      new Map([
        ['cf-a', counters({ requests: 2000, errors: 400 })],
        ['cf-b', counters({ requests: 2000, errors: 430 })],
        ['cf-c', counters({ requests: 2000, errors: 380 })],
      ]),
      p,
    );

    for (const m of measured.values()) expect(m.cost).toBe(0);
  });

  it('costs a pathway whose error rate is significantly above its peers, and marks a large excess as a spike', () => {
    const measured = measureWindow(
      new Map([
        ['cf-a', counters({ requests: 2000, errors: 2 })],
        ['cf-b', counters({ requests: 2000, errors: 400 })],
      ]),
      p,
    );

    expect(measured.get('cf-a')!.cost).toBe(0);
    expect(measured.get('cf-b')!.cost).toBeGreaterThan(5);
    expect(measured.get('cf-b')!.spike).toBe(true);
    expect(describeCost(measured.get('cf-b')!)).toBe('error rate 20% over 2,000 requests vs 0.1%');
  });

  it('counts errors over distinct sessions when the rollups carry them', () => {
    // 3 of 40 sessions saw an error on cf-b, 1 of 40 on cf-a: noise at this size (the CDN logged one 5xx each).
    const measured = measureWindow(
      new Map([
        ['cf-a', counters({ sessions: 40, errorSessions: 1, requests: 3000, errors: 1 })],
        ['cf-b', counters({ sessions: 40, errorSessions: 3, requests: 3000, errors: 1 })],
      ]),
      p,
    );

    expect(measured.get('cf-b')!.rateUnit).toBe('sessions');
    expect(measured.get('cf-b')!.cost).toBe(0);
  });

  it('does not trust a cell below the session quorum however many requests it has', () => {
    const measured = measureWindow(
      new Map([
        ['cf-a', counters({ sessions: 20, requests: 3000 })],
        ['cf-b', counters({ sessions: p.minSessions - 1, errorSessions: p.minSessions - 1, requests: 3000, errors: 3000 })],
      ]),
      p,
    );

    expect(measured.has('cf-b')).toBe(false);
  });

  it('does not compare the other components with a failing peer: its leaving sessions stall elsewhere', () => {
    // cf-a's sessions failed over from cf-b and stalled doing so; cf-b's own sessions left before reporting.
    const measured = measureWindow(
      new Map([
        ['cf-a', counters({ sessions: 300, stallSessions: 60, errorSessions: 3 })],
        ['cf-b', counters({ sessions: 300, stallSessions: 0, errorSessions: 290 })],
        ['cf-c', counters({ sessions: 300, stallSessions: 55, errorSessions: 2 })],
      ]),
      p,
    );

    expect(measured.get('cf-a')!.cost).toBe(0);
    expect(measured.get('cf-c')!.cost).toBe(0);
    expect(measured.get('cf-b')!.cost).toBe(p.maxCost);
  });

  it('costs a halved throughput only once the difference is beyond the confidence bound of both means', () => {
    const withSessions = (sessions: number) =>
      measureWindow(
        new Map([
          ['cf-a', counters({ sessions, throughputKbpsSum: 3000 * 5000, throughputCount: 3000 })],
          ['cf-b', counters({ sessions, throughputKbpsSum: 3000 * 2500, throughputCount: 3000 })],
        ]),
        p,
      ).get('cf-b')!;

    // Few sessions: one doubling is within z = 3 standard errors of an assumed one-doubling spread.
    expect(withSessions(10).components.throughput).toBe(0);
    const many = withSessions(1000);
    const se = p.relativeSpread * Math.sqrt(2 / 1000);
    expect(many.components.throughput).toBeCloseTo((1 - p.confidenceZ * se - p.relativeDeadband) * p.throughputWeight, 6);
    expect(describeCost(many)).toBe('throughput 2,500 kbps vs best 5,000 kbps');
  });
});

describe('measureWindow: TTFB compares like with like', () => {
  const p = { ...DEFAULT_SCORING_PARAMS, playerTtfbWeight: 0.5 };

  it("does not cost a healed pathway whose only TTFB is player-measured against another pathway's edge TTFB near 0 ms", () => {
    const measured = measureWindow(
      new Map([
        ['cf-a', counters({ edgeTtfbMsSum: 0, edgeTtfbCount: 500, playerTtfbMsSum: 100 * 150, playerTtfbCount: 100 })],
        ['cf-b', counters({ playerTtfbMsSum: 100 * 165, playerTtfbCount: 100 })],
      ]),
      p,
    );

    expect(measured.get('cf-b')!.components.ttfb).toBe(0);
    expect(measured.get('cf-b')!.cost).toBe(0);
  });

  it('costs a pathway whose players see several times the TTFB other players see, when player TTFB is weighted', () => {
    const measured = measureWindow(
      new Map([
        ['cf-a', counters({ playerTtfbMsSum: 100 * 100, playerTtfbCount: 100 })],
        ['cf-b', counters({ playerTtfbMsSum: 100 * 800, playerTtfbCount: 100 })],
      ]),
      p,
    );

    const se = p.relativeSpread * Math.sqrt(2 / 100);
    expect(measured.get('cf-a')!.components.ttfb).toBe(0);
    expect(measured.get('cf-b')!.components.ttfb).toBeCloseTo((Math.log2(8) - p.confidenceZ * se - p.relativeDeadband) * p.playerTtfbWeight, 6);
    expect(describeCost(measured.get('cf-b')!)).toBe('player TTFB 800 ms vs best 100 ms');
  });

  it('ignores player-claimed TTFB and startup by default: a few sessions can claim anything', () => {
    const measured = measureWindow(
      new Map([
        ['cf-a', counters({ playerTtfbMsSum: 100 * 100, playerTtfbCount: 100, startupMsSum: 50 * 1000, startupCount: 50 })],
        ['cf-b', counters({ playerTtfbMsSum: 100 * 60_000, playerTtfbCount: 100, startupMsSum: 50 * 600_000, startupCount: 50 })],
      ]),
      DEFAULT_SCORING_PARAMS,
    );

    expect(measured.get('cf-b')!.cost).toBe(0);
  });

  it('costs the edge TTFB, the CDN’s own measurement', () => {
    const measured = measureWindow(
      new Map([
        ['cf-a', counters({ edgeTtfbMsSum: 500 * 50, edgeTtfbCount: 500, playerTtfbMsSum: 100 * 100, playerTtfbCount: 100 })],
        ['cf-b', counters({ edgeTtfbMsSum: 500 * 400, edgeTtfbCount: 500, playerTtfbMsSum: 100 * 100, playerTtfbCount: 100 })],
      ]),
      p,
    );

    // n is the player reports (100), the stand-in for sessions in rollups without distinct counts.
    const se = p.relativeSpread * Math.sqrt(2 / 100);
    expect(measured.get('cf-b')!.components.ttfb).toBeCloseTo((Math.log2(400 / 50) - p.confidenceZ * se - p.relativeDeadband) * p.ttfbWeight, 6);
    expect(describeCost(measured.get('cf-b')!)).toBe('edge TTFB 400 ms vs best 50 ms');
  });
});
