/**
 * MediaConvert `Probe` result -> SourceInfo, the facts ladder planning needs (docs/architecture.md#ingest-and-encode
 * step 3; docs/ladder.md). Shapes: `ProbeResult` in the MediaConvert API model (test/fixtures/models) and
 * `@aws-sdk/client-mediaconvert`: Container {Duration (s), Format, Tracks[]}, Track {Index (from 1),
 * TrackType video|audio|data, Codec, Duration (s), VideoProperties, AudioProperties},
 * TrackMappings[] {VideoTrackIndexes, AudioTrackIndexes}.
 */
import type { ProbeResult, Track } from '@aws-sdk/client-mediaconvert';
import type { SourceInfo } from './media-types';

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

  const audio = tracksOfType(result, 'audio')[0];
  const audioChannels = audio?.AudioProperties?.Channels;
  return {
    width,
    height,
    rotation,
    frameRate: { numerator: frameRate.Numerator, denominator: frameRate.Denominator },
    durationMs: Math.round(durationSeconds * 1000),
    hasAudio: audio !== undefined,
    ...(positive(audioChannels) ? { audioChannels } : {}),
    ...(video.Codec ? { videoCodec: video.Codec } : {}),
    ...(container.Format ? { container: container.Format } : {}),
  };
}
