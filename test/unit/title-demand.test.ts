import { describe, expect, it } from 'vitest';
import type { QoeSample } from '../../core/qoe-types';
import { TitleDemand, trendingTitles } from '../../core/title-demand';

const MINUTE = Date.UTC(2026, 11, 2, 12, 0, 0);
const sample = (sid: string | undefined, assetId: string | undefined, ts = MINUTE + 5_000): QoeSample => ({
  ts,
  source: 'cdn-log',
  pathway: 'cf-a',
  country: 'DE',
  ...(sid !== undefined ? { sid } : {}),
  ...(assetId !== undefined ? { assetId } : {}),
});

describe('title demand per minute (ADR 0102)', () => {
  it('counts distinct sessions per title and minute, not samples; skips pre-warm sessions and samples without a title or session', () => {
    const demand = new TitleDemand(10);
    for (let i = 0; i < 50; i++) demand.add(sample(`s${i % 5}`, 'premiere'));
    demand.add(sample('prewarm-1', 'premiere'));
    demand.add(sample(undefined, 'premiere'));
    demand.add(sample('s9', undefined));
    demand.add(sample('s1', 'other', MINUTE + 60_000));

    const [minute] = demand.takeEndedMinutes(MINUTE + 60_000);

    expect(minute).toEqual({ minute: MINUTE, titles: [{ assetId: 'premiere', sessionBits: expect.any(Set) }] });
    expect(minute!.titles[0]!.sessionBits.size).toBe(5);
  });

  it('gives out a minute only once it has ended, and only once', () => {
    const demand = new TitleDemand(10);
    demand.add(sample('s1', 'premiere'));

    expect(demand.takeEndedMinutes(MINUTE + 59_999)).toEqual([]);
    expect(demand.takeEndedMinutes(MINUTE + 60_000)).toHaveLength(1);
    expect(demand.takeEndedMinutes(MINUTE + 120_000)).toEqual([]);
  });

  it('keeps the top K titles of a minute, most sessions first, and tracks at most maxTitlesPerMinute titles', () => {
    const demand = new TitleDemand(2, 3);
    const sessions = { a: 1, b: 3, c: 2, d: 9 } as const;
    for (const [title, n] of Object.entries(sessions)) for (let i = 0; i < n; i++) demand.add(sample(`${title}${i}`, title));

    // d arrived fourth: beyond the 3 titles tracked, so it is not counted at all
    expect(demand.takeEndedMinutes(MINUTE + 60_000)[0]!.titles.map((t) => [t.assetId, t.sessionBits.size])).toEqual([
      ['b', 3],
      ['c', 2],
    ]);
  });

  it('counts nothing with K = 0 (the signal off), and refuses a bad K', () => {
    const demand = new TitleDemand(0);
    demand.add(sample('s1', 'premiere'));
    expect(demand.takeEndedMinutes(MINUTE + 60_000)).toEqual([]);
    expect(() => new TitleDemand(-1)).toThrow(/topK/);
  });
});

describe('which titles are trending (ADR 0102)', () => {
  const settings = { topK: 2, minSessions: 20, riseFactor: 2 };

  it('takes titles with enough sessions that at least doubled over their baseline mean, most-watched first', () => {
    const current = new Map([
      ['rising', 60],
      ['steady', 500],
      ['new', 25],
      ['small', 15],
      ['rising-more', 300],
    ]);
    const baseline = [
      new Map([
        ['rising', 20],
        ['steady', 480],
        ['rising-more', 100],
      ]),
      new Map([
        ['rising', 30],
        ['steady', 520],
      ]),
    ];

    expect(trendingTitles(current, baseline, { ...settings, topK: 5 })).toEqual([
      { assetId: 'rising-more', sessions: 300, baseline: 50 },
      { assetId: 'rising', sessions: 60, baseline: 25 },
      { assetId: 'new', sessions: 25, baseline: 0 },
    ]);
    expect(trendingTitles(current, baseline, settings).map((t) => t.assetId)).toEqual(['rising-more', 'rising']);
  });

  it('treats a title without baseline minutes as new', () => {
    expect(trendingTitles(new Map([['premiere', 20]]), [], settings)).toEqual([{ assetId: 'premiere', sessions: 20, baseline: 0 }]);
  });
});
