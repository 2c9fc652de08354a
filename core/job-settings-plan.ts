/**
 * The inverse of core/mediaconvert-job.ts: recovers the LadderPlan from a CreateJob `Settings`, so
 * the local twin's MediaConvert stand-in encodes with ffmpeg exactly the ladder the platform asked
 * MediaConvert for (one ladder, two encoders: docs/ladder.md "The inverse", ADR 0070). Pure; SDK types only.
 *
 * Fixed-ladder jobs round-trip exactly. Per-title (Automated ABR) jobs carry only the allowed
 * sizes and the bitrate range, because MediaConvert itself picks the bitrates: the twin gets the
 * sizes exactly and bitrates spread geometrically between the range's ends.
 */
import type { AutomatedAbrSettings, CaptionSelector, JobSettings, Output, VideoDescription } from '@aws-sdk/client-mediaconvert';
import type { AudioRung, DynamicRange, LadderPlan, SubtitleRendition, VideoCodec, VideoRung } from './media-types';
import { dynamicRangeOfOutputName } from './dynamic-range';
import { codecLevelFor, rungNameForShortSide } from './ladder';
import { normaliseLanguage } from './renditions';

export class UnrecognisedJobSettingsError extends Error {
  override readonly name = 'UnrecognisedJobSettingsError';
}

const stripModifier = (output: Output): string | undefined => output.NameModifier?.replace(/^_/, '') || undefined;

/** The codec-independent part of an H.264 or HEVC output's settings, as the builder writes both. */
interface VideoCodecSettings {
  readonly codec: VideoCodec;
  readonly profile: 'HIGH' | 'MAIN' | 'MAIN10';
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
    profile:
      codec.Codec === 'H_264'
        ? codec.H264Settings?.CodecProfile === 'MAIN' ? 'MAIN' : 'HIGH'
        : codec.H265Settings?.CodecProfile?.startsWith('MAIN10') ? 'MAIN10' : 'MAIN',
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

/** Whether an output converts an HDR source to SDR (the builder's tone mapping, ADR 0015). */
const isToneMapped = (description: VideoDescription | undefined): boolean =>
  description?.VideoPreprocessors?.ColorCorrector?.ColorSpaceConversion === 'FORCE_709' &&
  description.VideoPreprocessors.ColorCorrector.HdrToSdrToneMapper !== undefined;

/** An HDR rung: 10-bit HEVC, not converted to SDR, named `<p>p-pq|hlg` by the builder. */
function hdrRangeOf(output: Output, settings: VideoCodecSettings): DynamicRange {
  if (settings.profile !== 'MAIN10' || isToneMapped(output.VideoDescription)) return 'SDR';
  return dynamicRangeOfOutputName(stripModifier(output) ?? '');
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
  const dynamicRange = hdrRangeOf(output, settings);
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
    ...(dynamicRange !== 'SDR' ? { dynamicRange } : {}),
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
  const description = output.AudioDescriptions?.[0];
  const aac = description?.CodecSettings?.AacSettings;
  const eac3 = description?.CodecSettings?.Eac3Settings;
  if (!description || (!aac && !eac3)) return undefined;
  const bitrate = aac?.Bitrate ?? eac3?.Bitrate;
  if (!bitrate) throw new UnrecognisedJobSettingsError(`CMAF output ${index} has audio without a Bitrate`);
  const channels = eac3 ? 6 : aac?.CodingMode === 'CODING_MODE_1_0' ? 1 : 2;
  const selector = /^Audio Selector (\d+)$/.exec(description.AudioSourceName ?? '');
  const trackType = output.ContainerSettings?.CmfcSettings?.AudioTrackType;
  const sourceChannels = description.RemixSettings?.ChannelsIn;
  return {
    name: stripModifier(output) ?? (eac3 ? `eac3-5.1-${bitrate / 1000}k` : `aac-${channels === 1 ? 'mono' : 'stereo'}-${bitrate / 1000}k`),
    bitrate,
    channels,
    sampleRate: 48000,
    codec: eac3 ? 'EAC3' : 'AAC',
    language: normaliseLanguage(description.CustomLanguageCode ?? description.LanguageCode),
    sourceTrack: selector ? Number(selector[1]) : 1,
    ...(sourceChannels ? { sourceChannels } : eac3 ? { sourceChannels: 6 } : {}),
    isDefault: trackType === 'ALTERNATE_AUDIO_AUTO_SELECT_DEFAULT',
  };
}

const SIDECAR_FORMATS: Readonly<Record<string, 'vtt' | 'srt' | 'scc'>> = { WEBVTT: 'vtt', SRT: 'srt', SCC: 'scc' };

/** Text renditions: the CMAF group's WebVTT outputs and the input caption selectors they name. */
function subtitlesFromOutputs(outputs: readonly Output[], selectors: Record<string, CaptionSelector>): SubtitleRendition[] {
  return outputs.flatMap((output, index): SubtitleRendition[] => {
    const description = output.CaptionDescriptions?.[0];
    if (!description) return [];
    const where = `CMAF output ${index}`;
    if (description.DestinationSettings?.DestinationType !== 'WEBVTT') throw new UnrecognisedJobSettingsError(`${where} has captions that are not WebVTT`);
    const selector = selectors[description.CaptionSelectorName ?? ''];
    const source = selector?.SourceSettings;
    const kind = description.DestinationSettings.WebvttDestinationSettings?.Accessibility === 'ENABLED' ? 'captions' : 'subtitles';
    const language = normaliseLanguage(description.CustomLanguageCode ?? description.LanguageCode);
    const name = stripModifier(output) ?? `${kind}-${language}`;
    if (source?.SourceType === 'EMBEDDED') {
      return [{ name, language, kind, source: { type: 'embedded', channel: 1 } }];
    }
    const format = SIDECAR_FORMATS[source?.SourceType ?? ''];
    const uri = source?.FileSourceSettings?.SourceFile;
    if (!format || !uri) throw new UnrecognisedJobSettingsError(`${where} reads captions from an unsupported selector "${description.CaptionSelectorName}"`);
    return [{ name, language, kind, source: { type: 'sidecar', uri, format } }];
  });
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
  const subtitles = subtitlesFromOutputs(outputs, settings.Inputs?.[0]?.CaptionSelectors ?? {});
  const audio = outputs.flatMap((output, index) => {
    const rung = audioRungFromOutput(output, index);
    return rung ? [rung] : [];
  });

  const top = video[0]!;
  // The source's range: the HDR rungs'; a job that only tone-maps (per-title) says "HDR" but not
  // which — the twin's tone mapper reads the transfer from the file, so PQ stands for either.
  const hdrRange = video.find((rung) => rung.dynamicRange !== undefined)?.dynamicRange;
  const dynamicRange = hdrRange ?? (videoOutputs.some((output) => isToneMapped(output.VideoDescription)) ? 'PQ' : undefined);
  return {
    video,
    audio,
    ...(subtitles.length > 0 ? { subtitles } : {}),
    frameRate: top.frameRate,
    gopSeconds: cmaf.FragmentLength ?? 2,
    segmentSeconds: cmaf.SegmentLength ?? 6,
    ...(dynamicRange ? { dynamicRange } : {}),
    deinterlace: base.VideoDescription?.VideoPreprocessors?.Deinterlacer !== undefined,
    orientation: top.width > top.height ? 'landscape' : top.width < top.height ? 'portrait' : 'square',
  };
}
