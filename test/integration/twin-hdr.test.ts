import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTwinIngest, type TwinIngest } from './twin-ingest-pipeline';

/** A 1 s 10-bit HEVC master tagged BT.2020 / PQ (SMPTE ST 2084) / BT.2020 non-constant, as an HDR10 grade is. */
function makeHdr10Master(path: string): void {
  execFileSync('/usr/bin/ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', '1', '-vf', 'format=yuv420p10le',
    '-c:v', 'libx265', '-preset', 'ultrafast', '-profile:v', 'main10',
    '-x265-params', 'log-level=error:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc',
    '-color_primaries', 'bt2020', '-color_trc', 'smpte2084', '-colorspace', 'bt2020nc',
    '-c:a', 'aac', path,
  ]);
}

/** codec, pixel format and colour tags of the first video frame's stream in a file. */
function videoStreamOf(file: string): Record<string, string> {
  const text = execFileSync('/usr/bin/ffprobe', [
    '-v', 'error', '-select_streams', 'v:0',
    '-show_entries', 'stream=codec_name,profile,pix_fmt,color_primaries,color_transfer,color_space', '-of', 'json', file,
  ], { encoding: 'utf8' });
  return (JSON.parse(text) as { streams: Record<string, string>[] }).streams[0]!;
}

/**
 * An HDR10 master through the twin's ingest path with real servers and the real handlers (s3rver →
 * bus → submit-job → the ffmpeg MediaConvert stand-in → job-status → catalog): it must become READY
 * with an HDR ladder that stays PQ and an SDR ladder that is really BT.709 (ADRs 0015, 0016).
 */
describe('twin ingest of an HDR10 master', () => {
  let twin: TwinIngest;
  const workDir = mkdtempSync(join(tmpdir(), 'twin-hdr-'));

  beforeAll(async () => {
    twin = await startTwinIngest('hdr');
    makeHdr10Master(join(workDir, 'hdr10.mp4'));
  });

  afterAll(async () => {
    await twin?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('makes the master READY with a PQ ladder in 10-bit HEVC and a BT.709 ladder in 8-bit H.264, labelled in the playlist', async () => {
    // Act
    const outcome = await twin.ingest('uploads/HDR Feature.mp4', readFileSync(join(workDir, 'hdr10.mp4')));
    expect(outcome).toMatchObject({ outcome: 'submitted', assetId: 'hdr-feature' });
    const { assetId, revision } = outcome as { assetId: string; revision: string };

    // Assess: the catalog
    const entry = await twin.catalog.getAsset(assetId);
    expect(entry?.head).toMatchObject({ status: 'READY' });
    expect(entry?.revisions).toEqual([expect.objectContaining({ status: 'READY', dynamicRange: 'PQ' })]);

    // Assess: the playlist labels both ladders
    const read = (name: string) => twin.readOrigin(assetId, revision, name);
    const multivariant = (await read('main.m3u8')).toString('utf8');
    const variants = [...multivariant.matchAll(/#EXT-X-STREAM-INF:([^\n]*)\n([^\n]+)/g)].map(([, attributes, uri]) => ({ attributes: attributes!, uri: uri! }));
    const ranges = variants.map(({ attributes }) => /VIDEO-RANGE=(\w+)/.exec(attributes)?.[1]);
    expect(ranges).toContain('PQ');
    expect(ranges).toContain('SDR');
    expect(ranges.every((range) => range === 'PQ' || range === 'SDR')).toBe(true);

    // Assess: the pictures — decode one rung of each range
    const firstOf = (range: string) => variants.find(({ attributes }) => attributes.includes(`VIDEO-RANGE=${range}`))!.uri;
    for (const [range, expected] of [
      ['PQ', { codec_name: 'hevc', profile: 'Main 10', pix_fmt: 'yuv420p10le', color_primaries: 'bt2020', color_transfer: 'smpte2084', color_space: 'bt2020nc' }],
      ['SDR', { codec_name: 'h264', pix_fmt: 'yuv420p', color_primaries: 'bt709', color_transfer: 'bt709', color_space: 'bt709' }],
    ] as const) {
      const media = (await read(firstOf(range))).toString('utf8');
      const init = /#EXT-X-MAP:URI="([^"]+)"/.exec(media)![1]!;
      const segment = media.split('\n').find((line) => line !== '' && !line.startsWith('#'))!;
      const file = join(workDir, `${range}.mp4`);
      writeFileSync(file, Buffer.concat([await read(init), await read(segment)]));
      expect(videoStreamOf(file), range).toMatchObject(expected);
    }
  });
});
