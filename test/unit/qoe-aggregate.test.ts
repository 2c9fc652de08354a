import { describe, expect, it } from 'vitest';
import { encodeIngestRecord } from '../../core/cmcd-report';
import { buildPathwayHosts } from '../../core/pathway-hosts';
import {
  addCounters,
  aggregateSamples,
  aggregateSessionEvidence,
  cellKeyOf,
  emptyCounters,
  minuteStartOf,
  samplesOfStreamRecord,
} from '../../core/qoe-aggregate';
import type { QoeSample } from '../../core/qoe-types';
import { formatRealtimeLogLine, MalformedRecordError } from '../../core/realtime-log';
import { bitOf, estimateDistinct, SATURATED_COUNT, SESSION_BITMAP_BITS, sessionCountsOf } from '../../core/session-evidence';
import { FIXTURE_PATHWAYS, realtimeLogFixtureLines } from '../support/telemetry';

const hosts = buildPathwayHosts(FIXTURE_PATHWAYS);
const T0 = 1_700_000_040_000; // an exact UTC minute start (1700000040 is divisible by 60)
const logLines = realtimeLogFixtureLines();

const cdn = (over: Partial<QoeSample> = {}): QoeSample => ({ ts: T0, source: 'cdn-log', pathway: 'cf-a', country: 'DE', ...over });
const report = (over: Partial<QoeSample> = {}): QoeSample => ({ ts: T0, source: 'cmcd', pathway: 'cf-a', country: 'DE', ...over });

describe('cells', () => {
  it('keys a sample by UTC minute, pathway and country', () => {
    expect(minuteStartOf(T0 + 59_999)).toBe(minuteStartOf(T0));
    expect(cellKeyOf(cdn({ ts: T0 + 1 }))).toBe(`${minuteStartOf(T0)}/cf-a#DE`);
    expect(cellKeyOf(cdn({ country: 'US' }))).not.toBe(cellKeyOf(cdn()));
  });
});

describe('aggregateSamples', () => {
  it('sums CDN requests, 5xx errors, bytes and TTFB per cell', () => {
    const rollups = aggregateSamples([
      cdn({ status: 200, bytes: 1000, ttfbMs: 10 }),
      cdn({ status: 503, bytes: 100, ttfbMs: 400 }),
      cdn({ status: 404, bytes: 50 }),
      cdn({ pathway: 'cf-b', status: 200 }),
    ]);

    expect(rollups.size).toBe(2);
    expect(rollups.get(cellKeyOf(cdn()))).toMatchObject({
      pathway: 'cf-a', country: 'DE', minute: minuteStartOf(T0), requests: 3, errors: 1, bytes: 1150, edgeTtfbMsSum: 410, edgeTtfbCount: 2, playerTtfbMsSum: 0, playerTtfbCount: 0, reports: 0,
    });
  });

  it('sums player reports: play/stall time, stalls, startup and throughput, but no errors (those count per session)', () => {
    const rollup = aggregateSamples([
      report({ playMs: 30_000, throughputKbps: 5000 }),
      report({ starved: true }),
      report({ stallMs: 1500, startupMs: 800 }),
      report({ fatalError: true }),
    ]).get(cellKeyOf(report()))!;

    expect(rollup).toMatchObject({
      reports: 4, requests: 0, playMs: 30_000, stallMs: 1500, stalls: 1, startupMsSum: 800, startupCount: 1,
      throughputKbpsSum: 5000, throughputCount: 1, errors: 0,
    });
  });

  it('adds nothing to the counters for a line beyond its session budget', () => {
    const rollup = aggregateSamples([report({ stallMs: 30_000, sessionOnly: true, sid: 's' })]).get(cellKeyOf(report()))!;

    expect(rollup).toMatchObject({ reports: 0, stallMs: 0 });
  });
});

describe('aggregateSessionEvidence', () => {
  it('counts one failing session once however many failing lines it sent, and the CDN log of the same failure with it', () => {
    // Prepare: 600 fake rr rc=503 lines of one session, its CDN log 503, and 10 honest sessions
    const hostile = Array.from({ length: 600 }, () => report({ sid: 'evil', status: 503, asn: 1 }));
    const honest = Array.from({ length: 10 }, (_, i) => report({ sid: `viewer-${i}`, status: 200, asn: 100 + (i % 3) }));
    // Act
    const bits = aggregateSessionEvidence([...hostile, cdn({ sid: 'evil', status: 503, asn: 1 }), ...honest]).get(cellKeyOf(report()))!;
    const counts = sessionCountsOf(bits);
    // Assess
    expect(bits.errorSessions.size).toBe(1);
    expect(counts.sessions).toBeGreaterThanOrEqual(10);
    expect(counts.sessions).toBeLessThanOrEqual(11);
    expect(counts.networks).toBe(4);
  });

  it('marks sessions that stalled, from a player stall or a CDN log starvation flag', () => {
    const bits = aggregateSessionEvidence([report({ sid: 'a', stallMs: 1 }), cdn({ sid: 'b', starved: true }), report({ sid: 'c', playMs: 30_000 })]).get(cellKeyOf(report()))!;

    expect(bits.stallSessions).toEqual(new Set([bitOf('session', 'a'), bitOf('session', 'b')]));
  });

  it('ignores evidence without a verified session', () => {
    expect(aggregateSessionEvidence([cdn({ status: 503 })]).size).toBe(0);
  });

  it('reads a bitmap as an estimate that is exact for a few sessions and saturates at m ln m', () => {
    expect(estimateDistinct(0)).toBe(0);
    expect(estimateDistinct(1)).toBe(1);
    expect(estimateDistinct(10)).toBe(10);
    expect(estimateDistinct(SESSION_BITMAP_BITS)).toBe(SATURATED_COUNT);
    expect(estimateDistinct(632)).toBeGreaterThan(900);
    expect(estimateDistinct(632)).toBeLessThan(1100);
  });

  it('is additive: aggregating in two parts and adding equals aggregating at once', () => {
    const samples = [cdn({ bytes: 5 }), report({ playMs: 3 }), cdn({ ts: T0 + 60_000, status: 500 }), report({ country: 'FR' })];
    const whole = aggregateSamples(samples);
    const folded = aggregateSamples(samples.slice(2), aggregateSamples(samples.slice(0, 2)));

    expect(folded).toEqual(whole);
    const parts = [aggregateSamples(samples.slice(0, 1)), aggregateSamples(samples.slice(1))];
    const key = cellKeyOf(cdn());
    expect(addCounters(addCounters(emptyCounters(), parts[0]!.get(key)!), parts[1]!.get(key)!)).toMatchObject({
      requests: whole.get(key)!.requests,
      reports: whole.get(key)!.reports,
      bytes: whole.get(key)!.bytes,
      playMs: whole.get(key)!.playMs,
    });
  });
});

describe('samplesOfStreamRecord', () => {
  it('normalises a CloudFront real-time log record', () => {
    const { samples } = samplesOfStreamRecord(`${logLines[0]}\n`, hosts);

    expect(samples).toHaveLength(1);
    expect(samples[0]!.source).toBe('cdn-log');
  });

  it('normalises an ingest record', () => {
    const text = encodeIngestRecord({ rt: T0, country: 'US', sid: 's1', lines: ['e=t,sta=p,sid="s1"'], vh: ['d222222abcdef8.cloudfront.net'], iv: 30_000, gms: 60_000, gn: 60 });

    expect(samplesOfStreamRecord(text, hosts).samples[0]).toMatchObject({ source: 'cmcd', pathway: 'cf-b', country: 'US' });
  });

  it('sets aside the lines of requests the edge refused and counts them', () => {
    const refused = formatRealtimeLogLine({ timestamp: '1700000040.000', 'sc-status': 403, 'x-host-header': 'd111111abcdef8.cloudfront.net', 'x-edge-result-type': 'Error' });

    expect(samplesOfStreamRecord(`${refused}\n${logLines[0]}`, hosts)).toMatchObject({ refused: 1, samples: [{ status: 200 }] });
  });

  it('rejects an empty record and binary garbage as malformed', () => {
    expect(() => samplesOfStreamRecord('', hosts)).toThrow(MalformedRecordError);
    expect(() => samplesOfStreamRecord('\u0000\u0001\u00ff', hosts)).toThrow(MalformedRecordError);
  });
});
