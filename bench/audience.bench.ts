/**
 * Load harness (ADRs 0077, 0088): the twin's own simulated audience, bigger and for a bounded time, against a
 * twin on 127.0.0.1 only, with the twin's usage counters read around the measured window. Run:
 * `npm run bench -- audience` (defaults below), or e.g.
 * `npx tsx bench/audience.bench.ts --sessions 2000 --fleet-processes 2 --seconds 300 --mean-watch-seconds 1200`.
 *
 * It starts a twin in this process (port base 6960 unless `--port-base`: clear of `npm run dev`, 4560, and
 * the e2e twins, 6160 and 6360) running the platform's return-path defaults (`--sampling twin` for the
 * twin's every-request-and-session), waits for the sample to be READY, measures the idle twin's CPU for
 * `--baseline-seconds`, runs the fleet in `--fleet-processes` child processes, lets `--warmup-seconds` pass
 * (viewers arrive over `--ramp-up-seconds`, default the whole warm-up), then measures `--seconds` and prints:
 *   - CPU of the fleet processes and of the twin's process, as % of one core and per session;
 *   - what the audience did: requests, stalls, failures, switches;
 *   - per viewer-hour: the scale model's inputs (core/scale-model.ts), from the fleet's and the twin's
 *     counters: token checks, steering invocations, API calls, DynamoDB units, Kinesis records and bytes,
 *     origin GETs; and the model's cost and quota figures for 10k / 100k / 1M concurrent viewers.
 * `--attach <port base> --assets id1,id2` drives a running twin instead (`npm run dev -- --audience 0`);
 * then the twin's counters are out of reach and only the fleet is measured.
 */
import './quiet-handler-logs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { readyAssetsInCatalog } from '../local/audience/catalog-assets';
import { MAX_FLEET_PROCESSES, MAX_LOAD_SECONDS, MAX_LOAD_SESSIONS, runAudienceLoad, type LoadResult } from '../local/audience/load-harness';
import { startTwin, TWIN_NAMES, twinPorts, type Twin } from '../local/dev';
import { parsePlatformConfig } from '../core/platform-config';
import { CLOUDFRONT_TRANSFER_USD_PER_GB, costModel, quotaChecks, type Audience, type TokenCheckRuntime } from '../core/scale-model';

/** The return path's defaults (core/platform-config.ts), which the scale model is about. */
const PLATFORM = parsePlatformConfig({ stackPrefix: 'bench', region: 'us-east-1', pathways: [{ id: 'cf-a' }] });
/** Delivery assumption of docs/scale.md: an HD-heavy rung mix averaging 4 Mbit/s (1.8 GB per viewer-hour). */
const MEAN_BITRATE_MBPS = 4;
/**
 * The audiences docs/scale.md extrapolates to, each with the cells (countries × 3 pathways) it fills: an
 * event of 10k viewers reaches fewer countries than one of 1M.
 */
const AUDIENCES: readonly Audience[] = [
  { concurrentViewers: 10_000, cells: 30 * 3 },
  { concurrentViewers: 100_000, cells: 100 * 3 },
  { concurrentViewers: 1_000_000, cells: 200 * 3 },
];

await main();

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
      'warmup-seconds': { type: 'string', default: '60' },
      'ramp-up-seconds': { type: 'string' },
      'fleet-processes': { type: 'string', default: '1' },
      countries: { type: 'string', default: 'US,DE,BR' },
      'mean-watch-seconds': { type: 'string', default: '600' },
      'baseline-seconds': { type: 'string', default: '20' },
      'port-base': { type: 'string', default: '6960' },
      sampling: { type: 'string', default: 'defaults' },
      attach: { type: 'string' },
      assets: { type: 'string' },
    },
  });
  const sessions = boundedInteger('sessions', values.sessions, 1, MAX_LOAD_SESSIONS);
  const seconds = boundedInteger('seconds', values.seconds, 10, MAX_LOAD_SECONDS);
  const warmupSeconds = boundedInteger('warmup-seconds', values['warmup-seconds'], 0, 600);
  // Viewers arrive spread over this long, as an audience does before a start time; all at once, a few thousand
  // session starts in a second are a thundering herd the one-process twin answers with timeouts and retries.
  const rampUpSeconds = boundedInteger('ramp-up-seconds', values['ramp-up-seconds'] ?? String(warmupSeconds), 0, warmupSeconds);
  const fleetProcesses = boundedInteger('fleet-processes', values['fleet-processes'], 1, MAX_FLEET_PROCESSES);
  const baselineSeconds = boundedInteger('baseline-seconds', values['baseline-seconds'], 0, 300);
  const meanWatchSeconds = boundedInteger('mean-watch-seconds', values['mean-watch-seconds'], 10, 3_600);
  const countries = values.countries.split(',').map((c) => c.trim().toUpperCase());
  if (values.sampling !== 'defaults' && values.sampling !== 'twin') throw new Error(`--sampling must be "defaults" or "twin", got "${values.sampling}"`);
  const sampling =
    values.sampling === 'defaults'
      ? { telemetrySamplingRate: PLATFORM.telemetrySamplingRate, reportSamplingRate: PLATFORM.reportSamplingRate }
      : { telemetrySamplingRate: 100, reportSamplingRate: 100 };

  let twin: Twin | undefined;
  let playbackApi: string;
  let assets: readonly string[];
  if (values.attach !== undefined) {
    if (!values.assets) throw new Error('--attach needs --assets <id,id> (the READY assets to watch)');
    playbackApi = `http://127.0.0.1:${twinPorts(boundedInteger('attach', values.attach, 1024, 65_000)).api}`;
    assets = values.assets.split(',');
  } else {
    // The data stand-ins and the APIs' handlers run in processes of their own (ADR 0100): on the twin's one event
    // loop, a few thousand viewers' session starts and reports queue behind the distributions' work.
    twin = await startTwin({
      portBase: boundedInteger('port-base', values['port-base'], 1024, 65_000),
      sampleMaster: true,
      returnPathSampling: sampling,
      dataStandIns: 'own-process',
      apiHandlers: 'own-process',
    });
    playbackApi = twin.urls.api!;
    const ready = readyAssetsInCatalog(twin.documents, TWIN_NAMES.assetsTable);
    console.log('[bench] waiting for the sample to be READY…');
    for (assets = await ready(); assets.length === 0; assets = await ready()) await sleep(2_000);
  }

  try {
    let baselinePercent: number | undefined;
    if (twin && baselineSeconds > 0) {
      const cpuMs = async () => {
        const own = process.cpuUsage();
        return (own.user + own.system) / 1000 + (await twin!.usage()).helperCpuMs;
      };
      const before = await cpuMs();
      await sleep(baselineSeconds * 1000);
      baselinePercent = ((await cpuMs()) - before) / 10 / baselineSeconds;
    }
    console.log(`[bench] ${sessions} sessions (${fleetProcesses} fleet processes) in ${countries.join(', ')}: arriving over ${rampUpSeconds} s, ${warmupSeconds} s warm-up, then ${seconds} s measured, on ${assets.join(', ')}`);
    let twinCpuAtStart: number | undefined;
    let twinCpuAtEnd = 0;
    let twinWallAtStart = 0;
    let twinWallAtEnd = 0;
    const running = twin;
    // The twin's CPU: this process's and its helper processes' (the data stand-ins when apart, ADR 0100).
    const twinCpuMs = (helperCpuMs: number) => {
      const own = process.cpuUsage();
      return (own.user + own.system) / 1000 + helperCpuMs;
    };
    const result = await runAudienceLoad({
      playbackApi,
      assets,
      sessions,
      countries,
      meanWatchSeconds,
      warmupSeconds,
      seconds,
      fleetProcesses,
      rampUpMs: rampUpSeconds * 1000,
      telemetrySamplingRate: sampling.telemetrySamplingRate,
      names: { originBucket: TWIN_NAMES.originBucket },
      controlPlane: { tables: [TWIN_NAMES.routingTable, TWIN_NAMES.rollupsTable], streams: [TWIN_NAMES.partialsStream] },
      cells: countries.length * TWIN_NAMES.pathways.length,
      ...(running
        ? {
            readTwin: async () => {
              const usage = await running.usage();
              // The first reading opens the window for the twin's CPU too, the second closes it.
              if (twinCpuAtStart === undefined) {
                twinCpuAtStart = twinCpuMs(usage.helperCpuMs);
                twinWallAtStart = Date.now();
              } else {
                twinCpuAtEnd = twinCpuMs(usage.helperCpuMs);
                twinWallAtEnd = Date.now();
              }
              return { ...usage, cdnOriginGets: running.cdns.reduce((n, cdn) => n + cdn.originStats().originGets, 0) };
            },
          }
        : {}),
    });
    const twinPercent = twinCpuAtStart !== undefined && twinWallAtEnd > twinWallAtStart ? ((twinCpuAtEnd - twinCpuAtStart) / (twinWallAtEnd - twinWallAtStart)) * 100 : undefined;
    report({ sessions, countries, sampling, baselinePercent, twinPercent, tokenCheck: running?.tokenCheck, result });
  } finally {
    await twin?.stop();
  }
}

function report(r: {
  sessions: number;
  countries: readonly string[];
  sampling: { telemetrySamplingRate: number; reportSamplingRate: number };
  baselinePercent: number | undefined;
  twinPercent: number | undefined;
  tokenCheck: TokenCheckRuntime | undefined;
  result: LoadResult;
}): void {
  const { fleet, twin, perViewerHour } = r.result;
  const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
  const per = (n: number) => round(n / fleet.viewerHours);
  const figures = {
    sessions: r.sessions,
    countries: r.countries.join(','),
    sampling: r.sampling,
    window: { seconds: round(fleet.windowMs / 1000), meanViewers: round(fleet.meanViewers), viewerHours: round(fleet.viewerHours, 2) },
    cpuPercentOfOneCore: {
      fleet: round(fleet.cpuPercent),
      fleetProcesses: fleet.processes,
      fleetPerViewer: round(fleet.cpuPercent / fleet.meanViewers, 3),
      twinIdle: r.baselinePercent === undefined ? null : round(r.baselinePercent),
      twinWithAudience: r.twinPercent === undefined ? null : round(r.twinPercent),
      twinExtraPerViewer:
        r.twinPercent === undefined || r.baselinePercent === undefined ? null : round((r.twinPercent - r.baselinePercent) / fleet.meanViewers, 3),
    },
    fleetRssMb: round(fleet.rssMb, 0),
    audience: {
      sessionsStarted: fleet.sessionsStarted,
      sessionsFailed: fleet.sessionsFailed,
      failedDeliveryRequests: fleet.failedDeliveryRequests,
      failedSteeringRequests: fleet.failedSteeringRequests,
      failedReports: fleet.failedReports,
      stalls: fleet.stalls,
      switches: fleet.switches,
      atEnd: { playing: fleet.playing, rebuffering: fleet.rebuffering },
    },
    fleetPerViewerHour: {
      deliveryRequests: per(fleet.deliveryRequests),
      deliveryMegabytes: per(fleet.deliveryBytes / 1e6),
      steeringRequests: per(fleet.steeringRequests),
      reportPosts: per(fleet.reportPosts),
      cmcdLines: per(fleet.reportLines),
      sessionStarts: per(fleet.sessionsStarted),
    },
    ...(twin && perViewerHour
      ? {
          twinPerViewerHour: {
            functions: Object.fromEntries(Object.entries(twin.functions).map(([name, n]) => [name, per(n)])),
            dynamodb: Object.fromEntries(
              Object.entries(twin.dynamodb).map(([table, u]) => [table, { readUnits: per(u.readUnits), writeUnits: per(u.writeUnits), reads: per(u.readCalls), writes: per(u.writeCalls) }]),
            ),
            kinesis: Object.fromEntries(
              Object.entries(twin.kinesis).map(([stream, k]) => [stream, { records: per(k.records), kilobytes: per(k.bytes / 1000), billedKilobytes: per(k.billedBytes / 1000), putCalls: per(k.putCalls) }]),
            ),
            s3OriginGets: per(twin.originGets),
            ...(twin.cdnOriginGets !== undefined ? { cdnOriginGets: per(twin.cdnOriginGets) } : {}),
          },
          model: Object.fromEntries(Object.entries(perViewerHour).map(([key, value]) => [key, round(value, 2)])),
        }
      : {}),
  };
  console.log(JSON.stringify({ audienceBench: figures }, null, 2));
  const { perCellMinute } = r.result;
  if (!perViewerHour || !perCellMinute || !r.tokenCheck) return;
  console.log(`[model] per cell-minute (control plane): ${JSON.stringify(Object.fromEntries(Object.entries(perCellMinute).map(([k, v]) => [k, round(v, 2)])))}`);

  // The scale model on the measured figures: the token check as measured and as it would be on the other runtime.
  for (const audience of AUDIENCES) {
    const control = { perCellMinute, audience };
    const viewers = audience.concurrentViewers.toLocaleString('en-US');
    for (const tokenCheck of ['lambda-edge', 'cloudfront-function'] as const) {
      for (const [tier, price] of Object.entries(CLOUDFRONT_TRANSFER_USD_PER_GB)) {
        const cost = costModel({ usage: perViewerHour, control, tokenCheck, delivery: { meanBitrateMbps: MEAN_BITRATE_MBPS, dataTransferUsdPerGb: price } });
        console.log(
          `[model] ${viewers} viewers, ${audience.cells} cells, token check ${tokenCheck}, transfer ${tier} $${price}/GB: delivery $${round(cost.deliveryUsdPerViewerHour * 1e6, 0)}, overhead $${round(cost.overheadUsdPerMillionViewerHours, 0)} per million viewer-hours = ${round(cost.overheadShare * 100, 2)} %`,
        );
      }
    }
    const cost = costModel({ usage: perViewerHour, control, tokenCheck: r.tokenCheck, delivery: { meanBitrateMbps: MEAN_BITRATE_MBPS, dataTransferUsdPerGb: CLOUDFRONT_TRANSFER_USD_PER_GB.first10Tb } });
    console.log(`[model] ${viewers} viewers, ${r.tokenCheck}: ${cost.overhead.map((line) => `${line.item} $${round(line.usdPerViewerHour * 1e6, 1)}`).join('; ')} (per million viewer-hours)`);
    for (const tokenCheck of ['lambda-edge', 'cloudfront-function'] as const) {
      for (const check of quotaChecks({ usage: perViewerHour, perCellMinute, cells: audience.cells, tokenCheck, concurrentViewers: audience.concurrentViewers, pathways: 3 })) {
        console.log(`[quota] ${viewers} viewers, ${tokenCheck}: ${check.quota}: needs ${round(check.needed)} of ${check.limit}${check.exceeded ? ` — EXCEEDED: ${check.remedy}` : ''}`);
      }
    }
  }
}
