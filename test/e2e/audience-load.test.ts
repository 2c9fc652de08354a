/**
 * The load harness, short (ADR 0077): 50 simulated viewers in their own process against a twin for a
 * 20 s window, with the twin's counters read around it. The twin runs its data stand-ins and its APIs in
 * processes of their own, as the long run does (ADR 0100), so the counters come back across processes here too. It checks that every counter the scale model needs
 * moves and that the per-viewer-hour figures and the model come out; no timing is asserted. The long run
 * (≥ 2,000 sessions) is `npm run bench -- audience …` (docs/scale.md).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readyAssetsInCatalog } from '../../local/audience/catalog-assets';
import { runAudienceLoad, type LoadResult } from '../../local/audience/load-harness';
import { startTwin, TWIN_NAMES, type Twin } from '../../local/dev';
import { CLOUDFRONT_TRANSFER_USD_PER_GB, costModel, quotaChecks } from '../../core/scale-model';
import { portBase, waitFor } from './twin-harness';

/** Ingest of the 3-minute sample on a busy 2-core machine (docs/local-twin.md has the measured times). */
const SAMPLE_READY_LIMIT_MS = 240_000;

describe('load harness, short run against the twin', () => {
  let twin: Twin;
  let assets: string[];
  let result: LoadResult;

  beforeAll(async () => {
    // Every request logged and every session reporting: a small audience still moves every counter.
    twin = await startTwin({ portBase: portBase(), sampleMaster: true, returnPathSampling: { telemetrySamplingRate: 100, reportSamplingRate: 100 }, dataStandIns: 'own-process', apiHandlers: 'own-process' });
    const ready = readyAssetsInCatalog(twin.documents, TWIN_NAMES.assetsTable);
    assets = await waitFor('the sample to be READY', async () => {
      const ids = await ready();
      return ids.length > 0 ? ids : undefined;
    }, SAMPLE_READY_LIMIT_MS, 1_000);
    result = await runAudienceLoad({
      playbackApi: twin.urls.api!,
      assets,
      sessions: 50,
      countries: ['US', 'DE'],
      meanWatchSeconds: 60,
      warmupSeconds: 15,
      seconds: 20,
      telemetrySamplingRate: 100,
      names: { originBucket: TWIN_NAMES.originBucket },
      controlPlane: { tables: [TWIN_NAMES.routingTable, TWIN_NAMES.rollupsTable], streams: [TWIN_NAMES.partialsStream] },
      cells: 2 * TWIN_NAMES.pathways.length,
      readTwin: async () => ({ ...(await twin.usage()), cdnOriginGets: twin.cdns.reduce((n, cdn) => n + cdn.originStats().originGets, 0) }),
    });
  });

  afterAll(async () => {
    await twin?.stop();
  });

  it('measures a window with viewers in it, from the fleet process', () => {
    expect(result.fleet.processes).toBe(1);
    expect(result.fleet.viewerHours).toBeGreaterThan(0);
    expect(result.fleet.meanViewers).toBeGreaterThan(0);
    expect(result.fleet.deliveryRequests).toBeGreaterThan(0);
  });

  it('reads the twin counters of every service the model prices, each moved by the audience', () => {
    const twinWindow = result.twin!;
    const tokenChecks = (twinWindow.functions['viewer-auth'] ?? 0) + (twinWindow.functions['viewer-auth-cf'] ?? 0);
    expect(tokenChecks).toBeGreaterThan(0);
    expect(twinWindow.functions.steering).toBeGreaterThan(0);
    expect(twinWindow.functions['cmcd-ingest']).toBeGreaterThan(0);
    expect(twinWindow.kinesis[TWIN_NAMES.telemetryStream]!.records).toBeGreaterThan(0);
    expect(twinWindow.kinesis[TWIN_NAMES.telemetryStream]!.billedBytes).toBeGreaterThanOrEqual(twinWindow.kinesis[TWIN_NAMES.telemetryStream]!.bytes);
    const tables = Object.values(twinWindow.dynamodb);
    expect(tables.reduce((n, t) => n + t.readUnits, 0)).toBeGreaterThan(0);
    expect(tables.reduce((n, t) => n + t.writeUnits, 0)).toBeGreaterThan(0);
    // Origin GETs may be zero in a window once the edge caches hold the sample; the counter must exist.
    expect(twinWindow.originGets).toBeGreaterThanOrEqual(0);
  });

  it('turns the window into per-viewer-hour figures the cost and quota model takes', () => {
    const perHour = result.perViewerHour!;
    for (const [name, value] of Object.entries(perHour)) expect(Number.isFinite(value), name).toBe(true);
    expect(perHour.deliveryRequests).toBeGreaterThan(0);
    expect(perHour.tokenChecks).toBeGreaterThan(0);
    expect(perHour.kinesisRecords).toBeGreaterThan(0);

    const perCellMinute = result.perCellMinute!;
    for (const [name, value] of Object.entries(perCellMinute)) expect(Number.isFinite(value), name).toBe(true);
    // The controller reads its rollups every tick, whatever the audience.
    expect(perCellMinute.dynamoReadUnits).toBeGreaterThan(0);

    const cost = costModel({ usage: perHour, control: { perCellMinute, audience: { concurrentViewers: 100_000, cells: 300 } }, tokenCheck: twin.tokenCheck, delivery: { meanBitrateMbps: 4, dataTransferUsdPerGb: CLOUDFRONT_TRANSFER_USD_PER_GB.first10Tb } });
    expect(cost.overheadUsdPerMillionViewerHours).toBeGreaterThan(0);
    expect(cost.overheadShare).toBeGreaterThan(0);
    expect(quotaChecks({ usage: perHour, tokenCheck: 'cloudfront-function', concurrentViewers: 1_000_000, pathways: 3 }).length).toBeGreaterThan(0);
  });
});
