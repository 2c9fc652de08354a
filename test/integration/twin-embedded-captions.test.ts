import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import HLS from 'hls-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTwinIngest, type TwinIngest } from './twin-ingest-pipeline';

/** Odd parity in bit 7, as every CEA-608 byte carries it (CEA-608 §3). */
const withParity = (byte: number) => (byte.toString(2).split('1').length - 1) % 2 === 0 ? byte | 0x80 : byte;
const hexPair = (first: number, second: number) =>
  `${withParity(first).toString(16).padStart(2, '0')}${withParity(second).toString(16).padStart(2, '0')}`;

/**
 * One pop-on caption on CC1 as Scenarist SCC lines (CEA-608 control codes, each sent twice as broadcast does):
 * RCL (load), ENM (clear the hidden buffer), a PAC (row 14, indent 4), the text, EOC (show it) at `at`;
 * EDM (erase the shown caption) at `until`; then a pair of null bytes, because ffmpeg 5.1's mov muxer drops
 * the last sample of a caption track (it has no duration), which would lose the EDM and end the cue early.
 * Timecodes are SMPTE hh:mm:ss:ff at 25 fps, whole seconds here.
 */
function popOnCaption(text: string, at: number, until: number): string {
  if (!/^[\x20-\x7e]*$/.test(text) || /[*\\^_`{|}~]/.test(text)) throw new Error(`not 608 basic characters: ${text}`);
  const codes = (first: number, second: number) => `${hexPair(first, second)} ${hexPair(first, second)}`;
  const characters = [...text].map((c) => c.charCodeAt(0));
  if (characters.length % 2 === 1) characters.push(0);
  const pairs = characters.flatMap((c, i) => (i % 2 === 0 ? [hexPair(c, characters[i + 1]!)] : []));
  const timecode = (s: number, frame = 0) => `00:00:${String(s).padStart(2, '0')}:${String(frame).padStart(2, '0')}`;
  return [
    `${timecode(at)}\t${[codes(0x14, 0x20), codes(0x14, 0x2e), codes(0x14, 0x52), ...pairs, codes(0x14, 0x2f)].join(' ')}`,
    `${timecode(until)}\t${codes(0x14, 0x2c)}`,
    `${timecode(until, 20)}\t${hexPair(0, 0)} ${hexPair(0, 0)}`,
  ].join('\n\n');
}

const CAPTION = 'Hello from line 21';

/**
 * A QuickTime master with CEA-608 captions in a `c608` track (how broadcast and studio ProRes/H.264 masters
 * carry line-21 captions in a file) through the twin's real ingest path: the probe lists them as a C608 data
 * track, the plan adds a `captions` rendition in the first audio track's language, and the ffmpeg stand-in
 * turns them into a WebVTT rendition offered as captions in HLS and DASH (ADR 0018). ffmpeg 5.1 has no 608
 * encoder, but its SCC demuxer reads the byte pairs and the mov muxer stores them as they are (ADR 0096).
 */
describe('twin ingest of a master with embedded CEA-608 captions', () => {
  let twin: TwinIngest;
  const workDir = mkdtempSync(join(tmpdir(), 'twin-608-'));
  const master = join(workDir, 'captioned.mov');

  beforeAll(async () => {
    twin = await startTwinIngest('cc608');
    writeFileSync(join(workDir, 'captions.scc'), `Scenarist_SCC V1.0\n\n${popOnCaption(CAPTION, 1, 3)}\n\n`);
    execFileSync('/usr/bin/ffmpeg', [
      '-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'lavfi', '-i', 'testsrc=size=320x180:rate=25:duration=4',
      '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=4',
      '-f', 'scc', '-i', join(workDir, 'captions.scc'),
      '-map', '0:v', '-map', '1:a', '-map', '2:s',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-c:s', 'copy',
      '-metadata:s:a:0', 'language=eng', '-f', 'mov', master,
    ]);
  });

  afterAll(async () => {
    await twin?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('checks its own fixture: the master carries the caption as a c608 track', () => {
    const streams = JSON.parse(execFileSync('/usr/bin/ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,codec_tag_string', '-of', 'json', master], { encoding: 'utf8' })) as {
      streams: { codec_name: string; codec_tag_string: string }[];
    };
    expect(streams.streams).toContainEqual({ codec_name: 'eia_608', codec_tag_string: 'c608' });
    const decoded = execFileSync('/usr/bin/ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', master, '-map', '0:s', '-c:s', 'webvtt', '-f', 'webvtt', '-'], { encoding: 'utf8' });
    expect(decoded).toContain(`00:01.000 --> 00:03.000\n${CAPTION}`);
  });

  it('becomes READY with an English captions rendition in WebVTT, offered as captions in HLS and DASH', async () => {
    // Act
    const outcome = await twin.ingest('uploads/Captioned Clip.mov', readFileSync(master));

    // Assess: READY
    expect(outcome).toMatchObject({ outcome: 'submitted', assetId: 'captioned-clip' });
    const entry = await twin.catalog.getAsset('captioned-clip');
    expect(entry?.head).toMatchObject({ status: 'READY' });
    const revision = entry!.revisions[0]!.revision;
    const originText = async (name: string) => (await twin.readOrigin('captioned-clip', revision, name)).toString('utf8');

    // HLS: a SUBTITLES rendition marked as captions (CHARACTERISTICS), in the audio's language, whose WebVTT has the caption
    const multivariant = HLS.parse(await originText('main.m3u8')) as HLS.types.MasterPlaylist;
    const captions = multivariant.variants[0]!.subtitles;
    expect(captions.map((r) => [r.language, r.characteristics])).toEqual([
      ['en', 'public.accessibility.transcribes-spoken-dialog,public.accessibility.describes-music-and-sound'],
    ]);
    const mediaPlaylist = await originText(captions[0]!.uri!);
    const vttName = /^[^#].*\.vtt$/m.exec(mediaPlaylist)![0];
    const vtt = await originText(vttName);
    expect(vtt.startsWith('WEBVTT')).toBe(true);
    // The caption from its EOC (shown) to its EDM (erased), as the SCC times it.
    expect(vtt).toContain(`00:01.000 --> 00:03.000\n${CAPTION}`);

    // DASH: a text/vtt set with Role caption
    const mpd = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => ['AdaptationSet', 'Period', 'Role'].includes(name) })
      .parse(await originText('main.mpd')).MPD;
    const textSets = (mpd.Period[0].AdaptationSet as { '@contentType'?: string; '@lang'?: string; '@mimeType'?: string; Role?: { '@value': string }[] }[])
      .filter((set) => set['@contentType'] === 'text');
    expect(textSets.map((set) => [set['@lang'], set['@mimeType'], set.Role?.map((role) => role['@value'])])).toEqual([['en', 'text/vtt', ['caption']]]);
  });
});
