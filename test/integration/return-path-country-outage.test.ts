import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { windowMinutesAt } from '../../core/routing/rollup-windows';
import { DEFAULT_SCORING_PARAMS } from '../../core/routing/scoring-params';
import { type LoggedRequest, RETURN_PATH_PATHWAYS, type ReturnPathWorld, startReturnPath, type Viewer } from '../support/return-path-world';

// Issue 9, "CDN down in one country": cf-b answers 503 to every request from DE and to nobody else. DE's
// viewers on cf-b fail over and report the failures through the real ingest; FR and IT keep playing from
// every CDN. Through the real aggregator, rollup merger and routing-weights evaluation: DE demotes cf-b
// below 10 % within the minute, FR's and IT's weights move by at most 0.05, and cf-b stays below 10 % in DE
// on every later tick while the outage lasts: also after the reversal hold, once the burst of failures has
// left the scoring window and only a few probe sessions still meet the dead CDN there (ADR 0065).
const START = Date.UTC(2026, 11, 2, 12, 0, 0);
const MINUTE_MS = 60_000;
const COUNTRIES = ['DE', 'FR', 'IT'] as const;
const VIEWERS_PER_CELL = 10;
const REQUESTS_PER_MINUTE = 3;
const PATHWAY_IDS = RETURN_PATH_PATHWAYS.map((p) => p.id);

interface Session extends Viewer {
  readonly sid: string;
  pathway: string;
}

describe('return path: one CDN down in one country (issue 9)', () => {
  let world: ReturnPathWorld;

  beforeAll(async () => {
    world = await startReturnPath(START);
  });

  afterAll(async () => {
    await world?.stop();
  });

  it('demotes it below 10 % there within the minute and keeps it there while the outage lasts; other countries move ≤ 0.05', async () => {
    // Prepare: 10 viewers per country and CDN (a quorum is 8), on four networks per country
    const sessions: Session[] = COUNTRIES.flatMap((country, c) =>
      PATHWAY_IDS.flatMap((pathway) => Array.from({ length: VIEWERS_PER_CELL }, (_, i) => ({ sid: `${country}-${pathway}-${i}`, country, asn: 1000 * (c + 1) + (i % 4), pathway }))),
    );
    const down = (s: Session, outage: boolean) => outage && s.country === 'DE' && s.pathway === 'cf-b';
    let segment = 0;
    /**
     * One minute of viewing: every session's requests, logged by its CDN. During the outage a DE session on
     * cf-b gets 503 twice, then fails over to the next CDN and plays on from there (hls.js: retry, then the
     * next pathway). With `reports`, the DE viewers also post what they saw through the ingest.
     */
    const playMinute = async (minute: number, options: { outage: boolean; reports: boolean; probes?: number }) => {
      const probes: Session[] = Array.from({ length: options.probes ?? 0 }, (_, k) => ({ sid: `DE-probe-${minute}-${k}`, country: 'DE', asn: 1000 + k, pathway: 'cf-b' }));
      const requests: LoggedRequest[] = [];
      const reports: { session: Session; lines: string[] }[] = [];
      for (const s of [...sessions, ...probes]) {
        const lines: string[] = [];
        const request = (at: number, status: number) => {
          segment += 1;
          requests.push({ sid: s.sid, country: s.country, asn: s.asn, pathway: s.pathway, status, at, segment, cmcd: { mtp: '(5000)', bl: '(8000)' } });
          lines.push(`e=rr,rc=${status},ttfb=60,mtp=(5000),url="${world.mediaUrl(s.sid, s.pathway, segment)}",sid="${s.sid}"`);
        };
        for (let r = 0; r < REQUESTS_PER_MINUTE; r++) {
          const at = minute + 1000 + r * 15_000 + (segment % 50) * 10;
          if (down(s, options.outage)) {
            request(at, 503);
            request(at + 500, 503);
            s.pathway = s.sid.charCodeAt(s.sid.length - 1) % 2 === 0 ? 'cf-a' : 'cf-c';
          }
          request(at + 1000, 200);
        }
        lines.push(`e=t,sta=p,ts=${minute + 50_000},sid="${s.sid}"`);
        if (s.country === 'DE') reports.push({ session: s, lines: lines.slice(0, 3).concat(lines.at(-1)!) });
      }
      await world.logRequests(requests);
      if (options.reports) {
        world.clock = minute + 55_000;
        for (const { session, lines } of reports) expect(await world.post(session.sid, lines, session)).toBe(204);
      }
      await world.settle();
    };
    const weights = async () => Object.fromEntries(await Promise.all(COUNTRIES.map(async (c) => [c, await world.weightsOf(c)] as const)));

    // a healthy minute: every country's weights settle at equal shares
    await playMinute(START, { outage: false, reports: true });
    await world.tick(START + 40_000);
    await world.tick(START + 50_000);
    const healthy = await weights();

    // Act: the outage starts with the next minute and lasts seven, past the 300 s hold after the demotion
    const seen: { at: number; weights: Awaited<ReturnType<typeof weights>> }[] = [];
    const M1 = START + MINUTE_MS;
    await playMinute(M1, { outage: true, reports: true });
    for (const at of [M1 + 20_000, M1 + 30_000]) {
      await world.tick(at);
      seen.push({ at, weights: await weights() });
    }
    for (let k = 2; k <= 7; k++) {
      const minute = START + k * MINUTE_MS;
      // New DE sessions the weights still steer to cf-b (the probe share): they meet it dead and fail over.
      await playMinute(minute, { outage: true, reports: false, probes: 1 });
      for (const at of [minute + 30_000, minute + 40_000]) {
        await world.tick(at);
        seen.push({ at, weights: await weights() });
      }
    }

    // Assess
    for (const c of COUNTRIES) for (const p of PATHWAY_IDS) expect(healthy[c]![p], `${p} in ${c} before the outage`).toBeCloseTo(1 / 3, 2);
    for (const { at, weights: w } of seen) {
      const when = `${(at - M1) / 1000} s into the outage`;
      expect(w.DE!['cf-b'], `DE cf-b ${when}`).toBeLessThan(0.1);
      for (const c of ['FR', 'IT'] as const) {
        for (const p of PATHWAY_IDS) expect(Math.abs(w[c]![p]! - healthy[c]![p]!), `${p} in ${c} ${when}`).toBeLessThanOrEqual(0.05);
      }
    }
    // the last tick read no minute of DE's burst of failures: what held cf-b down there is its local failure
    expect(windowMinutesAt(seen.at(-1)!.at, DEFAULT_SCORING_PARAMS)).not.toContain(M1);
  }, 90_000);
});
