import { describe, expect, it } from 'vitest';
import { breakTimeline, requestShare, trafficSince, type CdnBreak, type TrafficBucket, type WeightsSample } from '../../local/twin/failover-timeline';

const T0 = Date.UTC(2026, 11, 2, 10, 0, 0);
const s = (seconds: number) => T0 + seconds * 1000;

/** A 5 s bucket ending at `seconds` with these request counts per pathway (no errors). */
function bucket(seconds: number, requests: Record<string, number>): TrafficBucket {
  return { at: s(seconds), spanMs: 5000, pathways: Object.fromEntries(Object.entries(requests).map(([id, n]) => [id, { requests: n, errors: 0 }])) };
}

function weights(seconds: number, scope: string, w: Record<string, number>, reason?: string): WeightsSample {
  return { at: s(seconds), scope, weights: w, ...(reason ? { reason } : {}) };
}

/** cf-b broken from 0 s to 60 s; healed at 60 s. */
const BREAK: CdnBreak = { id: 'break-1', pathway: 'cf-b', faults: { down: '503' }, startedAt: s(0), endsAt: s(60), healedAt: s(60) };

/** Even traffic before, cf-b's share collapsing 10 s in, back 20 s after the heal. */
const TRAFFIC: TrafficBucket[] = [
  bucket(-10, { 'cf-a': 10, 'cf-b': 10, 'cf-c': 10 }),
  bucket(-5, { 'cf-a': 10, 'cf-b': 10, 'cf-c': 10 }),
  bucket(5, { 'cf-a': 10, 'cf-b': 9, 'cf-c': 10 }),
  bucket(10, { 'cf-a': 15, 'cf-b': 1, 'cf-c': 15 }),
  bucket(30, { 'cf-a': 15, 'cf-b': 0, 'cf-c': 15 }),
  bucket(70, { 'cf-a': 15, 'cf-b': 1, 'cf-c': 15 }),
  bucket(80, { 'cf-a': 10, 'cf-b': 8, 'cf-c': 10 }),
];

describe('failover timeline', () => {
  it('marks when the broken CDN\'s share of requests collapsed and when it came back', () => {
    const events = breakTimeline(BREAK, TRAFFIC, []);

    expect(events.map((e) => [e.kind, (e.at - T0) / 1000])).toEqual([
      ['break-started', 0],
      ['traffic-left', 10],
      ['break-ended', 60],
      ['traffic-returned', 80],
    ]);
    expect(events[1]!.text).toBe('players left cf-b: its share of CDN requests fell from 33 % to 3 % (cf-a 48 %, cf-b 3 %, cf-c 48 %)');
  });

  it('does not claim players left when the share only dipped', () => {
    const events = breakTimeline(BREAK, [bucket(-5, { 'cf-a': 10, 'cf-b': 10 }), bucket(5, { 'cf-a': 10, 'cf-b': 6 })], []);

    expect(events.map((e) => e.kind)).not.toContain('traffic-left');
  });

  it('has no traffic events without traffic on the CDN in the minute before the break', () => {
    const events = breakTimeline(BREAK, [bucket(-90, { 'cf-a': 10, 'cf-b': 10 }), bucket(10, { 'cf-a': 10, 'cf-b': 0 })], []);

    expect(events.map((e) => e.kind)).toEqual(['break-started', 'break-ended']);
  });

  it('marks per scope when the weights moved, the demotion below 10 % and the re-admission after the heal', () => {
    const history = [
      weights(-5, 'US', { 'cf-a': 0.34, 'cf-b': 0.33, 'cf-c': 0.33 }),
      weights(-5, 'DE', { 'cf-a': 0.5, 'cf-b': 0.5 }),
      weights(5, 'US', { 'cf-a': 0.34, 'cf-b': 0.33, 'cf-c': 0.33 }),
      weights(15, 'US', { 'cf-a': 0.485, 'cf-b': 0.03, 'cf-c': 0.485 }, 'cf-b error rate 100%; demoted 0.33 → 0.03'),
      weights(15, 'DE', { 'cf-a': 0.6, 'cf-b': 0.4 }),
      // Still demoted right after the heal: the errors are in the scoring window until the next minute.
      weights(65, 'US', { 'cf-a': 0.485, 'cf-b': 0.03, 'cf-c': 0.485 }),
      weights(100, 'US', { 'cf-a': 0.4, 'cf-b': 0.2, 'cf-c': 0.4 }),
    ];

    const events = breakTimeline(BREAK, [], history).filter((e) => e.scope !== undefined);

    expect(events.map((e) => [e.scope, e.kind, (e.at - T0) / 1000])).toEqual([
      ['DE', 'weights-moved', 15],
      ['US', 'weights-moved', 15],
      ['US', 'demoted', 15],
      ['US', 'readmitted', 100],
    ]);
    expect(events[2]!.text).toBe('US: cf-b demoted to 3 % (cf-b error rate 100%; demoted 0.33 → 0.03)');
    expect(events[3]!.text).toBe('US: cf-b re-admitted at 20 %');
  });

  it('does not report a re-admission while the break lasts', () => {
    const ongoing: CdnBreak = { ...BREAK, healedAt: undefined };
    const history = [
      weights(-5, '*', { 'cf-a': 0.5, 'cf-b': 0.5 }),
      weights(10, '*', { 'cf-a': 0.95, 'cf-b': 0.05 }),
      weights(40, '*', { 'cf-a': 0.8, 'cf-b': 0.2 }),
    ];

    const kinds = breakTimeline(ongoing, [], history).map((e) => e.kind);

    expect(kinds).toEqual(['break-started', 'weights-moved', 'demoted']);
  });

  it('computes a pathway\'s share over several buckets from the summed counts', () => {
    expect(requestShare([bucket(0, { 'cf-a': 3, 'cf-b': 1 }), bucket(5, { 'cf-a': 1, 'cf-b': 3 })], 'cf-b')).toBe(0.5);
    expect(requestShare([bucket(0, { 'cf-a': 0 })], 'cf-a')).toBeUndefined();
  });
});

describe('traffic from rollup reads', () => {
  const MINUTE = Date.UTC(2026, 11, 2, 10, 0);
  const item = (minute: number, cell: string, requests: number, errors = 0) => ({ minute, cell, pathway: cell.split('#')[0]!, requests, errors });

  it('sums what each pathway\'s cells grew by since the previous read, over countries', () => {
    const first = trafficSince(new Map(), [item(MINUTE, 'cf-a#US', 10), item(MINUTE, 'cf-a#DE', 5), item(MINUTE, 'cf-b#US', 7, 1)]);

    const second = trafficSince(first.seen, [item(MINUTE, 'cf-a#US', 14), item(MINUTE, 'cf-a#DE', 5), item(MINUTE, 'cf-b#US', 9, 3)]);

    expect(second.pathways).toEqual({ 'cf-a': { requests: 4, errors: 0 }, 'cf-b': { requests: 2, errors: 2 } });
  });

  it('counts a new minute\'s cells from zero and late records of the previous minute as they arrive', () => {
    const first = trafficSince(new Map(), [item(MINUTE, 'cf-a#US', 10)]);

    const second = trafficSince(first.seen, [item(MINUTE, 'cf-a#US', 12), item(MINUTE + 60_000, 'cf-a#US', 3)]);

    expect(second.pathways['cf-a']).toEqual({ requests: 5, errors: 0 });
  });

  it('never counts a shrinking counter as negative traffic', () => {
    const first = trafficSince(new Map(), [item(MINUTE, 'cf-a#US', 10)]);

    expect(trafficSince(first.seen, [item(MINUTE, 'cf-a#US', 4)]).pathways['cf-a']).toEqual({ requests: 0, errors: 0 });
  });
});
