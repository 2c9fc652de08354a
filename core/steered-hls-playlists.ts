/**
 * The part of HLS (RFC 8216bis) a client of the platform needs (the twin's simulated viewers and
 * `npm run smoke`): hls-parser 0.16 reads neither PATHWAY-ID nor EXT-X-CONTENT-STEERING, so this is ours. It reads
 * the multi-pathway multivariant playlist the gateway writes (core/hls-multivariant.ts) and VOD media playlists as the MediaConvert stand-in
 * writes them. Deliberately small and line-based: a viewer parses one multivariant per session and
 * two media playlists per pathway it uses, so cost matters more than covering every tag.
 */

export class PlaylistError extends Error {
  constructor(reason: string) {
    super(`unusable playlist: ${reason}`);
    this.name = 'PlaylistError';
  }
}

/** HLS Content Steering (RFC 8216bis §4.4.6.6): a variant without PATHWAY-ID belongs to pathway ".". */
export const DEFAULT_PATHWAY = '.';

export interface VariantStream {
  readonly pathway: string;
  /** Peak bits per second (BANDWIDTH). */
  readonly bandwidth: number;
  readonly uri: string;
  readonly audioGroup?: string;
  /** STABLE-VARIANT-ID: the same rendition on every pathway, so a pathway switch keeps the rung. */
  readonly stableId?: string;
  /** RESOLUTION, when the playlist gives one (audio-only variants have none). */
  readonly resolution?: { readonly width: number; readonly height: number };
}

export interface MultivariantPlaylist {
  readonly steering?: { readonly serverUri: string; readonly initialPathway?: string };
  /** Pathway ids in the order of their first variant. */
  readonly pathways: readonly string[];
  readonly variants: readonly VariantStream[];
  /** Audio rendition URI per GROUP-ID (the DEFAULT=YES one, else the first). */
  readonly audioByGroup: ReadonlyMap<string, string>;
}

export interface MediaSegment {
  readonly uri: string;
  readonly durationSeconds: number;
}

export interface MediaPlaylist {
  readonly initUri?: string;
  readonly segments: readonly MediaSegment[];
  readonly endList: boolean;
}

/** Attribute list (RFC 8216bis §4.2): `KEY=value` pairs, values may be quoted strings holding commas. */
export function parseAttributes(list: string): Map<string, string> {
  const attributes = new Map<string, string>();
  const pattern = /([A-Z0-9-]+)=("[^"]*"|[^,]*)/g;
  for (let match = pattern.exec(list); match !== null; match = pattern.exec(list)) {
    const raw = match[2]!;
    attributes.set(match[1]!, raw.startsWith('"') ? raw.slice(1, -1) : raw);
  }
  return attributes;
}

const linesOf = (text: string): string[] => text.split('\n').map((line) => line.trim()).filter((line) => line !== '');

function assertHeader(lines: readonly string[]): void {
  if (lines[0] !== '#EXTM3U') throw new PlaylistError('no #EXTM3U header');
}

const resolve = (uri: string, base: string): string => new URL(uri, base).href;

export function parseMultivariant(text: string, baseUrl: string): MultivariantPlaylist {
  const lines = linesOf(text);
  assertHeader(lines);
  let steering: MultivariantPlaylist['steering'];
  const variants: VariantStream[] = [];
  const audioByGroup = new Map<string, string>();
  const pathways: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('#EXT-X-CONTENT-STEERING:')) {
      const a = parseAttributes(line.slice(line.indexOf(':') + 1));
      const serverUri = a.get('SERVER-URI');
      if (serverUri) steering = { serverUri: resolve(serverUri, baseUrl), ...(a.get('PATHWAY-ID') ? { initialPathway: a.get('PATHWAY-ID')! } : {}) };
    } else if (line.startsWith('#EXT-X-MEDIA:')) {
      const a = parseAttributes(line.slice(line.indexOf(':') + 1));
      const group = a.get('GROUP-ID');
      const uri = a.get('URI');
      if (a.get('TYPE') !== 'AUDIO' || !group || !uri) continue;
      if (!audioByGroup.has(group) || a.get('DEFAULT') === 'YES') audioByGroup.set(group, resolve(uri, baseUrl));
    } else if (line.startsWith('#EXT-X-STREAM-INF:')) {
      const a = parseAttributes(line.slice(line.indexOf(':') + 1));
      const uri = lines[i + 1];
      if (uri === undefined || uri.startsWith('#')) throw new PlaylistError('EXT-X-STREAM-INF without a URI line');
      i += 1;
      const bandwidth = Number(a.get('BANDWIDTH'));
      if (!Number.isFinite(bandwidth) || bandwidth <= 0) throw new PlaylistError(`variant without BANDWIDTH: ${uri}`);
      const pathway = a.get('PATHWAY-ID') || DEFAULT_PATHWAY;
      if (!pathways.includes(pathway)) pathways.push(pathway);
      variants.push({
        pathway,
        bandwidth,
        uri: resolve(uri, baseUrl),
        ...(a.get('AUDIO') ? { audioGroup: a.get('AUDIO')! } : {}),
        ...(a.get('STABLE-VARIANT-ID') ? { stableId: a.get('STABLE-VARIANT-ID')! } : {}),
        ...resolutionOf(a.get('RESOLUTION')),
      });
    }
  }
  if (variants.length === 0) throw new PlaylistError('no variant streams');
  return { ...(steering ? { steering } : {}), pathways, variants, audioByGroup };
}

/** RESOLUTION is `<width>x<height>` in decimal pixels (RFC 8216bis §4.4.6.2); anything else is left out. */
function resolutionOf(text: string | undefined): { resolution?: { width: number; height: number } } {
  const match = /^(\d+)x(\d+)$/.exec(text ?? '');
  return match ? { resolution: { width: Number(match[1]), height: Number(match[2]) } } : {};
}

export function parseMediaPlaylist(text: string, baseUrl: string): MediaPlaylist {
  const lines = linesOf(text);
  assertHeader(lines);
  let initUri: string | undefined;
  let endList = false;
  const segments: MediaSegment[] = [];
  let duration: number | undefined;
  for (const line of lines.slice(1)) {
    if (line.startsWith('#EXT-X-MAP:')) {
      const uri = parseAttributes(line.slice(line.indexOf(':') + 1)).get('URI');
      if (uri) initUri = resolve(uri, baseUrl);
    } else if (line.startsWith('#EXTINF:')) {
      duration = Number.parseFloat(line.slice('#EXTINF:'.length));
    } else if (line === '#EXT-X-ENDLIST') {
      endList = true;
    } else if (!line.startsWith('#')) {
      if (duration === undefined || !Number.isFinite(duration) || duration < 0) throw new PlaylistError(`segment without EXTINF: ${line}`);
      segments.push({ uri: resolve(line, baseUrl), durationSeconds: duration });
      duration = undefined;
    }
  }
  if (segments.length === 0) throw new PlaylistError('no media segments');
  return { ...(initUri ? { initUri } : {}), segments, endList };
}

/**
 * The rung a viewer plays on `pathway`: the highest BANDWIDTH within `budgetBps`, else the lowest; rungs
 * in `exclude` (URIs that failed) only when nothing else is left. hls.js's ABR does the same with its
 * bandwidth estimate times a safety factor (abrBandWidthUpFactor 0.7), skipping levels with load errors.
 */
export function pickVariant(playlist: MultivariantPlaylist, pathway: string, budgetBps: number, exclude: ReadonlySet<string> = new Set()): VariantStream {
  const onPathway = playlist.variants.filter((v) => v.pathway === pathway);
  if (onPathway.length === 0) throw new PlaylistError(`no variant on pathway ${pathway}`);
  const usable = onPathway.filter((v) => !exclude.has(v.uri));
  const own = usable.length > 0 ? usable : onPathway;
  const sorted = [...own].sort((a, b) => a.bandwidth - b.bandwidth);
  return sorted.filter((v) => v.bandwidth <= budgetBps).pop() ?? sorted[0]!;
}

/** The same rendition (STABLE-VARIANT-ID, else the same BANDWIDTH) on another pathway. */
export function sameVariantOn(playlist: MultivariantPlaylist, variant: VariantStream, pathway: string): VariantStream | undefined {
  const own = playlist.variants.filter((v) => v.pathway === pathway);
  return (
    (variant.stableId !== undefined ? own.find((v) => v.stableId === variant.stableId) : undefined) ??
    own.find((v) => v.bandwidth === variant.bandwidth)
  );
}

/**
 * The rungs of `start`'s pathway in the order hls.js tries them when `start` fails: `start` itself, then
 * the next lower, wrapping round to the highest (error-controller.ts `getLevelSwitchAction`, levels
 * sorted by bitrate).
 */
export function rungsInFailoverOrder(playlist: MultivariantPlaylist, start: VariantStream): VariantStream[] {
  const rungs = playlist.variants.filter((v) => v.pathway === start.pathway).sort((a, b) => a.bandwidth - b.bandwidth);
  const at = rungs.findIndex((v) => v.uri === start.uri);
  return rungs.map((_, step) => rungs[(at - step + rungs.length) % rungs.length]!);
}
