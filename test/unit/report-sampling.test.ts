import { describe, expect, it } from 'vitest';
import { generateInitialKeyring } from '../../core/keyring';
import { parsePlatformConfig } from '../../core/platform-config';
import { isReportSampled, reportSampleBucket, ReportSamplingRateError } from '../../core/report-sampling';
import {
  expectedSessionsPerCellMinute,
  recordsPerViewerHour,
  reportApiThrottleFor,
  shardsFor,
} from '../../core/return-path-sizing';
import { DEFAULT_SCORING_PARAMS } from '../../core/routing/scoring-params';
import { signToken, verifyToken } from '../../core/token';
import { createSession } from '../../lambdas/playback-api/sessions';

const keyring = generateInitialKeyring({ nowSeconds: 1_700_000_000, kid: 'k1', key: Buffer.alloc(32, 3) });
const sessionIds = Array.from({ length: 4000 }, (_, i) => `session-${i}`);
const base = { stackPrefix: 'Streaming', region: 'eu-west-1', pathways: [{ id: 'cf-a' }] };

describe('per-session report sampling (ADR 0058)', () => {
  it('decides from the session id alone: the same session always gets the same answer', () => {
    for (const sid of sessionIds.slice(0, 50)) {
      expect(isReportSampled(sid, 25)).toBe(isReportSampled(sid, 25));
      expect(reportSampleBucket(sid)).toBe(reportSampleBucket(sid));
    }
  });

  it('samples in about the configured share of sessions, every session at 100, and nested as the rate grows', () => {
    const shareAt = (percent: number) => sessionIds.filter((sid) => isReportSampled(sid, percent)).length / sessionIds.length;
    expect(shareAt(100)).toBe(1);
    // 4,000 sessions: the binomial standard deviation at 25 % is 0.7 percentage points; 3 points is > 4 sigma.
    expect(Math.abs(shareAt(25) - 0.25)).toBeLessThan(0.03);
    expect(Math.abs(shareAt(1) - 0.01)).toBeLessThan(0.01);
    // Raising the rate only adds sessions: a session sampled at 10 % stays sampled at 25 %.
    for (const sid of sessionIds) if (isReportSampled(sid, 10)) expect(isReportSampled(sid, 25)).toBe(true);
  });

  it('refuses rates that are not whole percent from 1 to 100', () => {
    for (const bad of [0, -5, 101, 12.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => isReportSampled('s', bad), String(bad)).toThrow(ReportSamplingRateError);
    }
  });

  it('gives a reportUrl exactly to sampled sessions, and the decision rides on the signed session id', () => {
    const opts = { gatewayDomain: 'gw.example.net', lifetimeSeconds: 3600, nowSeconds: 1_700_000_000, reportSamplingPercent: 25 };
    const sampled = sessionIds.find((sid) => isReportSampled(sid, 25))!;
    const notSampled = sessionIds.find((sid) => !isReportSampled(sid, 25))!;
    const yes = createSession({ assetId: 'big-buck' }, 'r1', keyring, { ...opts, sessionId: sampled });
    const no = createSession({ assetId: 'big-buck' }, 'r1', keyring, { ...opts, sessionId: notSampled });
    expect(yes).toMatchObject({ reportSampled: true, reportUrl: expect.stringMatching(/^https:\/\/gw\.example\.net\/v1\/cmcd\//) });
    expect(no.reportSampled).toBe(false);
    expect(no).not.toHaveProperty('reportUrl');
    // A player cannot move itself into the sample: changing the sid breaks the token's MAC.
    const forged = signToken({ sid: sampled, aid: 'big-buck', exp: 1_700_003_600 }, generateInitialKeyring({ nowSeconds: 1_700_000_000, kid: 'k1', key: Buffer.alloc(32, 4) }));
    expect(verifyToken(forged, keyring, { nowSeconds: 1_700_000_000 })).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('keeps the token format: a sampled session token has exactly the v1 claims', () => {
    const session = createSession({ assetId: 'big-buck' }, 'r1', keyring, { gatewayDomain: 'gw.example.net', lifetimeSeconds: 3600, nowSeconds: 1_700_000_000, sessionId: 'abc', reportSamplingPercent: 100 });
    const token = session.reportUrl!.split('/').pop()!;
    const verified = verifyToken(token, keyring, { nowSeconds: 1_700_000_000 });
    expect(verified.ok && Object.keys(verified.claims)).toEqual(['v', 'kid', 'sid', 'aid', 'exp']);
  });
});

describe('return path sizing (docs/scale.md)', () => {
  const defaults = parsePlatformConfig(base);

  it('defaults to at most 200 stream records per viewer-hour (issue 11 target)', () => {
    expect(defaults).toMatchObject({ telemetrySamplingRate: 4, reportSamplingRate: 25, telemetryStream: { mode: 'on-demand' }, peakConcurrentViewers: 100_000 });
    expect(recordsPerViewerHour(defaults)).toBeLessThanOrEqual(200);
    expect(Math.round(recordsPerViewerHour({ telemetrySamplingRate: 100, reportSamplingRate: 100 }))).toBe(2189);
  });

  it('leaves a 100-viewer country split over three pathways above the quorum in every cell', () => {
    const perCell = expectedSessionsPerCellMinute(100 / 3, defaults);
    expect(perCell).toBeGreaterThanOrEqual(2 * DEFAULT_SCORING_PARAMS.minSessions);
  });

  it('sizes shards and the report API throttle from the peak', () => {
    expect(shardsFor(1_000_000, defaults)).toBe(Math.ceil((1_000_000 * recordsPerViewerHour(defaults) * 2) / 3600 / 1000));
    expect(reportApiThrottleFor(100_000, 25)).toEqual({ rateLimit: 6_650, burstLimit: 3_325 });
    expect(reportApiThrottleFor(10, 1)).toEqual({ rateLimit: 100, burstLimit: 50 });
  });
});
