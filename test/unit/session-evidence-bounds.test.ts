import { describe, expect, it } from 'vitest';
import { encodeIngestRecord, SESSION_MINUTE_BUDGET, sessionMediaHostOf } from '../../core/cmcd-report';
import { generateInitialKeyring } from '../../core/keyring';
import { buildPathwayHosts } from '../../core/pathway-hosts';
import { aggregateSamples, aggregateSessionEvidence, samplesOfStreamRecord } from '../../core/qoe-aggregate';
import type { QoeSample } from '../../core/qoe-types';
import { formatRealtimeLogLine } from '../../core/realtime-log';
import { LADDERS } from '../../core/ladder';
import { LogLineEvidenceBudget, ReportEvidenceBudget, sessionCountsOf, THROUGHPUT_VALUES_PER_SESSION_MINUTE, ThroughputEvidenceBudget, withoutPlayerValues } from '../../core/session-evidence';
import { signToken } from '../../core/token';
import { FIXTURE_PATHWAYS } from '../support/telemetry';

// Evidence rules of ADRs 0068 and 0069: a session's request CMCD (carried in CDN log lines) moves a cell no
// more than its reports can, and only a media URL of the session's own token proves its pathway.
// Two seconds into a UTC minute: a minute's worth of test lines stays in one minute.
const NOW_MS = 1_700_000_042_000;
const keyring = generateInitialKeyring({ nowSeconds: 1_699_990_000, kid: 'k1', key: Buffer.alloc(32, 7) });
const otherKeyring = generateInitialKeyring({ nowSeconds: 1_699_990_000, kid: 'k1', key: Buffer.alloc(32, 9) });
const HOST_A = FIXTURE_PATHWAYS[0]!.host;
const hosts = buildPathwayHosts(FIXTURE_PATHWAYS);
const tokenOf = (sid: string, aid = 'big-buck', ring = keyring) => signToken({ sid, aid, exp: NOW_MS / 1000 + 3600 }, ring);

/** A log line of a segment request the edge served, with the CMCD the player put on it. */
function servedLine(sid: string, i: number, cmcd: { mtp?: string; bl?: string; br?: string; bs?: string } = {}, tsSeconds = NOW_MS / 1000): string {
  return formatRealtimeLogLine({
    timestamp: (tsSeconds + i * 0.005).toFixed(3),
    'time-to-first-byte': '0.010',
    'sc-status': 200,
    'sc-bytes': 250_000,
    'cs-method': 'GET',
    'cs-host': HOST_A,
    'cs-uri-stem': `/${tokenOf(sid)}/media/big-buck/r1/v720/seg_${i}.m4s`,
    'x-edge-request-id': `req-${sid}-${i}`,
    'x-host-header': HOST_A,
    'time-taken': '0.050',
    'x-edge-result-type': 'Hit',
    'c-country': 'DE',
    asn: 3320,
    'cmcd-measured-throughput': cmcd.mtp,
    'cmcd-buffer-length': cmcd.bl,
    'cmcd-encoded-bitrate': cmcd.br,
    'cmcd-buffer-starvation': cmcd.bs,
    'cmcd-version': 2,
  });
}

const logSample = (over: Partial<QoeSample> = {}): QoeSample => ({
  ts: NOW_MS,
  source: 'cdn-log',
  pathway: 'cf-a',
  country: 'DE',
  sid: 'hostile',
  status: 200,
  bytes: 1000,
  ttfbMs: 10,
  throughputKbps: 1,
  bufferMs: 3_600_000,
  bitrateKbps: 500_000,
  starved: true,
  ...over,
});

describe('per-session budget of player values carried in CDN log lines (ADR 0069)', () => {
  it('keeps the player values of a session\'s first 60 lines of a minute and sets aside the rest, keeping the CDN\'s facts', () => {
    const budget = new LogLineEvidenceBudget();
    const admitted = Array.from({ length: 200 }, () => budget.admit(logSample()));

    expect(admitted.filter((a) => !a.setAside)).toHaveLength(SESSION_MINUTE_BUDGET.lines);
    const late = admitted[SESSION_MINUTE_BUDGET.lines]!;
    expect(late.setAside).toBe(true);
    expect(late.sample).toEqual({ ts: NOW_MS, source: 'cdn-log', pathway: 'cf-a', country: 'DE', sid: 'hostile', status: 200, bytes: 1000, ttfbMs: 10 });
  });

  it('bounds a request flood of absurd CMCD: a cell\'s throughput, stalls and requests as 200 lines of one session would move them', () => {
    // Prepare: 20 honest sessions, 10 logged requests each at 5 Mbit/s; one session floods 2,000 requests claiming 1 kbit/s and starvation
    const honest = Array.from({ length: 20 }, (_, s) => Array.from({ length: 10 }, (_, i) => servedLine(`honest-${s}`, i, { mtp: '5000', bl: '(8000)' }))).flat();
    const flood = Array.from({ length: 2000 }, (_, i) => servedLine('hostile', i, { mtp: '(1)', bs: 'true', bl: '3600000', br: '(500000)' }));
    const budget = new LogLineEvidenceBudget();

    // Act: the aggregator's path, one record per line, one budget across them
    const parsed = [...honest, ...flood].map((line) => samplesOfStreamRecord(line, hosts, budget));
    const samples = parsed.flatMap((p) => p.samples);
    const [cell] = [...aggregateSamples(samples).values()];
    const [bits] = [...aggregateSessionEvidence(samples).values()];

    // Assess: every request still counts (the CDN served them), but only 60 of the flood's claims do
    expect(cell!.requests).toBe(200 + 2000);
    expect(cell!.throughputCount).toBe(200 + SESSION_MINUTE_BUDGET.lines);
    expect(cell!.throughputKbpsSum).toBe(200 * 5000 + SESSION_MINUTE_BUDGET.lines * 1);
    expect(cell!.stalls).toBe(SESSION_MINUTE_BUDGET.lines);
    expect(parsed.reduce((n, p) => n + p.overBudget, 0)).toBe(2000 - SESSION_MINUTE_BUDGET.lines);
    // one stalled session, however many lines said so
    expect(sessionCountsOf(bits!)).toMatchObject({ stallSessions: 1 });
  });

  it('gives each session-minute its own budget: another session, or the next minute by the CDN clock', () => {
    const budget = new LogLineEvidenceBudget(2);
    const take = (over: Partial<QoeSample>) => budget.admit(logSample(over)).setAside;

    expect([take({}), take({}), take({})]).toEqual([false, false, true]);
    expect(take({ sid: 'someone-else' })).toBe(false);
    expect(take({ ts: NOW_MS + 60_000 })).toBe(false);
  });

  it('never counts the player values of a log line without a session, and charges nothing for lines without player values', () => {
    const budget = new LogLineEvidenceBudget(1);
    const { sid: _sid, ...sessionless } = logSample();

    expect(budget.admit(sessionless)).toEqual({ sample: withoutPlayerValues(sessionless), setAside: true });
    // a line with only the CDN's facts costs nothing and leaves the session's one line of room
    const plain = withoutPlayerValues(logSample());
    expect(budget.admit(plain)).toEqual({ sample: plain, setAside: false });
    expect(budget.admit(logSample()).setAside).toBe(false);
    // player reports are budgeted by the ingest, not here
    const report = logSample({ source: 'cmcd' });
    expect(budget.admit(report)).toEqual({ sample: report, setAside: false });
  });

  it('forgets the oldest session-minute beyond its size, so memory stays bounded', () => {
    const budget = new LogLineEvidenceBudget(1, 2);
    budget.admit(logSample({ sid: 'a' }));
    budget.admit(logSample({ sid: 'b' }));
    budget.admit(logSample({ sid: 'c' }));

    // a was forgotten and starts over; c is still remembered
    expect(budget.admit(logSample({ sid: 'a' })).setAside).toBe(false);
    expect(budget.admit(logSample({ sid: 'c' })).setAside).toBe(true);
  });

  it('refuses a budget that is not a count, naming the value', () => {
    expect(() => new LogLineEvidenceBudget(-1)).toThrow(/-1/);
    expect(() => new LogLineEvidenceBudget(60, 0)).toThrow(/maxEntries.*0/);
  });

  it('sets aside absurd log CMCD values instead of clamping them, and keeps the line (ADR 0053)', () => {
    const [line] = samplesOfStreamRecord(servedLine('s', 0, { mtp: '99999999999', bl: '(7200000)', br: '1e9' }), hosts).samples;

    expect(line).not.toHaveProperty('throughputKbps');
    expect(line).not.toHaveProperty('bufferMs');
    expect(line).not.toHaveProperty('bitrateKbps');
    expect(line).toMatchObject({ status: 200, bytes: 250_000, sid: 's' });
  });
});

describe('per-session budget of throughput values, reports and log lines together (ADR 0069, note of 2026-12-02)', () => {
  const reportSample = (over: Partial<QoeSample> = {}): QoeSample => ({ ts: NOW_MS, source: 'cmcd', pathway: 'cf-a', country: 'DE', sid: 'hostile', throughputKbps: 1, ...over });

  it('counts the throughput of at most the budget\'s samples of a session-minute, across both sources', () => {
    const budget = new ThroughputEvidenceBudget();
    const claims = Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? reportSample() : logSample()));

    const admitted = budget.admitAll(claims);

    expect(admitted.samples.filter((s) => s.throughputKbps !== undefined)).toHaveLength(THROUGHPUT_VALUES_PER_SESSION_MINUTE);
    expect(admitted.setAside).toBe(200 - THROUGHPUT_VALUES_PER_SESSION_MINUTE);
    // one session's flood moves a cell's mean throughput as one session does
    const [cell] = [...aggregateSamples(admitted.samples).values()];
    expect(cell!.throughputCount).toBe(THROUGHPUT_VALUES_PER_SESSION_MINUTE);
  });

  it('never cuts a player measuring once per segment of the shortest segments the ladder cuts', () => {
    const shortestSegmentSeconds = Math.min(...Object.values(LADDERS).map((ladder) => ladder.segmentSeconds));
    const budget = new ThroughputEvidenceBudget();
    // Starting at a minute's first millisecond: the most segments one minute can hold
    const minuteStart = Math.floor(NOW_MS / 60_000) * 60_000;
    const samples = Array.from({ length: Math.ceil(60 / shortestSegmentSeconds) }, (_, i) => reportSample({ sid: 'honest', ts: minuteStart + i * shortestSegmentSeconds * 1000, throughputKbps: 5000 }));

    const admitted = budget.admitAll(samples);

    expect(admitted.setAside).toBe(0);
    expect(admitted.samples).toEqual(samples);
  });

  it('keeps everything else an over-budget sample says', () => {
    const budget = new ThroughputEvidenceBudget(1);
    budget.admit(logSample());

    const late = budget.admit(logSample());

    expect(late.setAside).toBe(true);
    expect(late.sample).toEqual({ ts: NOW_MS, source: 'cdn-log', pathway: 'cf-a', country: 'DE', sid: 'hostile', status: 200, bytes: 1000, ttfbMs: 10, bufferMs: 3_600_000, bitrateKbps: 500_000, starved: true });
  });

  it('gives each session-minute its own budget: another session, or the next minute of the sample\'s timestamp', () => {
    const budget = new ThroughputEvidenceBudget(2);
    const take = (over: Partial<QoeSample>) => budget.admit(reportSample(over)).setAside;

    expect([take({}), take({ source: 'cdn-log' }), take({})]).toEqual([false, false, true]);
    expect(take({ sid: 'someone-else' })).toBe(false);
    expect(take({ ts: NOW_MS + 60_000 })).toBe(false);
  });

  it('never counts the throughput of a sample without a session, and charges nothing for samples without throughput', () => {
    const budget = new ThroughputEvidenceBudget(1);
    const { sid: _sid, ...sessionless } = reportSample({ bufferMs: 8000 });

    expect(budget.admit(sessionless)).toEqual({ sample: { ts: NOW_MS, source: 'cmcd', pathway: 'cf-a', country: 'DE', bufferMs: 8000 }, setAside: true });
    const { throughputKbps: _t, ...plain } = reportSample();
    expect(budget.admit(plain)).toEqual({ sample: plain, setAside: false });
    expect(budget.admit(reportSample()).setAside).toBe(false);
  });

  it('forgets the oldest session-minute beyond its size, and refuses a budget that is not a count', () => {
    const budget = new ThroughputEvidenceBudget(1, 2);
    for (const sid of ['a', 'b', 'c']) budget.admit(reportSample({ sid }));

    expect(budget.admit(reportSample({ sid: 'a' })).setAside).toBe(false);
    expect(budget.admit(reportSample({ sid: 'c' })).setAside).toBe(true);
    expect(() => new ThroughputEvidenceBudget(1.5)).toThrow(/1\.5/);
    expect(() => new ThroughputEvidenceBudget(12, 0)).toThrow(/maxEntries.*0/);
  });
});

describe('the pathway a response URL proves for its session (ADR 0068)', () => {
  const session = { sid: 'viewer-1', keyring, nowSeconds: NOW_MS / 1000 };
  const media = (token: string, host = HOST_A, path = 'media/big-buck/r1/v720/seg_1.m4s') => `https://${host}/${token}/${path}`;

  it('is the host of a media URL carrying the session\'s own token, normalised', () => {
    expect(sessionMediaHostOf(media(tokenOf('viewer-1'), 'D111111ABCDEF8.cloudfront.net:443'), session)).toBe(HOST_A);
  });

  it('is nothing for the gateway\'s manifest and steering URLs, though they carry the same token', () => {
    expect(sessionMediaHostOf(media(tokenOf('viewer-1'), 'gw.example.net', 'play/big-buck/r1/main.m3u8'), session)).toBeUndefined();
    expect(sessionMediaHostOf(media(tokenOf('viewer-1'), 'gw.example.net', 'steer/big-buck'), session)).toBeUndefined();
  });

  it('is nothing for another session\'s token, a forged token, another asset\'s path or an expired token', () => {
    expect(sessionMediaHostOf(media(tokenOf('viewer-2')), session)).toBeUndefined();
    expect(sessionMediaHostOf(media(tokenOf('viewer-1', 'big-buck', otherKeyring)), session)).toBeUndefined();
    expect(sessionMediaHostOf(media(tokenOf('viewer-1'), HOST_A, 'media/other-film/r1/v720/seg_1.m4s'), session)).toBeUndefined();
    expect(sessionMediaHostOf(media(tokenOf('viewer-1')), { ...session, nowSeconds: NOW_MS / 1000 + 7200 })).toBeUndefined();
  });

  it('is nothing for text that is no URL or a media path a later decoder could read as another asset', () => {
    expect(sessionMediaHostOf('not a url', session)).toBeUndefined();
    expect(sessionMediaHostOf(`https://${HOST_A}/${tokenOf('viewer-1')}/media/big-buck%2f..%2fother/r1/x.m4s`, session)).toBeUndefined();
  });
});

describe('report evidence charged again in the aggregator\'s container (ADR 0101)', () => {
  /** An ingest record as one ingest container granted it: each container gives a session a whole minute's budget. */
  const stalledRecord = (sid: string, rt = NOW_MS) =>
    encodeIngestRecord({
      rt,
      country: 'DE',
      sid,
      aid: 'big-buck',
      lines: Array.from({ length: 4 }, () => `e=t,sta=r,sid="${sid}"`),
      vh: Array.from({ length: 4 }, () => HOST_A),
      iv: 15_000,
      gms: 60_000,
      gn: 4,
    });

  it('grants a session\'s records, each granted a full minute by a different ingest container, one minute of stall together', () => {
    // Prepare: 20 records of one session-minute, as 20 ingest containers would each have granted them
    const budget = new ReportEvidenceBudget();
    // Act
    const samples = Array.from({ length: 20 }, () => samplesOfStreamRecord(stalledRecord('hostile'), hosts, undefined, { budget }).samples).flat();
    // Assess: 80 lines, but 60 s of stall and 60 counted lines at most; the other lines only mark the session
    expect(samples.reduce((sum, s) => sum + (s.sessionOnly ? 0 : (s.stallMs ?? 0)), 0)).toBe(SESSION_MINUTE_BUDGET.ms);
    expect(samples.filter((s) => !s.sessionOnly)).toHaveLength(SESSION_MINUTE_BUDGET.lines);
    const cells = aggregateSamples(samples);
    expect([...cells.values()].reduce((sum, c) => sum + c.stallMs, 0)).toBe(SESSION_MINUTE_BUDGET.ms);
  });

  it('gives another session and the next minute their own budget; the same record normalised again gets the same grant', () => {
    const budget = new ReportEvidenceBudget();
    const stall = (text: string, recordId?: string) =>
      samplesOfStreamRecord(text, hosts, undefined, { budget, ...(recordId !== undefined ? { recordId } : {}) }).samples.reduce((sum, s) => sum + (s.sessionOnly ? 0 : (s.stallMs ?? 0)), 0);
    const record = stalledRecord('s1');

    // A re-emitted claim normalises its records again: same sequence number, same grant (ADR 0057's exact re-emission)
    expect(stall(record, 'shard-0/1')).toBe(60_000);
    expect(stall(record, 'shard-0/1')).toBe(60_000);
    // Another record of the same session-minute finds the budget spent
    expect(stall(record, 'shard-0/2')).toBe(0);
    expect(stall(record)).toBe(0);
    expect(stall(stalledRecord('s2'))).toBe(60_000);
    expect(stall(stalledRecord('s1', NOW_MS + 60_000))).toBe(60_000);
  });

  it('remembers record grants only up to maxRecords: a forgotten record normalised again is charged again (lost, never gained)', () => {
    const budget = new ReportEvidenceBudget(SESSION_MINUTE_BUDGET, 10, 1);
    const claim = { ms: 30_000, lines: 2 };

    expect(budget.grant('s1', NOW_MS, claim, 'r1')).toEqual(claim);
    expect(budget.grant('s1', NOW_MS, claim, 'r2')).toEqual(claim);
    // r1 was forgotten when r2 was remembered: the minute's 60 s are spent
    expect(budget.grant('s1', NOW_MS, claim, 'r1')).toEqual({ ms: 0, lines: 2 });
  });

  it('refuses a budget that is not a count', () => {
    expect(() => new ReportEvidenceBudget({ ms: -1, lines: 60 })).toThrow(/budget.ms/);
    expect(() => new ReportEvidenceBudget(SESSION_MINUTE_BUDGET, 0)).toThrow(/maxEntries/);
  });
});
