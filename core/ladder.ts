/**
 * The ABR ladder: one typed spec (docs/ladder.md) and the source-aware planner that turns a probed
 * source into the rungs both MediaConvert (core/mediaconvert-job.ts) and the local twin's ffmpeg
 * encode. Pure: no I/O, no AWS SDK.
 *
 * Anchors for the numbers:
 * - Apple "HLS authoring specification for Apple devices": H.264 at most High profile level 4.2,
 *   HEVC at most Main10 level 5.0 High tier (§1.3, §1.6); the video ladder table (rungs up to 432p
 *   at ≤ 30 fps, larger ones at the source's rate); the typical frame rates 23.976, 24, 25, 29.97,
 *   30, 50, 59.94 and 60 fps; nothing above 60 fps; interlaced sources de-interlaced; keyframes
 *   every 2 s and 6 s segments.
 * - ITU-T H.264 Table A-1 and H.265 Table A.8 (level limits: frame size, sample rate, bitrate).
 * - AWS Elemental MediaConvert user guide, "Guidelines for QVBR settings": quality level 9 for
 *   large screens at 1080p and above, 8 for 720p, 7 and below for small screens; max bitrate as the
 *   ceiling for complex scenes.
 * - Apple's authoring specification §1.6, §1.22: HDR in HEVC Main10 (HDR10 or HLG), every HDR
 *   variant with an SDR variant of the same content, VIDEO-RANGE on every variant.
 * Decisions: display geometry ADR 0026, codecs and levels ADR 0027, frame rates and deinterlacing
 * ADR 0028, HDR and SDR ladders ADR 0015.
 */
import { type AudioRenditionOptions, planAudioRenditions } from './renditions';
import { type HdrRange, hdrRungName } from './dynamic-range';
import type { AudioRung, LadderPlan, Ratio, SourceInfo, VideoCodec, VideoRung } from './media-types';

/** One video rung of a ladder spec: a 16:9 box (transposed for portrait sources) the picture is fitted into. */
export interface VideoRungSpec {
  /** The box's short side, the "p" number: 1080 is a 1920x1080 box (1080x1920 for portrait sources). */
  readonly boxShortSide: number;
  readonly codec: VideoCodec;
  /** QVBR ceiling in bits per second for a picture that fills the box. */
  readonly maxBitrate: number;
  /** QVBR quality level 1..10. */
  readonly qvbrQualityLevel: number;
  readonly profile: 'HIGH' | 'MAIN';
  /** Apple's table lists the small rungs at ≤ 30 fps: sources above 30 fps get half their rate here. */
  readonly halfRateAbove30: boolean;
}

export interface LadderSpec {
  /** Highest rung first. */
  readonly video: readonly VideoRungSpec[];
  readonly audio: readonly AudioRung[];
  readonly gopSeconds: 2;
  readonly segmentSeconds: 6;
  /** No rung runs faster than this (a standard rate at or below it is chosen). */
  readonly maxFrameRate: number;
}

const rung = (
  boxShortSide: number,
  codec: VideoCodec,
  maxBitrate: number,
  qvbrQualityLevel: number,
  halfRateAbove30 = false,
): VideoRungSpec => ({
  boxShortSide,
  codec,
  maxBitrate,
  qvbrQualityLevel,
  // HEVC Main (8-bit) until HDR rungs bring Main10; H.264 High (Apple §1.4).
  profile: codec === 'H_264' ? 'HIGH' : 'MAIN',
  halfRateAbove30,
});

const AAC_STEREO_128K: AudioRung = { name: 'aac-stereo-128k', bitrate: 128_000, channels: 2, sampleRate: 48000 };

/**
 * The default ladder. Above 1080p in HEVC (H.264 High 4.2 stops at 1920x1080 at 60 fps), the
 * 1080p-and-below ladder in H.264 so every player has a complete ladder. One audio rung only: HLS
 * and DASH players do not switch between audio renditions of one group by bandwidth (hls.js keeps
 * the selected track), so a 64k rung would be encoded and stored but almost never played.
 */
export const STANDARD_LADDER: LadderSpec = {
  video: [
    rung(2160, 'H_265', 16_000_000, 9),
    rung(1440, 'H_265', 10_000_000, 9),
    rung(1080, 'H_264', 6_000_000, 9),
    rung(720, 'H_264', 3_500_000, 8),
    rung(540, 'H_264', 2_000_000, 7),
    rung(432, 'H_264', 1_100_000, 7, true),
    rung(360, 'H_264', 730_000, 7, true),
    rung(288, 'H_264', 350_000, 6, true),
  ],
  audio: [AAC_STEREO_128K],
  gopSeconds: 2,
  segmentSeconds: 6,
  maxFrameRate: 60,
};

/**
 * Fewer rungs, H.264 only and at most 30 fps: for the local twin (ffmpeg on two shared cores
 * encodes about real time at 1080p) and for cheaper encodes of content where a dense ladder buys little.
 */
export const COMPACT_LADDER: LadderSpec = {
  video: [
    rung(1080, 'H_264', 6_000_000, 9),
    rung(720, 'H_264', 3_500_000, 8),
    rung(432, 'H_264', 1_100_000, 7, true),
    rung(288, 'H_264', 350_000, 6, true),
  ],
  audio: [AAC_STEREO_128K],
  gopSeconds: 2,
  segmentSeconds: 6,
  maxFrameRate: 30,
};

export const LADDERS = { standard: STANDARD_LADDER, compact: COMPACT_LADDER } as const satisfies Record<
  'standard' | 'compact',
  LadderSpec
>;
export type LadderName = keyof typeof LADDERS;

/** The source cannot be encoded; `reason` is written to the catalog and the failure event. */
export class UnsupportedSourceError extends Error {
  override readonly name = 'UnsupportedSourceError';
  constructor(readonly reason: string) {
    super(`unsupported source: ${reason}`);
  }
}

/** MediaConvert's output Width/Height range (API model `__integerMin32Max8192`). */
export const MIN_DIMENSION = 32;
export const MAX_DIMENSION = 8192;
/** Below 1 fps there is no GOP of 2 s worth encoding; above 1000 fps the probe is wrong. */
const MIN_FPS = 1;
const MAX_FPS = 1000;
/**
 * Pixel aspect ratios outside this range are not anamorphic video but a broken header (the widest
 * real squeeze is 2:1 anamorphic scope; the narrowest ~0.9 for NTSC 4:3).
 */
const MIN_SAR = 1 / 4;
const MAX_SAR = 4;
/**
 * A rung at the source's own size is added only when the source is at least this much above the
 * highest spec rung it can feed: 10% in height is ~21% in pixels, about the gap Apple's table
 * leaves between neighbouring rungs; anything closer would duplicate the rung below.
 */
const NATIVE_RUNG_MIN_STEP = 1.1;
/** Every box is 16:9 (Apple's table); portrait sources use it transposed. */
const BOX_LONG_PER_SHORT = 16 / 9;

/** Apple §1.14: the typical frame rates; every output runs at one of these. */
export const STANDARD_FRAME_RATES: readonly Ratio[] = [
  { numerator: 24000, denominator: 1001 },
  { numerator: 24, denominator: 1 },
  { numerator: 25, denominator: 1 },
  { numerator: 30000, denominator: 1001 },
  { numerator: 30, denominator: 1 },
  { numerator: 50, denominator: 1 },
  { numerator: 60000, denominator: 1001 },
  { numerator: 60, denominator: 1 },
];

const evenFloor = (value: number): number => Math.floor(value / 2) * 2;
const evenRound = (value: number): number => Math.round(value / 2) * 2;
const fps = (rate: Ratio): number => rate.numerator / rate.denominator;
const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

function reduced(rate: Ratio): Ratio {
  const divisor = gcd(rate.numerator, rate.denominator);
  return { numerator: rate.numerator / divisor, denominator: rate.denominator / divisor };
}

export function rungNameForShortSide(shortSide: number): string {
  return `${shortSide}p`;
}

/**
 * The HDR twin of an SDR rung (ADR 0015): same picture size, rate and GOP, HEVC Main10 (Apple §1.6:
 * HDR is HEVC), the same QVBR ceiling (HEVC's efficiency pays for the 10 bits), the source's range.
 */
function hdrRungOf(rung: VideoRung, range: HdrRange): VideoRung {
  return {
    ...rung,
    name: hdrRungName(rung.name, range),
    codec: 'H_265',
    profile: 'MAIN10',
    level: codecLevelFor('H_265', rung.width, rung.height, rung.frameRate, rung.maxBitrate),
    dynamicRange: range,
  };
}

const isPositiveInteger = (value: number) => Number.isInteger(value) && value > 0;

function validateSource(source: SourceInfo): void {
  const { width, height, frameRate, durationMs, rotation, sampleAspectRatio } = source;
  if (!Number.isFinite(width) || !Number.isFinite(height) || width <= 0 || height <= 0) {
    throw new UnsupportedSourceError(`the video has no usable picture size (${width}x${height})`);
  }
  if (width > MAX_DIMENSION || height > MAX_DIMENSION) {
    throw new UnsupportedSourceError(`the picture is ${width}x${height}; the largest supported side is ${MAX_DIMENSION} pixels`);
  }
  if (Math.min(width, height) < MIN_DIMENSION) {
    throw new UnsupportedSourceError(`the picture is ${width}x${height}; the shortest supported side is ${MIN_DIMENSION} pixels`);
  }
  if (![0, 90, 180, 270].includes(rotation)) {
    throw new UnsupportedSourceError(`rotation ${rotation} is not a multiple of 90 degrees`);
  }
  if (sampleAspectRatio) {
    const { numerator, denominator } = sampleAspectRatio;
    const sar = numerator / denominator;
    if (!isPositiveInteger(numerator) || !isPositiveInteger(denominator) || sar < MIN_SAR || sar > MAX_SAR) {
      throw new UnsupportedSourceError(
        `the picture declares a pixel aspect ratio of ${numerator}:${denominator}; supported are 1:4 to 4:1`,
      );
    }
  }
  const { numerator, denominator } = frameRate ?? { numerator: NaN, denominator: NaN };
  if (!isPositiveInteger(numerator) || !isPositiveInteger(denominator)) {
    throw new UnsupportedSourceError('the video has no frame rate');
  }
  const rate = numerator / denominator;
  if (rate < MIN_FPS || rate > MAX_FPS) {
    throw new UnsupportedSourceError(`a frame rate of ${rate.toFixed(3)} fps is outside ${MIN_FPS}..${MAX_FPS} fps`);
  }
  if (!Number.isFinite(durationMs) || durationMs <= 0) {
    throw new UnsupportedSourceError('the video has no duration');
  }
}

/**
 * The constant, standard output rate for a source rate (ADR 0028): a standard rate the source
 * divides into exactly (120 → 60, 119.88 → 59.94, 100 → 50, 48 → 24, 60 → 30 under a 30 fps cap),
 * the highest such; otherwise the nearest standard rate (a variable-rate phone video averaging
 * 35280/589 = 59.90 fps → 59.94, 28.6 → 29.97, 15 → 23.976), never an odd rate.
 */
export function standardFrameRate(source: Ratio, maxFrameRate: number): Ratio {
  const rate = fps(source);
  const candidates = STANDARD_FRAME_RATES.filter((candidate) => fps(candidate) <= maxFrameRate + 1e-9);
  // 1e-4 tells 29.97 (30000/1001) from 30 (0.1% apart) while accepting 2997/100 as 29.97.
  const exactDivisors = candidates.filter((candidate) => {
    const multiple = rate / fps(candidate);
    return Math.round(multiple) >= 1 && Math.abs(multiple / Math.round(multiple) - 1) < 1e-4;
  });
  if (exactDivisors.length > 0) return exactDivisors.at(-1)!;
  const distance = (candidate: Ratio) => Math.abs(Math.log(rate / fps(candidate)));
  // Ties go to the higher rate (candidates ascend; `<=` keeps the later one).
  return candidates.reduce((best, candidate) => (distance(candidate) <= distance(best) ? candidate : best));
}

/** Half of a standard rate above 30 fps: 60 → 30, 59.94 → 29.97, 50 → 25 (all standard again). */
function halfRate(rate: Ratio): Ratio {
  return reduced({ numerator: rate.numerator, denominator: rate.denominator * 2 });
}

/**
 * The picture as it is meant to be seen: coded size × sample aspect ratio (the width stretches or
 * shrinks, the height stays), then rotation (90/270 swap width and height). Not rounded.
 */
export function displaySize(
  source: Pick<SourceInfo, 'width' | 'height' | 'rotation' | 'sampleAspectRatio'>,
): { width: number; height: number } {
  const sar = source.sampleAspectRatio ? source.sampleAspectRatio.numerator / source.sampleAspectRatio.denominator : 1;
  const width = source.width * sar;
  return source.rotation === 90 || source.rotation === 270 ? { width: source.height, height: width } : { width, height: source.height };
}

/**
 * The "p" number of a picture: the short side of the smallest 16:9 box (portrait: 9:16) it fits in.
 * 1920x804 (2.39:1) and 1440x1080 (4:3) are both 1080p.
 */
function equivalentShortSide(display: { width: number; height: number }): number {
  const long = Math.max(display.width, display.height);
  const short = Math.min(display.width, display.height);
  return Math.max(long / BOX_LONG_PER_SHORT, short);
}

/** The picture scaled to fit a box of `boxShortSide`, both sides even and never larger than the source. */
function sizeInBox(display: { width: number; height: number }, boxShortSide: number): { width: number; height: number } {
  const landscape = display.width >= display.height;
  const boxWidth = landscape ? Math.round(boxShortSide * BOX_LONG_PER_SHORT) : boxShortSide;
  const boxHeight = landscape ? boxShortSide : Math.round(boxShortSide * BOX_LONG_PER_SHORT);
  const scale = Math.min(1, boxWidth / display.width, boxHeight / display.height);
  const fit = (side: number, box: number) => Math.min(evenRound(side * scale), evenFloor(side), box);
  return { width: fit(display.width, boxWidth), height: fit(display.height, boxHeight) };
}

/** Bitrate for a picture between two spec rungs, linear in the "p" number; below the ladder, by pixel ratio. */
function interpolatedBitrate(shortSide: number, below: VideoRungSpec | undefined, above: VideoRungSpec): number {
  const raw = below
    ? below.maxBitrate +
      ((above.maxBitrate - below.maxBitrate) * (shortSide - below.boxShortSide)) / (above.boxShortSide - below.boxShortSide)
    : above.maxBitrate * (shortSide / above.boxShortSide) ** 2;
  // MediaConvert's MaxBitrate floor is 1000 bit/s (API model __integerMin1000Max1152000000).
  return Math.max(1000, Math.round(raw / 1000) * 1000);
}

// ITU-T H.264 Table A-1: max macroblocks per second, max frame size in macroblocks, max bitrate
// (kbit/s, Main; High allows 1.25x). The ladder's H.264 stops at 4.2 (Apple §1.3).
const H264_LEVELS = [
  { level: 'LEVEL_1', mbps: 1485, fs: 99, kbps: 64 },
  { level: 'LEVEL_1_1', mbps: 3000, fs: 396, kbps: 192 },
  { level: 'LEVEL_1_2', mbps: 6000, fs: 396, kbps: 384 },
  { level: 'LEVEL_1_3', mbps: 11880, fs: 396, kbps: 768 },
  { level: 'LEVEL_2', mbps: 11880, fs: 396, kbps: 2000 },
  { level: 'LEVEL_2_1', mbps: 19800, fs: 792, kbps: 4000 },
  { level: 'LEVEL_2_2', mbps: 20250, fs: 1620, kbps: 4000 },
  { level: 'LEVEL_3', mbps: 40500, fs: 1620, kbps: 10000 },
  { level: 'LEVEL_3_1', mbps: 108000, fs: 3600, kbps: 14000 },
  { level: 'LEVEL_3_2', mbps: 216000, fs: 5120, kbps: 20000 },
  { level: 'LEVEL_4', mbps: 245760, fs: 8192, kbps: 20000 },
  { level: 'LEVEL_4_1', mbps: 245760, fs: 8192, kbps: 50000 },
  { level: 'LEVEL_4_2', mbps: 522240, fs: 8704, kbps: 50000 },
] as const;
/** Apple §1.3: H.264 at most High profile, level 4.2. */
export const MAX_H264_LEVEL = 'LEVEL_4_2';

// ITU-T H.265 Table A.8: max luma picture size, max luma sample rate, Main-tier max bitrate (kbit/s).
// From 3.0: the ladder's HEVC rungs are 1440p and 2160p; a smaller custom rung gets 3.0, valid if not minimal.
const HEVC_LEVELS = [
  { level: 'LEVEL_3', ps: 552_960, sr: 16_588_800, kbps: 6000 },
  { level: 'LEVEL_3_1', ps: 983_040, sr: 33_177_600, kbps: 10000 },
  { level: 'LEVEL_4', ps: 2_228_224, sr: 66_846_720, kbps: 12000 },
  { level: 'LEVEL_4_1', ps: 2_228_224, sr: 133_693_440, kbps: 20000 },
  { level: 'LEVEL_5', ps: 8_912_896, sr: 267_386_880, kbps: 25000 },
  { level: 'LEVEL_5_1', ps: 8_912_896, sr: 534_773_760, kbps: 40000 },
  { level: 'LEVEL_5_2', ps: 8_912_896, sr: 1_069_547_520, kbps: 60000 },
] as const;

/**
 * The lowest codec level that holds a rung's frame size, frame rate and peak bitrate: what
 * MediaConvert's AUTO would pick, written out so the HLS CODECS string is known at planning time
 * and "within Apple's levels" is a tested property of the plan (Apple §1.7: no higher than needed).
 */
export function codecLevelFor(codec: VideoCodec, width: number, height: number, rate: Ratio, maxBitrate: number): string {
  const framesPerSecond = fps(rate);
  if (codec === 'H_264') {
    const widthMbs = Math.ceil(width / 16);
    const heightMbs = Math.ceil(height / 16);
    const frameMbs = widthMbs * heightMbs;
    const found = H264_LEVELS.find(
      (level) =>
        frameMbs <= level.fs &&
        // A side may not exceed sqrt(8 x MaxFS) macroblocks (H.264 A.3.1 f, g).
        Math.max(widthMbs, heightMbs) ** 2 <= 8 * level.fs &&
        frameMbs * framesPerSecond <= level.mbps &&
        maxBitrate <= level.kbps * 1250, // High profile: 1.25 x the Main-profile kbit/s
    );
    if (!found) throw new Error(`no H.264 level up to 4.2 holds ${width}x${height} at ${framesPerSecond.toFixed(3)} fps`);
    return found.level;
  }
  const lumaPixels = width * height;
  const found = HEVC_LEVELS.find(
    (level) =>
      lumaPixels <= level.ps &&
      Math.max(width, height) ** 2 <= 8 * level.ps &&
      lumaPixels * framesPerSecond <= level.sr &&
      maxBitrate <= level.kbps * 1000,
  );
  if (!found) throw new Error(`no HEVC level up to 5.2 holds ${width}x${height} at ${framesPerSecond.toFixed(3)} fps`);
  return found.level;
}

/**
 * Plans the ladder for one source (docs/ladder.md).
 *
 * Geometry (ADR 0026): the display picture (coded size × pixel aspect ratio, rotated) is fitted
 * into each rung's 16:9 box (9:16 for portrait) so that both sides fit — 2.39:1 in the 1080p box is
 * 1920x804 — with even sides and square pixels; never upscaled. Boxes larger than the picture are
 * dropped; when the picture sits clearly between two boxes a rung at its own size is added on top.
 *
 * Codecs (ADR 0027): rungs above 1080p in HEVC, the 1080p-and-below ladder in H.264 High ≤ 4.2.
 *
 * Dynamic range (ADR 0015): an HDR (PQ or HLG) source gets an HDR ladder in HEVC Main10 that keeps
 * its transfer function (every size of the SDR ladder, listed first) and the SDR ladder above,
 * tone-mapped to BT.709 by the encoder, so every player has a complete ladder it can show.
 *
 * Frame rate (ADR 0028): one standard constant rate for the ladder; rungs up to 432p at half of it
 * when it is above 30 fps. GOPs are a whole number of frames closest to `gopSeconds` and segments
 * hold `segmentSeconds / gopSeconds` GOPs, so every rung switches at the same instants. Interlaced
 * sources are deinterlaced.
 *
 * @throws UnsupportedSourceError when the source cannot be encoded (the reason says why).
 */
export function planLadder(source: SourceInfo, spec: LadderSpec = STANDARD_LADDER, options: Partial<AudioRenditionOptions> = {}): LadderPlan {
  validateSource(source);
  const display = displaySize(source);
  const orientation = display.width > display.height ? 'landscape' : display.width < display.height ? 'portrait' : 'square';
  const pictureP = equivalentShortSide(display);

  const specRungs = [...spec.video].sort((a, b) => b.boxShortSide - a.boxShortSide);
  // Half a pixel of slack: a 1920x1080 source "fits" the 1080p box even after SAR arithmetic.
  const scaledDown = specRungs.filter((rung) => rung.boxShortSide < pictureP - 0.5);
  const smallestHolding = [...specRungs].reverse().find((rung) => rung.boxShortSide >= pictureP - 0.5);
  const top = scaledDown[0];

  const chosen: { name: string; spec: VideoRungSpec; size: { width: number; height: number }; maxBitrate: number }[] =
    scaledDown.map((rung) => ({
      name: rungNameForShortSide(rung.boxShortSide),
      spec: rung,
      size: sizeInBox(display, rung.boxShortSide),
      maxBitrate: rung.maxBitrate,
    }));
  if (smallestHolding && (top === undefined || pictureP >= top.boxShortSide * NATIVE_RUNG_MIN_STEP)) {
    // The picture at its own size, in the smallest box that holds it: that box's codec and quality.
    const nativeP = Math.min(evenRound(pictureP), smallestHolding.boxShortSide);
    chosen.unshift({
      name: rungNameForShortSide(nativeP),
      spec: smallestHolding,
      size: sizeInBox(display, smallestHolding.boxShortSide),
      maxBitrate: interpolatedBitrate(nativeP, top, smallestHolding),
    });
  }

  const fullRate = standardFrameRate(source.frameRate, spec.maxFrameRate);
  const video: VideoRung[] = chosen
    .filter(({ size }) => Math.min(size.width, size.height) >= MIN_DIMENSION)
    .map(({ name, spec: rungSpec, size, maxBitrate }) => {
      const frameRate = rungSpec.halfRateAbove30 && fps(fullRate) > 30 ? halfRate(fullRate) : fullRate;
      return {
        name,
        codec: rungSpec.codec,
        width: size.width,
        height: size.height,
        frameRate,
        gopFrames: Math.max(1, Math.round(spec.gopSeconds * fps(frameRate))),
        maxBitrate,
        qvbrQualityLevel: rungSpec.qvbrQualityLevel,
        profile: rungSpec.profile,
        level: codecLevelFor(rungSpec.codec, size.width, size.height, frameRate, maxBitrate),
      };
    });
  if (video.length === 0) {
    throw new UnsupportedSourceError(
      `the picture's aspect ratio (${(display.width / display.height).toFixed(2)}:1) leaves no rung with both sides of at least ${MIN_DIMENSION} pixels`,
    );
  }

  // HDR sources: the HDR ladder first, the tone-mapped SDR ladder after (ADR 0015).
  const sourceRange = source.dynamicRange ?? 'SDR';
  const hdrVideo = sourceRange === 'SDR' ? [] : video.map((rung) => hdrRungOf(rung, sourceRange));

  // One rendition per audio track with its language, 5.1 downmixed (ADR 0017).
  const audio: AudioRung[] = planAudioRenditions(source, { surroundAudio: options.surroundAudio ?? false, ...(spec.audio[0] ? { stereo: spec.audio[0] } : {}) });

  return {
    video: [...hdrVideo, ...video],
    audio,
    frameRate: video[0]!.frameRate,
    gopSeconds: spec.gopSeconds,
    segmentSeconds: spec.segmentSeconds,
    ...(sourceRange !== 'SDR' ? { dynamicRange: sourceRange } : {}),
    deinterlace: source.scan?.type === 'interlaced',
    orientation,
  };
}
