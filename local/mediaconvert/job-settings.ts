/**
 * What the MediaConvert stand-in needs from a CreateJob `Settings`: the input, the CMAF destination
 * and the ladder plan. The plan normally comes from `core/job-settings-plan.ts`
 * (`planFromJobSettings`); `interimPlanFromJobSettings` reads the same fields until that exists.
 */
import type { JobSettings, Output } from '@aws-sdk/client-mediaconvert';
import type { AudioRung, LadderPlan, VideoRung } from '../../core/media-types';

export type PlanFromJobSettings = (settings: JobSettings) => LadderPlan;

export class UnsupportedJobSettingsError extends Error {
  override readonly name = 'UnsupportedJobSettingsError';
}

export interface S3Location {
  readonly bucket: string;
  readonly key: string;
}

export function parseS3Url(url: string): S3Location {
  const match = /^s3:\/\/([^/]+)\/(.*)$/.exec(url);
  if (!match) throw new UnsupportedJobSettingsError(`not an s3:// URL: ${url}`);
  return { bucket: match[1]!, key: match[2]! };
}

/**
 * A CMAF Destination is `s3://bucket/prefix/base`: MediaConvert writes `base.m3u8`/`base.mpd` under
 * `prefix/`; a destination ending in `/` takes the base name from the input file's name.
 */
export function parseCmafDestination(destination: string, inputUrl: string): S3Location & { baseName: string } {
  const { bucket, key } = parseS3Url(destination);
  const slash = key.lastIndexOf('/');
  const prefix = key.slice(0, slash + 1);
  const explicitBase = key.slice(slash + 1);
  const inputName = inputUrl.slice(inputUrl.lastIndexOf('/') + 1).replace(/\.[^.]*$/, '');
  return { bucket, key: prefix, baseName: explicitBase || inputName };
}

export function cmafOutputGroup(settings: JobSettings) {
  const group = settings.OutputGroups?.find((g) => g.OutputGroupSettings?.Type === 'CMAF_GROUP_SETTINGS');
  if (!group?.OutputGroupSettings?.CmafGroupSettings?.Destination) {
    throw new UnsupportedJobSettingsError('the twin encodes only jobs with a CMAF output group that has a Destination');
  }
  return { group, cmaf: group.OutputGroupSettings.CmafGroupSettings };
}

export function inputUrlOf(settings: JobSettings): string {
  const input = settings.Inputs?.[0]?.FileInput;
  if (!input) throw new UnsupportedJobSettingsError('Settings.Inputs[0].FileInput is required');
  return input;
}

function rungName(output: Output, fallback: string): string {
  return output.NameModifier?.replace(/^[_-]+/, '') || fallback;
}

/**
 * Reads the ladder straight from the CMAF outputs: one video rung per output with a
 * VideoDescription, one audio rung per output with an AAC AudioDescription. Frame rate falls back
 * to `sourceFrameRate` when the job follows the source (FramerateControl INITIALIZE_FROM_SOURCE).
 */
export function interimPlanFromJobSettings(
  settings: JobSettings,
  sourceFrameRate: { numerator: number; denominator: number } = { numerator: 25, denominator: 1 },
): LadderPlan {
  const { group, cmaf } = cmafOutputGroup(settings);
  const video: VideoRung[] = [];
  const audio: AudioRung[] = [];
  let frameRate = sourceFrameRate;
  let gop: { size: number; units: string } | undefined;

  for (const [index, output] of (group.Outputs ?? []).entries()) {
    const h264 = output.VideoDescription?.CodecSettings?.H264Settings;
    if (output.VideoDescription && h264) {
      const { Width, Height } = output.VideoDescription;
      if (!Width || !Height) throw new UnsupportedJobSettingsError(`output ${index} has no explicit Width/Height`);
      video.push({
        name: rungName(output, `${Height}p`),
        width: Width,
        height: Height,
        maxBitrate: h264.MaxBitrate ?? h264.Bitrate ?? 1_000_000,
        qvbrQualityLevel: h264.QvbrSettings?.QvbrQualityLevel ?? 7,
        profile: h264.CodecProfile === 'MAIN' ? 'MAIN' : 'HIGH',
        level: h264.CodecLevel ?? 'AUTO',
      });
      if (h264.FramerateControl === 'SPECIFIED' && h264.FramerateNumerator && h264.FramerateDenominator) {
        frameRate = { numerator: h264.FramerateNumerator, denominator: h264.FramerateDenominator };
      }
      if (h264.GopSize) gop = { size: h264.GopSize, units: h264.GopSizeUnits ?? 'FRAMES' };
    }
    for (const description of output.AudioDescriptions ?? []) {
      const aac = description.CodecSettings?.AacSettings;
      if (!aac) continue;
      audio.push({
        name: rungName(output, `aac-${index}`),
        bitrate: aac.Bitrate ?? 128_000,
        channels: aac.CodingMode === 'CODING_MODE_1_0' ? 1 : 2,
        sampleRate: 48000,
      });
    }
  }
  if (video.length === 0) throw new UnsupportedJobSettingsError('the CMAF group has no H.264 video output');

  const fps = frameRate.numerator / frameRate.denominator;
  const gopFrames = gop
    ? gop.units === 'SECONDS' ? Math.round(gop.size * fps) : Math.round(gop.size)
    : Math.round(2 * fps);
  const first = video[0]!;
  return {
    video,
    audio,
    frameRate,
    gopFrames,
    gopSeconds: gopFrames / fps,
    segmentSeconds: cmaf.SegmentLength ?? 6,
    orientation: first.width > first.height ? 'landscape' : first.width < first.height ? 'portrait' : 'square',
  };
}
