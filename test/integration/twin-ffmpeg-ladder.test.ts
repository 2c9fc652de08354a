import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { audioSamplesWithinVideo, crfForQvbrLevel, ffmpegArgsForPlan } from '../../local/mediaconvert/ffmpeg-ladder';
import { makeTestMaster, TINY_PLAN } from './twin-media-fixtures';

const valueAfter = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

/** `#EXTINF` durations of a media playlist, in seconds. */
const segmentDurations = (playlist: string) =>
  playlist
    .split('\n')
    .filter((line) => line.startsWith('#EXTINF:'))
    .map((line) => Number(line.slice('#EXTINF:'.length).split(',')[0]));
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

function ffprobeVideoSeconds(file: string): number {
  return Number(
    execFileSync('/usr/bin/ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=duration', '-of', 'csv=p=0', file], {
      encoding: 'utf8',
    }).trim(),
  );
}

describe('ffmpeg ladder arguments', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'twin-ladder-'));
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  it('maps every video rung to a scaled, capped H.264 stream and every audio rung to AAC', () => {
    const args = ffmpegArgsForPlan(TINY_PLAN, 'in.mp4', 'out');

    expect(valueAfter(args, '-filter:v:1')).toMatch(/^scale=256:144/);
    expect(valueAfter(args, '-maxrate:v:0')).toBe('400000');
    expect(valueAfter(args, '-profile:v:1')).toBe('main');
    expect(valueAfter(args, '-b:a:0')).toBe('64000');
    expect(args.filter((a) => a === '-map')).toHaveLength(3);
  });

  it('forces closed GOPs of the planned length so segments align across rungs', () => {
    const args = ffmpegArgsForPlan(TINY_PLAN, 'in.mp4', 'out');

    expect(valueAfter(args, '-g')).toBe('25');
    expect(valueAfter(args, '-keyint_min')).toBe('25');
    expect(valueAfter(args, '-sc_threshold')).toBe('0');
    expect(valueAfter(args, '-flags')).toBe('+cgop');
    expect(valueAfter(args, '-seg_duration')).toBe('1');
  });

  it('writes DASH and HLS manifests with the requested base name over one dash muxer output', () => {
    const args = ffmpegArgsForPlan({ ...TINY_PLAN, audio: [] }, 'in.mp4', 'out', 'feature');

    expect(args.at(-1)).toBe('out/feature.mpd');
    expect(valueAfter(args, '-hls_master_name')).toBe('feature.m3u8');
    expect(valueAfter(args, '-adaptation_sets')).toBe('id=0,streams=v');
  });

  it('maps QVBR levels monotonically onto CRF', () => {
    expect(crfForQvbrLevel(10)).toBeLessThan(crfForQvbrLevel(7));
    expect(crfForQvbrLevel(7)).toBeLessThan(crfForQvbrLevel(1));
  });

  it('encodes a real master into one segment set referenced by both manifests, with aligned segments', () => {
    const master = join(workDir, 'master.mp4');
    const outDir = join(workDir, 'out');
    makeTestMaster(master);
    execFileSync('mkdir', ['-p', outDir]);

    execFileSync('/usr/bin/ffmpeg', ffmpegArgsForPlan(TINY_PLAN, master, outDir));

    const files = readdirSync(outDir);
    const hls = readFileSync(join(outDir, 'main.m3u8'), 'utf8');
    const mpd = readFileSync(join(outDir, 'main.mpd'), 'utf8');
    const videoPlaylists = [0, 1].map((i) => readFileSync(join(outDir, `media_${i}.m3u8`), 'utf8'));
    const durations = videoPlaylists.map((p) => p.split('\n').filter((l) => l.startsWith('#EXTINF')));
    expect(files).toEqual(expect.arrayContaining(['main.mpd', 'main.m3u8', 'init-0.m4s', 'seg-0-00001.m4s']));
    expect(hls.match(/#EXT-X-STREAM-INF/g)).toHaveLength(2);
    expect(mpd).toContain('media="seg-$RepresentationID$-$Number%05d$.m4s"');
    expect(videoPlaylists[0]).toContain('seg-0-00001.m4s');
    expect(durations[0]).toEqual(durations[1]);
    expect(durations[0]).toHaveLength(2);
  });

  it('keeps whole AAC frames, priming included, strictly inside the video\'s duration', () => {
    // 12 s at 48 kHz is 562.5 frames: 562 whole frames, whose priming-shifted end is 11.989 s.
    expect(audioSamplesWithinVideo(12, 48_000)).toBe(562 * 1024);
    // 48 s is exactly 2,250 frames and 8 segments: one frame fewer, or its last frame starts a 9th segment.
    expect(audioSamplesWithinVideo(48, 48_000)).toBe(2_249 * 1024);
    expect(audioSamplesWithinVideo(0.01, 48_000)).toBe(0);
  });

  it('ends the audio rendition with the video: no longer by more than a frame, no tiny trailing segment', () => {
    // The issue-13 case: a 12 s master in 6 s segments once gave audio segments 5.93 + 6.06 + 0.021 s.
    const plan = { ...TINY_PLAN, gopFrames: 50, gopSeconds: 2, segmentSeconds: 6 };
    const master = join(workDir, 'twelve.mp4');
    const outDir = join(workDir, 'twelve');
    makeTestMaster(master, { seconds: 12 });
    execFileSync('mkdir', ['-p', outDir]);

    execFileSync('/usr/bin/ffmpeg', ffmpegArgsForPlan(plan, master, outDir, 'main', ffprobeVideoSeconds(master)));

    const video = segmentDurations(readFileSync(join(outDir, 'media_0.m3u8'), 'utf8'));
    const audio = segmentDurations(readFileSync(join(outDir, 'media_2.m3u8'), 'utf8'));
    const videoFrameSeconds = 1 / 25;
    expect(sum(video)).toBeCloseTo(12, 3);
    expect(sum(audio)).toBeLessThanOrEqual(sum(video) + videoFrameSeconds);
    // Cut by at most one AAC frame (21.3 ms), not a chunk of the soundtrack.
    expect(sum(audio)).toBeGreaterThan(sum(video) - 0.022);
    expect(audio).toHaveLength(video.length);
    expect(Math.min(...audio)).toBeGreaterThan(plan.segmentSeconds / 2);
  });
});
