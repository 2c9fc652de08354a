/**
 * Types shared by ladder planning, probing and job building. Pure data: no AWS SDK here.
 */

/** A positive rational, e.g. 30000/1001 for 29.97 fps or 64/45 for the pixels of 16:9 PAL. */
export interface Ratio {
  readonly numerator: number;
  readonly denominator: number;
}

/** What the platform needs to know about a master to plan its ladder (from MediaConvert Probe or ffprobe). */
export interface SourceInfo {
  /** Coded width in pixels, before rotation is applied. */
  readonly width: number;
  /** Coded height in pixels, before rotation is applied. */
  readonly height: number;
  /**
   * Sample (pixel) aspect ratio of the coded picture: display width = coded width × SAR.
   * Absent when the file declares none, which means square pixels (ADR 0026).
   */
  readonly sampleAspectRatio?: Ratio;
  /** Display rotation from container metadata; 90/270 swap the display width and height. */
  readonly rotation: 0 | 90 | 180 | 270;
  /** Frame rate as a rational, e.g. 30000/1001 for 29.97 fps. For interlaced video: frames, not fields. */
  readonly frameRate: Ratio;
  /** Interlaced video is deinterlaced before scaling (ADR 0028). Absent: progressive. */
  readonly scan?: { readonly type: 'interlaced'; readonly fieldOrder?: 'top-first' | 'bottom-first' };
  readonly durationMs: number;
  readonly hasAudio: boolean;
  readonly audioChannels?: number;
  /** Codec name as reported by the probe, e.g. "H_264", "PRORES"; informative only. */
  readonly videoCodec?: string;
  /** Container as reported by the probe, e.g. "mov", "mp4". */
  readonly container?: string;
}

/** Video codecs of the ladder: H.264 plays everywhere; HEVC carries the rungs above 1080p (ADR 0027). */
export type VideoCodec = 'H_264' | 'H_265';

/** One video rung of a planned ladder. Width and height are the *display* output size (even numbers, square pixels). */
export interface VideoRung {
  readonly name: string; // e.g. "1080p" — also used in output name modifiers
  readonly codec: VideoCodec;
  readonly width: number;
  readonly height: number;
  /** Constant output frame rate of this rung (low rungs of >30 fps sources run at half rate). */
  readonly frameRate: Ratio;
  /** GOP length in frames: the whole number of frames closest to the plan's GOP duration at this rung's rate. */
  readonly gopFrames: number;
  /** QVBR ceiling in bits per second. */
  readonly maxBitrate: number;
  /** QVBR quality level 1..10. */
  readonly qvbrQualityLevel: number;
  /** H.264: HIGH or MAIN; HEVC: MAIN (8-bit). */
  readonly profile: 'HIGH' | 'MAIN';
  /** Codec level as MediaConvert spells it, e.g. "LEVEL_4_2" (the lowest that holds size × rate × bitrate). */
  readonly level: string;
}

export interface AudioRung {
  readonly name: string; // e.g. "aac-stereo-128k"
  readonly bitrate: number; // bits per second
  readonly channels: 1 | 2;
  readonly sampleRate: 48000;
}

/** The ladder planned for one source: what both MediaConvert and the local twin's ffmpeg encode. */
export interface LadderPlan {
  /** Highest rung first; HEVC rungs (above 1080p) before the H.264 ladder. */
  readonly video: readonly VideoRung[];
  readonly audio: readonly AudioRung[];
  /** The ladder's full output rate: the top rung's (a standard rate, ADR 0028). */
  readonly frameRate: Ratio;
  readonly gopSeconds: number;
  readonly segmentSeconds: number;
  /** Deinterlace before scaling (interlaced source; every output is progressive). */
  readonly deinterlace: boolean;
  /** Display orientation of the source after rotation. */
  readonly orientation: 'landscape' | 'portrait' | 'square';
}
