import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTwin, TWIN_NAMES, type Twin } from '../../local/dev';
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

  const catalogHead = async (assetId: string) =>
    (await twin.documents.send(new GetCommand({ TableName: TWIN_NAMES.assetsTable, Key: { assetId, sk: 'asset' } }))).Item;
  const weights = async (scope: string) =>
    (await twin.documents.send(new GetCommand({ TableName: TWIN_NAMES.routingTable, Key: { pk: `weights#${scope}` }, ConsistentRead: true })))
      .Item as { weights: Record<string, number>; reason: string } | undefined;
  const state = (page: Page) => page.evaluate(() => (window as unknown as { __twin: TwinPageState }).__twin);

  async function openPlayer(kind: 'hls' | 'dash', extra = ''): Promise<Page> {
    const page = await browser.newPage();
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

  it('keeps playing when the CDN in use goes down, moves to another pathway, demotes it, and re-admits it once healed', async () => {
    // Prepare: a playing hls.js session; other viewers' traffic on every CDN so each cell has samples.
    // A short forward buffer keeps segment requests flowing through the 20 s asset (looped) and makes
    // the stall budget strict: the player has at most ~4-10 s of media when the CDN dies.
    const page = await openPlayer('hls', '&maxBuffer=4');
    await page.evaluate(() => ((document.getElementById('video') as HTMLVideoElement).loop = true));
    const before = await waitFor('playing with a known pathway', async () => {
      const s = await state(page);
      return s.currentTime > 2 && s.pathway ? s : undefined;
    }, 45_000);
    const failed = before.pathway!;
    const cdn = twin.cdns.find((c) => c.id === failed)!;
    const viewers = startSyntheticViewers(before.session!.hls);
    const share = async () => ((await weights('US')) ?? (await weights('*')))?.weights[failed];
    try {
      // Act: the CDN answers every request with 503 (an overloaded or broken edge; `down: true`, a reset
      // connection, fails over faster because hls.js does not retry status 0).
      const downAt = Date.now();
      cdn.setFaults({ down: '503' });
      const moved = await waitFor('a segment from another pathway', async () => {
        const s = await state(page);
        return s.segments.find((seg) => seg.at > downAt && seg.pathway !== null && seg.pathway !== failed);
      }, 10_000).catch(async (error: Error) => {
        throw new Error(`${error.message}; player warnings: ${(await state(page)).warnings.slice(-12).join(' | ')}`);
      });
      figures.failoverSeconds = Math.round((moved.at - downAt) / 100) / 10;
      const demoted = await waitFor(`the US weight of ${failed} below 10%`, async () => {
        const value = await share();
        return value !== undefined && value < 0.1 ? (await weights('US')) ?? (await weights('*')) : undefined;
      }, 60_000, 500).catch(async (error: Error) => {
        throw new Error(`${error.message}; US: ${JSON.stringify(await weights('US'))}; *: ${JSON.stringify(await weights('*'))}`);
      });
      figures.demotionSeconds = Math.round((Date.now() - downAt) / 100) / 10;
      const afterFailover = await state(page);

      // Act again: heal it; traffic on it is clean again, so the controller must bring it back.
      cdn.setFaults({});
      const healedAt = Date.now();
      const readmittedShare = await waitFor(`${failed} re-admitted (≥ 10%)`, async () => {
        const value = await share();
        return value !== undefined && value >= 0.1 ? value : undefined;
      }, 90_000, 500);
      figures.readmissionSeconds = Math.round((Date.now() - healedAt) / 100) / 10;

      // Assess
      const stallsDuring = afterFailover.stalls.filter((s) => s.at >= downAt).map((s) => s.ms);
      const longestStall = Math.max(0, afterFailover.currentStallMs, ...stallsDuring);
      figures.longestStallDuringFailoverMs = longestStall;
      expect(afterFailover.errors).toEqual([]);
      expect(longestStall).toBeLessThanOrEqual(2000);
      expect(afterFailover.segments.filter((seg) => seg.at > downAt && seg.pathway !== failed).length).toBeGreaterThanOrEqual(2);
      expect(demoted.weights[failed]).toBeLessThan(0.1);
      expect(demoted.reason).toMatch(new RegExp(failed));
      expect(readmittedShare).toBeGreaterThanOrEqual(0.1);
    } finally {
      cdn.setFaults({});
      viewers.stop();
      await page.close();
    }
  });

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
