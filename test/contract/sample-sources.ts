/**
 * The probed sources every ladder and contract test covers (1080p 16:9 30 fps stereo, 4K 60,
 * 720p, portrait, no audio, 25 fps, 29.97 fps, rotation 90), as MediaConvert Probe would report them.
 */
import type { SourceInfo } from '../../core/media-types';

const base: SourceInfo = {
  width: 1920,
  height: 1080,
  rotation: 0,
  frameRate: { numerator: 30, denominator: 1 },
  durationMs: 60_000,
  hasAudio: true,
  audioChannels: 2,
  videoCodec: 'H_264',
  container: 'mp4',
};

export const SAMPLE_SOURCES = {
  hd1080p30Stereo: base,
  uhd4k60: { ...base, width: 3840, height: 2160, frameRate: { numerator: 60, denominator: 1 } },
  hd720p: { ...base, width: 1280, height: 720 },
  portrait1080x1920: { ...base, width: 1080, height: 1920 },
  noAudio: { ...base, hasAudio: false, audioChannels: undefined },
  pal25: { ...base, frameRate: { numerator: 25, denominator: 1 } },
  ntsc2997: { ...base, frameRate: { numerator: 30000, denominator: 1001 } },
  /** A phone recording: coded landscape, displayed portrait. */
  rotated90: { ...base, rotation: 90 as const, container: 'mov' },
} satisfies Record<string, SourceInfo>;

export type SampleSourceName = keyof typeof SAMPLE_SOURCES;
