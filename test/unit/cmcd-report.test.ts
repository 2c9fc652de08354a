import { CMCD_KEYS, CmcdReporter } from '@svta/cml-cmcd';
import { describe, expect, it } from 'vitest';
import {
  cmcdEventsToSamples,
  decodeCmcdReportLines,
  encodeIngestRecord,
  ingestRecordToSamples,
  parseIngestRecord,
  PLAYER_VALUE_BOUNDS,
  stallBound,
  splitCmcdReportBody,
} from '../../core/cmcd-report';
import { buildPathwayHosts } from '../../core/pathway-hosts';
import { FIXTURE_PATHWAYS, hlsjsCmcdReportBodies, malformedReasonOf } from '../support/telemetry';

const hosts = buildPathwayHosts(FIXTURE_PATHWAYS);
const SID = '6e2f1c4a-3b7d-4a8e-9c1f-2d5e8b7a9c0d';
const bodies = hlsjsCmcdReportBodies();
const ctx = { receivedAt: 1_700_000_030_000, country: 'DE', asn: 3320, assetId: 'big-buck', hosts };

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

describe('cmcdEventsToSamples', () => {
  it('attributes events to the pathway of the response URL and carries it to later lines of the session', () => {
    const { samples, unattributed } = cmcdEventsToSamples(decodeCmcdReportLines(splitCmcdReportBody(bodies[1]!)), ctx);

    expect(unattributed).toBe(0);
    expect(samples.map((s) => s.pathway)).toEqual(['cf-a', 'cf-a', 'cf-a', 'cf-a']);
    expect(samples[0]).toMatchObject({ source: 'cmcd', country: 'DE', asn: 3320, sid: SID, assetId: 'big-buck', status: 200, ttfbMs: 45, bitrateKbps: 3000, throughputKbps: 5000, bufferMs: 8000 });
  });

  it('counts a play-state change into rebuffering as a stall and a rebuffering interval as stall time', () => {
    const { samples } = cmcdEventsToSamples(decodeCmcdReportLines(splitCmcdReportBody(bodies[1]!)), ctx);

    expect(samples[1]).toMatchObject({ starved: true });
    expect(samples[2]).toMatchObject({ stallMs: 30_000 });
    expect(samples[2]!.playMs).toBeUndefined();
  });

  it('counts a playing interval as play time using the configured interval', () => {
    const events = decodeCmcdReportLines([`e=t,sta=p,cdn="cf-b",sid="${SID}",ts=1700000020000`]);

    expect(cmcdEventsToSamples(events, { ...ctx, intervalMs: 10_000 }).samples[0]).toMatchObject({ pathway: 'cf-b', playMs: 10_000 });
  });

  it('counts a fatal error once although hls.js sends both a ps=f and an e event', () => {
    const events = decodeCmcdReportLines([
      `e=ps,sta=f,h="d111111abcdef8.cloudfront.net",sid="${SID}",ts=1700000020000`,
      `e=e,ec=("fragLoadError"),sta=f,sid="${SID}",ts=1700000020001`,
    ]);

    expect(cmcdEventsToSamples(events, ctx).samples.filter((s) => s.fatalError)).toHaveLength(1);
  });

  it('uses bsd durations and msd startup delay when the player sends them', () => {
    const events = decodeCmcdReportLines([`e=ps,sta=p,cdn="cf-a",bsd=(1200 300),msd=850,sid="${SID}",ts=1700000020000`]);

    expect(cmcdEventsToSamples(events, ctx).samples[0]).toMatchObject({ stallMs: 1500, startupMs: 850 });
  });

  it('counts lines that name no pathway as unattributed instead of guessing', () => {
    const { samples, unattributed } = cmcdEventsToSamples(decodeCmcdReportLines(splitCmcdReportBody(bodies[0]!)), ctx);

    expect(samples).toHaveLength(0);
    expect(unattributed).toBe(4);
  });

  it('buckets an event with an implausible client clock at the receive time', () => {
    const events = decodeCmcdReportLines([`e=t,sta=p,cdn="cf-a",sid="${SID}",ts=1500000000000`]);

    expect(cmcdEventsToSamples(events, ctx).samples[0]!.ts).toBe(ctx.receivedAt);
  });

  it('takes the video entry of an inner list with object-type parameters', () => {
    const events = decodeCmcdReportLines([`e=bc,br=(128;a 3000;v),cdn="cf-a",sid="${SID}",ts=1700000020000`]);

    expect(cmcdEventsToSamples(events, ctx).samples[0]!.bitrateKbps).toBe(3000);
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
    const request = reporter.createRequestReport({ url: 'https://d222222abcdef8.cloudfront.net/T/media/big-buck/r1/v1/seg_1.m4s' }, { ot: 'v' });
    reporter.recordResponseReceived({ request, status: 503, resourceTiming: { startTime: 1, responseStart: 40, duration: 41, encodedBodySize: 1000 } });
    reporter.update({ sta: 'p' });
    reporter.flush();

    expect(posted[0]!.headers).toEqual({ 'Content-Type': 'application/cmcd' });
    const { samples } = cmcdEventsToSamples(decodeCmcdReportLines(splitCmcdReportBody(String(posted[0]!.body))), {
      ...ctx,
      receivedAt: Date.now(),
    });
    expect(samples.map((s) => [s.pathway, s.status])).toContainEqual(['cf-b', 503]);
  });
});

describe('ingest records', () => {
  it('round-trips and yields samples carrying server-side country and the token asset', () => {
    const text = encodeIngestRecord({ rt: ctx.receivedAt, country: 'DE', asn: 3320, sid: SID, aid: 'big-buck', lines: splitCmcdReportBody(bodies[1]!) });
    const record = parseIngestRecord(text);

    expect(record).toMatchObject({ t: 'cmcd', v: 1, country: 'DE', sid: SID });
    expect(ingestRecordToSamples(record, hosts).samples).toHaveLength(4);
  });

  it('drops lines of another session even if they reached the stream', () => {
    const record = parseIngestRecord(
      encodeIngestRecord({ rt: ctx.receivedAt, country: 'DE', sid: 'other', lines: [`e=t,sta=p,cdn="cf-a",sid="${SID}"`] }),
    );

    expect(ingestRecordToSamples(record, hosts).samples).toHaveLength(0);
  });

  it.each([
    ['not JSON', '{oops', 'bad-json'],
    ['another type', '{"t":"x","v":1}', 'unknown-record-type'],
    ['a bad country', '{"t":"cmcd","v":1,"rt":1,"country":"Germany","sid":"s","lines":["e=t"]}', 'bad-country'],
    ['no lines', '{"t":"cmcd","v":1,"rt":1,"country":"DE","sid":"s","lines":[]}', 'bad-lines'],
  ])('rejects %s', (_name, text, reason) => {
    expect(malformedReasonOf(() => parseIngestRecord(text))).toBe(reason);
  });
});

describe('bounds on player-reported values', () => {
  const line = (fields: string) => `e=rr,sid="${SID}",cdn="cf-a",${fields}`;
  const samplesOf = (...lines: string[]) => cmcdEventsToSamples(decodeCmcdReportLines(lines), { ...ctx, intervalMs: 10_000 });

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
      `e=t,sid="${SID}",cdn="cf-a",sta=r,bsd=(${stallBound(10_000)}),msd=${PLAYER_VALUE_BOUNDS.startupMs.max}`,
    );

    expect(implausible).toBe(0);
    expect(samples[0]).toMatchObject({ status: 599, ttfbMs: 60_000, throughputKbps: 10_000_000, bitrateKbps: 0, bufferMs: 0 });
    expect(samples[1]).toMatchObject({ stallMs: 20_000, startupMs: 600_000 });
  });

  it.each([
    ['a negative ttfb', line('ttfb=-5'), 'ttfbMs'],
    ['a ttfb beyond a minute', line('ttfb=60001'), 'ttfbMs'],
    ['a starvation longer than two reporting intervals', `e=t,sid="${SID}",cdn="cf-a",sta=r,bsd=(999999999)`, 'stallMs'],
    ['a negative starvation', `e=bs,sid="${SID}",cdn="cf-a",bsd=(-1)`, 'stallMs'],
    ['a throughput beyond 10 Gbit/s', line('mtp=(10000001)'), 'throughputKbps'],
    ['a bitrate beyond 500 Mbit/s', line('br=(999999)'), 'bitrateKbps'],
    ['a buffer beyond an hour', line('bl=(3600001)'), 'bufferMs'],
    ['a startup beyond ten minutes', `e=ps,sid="${SID}",cdn="cf-a",sta=p,msd=600001`, 'startupMs'],
    ['a status that is not an HTTP status', line('rc=1000'), 'status'],
    ['a fractional status', line('rc=200.5'), 'status'],
  ] as const)('sets aside %s and counts it', (_name, reportLine, field) => {
    const { samples, implausible } = samplesOf(reportLine);

    expect(implausible).toBe(1);
    expect(samples[0]![field]).toBeUndefined();
  });

  it('does not turn a rejected starvation into a full interval of stall time', () => {
    const { samples } = samplesOf(`e=t,sid="${SID}",cdn="cf-a",sta=r,bsd=(999999999)`);

    expect(samples[0]!.stallMs).toBeUndefined();
  });
});
