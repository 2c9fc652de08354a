import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import HLS from 'hls-parser';
import { XMLParser } from 'fast-xml-parser';
import { ASSET_READY } from '../../core/identifiers';
import { startTwinIngest, type TwinIngest } from './twin-ingest-pipeline';

/**
 * A master with English stereo and German 5.1 and a WebVTT sidecar, through the twin's real ingest
 * path (s3rver → bus → submit-job → ffmpeg stand-in → job-status): READY, with one audio rendition
 * per language in HLS and DASH, the 5.1 track downmixed, and the sidecar as a WebVTT rendition
 * (ADRs 0017, 0018).
 */
describe('twin ingest of a two-language master with a sidecar subtitle file', () => {
  let twin: TwinIngest;
  const workDir = mkdtempSync(join(tmpdir(), 'twin-audio-'));

  beforeAll(async () => {
    twin = await startTwinIngest('audio');
    // English stereo (440 Hz) and German 5.1 (220 Hz in every channel), 3 s of testsrc.
    execFileSync('/usr/bin/ffmpeg', [
      '-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'lavfi', '-i', 'testsrc=size=320x180:rate=25',
      '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000,aformat=channel_layouts=stereo',
      '-f', 'lavfi', '-i', 'sine=frequency=220:sample_rate=48000,aformat=channel_layouts=5.1',
      '-map', '0:v', '-map', '1:a', '-map', '2:a', '-t', '3',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac',
      '-metadata:s:a:0', 'language=eng', '-metadata:s:a:1', 'language=deu',
      join(workDir, 'master.mp4'),
    ]);
    writeFileSync(join(workDir, 'subs.vtt'), 'WEBVTT\n\n00:00:00.500 --> 00:00:02.000\nHello, world.\n');
  });

  afterAll(async () => {
    await twin?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('becomes READY with two audio languages and a WebVTT subtitle rendition in HLS and DASH', async () => {
    // Act: the sidecar first (the convention: sidecars before their master), then the master.
    const sidecar = await twin.ingest('uploads/Two Tongues.en.vtt', readFileSync(join(workDir, 'subs.vtt')));
    const outcome = await twin.ingest('uploads/Two Tongues.mp4', readFileSync(join(workDir, 'master.mp4')));

    // Assess: the sidecar started nothing; the master is READY.
    expect(sidecar).toMatchObject({ outcome: 'ignored' });
    expect(outcome).toMatchObject({ outcome: 'submitted', assetId: 'two-tongues' });
    const entry = await twin.catalog.getAsset('two-tongues');
    expect(entry?.head).toMatchObject({ status: 'READY' });
    expect(twin.catalogEventsOf('two-tongues')).toEqual([ASSET_READY]);
    const revision = entry!.revisions[0]!.revision;
    const originText = async (name: string) => (await twin.readOrigin('two-tongues', revision, name)).toString('utf8');

    // HLS: two audio renditions with LANGUAGE, one subtitle rendition, every variant names both groups.
    const hls = await originText('main.m3u8');
    const master = HLS.parse(hls) as HLS.types.MasterPlaylist;
    const variant = master.variants[0]!;
    expect(variant.audio.map((rendition) => [rendition.language, rendition.name, rendition.isDefault])).toEqual([
      ['en', 'English', true],
      ['de', 'German', false],
    ]);
    expect(variant.subtitles.map((rendition) => [rendition.language, rendition.name])).toEqual([['en', 'English']]);
    expect(master.variants.every((each) => each.audio.length === 2 && each.subtitles.length === 1)).toBe(true);
    const subtitlePlaylist = await originText(variant.subtitles[0]!.uri!);
    const vttName = /^[^#].*\.vtt$/m.exec(subtitlePlaylist)![0];
    expect(await originText(vttName)).toContain('Hello, world.');
    // The German rendition was downmixed from 5.1 to stereo.
    expect(hls).toMatch(/LANGUAGE="de"[^\n]*CHANNELS="2"/);

    // DASH: one audio adaptation set per language and a text set.
    const mpd = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => ['AdaptationSet', 'Period'].includes(name) })
      .parse(await originText('main.mpd')).MPD;
    const sets = mpd.Period[0].AdaptationSet as Record<string, string>[];
    const audioSets = sets.filter((set) => set['@contentType'] === 'audio') as unknown as { '@lang': string; Representation: { AudioChannelConfiguration: { '@value': string } } }[];
    expect(audioSets.map((set) => set['@lang'])).toEqual(['en', 'de']);
    // The German 5.1 track arrives as stereo (downmixed), like every AAC rendition.
    expect(audioSets.map((set) => set.Representation.AudioChannelConfiguration['@value'])).toEqual(['2', '2']);
    expect(sets.filter((set) => set['@contentType'] === 'text').map((set) => [set['@lang'], set['@mimeType']])).toEqual([['en', 'text/vtt']]);
  });
});
