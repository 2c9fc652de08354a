/**
 * Builds the MediaConvert CreateJob request for a planned ladder (docs/ladder.md "The MediaConvert job"): one CMAF output
 * group writing HLS (`main.m3u8`) and DASH (`main.mpd`) over one set of fMP4 segments, plus a
 * frame-capture group for the poster and preview thumbnails. Pure: the SDK is imported for types
 * only; the submit-job handler sends the result with `CreateJobCommand`.
 *
 * Every request is checked against the MediaConvert API model by test/contract/.
 */
import type {
  AudioSelector,
  AutomatedEncodingSettings,
  CreateJobCommandInput,
  H264Settings,
  Output,
  OutputGroup,
  VideoDescription,
} from '@aws-sdk/client-mediaconvert';
import type { AudioRung, LadderPlan, VideoRung } from './media-types';

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

/** The only audio selector: MediaConvert's default track pick (first audio track). */
export const AUDIO_SELECTOR_NAME = 'Audio Selector 1';
/** HLS GROUP-ID of the audio renditions (CMAF writes audio as alternate renditions). */
export const AUDIO_GROUP_ID = 'audio';
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

function h264Settings(plan: LadderPlan, perTitle: boolean, rung?: VideoRung): H264Settings {
  return {
    CodecProfile: rung?.profile ?? 'HIGH',
    CodecLevel: (rung?.level ?? 'AUTO') as H264Settings['CodecLevel'],
    RateControlMode: 'QVBR',
    // Automated ABR picks bitrate and quality per rendition; it requires MULTI_PASS_HQ + QVBR
    // (MediaConvert user guide, "Job settings limitations for automated ABR").
    ...(rung ? { MaxBitrate: rung.maxBitrate, QvbrSettings: { QvbrQualityLevel: rung.qvbrQualityLevel } } : {}),
    QualityTuningLevel: perTitle ? 'MULTI_PASS_HQ' : 'SINGLE_PASS_HQ',
    FramerateControl: 'SPECIFIED',
    FramerateNumerator: plan.frameRate.numerator,
    FramerateDenominator: plan.frameRate.denominator,
    FramerateConversionAlgorithm: 'DUPLICATE_DROP',
    // Fixed GOP in frames, closed every GOP: every rung has IDR frames at the same instants, so
    // CMAF fragments (one GOP) and segments (whole GOPs) line up across rungs (Apple HLS authoring
    // spec §1.9; DASH-IF IOP segment alignment).
    GopSize: plan.gopFrames,
    GopSizeUnits: 'FRAMES',
    GopClosedCadence: 1,
    // Scene-change I-frames are added inside the GOP cadence, not instead of it.
    SceneChangeDetect: 'TRANSITION_DETECTION',
    InterlaceMode: 'PROGRESSIVE',
    ParControl: 'SPECIFIED',
    ParNumerator: 1,
    ParDenominator: 1,
    AdaptiveQuantization: 'AUTO',
  };
}

function videoDescription(plan: LadderPlan, perTitle: boolean, rung?: VideoRung): VideoDescription {
  return {
    // Omitted in per-title mode: Automated ABR chooses each rendition's size.
    ...(rung ? { Width: rung.width, Height: rung.height } : {}),
    // The plan's sizes already keep the display aspect ratio; DEFAULT is also one of the scaling
    // behaviours Automated ABR accepts (FIT_NO_UPSCALE is not).
    ScalingBehavior: 'DEFAULT',
    Sharpness: 50,
    ColorMetadata: 'INSERT',
    CodecSettings: { Codec: 'H_264', H264Settings: h264Settings(plan, perTitle, rung) },
  };
}

function videoOutput(plan: LadderPlan, rung: VideoRung): Output {
  return {
    NameModifier: nameModifierFor(rung),
    ContainerSettings: { Container: 'CMFC' },
    VideoDescription: videoDescription(plan, false, rung),
  };
}

function audioOutput(rung: AudioRung, index: number): Output {
  return {
    NameModifier: nameModifierFor(rung),
    ContainerSettings: {
      Container: 'CMFC',
      CmfcSettings: {
        AudioGroupId: AUDIO_GROUP_ID,
        AudioTrackType: index === 0 ? 'ALTERNATE_AUDIO_AUTO_SELECT_DEFAULT' : 'ALTERNATE_AUDIO_AUTO_SELECT',
      },
    },
    AudioDescriptions: [
      {
        AudioSourceName: AUDIO_SELECTOR_NAME,
        CodecSettings: {
          Codec: 'AAC',
          AacSettings: {
            CodecProfile: 'LC',
            CodingMode: rung.channels === 1 ? 'CODING_MODE_1_0' : 'CODING_MODE_2_0',
            Bitrate: rung.bitrate,
            SampleRate: rung.sampleRate,
            RateControlMode: 'CBR',
            Specification: 'MPEG4',
          },
        },
      },
    ],
  };
}

/** Automated ABR bounded by the plan: its sizes only, its bitrate range, its rung count. */
function automatedAbr(plan: LadderPlan): AutomatedEncodingSettings {
  const clampBitrate = (bitrate: number) => Math.min(100_000_000, Math.max(100_000, bitrate));
  const top = plan.video[0]!;
  const bottom = plan.video[plan.video.length - 1]!;
  return {
    AbrSettings: {
      // The model allows 3..15; fewer planned sizes still work because ALLOWED_RENDITIONS bounds them.
      MaxRenditions: Math.min(15, Math.max(3, plan.video.length)),
      MaxAbrBitrate: clampBitrate(top.maxBitrate),
      MinAbrBitrate: clampBitrate(bottom.maxBitrate),
      MaxQualityLevel: top.qvbrQualityLevel,
      Rules: [
        {
          // Only the planned sizes: keeps "never upscale" and the source's aspect ratio. The top
          // size is Required so the best picture is always offered.
          Type: 'ALLOWED_RENDITIONS',
          AllowedRenditions: plan.video.map((rung, index) => ({
            Width: rung.width,
            Height: rung.height,
            Required: index === 0 ? 'ENABLED' : 'DISABLED',
          })),
        },
      ],
    },
  };
}

function cmafOutputGroup(plan: LadderPlan, ctx: JobContext): OutputGroup {
  const videoOutputs: Output[] = ctx.perTitle
    ? [
        {
          NameModifier: PER_TITLE_VIDEO_NAME_MODIFIER,
          ContainerSettings: { Container: 'CMFC' },
          VideoDescription: videoDescription(plan, true),
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
    Outputs: [...videoOutputs, ...plan.audio.map(audioOutput)],
  };
}

/** Scales the top rung down to `shortSide` (or keeps it if smaller), even dimensions, min 32. */
function captureSize(top: VideoRung, shortSide: number): { Width: number; Height: number } {
  const scale = Math.min(1, shortSide / Math.min(top.width, top.height));
  const even = (value: number) => Math.max(32, Math.round((value * scale) / 2) * 2);
  return { Width: even(top.width), Height: even(top.height) };
}

function frameCaptureOutput(nameModifier: string, size: { Width: number; Height: number }, everySeconds: number, maxCaptures: number): Output {
  return {
    NameModifier: nameModifier,
    Extension: 'jpg',
    ContainerSettings: { Container: 'RAW' },
    VideoDescription: {
      ...size,
      ScalingBehavior: 'DEFAULT',
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
      frameCaptureOutput(POSTER_NAME_MODIFIER, captureSize(top, 720), 1, 1),
      frameCaptureOutput(PREVIEW_NAME_MODIFIER, captureSize(top, 180), PREVIEW_INTERVAL_SECONDS, PREVIEW_MAX_CAPTURES),
    ],
  };
}

/**
 * The CreateJob request for `plan`. Throws InvalidJobContextError for malformed S3 locations or an
 * empty idempotency token; the plan is trusted (it comes from planLadder).
 */
export function buildCreateJobRequest(plan: LadderPlan, ctx: JobContext): CreateJobCommandInput {
  validateContext(ctx);
  if (plan.video.length === 0) throw new InvalidJobContextError('the plan has no video rung');
  const audioSelectors: Record<string, AudioSelector> | undefined =
    plan.audio.length > 0 ? { [AUDIO_SELECTOR_NAME]: { DefaultSelection: 'DEFAULT' } } : undefined;
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
        },
      ],
      OutputGroups: [cmafOutputGroup(plan, ctx), frameCaptureGroup(plan, ctx)],
    },
  };
}
