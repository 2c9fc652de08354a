/**
 * Builds the MediaConvert CreateJob request for a planned ladder (docs/ladder.md "The MediaConvert job"): one CMAF output
 * group writing HLS (`main.m3u8`) and DASH (`main.mpd`) over one set of fMP4 segments, plus a
 * frame-capture group for the poster and preview thumbnails. Pure: the SDK is imported for types
 * only; the submit-job handler sends the result with `CreateJobCommand`.
 *
 * Every request is checked against the MediaConvert API model by test/contract/.
 */
import type {
  AudioDescription,
  AudioSelector,
  AutomatedEncodingSettings,
  CaptionSelector,
  CreateJobCommandInput,
  H264Settings,
  H265Settings,
  Output,
  OutputGroup,
  VideoDescription,
  VideoPreprocessor,
} from '@aws-sdk/client-mediaconvert';
import type { AudioRung, DynamicRange, LadderPlan, SubtitleRendition, VideoRung } from './media-types';
import { DOWNMIX_5_1_TO_STEREO_DB, UNDETERMINED_LANGUAGE } from './renditions';

export interface JobContext {
  /** The master, `s3://<upload bucket>/uploads/<name>.<ext>`. */
  readonly inputS3Uri: string;
  /** `s3://<origin>/media/<assetId>/<revision>/` (trailing slash). */
  readonly outputS3Prefix: string;
  /** The role MediaConvert assumes to read the upload and write the origin. */
  readonly roleArn: string;
  readonly queueArn?: string;
  readonly assetId: string;
  readonly revision: string;
  /** Written to UserMetadata so the job-state rule and handler only see this stack's jobs. */
  readonly stackName: string;
  /** Idempotency token: a replayed upload event must not create a second job. */
  readonly clientRequestToken: string;
  /** MediaConvert Automated ABR picks rung count and bitrates within the plan's bounds. */
  readonly perTitle: boolean;
}

export class InvalidJobContextError extends Error {
  override readonly name = 'InvalidJobContextError';
}

/** Base name of the manifests: MediaConvert writes `<base>.m3u8` and `<base>.mpd` (docs/ladder.md "Output layout at the origin"). */
export const MANIFEST_BASE_NAME = 'main';
/** Frame captures go under `<prefix>thumbs/` as `<base><modifier>.<7-digit index>.jpg`. */
export const THUMBNAILS_FOLDER = 'thumbs/';
const FRAME_CAPTURE_BASE_NAME = 'frame';
const POSTER_NAME_MODIFIER = '_poster';
const PREVIEW_NAME_MODIFIER = '_preview';
/** The poster, relative to the output prefix: MediaConvert numbers captures from 0000000. */
export const POSTER_PATH = `${THUMBNAILS_FOLDER}${FRAME_CAPTURE_BASE_NAME}${POSTER_NAME_MODIFIER}.0000000.jpg`;
/** Preview thumbnails (`thumbs/frame_preview.0000000.jpg`, `.0000001.jpg`, …), one every PREVIEW_INTERVAL_SECONDS. */
export const PREVIEW_INTERVAL_SECONDS = 10;
/** Six hours of previews; MediaConvert stops capturing after MaxCaptures. */
const PREVIEW_MAX_CAPTURES = (6 * 3600) / PREVIEW_INTERVAL_SECONDS;

/** The first track's audio selector (MediaConvert's default track pick); track n has `Audio Selector n`. */
export const AUDIO_SELECTOR_NAME = 'Audio Selector 1';
/** HLS GROUP-ID of the AAC renditions (CMAF writes audio as alternate renditions). */
export const AUDIO_GROUP_ID = 'audio';
/**
 * HLS GROUP-ID of the E-AC-3 5.1 renditions: one codec per group, and every video variant is offered
 * with each group, so a player that cannot decode E-AC-3 keeps the AAC variants (Apple HLS authoring
 * spec, "Audio"; ADR 0017).
 */
export const SURROUND_AUDIO_GROUP_ID = 'audio-ec3';
/** Caption selector of text rendition n (1-based). */
export const captionSelectorName = (index: number): string => `Captions Selector ${index}`;
export const audioSelectorName = (track: number): string => `Audio Selector ${track}`;
/** Name modifier of the single base video output in per-title (Automated ABR) mode. */
export const PER_TITLE_VIDEO_NAME_MODIFIER = '_video';

/** Output name modifier of a rung: `main_1080p…`, `main_aac-stereo-128k…`; readers strip the `_`. */
export function nameModifierFor(rung: { readonly name: string }): string {
  return `_${rung.name}`;
}

function validateContext(ctx: JobContext): void {
  if (!/^s3:\/\/[^/]+\/.+[^/]$/.test(ctx.inputS3Uri)) {
    throw new InvalidJobContextError(`inputS3Uri must be an s3:// object URL, got "${ctx.inputS3Uri}"`);
  }
  if (!/^s3:\/\/[^/]+\/(.+\/)?$/.test(ctx.outputS3Prefix)) {
    throw new InvalidJobContextError(`outputS3Prefix must be an s3:// prefix ending in "/", got "${ctx.outputS3Prefix}"`);
  }
  if (ctx.clientRequestToken.length === 0) throw new InvalidJobContextError('clientRequestToken must not be empty');
}

/** Rate control, frame rate and GOP shared by the H.264 and HEVC outputs (the member names are the same). */
function encodingSettings(perTitle: boolean, rung: VideoRung) {
  return {
    RateControlMode: 'QVBR' as const,
    QualityTuningLevel: perTitle ? ('MULTI_PASS_HQ' as const) : ('SINGLE_PASS_HQ' as const),
    // Every rung at its own constant, standard rate (ADR 0028). DUPLICATE_DROP is MediaConvert's
    // recommendation for simple conversions (60 → 30) and makes a variable-rate source constant.
    FramerateControl: 'SPECIFIED' as const,
    FramerateNumerator: rung.frameRate.numerator,
    FramerateDenominator: rung.frameRate.denominator,
    FramerateConversionAlgorithm: 'DUPLICATE_DROP' as const,
    // Fixed GOP in frames, closed every GOP: every rung has IDR frames at the same instants (2 s at
    // any of its rates), so CMAF fragments (one GOP) and segments (whole GOPs) line up across rungs
    // (Apple HLS authoring spec §1.9; DASH-IF IOP segment alignment).
    GopSize: rung.gopFrames,
    GopSizeUnits: 'FRAMES' as const,
    GopClosedCadence: 1,
    // Scene-change I-frames are added inside the GOP cadence, not instead of it.
    SceneChangeDetect: 'TRANSITION_DETECTION' as const,
    // Progressive output whatever the source (interlaced sources pass the deinterlacer first), and
    // square pixels: the rung's Width x Height already is the display shape (ADR 0026).
    InterlaceMode: 'PROGRESSIVE' as const,
    ParControl: 'SPECIFIED' as const,
    ParNumerator: 1,
    ParDenominator: 1,
    AdaptiveQuantization: 'AUTO' as const,
  };
}

function h264Settings(perTitle: boolean, rung: VideoRung, withBitrate: boolean): H264Settings {
  return {
    CodecProfile: rung.profile === 'MAIN' ? 'MAIN' : 'HIGH',
    // Per-title renditions vary in size: MediaConvert picks each one's level.
    CodecLevel: perTitle ? 'AUTO' : (rung.level as H264Settings['CodecLevel']),
    // Automated ABR picks bitrate and quality per rendition; it requires MULTI_PASS_HQ + QVBR
    // (MediaConvert user guide, "Job settings limitations for automated ABR").
    ...(withBitrate ? { MaxBitrate: rung.maxBitrate, QvbrSettings: { QvbrQualityLevel: rung.qvbrQualityLevel } } : {}),
    ...encodingSettings(perTitle, rung),
  };
}

function h265Settings(rung: VideoRung): H265Settings {
  return {
    // Main tier, Main (8-bit SDR) or Main10 (the HDR rungs, ADR 0015); within Apple's Main10 / High tier (§1.6).
    CodecProfile: rung.profile === 'MAIN10' ? 'MAIN10_MAIN' : 'MAIN_MAIN',
    CodecLevel: rung.level as H265Settings['CodecLevel'],
    MaxBitrate: rung.maxBitrate,
    QvbrSettings: { QvbrQualityLevel: rung.qvbrQualityLevel },
    // hvc1: parameter sets in the sample entry, the HEVC sample entry Apple devices play in fMP4
    // (MediaConvert's default is hev1).
    WriteMp4PackagingType: 'HVC1',
    ...encodingSettings(false, rung),
  };
}

/**
 * The deinterlacer for interlaced sources (ADR 0028): DEINTERLACE (the source is known to be
 * interlaced; inverse telecine would change the rate the plan fixed), motion-adaptive INTERPOLATE,
 * NORMAL control so frames tagged progressive inside the stream are left alone.
 *
 * Colour (ADR 0015): an SDR output of an HDR source (SDR rungs, frame captures) is converted to
 * BT.709 with MediaConvert's HDR-to-SDR tone mapper; PRESERVE_DETAILS keeps highlight detail
 * rather than VIBRANT's saturation, the safer default for content we have not seen. HDR rungs get no
 * conversion: the source's colour description and its HDR10 static metadata pass through
 * (ColorMetadata INSERT), which FORCE_HDR10 would replace with values we would have to invent.
 */
function preprocessors(plan: LadderPlan, outputRange: DynamicRange = 'SDR'): { VideoPreprocessors?: VideoPreprocessor } {
  const toneMapped = (plan.dynamicRange ?? 'SDR') !== 'SDR' && outputRange === 'SDR';
  const preprocessor: VideoPreprocessor = {
    ...(plan.deinterlace ? { Deinterlacer: { Mode: 'DEINTERLACE', Algorithm: 'INTERPOLATE', Control: 'NORMAL' } } : {}),
    ...(toneMapped ? { ColorCorrector: { ColorSpaceConversion: 'FORCE_709', HdrToSdrToneMapper: 'PRESERVE_DETAILS' } } : {}),
  };
  return Object.keys(preprocessor).length > 0 ? { VideoPreprocessors: preprocessor } : {};
}

/**
 * STRETCH_TO_OUTPUT maps the whole source picture onto the whole output raster. The rung's size
 * already has the source's display shape (coded size × pixel aspect ratio, ADR 0026), so this is
 * exact; DEFAULT would pad the sub-pixel rounding difference with a black line, and how it reads a
 * non-square source is not documented. Automated ABR accepts it too (FIT_NO_UPSCALE it does not).
 */
const SCALING_BEHAVIOR = 'STRETCH_TO_OUTPUT' as const;

function videoDescription(plan: LadderPlan, perTitle: boolean, rung: VideoRung): VideoDescription {
  return {
    // Omitted in per-title mode: Automated ABR chooses each rendition's size among the allowed ones.
    ...(perTitle ? {} : { Width: rung.width, Height: rung.height }),
    ScalingBehavior: SCALING_BEHAVIOR,
    Sharpness: 50,
    ColorMetadata: 'INSERT',
    ...preprocessors(plan, rung.dynamicRange),
    CodecSettings:
      rung.codec === 'H_265'
        ? { Codec: 'H_265', H265Settings: h265Settings(rung) }
        : { Codec: 'H_264', H264Settings: h264Settings(perTitle, rung, !perTitle) },
  };
}

/**
 * Video outputs name the audio groups they play with when there is more than one, so MediaConvert
 * writes every variant once per group (AAC for everyone, E-AC-3 for players that decode it).
 */
function videoContainer(plan: LadderPlan): Output['ContainerSettings'] {
  return plan.audio.some((rung) => rung.codec === 'EAC3')
    ? { Container: 'CMFC', CmfcSettings: { AudioRenditionSets: `${AUDIO_GROUP_ID},${SURROUND_AUDIO_GROUP_ID}` } }
    : { Container: 'CMFC' };
}

function videoOutput(plan: LadderPlan, rung: VideoRung): Output {
  return {
    NameModifier: nameModifierFor(rung),
    ContainerSettings: videoContainer(plan),
    VideoDescription: videoDescription(plan, false, rung),
  };
}

/** English name of a language for HLS NAME / DASH Label (StreamName allows letters, digits, spaces). */
export function languageDisplayName(language: string): string {
  if (language === UNDETERMINED_LANGUAGE) return 'Undetermined';
  let name: string | undefined;
  try {
    name = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'none' }).of(language);
  } catch {
    name = undefined; // a syntactically valid code Intl does not accept
  }
  return (name ?? language).replace(/[^\w\s]/g, ' ').replace(/\s+/g, ' ').trim() || language;
}

/** ITU-R BS.775 Lo/Ro downmix of a 5.1 track into a stereo rung (ADR 0017). */
function downmix(rung: AudioRung): Pick<AudioDescription, 'RemixSettings'> {
  if (rung.channels !== 2 || rung.sourceChannels !== 6) return {};
  return {
    RemixSettings: {
      ChannelsIn: 6,
      ChannelsOut: 2,
      ChannelMapping: { OutputChannels: DOWNMIX_5_1_TO_STEREO_DB.map((row) => ({ InputChannels: [...row] })) },
    },
  };
}

function audioCodecSettings(rung: AudioRung): AudioDescription['CodecSettings'] {
  if (rung.codec === 'EAC3') {
    return {
      Codec: 'EAC3',
      Eac3Settings: { Bitrate: rung.bitrate, CodingMode: 'CODING_MODE_3_2', SampleRate: rung.sampleRate, LfeControl: 'LFE', BitstreamMode: 'COMPLETE_MAIN' },
    };
  }
  return {
    Codec: 'AAC',
    AacSettings: {
      CodecProfile: 'LC',
      CodingMode: rung.channels === 1 ? 'CODING_MODE_1_0' : 'CODING_MODE_2_0',
      Bitrate: rung.bitrate,
      SampleRate: rung.sampleRate,
      RateControlMode: 'CBR',
      Specification: 'MPEG4',
    },
  };
}

function audioOutput(rung: AudioRung, index: number): Output {
  const language = rung.language ?? UNDETERMINED_LANGUAGE;
  const isDefault = rung.isDefault ?? index === 0;
  return {
    NameModifier: nameModifierFor(rung),
    ContainerSettings: {
      Container: 'CMFC',
      CmfcSettings: {
        AudioGroupId: rung.codec === 'EAC3' ? SURROUND_AUDIO_GROUP_ID : AUDIO_GROUP_ID,
        AudioTrackType: isDefault ? 'ALTERNATE_AUDIO_AUTO_SELECT_DEFAULT' : 'ALTERNATE_AUDIO_AUTO_SELECT',
      },
    },
    AudioDescriptions: [
      {
        AudioSourceName: audioSelectorName(rung.sourceTrack ?? 1),
        // HLS LANGUAGE / DASH lang: the language the planner found (the file's), never a guess by MediaConvert.
        LanguageCodeControl: 'USE_CONFIGURED',
        CustomLanguageCode: language,
        // HLS NAME / DASH Label.
        StreamName: `${languageDisplayName(language)}${rung.codec === 'EAC3' ? ' surround' : ''}`,
        ...downmix(rung),
        CodecSettings: audioCodecSettings(rung),
      },
    ],
  };
}

/**
 * One CMAF output per text rendition, WebVTT (the format HLS requires for subtitles, RFC 8216
 * §3.5, and that dash.js and Shaka play in DASH). Accessibility ENABLED makes MediaConvert write
 * `CHARACTERISTICS="public.accessibility.transcribes-spoken-dialog,public.accessibility.describes-music-and-sound"`
 * and AUTOSELECT for captions, as Apple's HLS authoring spec asks of SDH/CC renditions (ADR 0018).
 */
function captionOutput(rendition: SubtitleRendition, index: number): Output {
  return {
    NameModifier: nameModifierFor(rendition),
    CaptionDescriptions: [
      {
        CaptionSelectorName: captionSelectorName(index + 1),
        // The model's pattern here takes letters-only subtags: `es-419` is written as `es`.
        CustomLanguageCode: /^[A-Za-z]{2,3}(-[A-Za-z-]+)?$/.test(rendition.language) ? rendition.language : rendition.language.split('-')[0],
        LanguageDescription: `${languageDisplayName(rendition.language)}${rendition.kind === 'captions' ? ' CC' : ''}`,
        DestinationSettings: {
          DestinationType: 'WEBVTT',
          WebvttDestinationSettings: {
            Accessibility: rendition.kind === 'captions' ? 'ENABLED' : 'DISABLED',
            StylePassthrough: 'DISABLED',
          },
        },
      },
    ],
  };
}

const SIDECAR_SOURCE_TYPES = { vtt: 'WEBVTT', srt: 'SRT', scc: 'SCC' } as const;

function captionSelector(rendition: SubtitleRendition): CaptionSelector {
  // The selector's CustomLanguageCode only takes three letters; the output carries the language anyway.
  const language = /^[a-z]{3}$/.test(rendition.language) && rendition.language !== UNDETERMINED_LANGUAGE ? { CustomLanguageCode: rendition.language } : {};
  if (rendition.source.type === 'embedded') {
    return {
      ...language,
      SourceSettings: {
        SourceType: 'EMBEDDED',
        EmbeddedSourceSettings: { Source608ChannelNumber: rendition.source.channel, Convert608To708: 'DISABLED', TerminateCaptions: 'END_OF_INPUT' },
      },
    };
  }
  return {
    ...language,
    SourceSettings: { SourceType: SIDECAR_SOURCE_TYPES[rendition.source.format], FileSourceSettings: { SourceFile: rendition.source.uri } },
  };
}

/**
 * Per-title renditions: the plan's H.264 rungs. Automated ABR derives every rendition from one base
 * output in one codec at one frame rate, so the HEVC rungs above 1080p and the half-rate small rungs
 * are fixed-ladder features (ADR 0027).
 */
function perTitleRungs(plan: LadderPlan): readonly VideoRung[] {
  const h264 = plan.video.filter((rung) => rung.codec === 'H_264');
  if (h264.length === 0) throw new InvalidJobContextError('per-title encoding needs at least one H.264 rung');
  return h264;
}

/** Automated ABR bounded by the plan: its sizes only, its bitrate range, its rung count. */
function automatedAbr(plan: LadderPlan): AutomatedEncodingSettings {
  const clampBitrate = (bitrate: number) => Math.min(100_000_000, Math.max(100_000, bitrate));
  const rungs = perTitleRungs(plan);
  const top = rungs[0]!;
  const bottom = rungs[rungs.length - 1]!;
  return {
    AbrSettings: {
      // The model allows 3..15; fewer planned sizes still work because ALLOWED_RENDITIONS bounds them.
      MaxRenditions: Math.min(15, Math.max(3, rungs.length)),
      MaxAbrBitrate: clampBitrate(top.maxBitrate),
      MinAbrBitrate: clampBitrate(bottom.maxBitrate),
      MaxQualityLevel: top.qvbrQualityLevel,
      Rules: [
        {
          // Only the planned sizes: keeps "never upscale" and the source's aspect ratio. The top
          // size is Required so the best picture is always offered.
          Type: 'ALLOWED_RENDITIONS',
          AllowedRenditions: rungs.map((rung, index) => ({
            Width: rung.width,
            Height: rung.height,
            Required: index === 0 ? 'ENABLED' : 'DISABLED',
          })),
        },
      ],
    },
  };
}

/** GOP in frames at the ladder's full rate. */
function gopFramesAt(plan: LadderPlan): number {
  return Math.max(1, Math.round((plan.gopSeconds * plan.frameRate.numerator) / plan.frameRate.denominator));
}

function cmafOutputGroup(plan: LadderPlan, ctx: JobContext): OutputGroup {
  const videoOutputs: Output[] = ctx.perTitle
    ? [
        {
          NameModifier: PER_TITLE_VIDEO_NAME_MODIFIER,
          ContainerSettings: videoContainer(plan),
          // The top H.264 rung's codec settings at the ladder's full rate: the base of every rendition.
          VideoDescription: videoDescription(plan, true, { ...perTitleRungs(plan)[0]!, frameRate: plan.frameRate, gopFrames: gopFramesAt(plan) }),
        },
      ]
    : plan.video.map((rung) => videoOutput(plan, rung));
  return {
    Name: 'CMAF',
    ...(ctx.perTitle ? { AutomatedEncodingSettings: automatedAbr(plan) } : {}),
    OutputGroupSettings: {
      Type: 'CMAF_GROUP_SETTINGS',
      CmafGroupSettings: {
        Destination: `${ctx.outputS3Prefix}${MANIFEST_BASE_NAME}`,
        WriteHlsManifest: 'ENABLED',
        WriteDashManifest: 'ENABLED',
        SegmentControl: 'SEGMENTED_FILES',
        SegmentLength: plan.segmentSeconds,
        // Segments end on a GOP boundary: with GOP = round(2 s x fps) frames, 29.97 fps gets
        // 6.006 s segments instead of a split GOP.
        SegmentLengthControl: 'GOP_MULTIPLE',
        FragmentLength: plan.gopSeconds,
        ManifestDurationFormat: 'FLOATING_POINT',
        TargetDurationCompatibilityMode: 'SPEC_COMPLIANT',
        StreamInfResolution: 'INCLUDE',
        CodecSpecification: 'RFC_6381',
        MpdProfile: 'MAIN_PROFILE',
        WriteSegmentTimelineInRepresentation: 'ENABLED',
        ClientCache: 'ENABLED',
        ManifestCompression: 'NONE',
      },
    },
    Outputs: [...videoOutputs, ...plan.audio.map(audioOutput), ...(plan.subtitles ?? []).map(captionOutput)],
  };
}

/** Scales the top rung down to `shortSide` (or keeps it if smaller), even dimensions, min 32. */
function captureSize(top: VideoRung, shortSide: number): { Width: number; Height: number } {
  const scale = Math.min(1, shortSide / Math.min(top.width, top.height));
  const even = (value: number) => Math.max(32, Math.round((value * scale) / 2) * 2);
  return { Width: even(top.width), Height: even(top.height) };
}

function frameCaptureOutput(
  plan: LadderPlan,
  nameModifier: string,
  size: { Width: number; Height: number },
  everySeconds: number,
  maxCaptures: number,
): Output {
  return {
    NameModifier: nameModifier,
    Extension: 'jpg',
    ContainerSettings: { Container: 'RAW' },
    VideoDescription: {
      ...size,
      ScalingBehavior: SCALING_BEHAVIOR,
      ...preprocessors(plan),
      CodecSettings: {
        Codec: 'FRAME_CAPTURE',
        FrameCaptureSettings: {
          FramerateNumerator: 1,
          FramerateDenominator: everySeconds,
          MaxCaptures: maxCaptures,
          Quality: 80,
        },
      },
    },
  };
}

function frameCaptureGroup(plan: LadderPlan, ctx: JobContext): OutputGroup {
  const top = plan.video[0]!;
  return {
    Name: 'Thumbnails',
    OutputGroupSettings: {
      Type: 'FILE_GROUP_SETTINGS',
      FileGroupSettings: { Destination: `${ctx.outputS3Prefix}${THUMBNAILS_FOLDER}${FRAME_CAPTURE_BASE_NAME}` },
    },
    Outputs: [
      // First output = poster (the twin's stand-in reads the first FRAME_CAPTURE output as poster).
      frameCaptureOutput(plan, POSTER_NAME_MODIFIER, captureSize(top, 720), 1, 1),
      frameCaptureOutput(plan, PREVIEW_NAME_MODIFIER, captureSize(top, 180), PREVIEW_INTERVAL_SECONDS, PREVIEW_MAX_CAPTURES),
    ],
  };
}

/**
 * One selector per source track the audio rungs use. Track 1 keeps MediaConvert's default pick
 * (DEFAULT), the others select their track by number.
 */
function audioSelectorsFor(plan: LadderPlan): Record<string, AudioSelector> | undefined {
  const tracks = [...new Set(plan.audio.map((rung) => rung.sourceTrack ?? 1))].sort((a, b) => a - b);
  if (tracks.length === 0) return undefined;
  return Object.fromEntries(
    tracks.map((track) => [
      audioSelectorName(track),
      track === 1 ? { DefaultSelection: 'DEFAULT' } : { DefaultSelection: 'NOT_DEFAULT', SelectorType: 'TRACK', Tracks: [track] },
    ]),
  );
}

/**
 * The CreateJob request for `plan`. Throws InvalidJobContextError for malformed S3 locations or an
 * empty idempotency token; the plan is trusted (it comes from planLadder).
 */
export function buildCreateJobRequest(plan: LadderPlan, ctx: JobContext): CreateJobCommandInput {
  validateContext(ctx);
  if (plan.video.length === 0) throw new InvalidJobContextError('the plan has no video rung');
  const audioSelectors = audioSelectorsFor(plan);
  const captionSelectors: Record<string, CaptionSelector> | undefined = plan.subtitles?.length
    ? Object.fromEntries(plan.subtitles.map((rendition, index) => [captionSelectorName(index + 1), captionSelector(rendition)]))
    : undefined;
  return {
    Role: ctx.roleArn,
    ...(ctx.queueArn ? { Queue: ctx.queueArn } : {}),
    ClientRequestToken: ctx.clientRequestToken,
    StatusUpdateInterval: 'SECONDS_10',
    UserMetadata: { stack: ctx.stackName, assetId: ctx.assetId, revision: ctx.revision },
    Settings: {
      TimecodeConfig: { Source: 'ZEROBASED' },
      Inputs: [
        {
          FileInput: ctx.inputS3Uri,
          TimecodeSource: 'ZEROBASED',
          // AUTO applies the container's rotation metadata; the plan's sizes are display sizes.
          VideoSelector: { Rotate: 'AUTO' },
          ...(audioSelectors ? { AudioSelectors: audioSelectors } : {}),
          ...(captionSelectors ? { CaptionSelectors: captionSelectors } : {}),
        },
      ],
      OutputGroups: [cmafOutputGroup(plan, ctx), frameCaptureGroup(plan, ctx)],
    },
  };
}
