/**
 * The probed sources every ladder and contract test covers, as MediaConvert Probe would report them
 * (after core/probe.ts): the everyday ones (1080p30 stereo, 4K60, 720p, portrait, no audio, 25 and
 * 29.97 fps, a phone's rotation) and what studios, broadcasters and phones deliver (issue 8):
 * HDR10 2160p and HLG 1080p masters, an iPhone HDR portrait clip (Dolby Vision 8.4, whose base layer
 * is HLG), an iPhone portrait clip with a variable frame rate, anamorphic PAL and NTSC SD, 1080i, 2.39:1 scope and 1.85:1 flat DCI, 8K.
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
  /** An HDR10 (PQ) UHD feature master, 23.976 fps ProRes 4444 XQ. */
  hdr10Uhd2160p: {
    ...base, width: 3840, height: 2160, frameRate: { numerator: 24000, denominator: 1001 }, dynamicRange: 'PQ' as const, videoCodec: 'PRORES', container: 'quicktime',
  },
  /** A broadcaster's HLG 1080p50 master. */
  hlg1080p50: { ...base, frameRate: { numerator: 50, denominator: 1 }, dynamicRange: 'HLG' as const, videoCodec: 'HEVC', container: 'mxf' },
  /** iPhone HDR portrait (Dolby Vision 8.4: an HLG base layer, Probe reports ARIB_B67), coded 1920x1080 rotated 90°, 30 fps. */
  iphoneHdrPortrait: { ...base, rotation: 90 as const, dynamicRange: 'HLG' as const, videoCodec: 'HEVC', container: 'quicktime' },
  /** iPhone portrait HEVC: coded 1920x1080 rotated 90°, variable frame rate averaging 35280/589 fps. */
  iphonePortraitVfr: { ...base, rotation: 90 as const, frameRate: { numerator: 35280, denominator: 589 }, videoCodec: 'HEVC', container: 'quicktime' },
  /** 576i25 PAL 16:9 anamorphic: 720x576 with 64:45 pixels, top field first. */
  pal576i16x9: {
    ...base, width: 720, height: 576, sampleAspectRatio: { numerator: 64, denominator: 45 }, frameRate: { numerator: 25, denominator: 1 },
    scan: { type: 'interlaced' as const, fieldOrder: 'top-first' as const }, videoCodec: 'MPEG2', container: 'mxf',
  },
  /** 480i29.97 NTSC 4:3 DV: 720x480 with 8:9 pixels (DAR 4:3), bottom field first. */
  ntsc480i4x3: {
    ...base, width: 720, height: 480, sampleAspectRatio: { numerator: 8, denominator: 9 }, frameRate: { numerator: 30000, denominator: 1001 },
    scan: { type: 'interlaced' as const, fieldOrder: 'bottom-first' as const }, videoCodec: 'DV', container: 'quicktime',
  },
  /** 1080i29.97 broadcast: 30000/1001 frames of two fields each. */
  hd1080i2997: { ...base, frameRate: { numerator: 30000, denominator: 1001 }, scan: { type: 'interlaced' as const, fieldOrder: 'top-first' as const }, container: 'mxf' },
  /** DCI 2K scope (2.39:1), 24 fps. */
  scope239: { ...base, width: 2048, height: 858, frameRate: { numerator: 24, denominator: 1 }, videoCodec: 'PRORES', container: 'quicktime' },
  /** DCI 2K flat (1.85:1), 24 fps. */
  flat185: { ...base, width: 1998, height: 1080, frameRate: { numerator: 24, denominator: 1 }, videoCodec: 'PRORES', container: 'quicktime' },
  /** 8K UHD at 59.94 fps. */
  uhd8k: { ...base, width: 7680, height: 4320, frameRate: { numerator: 60000, denominator: 1001 }, videoCodec: 'HEVC', container: 'mp4' },
  /** A feature with English stereo, German 5.1 and French stereo tracks (ADR 0017). */
  multiLanguage51: {
    ...base,
    frameRate: { numerator: 24000, denominator: 1001 },
    audioTracks: [
      { track: 1, language: 'en', channels: 2 },
      { track: 2, language: 'de', channels: 6 },
      { track: 3, language: 'fr', channels: 2 },
    ],
    videoCodec: 'PRORES',
    container: 'quicktime',
  },
  /** A broadcast 1080i29.97 master with CEA-608 captions in a data track (ADR 0018). */
  captions608: {
    ...base, frameRate: { numerator: 30000, denominator: 1001 }, scan: { type: 'interlaced' as const, fieldOrder: 'top-first' as const },
    audioTracks: [{ track: 1, language: 'en', channels: 2 }], embeddedCaptions: true, container: 'mxf',
  },
} satisfies Record<string, SourceInfo>;

export type SampleSourceName = keyof typeof SAMPLE_SOURCES;
