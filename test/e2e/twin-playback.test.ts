import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AudienceSettings } from '../../local/audience/fleet';
import { startTwin, TWIN_NAMES, type Twin } from '../../local/dev';
import { generateTestMaster } from '../../local/twin/media-tools';
import { CHROMIUM, CHROMIUM_FLAGS, MISSING, MISSING_TOOLS, pageState, portBase, seconds, SKIP_HERE, waitFor } from './twin-harness';
import { RollupsTable } from '../../tables/rollups-table';

/**
 * The twin end to end in headless Debian Chromium (issues 5 and 13): the sample asset played by a page
 * opened before it was READY, hls.js and dash.js to the end of it, a tampered URL refused, the twin's
 * own audience moving the routing weights off a broken CDN and back, the player's CDN failed mid-play, a
 * 1080p master to READY, a bad upload FAILED. Figures go to `.twin/figures.json` and stdout as one JSON line.
 *
 * Nothing here waits a fixed time or assumes how fast this machine is: every wait is for a condition,
 * with a bound that is either a requirement (failover within 10 s, demotion within a minute) or a
 * failure detector several times the quiet-machine figure (docs/adr/0089-e2e-robust-on-a-loaded-machine.md).
 */

const SAMPLE = 'twin-sample';
const MASTER_1080P = 'e2e-1080p';
/**
 * The twin's own audience, larger and churning faster than `npm run dev`'s 24 viewers: a healed CDN
 * gets traffic back only from new sessions (every failed-over player has it in its penalty box for
 * 300 s), at the 3% exploration floor. 48 viewers watching 30 s on average start ~96 sessions a minute,
 * ~3 of them on the healed CDN: enough for the controller's 30 samples within one scoring minute
 * (docs/adr/0086-audience-churn-brings-a-healed-cdn-back.md). Two countries, so per-country scopes are exercised.
 */
const E2E_AUDIENCE: AudienceSettings = { sessions: 48, countries: ['US', 'DE'], meanWatchSeconds: 30 };
const FIGURES_FILE = join(process.cwd(), '.twin', 'figures.json');

/**
 * Failure detectors for work whose duration depends on the machine, several times what a quiet 2-core
 * machine needs (in brackets), so only a stuck pipeline trips them: the 180 s sample's ingest (35 s),
 * a 20 s 1080p master's (19 s), a bad upload's (2 s).
 */
const INGEST_SAMPLE_LIMIT_MS = 180_000;
const INGEST_1080P_LIMIT_MS = 150_000;
const INGEST_FAILED_LIMIT_MS = 60_000;
/** Requirements (issue 13): the audience moves a broken CDN's weight below 10% within a minute. */
const DEMOTION_LIMIT_MS = 60_000;
/**
 * Re-admission: the fault's errors leave the one-minute scoring window at the next minute boundary
 * (≤ 60 s), a steering cache may carry one more minute's errors (≤ 60 s more), then new sessions on the
 * healed CDN must bring 30 samples (~20 s).
 */
const READMISSION_LIMIT_MS = 150_000;
/** Viewers the CDN to break must carry, so its fault is noticed by someone. */
const MIN_VIEWERS_ON_BROKEN_CDN = 2;

describe.skipIf(SKIP_HERE)('local twin end to end in Chromium', () => {
  let twin: Twin;
  let browser: Browser;
  let earlyPage: Page;
  let earlyPageStatus: string | undefined;
  const figures: Record<string, number | string> = {};

  const catalogHead = async (assetId: string) =>
    (await twin.documents.send(new GetCommand({ TableName: TWIN_NAMES.assetsTable, Key: { assetId, sk: 'asset' } }))).Item;
  const untilReady = (assetId: string, limitMs: number) =>
    waitFor(`${assetId} READY in the catalog`, async () => {
      const item = await catalogHead(assetId);
      if (item?.status === 'FAILED') throw new Error(`ingest of ${assetId} FAILED: ${item.errorReason ?? JSON.stringify(item)}`);
      return item?.status === 'READY' ? item : undefined;
    }, limitMs, 500);
  const weights = async (scope: string) =>
    (await twin.documents.send(new GetCommand({ TableName: TWIN_NAMES.routingTable, Key: { pk: `weights#${scope}` }, ConsistentRead: true })))
      .Item as { weights: Record<string, number>; reason: string } | undefined;
  const usWeights = async () => (await weights('US')) ?? (await weights('*'));
  const recentRollups = async () => {
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    const table = new RollupsTable(twin.documents, TWIN_NAMES.rollupsTable);
    const items = (await Promise.all([minute, minute - 60_000].map((m) => table.readMinute(m)))).flat();
    return items.map((i) => `${i.minute}:${i.cell} requests=${i.requests} reports=${i.reports} errors=${i.errors}`);
  };
  const state = pageState;

  /** HTTP statuses of the player's CMCD v2 event reports (POST /v1/cmcd/<token>), per page. */
  const reportStatuses = new WeakMap<Page, number[]>();

  async function openPlayer(kind: 'hls' | 'dash', assetId: string, extra = ''): Promise<Page> {
    const page = await browser.newPage();
    const statuses: number[] = [];
    reportStatuses.set(page, statuses);
    page.on('response', (response) => {
      if (response.request().method() === 'POST' && response.url().includes('/v1/cmcd/')) statuses.push(response.status());
    });
    await page.goto(`${twin.urls.player}?player=${kind}&asset=${assetId}${extra}`);
    return page;
  }

  const playing = (page: Page, what: string, minSeconds = 1) =>
    waitFor(what, async () => {
      const s = await state(page);
      if (s.errors.length > 0) throw new Error(`player errors: ${s.errors.join('; ')}`);
      return s.currentTime > minSeconds ? s : undefined;
    }, 45_000);

  beforeAll(async () => {
    if (MISSING.length > 0) throw new Error(`[e2e] cannot run: ${MISSING_TOOLS}`);
    // The sample master is cached in <repo>/.twin (generated once); its ingest starts inside startTwin.
    twin = await startTwin({ portBase: portBase(), sampleMaster: true, audience: E2E_AUDIENCE });
    // playwright gives every launch a fresh temporary profile, so no state carries over between runs.
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
    // The player page opened while the sample is still being ingested (first test).
    earlyPageStatus = (await catalogHead(SAMPLE))?.status as string | undefined;
    earlyPage = await openPlayer('hls', SAMPLE);
  });

  afterAll(async () => {
    await browser?.close();
    await twin?.stop();
    if (Object.keys(figures).length > 0) {
      mkdirSync(join(process.cwd(), '.twin'), { recursive: true });
      writeFileSync(FIGURES_FILE, `${JSON.stringify({ measuredAt: new Date().toISOString(), ...figures }, null, 2)}\n`);
      console.log(JSON.stringify({ twinFigures: figures }));
    }
  });

  it('starts a player that was opened before the asset was READY, once it is READY', async () => {
    // Prepare: the page was opened right after the upload, while the catalog said so
    expect(earlyPageStatus).not.toBe('READY');
    const waiting = await waitFor('the page showing the asset state', async () => (await state(earlyPage)).assetState, 10_000);
    // Act
    const head = await untilReady(SAMPLE, INGEST_SAMPLE_LIMIT_MS);
    const readyAt = Date.now();
    const started = await playing(earlyPage, 'the waiting player to start');
    // Assess
    figures.sampleReadyToFirstFrameSeconds = seconds(Date.now() - readyAt);
    expect(head.currentRevision).toBeTruthy();
    expect(typeof waiting).toBe('string');
    expect(started.errors).toEqual([]);
    expect(started.pathway).toMatch(/^cf-[abc]$/);
    expect(started.session?.hls).toMatch(new RegExp(`^${twin.urls.gateway}/[^/]+/play/${SAMPLE}/`));
    await earlyPage.close();
  });

  for (const kind of ['hls', 'dash'] as const) {
    it(`plays the sample to the end in ${kind === 'hls' ? 'hls.js' : 'dash.js'} and its CMCD reports are accepted`, async () => {
      // Prepare
      const page = await openPlayer(kind, SAMPLE);
      const first = await playing(page, `${kind} playing`);
      figures[`timeToFirstFrameMs${kind === 'hls' ? 'Hls' : 'Dash'}`] = first.firstFrameMs ?? -1;
      // Act: close to the end rather than three minutes of playback
      await page.evaluate(() => {
        const video = document.getElementById('video') as HTMLVideoElement;
        video.currentTime = video.duration - 4;
      });
      const ended = await waitFor(`${kind} ended`, async () => {
        const s = await state(page);
        if (s.errors.length > 0) throw new Error(`player errors: ${s.errors.join('; ')}`);
        return s.ended ? s : undefined;
      }, 30_000).catch(async (error: Error) => {
        const s = await state(page);
        throw new Error(`${error.message}; at ${s.currentTime} s, warnings: ${s.warnings.slice(-8).join(' | ')}`);
      });
      // Assess: reports were sent (batches of 4; start, play, every response and the end are events) and
      // every one accepted (dash.js once lacked `sid`: 403)
      const statuses = await waitFor(`${kind} CMCD reports answered`, async () => {
        const seen = reportStatuses.get(page)!;
        return seen.length >= 1 ? [...seen] : undefined;
      }, 30_000);
      expect(ended.errors).toEqual([]);
      expect(statuses.every((status) => status >= 200 && status < 300)).toBe(true);
      expect(ended.warnings.filter((w) => w.includes('/v1/cmcd/'))).toEqual([]);
      await page.close();
    });
  }

  it('refuses a tampered playback URL with 403', async () => {
    // Prepare
    const session = (await (await fetch(`${twin.urls.player}api/sessions`, { method: 'POST', body: JSON.stringify({ assetId: SAMPLE }) })).json()) as { hls: string };
    const url = new URL(session.hls);
    const [, token, ...rest] = url.pathname.split('/');
    const signature = token!.split('.')[1]!;
    const flipped = `${token!.split('.')[0]}.${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`;
    // Act
    const good = await fetch(session.hls);
    const tampered = await fetch(`${url.origin}/${flipped}/${rest.join('/')}`);
    const mediaBase = (await good.text()).split('\n').find((line) => line.startsWith('http://'))!;
    const tamperedMedia = await fetch(mediaBase.replace(token!, flipped));
    // Assess
    expect(good.status).toBe(200);
    expect(tampered.status).toBe(403);
    expect(tamperedMedia.status).toBe(403);
  });

  it("moves the failed CDN's weight below 10% within a minute on the audience's traffic, and back once healed", async () => {
    // Prepare: the audience is watching, and the CDN to break carries a real share of US traffic.
    const audience = twin.audience!;
    // (The bounds of this test add up to less than the project's 300 s test timeout, so a bound that
    // trips reports what it waited for.)
    await waitFor('the audience playing', async () => audience.stats().playing >= E2E_AUDIENCE.sessions * 0.75, 45_000, 500);
    // Of the CDNs with at least 10% of US decisions, the one most US viewers are on: the failure the US
    // audience notices most, so it shows as an error spike rather than a trickle. Churn moves viewers all the
    // time, so this waits for a moment when that CDN carries viewers at all (breaking an empty CDN shows nothing).
    const { before, failed, usViewers } = await waitFor('a US CDN with ≥ 10% of the weight and viewers on it', async () => {
      const item = await usWeights();
      if (!item) return undefined;
      const viewers = audience.stats().pathwaysByCountry.US ?? {};
      const pick = Object.keys(item.weights)
        .filter((id) => item.weights[id]! >= 0.1 && (viewers[id] ?? 0) >= MIN_VIEWERS_ON_BROKEN_CDN)
        .sort((a, b) => (viewers[b] ?? 0) - (viewers[a] ?? 0) || item.weights[b]! - item.weights[a]!)[0];
      return pick === undefined ? undefined : { before: item, failed: pick, usViewers: viewers };
    }, 20_000, 500);
    figures.usViewersOnBrokenCdn = usViewers[failed] ?? 0;
    expect(before.weights[failed]).toBeGreaterThanOrEqual(0.1);
    const cdn = twin.cdns.find((c) => c.id === failed)!;
    const failedSessionsBefore = audience.stats().sessions.failed;
    const describeState = async () =>
      `US: ${JSON.stringify(await usWeights())}; global: ${JSON.stringify(await weights('*'))}; audience: ${JSON.stringify(audience.stats().pathwaysByCountry)}; rollups: ${JSON.stringify(await recentRollups())}`;
    try {
      // Act: the CDN fails (503 to everything). No alignment to the scoring minute: a fault late in a
      // minute is seen in the next one, where arriving sessions keep meeting it until it is demoted.
      const downAt = Date.now();
      cdn.setFaults({ down: '503' });
      const demoted = await waitFor(`the US weight of ${failed} below 10%`, async () => {
        const item = await usWeights();
        return item && item.weights[failed]! < 0.1 ? item : undefined;
      }, DEMOTION_LIMIT_MS, 500).catch(async (error: Error) => {
        throw new Error(`${error.message}; ${await describeState()}`);
      });
      figures.demotionSeconds = seconds(Date.now() - downAt);
      // Act again: heal it. Its errors stay in the scoring window until the minute is over; after that,
      // new sessions the exploration floor steers to it find it working.
      cdn.setFaults({});
      const healedAt = Date.now();
      const readmitted = await waitFor(`${failed} re-admitted (≥ 10%)`, async () => {
        const item = await usWeights();
        return item && item.weights[failed]! >= 0.1 ? item : undefined;
      }, READMISSION_LIMIT_MS, 500).catch(async (error: Error) => {
        throw new Error(`${error.message}; ${await describeState()}`);
      });
      figures.readmissionSeconds = seconds(Date.now() - healedAt);
      // The viewers who were on it left it while it was broken: by failing over on its errors, or at a steering
      // reload that already carried the demotion, whichever came first for each (both are the loop working).
      // Read after the heal, not at the demotion, so how soon each viewer next asked it for a segment does not matter.
      const movedOff = audience.stats().recentSwitches.filter((s) => s.at >= downAt && s.at <= healedAt && s.from === failed);
      figures.movesOffBrokenCdn = movedOff.length;
      figures.failoversOffBrokenCdn = movedOff.filter((s) => s.reason === 'failover').length;

      // Assess
      expect(demoted.weights[failed]).toBeLessThan(0.1);
      expect(demoted.reason).toMatch(new RegExp(failed));
      expect(movedOff.length).toBeGreaterThan(0);
      expect(readmitted.weights[failed]).toBeGreaterThanOrEqual(0.1);
      // Two CDNs were always up: no viewer had to give up.
      expect(audience.stats().sessions.failed).toBe(failedSessionsBefore);
      figures.audienceStallsSoFar = audience.stats().stalls;
    } finally {
      cdn.setFaults({});
    }
  });

  /** A playing hls.js session and its current pathway (the player keeps a short forward buffer by default). */
  async function playUntilPathwayKnown(): Promise<{ page: Page; failed: string }> {
    const page = await openPlayer('hls', SAMPLE);
    const before = await waitFor('playing with a known pathway', async () => {
      const s = await state(page);
      return s.currentTime > 2 && s.pathway ? s : undefined;
    }, 45_000);
    return { page, failed: before.pathway! };
  }

  // A CDN that answers 503 to everything (an overloaded or broken edge; hls.js retries 5xx once) and one
  // that resets every connection (a dead edge; hls.js does not retry status 0).
  const cdnFaults = [
    { name: '503', faults: { down: '503' }, figure: '' },
    { name: 'connection reset', faults: { down: true }, figure: 'Reset' },
  ] as const;
  for (const { name, faults, figure } of cdnFaults) {
    it(`keeps playing when the CDN in use goes down (${name}) and takes segments from another pathway within 10 s`, async () => {
      // Prepare
      const { page, failed } = await playUntilPathwayKnown();
      const cdn = twin.cdns.find((c) => c.id === failed)!;
      try {
        // Act
        const downAt = Date.now();
        cdn.setFaults(faults);
        const moved = await waitFor('a segment from another pathway', async () => {
          const s = await state(page);
          return s.segments.find((seg) => seg.at > downAt && seg.pathway !== null && seg.pathway !== failed);
        }, 10_000).catch(async (error: Error) => {
          throw new Error(`${error.message}; player warnings: ${(await state(page)).warnings.slice(-12).join(' | ')}`);
        });
        figures[`failoverSeconds${figure}`] = seconds(moved.at - downAt);
        // One more segment on the new pathway: the player stays there and keeps playing.
        const after = await waitFor('a second segment after the switch', async () => {
          const s = await state(page);
          return s.segments.filter((seg) => seg.at > moved.at).length >= 1 ? s : undefined;
        }, 30_000);

        // Assess
        const longestStall = Math.max(0, after.currentStallMs, ...after.stalls.filter((st) => st.at >= downAt).map((st) => st.ms));
        figures[`longestStallDuring${figure}FailoverMs`] = longestStall;
        expect(after.errors).toEqual([]);
        expect(longestStall).toBeLessThanOrEqual(2000);
        expect(after.segments.filter((seg) => seg.at > moved.at).every((seg) => seg.pathway !== failed)).toBe(true);
      } finally {
        cdn.setFaults({});
        await page.close();
      }
    });
  }

  it('ingests a 20-second 1080p master to READY and plays it', async () => {
    // Prepare
    const work = mkdtempSync(join(tmpdir(), 'twin-master-'));
    const master = join(work, `${MASTER_1080P}.mp4`);
    await generateTestMaster(master, { seconds: 20, width: 1920, height: 1080 });
    // Act
    const uploadedAt = Date.now();
    await twin.upload(`${MASTER_1080P}.mp4`, readFileSync(master));
    const head = await untilReady(MASTER_1080P, INGEST_1080P_LIMIT_MS);
    figures.uploadToReadySeconds = seconds(Date.now() - uploadedAt);
    rmSync(work, { recursive: true, force: true });
    const page = await openPlayer('hls', MASTER_1080P);
    const started = await playing(page, '1080p asset playing', 2);
    // Assess
    expect(head.currentRevision).toBeTruthy();
    expect(started.errors).toEqual([]);
    await page.close();
  });

  it('marks a text file renamed .mp4 FAILED with a reason', async () => {
    await twin.upload('e2e-not-video.mp4', 'this is not a video, just text pretending to be one\n'.repeat(20));
    const head = await waitFor('catalog FAILED', async () => {
      const item = await catalogHead('e2e-not-video');
      return item?.status === 'FAILED' ? item : undefined;
    }, INGEST_FAILED_LIMIT_MS, 500);
    const revision = (
      await twin.documents.send(
        new GetCommand({ TableName: TWIN_NAMES.assetsTable, Key: { assetId: 'e2e-not-video', sk: `rev#${head.latestRevision}` } }),
      )
    ).Item;
    expect(String(revision?.errorReason ?? '')).toMatch(/\S{10,}/);
    const page = await browser.newPage();
    await page.goto(`${twin.urls.operator}`);
    await expect.poll(async () => (await page.textContent('body')) ?? '', { timeout: 20_000 }).toContain('e2e-not-video');
    await page.close();
  });
});
