import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_MINUTE_BUDGET } from '../../core/cmcd-report';
import { type LoggedRequest, RETURN_PATH_PATHWAYS, type ReturnPathWorld, startReturnPath } from '../support/return-path-world';

// Issue 9, "up to 5 hostile sessions (any report content, within rate limits)": five viewer sessions post
// whatever they like through the real ingest — stall floods, absurd values, fake 503s for another CDN's
// host, forged `cdn=`, forged country headers without the gateway's secret — and make requests with absurd
// CMCD, next to honest viewers whose CDN log lines and reports say every CDN is healthy. Through the real
// aggregator, rollup merger and routing-weights evaluation, no weight may move by more than 0.05.
const MINUTE = Date.UTC(2026, 11, 2, 12, 0, 0);
const NOW = MINUTE + 40_000;
const DE = { country: 'DE' } as const;
const HONEST_PER_PATHWAY = 40;
const REQUESTS_PER_SESSION = 25;
const repeat = (n: number, line: string): string[] => Array.from({ length: n }, () => line);

describe('return path under poisoning: 5 hostile sessions among honest viewers (issue 9)', () => {
  let world: ReturnPathWorld;

  beforeAll(async () => {
    world = await startReturnPath(NOW);
  });

  afterAll(async () => {
    await world?.stop();
  });

  it('moves no weight by more than 0.05, while the hostile evidence reaches the rollups bounded', async () => {
    // Prepare: honest viewers in DE, 40 per CDN on a dozen networks, all CDNs equally healthy
    const honest = RETURN_PATH_PATHWAYS.flatMap((p) => Array.from({ length: HONEST_PER_PATHWAY }, (_, i) => ({ sid: `honest-${p.id}-${i}`, pathway: p.id, asn: 100 + (i % 12) })));
    const requests: LoggedRequest[] = honest.flatMap((v, n) =>
      Array.from({ length: REQUESTS_PER_SESSION }, (_, segment) => ({
        ...DE,
        sid: v.sid,
        pathway: v.pathway,
        asn: v.asn,
        status: 200,
        at: MINUTE + 1000 + segment * 1500 + (n % 10) * 10,
        segment,
        cmcd: { mtp: `(${4000 + ((n * 37 + segment * 53) % 2000)})`, bl: '(8000)', br: '(3000)' },
      })),
    );
    await world.logRequests(requests);
    for (const v of honest) {
      const sid = `sid="${v.sid}"`;
      const lines = [
        `e=rr,rc=200,ttfb=60,mtp=(5000),bl=(8000),url="${world.mediaUrl(v.sid, v.pathway, 23)}",${sid}`,
        `e=t,sta=p,mtp=(5000),bl=(8000),ts=${NOW - 30_000},${sid}`,
        `e=rr,rc=200,ttfb=55,mtp=(5200),bl=(8000),url="${world.mediaUrl(v.sid, v.pathway, 24)}",${sid}`,
      ];
      expect(await world.post(v.sid, lines, { ...DE, asn: v.asn })).toBe(204);
    }
    await world.settle();
    await world.tick(NOW - 10_000);
    await world.tick(NOW);
    const before = { DE: await world.weightsOf('DE'), global: await world.weightsOf('*') };

    // Act: the hostile sessions, each within the ingest's limits (≤ 200 lines a POST, 600 a minute)
    world.clock = NOW + 5_000;
    const statuses: Record<string, number[]> = {};
    const post = async (name: string, lines: readonly string[], asn: number, options?: Parameters<ReturnPathWorld['post']>[3]) =>
      (statuses[name] ??= []).push(await world.post(name, lines, { ...DE, asn }, options));
    const rr = (name: string, pathway: string, rc: number, extra = '') => `e=rr,rc=${rc},ttfb=40${extra},url="${world.mediaUrl(name, pathway, 1)}",sid="${name}"`;
    // 1. a stall flood on cf-a: 600 lines of "stalled for an interval", then more than the rate limit allows
    await post('stall-flood', [rr('stall-flood', 'cf-a', 200), ...repeat(199, 'e=t,sta=r,sid="stall-flood"')], 666);
    await post('stall-flood', repeat(200, 'e=t,sta=r,sid="stall-flood"'), 666);
    await post('stall-flood', repeat(200, 'e=t,sta=r,sid="stall-flood"'), 666);
    await post('stall-flood', repeat(200, 'e=t,sta=r,sid="stall-flood"'), 666);
    // 2. absurd values on cf-a: a huge bsd, an epoch-sized ttfb, zero throughput, an hour and more of buffer
    await post(
      'absurd-values',
      [
        rr('absurd-values', 'cf-a', 200, ',mtp=(0),bl=(99999999999)').replace('ttfb=40', 'ttfb=1800000000000'),
        'e=t,sta=r,bsd=(999999999),sid="absurd-values"',
        'e=ps,sta=r,bsd=(999999999),mtp=(0),sid="absurd-values"',
        ...repeat(197, 'e=t,sta=p,mtp=(0),br=(999999999),bl=(99999999999),sid="absurd-values"'),
      ],
      667,
    );
    // 3. fake 503s for another CDN's host (its own token: verifiable) and for hosts with tokens it does not own
    const forgedUrl = `https://${RETURN_PATH_PATHWAYS[2]!.host}/${world.tokenOf('honest-cf-c-0')}/media/big-buck/r1/v720/seg_1.m4s`;
    for (let i = 0; i < 3; i++) {
      await post('fake-503s', [...repeat(150, rr('fake-503s', 'cf-b', 503)), ...repeat(50, `e=rr,rc=503,url="${forgedUrl}",sid="fake-503s"`)], 668);
    }
    // 4. forged cdn= and h= naming cf-c, without any response URL of its own
    await post('forged-cdn', repeat(200, `e=ps,sta=f,cdn="cf-c",h="${RETURN_PATH_PATHWAYS[2]!.host}",sid="forged-cdn"`), 669);
    await post('forged-cdn', repeat(200, 'e=e,ec="fatal",cdn="cf-c",sid="forged-cdn"'), 669);
    // 5. forged country headers straight to the API (no or a wrong edge secret), then what the edge lets through
    await post('forged-country', [rr('forged-country', 'cf-c', 503), ...repeat(199, 'e=ps,sta=f,sid="forged-country"')], 670, { edge: false, headers: { 'cloudfront-viewer-country': 'US' } });
    await post('forged-country', [rr('forged-country', 'cf-c', 503)], 670, { secret: 'guessed', headers: { 'cloudfront-viewer-country': 'US' } });
    await post('forged-country', [rr('forged-country', 'cf-c', 503), ...repeat(199, 'e=ps,sta=f,sid="forged-country"')], 670);
    // and requests with absurd CMCD: each hostile session logs its budget's worth of requests claiming starvation at 1 kbit/s
    const hostile = ['stall-flood', 'absurd-values', 'fake-503s', 'forged-cdn', 'forged-country'];
    await world.logRequests(
      hostile.flatMap((sid, h) =>
        Array.from({ length: 60 }, (_, segment) => ({ ...DE, sid, pathway: 'cf-a', asn: 666 + h, status: 200, at: NOW + segment * 300, segment, cmcd: { mtp: '(1)', bs: 'true', bl: '(99999999999)' } })),
      ),
    );
    await world.settle();
    const after = [];
    for (const at of [NOW + 10_000, NOW + 20_000, NOW + 30_000]) {
      await world.tick(at);
      after.push({ at, DE: await world.weightsOf('DE'), global: await world.weightsOf('*') });
    }

    // Assess: what the ingest let through, and how
    expect(statuses['stall-flood']).toEqual([204, 204, 204, 429]);
    expect(statuses['absurd-values']).toEqual([204]);
    expect(statuses['fake-503s']).toEqual([204, 204, 204]);
    expect(statuses['forged-cdn']).toEqual([204, 204]);
    expect(statuses['forged-country']).toEqual([403, 403, 204]);
    // the hostile evidence reached the rollups as a few bounded sessions
    const cells = Object.fromEntries(await Promise.all(RETURN_PATH_PATHWAYS.map(async (p) => [p.id, await world.cell(MINUTE, p.id, 'DE')] as const)));
    // 600 fake 503s are one error session of cf-b; cf-c's one is the session that went through the edge,
    // the forged cdn= lines attributed nothing; the CDNs' own error counts are untouched
    expect(cells['cf-b']).toMatchObject({ errorSessions: 1, errors: 0 });
    expect(cells['cf-c']).toMatchObject({ errorSessions: 1, errors: 0 });
    expect(cells['cf-a']!.stallSessions).toBeLessThanOrEqual(hostile.length);
    // one session-minute of stall at most from the flood; the absurd bsd added nothing
    expect(cells['cf-a']!.stallMs).toBeLessThanOrEqual(60_000);
    // two hostile sessions report on cf-a, each within one session-minute budget of lines
    expect(cells['cf-a']!.reports).toBeLessThanOrEqual(HONEST_PER_PATHWAY * 3 + 2 * SESSION_MINUTE_BUDGET.lines);
    // and moved nothing
    for (const tick of after) {
      for (const [scope, weights] of [['DE', tick.DE], ['*', tick.global]] as const) {
        for (const p of RETURN_PATH_PATHWAYS) {
          const reference = scope === 'DE' ? before.DE[p.id]! : before.global[p.id]!;
          expect(Math.abs(weights[p.id]! - reference), `${p.id} in ${scope} at +${(tick.at - NOW) / 1000} s`).toBeLessThanOrEqual(0.05);
        }
      }
    }
  }, 60_000);
});
