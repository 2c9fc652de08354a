// Tiny masters for the twin's media tests: encodes stay fast on a shared 2-core machine.
import { execFileSync } from 'node:child_process';
import type { LadderPlan } from '../../core/media-types';

/** A 2 s 320x180 25 fps testsrc master with a 48 kHz sine audio track, as an MP4 buffer. */
export function makeTestMaster(path: string, options: { audio?: boolean; seconds?: number } = {}): void {
  const seconds = String(options.seconds ?? 2);
  const args = ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=320x180:rate=25'];
  if (options.audio ?? true) args.push('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000');
  args.push('-t', seconds, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p');
  if (options.audio ?? true) args.push('-c:a', 'aac');
  args.push(path);
  execFileSync('/usr/bin/ffmpeg', args);
}

export const TINY_PLAN: LadderPlan = {
  video: [
    { name: '180p', width: 320, height: 180, maxBitrate: 400_000, qvbrQualityLevel: 7, profile: 'HIGH', level: 'AUTO' },
    { name: '144p', width: 256, height: 144, maxBitrate: 200_000, qvbrQualityLevel: 7, profile: 'MAIN', level: 'AUTO' },
  ],
  audio: [{ name: 'aac-stereo-64k', bitrate: 64_000, channels: 2, sampleRate: 48000 }],
  frameRate: { numerator: 25, denominator: 1 },
  gopFrames: 25,
  gopSeconds: 1,
  segmentSeconds: 1,
  orientation: 'landscape',
};
