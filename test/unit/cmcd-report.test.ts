import { CMCD_KEYS, CmcdReporter } from '@svta/cml-cmcd';
import { describe, expect, it } from 'vitest';
import type { Cmcd } from '@svta/cml-cmcd';
import {
  type CmcdReportContext,
  cmcdEventsToSamples,
  decodeCmcdReportLines,
  DEFAULT_REPORT_INTERVAL_MS,
  encodeIngestRecord,
  evidenceClaimOf,
  ingestRecordToSamples,
  MAX_REPORT_INTERVAL_MS,
  parseIngestRecord,
  PLAYER_VALUE_BOUNDS,
  reportIntervalOf,
  SESSION_MINUTE_BUDGET,
  stallBound,
  splitCmcdReportBody,
  verifiedHostsOf,
} from '../../core/cmcd-report';
import { buildPathwayHosts } from '../../core/pathway-hosts';
import { FIXTURE_PATHWAYS, hlsjsCmcdReportBodies, malformedReasonOf } from '../support/telemetry';

const hosts = buildPathwayHosts(FIXTURE_PATHWAYS);
const SID = '6e2f1c4a-3b7d-4a8e-9c1f-2d5e8b7a9c0d';
const bodies = hlsjsCmcdReportBodies();
const HOST_A = 'd111111abcdef8.cloudfront.net';
const HOST_B = 'd222222abcdef8.cloudfront.net';
const base = { receivedAt: 1_700_000_030_000, country: 'DE', asn: 3320, assetId: 'big-buck', hosts, intervalMs: 30_000, grant: SESSION_MINUTE_BUDGET };
/** The context of events whose verified host is `host` for every line (what the ingest works out). */
const ctxFor = (events: readonly Cmcd[], host = HOST_A, overrides: Partial<CmcdReportContext> = {}): CmcdReportContext => ({
  ...base,
  verifiedHosts: events.map(() => host),
  ...overrides,
});
const samplesWith = (events: readonly Cmcd[], host = HOST_A, overrides: Partial<CmcdReportContext> = {}) => cmcdEventsToSamples(events, ctxFor(events, host, overrides));
/** The ingest's URL check for fixture URLs: the host of any URL of a fixture pathway. */
const acceptAnyFixtureUrl = (url: string) => {
  const host = new URL(url).host;
  return [HOST_A, HOST_B].includes(host) ? host : undefined;
};

describe('decoding hls.js CMCD v2 event reports', () => {
  it('decodes every line of a report body with @svta/cml-cmcd', () => {
    const events = decodeCmcdReportLines(splitCmcdReportBody(bodies[1]!));

    expect(events.map((e) => e.e)).toEqual(['rr', 'ps', 't', 'ps']);
    expect(events[0]).toMatchObject({ sid: SID, rc: 200, ttfb: 45, br: [3000] });
  });

  it('ignores blank lines and CRLF line ends', () => {
    expect(splitCmcdReportBody('e=t,sid="a"\r\n\r\ne=ps,sta=p,sid="a"\n')).toEqual(['e=t,sid="a"', 'e=ps,sta=p,sid="a"']);
  });

  it.each([
    ['an undecodable line', 'e=t,sid="a"\n"unterminated', 'bad-cmcd-line'],
    ['a line without an event type', 'sid="a",bl=(100)', 'cmcd-line-without-event'],
    ['an oversize line', `e=t,sid="${'a'.repeat(5000)}"`, 'oversize-cmcd-line'],
  ])('rejects %s', (_name, body, reason) => {
    expect(malformedReasonOf(() => decodeCmcdReportLines(splitCmcdReportBody(body)))).toBe(reason);
  });
});

describe('verified pathway of player lines', () => {
  it('attributes every line of an hls.js report to the host of the verified response URL, carried to later lines', () => {
    const events = decodeCmcdReportLines(splitCmcdReportBody(bodies[1]!));
    const { hosts: verified } = verifiedHostsOf(events, acceptAnyFixtureUrl);

    const { samples, unattributed } = cmcdEventsToSamples(events, { ...base, verifiedHosts: verified });

    expect(unattributed).toBe(0);
    expect(samples.map((s) => s.pathway)).toEqual(['cf-a', 'cf-a', 'cf-a', 'cf-a']);
    expect(samples[0]).toMatchObject({ source: 'cmcd', country: 'DE', asn: 3320, sid: SID, assetId: 'big-buck', status: 200, ttfbMs: 45, bitrateKbps: 3000, throughputKbps: 5000, bufferMs: 8000 });
  });

  it('attributes a report without any URL (hls.js batch size 1) to the session\'s last verified host', () => {
    const events = decodeCmcdReportLines(splitCmcdReportBody(bodies[0]!));

    const { hosts: verified, lastHost } = verifiedHostsOf(events, acceptAnyFixtureUrl, HOST_B);

    expect(verified).toEqual([HOST_B, HOST_B, HOST_B, HOST_B]);
    expect(lastHost).toBe(HOST_B);
  });

  it('never takes the free-text cdn= claim: a line whose host the ingest could not verify is unattributed', () => {
    const events = decodeCmcdReportLines([`e=t,sta=r,cdn="cf-a",h="${HOST_A}",sid="${SID}"`]);

    const { hosts: verified } = verifiedHostsOf(events, acceptAnyFixtureUrl);
    const { samples, unattributed } = cmcdEventsToSamples(events, { ...base, verifiedHosts: verified });

    expect(verified).toEqual(['']);
    expect(samples).toHaveLength(0);
    expect(unattributed).toBe(1);
  });

  it('does not move a session to the host of a URL the ingest refused (another session\'s token)', () => {
    const events = decodeCmcdReportLines([`e=rr,rc=503,url="https://${HOST_B}/T/media/a/r/x.m4s",sid="${SID}"`]);

    expect(verifiedHostsOf(events, () => undefined, HOST_A).hosts).toEqual([HOST_A]);
  });
});

describe('cmcdEventsToSamples', () => {
  it('counts a play-state change into rebuffering as a stall and a rebuffering interval as stall time', () => {
    const { samples } = samplesWith(decodeCmcdReportLines(splitCmcdReportBody(bodies[1]!)));

    expect(samples[1]).toMatchObject({ starved: true });
    expect(samples[2]).toMatchObject({ stallMs: 30_000 });
    expect(samples[2]!.playMs).toBeUndefined();
  });

  it('counts a playing interval as the interval the session actually reports at', () => {
    const events = decodeCmcdReportLines([`e=t,sta=p,sid="${SID}",ts=1700000020000`]);

    expect(samplesWith(events, HOST_B, { intervalMs: 10_000 }).samples[0]).toMatchObject({ pathway: 'cf-b', playMs: 10_000 });
  });

  it('counts a fatal error once although hls.js sends both a ps=f and an e event', () => {
    const events = decodeCmcdReportLines([`e=ps,sta=f,sid="${SID}",ts=1700000020000`, `e=e,ec=("fragLoadError"),sta=f,sid="${SID}",ts=1700000020001`]);

    expect(samplesWith(events).samples.filter((s) => s.fatalError)).toHaveLength(1);
  });

  it('uses bsd durations and msd startup delay when the player sends them', () => {
    const events = decodeCmcdReportLines([`e=ps,sta=p,bsd=(1200 300),msd=850,sid="${SID}",ts=1700000020000`]);

    expect(samplesWith(events).samples[0]).toMatchObject({ stallMs: 1500, startupMs: 850 });
  });

  it('buckets every line at the server receive time, whatever the client clock says', () => {
    const events = decodeCmcdReportLines([`e=t,sta=p,sid="${SID}",ts=1500000000000`, `e=t,sta=p,sid="${SID}",ts=1700000029000`]);

    expect(samplesWith(events).samples.map((s) => s.ts)).toEqual([base.receivedAt, base.receivedAt]);
  });

  it('takes the video entry of an inner list with object-type parameters', () => {
    const events = decodeCmcdReportLines([`e=bc,br=(128;a 3000;v),sid="${SID}",ts=1700000020000`]);

    expect(samplesWith(events).samples[0]!.bitrateKbps).toBe(3000);
  });

  it('reads a report produced live by the CmcdReporter hls.js uses', async () => {
    const posted: { headers?: Record<string, string>; body?: unknown }[] = [];
    const reporter = new CmcdReporter(
      {
        sid: SID,
        cid: 'big-buck',
        version: 2,
        enabledKeys: [...CMCD_KEYS],
        eventTargets: [{ url: 'https://ingest.example/v1/cmcd/T', events: ['ps', 'rr'], enabledKeys: [...CMCD_KEYS], batchSize: 3 }],
      },
      async (request) => {
        posted.push(request as never);
        return { status: 204 };
      },
    );
    reporter.update({ sf: 'h', sta: 's' });
    const request = reporter.createRequestReport({ url: `https://${HOST_B}/T/media/big-buck/r1/v1/seg_1.m4s` }, { ot: 'v' });
    reporter.recordResponseReceived({ request, status: 503, resourceTiming: { startTime: 1, responseStart: 40, duration: 41, encodedBodySize: 1000 } });
    reporter.update({ sta: 'p' });
    reporter.flush();

    expect(posted[0]!.headers).toEqual({ 'Content-Type': 'application/cmcd' });
    const events = decodeCmcdReportLines(splitCmcdReportBody(String(posted[0]!.body)));
    const { samples } = cmcdEventsToSamples(events, { ...base, verifiedHosts: verifiedHostsOf(events, acceptAnyFixtureUrl).hosts });
    expect(samples.map((s) => [s.pathway, s.status])).toContainEqual(['cf-b', 503]);
  });
});

describe('per-session evidence budget', () => {
  const stalls = (n: number) => decodeCmcdReportLines(Array.from({ length: n }, (_, i) => `e=t,sta=r,sid="${SID}",sn=${i}`));

  it('caps the stall time of 200 e=t,sta=r lines at what the ingest granted, however many lines claim it', () => {
    const { samples, overBudget } = samplesWith(stalls(200), HOST_A, { grant: { ms: 60_000, lines: 60 } });

    expect(samples.reduce((sum, s) => sum + (s.sessionOnly ? 0 : (s.stallMs ?? 0)), 0)).toBe(60_000);
    expect(samples.filter((s) => !s.sessionOnly)).toHaveLength(60);
    expect(overBudget).toBe(140);
  });

  it('adds nothing but the session mark once the session\'s minute is spent (a later POST of the same minute)', () => {
    const { samples } = samplesWith(stalls(3), HOST_A, { grant: { ms: 0, lines: 0 } });

    expect(samples.every((s) => s.sessionOnly === true)).toBe(true);
    expect(samples.every((s) => s.sid === SID)).toBe(true);
  });

  it('claims the time and lines of a report so the ingest can take them from the session-minute budget', () => {
    const events = decodeCmcdReportLines([`e=t,sta=p,sid="${SID}"`, `e=t,sta=r,sid="${SID}"`, `e=bs,bsd=(1500),sid="${SID}"`, `e=rr,rc=200,sid="${SID}"`]);

    expect(evidenceClaimOf(events, 10_000)).toEqual({ ms: 21_500, lines: 4 });
  });

  it('sets aside one bsd=(999999999) and claims no time for it', () => {
    const events = decodeCmcdReportLines([`e=t,sta=r,bsd=(999999999),sid="${SID}"`]);

    const { samples, implausible } = samplesWith(events);

    expect(evidenceClaimOf(events, 30_000).ms).toBe(0);
    expect(implausible).toBe(1);
    expect(samples[0]!.stallMs).toBeUndefined();
  });
});

describe('reportIntervalOf', () => {
  const tAt = (...times: number[]) => decodeCmcdReportLines(times.map((ts) => `e=t,sta=p,sid="${SID}",ts=${ts}`));

  it('takes the gap between the session\'s last two t events (a player reporting every 10 s)', () => {
    expect(reportIntervalOf(tAt(1_700_000_010_000), 1_700_000_000_000)).toEqual({ intervalMs: 10_000, lastT: 1_700_000_010_000 });
    expect(reportIntervalOf(tAt(1_700_000_000_000, 1_700_000_005_000)).intervalMs).toBe(5_000);
  });

  it('assumes the default 30 s before a second t event and caps a long pause', () => {
    expect(reportIntervalOf(tAt(1_700_000_000_000)).intervalMs).toBe(DEFAULT_REPORT_INTERVAL_MS);
    expect(reportIntervalOf(tAt(1_700_003_000_000), 1_700_000_000_000).intervalMs).toBe(MAX_REPORT_INTERVAL_MS);
  });
});

describe('ingest records', () => {
  const record = (lines: string[], sid = SID) =>
    encodeIngestRecord({ rt: base.receivedAt, country: 'DE', asn: 3320, sid, aid: 'big-buck', lines, vh: lines.map(() => HOST_A), iv: 30_000, gms: 60_000, gn: 60 });

  it('round-trips and yields samples carrying server-side country and the token asset', () => {
    const parsed = parseIngestRecord(record(splitCmcdReportBody(bodies[1]!)));

    expect(parsed).toMatchObject({ t: 'cmcd', v: 2, country: 'DE', sid: SID, iv: 30_000, gms: 60_000, gn: 60 });
    expect(ingestRecordToSamples(parsed, hosts).samples).toHaveLength(4);
  });

  it('drops lines of another session even if they reached the stream', () => {
    expect(ingestRecordToSamples(parseIngestRecord(record([`e=t,sta=p,sid="${SID}"`], 'other')), hosts).samples).toHaveLength(0);
  });

  it('reads a version 1 record (before per-session budgets) with the URL hosts and one session-minute budget', () => {
    const lines = splitCmcdReportBody(bodies[1]!);
    const parsed = parseIngestRecord(JSON.stringify({ t: 'cmcd', v: 1, rt: base.receivedAt, country: 'DE', sid: SID, lines }));

    expect(parsed).toMatchObject({ v: 2, iv: DEFAULT_REPORT_INTERVAL_MS, gms: SESSION_MINUTE_BUDGET.ms, gn: SESSION_MINUTE_BUDGET.lines });
    expect(parsed.vh[0]).toBe(HOST_A);
  });

  it.each([
    ['not JSON', '{oops', 'bad-json'],
    ['another type', '{"t":"x","v":2}', 'unknown-record-type'],
    ['a bad country', '{"t":"cmcd","v":2,"rt":1,"country":"Germany","sid":"s","lines":["e=t"]}', 'bad-country'],
    ['no lines', '{"t":"cmcd","v":2,"rt":1,"country":"DE","sid":"s","lines":[]}', 'bad-lines'],
    ['hosts not aligned with lines', '{"t":"cmcd","v":2,"rt":1,"country":"DE","sid":"s","lines":["e=t"],"vh":[],"iv":30000,"gms":0,"gn":0}', 'bad-vh'],
    ['a grant beyond the session budget', '{"t":"cmcd","v":2,"rt":1,"country":"DE","sid":"s","lines":["e=t"],"vh":[""],"iv":30000,"gms":60001,"gn":0}', 'bad-gms'],
    ['an interval out of range', '{"t":"cmcd","v":2,"rt":1,"country":"DE","sid":"s","lines":["e=t"],"vh":[""],"iv":0,"gms":0,"gn":0}', 'bad-iv'],
  ])('rejects %s', (_name, text, reason) => {
    expect(malformedReasonOf(() => parseIngestRecord(text))).toBe(reason);
  });
});

describe('bounds on player-reported values', () => {
  const line = (fields: string) => `e=rr,sid="${SID}",${fields}`;
  const samplesOf = (...lines: string[]) => samplesWith(decodeCmcdReportLines(lines), HOST_A, { intervalMs: 10_000 });

  it('sets aside a ttfb that is a clock reading (dash.js 5 sends epoch milliseconds) and counts it', () => {
    // Prepare / Act
    const { samples, implausible } = samplesOf(line('rc=200,ttfb=1796182414387'));

    // Assess: the line still counts (its status is real), the TTFB does not
    expect(implausible).toBe(1);
    expect(samples).toHaveLength(1);
    expect(samples[0]!.ttfbMs).toBeUndefined();
    expect(samples[0]!.status).toBe(200);
  });

  it('keeps values within the bounds, including the bounds themselves', () => {
    const { samples, implausible } = samplesOf(
      line(`rc=599,ttfb=${PLAYER_VALUE_BOUNDS.ttfbMs.max},mtp=(${PLAYER_VALUE_BOUNDS.throughputKbps.max}),br=(0),bl=(0)`),
      `e=t,sid="${SID}",sta=r,bsd=(${stallBound(10_000)}),msd=${PLAYER_VALUE_BOUNDS.startupMs.max}`,
    );

    expect(implausible).toBe(0);
    expect(samples[0]).toMatchObject({ status: 599, ttfbMs: 60_000, throughputKbps: 10_000_000, bitrateKbps: 0, bufferMs: 0 });
    expect(samples[1]).toMatchObject({ stallMs: 20_000, startupMs: 600_000 });
  });

  it.each([
    ['a negative ttfb', line('ttfb=-5'), 'ttfbMs'],
    ['a ttfb beyond a minute', line('ttfb=60001'), 'ttfbMs'],
    ['a starvation longer than two reporting intervals', `e=t,sid="${SID}",sta=r,bsd=(999999999)`, 'stallMs'],
    ['a negative starvation', `e=bs,sid="${SID}",bsd=(-1)`, 'stallMs'],
    ['a throughput beyond 10 Gbit/s', line('mtp=(10000001)'), 'throughputKbps'],
    ['a bitrate beyond 500 Mbit/s', line('br=(999999)'), 'bitrateKbps'],
    ['a buffer beyond an hour', line('bl=(3600001)'), 'bufferMs'],
    ['a startup beyond ten minutes', `e=ps,sid="${SID}",sta=p,msd=600001`, 'startupMs'],
    ['a status that is not an HTTP status', line('rc=1000'), 'status'],
    ['a fractional status', line('rc=200.5'), 'status'],
  ] as const)('sets aside %s and counts it', (_name, reportLine, field) => {
    const { samples, implausible } = samplesOf(reportLine);

    expect(implausible).toBe(1);
    expect(samples[0]![field]).toBeUndefined();
  });
});
