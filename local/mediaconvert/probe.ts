/**
 * MediaConvert `Probe` answered with ffprobe: the same facts (container, duration, tracks with
 * codec, size, frame rate, channels) in the API's ProbeResult shape, so the submit-job handler's
 * source-aware planning runs unchanged against the twin.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Codec, Format, ProbeResult, Track } from '@aws-sdk/client-mediaconvert';

const execFileAsync = promisify(execFile);

interface FfprobeStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  profile?: string;
  level?: number;
  width?: number;
  height?: number;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  bit_rate?: string;
  bits_per_raw_sample?: string;
  sample_rate?: string;
  channels?: number;
  duration?: string;
  pix_fmt?: string;
  tags?: Record<string, string>;
}

interface FfprobeOutput {
  streams?: FfprobeStream[];
  format?: { format_name?: string; duration?: string; tags?: Record<string, string> };
}

const CODECS: Record<string, Codec> = {
  h264: 'AVC', hevc: 'HEVC', av1: 'AV1', vp8: 'VP8', vp9: 'VP9', prores: 'PRORES', mpeg2video: 'MPEG2',
  mpeg1video: 'MPEG1', mpeg4: 'MP4V', mjpeg: 'MJPEG', jpeg2000: 'JPEG2000', theora: 'THEORA', qtrle: 'QTRLE',
  rawvideo: 'UNCOMPRESSED', aac: 'AAC', ac3: 'AC3', eac3: 'EAC3', flac: 'FLAC', mp3: 'MP3', opus: 'OPUS',
  vorbis: 'VORBIS', pcm_s16le: 'PCM', pcm_s24le: 'PCM', pcm_s16be: 'PCM', pcm_s24be: 'PCM',
  webvtt: 'WEBVTT', eia_608: 'C608',
};

function containerFormat(probe: FfprobeOutput): Format | undefined {
  const name = probe.format?.format_name ?? '';
  if (name.startsWith('mov,mp4')) {
    return probe.format?.tags?.major_brand?.trim() === 'qt' ? 'quicktime' : 'mp4';
  }
  if (name.includes('matroska')) return name.includes('webm') && !name.startsWith('matroska') ? 'webm' : 'matroska';
  const direct: Record<string, Format> = { mxf: 'mxf', wav: 'wave', avi: 'avi', mpegts: 'mpegts' };
  return direct[name];
}

function rational(text: string | undefined): { Numerator: number; Denominator: number } | undefined {
  const match = /^(\d+)\/(\d+)$/.exec(text ?? '');
  if (!match || match[2] === '0') return undefined;
  return { Numerator: Number(match[1]), Denominator: Number(match[2]) };
}

const toNumber = (text: string | undefined): number | undefined =>
  text === undefined || Number.isNaN(Number(text)) ? undefined : Number(text);

/** ffprobe's JSON → ProbeResult (SDK member names; the server converts to wire names). */
export function probeResultFromFfprobe(
  probe: FfprobeOutput,
  metadata: { eTag?: string; fileSize?: number; lastModified?: Date; mimeType?: string },
): ProbeResult {
  const tracks: Track[] = [];
  const mapping = { VideoTrackIndexes: [] as number[], AudioTrackIndexes: [] as number[], DataTrackIndexes: [] as number[] };
  for (const stream of probe.streams ?? []) {
    // MediaConvert numbers tracks from 1 (as input selectors do); ffprobe from 0.
    const Index = stream.index + 1;
    const Codec = CODECS[stream.codec_name ?? ''] ?? 'UNKNOWN';
    const Duration = toNumber(stream.duration);
    if (stream.codec_type === 'video') {
      mapping.VideoTrackIndexes.push(Index);
      tracks.push({
        Index,
        TrackType: 'video',
        Codec,
        Duration,
        VideoProperties: {
          Width: stream.width,
          Height: stream.height,
          BitRate: toNumber(stream.bit_rate),
          BitDepth: toNumber(stream.bits_per_raw_sample) ?? (stream.pix_fmt?.includes('10') ? 10 : 8),
          FrameRate: rational(stream.avg_frame_rate) ?? rational(stream.r_frame_rate),
        },
      });
    } else if (stream.codec_type === 'audio') {
      mapping.AudioTrackIndexes.push(Index);
      tracks.push({
        Index,
        TrackType: 'audio',
        Codec,
        Duration,
        AudioProperties: {
          Channels: stream.channels,
          SampleRate: toNumber(stream.sample_rate),
          BitRate: toNumber(stream.bit_rate),
          LanguageCode: stream.tags?.language,
        },
      });
    } else if (stream.codec_type === 'data' || stream.codec_type === 'subtitle') {
      mapping.DataTrackIndexes.push(Index);
      tracks.push({ Index, TrackType: 'data', Codec, Duration, DataProperties: { LanguageCode: stream.tags?.language } });
    }
  }
  return {
    Container: { Format: containerFormat(probe), Duration: toNumber(probe.format?.duration), Tracks: tracks },
    Metadata: {
      ETag: metadata.eTag,
      FileSize: metadata.fileSize,
      LastModified: metadata.lastModified,
      MimeType: metadata.mimeType,
    },
    TrackMappings: [mapping],
  };
}

export class ProbeFailedError extends Error {
  override readonly name = 'ProbeFailedError';
}

export async function runFfprobe(ffprobePath: string, filePath: string): Promise<FfprobeOutput> {
  try {
    const { stdout } = await execFileAsync(ffprobePath, [
      '-v', 'error', '-show_format', '-show_streams', '-of', 'json', filePath,
    ]);
    return JSON.parse(stdout) as FfprobeOutput;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new ProbeFailedError(stderr || (error as Error).message);
  }
}
