import { describe, expect, it } from 'vitest';
import { encodeIngestRecord } from '../../core/cmcd-report';
import { buildPathwayHosts } from '../../core/pathway-hosts';
import {
  addCounters,
  aggregateSamples,
  cellKeyOf,
  emptyCounters,
  minuteStartOf,
  samplesOfStreamRecord,
} from '../../core/qoe-aggregate';
import type { QoeSample } from '../../core/qoe-types';
import { MalformedRecordError } from '../../core/realtime-log';
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

  it('sums player reports: play/stall time, stalls, startup, throughput and fatal errors', () => {
    const rollup = aggregateSamples([
      report({ playMs: 30_000, throughputKbps: 5000 }),
      report({ starved: true }),
      report({ stallMs: 1500, startupMs: 800 }),
      report({ fatalError: true }),
    ]).get(cellKeyOf(report()))!;

    expect(rollup).toMatchObject({
      reports: 4, requests: 0, playMs: 30_000, stallMs: 1500, stalls: 1, startupMsSum: 800, startupCount: 1,
      throughputKbpsSum: 5000, throughputCount: 1, errors: 1,
    });
  });

  it('counts a player-observed missing response (rc=0) as an error but not a CDN log status 000', () => {
    const rollups = aggregateSamples([report({ status: 0 }), cdn({ status: 0 })]);

    expect(rollups.get(cellKeyOf(report()))!.errors).toBe(1);
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
    const text = encodeIngestRecord({ rt: T0, country: 'US', sid: 's1', lines: ['e=t,sta=p,cdn="cf-b",sid="s1"'] });

    expect(samplesOfStreamRecord(text, hosts).samples[0]).toMatchObject({ source: 'cmcd', pathway: 'cf-b', country: 'US' });
  });

  it('rejects an empty record and binary garbage as malformed', () => {
    expect(() => samplesOfStreamRecord('', hosts)).toThrow(MalformedRecordError);
    expect(() => samplesOfStreamRecord('\u0000\u0001\u00ff', hosts)).toThrow(MalformedRecordError);
  });
});
