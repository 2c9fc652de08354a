import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../bench/reaction/scenarios';
import { deliveredKbps } from '../../bench/reaction/world';

/**
 * Issue 9's reaction scenarios on a small world (bench/reaction/scenarios.ts; the full table comes from
 * `npm run bench -- reaction`). Outcomes only: whether each target is met, never how long the run took.
 * The small world is small in what it simulates — about 165 viewers for 6 to 8 minutes, faults from the
 * second minute, the hostile target at its proportion (1 hostile session per 140 DE viewers) — so each
 * case is a fraction of a second of work, whatever else the machine runs.
 */
const scenario = (name: string) => SCENARIOS.find((s) => s.name === name)!;
const SEED = 7;

describe('reaction scenarios on a small world (real aggregation, controller and steering)', () => {
  it.each(['one-country outage', 'equal degradation', 'hostile sessions'])('%s meets its target', (name) => {
    const result = scenario(name).run('small', SEED);

    expect(result.pass, `${result.name}: ${result.measured} (target: ${result.target})`).toBe(true);
  });
});

describe('the reaction world’s CDN capacity (ADR 0099)', () => {
  // The world's one rendition (bench/reaction/world.ts BITRATE_KBPS).
  const RENDITION_KBPS = 3000;

  it('gives a request the CDN’s per-connection rate up to capacity', () => {
    expect(deliveredKbps(1, 1, 1)).toBe(deliveredKbps(1, 0.5, 1));
    expect(deliveredKbps(1, 1, 1)).toBeGreaterThan(RENDITION_KBPS);
    expect(deliveredKbps(0.5, 1, 1)).toBe(deliveredKbps(1, 1, 1) / 2);
  });

  it('never delivers more than capacity: past it the sessions share capacity × the rendition’s bitrate', () => {
    for (const overload of [1.05, 1.3, 1.5, 2, 4]) {
      const sessionsPerCapacity = overload;
      expect(deliveredKbps(1, overload, 1) * sessionsPerCapacity).toBeCloseTo(RENDITION_KBPS, 6);
    }
  });

  it('leaves a saturated CDN’s sessions below the bitrate they play, so their segments arrive late (stalls)', () => {
    expect(deliveredKbps(1, 1.05, 1)).toBeLessThan(RENDITION_KBPS);
  });
});
