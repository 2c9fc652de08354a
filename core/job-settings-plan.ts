/**
 * The inverse of core/mediaconvert-job.ts: recovers the LadderPlan from a CreateJob `Settings`, so
 * the local twin's MediaConvert stand-in encodes with ffmpeg exactly the ladder the platform asked
 * MediaConvert for (one ladder, two encoders: docs/ladder.md "The inverse", ADR 0070). Pure; SDK types only.
 *
 * Fixed-ladder jobs round-trip exactly. Per-title (Automated ABR) jobs carry only the allowed
 * sizes and the bitrate range, because MediaConvert itself picks the bitrates: the twin gets the
 * sizes exactly and bitrates spread geometrically between the range's ends.
 */
import type { AutomatedAbrSettings, JobSettings, Output, VideoDescription } from '@aws-sdk/client-mediaconvert';
import type { AudioRung, LadderPlan, VideoCodec, VideoRung } from './media-types';
import { codecLevelFor, rungNameForShortSide } from './ladder';

export class UnrecognisedJobSettingsError extends Error {
  override readonly name = 'UnrecognisedJobSettingsError';
}

const stripModifier = (output: Output): string | undefined => output.NameModifier?.replace(/^_/, '') || undefined;

/** The codec-independent part of an H.264 or HEVC output's settings, as the builder writes both. */
interface VideoCodecSettings {
  readonly codec: VideoCodec;
  readonly profile: 'HIGH' | 'MAIN';
  readonly level?: string;
  readonly maxBitrate?: number;
  readonly qvbrQualityLevel?: number;
  readonly framerateControl?: string;
  readonly frameRate?: { numerator: number; denominator: number };
  readonly gopFrames?: number;
}

function videoCodecOf(description: VideoDescription | undefined): VideoCodecSettings | undefined {
  const codec = description?.CodecSettings;
  const settings = codec?.Codec === 'H_264' ? codec.H264Settings : codec?.Codec === 'H_265' ? codec.H265Settings : undefined;
  if (!codec || !settings) return undefined;
  const { FramerateNumerator: numerator, FramerateDenominator: denominator } = settings;
  return {
    codec: codec.Codec as VideoCodec,
    profile: codec.Codec === 'H_264' && codec.H264Settings?.CodecProfile === 'MAIN' ? 'MAIN' : codec.Codec === 'H_264' ? 'HIGH' : 'MAIN',
    level: settings.CodecLevel,
    maxBitrate: settings.MaxBitrate,
    qvbrQualityLevel: settings.QvbrSettings?.QvbrQualityLevel,
    framerateControl: settings.FramerateControl,
    frameRate: numerator && denominator ? { numerator, denominator } : undefined,
    gopFrames: settings.GopSizeUnits === 'FRAMES' ? settings.GopSize : undefined,
  };
}

/** Frame rate and GOP in frames, which the twin needs and the builder always writes. */
function timingOf(settings: VideoCodecSettings, where: string): { frameRate: { numerator: number; denominator: number }; gopFrames: number } {
  if (settings.framerateControl !== 'SPECIFIED' || !settings.frameRate) {
    throw new UnrecognisedJobSettingsError(`${where} does not specify its frame rate`);
  }
  if (!settings.gopFrames) throw new UnrecognisedJobSettingsError(`${where} does not give its GOP size in frames`);
  return { frameRate: settings.frameRate, gopFrames: settings.gopFrames };
}

function videoRungFromOutput(output: Output, index: number): VideoRung {
  const description = output.VideoDescription!;
  const settings = videoCodecOf(description)!;
  const { Width, Height } = description;
  const where = `CMAF output ${index}`;
  if (!Width || !Height) throw new UnrecognisedJobSettingsError(`${where} has no Width/Height`);
  if (!settings.maxBitrate || !settings.qvbrQualityLevel) {
    throw new UnrecognisedJobSettingsError(`${where} is not QVBR with MaxBitrate and a quality level`);
  }
  const { frameRate, gopFrames } = timingOf(settings, where);
  return {
    name: stripModifier(output) ?? rungNameForShortSide(Math.min(Width, Height)),
    codec: settings.codec,
    width: Width,
    height: Height,
    frameRate,
    gopFrames,
    maxBitrate: settings.maxBitrate,
    qvbrQualityLevel: settings.qvbrQualityLevel,
    profile: settings.profile,
    level:
      settings.level && settings.level !== 'AUTO'
        ? settings.level
        : codecLevelFor(settings.codec, Width, Height, frameRate, settings.maxBitrate),
  };
}

function videoRungsFromAutomatedAbr(abr: AutomatedAbrSettings, base: VideoCodecSettings): VideoRung[] {
  const sizes = abr.Rules?.find((rule) => rule.Type === 'ALLOWED_RENDITIONS')?.AllowedRenditions ?? [];
  if (sizes.length === 0) throw new UnrecognisedJobSettingsError('Automated ABR without an ALLOWED_RENDITIONS rule');
  const sorted = sizes
    .map(({ Width, Height }) => {
      if (!Width || !Height) throw new UnrecognisedJobSettingsError('an allowed rendition has no Width/Height');
      return { width: Width, height: Height };
    })
    .sort((a, b) => b.width * b.height - a.width * a.height);
  const max = abr.MaxAbrBitrate ?? 8_000_000; // MediaConvert's documented default
  const min = Math.min(abr.MinAbrBitrate ?? 600_000, max);
  const steps = sorted.length - 1;
  const { frameRate, gopFrames } = timingOf(base, 'the Automated ABR base output');
  return sorted.map(({ width, height }, index) => {
    const maxBitrate = steps === 0 ? max : Math.round((max * (min / max) ** (index / steps)) / 1000) * 1000;
    return {
      name: rungNameForShortSide(Math.min(width, height)),
      codec: base.codec,
      width,
      height,
      frameRate,
      gopFrames,
      maxBitrate,
      qvbrQualityLevel: Math.round(abr.MaxQualityLevel ?? 8),
      profile: base.profile,
      level: codecLevelFor(base.codec, width, height, frameRate, maxBitrate),
    };
  });
}

function audioRungFromOutput(output: Output, index: number): AudioRung | undefined {
  const aac = output.AudioDescriptions?.[0]?.CodecSettings?.AacSettings;
  if (!aac) return undefined;
  if (!aac.Bitrate) throw new UnrecognisedJobSettingsError(`CMAF output ${index} has AAC without a Bitrate`);
  const channels = aac.CodingMode === 'CODING_MODE_1_0' ? 1 : 2;
  return {
    name: stripModifier(output) ?? `aac-${channels === 1 ? 'mono' : 'stereo'}-${aac.Bitrate / 1000}k`,
    bitrate: aac.Bitrate,
    channels,
    sampleRate: 48000,
  };
}

/**
 * Recovers the plan from the job's CMAF output group.
 * @throws UnrecognisedJobSettingsError when the settings were not built by buildCreateJobRequest's rules
 * (no CMAF group, no H.264/HEVC output, frame rate not SPECIFIED, GOP not in frames).
 */
export function planFromJobSettings(settings: JobSettings): LadderPlan {
  const group = settings.OutputGroups?.find((candidate) => candidate.OutputGroupSettings?.Type === 'CMAF_GROUP_SETTINGS');
  const cmaf = group?.OutputGroupSettings?.CmafGroupSettings;
  if (!group || !cmaf) throw new UnrecognisedJobSettingsError('the job has no CMAF output group');
  const outputs = group.Outputs ?? [];
  const videoOutputs = outputs.filter((output) => videoCodecOf(output.VideoDescription) !== undefined);
  const base = videoOutputs[0];
  if (!base) throw new UnrecognisedJobSettingsError('the CMAF group has no H.264 or HEVC output');

  const abr = group.AutomatedEncodingSettings?.AbrSettings;
  const video = abr
    ? videoRungsFromAutomatedAbr(abr, videoCodecOf(base.VideoDescription)!)
    : outputs.flatMap((output, index) => (videoCodecOf(output.VideoDescription) ? [videoRungFromOutput(output, index)] : []));
  const audio = outputs.flatMap((output, index) => {
    const rung = audioRungFromOutput(output, index);
    return rung ? [rung] : [];
  });

  const top = video[0]!;
  return {
    video,
    audio,
    frameRate: top.frameRate,
    gopSeconds: cmaf.FragmentLength ?? 2,
    segmentSeconds: cmaf.SegmentLength ?? 6,
    deinterlace: base.VideoDescription?.VideoPreprocessors?.Deinterlacer !== undefined,
    orientation: top.width > top.height ? 'landscape' : top.width < top.height ? 'portrait' : 'square',
  };
}
