import { decodeCmcd, type Cmcd } from '@svta/cml-cmcd';
import { describe, expect, it } from 'vitest';
import { cmcdEventsToSamples, SESSION_MINUTE_BUDGET, verifiedHostsOf } from '../../core/cmcd-report';
import { buildPathwayHosts } from '../../core/pathway-hosts';
import { CmcdEventLog, reportBody, type PlayerSnapshot } from '../../local/audience/cmcd-events';

const T0 = 1_796_000_000_000;
const PLAYING: PlayerSnapshot = { state: 'p', pathway: 'cf-b', bufferMs: 7_349, bitrateKbps: 2_848, throughputKbps: 12_049 };
const SEGMENT = 'http://127.0.0.1:4582/tok/media/twin-sample/rev/seg-0-00002.m4s';
const HOSTS = buildPathwayHosts([
  { id: 'cf-a', host: '127.0.0.1:4581', enabled: true, cap: 1 },
  { id: 'cf-b', host: '127.0.0.1:4582', enabled: true, cap: 1 },
]);

const decode = (line: string): Cmcd => decodeCmcd(line) as Cmcd;

describe('CmcdEventLog', () => {
  it('builds a response-received line with the measured status, TTFB and TTLB (durations in ms)', () => {
    // Prepare
    const log = new CmcdEventLog({ sessionId: 'sid-1', contentId: 'twin-sample', batchSize: 1 });
    // Act
    const [line] = log.responseReceived(
      { requestedAt: T0 + 0.4, url: SEGMENT, status: 200, ttfbMs: 41.6, ttlbMs: 118.2, objectType: 'v', durationMs: 6_000 },
      PLAYING,
    )!;
    // Assess
    expect(decode(line!)).toEqual({
      v: 2, e: 'rr', ts: T0, sn: 0, sid: 'sid-1', cid: 'twin-sample', sf: 'h', st: 'v', sta: 'p', cdn: 'cf-b',
      bl: [7_300], br: [2_848], mtp: [12_000], url: SEGMENT, rc: 200, ot: 'v', ttfb: 42, ttlb: 118, d: 6_000,
    });
  });

  it('reports a request that got no response with rc=0 and no TTFB', () => {
    const log = new CmcdEventLog({ sessionId: 'sid-1', contentId: 'a', batchSize: 1 });
    const [line] = log.responseReceived({ requestedAt: T0, url: SEGMENT, status: 0, ttlbMs: 3, objectType: 'v' }, PLAYING)!;
    const decoded = decode(line!);
    expect(decoded.rc).toBe(0);
    expect(decoded.ttfb).toBeUndefined();
  });

  it('builds time-interval lines with state, buffer, throughput and bitrate', () => {
    const log = new CmcdEventLog({ sessionId: 'sid-1', contentId: 'a', batchSize: 1 });
    const decoded = decode(log.timeInterval(T0, { ...PLAYING, state: 'r', bufferMs: 0 })![0]!);
    expect(decoded).toMatchObject({ e: 't', sta: 'r', bl: [0], mtp: [12_000], br: [2_848], cdn: 'cf-b' });
  });

  it('leaves mtp out before the first throughput measurement', () => {
    const log = new CmcdEventLog({ sessionId: 'sid-1', contentId: 'a', batchSize: 1 });
    const { throughputKbps: _unmeasured, ...starting } = { ...PLAYING, state: 's' as const };
    expect(decode(log.playState(T0, starting)![0]!).mtp).toBeUndefined();
  });

  it('sends the startup delay (msd) with the change into playing only', () => {
    const log = new CmcdEventLog({ sessionId: 'sid-1', contentId: 'a', batchSize: 1 });
    expect(decode(log.playState(T0, PLAYING, 1_234.4)![0]!)).toMatchObject({ e: 'ps', sta: 'p', msd: 1_234 });
    expect(decode(log.playState(T0, { ...PLAYING, state: 'r' })![0]!).msd).toBeUndefined();
  });

  it('numbers events from 0 and hands out a batch every batchSize lines', () => {
    // Prepare
    const log = new CmcdEventLog({ sessionId: 'sid-1', contentId: 'a', batchSize: 4 });
    // Act
    const handedOut = [1, 2, 3, 4, 5].map((i) => log.timeInterval(T0 + i, PLAYING));
    // Assess
    expect(handedOut.slice(0, 3)).toEqual([undefined, undefined, undefined]);
    expect(handedOut[3]!.map((line) => decode(line).sn)).toEqual([0, 1, 2, 3]);
    expect(log.pending).toBe(1);
    expect(log.drain().map((line) => decode(line).sn)).toEqual([4]);
  });

  it('records only the events of the target', () => {
    const log = new CmcdEventLog({ sessionId: 'sid-1', contentId: 'a', batchSize: 1, events: ['t'] });
    expect(log.responseReceived({ requestedAt: T0, url: SEGMENT, status: 200, objectType: 'v' }, PLAYING)).toBeUndefined();
    expect(log.timeInterval(T0, PLAYING)).toHaveLength(1);
  });

  it('writes reports the ingest turns into samples of the right pathway, time-interval lines included', () => {
    // Prepare: a batch that starts with a time-interval line (no URL), as the fleet's batches may; the
    // session's last verified host (the ingest's state, here from an earlier report) attributes it
    const log = new CmcdEventLog({ sessionId: 'sid-1', contentId: 'twin-sample', batchSize: 3 });
    log.timeInterval(T0, PLAYING);
    log.responseReceived({ requestedAt: T0 + 10, url: SEGMENT, status: 503, ttfbMs: 2, ttlbMs: 3, objectType: 'v' }, PLAYING);
    const lines = log.bitrateChange(T0 + 20, PLAYING)!;
    // Act
    const events = reportBody(lines).split('\n').map(decode);
    const verifiedHosts = verifiedHostsOf(events, (url) => new URL(url).host, new URL(SEGMENT).host).hosts;
    const { samples, unattributed } = cmcdEventsToSamples(events, {
      receivedAt: T0 + 1_000,
      country: 'US',
      hosts: HOSTS,
      verifiedHosts,
      intervalMs: 30_000,
      grant: SESSION_MINUTE_BUDGET,
    });
    // Assess
    expect(unattributed).toBe(0);
    expect(samples.map((s) => s.pathway)).toEqual(['cf-b', 'cf-b', 'cf-b']);
    expect(samples[0]!.playMs).toBe(30_000);
    expect(samples[1]).toMatchObject({ status: 503, ttfbMs: 2, throughputKbps: 12_000 });
  });
});
