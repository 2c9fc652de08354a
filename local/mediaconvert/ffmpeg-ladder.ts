/**
 * The ffmpeg side of "one ladder spec, two encoders" (docs/ladder.md; ADR 0070): turns the same `LadderPlan`
 * MediaConvert receives into one ffmpeg invocation that writes CMAF — a DASH `main.mpd` and an HLS
 * `main.m3u8` over ONE set of fMP4 segments, via the `dash` muxer with `-hls_playlist 1`.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import type { AudioRung, DynamicRange, LadderPlan, Ratio, VideoRung } from '../../core/media-types';
import { AUDIO_GROUP_ID, languageDisplayName, SURROUND_AUDIO_GROUP_ID } from '../../core/mediaconvert-job';
import { DOWNMIX_5_1_TO_STEREO_GAIN, UNDETERMINED_LANGUAGE } from '../../core/renditions';

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

const rateText = (rate: Ratio): string => `${rate.numerator}/${rate.denominator}`;

/** `LEVEL_4_2` → `4.2`, the spelling x264's `-level` and x265's `level-idc` take. */
const levelNumber = (level: string): string | undefined => /^LEVEL_(\d)(?:_(\d))?$/.exec(level)?.slice(1).filter(Boolean).join('.');

/**
 * The stand-in for MediaConvert's HDR-to-SDR tone mapper (ADR 0015): zimg (`zscale`) linearises the
 * source's transfer — PQ or HLG, read from the frames' colour tags — at a 100 nit reference white,
 * converts the primaries to BT.709 in linear light, `tonemap` compresses the highlights (hable keeps
 * detail in them, like PRESERVE_DETAILS), and zimg applies the BT.709 transfer and matrix in limited
 * range. Debian's ffmpeg 5.1 has zscale (libzimg) and tonemap; the twin needs nothing else.
 */
export const TONE_MAP_TO_SDR = [
  'zscale=transfer=linear:npl=100',
  'format=gbrpf32le',
  'zscale=primaries=bt709',
  'tonemap=tonemap=hable:desat=0',
  'zscale=transfer=bt709:matrix=bt709:range=limited',
].join(',');

/** ffmpeg's names of the colour description each range is tagged with (H.273 code points 1/9, 1/16/18). */
const COLOUR_TAGS: Record<DynamicRange, { primaries: string; transfer: string; matrix: string }> = {
  SDR: { primaries: 'bt709', transfer: 'bt709', matrix: 'bt709' },
  PQ: { primaries: 'bt2020', transfer: 'smpte2084', matrix: 'bt2020nc' },
  HLG: { primaries: 'bt2020', transfer: 'arib-std-b67', matrix: 'bt2020nc' },
};

const rangeOf = (rung: VideoRung): DynamicRange => rung.dynamicRange ?? 'SDR';
/** An SDR rung of an HDR source: tone-mapped. */
const isToneMapped = (plan: LadderPlan, rung: VideoRung): boolean => (plan.dynamicRange ?? 'SDR') !== 'SDR' && rangeOf(rung) === 'SDR';

/**
 * One rung's picture, as MediaConvert makes it (ADRs 0026, 0028): deinterlaced first when the job
 * asks for it (bwdif, one frame per frame, only frames flagged interlaced — MediaConvert's
 * DEINTERLACE / NORMAL), then the rung's constant rate (`fps` duplicates and drops like
 * DUPLICATE_DROP, so a variable-rate source comes out constant), then the whole picture onto the
 * rung's raster (STRETCH_TO_OUTPUT: `scale` ignores the source's pixel shape) with square pixels.
 * HDR rungs stay in the source's colour at 10 bits; SDR rungs of an HDR source are tone-mapped
 * after scaling (fewer pixels to convert in floating point), ADR 0015.
 */
export function videoFilterFor(plan: LadderPlan, rung: VideoRung): string {
  const hdr = rangeOf(rung) !== 'SDR';
  return [
    ...(plan.deinterlace ? ['bwdif=mode=send_frame:parity=auto:deint=interlaced'] : []),
    `fps=${rateText(rung.frameRate)}`,
    `scale=${rung.width}:${rung.height}:flags=bicubic`,
    'setsar=1',
    // The encoder's pixel format (-pix_fmt:v:N) converts plain SDR rungs; these need it in the chain.
    ...(isToneMapped(plan, rung) ? [TONE_MAP_TO_SDR, 'format=yuv420p'] : hdr ? ['format=yuv420p10le'] : []),
  ].join(',');
}

/** Colour tags on the encoded stream (and so in the `colr` box and the VUI), as ColorMetadata INSERT writes them. */
function colourArgs(rung: VideoRung, index: number): string[] {
  const tags = COLOUR_TAGS[rangeOf(rung)];
  return [
    `-pix_fmt:v:${index}`, rangeOf(rung) === 'SDR' ? 'yuv420p' : 'yuv420p10le',
    `-color_primaries:v:${index}`, tags.primaries,
    `-color_trc:v:${index}`, tags.transfer,
    `-colorspace:v:${index}`, tags.matrix,
    `-color_range:v:${index}`, 'tv',
  ];
}

function videoCodecArgs(rung: VideoRung, index: number): string[] {
  const gop = String(rung.gopFrames);
  const level = levelNumber(rung.level);
  const rate = [
    `-crf:v:${index}`, String(crfForQvbrLevel(rung.qvbrQualityLevel)),
    `-maxrate:v:${index}`, String(rung.maxBitrate),
    `-bufsize:v:${index}`, String(rung.maxBitrate * 2),
  ];
  if (rung.codec === 'H_265') {
    // x265 takes its GOP rules as its own parameters; hvc1 as MediaConvert's WriteMp4PackagingType HVC1.
    const tags = COLOUR_TAGS[rung.dynamicRange ?? 'SDR'];
    const params = [
      'log-level=error', `keyint=${gop}`, `min-keyint=${gop}`, 'scenecut=0', 'open-gop=0', ...(level ? [`level-idc=${level}`] : []),
      // The VUI colour description x265 writes (ffmpeg 5.1's wrapper does not pass the stream's tags on).
      `colorprim=${tags.primaries}`, `transfer=${tags.transfer}`, `colormatrix=${tags.matrix}`, 'range=limited',
    ];
    const profile = rung.profile === 'MAIN10' ? 'main10' : 'main';
    return [`-c:v:${index}`, 'libx265', `-profile:v:${index}`, profile, `-tag:v:${index}`, 'hvc1', ...rate, `-x265-params:v:${index}`, params.join(':')];
  }
  return [
    `-c:v:${index}`, 'libx264',
    `-profile:v:${index}`, rung.profile === 'HIGH' ? 'high' : 'main',
    ...(level ? [`-level:v:${index}`, level] : []),
    ...rate,
    `-g:v:${index}`, gop,
    `-keyint_min:v:${index}`, gop,
    `-sc_threshold:v:${index}`, '0',
    `-flags:v:${index}`, '+cgop',
  ];
}

/**
 * The 5.1 → stereo downmix of the job's RemixSettings (core/renditions.ts, ITU-R BS.775 Lo/Ro) as
 * ffmpeg's `pan` filter, input order FL FR FC LFE BL BR as MediaConvert's.
 */
export const DOWNMIX_PAN_FILTER = `pan=stereo|${DOWNMIX_5_1_TO_STEREO_GAIN.map(
  (row, out) => `c${out}=${row.flatMap((gain, input) => (gain > 0 ? [`${gain}*c${input}`] : [])).join('+')}`,
).join('|')}`;

/**
 * ffmpeg arguments (without the binary) that encode `plan` from `inputPath` into `outDir`.
 *
 * GOPs are closed and fixed (gopFrames per rung at the rung's rate, no scene-cut keyframes,
 * keyframes forced every gopSeconds), so every rung has IDR frames at the same instants and
 * segments of `segmentSeconds` (a whole number of GOPs) line up across rungs — the condition for
 * switching rungs and CDNs mid-stream.
 *
 * Every video rung gets its own adaptation set while muxing: the `dash` muxer refuses one set whose
 * streams differ in display aspect ratio ("Conflicting stream aspect ratios"), which even-sided
 * square-pixel rungs of a 2.39:1 or 1.85:1 picture always do by a fraction of a pixel.
 * {@link mergeVideoAdaptationSets} joins them afterwards, one set per codec, as MediaConvert writes.
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
      `-filter:v:${index}`, videoFilterFor(plan, rung),
      ...videoCodecArgs(rung, index),
      ...colourArgs(rung, index),
      `-force_key_frames:v:${index}`, `expr:gte(t,n_forced*${plan.gopSeconds})`,
    );
  });
  plan.audio.forEach((rung, index) => {
    // Each rendition from its own source track, tagged with its language (the dash muxer writes it as `lang`).
    args.push('-map', `0:a:${(rung.sourceTrack ?? 1) - 1}`);
    const filters = [
      ...(rung.channels === 2 && rung.sourceChannels === 6 ? [DOWNMIX_PAN_FILTER] : []),
      ...(videoDurationSeconds !== undefined && videoDurationSeconds > 0
        // Resampled first, so the filter's time base is 1/rate and end_pts counts output samples.
        ? [`aresample=${rung.sampleRate}`, `atrim=end_pts=${audioSamplesWithinVideo(videoDurationSeconds, rung.sampleRate)}`]
        : []),
    ];
    if (filters.length > 0) args.push(`-filter:a:${index}`, filters.join(','));
    args.push(
      `-c:a:${index}`, rung.codec === 'EAC3' ? 'eac3' : 'aac',
      `-b:a:${index}`, String(rung.bitrate),
      `-ac:a:${index}`, String(rung.channels),
      `-ar:a:${index}`, String(rung.sampleRate),
      `-metadata:s:a:${index}`, `language=${rung.language ?? UNDETERMINED_LANGUAGE}`,
    );
  });

  args.push('-preset', 'veryfast');

  const adaptationSets = plan.video.map((_rung, index) => `id=${index},streams=${index}`);
  // One adaptation set per audio rendition: DASH players choose a language (and codec) by set.
  plan.audio.forEach((_rung, index) => adaptationSets.push(`id=${plan.video.length + index},streams=${plan.video.length + index}`));
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

type XmlNode = Record<string, unknown>;
const ATTRS = ':@';
const xmlOptions = { preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '', processEntities: true } as const;
const tagOf = (node: XmlNode): string | undefined => Object.keys(node).find((key) => key !== ATTRS);
const childrenOf = (node: XmlNode): XmlNode[] => (node[tagOf(node) ?? ''] as XmlNode[] | undefined) ?? [];
const attributesOf = (node: XmlNode): Record<string, string> => ((node[ATTRS] ??= {}) as Record<string, string>);
const codecFamily = (representation: XmlNode): string => (attributesOf(representation).codecs ?? '').split('.')[0]!;
const rateValue = (text: string | undefined): number => {
  const [numerator, denominator = '1'] = (text ?? '0').split('/');
  return Number(numerator) / Number(denominator);
};

/**
 * DASH colour signalling of an HDR adaptation set (ISO/IEC 23001-8 / H.273 code points under the
 * `urn:mpeg:mpegB:cicp:` schemes, as DASH-IF IOP signals HDR10 and HLG): BT.2020 primaries (9) and
 * matrix (9) as EssentialProperty, so a player that does not know them skips the set; PQ's transfer
 * (16) as EssentialProperty; HLG's (18) as SupplementalProperty beside an EssentialProperty of the
 * BT.2020 SDR transfer (14) it is compatible with, so SDR BT.2020 displays may still play it.
 */
function colourProperties(range: Exclude<DynamicRange, 'SDR'>): XmlNode[] {
  const property = (kind: 'EssentialProperty' | 'SupplementalProperty', scheme: string, value: number): XmlNode => ({
    [kind]: [],
    [ATTRS]: { schemeIdUri: `urn:mpeg:mpegB:cicp:${scheme}`, value: String(value) },
  });
  return [
    property('EssentialProperty', 'ColourPrimaries', 9),
    property('EssentialProperty', 'MatrixCoefficients', 9),
    ...(range === 'PQ'
      ? [property('EssentialProperty', 'TransferCharacteristics', 16)]
      : [property('EssentialProperty', 'TransferCharacteristics', 14), property('SupplementalProperty', 'TransferCharacteristics', 18)]),
  ];
}

/**
 * Joins the one-rung video adaptation sets the `dash` muxer wrote into one set per codec family
 * (avc1, hvc1): players switch rungs only within a set. The joined set has the largest size as
 * maxWidth/maxHeight, no `par` (the rungs' pictures differ by a fraction of a pixel), `frameRate`
 * on each Representation and `maxFrameRate` on the set when the rungs' rates differ, and
 * `bitstreamSwitching="false"` (every rung has its own initialization segment).
 */
export function mergeVideoAdaptationSets(mpd: string, rangeOfRepresentation: (id: string) => DynamicRange = () => 'SDR'): string {
  const document = new XMLParser({ ...xmlOptions, parseTagValue: false, parseAttributeValue: false, trimValues: true }).parse(mpd) as XmlNode[];
  const root = document.find((node) => tagOf(node) === 'MPD');
  for (const period of root ? childrenOf(root).filter((node) => tagOf(node) === 'Period') : []) {
    const children = childrenOf(period);
    const byFamily = new Map<string, XmlNode[]>();
    for (const set of children) {
      if (tagOf(set) !== 'AdaptationSet' || attributesOf(set).contentType !== 'video') continue;
      const representation = childrenOf(set).find((node) => tagOf(node) === 'Representation');
      // HDR and SDR rungs never share a set: a player picks the set its display can show (ADR 0016).
      const range = representation ? rangeOfRepresentation(attributesOf(representation).id ?? '') : 'SDR';
      const family = `${representation ? codecFamily(representation) : ''}/${range}`;
      byFamily.set(family, [...(byFamily.get(family) ?? []), set]);
      if (range !== 'SDR') {
        const tag = tagOf(set)!;
        set[tag] = [...colourProperties(range), ...childrenOf(set)];
      }
    }
    const dropped = new Set<XmlNode>();
    for (const sets of byFamily.values()) {
      if (sets.length < 2) continue;
      const [first, ...rest] = sets as [XmlNode, ...XmlNode[]];
      const representations: XmlNode[] = [];
      for (const set of sets) {
        for (const node of childrenOf(set).filter((child) => tagOf(child) === 'Representation')) {
          attributesOf(node).frameRate ??= attributesOf(set).frameRate ?? '';
          representations.push(node);
        }
      }
      const setAttributes = attributesOf(first);
      const rates = new Set(representations.map((node) => attributesOf(node).frameRate));
      delete setAttributes.par;
      delete setAttributes.frameRate;
      setAttributes.bitstreamSwitching = 'false';
      setAttributes.maxWidth = String(Math.max(...representations.map((node) => Number(attributesOf(node).width))));
      setAttributes.maxHeight = String(Math.max(...representations.map((node) => Number(attributesOf(node).height))));
      if (rates.size === 1) {
        setAttributes.frameRate = [...rates][0]!;
        for (const node of representations) delete attributesOf(node).frameRate;
      } else {
        setAttributes.maxFrameRate = [...rates].sort((a, b) => rateValue(b) - rateValue(a))[0]!;
      }
      const tag = tagOf(first)!;
      first[tag] = [...childrenOf(first).filter((child) => tagOf(child) !== 'Representation'), ...representations];
      for (const set of rest) dropped.add(set);
    }
    period[tagOf(period)!] = children.filter((node) => !dropped.has(node));
  }
  return new XMLBuilder({ ...xmlOptions, format: true, suppressEmptyNode: true }).build(document) as string;
}

/**
 * The RFC 6381 codecs string of an HEVC stream from its `hvcC` box (ISO/IEC 14496-15 §8.3.3.1 and
 * Annex E): `hvc1.<space><profile>.<compatibility flags, bit-reversed, hex>.<L|H><level>.<constraint
 * bytes, trailing zero bytes left out>`, e.g. `hvc1.1.6.L93.B0`. ffmpeg 5.1's `dash` muxer writes a
 * bare `hvc1`, which players cannot check against their decoders; MediaConvert writes the full one.
 */
export function hevcCodecString(initSegment: Uint8Array): string | undefined {
  const at = Buffer.from(initSegment).indexOf('hvcC');
  if (at === -1 || at + 4 + 13 > initSegment.length) return undefined;
  const box = initSegment.subarray(at + 4);
  const space = ['', 'A', 'B', 'C'][box[1]! >> 6]!;
  const tier = box[1]! & 0x20 ? 'H' : 'L';
  const profile = box[1]! & 0x1f;
  const compatibility = (box[2]! << 24) | (box[3]! << 16) | (box[4]! << 8) | box[5]!;
  let reversed = 0;
  for (let bit = 0; bit < 32; bit++) reversed = (reversed << 1) | ((compatibility >>> bit) & 1);
  const constraints = [...box.subarray(6, 12)];
  while (constraints.length > 0 && constraints.at(-1) === 0) constraints.pop();
  const level = box[12]!;
  return ['hvc1', `${space}${profile}`, (reversed >>> 0).toString(16).toUpperCase(), `${tier}${level}`, ...constraints.map((byte) => byte.toString(16).toUpperCase())].join('.');
}

/**
 * `VIDEO-RANGE` on every video variant of the HLS multivariant playlist ffmpeg wrote (it writes
 * none): the variant whose URI is `media_<id>.m3u8` shows representation `<id>`, which is the plan's
 * video rung `<id>` (video streams are mapped first, in plan order).
 */
export function withVideoRanges(hls: string, plan: Pick<LadderPlan, 'video'>): string {
  return hls.replace(/^(#EXT-X-STREAM-INF:[^\n]*?)(\r?\n(?:#[^\n]*\n)*media_(\d+)\.m3u8)/gm, (whole, streamInf: string, rest: string, id: string) => {
    const rung = plan.video[Number(id)];
    if (!rung || /VIDEO-RANGE=/.test(streamInf)) return whole;
    return `${streamInf},VIDEO-RANGE=${rung.dynamicRange ?? 'SDR'}${rest}`;
  });
}

/**
 * Finishes the manifests after {@link ffmpegArgsForPlan}'s run: one video adaptation set per codec
 * and range in `<baseName>.mpd` (HDR sets with their colour properties), full HEVC codecs strings in
 * it and in `<baseName>.m3u8`, and VIDEO-RANGE on the HLS variants when the plan is given; with the
 * plan's audio, the audio renditions as MediaConvert writes them and the WebVTT `text` tracks.
 */
export async function finishDashManifest(
  outDir: string,
  manifestBaseName: string,
  plan?: Pick<LadderPlan, 'video'> & Partial<Pick<LadderPlan, 'audio'>>,
  text: readonly WrittenTextTrack[] = [],
): Promise<void> {
  const mpdPath = join(outDir, `${manifestBaseName}.mpd`);
  const hlsPath = join(outDir, `${manifestBaseName}.m3u8`);
  const rangeOf = (id: string): DynamicRange => plan?.video[Number(id)]?.dynamicRange ?? 'SDR';
  let mpd = mergeVideoAdaptationSets(await readFile(mpdPath, 'utf8'), rangeOf);
  let hls = await readFile(hlsPath, 'utf8').catch(() => undefined);
  if (hls !== undefined && plan) hls = withVideoRanges(hls, plan);
  for (const [, id] of mpd.matchAll(/<Representation id="(\d+)"[^>]*codecs="hvc1"/g)) {
    const codecs = hevcCodecString(await readFile(join(outDir, `init-${id}.m4s`)));
    if (!codecs) continue;
    mpd = mpd.replace(new RegExp(`(<Representation id="${id}"[^>]*codecs=)"hvc1"`), `$1"${codecs}"`);
    // The variant whose URI is this representation's media playlist.
    hls = hls?.replace(new RegExp(`(CODECS=")hvc1([",][^\n]*\n(?:#[^\n]*\n)*media_${id}\\.m3u8)`), `$1${codecs}$2`);
  }
  if (plan?.audio !== undefined) {
    if (hls !== undefined) hls = withAudioAndTextRenditions(hls, { video: plan.video, audio: plan.audio }, text, manifestBaseName);
    mpd = withDashTextTracks(mpd, text, manifestBaseName, plan.video.length + plan.audio.length);
  }
  await writeFile(mpdPath, mpd);
  if (hls !== undefined) await writeFile(hlsPath, hls);
}

/** One poster frame at `atSeconds`, scaled to `width` keeping the display aspect ratio (pixel shape included); SDR. */
export function ffmpegPosterArgs(inputPath: string, outPath: string, atSeconds: number, width: number, toneMapToSdr = false): string[] {
  return [
    '-hide_banner', '-nostdin', '-y', '-loglevel', 'error',
    '-ss', atSeconds.toFixed(3),
    '-i', inputPath,
    '-frames:v', '1',
    // Deinterlaced if flagged interlaced, and sized by the display aspect ratio (`dar` counts the
    // source's pixel shape), with square pixels, as the job's frame capture is.
    // An HDR source's poster is tone-mapped like the job's frame captures (ADR 0015).
    '-vf', `bwdif=mode=send_frame:deint=interlaced,scale=${width}:trunc(${width}/dar/2)*2,setsar=1${toneMapToSdr ? `,${TONE_MAP_TO_SDR}` : ''}`,
    '-q:v', '3',
    outPath,
  ];
}

/** A WebVTT rendition the twin wrote next to the manifests: `<base>_<name>.vtt` and its media playlist. */
export interface WrittenTextTrack {
  readonly name: string;
  readonly language: string;
  readonly kind: 'captions' | 'subtitles';
}

/** HLS GROUP-ID of the text renditions (one group: players choose by LANGUAGE and CHARACTERISTICS). */
export const SUBTITLE_GROUP_ID = 'subs';
const CAPTION_CHARACTERISTICS = 'public.accessibility.transcribes-spoken-dialog,public.accessibility.describes-music-and-sound';

function audioMediaLine(rung: AudioRung, index: number, uri: string): string {
  const language = rung.language ?? UNDETERMINED_LANGUAGE;
  const isDefault = rung.isDefault ?? index === 0;
  const name = `${languageDisplayName(language)}${rung.codec === 'EAC3' ? ' surround' : ''}`;
  return `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="${rung.codec === 'EAC3' ? SURROUND_AUDIO_GROUP_ID : AUDIO_GROUP_ID}",LANGUAGE="${language}",NAME="${name}",`
    + `AUTOSELECT=YES,DEFAULT=${isDefault ? 'YES' : 'NO'},CHANNELS="${rung.channels}",URI="${uri}"`;
}

/**
 * Rewrites the audio renditions of the HLS multivariant playlist ffmpeg wrote (one group, no
 * LANGUAGE) as MediaConvert writes them (ADR 0017): AAC renditions in group `audio`, E-AC-3 in
 * `audio-ec3` with every variant repeated for it, each with LANGUAGE, NAME, DEFAULT; and adds the
 * WebVTT renditions (group `subs`, CHARACTERISTICS on captions, ADR 0018) to every variant.
 * Media playlist `media_<id>.m3u8` of audio stream `<id>` is `plan.audio[id - plan.video.length]`.
 */
export function withAudioAndTextRenditions(hls: string, plan: Pick<LadderPlan, 'video' | 'audio'>, text: readonly WrittenTextTrack[], manifestBaseName: string): string {
  const lines = hls.split('\n').filter((line) => !line.startsWith('#EXT-X-MEDIA:TYPE=AUDIO'));
  const media = plan.audio.map((rung, index) => audioMediaLine(rung, index, `media_${plan.video.length + index}.m3u8`));
  text.forEach((track) => {
    media.push(
      `#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="${SUBTITLE_GROUP_ID}",LANGUAGE="${track.language}",NAME="${languageDisplayName(track.language)}${track.kind === 'captions' ? ' CC' : ''}",`
        + `AUTOSELECT=YES,DEFAULT=NO,FORCED=NO,${track.kind === 'captions' ? `CHARACTERISTICS="${CAPTION_CHARACTERISTICS}",` : ''}URI="${manifestBaseName}_${track.name}.m3u8"`
    );
  });
  const groups = [...new Set(plan.audio.map((rung) => (rung.codec === 'EAC3' ? SURROUND_AUDIO_GROUP_ID : AUDIO_GROUP_ID)))];
  const codecOfGroup = (group: string) => (group === SURROUND_AUDIO_GROUP_ID ? 'ec-3' : 'mp4a.40.2');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.startsWith('#EXT-X-STREAM-INF:')) {
      out.push(line);
      if (line.startsWith('#EXT-X-VERSION')) out.push(...media);
      continue;
    }
    const uri = lines[++i] ?? '';
    const videoCodecs = (/CODECS="([^"]*)"/.exec(line)?.[1] ?? '').split(',').filter((codec) => codec && !/^(mp4a|ec-3|ac-3)/.test(codec));
    const withText = text.length > 0 ? `,SUBTITLES="${SUBTITLE_GROUP_ID}"` : '';
    for (const group of groups.length > 0 ? groups : [undefined]) {
      let variant = line.replace(/,AUDIO="[^"]*"/, '');
      if (group) {
        variant = variant.replace(/CODECS="[^"]*"/, `CODECS="${[...videoCodecs, codecOfGroup(group)].join(',')}"`) + `,AUDIO="${group}"`;
      }
      out.push(`${variant}${withText}`, uri);
    }
  }
  return out.join('\n');
}

/** A WebVTT file as one-segment HLS media playlist (RFC 8216 §3.5: WebVTT segments of a SUBTITLES rendition). */
export function webVttMediaPlaylist(vttFileName: string, durationSeconds: number): string {
  const duration = Math.max(1, Math.ceil(durationSeconds));
  return ['#EXTM3U', '#EXT-X-VERSION:3', `#EXT-X-TARGETDURATION:${duration}`, '#EXT-X-PLAYLIST-TYPE:VOD', '#EXT-X-MEDIA-SEQUENCE:0', `#EXTINF:${durationSeconds.toFixed(3)},`, vttFileName, '#EXT-X-ENDLIST', ''].join('\n');
}

/**
 * One DASH text AdaptationSet per WebVTT file (`text/vtt`, lang, Role caption|subtitle), appended to
 * the Period: dash.js and Shaka play a whole-file WebVTT Representation named by its BaseURL.
 */
export function withDashTextTracks(mpd: string, text: readonly WrittenTextTrack[], manifestBaseName: string, firstId: number): string {
  if (text.length === 0) return mpd;
  const sets = text
    .map((track, index) =>
      `<AdaptationSet id="${firstId + index}" contentType="text" mimeType="text/vtt" lang="${track.language}">`
      + `<Role schemeIdUri="urn:mpeg:dash:role:2011" value="${track.kind === 'captions' ? 'caption' : 'subtitle'}"/>`
      + `<Representation id="text-${index}" bandwidth="256"><BaseURL>${manifestBaseName}_${track.name}.vtt</BaseURL></Representation>`
      + '</AdaptationSet>')
    .join('');
  return mpd.replace(/<\/Period>/, `${sets}</Period>`);
}

/**
 * ffmpeg arguments converting one text source to WebVTT: a sidecar file (WebVTT, SRT, SCC; ffmpeg
 * reads all three), or the master's CEA-608 captions — a QuickTime/MP4 `c608` track (ffmpeg's
 * eia_608 stream, `embeddedStream` its index among subtitle streams) or, without one, the captions
 * carried in the H.264/MPEG-2 video itself, which only lavfi's `movie` source (`subcc`) exposes.
 */
export function ffmpegTextTrackArgs(
  source: { readonly type: 'sidecar'; readonly path: string } | { readonly type: 'embedded'; readonly path: string; readonly embeddedStream?: number },
  outPath: string,
): string[] {
  const common = ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error'];
  if (source.type === 'sidecar') return [...common, '-i', source.path, '-f', 'webvtt', outPath];
  if (source.embeddedStream !== undefined) return [...common, '-i', source.path, '-map', `0:s:${source.embeddedStream}`, '-c:s', 'webvtt', '-f', 'webvtt', outPath];
  // lavfi filter-graph escaping: the path is quoted, and ' \ : inside it are escaped.
  const escaped = source.path.replace(/[\\':]/g, (char) => `\\${char}`);
  return [...common, '-f', 'lavfi', '-i', `movie='${escaped}'[out0+subcc]`, '-map', '0:s:0', '-c:s', 'webvtt', '-f', 'webvtt', outPath];
}
