/**
 * Types shared by ladder planning, probing and job building. Pure data: no AWS SDK here.
 */

/** What the platform needs to know about a master to plan its ladder (from MediaConvert Probe or ffprobe). */
export interface SourceInfo {
  /** Coded width in pixels, before rotation is applied. */
  readonly width: number;
  /** Coded height in pixels, before rotation is applied. */
  readonly height: number;
  /** Display rotation from container metadata; 90/270 swap the display width and height. */
  readonly rotation: 0 | 90 | 180 | 270;
  /** Frame rate as a rational, e.g. 30000/1001 for 29.97 fps. */
  readonly frameRate: { readonly numerator: number; readonly denominator: number };
  readonly durationMs: number;
  readonly hasAudio: boolean;
  readonly audioChannels?: number;
  /** Codec name as reported by the probe, e.g. "H_264", "PRORES"; informative only. */
  readonly videoCodec?: string;
  /** Container as reported by the probe, e.g. "mov", "mp4". */
  readonly container?: string;
}

/** One video rung of a planned ladder. Width and height are the *display* output size (even numbers). */
export interface VideoRung {
  readonly name: string; // e.g. "1080p" — also used in output name modifiers
  readonly width: number;
  readonly height: number;
  /** QVBR ceiling in bits per second. */
  readonly maxBitrate: number;
  /** QVBR quality level 1..10. */
  readonly qvbrQualityLevel: number;
  readonly profile: 'HIGH' | 'MAIN';
  readonly level: string; // H.264 level name as MediaConvert spells it, e.g. "AUTO"
}

export interface AudioRung {
  readonly name: string; // e.g. "aac-stereo-128k"
  readonly bitrate: number; // bits per second
  readonly channels: 1 | 2;
  readonly sampleRate: 48000;
}

/** The ladder planned for one source: what both MediaConvert and the local twin's ffmpeg encode. */
export interface LadderPlan {
  readonly video: readonly VideoRung[];
  readonly audio: readonly AudioRung[];
  /** Output frame rate (the source's, or halved when above the ladder's maximum). */
  readonly frameRate: { readonly numerator: number; readonly denominator: number };
  /** GOP length in frames: a whole number of frames closest to the GOP duration; segments hold whole GOPs. */
  readonly gopFrames: number;
  readonly gopSeconds: number;
  readonly segmentSeconds: number;
  /** Display orientation of the source after rotation. */
  readonly orientation: 'landscape' | 'portrait' | 'square';
}
