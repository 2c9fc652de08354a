/**
 * MediaConvert `Probe` result -> SourceInfo, the facts ladder planning needs (docs/architecture.md#ingest-and-encode
 * step 3; docs/ladder.md). Shapes: `ProbeResult` in the MediaConvert API model (test/fixtures/models) and
 * `@aws-sdk/client-mediaconvert`: Container {Duration (s), Format, Tracks[]}, Track {Index (from 1),
 * TrackType video|audio|data, Codec, Duration (s), VideoProperties, AudioProperties},
 * TrackMappings[] {VideoTrackIndexes, AudioTrackIndexes}. VideoProperties carries what the container
 * declares (Rotation, SampleAspectRatio, DisplayAspectRatio), its CodecMetadata what the video
 * essence declares (the same aspect ratios, ScanType, FieldOrder).
 */
import type { AspectRatio, CodecMetadata, ProbeResult, Track, VideoProperties } from '@aws-sdk/client-mediaconvert';
import type { DynamicRange, Ratio, SourceAudioTrack, SourceInfo } from './media-types';
import { normaliseLanguage } from './renditions';

/**
 * The file is not a video MediaConvert can read (no container, no video track, no picture size…).
 * `reason` is a sentence for the content team; it goes to the catalog and the `Asset Failed` event.
 */
export class UnreadableSourceError extends Error {
  override readonly name = 'UnreadableSourceError';
  constructor(readonly reason: string) {
    super(`unreadable source: ${reason}`);
  }
}

const ROTATIONS = [0, 90, 180, 270] as const;

/** Tracks of one kind in the order TrackMappings lists them (the order MediaConvert selects), else file order. */
function tracksOfType(result: ProbeResult, type: 'video' | 'audio'): Track[] {
  const tracks = (result.Container?.Tracks ?? []).filter((track) => track.TrackType === type);
  const mapped = result.TrackMappings?.[0]?.[type === 'video' ? 'VideoTrackIndexes' : 'AudioTrackIndexes'] ?? [];
  const rank = (track: Track) => {
    const at = mapped.indexOf(track.Index ?? -1);
    return at === -1 ? Number.MAX_SAFE_INTEGER : at;
  };
  return [...tracks].sort((a, b) => rank(a) - rank(b));
}

function positive(value: number | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

function ratio(value: AspectRatio | undefined): Ratio | undefined {
  const { Numerator: numerator, Denominator: denominator } = value ?? {};
  if (!positive(numerator) || !positive(denominator) || !Number.isInteger(numerator) || !Number.isInteger(denominator)) {
    return undefined; // 0:1, 0:0 and missing all mean "not declared"
  }
  const divisor = gcd(numerator, denominator);
  return { numerator: numerator / divisor, denominator: denominator / divisor };
}

/**
 * The pixel aspect ratio one declaration implies: its SampleAspectRatio, else its DisplayAspectRatio
 * over the coded size (DAR 16:9 on 720x576 is SAR 64:45).
 */
function declaredSar(
  declaration: { SampleAspectRatio?: AspectRatio; DisplayAspectRatio?: AspectRatio } | undefined,
  width: number,
  height: number,
): Ratio | undefined {
  const sar = ratio(declaration?.SampleAspectRatio);
  if (sar) return sar;
  const dar = ratio(declaration?.DisplayAspectRatio);
  return dar ? ratio({ Numerator: dar.numerator * height, Denominator: dar.denominator * width }) : undefined;
}

/**
 * ADR 0026: the container's declaration wins over the essence's (as ffmpeg and QuickTime apply
 * them), and a file that declares nothing has square pixels — what every player shows for it.
 * 1:1 is returned as undefined: "square" has one spelling in SourceInfo.
 */
function sampleAspectRatio(properties: VideoProperties, width: number, height: number): Ratio | undefined {
  const sar = declaredSar(properties, width, height) ?? declaredSar(properties.CodecMetadata, width, height);
  return sar && sar.numerator !== sar.denominator ? sar : undefined;
}

/** Interlaced when the essence names a field order or an interlaced scan type (ADR 0028). */
function scanOf(codec: CodecMetadata | undefined): SourceInfo['scan'] {
  const fieldOrder = codec?.FieldOrder?.toLowerCase();
  const order = fieldOrder?.startsWith('top') ? 'top-first' : fieldOrder?.startsWith('bottom') ? 'bottom-first' : undefined;
  if (order) return { type: 'interlaced', fieldOrder: order };
  return /interlace/i.test(codec?.ScanType ?? '') ? { type: 'interlaced' } : undefined;
}

/**
 * One audio track: its 1-based number among the file's audio tracks in file order (what an audio
 * selector's `Tracks` counts), its declared language (AudioProperties.LanguageCode) and channel count.
 */
function audioTrackOf(track: Track, position: number): SourceAudioTrack {
  const channels = track.AudioProperties?.Channels;
  return {
    track: position + 1,
    language: normaliseLanguage(track.AudioProperties?.LanguageCode),
    ...(positive(channels) ? { channels } : {}),
  };
}

/**
 * The picture's dynamic range from the essence's colour description (ADR 0015): the transfer
 * characteristics decide — SMPTE_2084 is PQ (HDR10), ARIB_B67 is HLG (also the base layer of the
 * iPhone's Dolby Vision 8.4). Primaries and matrix do not: BT.2020 SDR exists, and an HDR master
 * with its primaries left unspecified is still HDR. Nothing declared is SDR, what players assume.
 *
 * @throws UnreadableSourceError for an IPT/ICtCp matrix (Dolby Vision profile 5 and similar):
 *   without Dolby's reshaping the decoded picture has wrong colours, so no ladder made of it is right.
 */
function dynamicRangeOf(codec: CodecMetadata | undefined): DynamicRange {
  if (codec?.MatrixCoefficients === 'IPT' || codec?.MatrixCoefficients === 'ITU_2100ICtCp') {
    throw new UnreadableSourceError(
      'the video is coded in IPT/ICtCp colour (e.g. Dolby Vision profile 5), which has no HDR10, HLG or SDR picture to encode from',
    );
  }
  if (codec?.TransferCharacteristics === 'SMPTE_2084') return 'PQ';
  if (codec?.TransferCharacteristics === 'ARIB_B67') return 'HLG';
  return 'SDR';
}

/**
 * SourceInfo for the first video track (and first audio track, if any) of a probed file.
 *
 * @throws UnreadableSourceError with a human-readable reason when the result has no container,
 *   no video track (audio-only files, documents), an unknown video codec, or no picture size,
 *   frame rate or duration. Limits (sizes, frame rates) are the ladder's to judge (planLadder).
 */
export function sourceInfoFromProbe(result: ProbeResult | undefined): SourceInfo {
  const container = result?.Container;
  if (!result || !container || (container.Format === undefined && (container.Tracks ?? []).length === 0)) {
    throw new UnreadableSourceError('MediaConvert does not recognise the file as a media container');
  }
  const video = tracksOfType(result, 'video')[0];
  if (!video) {
    const hasAudio = tracksOfType(result, 'audio').length > 0;
    throw new UnreadableSourceError(
      hasAudio ? 'the file has audio but no video track' : 'the file has no video track',
    );
  }
  if (video.Codec === 'UNKNOWN') {
    throw new UnreadableSourceError('the video track uses a codec MediaConvert cannot decode');
  }
  const properties = video.VideoProperties ?? {};
  const width = properties.Width ?? properties.CodecMetadata?.Width;
  const height = properties.Height ?? properties.CodecMetadata?.Height;
  if (!positive(width) || !positive(height)) {
    throw new UnreadableSourceError('the video track has no picture size');
  }
  const frameRate = properties.FrameRate ?? properties.CodecMetadata?.CodedFrameRate;
  if (!positive(frameRate?.Numerator) || !positive(frameRate?.Denominator)) {
    // A still picture (cover art, a JPEG renamed .mov) is a "video" track without a frame rate.
    throw new UnreadableSourceError('the video track has no frame rate (is it a still image?)');
  }
  const durationSeconds = positive(container.Duration) ? container.Duration : video.Duration;
  if (!positive(durationSeconds)) {
    throw new UnreadableSourceError('the file has no duration');
  }
  // Probe reports clockwise rotation from container metadata, null for none (SDK VideoProperties.Rotation).
  const rawRotation = properties.Rotation ?? 0;
  const rotation = ROTATIONS.find((angle) => angle === (((Math.round(rawRotation) % 360) + 360) % 360));
  if (rotation === undefined) {
    throw new UnreadableSourceError(`the video is rotated by ${rawRotation} degrees; only multiples of 90 are supported`);
  }

  const inFileOrder = (result.Container?.Tracks ?? []).filter((track) => track.TrackType === 'audio');
  const audioTracks = tracksOfType(result, 'audio').map((track) => audioTrackOf(track, inFileOrder.indexOf(track)));
  const audio = audioTracks[0];
  const audioChannels = audio?.channels;
  // Probe lists CEA-608/708 captions (a QuickTime c608 track, captions in the video essence) as a
  // `data` track with codec C608/C708 (ADR 0018).
  const embeddedCaptions = (result.Container?.Tracks ?? []).some(
    (track) => track.TrackType === 'data' && (track.Codec === 'C608' || track.Codec === 'C708'),
  );
  const sar = sampleAspectRatio(properties, width, height);
  const scan = scanOf(properties.CodecMetadata);
  const dynamicRange = dynamicRangeOf(properties.CodecMetadata);
  return {
    width,
    height,
    ...(sar ? { sampleAspectRatio: sar } : {}),
    rotation,
    ...(scan ? { scan } : {}),
    ...(dynamicRange !== 'SDR' ? { dynamicRange } : {}),
    frameRate: { numerator: frameRate.Numerator, denominator: frameRate.Denominator },
    durationMs: Math.round(durationSeconds * 1000),
    hasAudio: audio !== undefined,
    ...(positive(audioChannels) ? { audioChannels } : {}),
    ...(audioTracks.length > 0 ? { audioTracks } : {}),
    ...(embeddedCaptions ? { embeddedCaptions } : {}),
    ...(video.Codec ? { videoCodec: video.Codec } : {}),
    ...(container.Format ? { container: container.Format } : {}),
  };
}
