import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { fitsCap, NO_CAP, type RenditionCap } from './device-class';
import { assertRewriteInput, type ManifestRewriteInput } from './hls-multivariant';
import { mediaBaseUrl } from './playback-paths';

/**
 * Multi-pathway DASH MPD for content steering (docs/steering.md; ADR 0042).
 *
 * Adds one MPD-level `<BaseURL serviceLocation="<pathway>">https://<host>/<token>/media/<aid>/<rev>/</BaseURL>`
 * per pathway and a `<ContentSteering defaultServiceLocation="<first>" queryBeforeStart="true">`
 * element whose text is the absolute steering server URL (ETSI TS 103 998 / DASH-IF CTS 001;
 * ISO/IEC 23009-1 6th ed. places ContentSteering as the last child of MPD). The URL must be
 * absolute: dash.js 5 requests `ContentSteering` text as is, without resolving it against the MPD.
 * `queryBeforeStart="true"` makes the player ask the steering server before the first segment, so
 * the session's ranking applies from the start.
 *
 * Parsing uses fast-xml-parser (order-preserving mode) once per origin MPD and device cap; the
 * result is a template with two slots, so a request only concatenates strings.
 */

export class InvalidOriginMpdError extends Error {
  constructor(reason: string) {
    super(`origin MPD is not usable: ${reason}`);
    this.name = 'InvalidOriginMpdError';
  }
}

/** fast-xml-parser's order-preserving node: `{ [tagName]: children, ':@'?: attributes }`. */
type XmlNode = Record<string, unknown>;
type Attributes = Record<string, string>;

const ATTRS = ':@';
const SLOT_BASE_URLS = '__steering_base_urls__';
const SLOT_STEERING = '__steering_server__';

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
});

const builder = new XMLBuilder({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  format: false,
  suppressEmptyNode: true,
  processEntities: true,
});

const tagOf = (node: XmlNode): string | undefined => Object.keys(node).find((k) => k !== ATTRS);
const childrenOf = (node: XmlNode): XmlNode[] => {
  const tag = tagOf(node);
  const children = tag === undefined ? undefined : node[tag];
  return Array.isArray(children) ? (children as XmlNode[]) : [];
};
const attrsOf = (node: XmlNode): Attributes => (node[ATTRS] as Attributes | undefined) ?? {};
const textOf = (node: XmlNode): string =>
  childrenOf(node)
    .map((c) => (typeof c['#text'] === 'string' ? c['#text'] : ''))
    .join('');

interface MpdTemplate {
  readonly head: string;
  readonly middle: string;
  readonly tail: string;
}

/** Parsed, immutable form of one origin MPD. Cache it per S3 key. */
export interface OriginMpd {
  readonly tree: readonly XmlNode[];
  /** Relative MPD-level BaseURL of the origin (folded into each pathway's BaseURL), or "". */
  readonly baseUrlSuffix: string;
  /** Built templates per device cap; filled lazily (revision manifests are immutable). */
  readonly templates: Map<string, MpdTemplate>;
}

export function parseOriginMpd(text: string): OriginMpd {
  let tree: XmlNode[];
  try {
    tree = parser.parse(text) as XmlNode[];
  } catch (error) {
    throw new InvalidOriginMpdError(`not well-formed XML (${(error as Error).message})`);
  }
  const mpd = tree.find((n) => tagOf(n) === 'MPD');
  if (mpd === undefined) throw new InvalidOriginMpdError('no MPD root element');
  const children = childrenOf(mpd);
  if (!children.some((c) => tagOf(c) === 'Period')) throw new InvalidOriginMpdError('no Period');
  const firstBase = children.find((c) => tagOf(c) === 'BaseURL');
  const base = firstBase === undefined ? '' : textOf(firstBase).trim();
  // An absolute origin BaseURL points at the origin itself, which viewers must not use.
  const baseUrlSuffix = base === '' || /^[A-Za-z][A-Za-z0-9+.-]*:/.test(base) || base.startsWith('/') ? '' : base.replace(/^\.\//, '');
  if (baseUrlSuffix.split('/').includes('..')) throw new InvalidOriginMpdError('MPD BaseURL leaves the revision folder');
  return { tree, baseUrlSuffix, templates: new Map() };
}

function representationSize(rep: XmlNode, set: XmlNode): { width?: number; height?: number; bandwidth?: number } {
  const num = (v: string | undefined): number | undefined => (v === undefined || v === '' ? undefined : Number(v));
  const ra = attrsOf(rep);
  const sa = attrsOf(set);
  return { width: num(ra.width ?? sa.width), height: num(ra.height ?? sa.height), bandwidth: num(ra.bandwidth) };
}

/** Removes Representations above the cap from every AdaptationSet, keeping the smallest if none fits. */
function applyCap(period: XmlNode, cap: RenditionCap): void {
  for (const set of childrenOf(period)) {
    if (tagOf(set) !== 'AdaptationSet') continue;
    const children = childrenOf(set);
    const reps = children.filter((c) => tagOf(c) === 'Representation');
    if (reps.length === 0) continue;
    const fits = reps.filter((r) => {
      const s = representationSize(r, set);
      return fitsCap(cap, s.width, s.height, s.bandwidth);
    });
    let keep = new Set(fits);
    if (keep.size === 0) {
      const short = (r: XmlNode): number => {
        const s = representationSize(r, set);
        return s.width === undefined || s.height === undefined ? 0 : Math.min(s.width, s.height);
      };
      const smallest = Math.min(...reps.map(short));
      keep = new Set(reps.filter((r) => short(r) === smallest));
    }
    const tag = tagOf(set) as string;
    set[tag] = children.filter((c) => tagOf(c) !== 'Representation' || keep.has(c));
  }
}

/** Child order of MPD (ISO/IEC 23009-1 MPDtype): BaseURL goes after ProgramInformation, before the rest. */
function insertSlots(mpd: XmlNode): void {
  const tag = tagOf(mpd) as string;
  const kept = childrenOf(mpd).filter((c) => {
    const t = tagOf(c);
    return t !== 'BaseURL' && t !== 'ContentSteering';
  });
  const afterProgramInfo = kept.reduce((at, c, i) => (tagOf(c) === 'ProgramInformation' ? i + 1 : at), 0);
  kept.splice(afterProgramInfo, 0, { [SLOT_BASE_URLS]: [] });
  kept.push({ [SLOT_STEERING]: [] });
  mpd[tag] = kept;
}

function templateFor(origin: OriginMpd, cap: RenditionCap): MpdTemplate {
  const key = `${cap.maxShortSide}/${cap.maxBandwidth}`;
  const cached = origin.templates.get(key);
  if (cached !== undefined) return cached;
  const tree = structuredClone(origin.tree) as XmlNode[];
  const mpd = tree.find((n) => tagOf(n) === 'MPD') as XmlNode;
  if (cap !== NO_CAP) for (const period of childrenOf(mpd).filter((c) => tagOf(c) === 'Period')) applyCap(period, cap);
  insertSlots(mpd);
  const xml = builder.build(tree) as string;
  const [head, rest] = xml.split(`<${SLOT_BASE_URLS}/>`);
  const [middle, tail] = rest.split(`<${SLOT_STEERING}/>`);
  const template = { head, middle, tail };
  origin.templates.set(key, template);
  return template;
}

const escapeXml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;'));

export function buildSteeredMpd(origin: OriginMpd, input: ManifestRewriteInput): string {
  assertRewriteInput(input);
  const t = templateFor(origin, input.cap ?? NO_CAP);
  let baseUrls = '';
  for (const p of input.pathways) {
    const url = `${mediaBaseUrl(p.host, input.token, input.assetId, input.revision, input.scheme)}${origin.baseUrlSuffix}`;
    baseUrls += `<BaseURL serviceLocation="${escapeXml(p.id)}">${escapeXml(url)}</BaseURL>`;
  }
  const steering =
    `<ContentSteering defaultServiceLocation="${escapeXml(input.pathways[0].id)}" queryBeforeStart="true">` +
    `${escapeXml(input.steeringServerUri)}</ContentSteering>`;
  return t.head + baseUrls + t.middle + steering + t.tail;
}
