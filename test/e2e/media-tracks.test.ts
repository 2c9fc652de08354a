import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import HLS from 'hls-parser';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { startTwin, TWIN_NAMES, type Twin } from '../../local/dev';
import { FFMPEG_PATH } from '../../local/twin/media-tools';
import { CHROMIUM, CHROMIUM_FLAGS, MISSING, MISSING_TOOLS, pageState, portBase, seconds, SKIP_HERE, type TwinPageState, waitFor } from './twin-harness';

/**
 * Real masters in the twin, played in headless Chromium (issue 8; ADR 0095, ADR 0096):
 * - a 2.39:1 scope master, 10-bit HEVC tagged PQ/BT.2020 (HDR10), with English and French audio and an
 *   English WebVTT sidecar uploaded before it: hls.js, dash.js and Shaka (DASH) list both languages and the
 *   subtitles, switch to French (the player's own current track and the French rendition's segments
 *   fetched), show a subtitle cue, and decode a 2.39:1 picture from the ladder headless Chromium can play;
 * - a 576i25 PAL master with 64:45 pixels (16:9): Chromium decodes a 16:9 picture, and the full-height
 *   rendition the CDN serves has no combing left by ffmpeg's interlace detector, which finds it in every
 *   frame of the master.
 *
 * One ingest per master, both started before the browser; every wait is for a condition, and each bound is a
 * failure detector several times what a quiet 2-core machine needs (docs/adr/0089-e2e-robust-on-a-loaded-machine.md).
 */

const run = promisify(execFile);

const SCOPE = 'e2e-scope-hdr';
const PAL = 'e2e-pal-interlaced';
const SECONDS = 8;
/** The scope master's frame: 2.39:1 with both sides even (860/360 = 2.389). */
const SCOPE_SIZE = { width: 860, height: 360 };
const SCOPE_ASPECT = 2.39;
/** Cues covering the whole master, so one is on screen whenever the player is asked. */
const SUBTITLE_CUES = ['Scope subtitle one', 'Scope subtitle two'];
const SIDECAR = `WEBVTT\n\n00:00:00.000 --> 00:00:04.000\n${SUBTITLE_CUES[0]}\n\n00:00:04.000 --> 00:00:${String(SECONDS + 1).padStart(2, '0')}.000\n${SUBTITLE_CUES[1]}\n`;
/** English 440 Hz, French 880 Hz: two renditions a listener (or a spectrum) tells apart. */
const AUDIO = [
  { language: 'eng', tag: 'en', frequency: 440 },
  { language: 'fra', tag: 'fr', frequency: 880 },
] as const;

/**
 * Failure detectors (quiet-machine figures in brackets): both masters to READY, started together — six
 * 860×360 rungs, three in x265, plus three SD rungs (~40 s); a player from page load to playing (~3 s).
 */
const INGEST_LIMIT_MS = 240_000;
const PLAYING_LIMIT_MS = 60_000;
const SWITCH_LIMIT_MS = 30_000;

const FIGURES: Record<string, number | string> = {};

/** 2.39:1 10-bit HEVC, BT.2020 primaries and matrix, PQ transfer (an HDR10 grade), two stereo audio tracks. */
async function makeScopeHdrMaster(path: string): Promise<void> {
  const { width, height } = SCOPE_SIZE;
  await run(FFMPEG_PATH, [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=25:duration=${SECONDS}`,
    ...AUDIO.flatMap((a) => ['-f', 'lavfi', '-i', `sine=frequency=${a.frequency}:sample_rate=48000:duration=${SECONDS},aformat=channel_layouts=stereo`]),
    '-map', '0:v', ...AUDIO.flatMap((_, i) => ['-map', `${i + 1}:a`]),
    '-vf', 'format=yuv420p10le',
    '-c:v', 'libx265', '-preset', 'ultrafast', '-profile:v', 'main10',
    '-x265-params', 'log-level=error:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc',
    '-color_primaries', 'bt2020', '-color_trc', 'smpte2084', '-colorspace', 'bt2020nc', '-tag:v', 'hvc1',
    '-c:a', 'aac', '-b:a', '96k',
    ...AUDIO.flatMap((a, i) => [`-metadata:s:a:${i}`, `language=${a.language}`]),
    path,
  ]);
}

/**
 * PAL 576i25 with 64:45 pixels (16:9 on a 720×576 raster), top field first: testsrc2 at 50 fps scrolled
 * sideways, woven field by field, so every frame holds two instants and shows combing on every edge.
 */
async function makePalInterlacedMaster(path: string): Promise<void> {
  await run(FFMPEG_PATH, [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=720x576:rate=50:duration=${SECONDS}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${SECONDS}`,
    '-vf', 'scroll=horizontal=0.004,interlace=scan=tff',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-flags', '+ildct+ilme', '-x264-params', 'tff=1',
    '-aspect', '16:9', '-c:a', 'aac', path,
  ]);
}

/** ffmpeg's `idet` multi-frame verdict over a file: frames it finds top- or bottom-field-first interlaced, and progressive. */
async function interlaceVerdict(file: string): Promise<{ interlaced: number; progressive: number; undetermined: number }> {
  const { stderr } = await run(FFMPEG_PATH, ['-hide_banner', '-nostats', '-i', file, '-map', '0:v:0', '-vf', 'idet', '-f', 'null', '-']);
  const match = /Multi frame detection: TFF:\s*(\d+)\s+BFF:\s*(\d+)\s+Progressive:\s*(\d+)\s+Undetermined:\s*(\d+)/.exec(stderr);
  if (!match) throw new Error(`idet printed no verdict for ${file}: ${stderr.slice(-400)}`);
  const [tff, bff, progressive, undetermined] = match.slice(1).map(Number) as [number, number, number, number];
  return { interlaced: tff + bff, progressive, undetermined };
}

const lastPathSegment = (url: string) => new URL(url).pathname.split('/').pop()!;

async function fetchText(url: string): Promise<string> {
  const answer = await fetch(url);
  if (!answer.ok) throw new Error(`GET ${url} answered ${answer.status}`);
  return answer.text();
}

/** The media segment names of the HLS audio rendition in `language`, from the session's multivariant playlist. */
async function audioSegmentNames(multivariantUrl: string, language: string): Promise<Set<string>> {
  const multivariant = HLS.parse(await fetchText(multivariantUrl)) as HLS.types.MasterPlaylist;
  const rendition = multivariant.variants.flatMap((v) => v.audio).find((r) => r.language === language && r.uri);
  if (!rendition) throw new Error(`no ${language} audio rendition in ${multivariantUrl}`);
  const mediaUrl = new URL(rendition.uri!, multivariantUrl).href;
  const media = HLS.parse(await fetchText(mediaUrl)) as HLS.types.MediaPlaylist;
  return new Set(media.segments.map((segment) => lastPathSegment(new URL(segment.uri, mediaUrl).href)));
}

describe.skipIf(SKIP_HERE)('real masters in Chromium: audio languages, subtitles, scope HDR, anamorphic interlaced', () => {
  let twin: Twin;
  let browser: Browser;
  let hevcMain10Playable = false;
  const work = mkdtempSync(join(tmpdir(), 'e2e-media-tracks-'));
  const masters = { scope: join(work, `${SCOPE}.mp4`), pal: join(work, `${PAL}.mp4`) };

  const catalogHead = async (assetId: string) =>
    (await twin.documents.send(new GetCommand({ TableName: TWIN_NAMES.assetsTable, Key: { assetId, sk: 'asset' } }))).Item;
  const untilReady = (assetId: string) =>
    waitFor(`${assetId} READY in the catalog`, async () => {
      const item = await catalogHead(assetId);
      if (item?.status === 'FAILED') throw new Error(`ingest of ${assetId} FAILED: ${item.errorReason ?? JSON.stringify(item)}`);
      return item?.status === 'READY' ? item : undefined;
    }, INGEST_LIMIT_MS, 500);
  let uploadedAt = 0;
  /** Both ingests, awaited by the first test that needs each (the page waits for READY by itself too). */
  let ready: Record<'scope' | 'pal', Promise<unknown>>;

  /** What a page showed when a wait timed out: enough to tell a slow player from a stuck one. */
  const explained = (page: Page) => async (error: Error): Promise<never> => {
    const s = await pageState(page).catch(() => undefined);
    const shown = s && {
      currentTime: s.currentTime, videoWidth: s.videoWidth, audioTracks: s.audioTracks, audioLanguage: s.audioLanguage,
      textTracks: s.textTracks, textLanguage: s.textLanguage, cueText: s.cueText, audioSegments: s.audioSegments.slice(-4), warnings: s.warnings.slice(-6),
    };
    throw new Error(`${error.message}; page state: ${JSON.stringify(shown)}`);
  };

  /** The page's state, failing at once on a player error. */
  const healthy = async (page: Page): Promise<TwinPageState> => {
    const s = await pageState(page);
    if (s.errors.length > 0) throw new Error(`player errors: ${s.errors.join('; ')}`);
    return s;
  };

  beforeAll(async () => {
    if (MISSING.length > 0) throw new Error(`[e2e] cannot run: ${MISSING_TOOLS}`);
    await Promise.all([makeScopeHdrMaster(masters.scope), makePalInterlacedMaster(masters.pal)]);
    twin = await startTwin({ portBase: portBase('E2E_MEDIA_TRACKS_PORT_BASE', 6560), dataDir: join(work, 'twin') });
    // The sidecar before its master (ADR 0018): the master's upload starts the encode, which lists its sidecars.
    await twin.upload(`${SCOPE}.en.vtt`, SIDECAR);
    uploadedAt = Date.now();
    await twin.upload(`${SCOPE}.mp4`, await readFile(masters.scope));
    await twin.upload(`${PAL}.mp4`, await readFile(masters.pal));
    const readyFigure = (assetId: string, figure: string) =>
      untilReady(assetId).then(() => void (FIGURES[figure] = seconds(Date.now() - uploadedAt)));
    ready = { scope: readyFigure(SCOPE, 'scopeUploadToReadySeconds'), pal: readyFigure(PAL, 'palUploadToReadySeconds') };
    // A rejection is reported by the test that awaits it; this keeps an early one from going unhandled meanwhile.
    for (const promise of Object.values(ready)) promise.catch(() => undefined);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
    const probe = await browser.newPage();
    hevcMain10Playable = await probe.evaluate(() => MediaSource.isTypeSupported('video/mp4; codecs="hvc1.2.4.L93.90"'));
    await probe.close();
  });

  afterAll(async () => {
    await browser?.close();
    await twin?.stop();
    rmSync(work, { recursive: true, force: true });
    if (Object.keys(FIGURES).length > 0) console.log(JSON.stringify({ mediaTracksFigures: FIGURES }));
  });

  const PLAYERS = [
    { name: 'hls.js', query: 'player=hls' },
    { name: 'dash.js', query: 'player=dash' },
    { name: 'Shaka (DASH)', query: 'player=shaka&format=dash' },
  ] as const;

  for (const player of PLAYERS) {
    it(`${player.name}: lists English and French audio and English subtitles, switches to French, shows a cue, decodes 2.39:1`, async () => {
      // Prepare: the master READY and the player playing it
      await ready.scope;
      const page = await browser.newPage();
      try {
        await page.goto(`${twin.urls.player}?${player.query}&asset=${SCOPE}`);
        const started = await waitFor(`${player.name} playing with its tracks listed`, async () => {
          const s = await healthy(page);
          return s.currentTime > 0.3 && s.videoWidth > 0 && s.audioTracks.length >= 2 && s.textTracks.length >= 1 && s.audioLanguage ? s : undefined;
        }, PLAYING_LIMIT_MS).catch(explained(page));
        // Paused, so the 8 s master cannot end while the tracks change (the player keeps loading while paused).
        await page.evaluate(() => (document.getElementById('video') as HTMLVideoElement).pause());
        const french = started.audioTracks.find((t) => t.language === 'fr')!;
        const english = started.textTracks.find((t) => t.language === 'en')!;
        const frenchSegments = await audioSegmentNames(started.session!.hls, 'fr');

        // Act: the viewer picks French audio, then the English subtitles, in the page's menus
        const switchedAt = await page.evaluate(() => Date.now());
        await page.click(`#audio-menu input[value="${french.id}"]`);
        const switched = await waitFor(`${player.name} playing French audio`, async () => {
          const s = await healthy(page);
          const fetched = s.audioSegments.filter((segment) => segment.at >= switchedAt && frenchSegments.has(lastPathSegment(segment.url)));
          return s.audioLanguage === 'fr' && fetched.length > 0 ? { ...s, fetched } : undefined;
        }, SWITCH_LIMIT_MS).catch(explained(page));
        await page.click(`#text-menu input[value="${english.id}"]`);
        const captioned = await waitFor(`${player.name} showing a subtitle cue`, async () => {
          const s = await healthy(page);
          return s.textLanguage === 'en' && s.cueText ? s : undefined;
        }, SWITCH_LIMIT_MS).catch(explained(page));
        // Playback goes on in French with the subtitles on.
        const resumedFrom = captioned.currentTime;
        await page.evaluate(() => void (document.getElementById('video') as HTMLVideoElement).play());
        const resumed = await waitFor(`${player.name} playing on after the switch`, async () => {
          const s = await healthy(page);
          return s.currentTime > resumedFrom + 0.5 || s.ended ? s : undefined;
        }, SWITCH_LIMIT_MS).catch(explained(page));

        // Assess: the tracks offered
        expect(started.audioTracks.map((t) => t.language).sort()).toEqual(['en', 'fr']);
        expect(started.textTracks.map((t) => [t.language, t.kind])).toEqual([['en', 'subtitles']]);
        expect(started.audioLanguage).toBe('en');
        // … French by the player's own state and by the segments it fetched (from the French rendition only)
        expect(switched.audioLanguage).toBe('fr');
        expect(switched.fetched.length).toBeGreaterThan(0);
        expect(resumed.audioLanguage).toBe('fr');
        // … a cue of the sidecar on screen
        expect(SUBTITLE_CUES).toContain(captioned.cueText);
        // … the picture: 2.39:1 as decoded, from the SDR ladder where this Chromium cannot decode HEVC Main10
        const aspect = captioned.videoWidth / captioned.videoHeight;
        expect(aspect).toBeGreaterThan(SCOPE_ASPECT - 0.02);
        expect(aspect).toBeLessThan(SCOPE_ASPECT + 0.02);
        if (hevcMain10Playable) expect(['PQ', 'SDR']).toContain(captioned.videoRange);
        else {
          expect(captioned.videoRange).toBe('SDR');
          expect(captioned.videoCodec).toMatch(/avc1/);
        }
        const key = player.name.replace(/[^A-Za-z]/g, '');
        FIGURES[`${key}Picture`] = `${captioned.videoWidth}x${captioned.videoHeight} ${captioned.videoRange} ${captioned.videoCodec}`;
        FIGURES[`${key}AudioSwitchSeconds`] = seconds(switched.fetched[0]!.at - switchedAt);
      } finally {
        await page.close();
      }
    });
  }

  it('plays the 576i anamorphic master as a 16:9 picture, deinterlaced: no combing where the master has it in every frame', async () => {
    // Prepare
    await ready.pal;
    const page = await browser.newPage();
    try {
      await page.goto(`${twin.urls.player}?player=hls&asset=${PAL}`);
      // Act
      const playing = await waitFor('hls.js playing the PAL master', async () => {
        const s = await healthy(page);
        return s.currentTime > 0.3 && s.videoWidth > 0 ? s : undefined;
      }, PLAYING_LIMIT_MS).catch(explained(page));
      // The full-height rendition, as the CDN serves it to the player: the only one whose lines are the
      // master's lines, so the only one where combing would survive as alternating lines (a rung scaled to
      // fewer lines blends the two fields instead, which idet cannot see; ADR 0096).
      const multivariantUrl = playing.session!.hls;
      const multivariant = HLS.parse(await fetchText(multivariantUrl)) as HLS.types.MasterPlaylist;
      const fullHeight = multivariant.variants.find((v) => v.resolution?.height === 576);
      expect(fullHeight, 'a 576-line rendition').toBeDefined();
      const mediaUrl = new URL(fullHeight!.uri, multivariantUrl).href;
      const media = HLS.parse(await fetchText(mediaUrl)) as HLS.types.MediaPlaylist;
      const init = media.segments[0]!.map!.uri;
      const parts = await Promise.all([init, ...media.segments.map((segment) => segment.uri)].map(async (uri) => {
        const answer = await fetch(new URL(uri, mediaUrl));
        expect(answer.status).toBe(200);
        return Buffer.from(await answer.arrayBuffer());
      }));
      const rendition = join(work, 'pal-576.mp4');
      writeFileSync(rendition, Buffer.concat(parts));
      const [inMaster, inRendition] = await Promise.all([interlaceVerdict(masters.pal), interlaceVerdict(rendition)]);

      // Assess: the decoded picture is 16:9 (a squeezed 720×576 would be 1.25)
      expect(playing.videoWidth / playing.videoHeight).toBeCloseTo(16 / 9, 2);
      expect(fullHeight!.resolution).toEqual({ width: 1024, height: 576 });
      // … the detector sees the master's combing (the control), and none in what the CDN serves
      const masterFrames = inMaster.interlaced + inMaster.progressive + inMaster.undetermined;
      const renditionFrames = inRendition.interlaced + inRendition.progressive + inRendition.undetermined;
      expect(inMaster.interlaced).toBeGreaterThan(0.9 * masterFrames);
      expect(renditionFrames).toBeGreaterThanOrEqual(SECONDS * 25 - 2);
      expect(inRendition.interlaced).toBeLessThanOrEqual(0.02 * renditionFrames);
      expect(inRendition.progressive).toBeGreaterThan(0.9 * renditionFrames);
      FIGURES.palPicture = `${playing.videoWidth}x${playing.videoHeight}`;
      FIGURES.palIdetMaster = JSON.stringify(inMaster);
      FIGURES.palIdetRendition = JSON.stringify(inRendition);
    } finally {
      await page.close();
    }
  });
});
