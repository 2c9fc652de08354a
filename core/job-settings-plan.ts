/**
 * The inverse of core/mediaconvert-job.ts: recovers the LadderPlan from a CreateJob `Settings`, so
 * the local twin's MediaConvert stand-in encodes with ffmpeg exactly the ladder the platform asked
 * MediaConvert for (one ladder, two encoders: docs/ladder.md "The inverse", ADR 0070). Pure; SDK types only.
 *
 * Fixed-ladder jobs round-trip exactly. Per-title (Automated ABR) jobs carry only the allowed
 * sizes and the bitrate range, because MediaConvert itself picks the bitrates: the twin gets the
 * sizes exactly and bitrates spread geometrically between the range's ends.
 */
import type { AutomatedAbrSettings, H264Settings, JobSettings, Output } from '@aws-sdk/client-mediaconvert';
import type { AudioRung, LadderPlan, VideoRung } from './media-types';
import { rungNameForShortSide } from './ladder';

export class UnrecognisedJobSettingsError extends Error {
  override readonly name = 'UnrecognisedJobSettingsError';
}

const stripModifier = (output: Output): string | undefined => output.NameModifier?.replace(/^_/, '') || undefined;

function h264Of(output: Output): H264Settings | undefined {
  const codec = output.VideoDescription?.CodecSettings;
  return codec?.Codec === 'H_264' ? codec.H264Settings : undefined;
}

function videoRungFromOutput(output: Output, index: number): VideoRung {
  const h264 = h264Of(output)!;
  const { Width, Height } = output.VideoDescription!;
  if (!Width || !Height) throw new UnrecognisedJobSettingsError(`CMAF output ${index} has no Width/Height`);
  if (!h264.MaxBitrate || !h264.QvbrSettings?.QvbrQualityLevel) {
    throw new UnrecognisedJobSettingsError(`CMAF output ${index} is not QVBR with MaxBitrate and a quality level`);
  }
  return {
    name: stripModifier(output) ?? rungNameForShortSide(Math.min(Width, Height)),
    width: Width,
    height: Height,
    maxBitrate: h264.MaxBitrate,
    qvbrQualityLevel: h264.QvbrSettings.QvbrQualityLevel,
    profile: h264.CodecProfile === 'MAIN' ? 'MAIN' : 'HIGH',
    level: h264.CodecLevel ?? 'AUTO',
  };
}

function videoRungsFromAutomatedAbr(abr: AutomatedAbrSettings, base: H264Settings): VideoRung[] {
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
  return sorted.map(({ width, height }, index) => ({
    name: rungNameForShortSide(Math.min(width, height)),
    width,
    height,
    maxBitrate: steps === 0 ? max : Math.round((max * (min / max) ** (index / steps)) / 1000) * 1000,
    qvbrQualityLevel: Math.round(abr.MaxQualityLevel ?? 8),
    profile: base.CodecProfile === 'MAIN' ? 'MAIN' : 'HIGH',
    level: base.CodecLevel ?? 'AUTO',
  }));
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
 * (no CMAF group, no H.264 output, frame rate not SPECIFIED, GOP not in frames).
 */
export function planFromJobSettings(settings: JobSettings): LadderPlan {
  const group = settings.OutputGroups?.find((candidate) => candidate.OutputGroupSettings?.Type === 'CMAF_GROUP_SETTINGS');
  const cmaf = group?.OutputGroupSettings?.CmafGroupSettings;
  if (!group || !cmaf) throw new UnrecognisedJobSettingsError('the job has no CMAF output group');
  const outputs = group.Outputs ?? [];
  const videoOutputs = outputs.filter((output) => h264Of(output) !== undefined);
  const base = videoOutputs[0] && h264Of(videoOutputs[0]);
  if (!base) throw new UnrecognisedJobSettingsError('the CMAF group has no H.264 output');
  if (base.FramerateControl !== 'SPECIFIED' || !base.FramerateNumerator || !base.FramerateDenominator) {
    throw new UnrecognisedJobSettingsError('the H.264 output does not specify its frame rate');
  }
  if (base.GopSizeUnits !== 'FRAMES' || !base.GopSize) {
    throw new UnrecognisedJobSettingsError('the H.264 output does not give its GOP size in frames');
  }

  const abr = group.AutomatedEncodingSettings?.AbrSettings;
  const video = abr
    ? videoRungsFromAutomatedAbr(abr, base)
    : outputs.flatMap((output, index) => (h264Of(output) ? [videoRungFromOutput(output, index)] : []));
  const audio = outputs.flatMap((output, index) => {
    const rung = audioRungFromOutput(output, index);
    return rung ? [rung] : [];
  });

  const top = video[0]!;
  return {
    video,
    audio,
    frameRate: { numerator: base.FramerateNumerator, denominator: base.FramerateDenominator },
    gopFrames: base.GopSize,
    gopSeconds: cmaf.FragmentLength ?? 2,
    segmentSeconds: cmaf.SegmentLength ?? 6,
    orientation: top.width > top.height ? 'landscape' : top.width < top.height ? 'portrait' : 'square',
  };
}
