import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../bench/reaction/scenarios';

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
