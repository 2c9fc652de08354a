import { describe, expect, it } from 'vitest';
import type { QoeCounters, QoeRollup } from '../../core/qoe-types';
import { emptyCounters } from '../../core/qoe-aggregate';
import type { PathwayEntry } from '../../core/routing-types';
import { DEFAULT_SCORING_PARAMS } from '../../core/routing/scoring-params';
import type { ScopeState } from '../../core/routing/controller-state';
import type { ScopeDecision } from '../../core/routing/scope-decision';
import { computeRoutingWeights } from '../../core/routing/weights-controller';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);
const registry = (overrides: Partial<Record<string, Partial<PathwayEntry>>> = {}): PathwayEntry[] =>
  ['cf-a', 'cf-b', 'cf-c'].map((id) => ({ id, host: `${id}.example.net`, enabled: true, cap: 1, ...overrides[id] }));

/** A healthy minute of one cell: 1,200 requests, no errors, 3 Mbps, 80 ms TTFB, 10 min played. */
function cell(pathway: string, country: string, minute: number, overrides: Partial<QoeCounters> = {}): QoeRollup {
  return {
    ...emptyCounters(),
    requests: 1200,
    bytes: 1200 * 2_000_000,
    edgeTtfbMsSum: 1200 * 80,
    edgeTtfbCount: 1200,
    playerTtfbMsSum: 60 * 150,
    playerTtfbCount: 60,
    throughputKbpsSum: 1200 * 3000,
    throughputCount: 1200,
    playMs: 600_000,
    startupMsSum: 20 * 900,
    startupCount: 20,
    reports: 60,
    ...overrides,
    pathway,
    country,
    minute,
  };
}

function healthyMinutes(now: number, countries = ['DE', 'US']): QoeRollup[] {
  const current = Math.floor(now / MINUTE) * MINUTE;
  return countries.flatMap((c) => ['cf-a', 'cf-b', 'cf-c'].flatMap((p) => [cell(p, c, current - MINUTE), cell(p, c, current)]));
}

const stateOf = (decisions: readonly ScopeDecision[], previous = new Map<string, ScopeState>()): Map<string, ScopeState> => {
  const next = new Map(previous);
  for (const d of decisions) if (d.changed) next.set(d.scope, { weights: d.weights, control: d.control });
  else next.set(d.scope, { weights: previous.get(d.scope)?.weights ?? d.weights, control: d.control });
  return next;
};
const scope = (decisions: readonly ScopeDecision[], name: string): ScopeDecision => decisions.find((d) => d.scope === name)!;
const equalState = (): ScopeState => ({
  weights: { 'cf-a': 1 / 3, 'cf-b': 1 / 3, 'cf-c': 1 / 3 },
  control: {},
});

describe('computeRoutingWeights', () => {
  it('publishes equal shares when there is no QoE data at all (fail safe)', () => {
    // Prepare / Act
    const decisions = computeRoutingWeights({ pathways: registry(), rollups: [], previous: new Map(), now: T0 });

    // Assess
    expect(decisions.map((d) => d.scope)).toEqual(['*']);
    expect(decisions[0].weights).toEqual({ 'cf-a': 0.3334, 'cf-b': 0.3333, 'cf-c': 0.3333 });
    expect(decisions[0].changed).toBe(true);
    expect(decisions[0].reason).toMatch(/^no trusted QoE data globally/);
  });

  it('holds the last weights when the data stops (telemetry outage)', () => {
    const previous = new Map([['*', { weights: { 'cf-a': 0.6, 'cf-b': 0.2, 'cf-c': 0.2 }, control: {} }]]);

    const [global] = computeRoutingWeights({ pathways: registry(), rollups: [], previous, now: T0 });

    expect(global.changed).toBe(false);
    expect(global.reason).toBe('no trusted QoE data globally; holding the last weights');
  });

  it('demotes a pathway whose error rate spikes to the exploration floor in one tick, with a readable reason', () => {
    const now = T0 + 30_000;
    const rollups = healthyMinutes(now).map((r) =>
      r.pathway === 'cf-b' && r.country === 'DE' && r.minute === T0 ? { ...r, errors: 240 } : r,
    );
    const previous = new Map([['DE', equalState()], ['*', equalState()]]);

    const decisions = computeRoutingWeights({ pathways: registry(), rollups, previous, now });

    const de = scope(decisions, 'DE');
    expect(de.spikes).toEqual(['cf-b']);
    expect(de.weights['cf-b']).toBe(DEFAULT_SCORING_PARAMS.explorationFloor);
    expect(de.weights['cf-a'] + de.weights['cf-b'] + de.weights['cf-c']).toBeCloseTo(1, 9);
    // The fresh window at 12:00:30: the current half minute and the last half of the previous one.
    expect(de.reason).toMatch(/^cf-b error rate 13% over 1,800 requests vs 0\.0% in DE; demoted 0\.33 → 0\.03/);
    expect(scope(decisions, 'US').weights['cf-b']).toBeGreaterThan(0.3);
  });

  it('lets a recovered pathway regain its share gradually once its errors are gone', () => {
    const demoted: ScopeState = {
      weights: { 'cf-a': 0.485, 'cf-b': 0.03, 'cf-c': 0.485 },
      control: { 'cf-b': { cost: 10, direction: 1, changedAt: T0 - 600_000 } },
    };
    let previous = new Map([['DE', demoted], ['*', equalState()]]);
    const shares: number[] = [];

    for (let tick = 0; tick < 36; tick++) {
      const now = T0 + tick * 10_000;
      const decisions = computeRoutingWeights({ pathways: registry(), rollups: healthyMinutes(now, ['DE']), previous, now });
      previous = stateOf(decisions, previous);
      shares.push(previous.get('DE')!.weights['cf-b']);
    }

    expect(shares[0]).toBeGreaterThan(0.03);
    for (let i = 1; i < shares.length; i++) expect(shares[i]).toBeGreaterThanOrEqual(shares[i - 1]);
    expect(shares.at(-1)).toBeCloseTo(1 / 3, 3);
  });

  it('lets a demoted pathway earn probe traffic back when too few viewers remain to measure it', () => {
    // Prepare: cf-b was demoted for errors in DE; afterwards only cf-a and cf-c have trusted cells there and
    // globally (cf-b's 3 % of a small audience is no sample at all).
    const demoted: ScopeState = {
      weights: { 'cf-a': 0.485, 'cf-b': 0.03, 'cf-c': 0.485 },
      control: { 'cf-b': { cost: 10, direction: -1, changedAt: T0 - 600_000 } },
    };
    let previous = new Map([['DE', demoted], ['*', demoted]]);
    const withoutCfB = (now: number) => healthyMinutes(now, ['DE']).filter((r) => r.pathway !== 'cf-b');
    const params = { unmeasuredCostHalfLifeSeconds: 20 };
    const shares: number[] = [];

    // Act: five minutes of ticks without evidence about cf-b
    for (let tick = 0; tick < 30; tick++) {
      const now = T0 + tick * 10_000;
      const decisions = computeRoutingWeights({ pathways: registry(), rollups: withoutCfB(now), previous, now, params });
      previous = stateOf(decisions, previous);
      shares.push(previous.get('DE')!.weights['cf-b']);
    }

    // Assess: it climbs steadily and ends close to an equal share
    for (let i = 1; i < shares.length; i++) expect(shares[i]).toBeGreaterThanOrEqual(shares[i - 1]);
    expect(shares[10]).toBeGreaterThan(0.03);
    expect(shares.at(-1)).toBeGreaterThan(0.3);
    expect(previous.get('DE')!.control['cf-b']!.cost).toBe(0);
  });

  it('demotes a probed pathway again at once when the probe traffic still fails', () => {
    // Prepare: cf-b's cost has faded and it is half-way back; its cell now shows errors again
    const halfWay: ScopeState = {
      weights: { 'cf-a': 0.4, 'cf-b': 0.2, 'cf-c': 0.4 },
      control: { 'cf-b': { cost: 0.5, direction: 1, changedAt: T0 - 60_000 } },
    };
    const now = T0 + 30_000;
    const rollups = healthyMinutes(now, ['DE']).map((r) => (r.pathway === 'cf-b' ? { ...r, errors: 240 } : r));

    // Act
    const de = scope(computeRoutingWeights({ pathways: registry(), rollups, previous: new Map([['DE', halfWay]]), now }), 'DE');

    // Assess
    expect(de.spikes).toEqual(['cf-b']);
    expect(de.weights['cf-b']).toBe(DEFAULT_SCORING_PARAMS.explorationFloor);
  });

  it('keeps the cost of a pathway that is measured, however long ago it changed', () => {
    const demoted: ScopeState = {
      weights: { 'cf-a': 0.485, 'cf-b': 0.03, 'cf-c': 0.485 },
      control: { 'cf-b': { cost: 10, direction: -1, changedAt: T0 - 600_000 } },
    };
    const rollups = healthyMinutes(T0, ['DE']).map((r) => (r.pathway === 'cf-b' ? { ...r, errors: 600 } : r));

    const de = scope(computeRoutingWeights({ pathways: registry(), rollups, previous: new Map([['DE', demoted]]), now: T0 }), 'DE');

    expect(de.control['cf-b']!.cost).toBe(DEFAULT_SCORING_PARAMS.maxCost);
  });

  it('explains a recovery as such', () => {
    const previous = new Map([
      ['DE', { weights: { 'cf-a': 0.485, 'cf-b': 0.03, 'cf-c': 0.485 }, control: { 'cf-b': { cost: 10, direction: 1 as const, changedAt: T0 - 600_000 } } }],
    ]);

    const de = scope(computeRoutingWeights({ pathways: registry(), rollups: healthyMinutes(T0, ['DE']), previous, now: T0 }), 'DE');

    expect(de.reason).toMatch(/^cf-b recovered, error rate 0\.0% over 1,200 requests in DE; promoted 0\.03 → 0\.\d\d \(target 0\.33\)/);
  });

  it('does not promote a pathway again within the reversal hold after it was demoted for cause', () => {
    const previous = new Map([
      [
        'DE',
        {
          weights: { 'cf-a': 0.485, 'cf-b': 0.03, 'cf-c': 0.485 },
          control: { 'cf-b': { cost: 10, direction: 1 as const, changedAt: T0 - 60_000, localFailure: true } },
        },
      ],
    ]);

    const de = scope(computeRoutingWeights({ pathways: registry(), rollups: healthyMinutes(T0, ['DE']), previous, now: T0 }), 'DE');

    expect(de.changed).toBe(false);
    expect(de.reason).toBe('cf-b demoted too recently in DE to be promoted yet; holding');
    expect(de.control['cf-b']).toMatchObject({ cost: 10, localFailure: true });
  });

  it('does not move weights for a noisy cell below the minimum sample count', () => {
    const now = T0 + 30_000;
    const rollups = [
      ...healthyMinutes(now, ['US']),
      cell('cf-a', 'DE', T0, { requests: 30, reports: 2 }),
      cell('cf-b', 'DE', T0, { requests: 30, reports: 2, errors: 3 }),
      cell('cf-c', 'DE', T0, { requests: 30, reports: 2 }),
    ];
    const previous = new Map([['DE', equalState()], ['*', equalState()]]);

    const de = scope(computeRoutingWeights({ pathways: registry(), rollups, previous, now }), 'DE');

    expect(de.changed).toBe(false);
    expect(de.spikes).toEqual([]);
  });

  it('demotes a pathway whose throughput halved below 10% within a minute of ticks, not at once', () => {
    let previous = new Map([['*', equalState()]]);
    const shares: number[] = [];
    for (let tick = 0; tick < 6; tick++) {
      const now = T0 + tick * 10_000;
      const rollups = healthyMinutes(now, ['US']).map((r) => ({ ...r, reports: 600, ...(r.pathway === 'cf-a' ? { throughputKbpsSum: r.throughputCount * 1500 } : {}) }));
      const decisions = computeRoutingWeights({ pathways: registry(), rollups, previous, now });
      previous = stateOf(decisions, previous);
      shares.push(previous.get('*')!.weights['cf-a']);
    }

    expect(shares[0]).toBeGreaterThan(0.1);
    expect(shares.at(-1)).toBeLessThan(0.1);
    const first = computeRoutingWeights({
      pathways: registry(),
      rollups: healthyMinutes(T0, ['US']).map((r) => ({ ...r, reports: 600, ...(r.pathway === 'cf-a' ? { throughputKbpsSum: r.throughputCount * 1500 } : {}) })),
      previous: new Map([['*', equalState()]]),
      now: T0,
    });
    expect(first[0].reason).toMatch(/^cf-a throughput 1,500 kbps vs best 3,000 kbps globally; demoted 0\.33 → 0\.\d\d \(target 0\.0\d\)/);
  });

  it('honours capacity caps, also when another pathway is demoted', () => {
    const now = T0 + 30_000;
    const rollups = healthyMinutes(now, ['DE']).map((r) => (r.pathway === 'cf-b' && r.minute === T0 ? { ...r, errors: 600 } : r));

    const decisions = computeRoutingWeights({
      pathways: registry({ 'cf-a': { cap: 0.2 } }),
      rollups,
      previous: new Map(),
      now,
    });

    const de = scope(decisions, 'DE');
    expect(de.weights['cf-a']).toBeLessThanOrEqual(0.2);
    expect(de.weights['cf-b']).toBe(0.03);
    expect(de.weights['cf-c']).toBeCloseTo(0.77, 2);
  });

  it('gives disabled pathways a weight of 0 at once', () => {
    const decisions = computeRoutingWeights({
      pathways: registry({ 'cf-c': { enabled: false } }),
      rollups: healthyMinutes(T0, ['DE']),
      previous: new Map([['*', equalState()]]),
      now: T0,
    });

    expect(scope(decisions, '*').weights).toEqual({ 'cf-a': 0.5, 'cf-b': 0.5, 'cf-c': 0 });
  });

  it('does not flap under steady, noisy conditions: at most one direction change per pathway per 5 minutes', () => {
    // Seeded noise: throughput ±15%, TTFB ±20%, error rate 0-0.8% per cell and minute.
    let seed = 42;
    const random = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const noisyMinute = (minute: number): QoeRollup[] =>
      ['DE', 'US'].flatMap((c) =>
        ['cf-a', 'cf-b', 'cf-c'].map((p) =>
          cell(p, c, minute, {
            errors: Math.round(1200 * 0.008 * random()),
            throughputKbpsSum: 1200 * 3000 * (0.85 + 0.3 * random()),
            edgeTtfbMsSum: 1200 * 80 * (0.8 + 0.4 * random()),
          }),
        ),
      );
    const minutes = new Map<number, QoeRollup[]>();
    let previous = new Map<string, ScopeState>();
    const history = new Map<string, number[]>();

    for (let tick = 0; tick < 180; tick++) {
      const now = T0 + tick * 10_000;
      const current = Math.floor(now / MINUTE) * MINUTE;
      for (const m of [current - MINUTE, current]) if (!minutes.has(m)) minutes.set(m, noisyMinute(m));
      const decisions = computeRoutingWeights({ pathways: registry(), rollups: [...minutes.get(current - MINUTE)!, ...minutes.get(current)!], previous, now });
      previous = stateOf(decisions, previous);
      for (const [s, state] of previous) for (const [p, w] of Object.entries(state.weights)) history.set(`${s}/${p}`, [...(history.get(`${s}/${p}`) ?? []), w]);
    }

    for (const [key, series] of history) {
      const reversals: number[] = [];
      let last = 0;
      for (let i = 1; i < series.length; i++) {
        const d = Math.sign(series[i] - series[i - 1]);
        if (d !== 0 && last !== 0 && d !== last) reversals.push(i);
        if (d !== 0) last = d;
      }
      // Any 5 minutes (30 ticks of 10 s) hold at most one reversal.
      for (const at of reversals) expect(reversals.filter((r) => r >= at && r < at + 30).length, key).toBeLessThanOrEqual(1);
    }
  });
});
