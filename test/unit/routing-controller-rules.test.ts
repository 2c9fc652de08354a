import { describe, expect, it } from 'vitest';
import { emptyCounters } from '../../core/qoe-aggregate';
import type { PathwayEntry } from '../../core/routing-types';
import { DEFAULT_SCORING_PARAMS } from '../../core/routing/scoring-params';
import type { ScopeState } from '../../core/routing/controller-state';
import type { ScopeDecision } from '../../core/routing/scope-decision';
import { summariseRollups, windowMinutesAt, type ScoredRollup } from '../../core/routing/rollup-windows';
import { computeRoutingWeights } from '../../core/routing/weights-controller';
import { regionOf } from '../../core/routing/country-regions';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 11, 2, 12, 0, 0);
const PATHWAYS = ['cf-a', 'cf-b', 'cf-c'];
const registry: PathwayEntry[] = PATHWAYS.map((id) => ({ id, host: `${id}.example.net`, enabled: true, cap: 1 }));
const p = DEFAULT_SCORING_PARAMS;

/** One cell-minute with `sessions` distinct sessions, 15 requests each, `failing` of them saw one 5xx. */
function cell(pathway: string, country: string, minute: number, sessions: number, failing = 0, overrides: Partial<ScoredRollup> = {}): ScoredRollup {
  return {
    ...emptyCounters(),
    requests: sessions * 15,
    errors: failing,
    edgeTtfbMsSum: sessions * 15 * 30,
    edgeTtfbCount: sessions * 15,
    throughputKbpsSum: sessions * 15 * 6000,
    throughputCount: sessions * 15,
    reports: sessions * 6,
    sessions,
    errorSessions: failing,
    stallSessions: 0,
    networks: Math.min(sessions, 5),
    ...overrides,
    pathway,
    country,
    minute,
  };
}

/** Every minute of the window around `now`, each pathway with `sessions` per country unless `override` says otherwise. */
function world(now: number, audience: Record<string, number>, override: (pathway: string, country: string, minute: number) => ScoredRollup | undefined = () => undefined): ScoredRollup[] {
  const minutes = windowMinutesAt(now, p).filter((m) => m <= now);
  return minutes.flatMap((minute) =>
    Object.entries(audience).flatMap(([country, sessions]) => PATHWAYS.map((pathway) => override(pathway, country, minute) ?? cell(pathway, country, minute, sessions))),
  );
}

const scope = (decisions: readonly ScopeDecision[], name: string) => decisions.find((d) => d.scope === name)!;
const stateOf = (decisions: readonly ScopeDecision[], previous: ReadonlyMap<string, ScopeState>): Map<string, ScopeState> => {
  const next = new Map(previous);
  for (const d of decisions) next.set(d.scope, { weights: d.changed ? d.weights : (previous.get(d.scope)?.weights ?? d.weights), control: d.control });
  return next;
};
const equal = (): ScopeState => ({ weights: { 'cf-a': 1 / 3, 'cf-b': 1 / 3, 'cf-c': 1 / 3 }, control: {} });

/** Runs ticks 10 s apart from `from`, feeding each tick's decisions into the next. */
function run(from: number, ticks: number, rollupsAt: (now: number) => ScoredRollup[], previous: Map<string, ScopeState>, params = {}) {
  let state = previous;
  const history: ScopeDecision[][] = [];
  for (let i = 0; i < ticks; i++) {
    const now = from + i * 10_000;
    const decisions = computeRoutingWeights({ pathways: registry, rollups: rollupsAt(now), previous: state, now, params });
    state = stateOf(decisions, state);
    history.push(decisions);
  }
  return { state, history };
}

describe('the controller compares pathways in the same place', () => {
  it('moves nothing when every pathway degrades equally', () => {
    const now = T0 + 30_000;
    const rollups = world(now, { DE: 200, US: 300 }, (pathway, country, minute) => cell(pathway, country, minute, country === 'DE' ? 200 : 300, country === 'DE' ? 100 : 150));

    const decisions = computeRoutingWeights({ pathways: registry, rollups, previous: new Map([['DE', equal()], ['US', equal()], ['*', equal()]]), now });

    for (const d of decisions) expect(d.changed, d.scope).toBe(false);
    expect(scope(decisions, 'DE').spikes).toEqual([]);
  });

  it('keeps noise of ten viewers per cell inside the intervals', () => {
    // 2 of 10 sessions on cf-b saw an error this minute, none elsewhere: not a significant difference.
    const now = T0 + 30_000;
    const rollups = world(now, { JP: 10 }, (pathway, country, minute) => (pathway === 'cf-b' && minute === T0 ? cell(pathway, country, minute, 10, 2) : undefined));

    const jp = scope(computeRoutingWeights({ pathways: registry, rollups, previous: new Map([['JP', equal()]]), now }), 'JP');

    expect(jp.changed).toBe(false);
  });
});

describe('a country’s own evidence comes first', () => {
  it('keeps a CDN that failed in one country at or below the probe share after its players left, whatever other countries show', () => {
    // Prepare: cf-b demoted in DE on DE's own evidence; its DE cell is now a few sessions, everyone else is healthy.
    const demoted: ScopeState = {
      weights: { 'cf-a': 0.485, 'cf-b': 0.03, 'cf-c': 0.485 },
      control: { 'cf-b': { cost: 10, direction: 1, changedAt: T0 - 20 * MINUTE, localFailure: true } },
    };
    const rollupsAt = (now: number) => world(now, { DE: 300, US: 400, AT: 2, LU: 2 }, (pathway, country, minute) => (pathway === 'cf-b' && country === 'DE' ? cell(pathway, country, minute, 1, 1) : undefined));

    // Act: an hour of ticks without a quorum on cf-b in DE
    const { state } = run(T0, 360, rollupsAt, new Map([['DE', demoted]]));

    // Assess
    expect(state.get('DE')!.weights['cf-b']).toBeLessThanOrEqual(p.probeShare);
    expect(state.get('DE')!.control['cf-b']!.localFailure).toBe(true);
  });

  it('sends a local failure exactly the probe share once its hold is over and nothing shows it still failing', () => {
    // A tiny country: telemetry arrives, but no cell has a quorum, and no other country can lend evidence.
    const demoted: ScopeState = {
      weights: { 'cf-a': 0.485, 'cf-b': 0.03, 'cf-c': 0.485 },
      control: { 'cf-b': { cost: 10, direction: 1, changedAt: T0 - 20 * MINUTE, localFailure: true } },
    };
    const rollupsAt = (now: number) => world(now, { IS: 1 });

    const { state } = run(T0, 60, rollupsAt, new Map([['IS', demoted]]));

    expect(state.get('IS')!.weights['cf-b']).toBeCloseTo(p.probeShare, 2);
    expect(state.get('IS')!.control['cf-b']!.localFailure).toBe(true);
  });

  it('moves nothing while no telemetry reaches a scope at all (a return-path outage)', () => {
    const demoted: ScopeState = {
      weights: { 'cf-a': 0.485, 'cf-b': 0.03, 'cf-c': 0.485 },
      control: { 'cf-b': { cost: 10, direction: 1, changedAt: T0 - 20 * MINUTE, localFailure: true } },
    };

    const { state } = run(T0, 60, (now) => world(now, { US: 300 }), new Map([['IS', demoted]]));

    expect(state.get('IS')).toEqual(demoted);
  });

  it('re-admits it once fresh local evidence (its probe traffic) shows it healthy', () => {
    const demoted: ScopeState = {
      weights: { 'cf-a': 0.46, 'cf-b': 0.08, 'cf-c': 0.46 },
      control: { 'cf-b': { cost: 0, direction: 1, changedAt: T0 - 20 * MINUTE, localFailure: true } },
    };
    const rollupsAt = (now: number) => world(now, { DE: 300 }, (pathway, country, minute) => (pathway === 'cf-b' ? cell(pathway, country, minute, 40) : undefined));

    const { state } = run(T0, 60, rollupsAt, new Map([['DE', demoted]]));

    expect(state.get('DE')!.control['cf-b']!.localFailure).toBeUndefined();
    expect(state.get('DE')!.weights['cf-b']).toBeGreaterThan(0.3);
  });

  it('does not move a country that can compare on its own when another country fails', () => {
    const now = T0 + 30_000;
    const rollups = world(now, { DE: 300, AT: 40, US: 300 }, (pathway, country, minute) => (pathway === 'cf-b' && country === 'DE' ? cell(pathway, country, minute, 300, 300) : undefined));

    const decisions = computeRoutingWeights({ pathways: registry, rollups, previous: new Map([['AT', equal()], ['US', equal()], ['DE', equal()]]), now });

    expect(scope(decisions, 'DE').weights['cf-b']).toBe(p.explorationFloor);
    expect(scope(decisions, 'AT').changed).toBe(false);
    expect(scope(decisions, 'US').changed).toBe(false);
  });

  it('lets a thin country borrow its region’s pooled evidence to demote, naming the pool', () => {
    // LU, IS and MT are too small to compare on their own; cf-c fails in all three (a European outage).
    expect([regionOf('LU'), regionOf('IS'), regionOf('MT')]).toEqual(['EU', 'EU', 'EU']);
    const now = T0 + 30_000;
    const rollups = world(now, { LU: 1, IS: 1, MT: 1, US: 300 }, (pathway, country, minute) =>
      pathway === 'cf-c' && country !== 'US' ? cell(pathway, country, minute, 1, 1, { errors: 15 }) : undefined,
    );

    const lu = scope(computeRoutingWeights({ pathways: registry, rollups, previous: new Map([['LU', equal()]]), now }), 'LU');

    expect(lu.weights['cf-c']).toBeLessThan(0.1);
    expect(lu.reason).toContain('figures of the EU pool');
    expect(lu.control['cf-c']!.localFailure).toBeUndefined();
  });

  it('never lets borrowed health lift a local failure', () => {
    // cf-c failed on LU's own evidence; now LU has a single session on it and the pool looks healthy.
    const demoted: ScopeState = {
      weights: { 'cf-a': 0.485, 'cf-b': 0.485, 'cf-c': 0.03 },
      control: { 'cf-c': { cost: 10, direction: 1, changedAt: T0 - 20 * MINUTE, localFailure: true } },
    };
    const rollupsAt = (now: number) => world(now, { LU: 3, IS: 3, MT: 3 }, (pathway, country, minute) => (pathway === 'cf-c' && country === 'LU' ? cell(pathway, country, minute, 1) : undefined));

    const { history, state } = run(T0, 60, rollupsAt, new Map([['LU', demoted]]));

    expect(history.every((ds) => scope(ds, 'LU').weights['cf-c'] <= p.probeShare)).toBe(true);
    expect(state.get('LU')!.control['cf-c']!.localFailure).toBe(true);
  });
});

describe('holds belong to pathways moved for cause', () => {
  it('demotes at once a pathway that only grew because another one was demoted (a surge that saturates it)', () => {
    // cf-a grew when cf-b was demoted a minute ago; now cf-a fails.
    const previous: ScopeState = {
      weights: { 'cf-a': 0.485, 'cf-b': 0.03, 'cf-c': 0.485 },
      control: { 'cf-b': { cost: 10, direction: 1, changedAt: T0 - MINUTE, localFailure: true } },
    };
    const now = T0 + 30_000;
    const rollups = world(now, { DE: 300 }, (pathway, country, minute) =>
      pathway === 'cf-b' ? cell(pathway, country, minute, 2, 2) : pathway === 'cf-a' && minute === T0 ? cell(pathway, country, minute, 300, 120) : undefined,
    );

    const de = scope(computeRoutingWeights({ pathways: registry, rollups, previous: new Map([['DE', previous]]), now }), 'DE');

    expect(de.weights['cf-a']).toBeLessThan(0.1);
    expect(de.weights['cf-b']).toBeLessThanOrEqual(p.probeShare);
  });

  /**
   * What a CDN past its capacity shows (ADR 0099): its sessions share an egress that no longer carries the
   * rendition, so most of them stall and their measured throughput falls below the bitrate; TTFB rises and a
   * few requests are shed. `minute` is the minute the surge landed in.
   */
  const saturated = (pathway: string, country: string, minute: number): ScoredRollup =>
    cell(pathway, country, minute, 300, 3, { stallSessions: 210, throughputKbpsSum: 300 * 15 * 2300, edgeTtfbMsSum: 300 * 15 * 45 });
  // cf-c grew from a third to 0.485 when cf-b was demoted 30 s ago; the surge saturated it.
  const afterSurge = (control: ScopeState['control']): Map<string, ScopeState> =>
    new Map([['DE', { weights: { 'cf-a': 0.485, 'cf-b': 0.03, 'cf-c': 0.485 }, control: { 'cf-b': { cost: 10, direction: 1, changedAt: T0, localFailure: true }, ...control } }]]);
  const surgeRollups = (now: number) =>
    world(now, { DE: 300 }, (pathway, country, minute) =>
      pathway === 'cf-b' ? cell(pathway, country, minute, 2, 2) : pathway === 'cf-c' && minute >= T0 ? saturated(pathway, country, minute) : undefined,
    );

  it('starts demoting a pathway saturated by the traffic it received on the first tick its stalls show, without a spike', () => {
    const { history } = run(T0 + 30_000, 6, surgeRollups, afterSurge({}));

    const shares = history.map((ds) => scope(ds, 'DE').weights['cf-c']);
    // Not a spike: the load leaves it over a few ticks, not all at once onto the remaining pathway.
    expect(scope(history[0], 'DE').spikes).not.toContain('cf-c');
    expect(shares[0]).toBeLessThan(0.485 - 0.05);
    expect(shares[0]).toBeGreaterThan(0.1);
    expect(shares.at(-1)).toBeLessThan(0.1);
    expect(scope(history[0], 'DE').reason).toMatch(/cf-c stalls/);
  });

  it('demotes a saturated pathway whatever moved it before: a promotion a moment ago holds nothing', () => {
    // cf-c had just been re-admitted (promoted 20 s ago) when the surge arrived.
    const { history } = run(T0 + 30_000, 1, surgeRollups, afterSurge({ 'cf-c': { cost: 0, direction: -1, changedAt: T0 + 10_000 } }));

    expect(scope(history[0], 'DE').weights['cf-c']).toBeLessThan(0.485 - 0.05);
    expect(scope(history[0], 'DE').control['cf-c'].direction).toBe(1);
  });

  it('moves nothing when every pathway is saturated alike (no pathway to move the load to)', () => {
    const rollupsAt = (now: number) => world(now, { DE: 300 }, (pathway, country, minute) => (minute >= T0 ? saturated(pathway, country, minute) : undefined));

    const { history } = run(T0 + 30_000, 6, rollupsAt, new Map([['DE', equal()]]));

    for (const ds of history) for (const id of PATHWAYS) expect(scope(ds, 'DE').weights[id]).toBeCloseTo(1 / 3, 3);
  });

  it('demotes a brownout (slower, no errors) through smoothing rather than at once', () => {
    const rollupsAt = (now: number) =>
      world(now, { DE: 500 }, (pathway, country, minute) =>
        pathway === 'cf-a' ? cell(pathway, country, minute, 500, 0, { throughputKbpsSum: 500 * 15 * 3000, edgeTtfbMsSum: 500 * 15 * 90 }) : undefined,
      );

    const { history } = run(T0 + 30_000, 12, rollupsAt, new Map([['DE', equal()]]));

    const shares = history.map((ds) => scope(ds, 'DE').weights['cf-a']);
    expect(scope(history[0], 'DE').spikes).toEqual([]);
    expect(shares[0]).toBeGreaterThan(0.1);
    expect(shares.at(-1)).toBeLessThan(0.1);
  });
});

describe('windows: late records and skewed clocks still count, the partial minute is not scored raw', () => {
  it('reads records that landed minutes in the past and up to clockSkewMinutes in the future', () => {
    const now = T0 + 30_000;
    const summary = summariseRollups(
      [cell('cf-a', 'DE', T0 - 3 * MINUTE, 10), cell('cf-a', 'DE', T0 + 2 * MINUTE, 7), cell('cf-a', 'DE', T0 - 4 * MINUTE, 100), cell('cf-a', 'DE', T0 + 4 * MINUTE, 100)],
      now,
      p,
    );

    expect(summary.get('DE')!.get('cf-a')!.recent.sessions).toBe(17);
  });

  it('weighs the previous minute into the fresh window by the part of it that is still within the last 60 s', () => {
    const summary = summariseRollups([cell('cf-a', 'DE', T0 - MINUTE, 100), cell('cf-a', 'DE', T0, 20)], T0 + 15_000, p);

    expect(summary.get('DE')!.get('cf-a')!.fresh.sessions).toBeCloseTo(20 + 100 * 0.75, 9);
  });

  it('demotes on errors that arrive three minutes late', () => {
    const now = T0 + 30_000;
    const rollups = world(now, { DE: 300 }, (pathway, country, minute) => (pathway === 'cf-b' && minute === T0 - 3 * MINUTE ? cell(pathway, country, minute, 300, 200) : undefined));

    const de = scope(computeRoutingWeights({ pathways: registry, rollups, previous: new Map([['DE', equal()]]), now }), 'DE');

    expect(de.weights['cf-b']).toBe(p.explorationFloor);
  });
});
