// Tiny masters for the twin's media tests: encodes stay fast on a shared 2-core machine.
import { execFileSync } from 'node:child_process';
import type { LadderPlan } from '../../core/media-types';
import type { LadderSpec } from '../../core/ladder';

export interface TestMasterOptions {
  readonly audio?: boolean;
  readonly seconds?: number;
  /** Coded size. Default 320x180. */
  readonly size?: string;
  /** Frame rate of the picture (for `interlaced`, the frame rate of the interlaced result). Default 25. */
  readonly rate?: number;
  /** Declared display aspect ratio, e.g. "16:9" on 720x576 gives pixels of 64:45. */
  readonly aspect?: string;
  /** Weave pairs of moving frames into top-field-first interlaced frames, flagged interlaced. */
  readonly interlaced?: boolean;
  /** Drop every fourth frame and keep the timestamps: a variable-rate file averaging 3/4 of `rate`. */
  readonly variableRate?: boolean;
}

/** A short testsrc master (moving picture) with a 48 kHz sine audio track, as an MP4 file. */
export function makeTestMaster(path: string, options: TestMasterOptions = {}): void {
  const seconds = String(options.seconds ?? 2);
  const rate = options.rate ?? 25;
  const size = options.size ?? '320x180';
  // An interlaced frame holds two instants: source at twice the rate, woven field by field.
  const sourceRate = options.interlaced ? rate * 2 : rate;
  const filters = [
    ...(options.interlaced ? ['interlace=scan=tff'] : []),
    ...(options.variableRate ? ['select=mod(n\\,4)'] : []),
  ];
  const args = ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=${sourceRate}`];
  if (options.audio ?? true) args.push('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000');
  if (filters.length > 0) args.push('-vf', filters.join(','));
  if (options.variableRate) args.push('-fps_mode', 'vfr');
  args.push('-t', seconds, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p');
  if (options.interlaced) args.push('-flags', '+ildct+ilme', '-x264-params', 'tff=1');
  if (options.aspect) args.push('-aspect', options.aspect);
  if (options.audio ?? true) args.push('-c:a', 'aac');
  args.push(path);
  execFileSync('/usr/bin/ffmpeg', args);
}

/** A ladder of small boxes so real encodes in tests take a second, with the standard ladder's rules. */
export const TINY_LADDER: LadderSpec = {
  video: [
    { boxShortSide: 576, codec: 'H_264', maxBitrate: 1_500_000, qvbrQualityLevel: 7, profile: 'HIGH', halfRateAbove30: false },
    { boxShortSide: 180, codec: 'H_264', maxBitrate: 400_000, qvbrQualityLevel: 7, profile: 'HIGH', halfRateAbove30: false },
    { boxShortSide: 144, codec: 'H_264', maxBitrate: 200_000, qvbrQualityLevel: 7, profile: 'MAIN', halfRateAbove30: true },
  ],
  audio: [{ name: 'aac-stereo-64k', bitrate: 64_000, channels: 2, sampleRate: 48000 }],
  gopSeconds: 2,
  segmentSeconds: 6,
  maxFrameRate: 60,
};

export const TINY_PLAN: LadderPlan = {
  video: [
    {
      name: '180p', codec: 'H_264', width: 320, height: 180, frameRate: { numerator: 25, denominator: 1 }, gopFrames: 25,
      maxBitrate: 400_000, qvbrQualityLevel: 7, profile: 'HIGH', level: 'LEVEL_2_1',
    },
    {
      name: '144p', codec: 'H_264', width: 256, height: 144, frameRate: { numerator: 25, denominator: 1 }, gopFrames: 25,
      maxBitrate: 200_000, qvbrQualityLevel: 7, profile: 'MAIN', level: 'LEVEL_2_1',
    },
  ],
  audio: [{ name: 'aac-stereo-64k', bitrate: 64_000, channels: 2, sampleRate: 48000 }],
  frameRate: { numerator: 25, denominator: 1 },
  gopSeconds: 1,
  segmentSeconds: 1,
  deinterlace: false,
  orientation: 'landscape',
};
