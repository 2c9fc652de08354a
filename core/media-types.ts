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
  /**
   * Transfer function of the picture (ADR 0015): PQ (HDR10, SMPTE ST 2084) or HLG (ARIB STD-B67,
   * also the base layer of Dolby Vision 8.4). Absent: SDR.
   */
  readonly dynamicRange?: DynamicRange;
  /** Interlaced video is deinterlaced before scaling (ADR 0028). Absent: progressive. */
  readonly scan?: { readonly type: 'interlaced'; readonly fieldOrder?: 'top-first' | 'bottom-first' };
  readonly durationMs: number;
  readonly hasAudio: boolean;
  /** Channels of the first audio track (the same as audioTracks[0].channels). */
  readonly audioChannels?: number;
  /** Every audio track in the order MediaConvert selects them (ADR 0017). Absent or empty: no audio. */
  readonly audioTracks?: readonly SourceAudioTrack[];
  /** The container carries a captions (data) track: embedded CEA-608/708 captions (ADR 0018). */
  readonly embeddedCaptions?: boolean;
  /** Codec name as reported by the probe, e.g. "H_264", "PRORES"; informative only. */
  readonly videoCodec?: string;
  /** Container as reported by the probe, e.g. "mov", "mp4". */
  readonly container?: string;
}

/** A picture's dynamic range, spelled as the HLS `VIDEO-RANGE` attribute spells it (RFC 8216bis §4.4.6.2). */
export type DynamicRange = 'SDR' | 'PQ' | 'HLG';

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
  /** H.264: HIGH or MAIN; HEVC: MAIN (8-bit SDR) or MAIN10 (10-bit, the HDR rungs). */
  readonly profile: 'HIGH' | 'MAIN' | 'MAIN10';
  /**
   * What the rung carries (ADR 0015): PQ or HLG for the HDR ladder (HEVC Main10, the source's
   * colour kept); SDR (or absent) for BT.709 rungs — tone-mapped when the source is HDR.
   */
  readonly dynamicRange?: DynamicRange;
  /** Codec level as MediaConvert spells it, e.g. "LEVEL_4_2" (the lowest that holds size × rate × bitrate). */
  readonly level: string;
}

/** One audio track of a master as the probe reports it. */
export interface SourceAudioTrack {
  /** 1-based track number in the file (MediaConvert audio selector `Tracks`, ffmpeg `0:a:<n-1>` order). */
  readonly track: number;
  /** BCP 47 tag of the declared language (`en`, `de`, `pt-BR`; core/renditions.ts normaliseLanguage), "und" when undeclared. */
  readonly language: string;
  readonly channels?: number;
}

export interface AudioRung {
  readonly name: string; // e.g. "aac-stereo-128k", "aac-stereo-128k-deu", "eac3-5.1-384k-eng"
  readonly bitrate: number; // bits per second
  /** 6 = 5.1 (E-AC-3 only). */
  readonly channels: 1 | 2 | 6;
  readonly sampleRate: 48000;
  /** AAC-LC for mono/stereo; E-AC-3 for the optional 5.1 rendition (ADR 0017). Absent: AAC. */
  readonly codec?: 'AAC' | 'EAC3';
  /** BCP 47 language tag of the rendition ("und" when the source declares none). Absent: "und". */
  readonly language?: string;
  /** Source audio track it is made from (1-based). Absent: the first audio track. */
  readonly sourceTrack?: number;
  /** Channels of the source track when it has more than the rung: 6 with a stereo rung is a 5.1 → stereo downmix (RemixSettings). */
  readonly sourceChannels?: number;
  /** The rendition players pick first (HLS DEFAULT=YES / AUTOSELECT). */
  readonly isDefault?: boolean;
}

/**
 * A text track of the ladder (ADR 0018): every one becomes a WebVTT rendition (HLS
 * `EXT-X-MEDIA TYPE=SUBTITLES`, DASH text AdaptationSet).
 */
export interface SubtitleRendition {
  readonly name: string; // e.g. "captions-eng", "subtitles-deu"
  /** BCP 47 language tag, "und" when unknown. */
  readonly language: string;
  /** Captions transcribe dialogue and sounds for deaf and hard-of-hearing viewers; subtitles translate. */
  readonly kind: 'captions' | 'subtitles';
  readonly source:
    | { readonly type: 'embedded'; readonly channel: 1 }
    | { readonly type: 'sidecar'; readonly uri: string; readonly format: 'vtt' | 'srt' | 'scc' };
}

/** The ladder planned for one source: what both MediaConvert and the local twin's ffmpeg encode. */
export interface LadderPlan {
  /** Highest rung first; HDR rungs (HDR sources) before SDR ones, HEVC rungs (above 1080p) before the H.264 ladder. */
  readonly video: readonly VideoRung[];
  readonly audio: readonly AudioRung[];
  /** WebVTT text renditions (embedded captions, sidecar files). Absent: none. */
  readonly subtitles?: readonly SubtitleRendition[];
  /** The ladder's full output rate: the top rung's (a standard rate, ADR 0028). */
  readonly frameRate: Ratio;
  readonly gopSeconds: number;
  readonly segmentSeconds: number;
  /** The source's dynamic range (ADR 0015); an HDR source gets an HDR and a tone-mapped SDR ladder. Absent: SDR. */
  readonly dynamicRange?: DynamicRange;
  /** Deinterlace before scaling (interlaced source; every output is progressive). */
  readonly deinterlace: boolean;
  /** Display orientation of the source after rotation. */
  readonly orientation: 'landscape' | 'portrait' | 'square';
}
