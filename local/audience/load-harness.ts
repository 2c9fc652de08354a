/**
 * The load harness (ADRs 0077, 0088): a simulated audience in one or more child processes against a running
 * twin, measured over a window after a warm-up, with the twin's usage counters (functions invoked, DynamoDB,
 * Kinesis and S3 as metered at the stand-ins) read at both ends of the same window. The result is per
 * viewer-hour, the input of the scale and cost model (core/scale-model.ts). `npm run bench -- audience`
 * prints it; test/e2e/audience-load.test.ts runs a short one.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { AwsUsage } from '../aws-meters';
import type { CellMinuteUsage, ViewerHourUsage } from '../../core/scale-model';
import type { AudienceStats } from './fleet';
import type { FleetCommand, FleetMark, FleetRun } from './fleet-process';

/** Bounds: this is a load generator; it must not be left running or aimed at a bigger target by a typo. */
export const MAX_LOAD_SESSIONS = 5_000;
export const MAX_LOAD_SECONDS = 900;
export const MAX_FLEET_PROCESSES = 8;

/** What the harness reads from the twin at each end of the window (`Twin.usage()` and the CDNs' origin stats). */
export interface TwinReading {
  readonly functions: Readonly<Record<string, number>>;
  readonly aws: AwsUsage;
  /** S3 GETs made by the delivery distributions (through Origin Shield where there is one), when the twin says. */
  readonly cdnOriginGets?: number;
}

export interface LoadOptions {
  readonly playbackApi: string;
  readonly assets: readonly string[];
  readonly sessions: number;
  readonly countries: readonly string[];
  readonly meanWatchSeconds: number;
  /** Time before the measured window: the ramp-up and the first sessions' start-up burst. */
  readonly warmupSeconds: number;
  /** The measured window. */
  readonly seconds: number;
  /** Fleet processes the sessions are split over (each is one Node event loop). @default 1 */
  readonly fleetProcesses?: number;
  /** @default the warm-up, at most 60 s */
  readonly rampUpMs?: number;
  /** The twin's counters, read at both ends of the window; absent when driving a twin in another process. */
  readonly readTwin?: () => TwinReading | Promise<TwinReading>;
  /** Names of the twin's buckets and streams, to pick the figures out of its usage. */
  readonly names?: { readonly originBucket: string };
  /**
   * The control plane's tables and streams (routing, rollups, rollup partials): their figures grow with
   * cells, not viewers, and are reported per cell-minute (ADR 0078). @default none
   */
  readonly controlPlane?: ControlPlane;
  /** Cells (pathways × countries) the audience fills, for the per-cell-minute figures. */
  readonly cells?: number;
  /** The sampling the twin runs with, percent; the real-time log lines are the sampled delivery requests. */
  readonly telemetrySamplingRate: number;
}

export interface FleetWindow {
  readonly processes: number;
  /** Concurrent viewers, averaged over the window. */
  readonly meanViewers: number;
  readonly viewerHours: number;
  readonly windowMs: number;
  /** CPU of all fleet processes over the window, as % of one core. */
  readonly cpuPercent: number;
  readonly rssMb: number;
  /** Audience counters over the window (sums over the processes). */
  readonly sessionsStarted: number;
  readonly sessionsFailed: number;
  readonly deliveryRequests: number;
  readonly failedDeliveryRequests: number;
  readonly deliveryBytes: number;
  readonly steeringRequests: number;
  readonly failedSteeringRequests: number;
  readonly reportPosts: number;
  readonly reportLines: number;
  readonly failedReports: number;
  readonly stalls: number;
  readonly switches: { readonly steering: number; readonly failover: number };
  /** At the end of the window. */
  readonly playing: number;
  readonly rebuffering: number;
}

export interface TwinWindow {
  readonly functions: Readonly<Record<string, number>>;
  readonly dynamodb: Readonly<Record<string, { readonly readUnits: number; readonly writeUnits: number; readonly readCalls: number; readonly writeCalls: number }>>;
  readonly kinesis: Readonly<Record<string, { readonly records: number; readonly bytes: number; readonly billedBytes: number; readonly putCalls: number }>>;
  readonly originGets: number;
  readonly cdnOriginGets?: number;
}

export interface ControlPlane {
  readonly tables: readonly string[];
  readonly streams: readonly string[];
}

export interface LoadResult {
  readonly fleet: FleetWindow;
  readonly twin?: TwinWindow;
  /** The model's inputs; absent without the twin's counters. */
  readonly perViewerHour?: ViewerHourUsage;
  readonly perCellMinute?: CellMinuteUsage;
}

function forkFleet(run: FleetRun): ChildProcess {
  return fork(fileURLToPath(new URL('./fleet-process.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, AUDIENCE_FLEET_RUN: JSON.stringify(run) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function nextMessage<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type?: string }) => {
      if (message?.type !== type) return;
      cleanup();
      resolve(message as T);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`a fleet process exited (${code}) before answering "${type}"`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

async function markAll(children: readonly ChildProcess[]): Promise<FleetMark[]> {
  const answers = children.map((child) => nextMessage<FleetMark>(child, 'mark'));
  for (const child of children) child.send({ type: 'mark' } satisfies FleetCommand);
  return Promise.all(answers);
}

/** Sessions split as evenly as whole numbers allow, e.g. 2,001 over 2 → 1,001 and 1,000. */
export function splitSessions(sessions: number, processes: number): number[] {
  return Array.from({ length: processes }, (_, i) => Math.floor(sessions / processes) + (i < sessions % processes ? 1 : 0)).filter((n) => n > 0);
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

function requestTotals(stats: AudienceStats) {
  const pathways = Object.values(stats.requests);
  return { total: sum(pathways.map((p) => p.total)), failed: sum(pathways.map((p) => p.failed)), bytes: sum(pathways.map((p) => p.bytes)) };
}

/** The fleet's counters over the window, from the marks at its two ends. */
export function fleetWindow(start: readonly FleetMark[], end: readonly FleetMark[]): FleetWindow {
  const windowMs = Math.max(1, Math.max(...end.map((m) => m.at)) - Math.min(...start.map((m) => m.at)));
  const delta = (pick: (stats: AudienceStats) => number) => sum(end.map((m) => pick(m.stats))) - sum(start.map((m) => pick(m.stats)));
  const viewerSeconds = sum(end.map((m) => m.viewerSeconds)) - sum(start.map((m) => m.viewerSeconds));
  return {
    processes: end.length,
    meanViewers: viewerSeconds / (windowMs / 1000),
    viewerHours: viewerSeconds / 3600,
    windowMs,
    cpuPercent: ((sum(end.map((m) => m.cpuMs)) - sum(start.map((m) => m.cpuMs))) / windowMs) * 100,
    rssMb: sum(end.map((m) => m.rssMb)),
    sessionsStarted: delta((s) => s.sessions.started),
    sessionsFailed: delta((s) => s.sessions.failed),
    deliveryRequests: delta((s) => requestTotals(s).total),
    failedDeliveryRequests: delta((s) => requestTotals(s).failed),
    deliveryBytes: delta((s) => requestTotals(s).bytes),
    steeringRequests: delta((s) => s.steeringRequests.ok + s.steeringRequests.failed),
    failedSteeringRequests: delta((s) => s.steeringRequests.failed),
    reportPosts: delta((s) => s.reports.posts),
    reportLines: delta((s) => s.reports.lines),
    failedReports: delta((s) => s.reports.failed),
    stalls: delta((s) => s.stalls),
    switches: { steering: delta((s) => s.switches.steering), failover: delta((s) => s.switches.failover) },
    playing: sum(end.map((m) => m.stats.playing)),
    rebuffering: sum(end.map((m) => m.stats.rebuffering)),
  };
}

/** The twin's counters over the window. */
export function twinWindow(before: TwinReading, after: TwinReading, originBucket: string): TwinWindow {
  const functions: Record<string, number> = {};
  for (const [name, count] of Object.entries(after.functions)) functions[name] = count - (before.functions[name] ?? 0);
  const dynamodb: Record<string, TwinWindow['dynamodb'][string]> = {};
  for (const [table, usage] of Object.entries(after.aws.dynamodb.tables)) {
    const was = before.aws.dynamodb.tables[table];
    dynamodb[table] = {
      readUnits: usage.readUnits - (was?.readUnits ?? 0),
      writeUnits: usage.writeUnits - (was?.writeUnits ?? 0),
      readCalls: usage.readCalls - (was?.readCalls ?? 0),
      writeCalls: usage.writeCalls - (was?.writeCalls ?? 0),
    };
  }
  const kinesis: Record<string, TwinWindow['kinesis'][string]> = {};
  for (const [stream, usage] of Object.entries(after.aws.kinesis.streams)) {
    const was = before.aws.kinesis.streams[stream];
    kinesis[stream] = {
      records: usage.records - (was?.records ?? 0),
      bytes: usage.bytes - (was?.bytes ?? 0),
      billedBytes: usage.billedBytes - (was?.billedBytes ?? 0),
      putCalls: usage.putCalls - (was?.putCalls ?? 0),
    };
  }
  const originGets = (after.aws.s3[originBucket]?.GET ?? 0) - (before.aws.s3[originBucket]?.GET ?? 0);
  return {
    functions,
    dynamodb,
    kinesis,
    originGets,
    ...(after.cdnOriginGets !== undefined && before.cdnOriginGets !== undefined ? { cdnOriginGets: after.cdnOriginGets - before.cdnOriginGets } : {}),
  };
}

const NO_CONTROL_PLANE: ControlPlane = { tables: [], streams: [] };

function split<T>(byName: Readonly<Record<string, T>>, names: readonly string[]): { viewer: T[]; control: T[] } {
  const entries = Object.entries(byName);
  return { viewer: entries.filter(([n]) => !names.includes(n)).map(([, v]) => v), control: entries.filter(([n]) => names.includes(n)).map(([, v]) => v) };
}

/** The model's per-viewer-hour inputs from one window of fleet and twin counters (the control plane left out). */
export function viewerHourUsage(fleet: FleetWindow, twin: TwinWindow, telemetrySamplingRate: number, controlPlane: ControlPlane = NO_CONTROL_PLANE): ViewerHourUsage {
  const per = (n: number) => n / fleet.viewerHours;
  const streams = split(twin.kinesis, controlPlane.streams).viewer;
  const tables = split(twin.dynamodb, controlPlane.tables).viewer;
  return {
    deliveryRequests: per(fleet.deliveryRequests),
    // Every session's multivariant playlist, steering and report POSTs go through the gateway distribution.
    gatewayRequests: per(fleet.sessionsStarted + fleet.steeringRequests + fleet.reportPosts),
    tokenChecks: per((twin.functions['viewer-auth'] ?? 0) + (twin.functions['viewer-auth-cf'] ?? 0)),
    steeringInvocations: per(twin.functions.steering ?? 0),
    playbackApiCalls: per(twin.functions['playback-api'] ?? 0),
    reportApiCalls: per(twin.functions['cmcd-ingest'] ?? 0),
    realtimeLogLines: per(fleet.deliveryRequests * (telemetrySamplingRate / 100)),
    kinesisRecords: per(sum(streams.map((s) => s.records))),
    kinesisBilledBytes: per(sum(streams.map((s) => s.billedBytes))),
    dynamoReadUnits: per(sum(tables.map((t) => t.readUnits))),
    dynamoWriteUnits: per(sum(tables.map((t) => t.writeUnits))),
    originGets: per(twin.originGets),
  };
}

/** The control plane's figures per cell-minute over the window. */
export function cellMinuteUsage(fleet: FleetWindow, twin: TwinWindow, controlPlane: ControlPlane, cells: number): CellMinuteUsage {
  if (!(cells > 0)) throw new RangeError(`cells must be positive, got ${cells}`);
  const cellMinutes = (fleet.windowMs / 60_000) * cells;
  const streams = split(twin.kinesis, controlPlane.streams).control;
  const tables = split(twin.dynamodb, controlPlane.tables).control;
  return {
    dynamoReadUnits: sum(tables.map((t) => t.readUnits)) / cellMinutes,
    dynamoWriteUnits: sum(tables.map((t) => t.writeUnits)) / cellMinutes,
    kinesisRecords: sum(streams.map((k) => k.records)) / cellMinutes,
    kinesisBilledBytes: sum(streams.map((k) => k.billedBytes)) / cellMinutes,
  };
}

/**
 * Runs the audience for warm-up + window and measures the window. The fleet processes are stopped whatever
 * happens; a process that dies fails the run.
 */
export async function runAudienceLoad(options: LoadOptions): Promise<LoadResult> {
  const processes = options.fleetProcesses ?? 1;
  if (!Number.isInteger(processes) || processes < 1 || processes > MAX_FLEET_PROCESSES) {
    throw new RangeError(`fleet processes must be a whole number in [1, ${MAX_FLEET_PROCESSES}], got ${processes}`);
  }
  if (!Number.isInteger(options.sessions) || options.sessions < 1 || options.sessions > MAX_LOAD_SESSIONS) {
    throw new RangeError(`sessions must be a whole number in [1, ${MAX_LOAD_SESSIONS}], got ${options.sessions}`);
  }
  if (!(options.seconds > 0 && options.seconds <= MAX_LOAD_SECONDS)) throw new RangeError(`the window must be in (0, ${MAX_LOAD_SECONDS}] s, got ${options.seconds}`);
  const rampUpMs = options.rampUpMs ?? Math.min(60_000, options.warmupSeconds * 1000);
  const children = splitSessions(options.sessions, processes).map((sessions) =>
    forkFleet({ playbackApi: options.playbackApi, assets: options.assets, sessions, countries: options.countries, meanWatchSeconds: options.meanWatchSeconds, rampUpMs }),
  );
  const failed = new Promise<never>((_, reject) => {
    for (const child of children) child.once('exit', (code) => reject(new Error(`a fleet process exited (${code}) during the run`)));
  });
  failed.catch(() => undefined);
  try {
    const measure = async () => {
      await sleep(options.warmupSeconds * 1000);
      const startMarks = await markAll(children);
      const before = await options.readTwin?.();
      await sleep(options.seconds * 1000);
      const endMarks = await markAll(children);
      const after = await options.readTwin?.();
      return { startMarks, endMarks, before, after };
    };
    const { startMarks, endMarks, before, after } = await Promise.race([measure(), failed]);
    const fleet = fleetWindow(startMarks, endMarks);
    if (!before || !after) return { fleet };
    const twin = twinWindow(before, after, options.names?.originBucket ?? '');
    const controlPlane = options.controlPlane ?? NO_CONTROL_PLANE;
    return {
      fleet,
      twin,
      perViewerHour: viewerHourUsage(fleet, twin, options.telemetrySamplingRate, controlPlane),
      ...(options.cells !== undefined ? { perCellMinute: cellMinuteUsage(fleet, twin, controlPlane, options.cells) } : {}),
    };
  } finally {
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || !child.connected) return;
        child.removeAllListeners('exit');
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.send({ type: 'stop' } satisfies FleetCommand);
        // Viewers finish the request in flight (bounded by hls.js's load timeouts); past that, the process goes.
        const patience = new AbortController();
        await Promise.race([exited, sleep(30_000, undefined, { signal: patience.signal }).then(() => void child.kill('SIGKILL'), () => undefined)]);
        patience.abort();
      }),
    );
  }
}
