/**
 * The ffmpeg side of "one ladder spec, two encoders" (docs/ladder.md; ADR 0070): turns the same `LadderPlan`
 * MediaConvert receives into one ffmpeg invocation that writes CMAF — a DASH `main.mpd` and an HLS
 * `main.m3u8` over ONE set of fMP4 segments, via the `dash` muxer with `-hls_playlist 1`.
 */
import type { LadderPlan } from '../../core/media-types';

export const POSTER = 'poster.jpg';

/**
 * QVBR has no ffmpeg equivalent; capped CRF is the closest: x264 targets constant quality while the
 * VBV (`-maxrate`/`-bufsize`) enforces the rung's ceiling, which is what QVBR does with MaxBitrate.
 * Mapping QVBR 1..10 onto CRF 38..16 keeps the default ladder (QVBR 7..9) around CRF 18..23.
 */
export function crfForQvbrLevel(level: number): number {
  const clamped = Math.min(10, Math.max(1, level));
  return Math.round(38 - (clamped - 1) * (22 / 9));
}

/** Samples per AAC-LC frame: the encoder's unit of output, and of its priming (ISO/IEC 14496-3). */
export const AAC_FRAME_SAMPLES = 1024;

/**
 * How many source samples (at the rung's sample rate) to encode so the AAC stream ends strictly
 * before the video does.
 *
 * ffmpeg's AAC encoder emits one frame of priming (encoder delay) ahead of the audio, stamped
 * -1024/rate, and pads the last partial frame to a whole frame. The `dash` muxer measures segment
 * time from the first packet, priming included, so a 12 s master gave a 12.032 s audio stream whose
 * last frame fell past the 12 s boundary into a third, 0.021 s segment: hls.js then stalled at 11.96 s
 * waiting for audio that never ended the stream (issue 13). Encoding whole frames that end before the
 * video's last instant keeps the audio within one AAC frame (21 ms at 48 kHz) under the video and
 * its segments as many as the video's. Strictly before: a duration that is a whole number of frames
 * and of segments (48 s at 48 kHz) would otherwise still put the last frame on the boundary.
 */
export function audioSamplesWithinVideo(videoDurationSeconds: number, sampleRate: number): number {
  const videoSamples = Math.round(videoDurationSeconds * sampleRate);
  return Math.max(0, Math.ceil(videoSamples / AAC_FRAME_SAMPLES) - 1) * AAC_FRAME_SAMPLES;
}

function frameRateText(plan: LadderPlan): string {
  return `${plan.frameRate.numerator}/${plan.frameRate.denominator}`;
}

/**
 * ffmpeg arguments (without the binary) that encode `plan` from `inputPath` into `outDir`.
 *
 * GOPs are closed and fixed (`-g` = `-keyint_min` = gopFrames, no scene-cut keyframes, `+cgop`),
 * so every rung has IDR frames at the same instants and segments of `segmentSeconds` (a whole
 * number of GOPs) line up across rungs — the condition for switching rungs and CDNs mid-stream.
 *
 * With `videoDurationSeconds` (the source's video stream duration) every audio rung is cut to end
 * before the video ends ({@link audioSamplesWithinVideo}), so players reach the end of the stream.
 */
export function ffmpegArgsForPlan(
  plan: LadderPlan,
  inputPath: string,
  outDir: string,
  manifestBaseName = 'main',
  videoDurationSeconds?: number,
): string[] {
  const args = ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error', '-i', inputPath];

  plan.video.forEach((rung, index) => {
    args.push(
      '-map', '0:v:0',
      `-filter:v:${index}`, `scale=${rung.width}:${rung.height}:flags=bicubic,setsar=1`,
      `-c:v:${index}`, 'libx264',
      `-profile:v:${index}`, rung.profile === 'HIGH' ? 'high' : 'main',
      `-crf:v:${index}`, String(crfForQvbrLevel(rung.qvbrQualityLevel)),
      `-maxrate:v:${index}`, String(rung.maxBitrate),
      `-bufsize:v:${index}`, String(rung.maxBitrate * 2),
    );
  });
  plan.audio.forEach((rung, index) => {
    args.push('-map', '0:a:0');
    if (videoDurationSeconds !== undefined && videoDurationSeconds > 0) {
      // Resampled first, so the filter's time base is 1/rate and end_pts counts output samples.
      const samples = audioSamplesWithinVideo(videoDurationSeconds, rung.sampleRate);
      args.push(`-filter:a:${index}`, `aresample=${rung.sampleRate},atrim=end_pts=${samples}`);
    }
    args.push(
      `-c:a:${index}`, 'aac',
      `-b:a:${index}`, String(rung.bitrate),
      `-ac:a:${index}`, String(rung.channels),
      `-ar:a:${index}`, String(rung.sampleRate),
    );
  });

  const gop = String(plan.gopFrames);
  args.push(
    '-r', frameRateText(plan),
    '-pix_fmt', 'yuv420p',
    '-preset', 'veryfast',
    '-g', gop,
    '-keyint_min', gop,
    '-sc_threshold', '0',
    '-flags', '+cgop',
    '-force_key_frames', `expr:gte(t,n_forced*${plan.gopSeconds})`,
  );

  const adaptationSets = ['id=0,streams=v'];
  if (plan.audio.length > 0) adaptationSets.push('id=1,streams=a');
  args.push(
    '-f', 'dash',
    '-seg_duration', String(plan.segmentSeconds),
    '-use_template', '1',
    '-use_timeline', '0',
    '-adaptation_sets', adaptationSets.join(' '),
    '-init_seg_name', 'init-$RepresentationID$.m4s',
    '-media_seg_name', 'seg-$RepresentationID$-$Number%05d$.m4s',
    '-hls_playlist', '1',
    '-hls_master_name', `${manifestBaseName}.m3u8`,
    `${outDir}/${manifestBaseName}.mpd`,
  );
  return args;
}

/** One poster frame at `atSeconds`, scaled to `width` keeping the display aspect ratio. */
export function ffmpegPosterArgs(inputPath: string, outPath: string, atSeconds: number, width: number): string[] {
  return [
    '-hide_banner', '-nostdin', '-y', '-loglevel', 'error',
    '-ss', atSeconds.toFixed(3),
    '-i', inputPath,
    '-frames:v', '1',
    '-vf', `scale=${width}:-2`,
    '-q:v', '3',
    outPath,
  ];
}
