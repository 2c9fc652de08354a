/**
 * The ffmpeg side of "one ladder spec, two encoders" (docs/ladder.md; ADR 0070): turns the same `LadderPlan`
 * MediaConvert receives into one ffmpeg invocation that writes CMAF — a DASH `main.mpd` and an HLS
 * `main.m3u8` over ONE set of fMP4 segments, via the `dash` muxer with `-hls_playlist 1`.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import type { LadderPlan, Ratio, VideoRung } from '../../core/media-types';

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
 * One rung's picture, as MediaConvert makes it (ADRs 0026, 0028): deinterlaced first when the job
 * asks for it (bwdif, one frame per frame, only frames flagged interlaced — MediaConvert's
 * DEINTERLACE / NORMAL), then the rung's constant rate (`fps` duplicates and drops like
 * DUPLICATE_DROP, so a variable-rate source comes out constant), then the whole picture onto the
 * rung's raster (STRETCH_TO_OUTPUT: `scale` ignores the source's pixel shape) with square pixels.
 */
export function videoFilterFor(plan: LadderPlan, rung: VideoRung): string {
  return [
    ...(plan.deinterlace ? ['bwdif=mode=send_frame:parity=auto:deint=interlaced'] : []),
    `fps=${rateText(rung.frameRate)}`,
    `scale=${rung.width}:${rung.height}:flags=bicubic`,
    'setsar=1',
  ].join(',');
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
    const params = [`keyint=${gop}`, `min-keyint=${gop}`, 'scenecut=0', 'open-gop=0', ...(level ? [`level-idc=${level}`] : [])];
    return [`-c:v:${index}`, 'libx265', `-profile:v:${index}`, 'main', `-tag:v:${index}`, 'hvc1', ...rate, `-x265-params:v:${index}`, params.join(':')];
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
      `-force_key_frames:v:${index}`, `expr:gte(t,n_forced*${plan.gopSeconds})`,
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

  args.push('-pix_fmt', 'yuv420p', '-preset', 'veryfast');

  const adaptationSets = plan.video.map((_rung, index) => `id=${index},streams=${index}`);
  if (plan.audio.length > 0) adaptationSets.push(`id=${plan.video.length},streams=a`);
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
 * Joins the one-rung video adaptation sets the `dash` muxer wrote into one set per codec family
 * (avc1, hvc1): players switch rungs only within a set. The joined set has the largest size as
 * maxWidth/maxHeight, no `par` (the rungs' pictures differ by a fraction of a pixel), `frameRate`
 * on each Representation and `maxFrameRate` on the set when the rungs' rates differ, and
 * `bitstreamSwitching="false"` (every rung has its own initialization segment).
 */
export function mergeVideoAdaptationSets(mpd: string): string {
  const document = new XMLParser({ ...xmlOptions, parseTagValue: false, parseAttributeValue: false, trimValues: true }).parse(mpd) as XmlNode[];
  const root = document.find((node) => tagOf(node) === 'MPD');
  for (const period of root ? childrenOf(root).filter((node) => tagOf(node) === 'Period') : []) {
    const children = childrenOf(period);
    const byFamily = new Map<string, XmlNode[]>();
    for (const set of children) {
      if (tagOf(set) !== 'AdaptationSet' || attributesOf(set).contentType !== 'video') continue;
      const representation = childrenOf(set).find((node) => tagOf(node) === 'Representation');
      const family = representation ? codecFamily(representation) : '';
      byFamily.set(family, [...(byFamily.get(family) ?? []), set]);
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
 * Finishes the manifests after {@link ffmpegArgsForPlan}'s run: one video adaptation set per codec
 * in `<baseName>.mpd`, and full HEVC codecs strings in it and in `<baseName>.m3u8`.
 */
export async function finishDashManifest(outDir: string, manifestBaseName: string): Promise<void> {
  const mpdPath = join(outDir, `${manifestBaseName}.mpd`);
  const hlsPath = join(outDir, `${manifestBaseName}.m3u8`);
  let mpd = mergeVideoAdaptationSets(await readFile(mpdPath, 'utf8'));
  let hls = await readFile(hlsPath, 'utf8').catch(() => undefined);
  for (const [, id] of mpd.matchAll(/<Representation id="(\d+)"[^>]*codecs="hvc1"/g)) {
    const codecs = hevcCodecString(await readFile(join(outDir, `init-${id}.m4s`)));
    if (!codecs) continue;
    mpd = mpd.replace(new RegExp(`(<Representation id="${id}"[^>]*codecs=)"hvc1"`), `$1"${codecs}"`);
    // The variant whose URI is this representation's media playlist.
    hls = hls?.replace(new RegExp(`(CODECS=")hvc1([",][^\n]*\n(?:#[^\n]*\n)*media_${id}\\.m3u8)`), `$1${codecs}$2`);
  }
  await writeFile(mpdPath, mpd);
  if (hls !== undefined) await writeFile(hlsPath, hls);
}

/** One poster frame at `atSeconds`, scaled to `width` keeping the display aspect ratio (pixel shape included). */
export function ffmpegPosterArgs(inputPath: string, outPath: string, atSeconds: number, width: number): string[] {
  return [
    '-hide_banner', '-nostdin', '-y', '-loglevel', 'error',
    '-ss', atSeconds.toFixed(3),
    '-i', inputPath,
    '-frames:v', '1',
    // Deinterlaced if flagged interlaced, and sized by the display aspect ratio (`dar` counts the
    // source's pixel shape), with square pixels, as the job's frame capture is.
    '-vf', `bwdif=mode=send_frame:deint=interlaced,scale=${width}:trunc(${width}/dar/2)*2,setsar=1`,
    '-q:v', '3',
    outPath,
  ];
}
