/**
 * MediaConvert `Probe` answered with ffprobe: the same facts (container, duration, tracks with
 * codec, size, frame rate, channels) in the API's ProbeResult shape, so the submit-job handler's
 * source-aware planning runs unchanged against the twin.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Codec, CodecMetadata, Format, ProbeResult, Track } from '@aws-sdk/client-mediaconvert';

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
  sample_aspect_ratio?: string;
  display_aspect_ratio?: string;
  field_order?: string;
  color_primaries?: string;
  color_transfer?: string;
  color_space?: string;
  side_data_list?: { side_data_type?: string; rotation?: number }[];
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

/** ffprobe writes aspect ratios as `64:45` (`0:1` or `N/A` when undeclared). */
function aspectRatio(text: string | undefined): { Numerator: number; Denominator: number } | undefined {
  const match = /^(\d+):(\d+)$/.exec(text ?? '');
  if (!match || match[1] === '0' || match[2] === '0') return undefined;
  return { Numerator: Number(match[1]), Denominator: Number(match[2]) };
}

/**
 * ffprobe's field order is coded-then-displayed (`tt`, `bt`: top field shown first; `bb`, `tb`:
 * bottom first); Probe's CodecMetadata names the displayed order and is present only for interlaced video.
 */
function scanMetadata(fieldOrder: string | undefined): { ScanType?: string; FieldOrder?: string } {
  if (fieldOrder === 'tt' || fieldOrder === 'bt') return { ScanType: 'interlaced', FieldOrder: 'TopFieldFirst' };
  if (fieldOrder === 'bb' || fieldOrder === 'tb') return { ScanType: 'interlaced', FieldOrder: 'BottomFieldFirst' };
  return fieldOrder === 'progressive' ? { ScanType: 'progressive' } : {};
}

/**
 * Clockwise display rotation, as Probe reports it from the container. ffprobe's display matrix
 * gives the counter-clockwise angle (-90 for a phone held upright); older files carry a `rotate` tag.
 */
function clockwiseRotation(stream: FfprobeStream): number | undefined {
  const matrix = stream.side_data_list?.find((data) => data.side_data_type === 'Display Matrix')?.rotation;
  const degrees = matrix !== undefined ? -matrix : toNumber(stream.tags?.rotate);
  const normalised = degrees === undefined ? 0 : ((Math.round(degrees) % 360) + 360) % 360;
  return normalised === 0 ? undefined : normalised;
}

/**
 * ffprobe's colour names (libavutil's av_color_*_name) → the Probe API's CodecMetadata enums, for
 * the values that decide the dynamic range (core/probe.ts, ADR 0015). Others are left out, as
 * Probe leaves out what a file does not declare.
 */
const PRIMARIES: Record<string, CodecMetadata['ColorPrimaries']> = { bt709: 'ITU_709', bt2020: 'ITU_2020', smpte170m: 'SMPTE_170M', bt470bg: 'ITU_470BG' };
const TRANSFERS: Record<string, CodecMetadata['TransferCharacteristics']> = {
  bt709: 'ITU_709',
  smpte2084: 'SMPTE_2084',
  'arib-std-b67': 'ARIB_B67',
  'bt2020-10': 'ITU_2020_10bit',
  'bt2020-12': 'ITU_2020_12bit',
  smpte170m: 'SMPTE_170M',
};
const MATRICES: Record<string, CodecMetadata['MatrixCoefficients']> = {
  bt709: 'ITU_709',
  bt2020nc: 'ITU_2020_NCL',
  bt2020c: 'ITU_2020_CL',
  smpte170m: 'SMPTE_170M',
  ictcp: 'ITU_2100ICtCp',
};

function colourMetadata(stream: FfprobeStream): Pick<CodecMetadata, 'ColorPrimaries' | 'TransferCharacteristics' | 'MatrixCoefficients'> {
  const primaries = PRIMARIES[stream.color_primaries ?? ''];
  const transfer = TRANSFERS[stream.color_transfer ?? ''];
  const matrix = MATRICES[stream.color_space ?? ''];
  return {
    ...(primaries ? { ColorPrimaries: primaries } : {}),
    ...(transfer ? { TransferCharacteristics: transfer } : {}),
    ...(matrix ? { MatrixCoefficients: matrix } : {}),
  };
}

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
          // The average rate: for variable-rate video the planner picks the nearest standard rate.
          FrameRate: rational(stream.avg_frame_rate) ?? rational(stream.r_frame_rate),
          Rotation: clockwiseRotation(stream),
          // ffprobe reports the aspect ratio in effect (the container's, else the essence's): the twin
          // reports it where the container's goes, which is the one the planner prefers (ADR 0026).
          SampleAspectRatio: aspectRatio(stream.sample_aspect_ratio),
          DisplayAspectRatio: aspectRatio(stream.display_aspect_ratio),
          CodecMetadata: { Width: stream.width, Height: stream.height, ...scanMetadata(stream.field_order), ...colourMetadata(stream) },
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
