import { describe, expect, it } from 'vitest';
import {
  CLOUDFRONT_TRANSFER_USD_PER_GB,
  costModel,
  currentViewerHour,
  deliveredGbPerViewerHour,
  MEASURED_CACHEABLE_STEERING_INVOCATIONS,
  MEASURED_CELL_MINUTE,
  MEASURED_VIEWER_HOUR,
  reportStateUnits,
  LIST_PRICES,
  perViewerHour,
  quotaChecks,
  type ViewerHourUsage,
} from '../../core/scale-model';

/** Issue 11's "before": every request checked by Lambda@Edge, steering every 10 s, every request and session reporting. */
const BEFORE: ViewerHourUsage = {
  deliveryRequests: 1_711,
  gatewayRequests: 360 + 480 + 60,
  tokenChecks: 1_711,
  steeringInvocations: 360,
  playbackApiCalls: 60,
  reportApiCalls: 480,
  realtimeLogLines: 1_711,
  kinesisRecords: 2_191,
  kinesisBilledBytes: 2_191 * 1_024,
  dynamoReadUnits: 500,
  dynamoWriteUnits: 600,
  originGets: 1,
};

const HD = { meanBitrateMbps: 4, dataTransferUsdPerGb: CLOUDFRONT_TRANSFER_USD_PER_GB.first10Tb };

describe('the documented cost table (docs/scale.md "What the platform costs per million viewer-hours")', () => {
  const control = { perCellMinute: MEASURED_CELL_MINUTE, audience: { concurrentViewers: 100_000, cells: 300 } };
  const at = (usage: ViewerHourUsage, tokenCheck: 'lambda-edge' | 'cloudfront-function', dataTransferUsdPerGb: number) =>
    costModel({ usage, control, tokenCheck, delivery: { meanBitrateMbps: 4, dataTransferUsdPerGb } });
  const now = currentViewerHour({ steeringInvocations: MEASURED_CACHEABLE_STEERING_INVOCATIONS });
  const line = (cost: ReturnType<typeof costModel>, prefix: string) => cost.overhead.find((l) => l.item.startsWith(prefix))!.usdPerViewerHour * 1e6;

  it('reproduces the measured run before cacheable steering and ADR 0101: $2,072 and $1,347 per million viewer-hours', () => {
    expect(Math.round(at(MEASURED_VIEWER_HOUR, 'lambda-edge', 0.085).overheadUsdPerMillionViewerHours)).toBe(2072);
    expect(Math.round(at(MEASURED_VIEWER_HOUR, 'cloudfront-function', 0.085).overheadUsdPerMillionViewerHours)).toBe(1347);
  });

  it('prices the report state of ADR 0101 at about $12 per million viewer-hours instead of the limiter\'s $165', () => {
    expect(reportStateUnits({ reportApiCalls: 132, sessionsPerViewerHour: 6, reportSamplingRate: 25 })).toEqual({ readUnits: 66, writeUnits: 6 });
    const before = at(MEASURED_VIEWER_HOUR, 'cloudfront-function', 0.085);
    const after = at(now, 'cloudfront-function', 0.085);
    expect(Math.round(line(before, 'DynamoDB, viewer path'))).toBe(165);
    expect(Math.round(line(after, 'DynamoDB, viewer path'))).toBe(12);
  });

  it('charges cacheable steering 44 invocations and a key-function run per reload, and lands at $1,004 (0.65 %, 2.70 % over 5 PB)', () => {
    const first = at(now, 'cloudfront-function', CLOUDFRONT_TRANSFER_USD_PER_GB.first10Tb);
    const bulk = at(now, 'cloudfront-function', CLOUDFRONT_TRANSFER_USD_PER_GB.over5Pb);
    expect(Math.round(line(first, 'steering (Lambda@Edge)'))).toBe(38);
    expect(Math.round(line(first, 'steering key function'))).toBe(47);
    expect(Math.round(first.overheadUsdPerMillionViewerHours)).toBe(1004);
    expect(first.overheadShare).toBeCloseTo(0.0065, 4);
    expect(bulk.overheadShare).toBeCloseTo(0.027, 3);
    expect(Math.round(at(now, 'lambda-edge', 0.085).overheadUsdPerMillionViewerHours)).toBe(1729);
  });

  it('scales reports, their gateway requests and records with reportSamplingRate, and steering reloads with the TTL', () => {
    const tenPercent = currentViewerHour({ steeringInvocations: 44.3, reportSamplingRate: 10 });
    expect(tenPercent.reportApiCalls).toBeCloseTo(52.8, 6);
    expect(tenPercent.gatewayRequests).toBeCloseTo(500 - 132 + 52.8, 6);
    expect(tenPercent.kinesisRecords).toBeCloseTo(194 - 132 + 52.8, 6);
    const ttl30 = currentViewerHour({ steeringInvocations: 17.2, steeringTtlSeconds: 30 });
    expect([ttl30.steeringKeyChecks, ttl30.gatewayRequests]).toEqual([124, 260]);
  });
});

describe('scale model: cost per viewer-hour (ADR 0078)', () => {
  it('turns a mean bitrate into GB per viewer-hour: 4 Mbit/s is 1.8 GB', () => {
    expect(deliveredGbPerViewerHour(4)).toBeCloseTo(1.8, 10);
  });

  it('prices delivery as CloudFront transfer plus the media requests', () => {
    const cost = costModel({ usage: BEFORE, tokenCheck: 'cloudfront-function', delivery: HD });

    expect(cost.deliveryUsdPerViewerHour).toBeCloseTo(1.8 * 0.085 + 1_711 * LIST_PRICES.cloudFrontHttpsRequest, 12);
  });

  it('charges a Lambda@Edge token check $0.60 per million plus 18 ms at 128 MB: about $0.71 per million checks', () => {
    const usage = { ...zero(), tokenChecks: 1e6 };

    const lambdaEdge = costModel({ usage, tokenCheck: 'lambda-edge', delivery: HD }).overhead[0]!;
    const cloudFrontFunction = costModel({ usage, tokenCheck: 'cloudfront-function', delivery: HD }).overhead[0]!;

    expect(lambdaEdge.item).toBe('token check (lambda-edge)');
    expect(lambdaEdge.usdPerViewerHour).toBeCloseTo(0.6 + 0.018 * 0.125 * 0.00005001 * 1e6, 6);
    expect(lambdaEdge.usdPerViewerHour).toBeGreaterThan(0.7);
    expect(lambdaEdge.usdPerViewerHour).toBeLessThan(0.72);
    // $0.10 per invocation and one KeyValueStore read ($0.03) per check.
    expect(cloudFrontFunction.usdPerViewerHour).toBeCloseTo(0.13, 10);
  });

  it('adds every overhead line to the total and states it per million viewer-hours and as a share of delivery', () => {
    const cost = costModel({ usage: BEFORE, tokenCheck: 'lambda-edge', delivery: HD });

    const total = cost.overhead.reduce((sum, line) => sum + line.usdPerViewerHour, 0);
    expect(cost.overheadUsdPerViewerHour).toBeCloseTo(total, 15);
    expect(cost.overheadUsdPerMillionViewerHours).toBeCloseTo(total * 1e6, 6);
    expect(cost.overheadShare).toBeCloseTo(total / cost.deliveryUsdPerViewerHour, 12);
    expect(cost.overhead.every((line) => line.usdPerViewerHour >= 0)).toBe(true);
  });

  it('puts the platform before issue 11 at a few % of delivery at first-tier prices and a 2 Mbit/s mix', () => {
    const before = costModel({ usage: BEFORE, tokenCheck: 'lambda-edge', delivery: { meanBitrateMbps: 2, dataTransferUsdPerGb: 0.085 } });

    expect(before.overheadShare).toBeGreaterThan(0.02);
    expect(before.overheadShare).toBeLessThan(0.06);
  });

  it('counts more overhead, relatively, when delivery is cheaper (the >5 PB tier)', () => {
    const first = costModel({ usage: BEFORE, tokenCheck: 'lambda-edge', delivery: HD });
    const bulk = costModel({ usage: BEFORE, tokenCheck: 'lambda-edge', delivery: { ...HD, dataTransferUsdPerGb: CLOUDFRONT_TRANSFER_USD_PER_GB.over5Pb } });

    expect(bulk.overheadUsdPerViewerHour).toBeCloseTo(first.overheadUsdPerViewerHour, 15);
    expect(bulk.overheadShare).toBeGreaterThan(first.overheadShare * 3);
  });
});

describe('scale model: the control plane shared by an audience', () => {
  const perCellMinute = { dynamoReadUnits: 6, dynamoWriteUnits: 2, kinesisRecords: 3, kinesisBilledBytes: 3 * 1_024 };

  it('shares the cells\' minutes out over the viewers: a bigger audience in the same cells pays less per viewer-hour', () => {
    const small = costModel({ usage: zero(), tokenCheck: 'cloudfront-function', delivery: HD, control: { perCellMinute, audience: { concurrentViewers: 10_000, cells: 600 } } });
    const large = costModel({ usage: zero(), tokenCheck: 'cloudfront-function', delivery: HD, control: { perCellMinute, audience: { concurrentViewers: 1_000_000, cells: 600 } } });

    const line = (cost: typeof small) => cost.overhead.find((l) => l.item === 'DynamoDB, control plane (on-demand)')!.usdPerViewerHour;
    // 600 cells × 60 minutes / 10,000 viewers = 3.6 cell-minutes per viewer-hour
    expect(line(small)).toBeCloseTo(3.6 * (6 * LIST_PRICES.dynamoReadUnit + 2 * LIST_PRICES.dynamoWriteUnit), 15);
    expect(line(large)).toBeCloseTo(line(small) / 100, 15);
  });

  it('adds the control plane\'s units to the DynamoDB quota rows by cells', () => {
    const check = quotaChecks({ usage: zero(), perCellMinute, cells: 600, tokenCheck: 'cloudfront-function', concurrentViewers: 1e6, pathways: 3 }).find((c) =>
      c.quota.startsWith('DynamoDB write'),
    )!;

    expect(check.needed).toBeCloseTo((2 * 600) / 60, 10);
  });
});

describe('scale model: quotas an audience meets', () => {
  it('finds the Lambda@Edge request quota exceeded near 17,400 viewers when every delivery request runs a Lambda@Edge token check', () => {
    const at = (concurrentViewers: number) =>
      quotaChecks({ usage: BEFORE, tokenCheck: 'lambda-edge', concurrentViewers, pathways: 3 }).find((c) => c.quota === 'Lambda@Edge requests/s per Region')!;

    // (1,711 + 360) / 3600 requests/s per viewer × 17,000 ≈ 9,780 < 10,000; × 18,000 ≈ 10,355
    expect(at(17_000).exceeded).toBe(false);
    expect(at(18_000).exceeded).toBe(true);
    expect(at(18_000).remedy).toMatch(/cloudfront-function/);
    expect(at(18_000).source).toMatch(/^https:\/\/docs\.aws\.amazon\.com\//);
  });

  it('leaves only steering on Lambda@Edge with a CloudFront Function token check', () => {
    const check = quotaChecks({ usage: BEFORE, tokenCheck: 'cloudfront-function', concurrentViewers: 50_000, pathways: 3 }).find(
      (c) => c.quota === 'Lambda@Edge requests/s per Region',
    )!;

    expect(check.needed).toBeCloseTo((360 * 50_000) / 3600, 6);
    expect(check.exceeded).toBe(false);
  });

  it('spreads delivery requests over the pathways for the per-distribution quota', () => {
    const one = quotaChecks({ usage: BEFORE, tokenCheck: 'cloudfront-function', concurrentViewers: 1e6, pathways: 1 }).find((c) => c.quota.startsWith('CloudFront'))!;
    const three = quotaChecks({ usage: BEFORE, tokenCheck: 'cloudfront-function', concurrentViewers: 1e6, pathways: 3 }).find((c) => c.quota.startsWith('CloudFront'))!;

    expect(one.needed).toBeCloseTo(three.needed * 3, 6);
  });

  it('checks the report and playback APIs together against the account throttle', () => {
    const check = quotaChecks({ usage: BEFORE, tokenCheck: 'cloudfront-function', concurrentViewers: 100_000, pathways: 3 }).find((c) => c.quota.startsWith('API Gateway'))!;

    expect(check.needed).toBeCloseTo(((60 + 480) * 100_000) / 3600, 6);
    expect(check.exceeded).toBe(true);
  });
});

describe('perViewerHour', () => {
  it('divides every count by the viewer-hours', () => {
    expect(perViewerHour({ a: 10, b: 0 }, 2.5)).toEqual({ a: 4, b: 0 });
  });

  it('refuses a run with no viewer-hours instead of dividing by zero', () => {
    expect(() => perViewerHour({ a: 1 }, 0)).toThrow(/viewer-hours must be positive, got 0/);
    expect(() => perViewerHour({ a: 1 }, Number.NaN)).toThrow(RangeError);
  });
});

function zero(): ViewerHourUsage {
  return {
    deliveryRequests: 0,
    gatewayRequests: 0,
    tokenChecks: 0,
    steeringInvocations: 0,
    playbackApiCalls: 0,
    reportApiCalls: 0,
    realtimeLogLines: 0,
    kinesisRecords: 0,
    kinesisBilledBytes: 0,
    dynamoReadUnits: 0,
    dynamoWriteUnits: 0,
    originGets: 0,
  };
}
