/**
 * Audio and text renditions of a ladder (docs/ladder.md "Audio and captions"; ADRs 0017, 0018):
 * every audio track of the master becomes its own language rendition, a 5.1 track gets a stereo
 * downmix (and, by config, an E-AC-3 5.1 rendition), and embedded captions and sidecar files
 * become WebVTT renditions. Pure.
 */
import type { AudioRung, SourceInfo, SubtitleRendition } from './media-types';

/** The ISO 639-2 code for "undetermined": what HLS/DASH carry when the file declares no language. */
export const UNDETERMINED_LANGUAGE = 'und';

/**
 * A declared language as the shortest BCP 47 tag (RFC 5646), which is what HLS `LANGUAGE` and DASH
 * `lang` must carry: ISO 639-2 codes from the file become their ISO 639-1 form where one exists
 * (`eng` → `en`, `ger`/`deu` → `de`; ICU's CLDR alias data via Intl.getCanonicalLocales), a region
 * keeps its case convention (`pt-br` → `pt-BR`). QuickTime's and MP4's "und", empty and malformed
 * values all mean "not declared" and give "und".
 */
export function normaliseLanguage(declared: string | undefined): string {
  const code = declared?.trim() ?? '';
  if (!/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$/.test(code)) return UNDETERMINED_LANGUAGE;
  try {
    return Intl.getCanonicalLocales(code)[0] ?? UNDETERMINED_LANGUAGE;
  } catch {
    return UNDETERMINED_LANGUAGE; // well-formed but not a language subtag ICU accepts
  }
}

/**
 * Apple HLS authoring specification ("Audio"): AAC-LC stereo for every device, mono at half the rate;
 * E-AC-3 5.1 at 384 kbit/s is its recommended surround rendition.
 */
const AAC_STEREO_128K: AudioRung = { name: 'aac-stereo-128k', bitrate: 128_000, channels: 2, sampleRate: 48000 };
const EAC3_SURROUND_384K: AudioRung = { name: 'eac3-5.1-384k', bitrate: 384_000, channels: 6, sampleRate: 48000, codec: 'EAC3' };

export interface AudioRenditionOptions {
  /** Also encode a 5.1 E-AC-3 rendition of every 5.1 track (platform config `surroundAudio`). */
  readonly surroundAudio: boolean;
  /** The ladder's stereo AAC rung (LadderSpec.audio[0]); mono tracks get it at half the bitrate. */
  readonly stereo?: AudioRung;
}

/**
 * One AAC rendition per audio track (stereo, or mono for a mono track; 5.1 and other multichannel
 * tracks are downmixed to stereo), plus an E-AC-3 5.1 rendition per 5.1 track when enabled. The
 * first track's rendition is the default. The first track keeps the plain rung name so single-track
 * masters are encoded exactly as before; the others are told apart by language (and track number
 * when two tracks share one).
 */
export function planAudioRenditions(source: SourceInfo, options: AudioRenditionOptions): AudioRung[] {
  if (!source.hasAudio) return [];
  const tracks = source.audioTracks?.length
    ? source.audioTracks
    : [{ track: 1, language: UNDETERMINED_LANGUAGE, ...(source.audioChannels ? { channels: source.audioChannels } : {}) }];
  const languages = tracks.map((track) => track.language);
  const suffix = (track: (typeof tracks)[number], index: number) => {
    if (index === 0) return '';
    const shared = languages.filter((language) => language === track.language).length > 1;
    return shared ? `-${track.language}-t${track.track}` : `-${track.language}`;
  };
  const stereo = options.stereo ?? AAC_STEREO_128K;
  const aac = tracks.map((track, index): AudioRung => {
    const mono = track.channels === 1;
    const base = mono
      ? { ...stereo, name: stereo.name.replace('stereo', 'mono').replace(/\d+k$/, `${stereo.bitrate / 2000}k`), bitrate: stereo.bitrate / 2, channels: 1 as const }
      : stereo;
    return {
      ...base,
      name: `${base.name}${suffix(track, index)}`,
      codec: 'AAC',
      language: track.language,
      sourceTrack: track.track,
      // Only a track with more channels than its rung is remixed (a mono or stereo track maps 1:1).
      ...(track.channels !== undefined && track.channels > base.channels ? { sourceChannels: track.channels } : {}),
      isDefault: index === 0,
    };
  });
  const surround = options.surroundAudio
    ? tracks.flatMap((track, index): AudioRung[] =>
        track.channels === 6
          ? [{ ...EAC3_SURROUND_384K, name: `${EAC3_SURROUND_384K.name}${suffix(track, index)}`, language: track.language, sourceTrack: track.track, sourceChannels: 6, isDefault: false }]
          : [],
      )
    : [];
  const [firstSurround, ...otherSurround] = surround;
  // The first E-AC-3 rendition is the default of its own group (players choose the group by codec).
  return [...aac, ...(firstSurround ? [{ ...firstSurround, isDefault: true }, ...otherSurround] : [])];
}

/**
 * ITU-R BS.775 / ATSC A/52 §7.8 Lo/Ro downmix of 5.1 (input order L R C LFE Ls Rs) to stereo, as
 * gains in dB per input channel: each front channel to its side at 0 dB, centre and the surround of
 * that side at −3 dB (×0.707), LFE left out (−60 dB, MediaConvert's "mute").
 */
export const DOWNMIX_5_1_TO_STEREO_DB: readonly (readonly number[])[] = [
  [0, -60, -3, -60, -3, -60],
  [-60, 0, -3, -60, -60, -3],
];

/** The same matrix as linear gains (for ffmpeg's `pan` filter in the local twin). */
export const DOWNMIX_5_1_TO_STEREO_GAIN: readonly (readonly number[])[] = DOWNMIX_5_1_TO_STEREO_DB.map((row) =>
  row.map((db) => (db <= -60 ? 0 : Number((10 ** (db / 20)).toFixed(3)))),
);

/** A caption or subtitle file found next to a master. */
export interface SubtitleSidecar {
  /** The S3 key of the file. */
  readonly key: string;
  readonly language: string;
  readonly kind: 'captions' | 'subtitles';
  readonly format: 'vtt' | 'srt' | 'scc';
}

/**
 * Sidecar naming (ADR 0018): `<master name without extension>.<language>[.cc].<vtt|srt|scc>` in the
 * master's folder, e.g. `uploads/Film.mov` + `uploads/Film.de.vtt` (German subtitles) and
 * `uploads/Film.en.cc.srt` (English captions). SCC files carry CEA-608 captions, so they are
 * captions with or without `.cc`. Other keys return undefined.
 */
export function subtitleSidecarOf(masterKey: string, candidateKey: string): SubtitleSidecar | undefined {
  const stem = masterKey.replace(/\.[^./]*$/, '');
  if (!candidateKey.startsWith(`${stem}.`) || candidateKey === masterKey) return undefined;
  const match = /^([A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})?)(\.cc)?\.(vtt|srt|scc)$/i.exec(candidateKey.slice(stem.length + 1));
  if (!match) return undefined;
  const format = match[3]!.toLowerCase() as SubtitleSidecar['format'];
  return {
    key: candidateKey,
    language: normaliseLanguage(match[1]),
    kind: match[2] !== undefined || format === 'scc' ? 'captions' : 'subtitles',
    format,
  };
}

/**
 * Text renditions: the embedded captions first (when the probe found a captions track), then the
 * sidecars sorted by key. `sidecarUri` turns a sidecar key into the URI the encoder reads.
 */
export function planSubtitles(
  source: Pick<SourceInfo, 'embeddedCaptions' | 'audioTracks'>,
  sidecars: readonly SubtitleSidecar[],
  sidecarUri: (key: string) => string,
): SubtitleRendition[] {
  const names = new Set<string>();
  const unique = (name: string) => {
    let candidate = name;
    for (let n = 2; names.has(candidate); n++) candidate = `${name}-${n}`;
    names.add(candidate);
    return candidate;
  };
  // Probe reports no language for CEA-608 channel 1; it transcribes the programme's main language.
  const embedded: SubtitleRendition[] = source.embeddedCaptions
    ? [{ name: unique(`captions-${source.audioTracks?.[0]?.language ?? UNDETERMINED_LANGUAGE}`), language: source.audioTracks?.[0]?.language ?? UNDETERMINED_LANGUAGE, kind: 'captions', source: { type: 'embedded', channel: 1 } }]
    : [];
  const files = [...sidecars]
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((sidecar): SubtitleRendition => ({
      name: unique(`${sidecar.kind}-${sidecar.language}`),
      language: sidecar.language,
      kind: sidecar.kind,
      source: { type: 'sidecar', uri: sidecarUri(sidecar.key), format: sidecar.format },
    }));
  return [...embedded, ...files];
}
