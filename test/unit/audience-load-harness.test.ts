import { describe, expect, it } from 'vitest';
import type { AwsUsage } from '../../local/aws-meters';
import type { AudienceStats } from '../../local/audience/fleet';
import type { FleetMark } from '../../local/audience/fleet-process';
import { cellMinuteUsage, fleetWindow, runAudienceLoad, splitSessions, twinWindow, viewerHourUsage, type TwinReading } from '../../local/audience/load-harness';

function stats(overrides: { started?: number; requests?: number; failed?: number; bytes?: number; steering?: number; posts?: number; lines?: number; stalls?: number; active?: number }): AudienceStats {
  return {
    target: 10,
    active: overrides.active ?? 10,
    playing: overrides.active ?? 10,
    rebuffering: 0,
    sessions: { started: overrides.started ?? 0, watched: 0, failed: 0, notReady: 0 },
    pathwaysByCountry: {},
    requests: { 'cf-a': { total: overrides.requests ?? 0, failed: overrides.failed ?? 0, bytes: overrides.bytes ?? 0 } },
    switches: { steering: 0, failover: 0 },
    recentSwitches: [],
    steeringRequests: { ok: overrides.steering ?? 0, failed: 0 },
    reports: { posts: overrides.posts ?? 0, lines: overrides.lines ?? 0, failed: 0 },
    playedMs: 0,
    stalledMs: 0,
    stalls: overrides.stalls ?? 0,
  };
}

const mark = (at: number, viewerSeconds: number, cpuMs: number, s: AudienceStats): FleetMark => ({ type: 'mark', stats: s, cpuMs, viewerSeconds, at, rssMb: 100 });

function usage(over: { steering?: number; auth?: number; readUnits?: number; writeUnits?: number; records?: number; billed?: number; gets?: number }): TwinReading {
  const aws: AwsUsage = {
    dynamodb: {
      tables: { Routing: { readCalls: 1, writeCalls: 1, itemsRead: 1, itemsWritten: 1, readUnits: over.readUnits ?? 0, writeUnits: over.writeUnits ?? 0 } },
      operations: {},
    },
    kinesis: { streams: { telemetry: { putCalls: 1, records: over.records ?? 0, bytes: over.billed ?? 0, billedBytes: over.billed ?? 0 } }, operations: {} },
    s3: { 'twin-origin': { GET: over.gets ?? 0 } },
  };
  return { functions: { steering: over.steering ?? 0, 'viewer-auth': over.auth ?? 0 }, aws };
}

describe('load harness arithmetic (ADR 0077)', () => {
  it('splits sessions over fleet processes as evenly as whole numbers allow, and never starts an empty process', () => {
    expect(splitSessions(2_001, 2)).toEqual([1_001, 1_000]);
    expect(splitSessions(3, 8)).toEqual([1, 1, 1]);
  });

  it('measures the fleet over the window between two marks, summed over processes, with viewer-hours from the integrated viewers', () => {
    const start = [mark(1_000, 100, 500, stats({ requests: 10, started: 5 })), mark(1_010, 50, 200, stats({ requests: 4 }))];
    const end = [
      mark(361_000, 100 + 3_600, 500 + 36_000, stats({ requests: 110, started: 6, steering: 36, posts: 12, lines: 48, bytes: 1e6 })),
      mark(361_020, 50 + 3_600, 200 + 18_000, stats({ requests: 54 })),
    ];

    const window = fleetWindow(start, end);

    expect(window.viewerHours).toBe(2);
    expect(window.windowMs).toBe(360_020);
    expect(window.meanViewers).toBeCloseTo(7_200 / 360.02, 10);
    expect(window.deliveryRequests).toBe(150);
    expect(window.sessionsStarted).toBe(1);
    expect(window.cpuPercent).toBeCloseTo((54_000 / 360_020) * 100, 10);
    expect(window.processes).toBe(2);
  });

  it('takes the twin counters over the window, a table or stream first seen in it counting from zero', () => {
    const before = usage({ steering: 10, auth: 100, readUnits: 5, records: 7, gets: 3 });
    const after: TwinReading = {
      ...usage({ steering: 13, auth: 160, readUnits: 6.5, records: 9, gets: 4 }),
      aws: {
        ...usage({ steering: 13, auth: 160, readUnits: 6.5, records: 9, gets: 4 }).aws,
        kinesis: {
          streams: {
            telemetry: { putCalls: 2, records: 9, bytes: 0, billedBytes: 0 },
            partials: { putCalls: 1, records: 2, bytes: 100, billedBytes: 2_048 },
          },
          operations: {},
        },
      },
    };

    const window = twinWindow(before, after, 'twin-origin');

    expect(window.functions).toEqual({ steering: 3, 'viewer-auth': 60 });
    expect(window.dynamodb.Routing!.readUnits).toBeCloseTo(1.5, 10);
    expect(window.kinesis).toMatchObject({ telemetry: { records: 2 }, partials: { records: 2, billedBytes: 2_048 } });
    expect(window.originGets).toBe(1);
  });

  it('states the model inputs per viewer-hour: token checks and steering from the twin, gateway requests from the fleet, log lines sampled', () => {
    const fleet = fleetWindow(
      [mark(0, 0, 0, stats({}))],
      [mark(3_600_000, 7_200, 0, stats({ requests: 3_000, started: 4, steering: 600, posts: 200 }))],
    );
    const twin = twinWindow(usage({}), usage({ steering: 120, auth: 3_000, readUnits: 10, writeUnits: 20, records: 400, billed: 400 * 1_024, gets: 6 }), 'twin-origin');

    const perHour = viewerHourUsage(fleet, twin, 4);

    expect(perHour).toEqual({
      deliveryRequests: 1_500,
      gatewayRequests: (4 + 600 + 200) / 2,
      tokenChecks: 1_500,
      steeringInvocations: 60,
      playbackApiCalls: 0,
      reportApiCalls: 0,
      realtimeLogLines: 60,
      kinesisRecords: 200,
      kinesisBilledBytes: 200 * 1_024,
      dynamoReadUnits: 5,
      dynamoWriteUnits: 10,
      originGets: 3,
    });
  });

  it('sets the control plane apart: its tables and streams count per cell-minute, not per viewer-hour', () => {
    const fleet = fleetWindow([mark(0, 0, 0, stats({}))], [mark(120_000, 7_200, 0, stats({ requests: 10 }))]);
    const before = usage({});
    const after: TwinReading = {
      ...usage({ readUnits: 0, writeUnits: 0 }),
      aws: {
        dynamodb: {
          tables: {
            Routing: { readCalls: 9, writeCalls: 0, itemsRead: 9, itemsWritten: 0, readUnits: 36, writeUnits: 0 },
            RateLimits: { readCalls: 0, writeCalls: 4, itemsRead: 0, itemsWritten: 4, readUnits: 0, writeUnits: 8 },
          },
          operations: {},
        },
        kinesis: {
          streams: {
            telemetry: { putCalls: 1, records: 6, bytes: 0, billedBytes: 6_144 },
            partials: { putCalls: 1, records: 18, bytes: 0, billedBytes: 18_432 },
          },
          operations: {},
        },
        s3: {},
      },
    };
    const twin = twinWindow(before, after, 'twin-origin');
    const controlPlane = { tables: ['Routing'], streams: ['partials'] };

    const perHour = viewerHourUsage(fleet, twin, 100, controlPlane);
    const perCell = cellMinuteUsage(fleet, twin, controlPlane, 9);

    expect(perHour).toMatchObject({ dynamoReadUnits: 0, dynamoWriteUnits: 4, kinesisRecords: 3 });
    // 2 minutes × 9 cells = 18 cell-minutes
    expect(perCell).toEqual({ dynamoReadUnits: 2, dynamoWriteUnits: 0, kinesisRecords: 1, kinesisBilledBytes: 1_024 });
    expect(() => cellMinuteUsage(fleet, twin, controlPlane, 0)).toThrow(/cells must be positive/);
  });

  it('refuses an out-of-bounds run before it starts a process', async () => {
    const base = { playbackApi: 'http://127.0.0.1:1', assets: ['a'], countries: ['US'], meanWatchSeconds: 60, warmupSeconds: 0, seconds: 10, telemetrySamplingRate: 4 };

    await expect(runAudienceLoad({ ...base, sessions: 5_001 })).rejects.toThrow(/sessions must be a whole number in \[1, 5000\], got 5001/);
    await expect(runAudienceLoad({ ...base, sessions: 10, fleetProcesses: 0 })).rejects.toThrow(/fleet processes/);
    await expect(runAudienceLoad({ ...base, sessions: 10, seconds: 901 })).rejects.toThrow(/window/);
  });
});
