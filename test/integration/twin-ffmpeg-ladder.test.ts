import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planFromJobSettings } from '../../core/job-settings-plan';
import { planLadder } from '../../core/ladder';
import type { LadderPlan } from '../../core/media-types';
import { buildCreateJobRequest } from '../../core/mediaconvert-job';
import { sourceInfoFromProbe } from '../../core/probe';
import {
  audioSamplesWithinVideo,
  crfForQvbrLevel,
  ffmpegArgsForPlan,
  finishDashManifest,
  mergeVideoAdaptationSets,
} from '../../local/mediaconvert/ffmpeg-ladder';
import { probeResultFromFfprobe, runFfprobe } from '../../local/mediaconvert/probe';
import { makeTestMaster, TINY_LADDER, TINY_PLAN, type TestMasterOptions } from './twin-media-fixtures';

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

    expect(valueAfter(args, '-filter:v:1')).toBe('fps=25/1,scale=256:144:flags=bicubic,setsar=1');
    expect(valueAfter(args, '-maxrate:v:0')).toBe('400000');
    expect(valueAfter(args, '-profile:v:1')).toBe('main');
    expect(valueAfter(args, '-b:a:0')).toBe('64000');
    expect(args.filter((a) => a === '-map')).toHaveLength(3);
  });

  it('forces closed GOPs of the planned length so segments align across rungs', () => {
    const args = ffmpegArgsForPlan(TINY_PLAN, 'in.mp4', 'out');

    expect(valueAfter(args, '-g:v:0')).toBe('25');
    expect(valueAfter(args, '-keyint_min:v:1')).toBe('25');
    expect(valueAfter(args, '-sc_threshold:v:0')).toBe('0');
    expect(valueAfter(args, '-flags:v:1')).toBe('+cgop');
    expect(valueAfter(args, '-seg_duration')).toBe('1');
  });

  it('writes DASH and HLS manifests with the requested base name over one dash muxer output', () => {
    const args = ffmpegArgsForPlan({ ...TINY_PLAN, audio: [] }, 'in.mp4', 'out', 'feature');

    expect(args.at(-1)).toBe('out/feature.mpd');
    expect(valueAfter(args, '-hls_master_name')).toBe('feature.m3u8');
    expect(valueAfter(args, '-adaptation_sets')).toBe('id=0,streams=0 id=1,streams=1');
  });

  it('maps QVBR levels monotonically onto CRF', () => {
    expect(crfForQvbrLevel(10)).toBeLessThan(crfForQvbrLevel(7));
    expect(crfForQvbrLevel(7)).toBeLessThan(crfForQvbrLevel(1));
  });

  it('encodes a real master into one segment set referenced by both manifests, with aligned segments', async () => {
    const master = join(workDir, 'master.mp4');
    const outDir = join(workDir, 'out');
    makeTestMaster(master);
    execFileSync('mkdir', ['-p', outDir]);

    execFileSync('/usr/bin/ffmpeg', ffmpegArgsForPlan(TINY_PLAN, master, outDir));
    await finishDashManifest(outDir, 'main');

    const files = readdirSync(outDir);
    const hls = readFileSync(join(outDir, 'main.m3u8'), 'utf8');
    const mpd = readFileSync(join(outDir, 'main.mpd'), 'utf8');
    const videoPlaylists = [0, 1].map((i) => readFileSync(join(outDir, `media_${i}.m3u8`), 'utf8'));
    const durations = videoPlaylists.map((p) => p.split('\n').filter((l) => l.startsWith('#EXTINF')));
    expect(files).toEqual(expect.arrayContaining(['main.mpd', 'main.m3u8', 'init-0.m4s', 'seg-0-00001.m4s']));
    expect(hls.match(/#EXT-X-STREAM-INF/g)).toHaveLength(2);
    expect(mpd).toContain('media="seg-$RepresentationID$-$Number%05d$.m4s"');
    expect(mpd.match(/<AdaptationSet /g)).toHaveLength(2); // video (both rungs) and audio
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
    const plan = { ...TINY_PLAN, video: TINY_PLAN.video.map((rung) => ({ ...rung, gopFrames: 50 })), gopSeconds: 2, segmentSeconds: 6 };
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

const FFPROBE = '/usr/bin/ffprobe';

/**
 * A master through the platform's own path, as in the twin: ffprobe → Probe's shape → SourceInfo →
 * planLadder → CreateJob settings → the stand-in's inverse → ffmpeg → the joined MPD.
 */
async function encodeLikeTheTwin(workDir: string, name: string, master: TestMasterOptions): Promise<{ plan: LadderPlan; outDir: string; masterPath: string }> {
  const masterPath = join(workDir, `${name}.mp4`);
  const outDir = join(workDir, name);
  makeTestMaster(masterPath, master);
  mkdirSync(outDir);
  const source = sourceInfoFromProbe(probeResultFromFfprobe(await runFfprobe(FFPROBE, masterPath), {}));
  const request = buildCreateJobRequest(planLadder(source, TINY_LADDER), {
    inputS3Uri: `s3://uploads/uploads/${name}.mp4`,
    outputS3Prefix: `s3://origin/media/${name}/r1/`,
    roleArn: 'arn:aws:iam::123456789012:role/MediaConvert',
    assetId: name,
    revision: 'r1',
    stackName: 'Test',
    clientRequestToken: `${name}-r1`,
    perTitle: false,
  });
  const plan = planFromJobSettings(request.Settings!);
  execFileSync('/usr/bin/ffmpeg', ffmpegArgsForPlan(plan, masterPath, outDir));
  await finishDashManifest(outDir, 'main');
  return { plan, outDir, masterPath };
}

/** One representation's init and media segments joined into a playable file. */
function representationFile(outDir: string, representation: number): string {
  const segments = readdirSync(outDir).filter((file) => file.startsWith(`seg-${representation}-`)).sort();
  const path = join(outDir, `rep-${representation}.mp4`);
  writeFileSync(path, Buffer.concat([`init-${representation}.m4s`, ...segments].map((file) => readFileSync(join(outDir, file)))));
  return path;
}

function decodedFrames(file: string): { width: number; height: number; sample_aspect_ratio: string; interlaced_frame: number; pkt_duration_time?: string }[] {
  const json = execFileSync(FFPROBE, ['-v', 'error', '-select_streams', 'v:0', '-show_frames', '-show_entries', 'frame=width,height,sample_aspect_ratio,interlaced_frame,pkt_duration_time', '-of', 'json', file], { encoding: 'utf8' });
  return (JSON.parse(json) as { frames: never[] }).frames;
}

function streamOf(file: string): { avg_frame_rate: string; field_order?: string; sample_aspect_ratio?: string; nb_frames?: string } {
  const json = execFileSync(FFPROBE, ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=avg_frame_rate,field_order,sample_aspect_ratio,nb_read_frames', '-of', 'json', file], { encoding: 'utf8' });
  return (JSON.parse(json) as { streams: never[] }).streams[0]!;
}

/** idet's verdict over all frames: how many look top-field-first, bottom-field-first, progressive. */
function combing(file: string): { tff: number; bff: number; progressive: number } {
  // idet logs its summary on stderr at info level.
  const { stderr } = spawnSync('/usr/bin/ffmpeg', ['-hide_banner', '-nostdin', '-i', file, '-map', '0:v:0', '-vf', 'idet', '-f', 'null', '-'], { encoding: 'utf8' });
  const match = /Multi frame detection: TFF:\s*(\d+)\s+BFF:\s*(\d+)\s+Progressive:\s*(\d+)/.exec(stderr);
  if (!match) throw new Error(`no idet summary in: ${stderr}`);
  return { tff: Number(match[1]), bff: Number(match[2]), progressive: Number(match[3]) };
}

describe('the twin encodes real masters with the geometry, scan and rate MediaConvert is asked for', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'twin-geometry-'));
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  it('plays a 2.39:1 master: rungs of different exact ratios, square pixels, one video adaptation set', async () => {
    const { plan, outDir } = await encodeLikeTheTwin(workDir, 'scope', { size: '480x200', rate: 24 });

    expect(plan.video.map((rung) => `${rung.width}x${rung.height}`)).toEqual(['480x200', '320x134', '256x106']);
    const mpd = readFileSync(join(outDir, 'main.mpd'), 'utf8');
    expect(mpd.match(/<AdaptationSet [^>]*contentType="video"/g)).toHaveLength(1);
    expect(mpd.match(/<Representation /g)).toHaveLength(4);
    expect(readFileSync(join(outDir, 'main.m3u8'), 'utf8').match(/#EXT-X-STREAM-INF:/g)).toHaveLength(3);
    plan.video.forEach((rung, index) => {
      const [frame] = decodedFrames(representationFile(outDir, index));
      expect(frame).toMatchObject({ width: rung.width, height: rung.height, sample_aspect_ratio: '1:1' });
    });
  });

  it('plays a 720x576 16:9 anamorphic interlaced master at 1024x576 square pixels, progressive, without combing', async () => {
    const { plan, outDir, masterPath } = await encodeLikeTheTwin(workDir, 'pal', { size: '720x576', aspect: '16:9', interlaced: true, seconds: 1 });

    expect(plan.deinterlace).toBe(true);
    expect(plan.video.map((rung) => `${rung.width}x${rung.height}`)).toEqual(['1024x576', '320x180', '256x144']);
    const top = representationFile(outDir, 0);
    const frames = decodedFrames(top);
    expect(frames.length).toBeGreaterThan(0);
    for (const frame of frames) {
      expect(frame).toMatchObject({ width: 1024, height: 576, sample_aspect_ratio: '1:1', interlaced_frame: 0 });
    }
    expect(streamOf(top).field_order).toBe('progressive');
    // The master's frames comb (idet sees field order in them); the output's do not.
    const before = combing(masterPath);
    const after = combing(top);
    expect(before.tff).toBeGreaterThan(before.progressive);
    expect(after.tff + after.bff).toBeLessThan(after.progressive / 4);
  });

  it('encodes the small rung of a 60 fps master at 30 fps, segments still aligned', async () => {
    const { plan, outDir } = await encodeLikeTheTwin(workDir, 'sixty', { rate: 60 });

    expect(plan.video.map((rung) => `${rung.name}@${rung.frameRate.numerator}/${rung.frameRate.denominator}`)).toEqual(['180p@60/1', '144p@30/1']);
    expect(streamOf(representationFile(outDir, 0)).avg_frame_rate).toBe('60/1');
    expect(streamOf(representationFile(outDir, 1)).avg_frame_rate).toBe('30/1');
    const durations = [0, 1].map((index) => segmentDurations(readFileSync(join(outDir, `media_${index}.m3u8`), 'utf8')));
    expect(durations[1]).toEqual(durations[0]);
    expect(readFileSync(join(outDir, 'main.mpd'), 'utf8')).toMatch(/maxFrameRate="60\/1"/);
  });

  it('turns a variable-frame-rate master into a constant 23.976 fps', async () => {
    const { plan, outDir } = await encodeLikeTheTwin(workDir, 'vfr', { rate: 30, variableRate: true });

    expect(plan.frameRate).toEqual({ numerator: 24000, denominator: 1001 });
    const top = representationFile(outDir, 0);
    expect(streamOf(top).avg_frame_rate).toBe('24000/1001');
    const frameDurations = new Set(decodedFrames(top).map((frame) => frame.pkt_duration_time));
    expect([...frameDurations]).toEqual([(1001 / 24000).toFixed(6)]);
  });
});

describe('HEVC rungs in the twin', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'twin-hevc-'));
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  it('encodes an HEVC rung as hvc1 in its own adaptation set, with the full codecs string in both manifests', async () => {
    const master = join(workDir, 'master.mp4');
    const outDir = join(workDir, 'out');
    makeTestMaster(master, { seconds: 1 });
    mkdirSync(outDir);
    const [top, bottom] = TINY_PLAN.video;
    const plan: LadderPlan = { ...TINY_PLAN, video: [{ ...top!, codec: 'H_265', profile: 'MAIN', level: 'LEVEL_3_1' }, bottom!] };

    execFileSync('/usr/bin/ffmpeg', ffmpegArgsForPlan(plan, master, outDir));
    await finishDashManifest(outDir, 'main');

    const mpd = readFileSync(join(outDir, 'main.mpd'), 'utf8');
    const hls = readFileSync(join(outDir, 'main.m3u8'), 'utf8');
    expect(mpd).toMatch(/<Representation id="0"[^>]*codecs="hvc1\.1\.6\.L93\.[0-9A-F]+"/);
    expect(hls).toMatch(/CODECS="hvc1\.1\.6\.L93\.[0-9A-F]+,mp4a\.40\.2"[^\n]*\nmedia_0\.m3u8/);
    expect(mpd.match(/<AdaptationSet [^>]*contentType="video"/g)).toHaveLength(2);
    expect(readFileSync(join(outDir, 'init-0.m4s')).includes('hvc1')).toBe(true);
  });
});

describe('mergeVideoAdaptationSets', () => {
  it('joins one-rung video sets per codec and leaves audio alone', () => {
    const mpd = `<?xml version="1.0"?><MPD><Period id="0">
      <AdaptationSet id="0" contentType="video" frameRate="60/1" maxWidth="1920" maxHeight="804" par="160:67" bitstreamSwitching="true"><Representation id="0" codecs="avc1.640028" width="1920" height="804"/></AdaptationSet>
      <AdaptationSet id="1" contentType="video" frameRate="30/1" maxWidth="854" maxHeight="358" par="427:179" bitstreamSwitching="true"><Representation id="1" codecs="avc1.64001e" width="854" height="358"/></AdaptationSet>
      <AdaptationSet id="2" contentType="video" frameRate="60/1" maxWidth="3840" maxHeight="1608" par="160:67"><Representation id="2" codecs="hvc1.1.6.L153.90" width="3840" height="1608"/></AdaptationSet>
      <AdaptationSet id="3" contentType="audio"><Representation id="3" codecs="mp4a.40.2"/></AdaptationSet>
    </Period></MPD>`;

    const merged = mergeVideoAdaptationSets(mpd);

    const sets = merged.match(/<AdaptationSet [^>]*>/g)!;
    expect(sets).toHaveLength(3);
    expect(sets[0]).toContain('maxWidth="1920"');
    expect(sets[0]).toContain('maxFrameRate="60/1"');
    expect(sets[0]).toContain('bitstreamSwitching="false"');
    expect(sets[0]).not.toContain('par=');
    expect(merged).toMatch(/<Representation id="1"[^>]*frameRate="30\/1"/);
    expect(sets[1]).toContain('id="2"');
    expect(sets[2]).toContain('contentType="audio"');
  });
});
