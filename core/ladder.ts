/**
 * The ABR ladder: one typed spec (docs/ladder.md) and the source-aware planner that turns a probed
 * source into the rungs both MediaConvert (core/mediaconvert-job.ts) and the local twin's ffmpeg
 * encode. Pure: no I/O, no AWS SDK.
 *
 * Anchors for the numbers:
 * - Apple "HLS authoring specification for Apple devices" (§1.1 video ladder table, §1.3 frame
 *   rates, §1.9 keyframes every 2 s, §1.9/§1.10 6 s target segment duration, §1.18 AAC-LC stereo).
 * - AWS Elemental MediaConvert user guide, "Guidelines for QVBR settings": quality level 9 for
 *   large screens at 1080p and above, 8 for 720p, 7 and below for small screens; max bitrate as the
 *   ceiling for complex scenes.
 */
import type { AudioRung, LadderPlan, SourceInfo, VideoRung } from './media-types';

/** One video rung of a ladder spec. Rungs are sized by their short side so portrait sources fit. */
export interface VideoRungSpec {
  /** Short side in pixels (the "p" number: 1080 for 1920x1080 and for 1080x1920). Even. */
  readonly shortSide: number;
  /** QVBR ceiling in bits per second for a 16:9 (or 9:16) picture of this short side. */
  readonly maxBitrate: number;
  /** QVBR quality level 1..10. */
  readonly qvbrQualityLevel: number;
  readonly profile: 'HIGH' | 'MAIN';
  readonly level: string;
}

export interface LadderSpec {
  /** Highest rung first. */
  readonly video: readonly VideoRungSpec[];
  readonly audio: readonly AudioRung[];
  readonly gopSeconds: 2;
  readonly segmentSeconds: 6;
  /** Sources above this frame rate are encoded at half (repeatedly) until at or below it. */
  readonly maxFrameRate: number;
}

const h264High = (shortSide: number, maxBitrate: number, qvbrQualityLevel: number): VideoRungSpec => ({
  shortSide,
  maxBitrate,
  qvbrQualityLevel,
  profile: 'HIGH',
  level: 'AUTO', // MediaConvert picks the lowest level that fits size x frame rate x bitrate.
});

const AAC_STEREO_128K: AudioRung = { name: 'aac-stereo-128k', bitrate: 128_000, channels: 2, sampleRate: 48000 };

/**
 * The default ladder. One audio rung only: HLS and DASH players do not switch between audio
 * renditions of one group by bandwidth (hls.js keeps the selected track), so a 64k rung would be
 * encoded and stored but almost never played; 128k is under 5% of every video rung above 288p.
 */
export const STANDARD_LADDER: LadderSpec = {
  video: [
    h264High(2160, 16_000_000, 9),
    h264High(1440, 10_000_000, 9),
    h264High(1080, 6_000_000, 9),
    h264High(720, 3_500_000, 8),
    h264High(540, 2_000_000, 7),
    h264High(432, 1_100_000, 7),
    h264High(360, 730_000, 7),
    h264High(288, 350_000, 6),
  ],
  audio: [AAC_STEREO_128K],
  gopSeconds: 2,
  segmentSeconds: 6,
  maxFrameRate: 60,
};

/**
 * Fewer rungs and at most 30 fps: for the local twin (ffmpeg on two shared cores encodes about real
 * time at 1080p) and for cheaper encodes of content where a dense ladder buys little.
 */
export const COMPACT_LADDER: LadderSpec = {
  video: [h264High(1080, 6_000_000, 9), h264High(720, 3_500_000, 8), h264High(432, 1_100_000, 7), h264High(288, 350_000, 6)],
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
 * A rung at the source's own size is added only when the source's short side is at least this much
 * above the highest spec rung it can feed: 10% in height is ~21% in pixels, about the gap Apple's
 * table leaves between neighbouring rungs; anything closer would duplicate the rung below.
 */
const NATIVE_RUNG_MIN_STEP = 1.1;

const evenFloor = (value: number): number => Math.floor(value / 2) * 2;
const evenRound = (value: number): number => Math.round(value / 2) * 2;
const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

export function rungNameForShortSide(shortSide: number): string {
  return `${shortSide}p`;
}

function validateSource(source: SourceInfo): void {
  const { width, height, frameRate, durationMs, rotation } = source;
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
  const { numerator, denominator } = frameRate ?? { numerator: NaN, denominator: NaN };
  const fps = numerator / denominator;
  if (!Number.isInteger(numerator) || !Number.isInteger(denominator) || !(numerator > 0) || !(denominator > 0)) {
    throw new UnsupportedSourceError('the video has no frame rate');
  }
  if (fps < MIN_FPS || fps > MAX_FPS) {
    throw new UnsupportedSourceError(`a frame rate of ${fps.toFixed(3)} fps is outside ${MIN_FPS}..${MAX_FPS} fps`);
  }
  if (!Number.isFinite(durationMs) || durationMs <= 0) {
    throw new UnsupportedSourceError('the video has no duration');
  }
}

/** Halves the rate until it fits: 120 -> 60, 100 -> 50, 119.88 -> 59.94 (a rational, not rounded). */
export function outputFrameRate(
  source: { readonly numerator: number; readonly denominator: number },
  maxFrameRate: number,
): { numerator: number; denominator: number } {
  let { numerator, denominator } = source;
  while (numerator / denominator > maxFrameRate) {
    if (numerator % 2 === 0) numerator /= 2;
    else denominator *= 2;
  }
  const divisor = gcd(numerator, denominator);
  return { numerator: numerator / divisor, denominator: denominator / divisor };
}

/** Display size after rotation: 90/270 swap the coded width and height. */
export function displaySize(source: Pick<SourceInfo, 'width' | 'height' | 'rotation'>): { width: number; height: number } {
  return source.rotation === 90 || source.rotation === 270
    ? { width: source.height, height: source.width }
    : { width: source.width, height: source.height };
}

/**
 * Width and height of a picture with the given short side and the display's aspect ratio, both
 * even (4:2:0 chroma) and never larger than the display (no upscaling).
 */
function sizeForShortSide(shortSide: number, display: { width: number; height: number }): { width: number; height: number } {
  const landscapeOrSquare = display.width >= display.height;
  const displayShort = landscapeOrSquare ? display.height : display.width;
  const displayLong = landscapeOrSquare ? display.width : display.height;
  const long = Math.min(evenRound((shortSide * displayLong) / displayShort), evenFloor(displayLong));
  return landscapeOrSquare ? { width: long, height: shortSide } : { width: shortSide, height: long };
}

/** Bitrate for a short side between two spec rungs, linear in the short side; below the ladder, by pixel ratio. */
function interpolatedBitrate(shortSide: number, below: VideoRungSpec | undefined, above: VideoRungSpec): number {
  const raw = below
    ? below.maxBitrate + ((above.maxBitrate - below.maxBitrate) * (shortSide - below.shortSide)) / (above.shortSide - below.shortSide)
    : above.maxBitrate * (shortSide / above.shortSide) ** 2;
  // MediaConvert's H264 MaxBitrate floor is 1000 bit/s (API model __integerMin1000Max1152000000).
  return Math.max(1000, Math.round(raw / 1000) * 1000);
}

/**
 * Plans the ladder for one source. Never upscales: spec rungs whose short side exceeds the
 * source's are dropped, and when the source sits clearly between two rungs a rung at the source's
 * own size is added on top. Portrait and square sources keep their aspect ratio (rungs are sized by
 * the short side). GOPs are a whole number of frames closest to `gopSeconds` and segments hold
 * `segmentSeconds / gopSeconds` GOPs, so every rung switches at the same instants.
 *
 * @throws UnsupportedSourceError when the source cannot be encoded (the reason says why).
 */
export function planLadder(source: SourceInfo, spec: LadderSpec = STANDARD_LADDER): LadderPlan {
  validateSource(source);
  const display = displaySize(source);
  const displayShort = Math.min(display.width, display.height);
  const orientation = display.width > display.height ? 'landscape' : display.width < display.height ? 'portrait' : 'square';

  const specRungs = [...spec.video].sort((a, b) => b.shortSide - a.shortSide);
  const fitting = specRungs.filter((rung) => rung.shortSide <= displayShort);
  const smallestAbove = [...specRungs].reverse().find((rung) => rung.shortSide > displayShort);

  const chosen: { shortSide: number; spec: VideoRungSpec; maxBitrate: number }[] = fitting.map((rung) => ({
    shortSide: rung.shortSide,
    spec: rung,
    maxBitrate: rung.maxBitrate,
  }));
  const nativeShort = evenFloor(displayShort);
  const top = fitting[0];
  const wantsNative = smallestAbove !== undefined && (top === undefined || nativeShort >= top.shortSide * NATIVE_RUNG_MIN_STEP);
  if (wantsNative && smallestAbove) {
    chosen.unshift({
      shortSide: nativeShort,
      // The native rung sits below `smallestAbove`, so it inherits that rung's codec settings.
      spec: smallestAbove,
      maxBitrate: interpolatedBitrate(nativeShort, top, smallestAbove),
    });
  }

  const video: VideoRung[] = chosen.map(({ shortSide, spec: rung, maxBitrate }) => ({
    name: rungNameForShortSide(shortSide),
    ...sizeForShortSide(shortSide, display),
    maxBitrate,
    qvbrQualityLevel: rung.qvbrQualityLevel,
    profile: rung.profile,
    level: rung.level,
  }));

  const audio: AudioRung[] = !source.hasAudio
    ? []
    : source.audioChannels === 1
      ? spec.audio.map((rung) => ({
          ...rung,
          name: rung.name.replace('stereo', 'mono').replace(/\d+k$/, `${rung.bitrate / 2000}k`),
          bitrate: rung.bitrate / 2,
          channels: 1 as const,
        }))
      : spec.audio.map((rung) => ({ ...rung }));

  const frameRate = outputFrameRate(source.frameRate, spec.maxFrameRate);
  const gopFrames = Math.max(1, Math.round((spec.gopSeconds * frameRate.numerator) / frameRate.denominator));

  return {
    video,
    audio,
    frameRate,
    gopFrames,
    gopSeconds: spec.gopSeconds,
    segmentSeconds: spec.segmentSeconds,
    orientation,
  };
}
