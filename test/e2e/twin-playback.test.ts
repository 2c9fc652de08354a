import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPathwayHosts } from '../../core/pathway-hosts';
import { startTwin, TWIN_NAMES, twinPorts, type Twin } from '../../local/dev';
import { generateTestMaster } from '../../local/twin/media-tools';

/**
 * The twin end to end in headless Debian Chromium (issue 5): upload → READY → HLS (hls.js) and DASH
 * (dash.js) through the gateway and the CDNs, a tampered URL refused, a CDN failed mid-play, a bad
 * upload FAILED. Figures go to `.twin/figures.json` and stdout as one JSON line.
 */

const CHROMIUM = '/usr/bin/chromium';
const FFMPEG = '/usr/bin/ffmpeg';
const missing = [CHROMIUM, FFMPEG].filter((path) => !existsSync(path));
if (missing.length > 0) console.warn(`[e2e] skipped: ${missing.join(' and ')} not installed (apt-get install -y chromium ffmpeg)`);

const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];
const PORT_BASE = 6160;
const twinCdnHostsDistinguishable =
  buildPathwayHosts(TWIN_NAMES.pathways.map((id, i) => ({ id, host: `127.0.0.1:${twinPorts(PORT_BASE).cdns[i]}`, enabled: true, cap: 1 }))).byHost.size ===
  TWIN_NAMES.pathways.length;
if (!twinCdnHostsDistinguishable) {
  console.warn('[e2e] routing-weights failover test skipped: core/pathway-hosts.ts maps 127.0.0.1:<port> hosts to one pathway');
}
const ASSET = 'e2e-1080p';
const FIGURES_FILE = join(process.cwd(), '.twin', 'figures.json');

interface TwinPageState {
  currentTime: number;
  firstFrameMs: number | null;
  pathway: string | null;
  segments: { at: number; pathway: string | null }[];
  stalls: { at: number; ms: number }[];
  currentStallMs: number;
  errors: string[];
  warnings: string[];
  session?: { hls: string; dash: string; sessionId: string };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

describe.skipIf(missing.length > 0)('local twin end to end in Chromium', () => {
  let twin: Twin;
  let browser: Browser;
  const figures: Record<string, number | string> = {};
  if (!twinCdnHostsDistinguishable) figures.routingWeightsFailover = 'not measured: twin CDN hosts differ only by port (core/pathway-hosts.ts)';

  const catalogHead = async (assetId: string) =>
    (await twin.documents.send(new GetCommand({ TableName: TWIN_NAMES.assetsTable, Key: { assetId, sk: 'asset' } }))).Item;
  const weights = async (scope: string) =>
    (await twin.documents.send(new GetCommand({ TableName: TWIN_NAMES.routingTable, Key: { pk: `weights#${scope}` }, ConsistentRead: true })))
      .Item as { weights: Record<string, number>; reason: string } | undefined;
  const recentRollups = async () => {
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    const query = (m: number) =>
      twin.documents.send(
        new QueryCommand({ TableName: TWIN_NAMES.rollupsTable, KeyConditionExpression: '#m = :m', ExpressionAttributeNames: { '#m': 'minute' }, ExpressionAttributeValues: { ':m': m } }),
      );
    const pages = await Promise.all([minute, minute - 60_000].map(query));
    return pages.flatMap((page) => (page.Items ?? []).map((i) => `${i.minute}:${i.cell} requests=${i.requests} errors=${i.errors}`));
  };
  const state = (page: Page) => page.evaluate(() => (window as unknown as { __twin: TwinPageState }).__twin);

  /** HTTP statuses of the player's CMCD v2 event reports (POST /v1/cmcd/<token>), per page. */
  const reportStatuses = new WeakMap<Page, number[]>();

  async function openPlayer(kind: 'hls' | 'dash', extra = ''): Promise<Page> {
    const page = await browser.newPage();
    const statuses: number[] = [];
    reportStatuses.set(page, statuses);
    page.on('response', (response) => {
      if (response.request().method() === 'POST' && response.url().includes('/v1/cmcd/')) statuses.push(response.status());
    });
    await page.goto(`${twin.urls.player}?player=${kind}&asset=${ASSET}${extra}`);
    return page;
  }

  beforeAll(async () => {
    twin = await startTwin({ portBase: PORT_BASE, dataDir: mkdtempSync(join(tmpdir(), 'twin-e2e-')) });
    // playwright gives every launch a fresh temporary profile (the fresh user-data-dir TOOLCHAIN.md asks for).
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
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

  it('ingests a 20-second 1080p master to READY', async () => {
    // Prepare
    const work = mkdtempSync(join(tmpdir(), 'twin-master-'));
    const master = join(work, `${ASSET}.mp4`);
    await generateTestMaster(master, { seconds: 20, width: 1920, height: 1080 });
    // Act
    const uploadedAt = Date.now();
    await twin.upload(`${ASSET}.mp4`, readFileSync(master));
    const head = await waitFor('catalog READY', async () => {
      const item = await catalogHead(ASSET);
      if (item?.status === 'FAILED') throw new Error(`ingest FAILED: ${item.errorReason ?? JSON.stringify(item)}`);
      return item?.status === 'READY' ? item : undefined;
    }, 150_000, 500);
    // Assess
    figures.uploadToReadySeconds = Math.round((Date.now() - uploadedAt) / 100) / 10;
    expect(head.currentRevision).toBeTruthy();
    rmSync(work, { recursive: true, force: true });
  });

  it('plays HLS in hls.js from signed URLs through the gateway and the CDNs', async () => {
    const page = await openPlayer('hls');
    const playing = await waitFor('hls.js currentTime > 3 s', async () => {
      const s = await state(page);
      if (s.errors.length > 0) throw new Error(`player errors: ${s.errors.join('; ')}`);
      return s.currentTime > 3 ? s : undefined;
    }, 45_000);
    expect(playing.errors).toEqual([]);
    expect(playing.pathway).toMatch(/^cf-[abc]$/);
    expect(playing.session?.hls).toMatch(new RegExp(`^${twin.urls.gateway}/[^/]+/play/${ASSET}/`));
    figures.timeToFirstFrameMsHls = playing.firstFrameMs ?? -1;
    expect((reportStatuses.get(page) ?? []).every((status) => status >= 200 && status < 300)).toBe(true);
    await page.close();
  });

  it('plays DASH in dash.js', async () => {
    const page = await openPlayer('dash');
    const playing = await waitFor('dash.js currentTime > 3 s', async () => {
      const s = await state(page);
      if (s.errors.length > 0) throw new Error(`player errors: ${s.errors.join('; ')}`);
      return s.currentTime > 3 ? s : undefined;
    }, 45_000);
    expect(playing.errors).toEqual([]);
    figures.timeToFirstFrameMsDash = playing.firstFrameMs ?? -1;
    // dash.js's CMCD v2 event reports reach the ingest and are accepted (they once lacked `sid`: 403).
    const statuses = await waitFor('dash.js CMCD reports', async () => {
      const seen = reportStatuses.get(page)!;
      return seen.length >= 2 ? [...seen] : undefined;
    }, 20_000);
    expect(statuses.every((status) => status >= 200 && status < 300)).toBe(true);
    expect(playing.warnings.filter((w) => w.includes('/v1/cmcd/'))).toEqual([]);
    await page.close();
  });

  it('refuses a tampered playback URL with 403', async () => {
    // Prepare
    const session = (await (await fetch(`${twin.urls.player}api/sessions`, { method: 'POST', body: JSON.stringify({ assetId: ASSET }) })).json()) as { hls: string };
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

  /** A playing hls.js session with a short forward buffer (looped 20 s asset) and its current pathway. */
  async function playUntilPathwayKnown(): Promise<{ page: Page; before: TwinPageState; failed: string }> {
    // A short forward buffer keeps segment requests flowing and makes the stall budget strict: the player
    // holds at most ~4-10 s of media when its CDN dies.
    const page = await openPlayer('hls', '&maxBuffer=4');
    await page.evaluate(() => ((document.getElementById('video') as HTMLVideoElement).loop = true));
    const before = await waitFor('playing with a known pathway', async () => {
      const s = await state(page);
      return s.currentTime > 2 && s.pathway ? s : undefined;
    }, 45_000);
    return { page, before, failed: before.pathway! };
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
        figures[`failoverSeconds${figure}`] = Math.round((moved.at - downAt) / 100) / 10;
        await sleep(6_000); // at least one more segment interval on the new pathway
        const after = await state(page);

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

  // Gated: core/pathway-hosts.ts compares hosts without their port, and every twin CDN is 127.0.0.1:<port>,
  // so all telemetry is attributed to one pathway and the weights cannot follow a failure (reported to the
  // lead; keeping non-default ports in normalizeHost fixes it). The test enables itself once the three
  // twin CDN hosts map to three pathways.
  it.skipIf(!twinCdnHostsDistinguishable)('demotes the failed CDN in the country\'s routing weights and re-admits it once healed', async () => {
    // Prepare: the player's CDN, and other viewers' traffic on every CDN so each cell has samples.
    const { page, before, failed } = await playUntilPathwayKnown();
    const cdn = twin.cdns.find((c) => c.id === failed)!;
    const viewers = startSyntheticViewers(before.session!.hls);
    const usWeights = async () => (await weights('US')) ?? (await weights('*'));
    try {
      // Act: the CDN fails
      const downAt = Date.now();
      cdn.setFaults({ down: '503' });
      const demoted = await waitFor(`the US weight of ${failed} below 10%`, async () => {
        const item = await usWeights();
        return item && item.weights[failed]! < 0.1 ? item : undefined;
      }, 60_000, 500).catch(async (error: Error) => {
        throw new Error(`${error.message}; US: ${JSON.stringify(await usWeights())}; rollups: ${JSON.stringify(await recentRollups())}`);
      });
      figures.demotionSeconds = Math.round((Date.now() - downAt) / 100) / 10;

      // Act again: heal it; its traffic is clean again, so the controller must bring it back.
      cdn.setFaults({});
      const healedAt = Date.now();
      const readmitted = await waitFor(`${failed} re-admitted (≥ 10%)`, async () => {
        const item = await usWeights();
        return item && item.weights[failed]! >= 0.1 ? item : undefined;
        // The fault's errors stay in the scoring window until the minute after next (current + previous
        // minute), then the reversal hold and promotion follow: up to ~2.5 min. Measured 30–70 s when the
        // fault fell early in a minute; allow the worst case on a loaded CI machine.
      }, 240_000, 500);
      figures.readmissionSeconds = Math.round((Date.now() - healedAt) / 100) / 10;

      // Assess
      expect(demoted.weights[failed]).toBeLessThan(0.1);
      expect(demoted.reason).toMatch(new RegExp(failed));
      expect(readmitted.weights[failed]).toBeGreaterThanOrEqual(0.1);
    } finally {
      cdn.setFaults({});
      viewers.stop();
      await page.close();
    }
  }, 420_000);

  it('marks a text file renamed .mp4 FAILED with a reason', async () => {
    await twin.upload('e2e-not-video.mp4', 'this is not a video, just text pretending to be one\n'.repeat(20));
    const head = await waitFor('catalog FAILED', async () => {
      const item = await catalogHead('e2e-not-video');
      return item?.status === 'FAILED' ? item : undefined;
    }, 60_000, 500);
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

/**
 * Other viewers of the same asset: a steady stream of segment requests through every CDN (country
 * US, the player's), so each pathway × country cell passes the controller's minimum sample count.
 */
function startSyntheticViewers(hlsUrl: string): { stop(): void } {
  let stopped = false;
  void (async () => {
    const multivariant = await (await fetch(hlsUrl)).text();
    const mediaPlaylists = multivariant.split('\n').filter((l) => l.startsWith('http://'));
    const segmentsByPlaylist = new Map<string, string[]>();
    for (const playlist of mediaPlaylists) {
      const text = await (await fetch(playlist, { headers: { 'x-twin-country': 'US' } })).text();
      const base = new URL(playlist);
      segmentsByPlaylist.set(playlist, text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => new URL(l, base).href));
    }
    const all = [...segmentsByPlaylist.values()].flat();
    let i = 0;
    while (!stopped && all.length > 0) {
      const batch = Array.from({ length: 6 }, () => all[i++ % all.length]!);
      await Promise.all(batch.map((url) => fetch(url, { headers: { 'x-twin-country': 'US' } }).then((r) => r.arrayBuffer()).catch(() => undefined)));
      await sleep(100);
    }
  })();
  return { stop: () => void (stopped = true) };
}
