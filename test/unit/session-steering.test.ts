import { describe, expect, it } from 'vitest';
import { rankPathways } from '../../core/rendezvous';
import {
  DEFAULT_SESSION_STEERING_POLICY,
  EMPTY_MEMORY,
  MAX_STRIKES,
  readSessionMemory,
  steerSession,
  steerSessionFromQuery,
  writeSessionMemory,
  type ReportedUse,
  type SessionMemory,
  type ThroughputHistory,
} from '../../core/session-steering';
import { throughputClass, topThroughputClass } from '../../core/steering-cache-key';

const NOW = 1_764_675_000;
const POLICY = DEFAULT_SESSION_STEERING_POLICY;
const EQUAL = { 'cf-a': 1, 'cf-b': 1, 'cf-c': 1 };
const KNOWN = new Set(Object.keys(EQUAL));
/** A session whose platform order (equal weights) starts with cf-a, so cf-a is "the CDN it plays from". */
const KEY = ['s0', 's1', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9'].find((s) => rankPathways(s, EQUAL)[0] === 'cf-a') as string;
const TOP = topThroughputClass(POLICY);
const cls = (bps: number) => throughputClass(bps, TOP);

/** What the key function hands on from a report: the pathway, and the class of its throughput when it had one. */
const hls = (pathway: string, bps?: number): ReportedUse => ({ pathway, ...(bps !== undefined ? { throughputClass: cls(bps) } : {}) });
const steer = (use: ReportedUse | undefined, memory: SessionMemory, opts: { now?: number; weights?: Record<string, number> } = {}) =>
  steerSession({ rankingKey: KEY, weights: opts.weights ?? EQUAL, ...(use !== undefined ? { use } : {}), memory, nowSeconds: opts.now ?? NOW, policy: POLICY });
const known = (use: ReportedUse) => (KNOWN.has(use.pathway) ? use : undefined);
/** The memory the player sends back: what the answer's RELOAD-URI carried, read as the next request reads it. */
const carried = (memory: string, now = NOW) => readSessionMemory(new URLSearchParams(memory), KNOWN, now, POLICY);

describe('session steering: what a session without reports gets', () => {
  it('gives the platform order and a bare RELOAD-URI to a player that never reports a pathway', () => {
    const decision = steer(undefined, EMPTY_MEMORY);
    expect(decision.priority).toEqual(rankPathways(KEY, EQUAL));
    expect(decision.memory).toBe('');
    expect(decision.held).toEqual([]);
  });

  it('treats a pathway the weights do not know like no report', () => {
    expect(steerSessionFromQuery('p=cf-zz&t=40', { rankingKey: KEY, weights: EQUAL, nowSeconds: NOW, policy: POLICY }).memory).toBe('');
    expect(known(hls('cf-zz', 5_000_000))).toBeUndefined();
  });

  it('remembers the answer, the reported pathway and its best throughput class once the player reports', () => {
    const decision = steer(hls('cf-a', 4_000_000), EMPTY_MEMORY);
    expect(decision.priority).toEqual(rankPathways(KEY, EQUAL));
    expect(decision.memory).toBe(`first=cf-a&on=cf-a&best=${TOP}.1`);
  });
});

describe('session steering: a pathway the session left (ADR 0045)', () => {
  it('does not rank first again a pathway the player left although the answer ranked it first', () => {
    // Prepare: the previous answer put cf-a first; the player failed over to cf-b by itself.
    const memory = carried(steer(hls('cf-a', 4_000_000), EMPTY_MEMORY).memory);
    // Act
    const decision = steer(hls('cf-b', 3_000_000), memory, { now: NOW + 10 });
    // Assess
    expect(decision.priority[0]).not.toBe('cf-a');
    expect(decision.priority.at(-1)).toBe('cf-a');
    expect(decision.held).toEqual(['cf-a']);
    // Quantised so a memory is written in few forms (ADR 0036): the time rounded up to the minute (the hold is
    // never shorter), the share to 50 ‰.
    expect(carried(decision.memory, NOW + 10).left).toEqual([{ pathway: 'cf-a', atSeconds: NOW + 60, sharePermille: 350, strikes: 1 }]);
  });

  it('keeps it out of first place on every reload of the hold, while the weights do not move', () => {
    let memory = carried(steer(hls('cf-b'), carried(steer(hls('cf-a'), EMPTY_MEMORY).memory), { now: NOW }).memory);
    for (let t = NOW + 10; t < NOW + POLICY.minAvoidSeconds; t += 10) {
      const decision = steer(hls('cf-b'), memory, { now: t });
      expect(decision.priority[0]).not.toBe('cf-a');
      memory = carried(decision.memory, t);
    }
  });

  it('ranks it first again once the hold is over and the weights read now did not demote it', () => {
    const left = carried(steer(hls('cf-b'), carried(steer(hls('cf-a'), EMPTY_MEMORY).memory)).memory);
    const after = steer(hls('cf-b'), left, { now: NOW + POLICY.minAvoidSeconds });
    expect(steer(hls('cf-b'), left, { now: NOW + POLICY.minAvoidSeconds - 1 }).held).toEqual(['cf-a']);
    expect(after.held).toEqual([]);
    expect(after.priority[0]).toBe('cf-a');
  });

  it('keeps holding it after the hold while its share is below 0.8 × its share when the session left', () => {
    const left = carried(steer(hls('cf-b'), carried(steer(hls('cf-a'), EMPTY_MEMORY).memory)).memory);
    const demoted = { 'cf-a': 0.1, 'cf-b': 0.45, 'cf-c': 0.45 };
    const later = NOW + POLICY.minAvoidSeconds + 600;
    expect(steer(hls('cf-b'), left, { now: later, weights: demoted }).held).toEqual(['cf-a']);
    // The controller re-admits it: 0.29 ≥ 0.8 × 0.35 (its share when left, to 50 ‰).
    const recovered = { 'cf-a': 0.29, 'cf-b': 0.355, 'cf-c': 0.355 };
    expect(steer(hls('cf-b'), left, { now: later, weights: recovered }).held).toEqual([]);
  });

  it('counts the platform\'s first pathway as left by a player that reports another one before it has a memory', () => {
    // The manifest (and any bare answer) put cf-a first; the player failed over before its first report.
    const decision = steer(hls('cf-b', 3_000_000), EMPTY_MEMORY);
    expect(decision.held).toEqual(['cf-a']);
    expect(decision.priority[0]).not.toBe('cf-a');
  });

  it('treats a move to the pathway the answer ranked first as following, not as leaving', () => {
    // Prepare: the player is on cf-b, the previous answer asked for cf-a.
    const memory: SessionMemory = { first: 'cf-a', on: 'cf-b', left: [] };
    // Act
    const decision = steer(hls('cf-a'), memory);
    // Assess
    expect(decision.held).toEqual([]);
    expect(carried(decision.memory).left).toEqual([]);
  });

  it('doubles the hold each time the session leaves the same pathway again, up to 4 strikes', () => {
    let memory: SessionMemory = { first: 'cf-a', on: 'cf-a', left: [] };
    let t = NOW;
    for (let strike = 1; strike <= MAX_STRIKES + 1; strike++) {
      memory = carried(steer(hls('cf-b'), memory, { now: t }).memory, t);
      const expected = Math.min(MAX_STRIKES, strike);
      expect(memory.left[0].strikes).toBe(expected);
      // The memory horizon is also the longest hold.
      const hold = Math.min(POLICY.memorySeconds, POLICY.minAvoidSeconds * 2 ** (expected - 1));
      expect(steer(hls('cf-b'), memory, { now: t + hold - 1 }).held).toEqual(['cf-a']);
      expect(steer(hls('cf-b'), memory, { now: t + hold }).held).toEqual([]);
      // The player goes back to cf-a when it is ranked first again, and leaves it again.
      t += hold;
      memory = { ...memory, first: 'cf-a', on: 'cf-a' };
    }
  });

  it('forgets a departure after the memory horizon', () => {
    const memory = carried(`first=cf-b&on=cf-b&left=cf-a.${NOW}.900.4`, NOW + POLICY.memorySeconds + 1);
    expect(memory.left).toEqual([]);
  });

  it('lets the pathway left longest ago lead when the session has left every pathway', () => {
    const memory = carried(`first=cf-c&on=cf-c&left=cf-b.${NOW - 30}.333.1_cf-a.${NOW - 20}.333.1`);
    // The player now leaves cf-c too.
    const decision = steer(hls('cf-a'), memory, { now: NOW });
    expect(decision.priority).toEqual(['cf-b', 'cf-a', 'cf-c']);
  });
});

describe('session steering: the session\'s own throughput (ADR 0046)', () => {
  const onA = (best?: ThroughputHistory): SessionMemory => ({ first: 'cf-a', on: 'cf-a', ...(best !== undefined ? { best } : {}), left: [] });
  const twoReports = (bps: number): ThroughputHistory => ({ bestClass: cls(bps), reports: 2 });

  it('moves the session off its pathway at this reload when its throughput collapses below its history and the floor', () => {
    const decision = steer(hls('cf-a', 480_000), onA(twoReports(4_200_000)));
    expect(decision.collapsedFrom).toBe('cf-a');
    expect(decision.priority[0]).not.toBe('cf-a');
    expect(decision.priority.at(-1)).toBe('cf-a');
  });

  it('then keeps it off like any pathway the session left', () => {
    const moved = carried(steer(hls('cf-a', 480_000), onA(twoReports(4_200_000))).memory);
    const next = steer(hls(moved.first as string, 3_900_000), moved, { now: NOW + 10 });
    expect(next.priority[0]).not.toBe('cf-a');
    expect(next.collapsedFrom).toBeUndefined();
  });

  it('does not move a session whose throughput falls but stays above the floor', () => {
    expect(steer(hls('cf-a', 5_000_000), onA(twoReports(21_000_000))).collapsedFrom).toBeUndefined();
    expect(steer(hls('cf-a', 1_050_000), onA(twoReports(21_000_000))).collapsedFrom).toBeUndefined();
  });

  it('does not move a session that has always been slow (its own access link, not the CDN)', () => {
    expect(steer(hls('cf-a', 500_000), onA(twoReports(650_000))).collapsedFrom).toBeUndefined();
  });

  it('needs two earlier reports on the same pathway before judging a collapse', () => {
    expect(steer(hls('cf-a', 100_000), onA({ bestClass: cls(4_000_000), reports: 1 })).collapsedFrom).toBeUndefined();
    // A history gathered on another pathway does not count: hls.js's estimate is session-wide.
    expect(steer(hls('cf-b', 100_000), { first: 'cf-b', on: 'cf-a', best: twoReports(4_000_000), left: [] }).collapsedFrom).toBeUndefined();
  });

  it('keeps the best class reported on the pathway and counts reports up to two; a move starts again', () => {
    let memory = onA();
    for (const bps of [1_200_000, 1_700_000, 1_300_000]) memory = carried(steer(hls('cf-a', bps), memory).memory);
    expect(memory.best).toEqual({ bestClass: cls(1_700_000), reports: 2 });
    memory = carried(steer(hls('cf-b', 900_000), { ...memory, first: 'cf-b' }).memory);
    expect(memory.best).toEqual({ bestClass: cls(900_000), reports: 1 });
  });

  it('gives every figure at or above floor / ratio one class, where only the floor decides', () => {
    expect(cls(2_048_000)).toBe(TOP);
    expect(cls(25_000_000)).toBe(TOP);
    expect(cls(1_900_000)).toBeLessThan(TOP);
    expect(steer(hls('cf-a', 840_000), onA({ bestClass: TOP, reports: 2 })).collapsedFrom).toBe('cf-a');
  });

  it('does not call a report a collapse while its class reaches the floor (861–1,024 kbit/s at a 1 Mbit/s floor)', () => {
    // The matrix's hls.js under +2 s latency reported 1.01 Mbit/s and was moved while playing its top rung.
    for (const bps of [1_010_000, 990_000, 870_000]) {
      expect(steer(hls('cf-a', bps), onA({ bestClass: TOP, reports: 2 })).collapsedFrom).toBeUndefined();
    }
    expect(steer(hls('cf-a', 855_000), onA({ bestClass: TOP, reports: 2 })).collapsedFrom).toBe('cf-a');
  });

  it('keeps the history when the report had no usable throughput (the key function dropped it)', () => {
    const decision = steer(hls('cf-a'), onA(twoReports(4_000_000)));
    expect(decision.collapsedFrom).toBeUndefined();
    expect(carried(decision.memory).best).toEqual(twoReports(4_000_000));
  });

  it('uses the configured floor and ratio', () => {
    const policy = { ...POLICY, throughputFloorBps: 8_000_000, collapseRatio: 0.9 };
    const top = topThroughputClass(policy);
    const use = { pathway: 'cf-a', throughputClass: throughputClass(6_000_000, top) };
    const memory = onA({ bestClass: throughputClass(8_000_000, top), reports: 2 });
    expect(steerSession({ rankingKey: KEY, weights: EQUAL, use, memory, nowSeconds: NOW, policy }).collapsedFrom).toBe('cf-a');
  });
});

describe('session steering: hostile and garbage memory', () => {
  it('ignores unknown pathways, malformed numbers, future departures, duplicates and extra fields', () => {
    const memory = carried(
      [
        'first=evil',
        'on=cf-b',
        'best=12.2.5',
        `left=cf-zz.${NOW}.100.1_cf-a.${NOW + 3600}.100.1_cf-b.${NOW}.2000.1_cf-c.${NOW}.100.0_cf-a.${NOW}.100.9_cf-c.${NOW}.100.1.extra_cf-b.${NOW}.500.2_cf-b.${NOW}.500.3`,
      ].join('&'),
    );
    expect(memory).toEqual({ first: undefined, on: 'cf-b', left: [{ pathway: 'cf-b', atSeconds: NOW, sharePermille: 500, strikes: 2 }] });
    for (const best of ['x.2', '12.0', '12.3', '-1.1', '100.1', '12', '']) expect(carried(`on=cf-a&best=${best}`).best).toBeUndefined();
    expect(carried('best=12.2').best).toBeUndefined();
  });

  it('ignores a memory parameter longer than any it writes', () => {
    expect(carried(`on=cf-a&left=${'cf-b.1764675000.500.1_'.repeat(30)}`).left).toEqual([]);
  });

  it('never throws and never answers fewer or other pathways, whatever the query', () => {
    // Deterministic pseudo-random queries over the characters that matter.
    let seed = 20261202;
    const next = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const alphabet = ['first=', 'on=', 'best=', 'left=', 's=', 'p=', 't=', 'cf-a', 'cf-b', '.', '_', '&', '%22', '%2C', ',', '1764675000', '-1', '9'.repeat(30), '%', '=', 'NaN', '44', '2'];
    for (let i = 0; i < 2000; i++) {
      const query = Array.from({ length: 1 + next(24) }, () => alphabet[next(alphabet.length)]).join('');
      const decision = steerSessionFromQuery(query, { rankingKey: KEY, weights: EQUAL, nowSeconds: NOW, policy: POLICY });
      expect([...decision.priority].sort()).toEqual(['cf-a', 'cf-b', 'cf-c']);
      expect(decision.memory.length).toBeLessThan(200);
    }
  });

  it('keeps the memory bounded by the number of pathways however many departures are forged', () => {
    const forged = `left=${Array.from({ length: 50 }, (_, i) => `cf-${'abc'[i % 3]}.${NOW - i}.333.1`).join('_')}`;
    expect(carried(forged).left.length).toBeLessThanOrEqual(KNOWN.size);
  });

  it('round-trips what it writes', () => {
    const memory: SessionMemory = {
      first: 'cf-b',
      on: 'cf-c',
      best: { bestClass: TOP, reports: 2 },
      left: [
        { pathway: 'cf-a', atSeconds: NOW - 60, sharePermille: 0, strikes: 3 },
        { pathway: 'cf-b', atSeconds: NOW, sharePermille: 350, strikes: 1 },
      ],
    };
    expect(carried(writeSessionMemory(memory))).toEqual(memory);
    expect(writeSessionMemory(memory)).toMatch(/^[A-Za-z0-9=&_.-]+$/);
  });

  it('writes one form for one memory: departures in pathway order, so equal memories are equal cache keys', () => {
    const a = { pathway: 'cf-a', atSeconds: NOW, sharePermille: 350, strikes: 1 };
    const c = { pathway: 'cf-c', atSeconds: NOW - 60, sharePermille: 300, strikes: 2 };
    expect(writeSessionMemory({ first: 'cf-b', left: [c, a] })).toBe(writeSessionMemory({ first: 'cf-b', left: [a, c] }));
  });
});
