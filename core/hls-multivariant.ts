import { fitsCap, NO_CAP, type RenditionCap } from './device-class';
import { mediaBaseUrl, type UrlScheme } from './playback-paths';
import { dynamicRangeOfOutputName } from './dynamic-range';
import { isPathwayHost, isPathwayId } from './identifiers';

/**
 * Multi-pathway HLS multivariant playlist for content steering (docs/steering.md).
 *
 * Input: the origin `main.m3u8` as MediaConvert's CMAF output group writes it (variants with
 * relative URIs, EXT-X-MEDIA audio groups, optional I-frame playlists). Output: every variant once
 * per pathway with PATHWAY-ID, absolute per-CDN URIs carrying the token, per-pathway rendition
 * GROUP-IDs, and EXT-X-CONTENT-STEERING (HLS Content Steering specification v1.2; RFC 8216bis
 * §4.4.6.6).
 *
 * Why per-pathway GROUP-IDs: a rendition group holds URIs, and a URI belongs to one CDN. If two
 * pathways shared `GROUP-ID="aac"`, audio would keep coming from the first CDN after steering moved
 * video away from it. hls.js itself names cloned groups per pathway for the same reason.
 *
 * Speed: origin playlists of a revision are immutable, so the edge parses one once
 * (`parseOriginMultivariant`) into "compiled" lines — static text with two holes, the pathway id
 * and the media base URL — and each request only concatenates strings. The trade-off against
 * hls-parser is measured in bench/steering.bench.ts and recorded in docs/adr/0042-hls-line-rewrite.md.
 */

export interface ManifestPathway {
  /** HLS PATHWAY-ID / DASH serviceLocation, e.g. "cf-a". */
  readonly id: string;
  /** Delivery host, e.g. "d111111abcdef8.cloudfront.net". */
  readonly host: string;
}

export interface ManifestRewriteInput {
  /** Pathways in this session's priority order; the first is the initial PATHWAY-ID. */
  readonly pathways: readonly ManifestPathway[];
  readonly token: string;
  readonly assetId: string;
  readonly revision: string;
  /** Absolute steering server URL, e.g. https://<gateway>/<token>/steer/<assetId>. */
  readonly steeringServerUri: string;
  /** Device cap; renditions above it are left out (never all of them). Default: no cap. */
  readonly cap?: RenditionCap;
  /** Scheme of the delivery URLs: https in the cloud, http in the local twin. Default: https. */
  readonly scheme?: UrlScheme;
}

export class InvalidOriginPlaylistError extends Error {
  constructor(reason: string) {
    super(`origin playlist is not a usable multivariant playlist: ${reason}`);
    this.name = 'InvalidOriginPlaylistError';
  }
}

export class InvalidRewriteInputError extends Error {
  constructor(reason: string) {
    super(`cannot rewrite manifest: ${reason}`);
    this.name = 'InvalidRewriteInputError';
  }
}

/** Path tokens are base64url segments joined by "."; nothing here may break a quoted-string or a URL. */
const TOKEN_PATTERN = /^[A-Za-z0-9._~-]{1,4096}$/;
const ABSOLUTE_URI = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/** Validates what goes into quoted-strings and URLs of generated manifests (HLS and DASH). */
export function assertRewriteInput(input: ManifestRewriteInput): void {
  if (input.pathways.length === 0) throw new InvalidRewriteInputError('no pathways');
  for (const p of input.pathways) {
    if (!isPathwayId(p.id)) throw new InvalidRewriteInputError(`bad pathway id ${JSON.stringify(p.id)}`);
    if (!isPathwayHost(p.host)) throw new InvalidRewriteInputError(`bad host ${JSON.stringify(p.host)} for pathway ${p.id}`);
  }
  if (!TOKEN_PATTERN.test(input.token)) throw new InvalidRewriteInputError('bad token characters');
  if (/["\s<>]/.test(input.steeringServerUri)) throw new InvalidRewriteInputError('bad steering server URI');
}

// ---------------------------------------------------------------------------------------------
// Compiled form

/** Hole markers inside compiled lines. */
const PID = 0;
const BASE = 1;
type Part = string | typeof PID | typeof BASE;

interface CompiledLine {
  readonly parts: readonly Part[];
}

interface CompiledVariant extends CompiledLine {
  readonly width?: number;
  readonly height?: number;
  readonly bandwidth?: number;
  /** Rendition groups it references, as "TYPE:GROUP-ID". */
  readonly groups: readonly string[];
}

interface CompiledRendition extends CompiledLine {
  readonly groupKey: string;
}

/** Parsed, immutable form of one origin multivariant playlist. Cache it per S3 key. */
export interface OriginMultivariant {
  /** `#EXTM3U` and global tags (VERSION, INDEPENDENT-SEGMENTS, START, SESSION-DATA…), newline-terminated. */
  readonly header: string;
  readonly renditions: readonly CompiledRendition[];
  readonly variants: readonly CompiledVariant[];
  readonly iframeVariants: readonly CompiledVariant[];
}

type Attribute = readonly [name: string, raw: string];

const ATTRIBUTE = /([A-Z0-9-]+)=("[^"]*"|[^,]*)(?:,|$)/y;

/** RFC 8216 §4.2 attribute-list: `NAME=value` pairs, commas inside quoted-strings are data. */
function parseAttributeList(text: string, where: string): Attribute[] {
  const attrs: Attribute[] = [];
  ATTRIBUTE.lastIndex = 0;
  while (ATTRIBUTE.lastIndex < text.length) {
    const start = ATTRIBUTE.lastIndex;
    const m = ATTRIBUTE.exec(text);
    if (m === null || ATTRIBUTE.lastIndex === start) throw new InvalidOriginPlaylistError(`malformed attribute list in ${where}`);
    attrs.push([m[1], m[2]]);
  }
  return attrs;
}

const unquoted = (raw: string): string => (raw.startsWith('"') ? raw.slice(1, -1) : raw);

/** Adjacent static strings merged, so a build does as few concatenations as possible. */
function compact(parts: Part[]): Part[] {
  const out: Part[] = [];
  for (const p of parts) {
    const last = out.length - 1;
    if (typeof p === 'string' && last >= 0 && typeof out[last] === 'string') out[last] = (out[last] as string) + p;
    else out.push(p);
  }
  return out;
}

/**
 * Relative URIs become BASE + path below the revision folder. A URI that climbs out of it
 * ("../other-asset/…") would hand out another asset under this token: refused.
 */
function uriParts(raw: string): Part[] {
  if (ABSOLUTE_URI.test(raw)) return [raw];
  const probeBase = 'https://origin.invalid/r/';
  const resolved = new URL(raw, probeBase).href;
  if (!resolved.startsWith(probeBase)) throw new InvalidOriginPlaylistError(`URI ${JSON.stringify(raw)} leaves the revision folder`);
  return [BASE, resolved.slice(probeBase.length)];
}

/** Group attributes whose ids are renamed per pathway (CLOSED-CAPTIONS groups carry no URI and stay shared). */
const PER_PATHWAY_GROUP_ATTRS: Readonly<Record<string, string>> = { AUDIO: 'AUDIO', VIDEO: 'VIDEO', SUBTITLES: 'SUBTITLES' };

function compileStreamInf(tag: string, attrs: Attribute[], uri: string | undefined, index: number): CompiledVariant {
  const parts: Part[] = [tag];
  const groups: string[] = [];
  let width: number | undefined;
  let height: number | undefined;
  let bandwidth: number | undefined;
  let hasStableId = false;
  let hasVideoRange = false;
  let first = true;
  for (const [name, raw] of attrs) {
    if (name === 'PATHWAY-ID') continue;
    if (name === 'VIDEO-RANGE') hasVideoRange = true;
    parts.push(first ? '' : ',');
    first = false;
    if (name === 'RESOLUTION') {
      const m = /^(\d+)x(\d+)$/.exec(raw);
      if (m) {
        width = Number(m[1]);
        height = Number(m[2]);
      }
    } else if (name === 'BANDWIDTH') {
      bandwidth = Number(raw);
    } else if (name === 'STABLE-VARIANT-ID') {
      hasStableId = true;
    }
    const groupType = PER_PATHWAY_GROUP_ATTRS[name];
    if (groupType !== undefined && raw.startsWith('"')) {
      const group = unquoted(raw);
      groups.push(`${groupType}:${group}`);
      parts.push(`${name}="${group}-`, PID, '"');
    } else if (name === 'URI') {
      parts.push('URI="', ...uriParts(unquoted(raw)), '"');
    } else {
      parts.push(`${name}=${raw}`);
    }
  }
  if (bandwidth === undefined || !Number.isFinite(bandwidth)) throw new InvalidOriginPlaylistError(`${tag} without BANDWIDTH`);
  // RFC 8216bis VIDEO-RANGE (required by Apple's authoring spec for HDR): every video variant says
  // whether it is SDR, PQ or HLG, so players that cannot show HDR pick from the SDR variants. An
  // origin's own is kept; otherwise the rung name in the URI tells it (core/dynamic-range.ts, ADR 0016).
  const variantUri = uri ?? attrs.find(([name]) => name === 'URI')?.[1];
  if (!hasVideoRange && width !== undefined && variantUri !== undefined) {
    parts.push(`,VIDEO-RANGE=${dynamicRangeOfOutputName(unquoted(variantUri))}`);
  }
  // The same STABLE-VARIANT-ID on every pathway tells players the variants are interchangeable.
  if (!hasStableId) parts.push(`,STABLE-VARIANT-ID="${tag.startsWith('#EXT-X-I-FRAME') ? 'i' : 'v'}${index}"`);
  parts.push(',PATHWAY-ID="', PID, '"\n');
  if (uri !== undefined) parts.push(...uriParts(uri), '\n');
  return { parts: compact(parts), width, height, bandwidth, groups };
}

function compileMedia(attrs: Attribute[], index: number): CompiledRendition {
  const type = attrs.find(([n]) => n === 'TYPE')?.[1];
  const groupRaw = attrs.find(([n]) => n === 'GROUP-ID')?.[1];
  if (type === undefined || groupRaw === undefined) throw new InvalidOriginPlaylistError('EXT-X-MEDIA without TYPE or GROUP-ID');
  const perPathway = PER_PATHWAY_GROUP_ATTRS[type] !== undefined;
  const parts: Part[] = ['#EXT-X-MEDIA:'];
  let hasStableId = false;
  attrs.forEach(([name, raw], i) => {
    if (i > 0) parts.push(',');
    if (name === 'GROUP-ID' && perPathway) parts.push(`GROUP-ID="${unquoted(raw)}-`, PID, '"');
    else if (name === 'URI') parts.push('URI="', ...uriParts(unquoted(raw)), '"');
    else parts.push(`${name}=${raw}`);
    if (name === 'STABLE-RENDITION-ID') hasStableId = true;
  });
  if (!hasStableId && perPathway) parts.push(`,STABLE-RENDITION-ID="r${index}"`);
  parts.push('\n');
  // Shared (CLOSED-CAPTIONS) groups are emitted once, with the first pathway's renditions.
  return { parts: compact(parts), groupKey: perPathway ? `${type}:${unquoted(groupRaw)}` : `shared:${type}:${unquoted(groupRaw)}` };
}

/** Parses and compiles an origin multivariant playlist. Throws InvalidOriginPlaylistError. */
export function parseOriginMultivariant(text: string): OriginMultivariant {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines[0]?.trim() !== '#EXTM3U') throw new InvalidOriginPlaylistError('missing #EXTM3U');
  let header = '#EXTM3U\n';
  const renditions: CompiledRendition[] = [];
  const variants: CompiledVariant[] = [];
  const iframeVariants: CompiledVariant[] = [];
  let pendingStreamInf: Attribute[] | null = null;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    if (!line.startsWith('#')) {
      if (pendingStreamInf === null) throw new InvalidOriginPlaylistError(`URI line ${i + 1} without EXT-X-STREAM-INF`);
      variants.push(compileStreamInf('#EXT-X-STREAM-INF:', pendingStreamInf, line, variants.length));
      pendingStreamInf = null;
      continue;
    }
    if (!line.startsWith('#EXT')) continue; // comment
    const colon = line.indexOf(':');
    const tag = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1);
    switch (tag) {
      case '#EXTINF':
      case '#EXT-X-TARGETDURATION':
      case '#EXT-X-MEDIA-SEQUENCE':
        throw new InvalidOriginPlaylistError('this is a media playlist');
      case '#EXT-X-STREAM-INF':
        pendingStreamInf = parseAttributeList(value, `line ${i + 1}`);
        break;
      case '#EXT-X-I-FRAME-STREAM-INF': {
        const attrs = parseAttributeList(value, `line ${i + 1}`);
        if (!attrs.some(([n]) => n === 'URI')) throw new InvalidOriginPlaylistError(`I-frame stream without URI on line ${i + 1}`);
        iframeVariants.push(compileStreamInf('#EXT-X-I-FRAME-STREAM-INF:', attrs, undefined, iframeVariants.length));
        break;
      }
      case '#EXT-X-MEDIA':
        renditions.push(compileMedia(parseAttributeList(value, `line ${i + 1}`), renditions.length));
        break;
      case '#EXT-X-CONTENT-STEERING':
        break; // replaced by ours
      default:
        header += `${line}\n`;
    }
  }
  if (pendingStreamInf !== null) throw new InvalidOriginPlaylistError('EXT-X-STREAM-INF without URI at end of playlist');
  if (variants.length === 0) throw new InvalidOriginPlaylistError('no variant streams');
  return { header, renditions, variants, iframeVariants };
}

// ---------------------------------------------------------------------------------------------
// Build

function shortSide(v: CompiledVariant): number {
  return v.width === undefined || v.height === undefined ? 0 : Math.min(v.width, v.height);
}

/** Variants under the cap; if none fits, the smallest ones, so a capped device still plays. */
function capVariants(variants: readonly CompiledVariant[], cap: RenditionCap, keepOneAtLeast: boolean): readonly CompiledVariant[] {
  if (cap === NO_CAP) return variants;
  const kept = variants.filter((v) => fitsCap(cap, v.width, v.height, v.bandwidth));
  if (kept.length > 0 || !keepOneAtLeast) return kept;
  const smallest = Math.min(...variants.map(shortSide));
  return variants.filter((v) => shortSide(v) === smallest);
}

function emit(out: string, line: CompiledLine, pid: string, base: string): string {
  for (const p of line.parts) out += p === PID ? pid : p === BASE ? base : p;
  return out;
}

export function buildMultivariantPlaylist(origin: OriginMultivariant, input: ManifestRewriteInput): string {
  assertRewriteInput(input);
  const cap = input.cap ?? NO_CAP;
  const variants = capVariants(origin.variants, cap, true);
  const iframes = capVariants(origin.iframeVariants, cap, false);
  const used = new Set<string>();
  for (const v of variants) for (const g of v.groups) used.add(g);
  for (const v of iframes) for (const g of v.groups) used.add(g);

  let out = origin.header;
  out += `#EXT-X-CONTENT-STEERING:SERVER-URI="${input.steeringServerUri}",PATHWAY-ID="${input.pathways[0].id}"\n`;
  input.pathways.forEach((pathway, index) => {
    const base = mediaBaseUrl(pathway.host, input.token, input.assetId, input.revision, input.scheme);
    for (const r of origin.renditions) {
      const shared = r.groupKey.startsWith('shared:');
      if (shared ? index === 0 : used.has(r.groupKey)) out = emit(out, r, pathway.id, base);
    }
    for (const v of variants) out = emit(out, v, pathway.id, base);
    for (const v of iframes) out = emit(out, v, pathway.id, base);
  });
  return out;
}
