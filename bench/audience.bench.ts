/**
 * Load harness: the twin's own simulated audience (local/audience/), bigger and for a bounded time,
 * against the twin on 127.0.0.1 only. Run: `npm run bench -- audience` (defaults below), or
 * `npx tsx bench/audience.bench.ts --sessions 200 --seconds 120 --countries US,DE,BR`.
 *
 * It starts a twin in this process (port base 6360 unless `--port-base`, so it does not collide with
 * `npm run dev` or the e2e tests), waits for the sample to be READY, measures the idle twin's CPU for
 * `--baseline-seconds`, then runs the fleet in a child process for `--seconds` and reports:
 *   - CPU of the fleet process and extra CPU of the twin process, each as % of one core and per session;
 *   - what the audience did: sessions, pathway switches, stalls, and per viewer-hour: CDN requests,
 *     bytes, steering requests, CMCD report POSTs and lines (the inputs of issue 11's scale model).
 * `--attach <port base>` drives an already running twin instead (`npm run dev -- --audience 0`), with
 * `--assets id1,id2`; then only the fleet's CPU is measured.
 */
import './quiet-handler-logs';
import { fork } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readyAssetsInCatalog } from '../local/audience/catalog-assets';
import { startTwin, TWIN_NAMES, twinPorts, type Twin } from '../local/dev';
import type { FleetResult, FleetRun } from './audience-fleet-process';

/** Bounds: this is a load generator; it must not be left running or aimed at a bigger target by a typo. */
const MAX_SESSIONS = 5_000;
const MAX_SECONDS = 900;

await main();

function runFleet(run: FleetRun): Promise<FleetResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL('./audience-fleet-process.ts', import.meta.url)), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, AUDIENCE_FLEET_RUN: JSON.stringify(run) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result: FleetResult | undefined;
    child.on('message', (message) => (result = message as FleetResult));
    child.on('error', reject);
    child.on('exit', (code) => (result ? resolve(result) : reject(new Error(`fleet process exited ${code} without a result`))));
  });
}

function boundedInteger(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`--${name} must be a whole number in [${min}, ${max}], got "${text}"`);
  return value;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sessions: { type: 'string', default: '100' },
      seconds: { type: 'string', default: '120' },
      countries: { type: 'string', default: 'US,DE,BR' },
      'mean-watch-seconds': { type: 'string', default: '60' },
      'baseline-seconds': { type: 'string', default: '30' },
      'port-base': { type: 'string', default: '6360' },
      attach: { type: 'string' },
      assets: { type: 'string' },
    },
  });
  const sessions = boundedInteger('sessions', values.sessions, 1, MAX_SESSIONS);
  const seconds = boundedInteger('seconds', values.seconds, 10, MAX_SECONDS);
  const baselineSeconds = boundedInteger('baseline-seconds', values['baseline-seconds'], 0, 300);
  const meanWatchSeconds = boundedInteger('mean-watch-seconds', values['mean-watch-seconds'], 10, 3_600);
  const countries = values.countries.split(',').map((c) => c.trim().toUpperCase());

  let twin: Twin | undefined;
  let playbackApi: string;
  let assets: readonly string[];
  if (values.attach !== undefined) {
    if (!values.assets) throw new Error('--attach needs --assets <id,id> (the READY assets to watch)');
    playbackApi = `http://127.0.0.1:${twinPorts(boundedInteger('attach', values.attach, 1024, 65_000)).api}`;
    assets = values.assets.split(',');
  } else {
    twin = await startTwin({ portBase: boundedInteger('port-base', values['port-base'], 1024, 65_000), sampleMaster: true });
    playbackApi = twin.urls.api!;
    const ready = readyAssetsInCatalog(twin.documents, TWIN_NAMES.assetsTable);
    console.log('[bench] waiting for the sample to be READY…');
    for (assets = await ready(); assets.length === 0; assets = await ready()) await sleep(2_000);
  }

  try {
    let baselinePercent: number | undefined;
    if (twin && baselineSeconds > 0) {
      const before = process.cpuUsage();
      await sleep(baselineSeconds * 1000);
      const cpu = process.cpuUsage(before);
      baselinePercent = (cpu.user + cpu.system) / 10 / baselineSeconds / 1000;
    }
    console.log(`[bench] ${sessions} sessions in ${countries.join(', ')} for ${seconds} s on ${assets.join(', ')}`);
    const twinBefore = process.cpuUsage();
    const wallBefore = Date.now();
    const fleet = await runFleet({ playbackApi, assets, sessions, countries, seconds, meanWatchSeconds });
    const twinCpu = process.cpuUsage(twinBefore);
    const twinPercent = twin ? (twinCpu.user + twinCpu.system) / 10 / (Date.now() - wallBefore) : undefined;
    report({ sessions, seconds, countries, baselinePercent, twinPercent, fleet });
  } finally {
    await twin?.stop();
  }
}

function report(r: {
  sessions: number;
  seconds: number;
  countries: readonly string[];
  baselinePercent: number | undefined;
  twinPercent: number | undefined;
  fleet: FleetResult;
}): void {
  const { stats } = r.fleet;
  const viewerHours = (r.sessions * r.fleet.wallMs) / 3_600_000;
  const perViewerHour = (n: number) => Math.round(n / viewerHours);
  const requests = Object.values(stats.requests).reduce((sum, p) => sum + p.total, 0);
  const failed = Object.values(stats.requests).reduce((sum, p) => sum + p.failed, 0);
  const bytes = Object.values(stats.requests).reduce((sum, p) => sum + p.bytes, 0);
  const fleetPercent = r.fleet.cpuMs / r.fleet.wallMs * 100;
  const twinExtra = r.twinPercent !== undefined && r.baselinePercent !== undefined ? r.twinPercent - r.baselinePercent : undefined;
  const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
  const figures = {
    sessions: r.sessions,
    seconds: r.seconds,
    countries: r.countries.join(','),
    cpuPercentOfOneCore: {
      fleet: round(fleetPercent),
      fleetPerSession: round(fleetPercent / r.sessions, 2),
      twinIdle: r.baselinePercent === undefined ? null : round(r.baselinePercent),
      twinWithAudience: r.twinPercent === undefined ? null : round(r.twinPercent),
      twinExtraPerSession: twinExtra === undefined ? null : round(twinExtra / r.sessions, 2),
    },
    fleetRssMb: round(r.fleet.rssMb, 0),
    sessionsStarted: stats.sessions.started,
    sessionsFailed: stats.sessions.failed,
    stalls: stats.stalls,
    switches: stats.switches,
    perViewerHour: {
      cdnRequests: perViewerHour(requests),
      failedCdnRequests: perViewerHour(failed),
      cdnMegabytes: perViewerHour(bytes / 1e6),
      steeringRequests: perViewerHour(stats.steeringRequests.ok + stats.steeringRequests.failed),
      cmcdReportPosts: perViewerHour(stats.reports.posts),
      cmcdLines: perViewerHour(stats.reports.lines),
      sessionStarts: perViewerHour(stats.sessions.started),
    },
    activeAtEnd: { playing: stats.playing, rebuffering: stats.rebuffering, byCountry: stats.pathwaysByCountry },
  };
  console.log(JSON.stringify({ audienceBench: figures }, null, 2));
}
