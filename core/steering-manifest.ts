/**
 * The content steering manifest and the client's steering query parameters.
 *
 * One JSON body serves HLS and DASH: the HLS Content Steering specification (v1.2, "Steering
 * Manifest") and the published DASH-IF/ETSI content steering specification (ETSI TS 103 998)
 * use the same keys — VERSION, TTL, RELOAD-URI, PATHWAY-PRIORITY — and dash.js 5 reads exactly
 * `PATHWAY-PRIORITY`. (`SERVICE-LOCATION-PRIORITY` came from an early DASH-IF draft.)
 * Decisions are in docs/adr/0041-steering-manifest.md.
 */

export const STEERING_VERSION = 1;
/** hls.js reloads in a tight loop on a manifest without TTL; we never emit one below this. */
export const MIN_TTL_SECONDS = 1;

export interface SteeringManifest {
  readonly VERSION: typeof STEERING_VERSION;
  readonly TTL: number;
  readonly 'RELOAD-URI': string;
  readonly 'PATHWAY-PRIORITY': readonly string[];
}

export interface SteeringManifestInput {
  readonly ttlSeconds: number;
  /**
   * Absolute URL of the next steering request: the same token path, with the session's memory as its
   * query when there is one (core/session-steering.ts), never with the client's own parameters.
   */
  readonly reloadUri: string;
  /** Pathway ids, best first; must not be empty (the specification requires a non-empty array). */
  readonly priority: readonly string[];
}

export class EmptyPathwayPriorityError extends Error {
  constructor() {
    super('a steering manifest needs at least one pathway');
    this.name = 'EmptyPathwayPriorityError';
  }
}

export function buildSteeringManifest(input: SteeringManifestInput): SteeringManifest {
  if (input.priority.length === 0) throw new EmptyPathwayPriorityError();
  const ttl = Number.isFinite(input.ttlSeconds) ? Math.max(MIN_TTL_SECONDS, Math.round(input.ttlSeconds)) : MIN_TTL_SECONDS;
  return { VERSION: STEERING_VERSION, TTL: ttl, 'RELOAD-URI': input.reloadUri, 'PATHWAY-PRIORITY': input.priority };
}

export function serializeSteeringManifest(manifest: SteeringManifest): string {
  return JSON.stringify(manifest);
}

/** What the player told us in the steering request's query string (used per session: ADR 0045, 0046). */
export interface SteeringClientReport {
  readonly protocol: 'hls' | 'dash' | 'unknown';
  /** HLS: the one pathway in use. DASH: the service locations used since the previous request. */
  readonly pathways: readonly string[];
  /** Bits per second, aligned with `pathways` for DASH; undefined where the client had no sample. */
  readonly throughputBps: readonly (number | undefined)[];
}

const unquote = (value: string): string => {
  const v = value.trim();
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1).trim() : v;
};

/**
 * `_HLS_pathway`: the HLS specification shows a quoted-string (`_HLS_pathway="CDN-A"`), hls.js
 * 1.7 sends it unquoted. Both are accepted; an empty value or "." (hls.js's "no pathway yet") is none.
 */
export function parseHlsPathway(value: string | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  const id = unquote(value);
  return id === '' || id === '.' ? undefined : id;
}

/**
 * `_DASH_pathway`: a comma-separated list. dash.js 5 quotes the whole list (`"cf-a,cf-b"`);
 * other clients quote each item (`"cf-a","cf-b"`). Both forms, and unquoted, are accepted.
 */
export function parseDashPathways(value: string | null | undefined): string[] {
  if (value === null || value === undefined) return [];
  return splitQuotedList(value).filter((id) => id !== '');
}

/** Splits on commas, then drops a quote at either end of each item: covers `"a,b"`, `"a","b"` and `a,b`. */
const splitQuotedList = (value: string): string[] => value.split(',').map((item) => item.trim().replace(/^"/, '').replace(/"$/, '').trim());

const parseBps = (value: string): number | undefined => {
  const v = unquote(value);
  if (v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
};

/** `_DASH_throughput`: comma list aligned with `_DASH_pathway`, empty items where there is no sample. */
export function parseDashThroughputs(value: string | null | undefined): (number | undefined)[] {
  if (value === null || value === undefined) return [];
  return splitQuotedList(value).map(parseBps);
}

/** Reads the client's steering parameters from a raw (URL-encoded) query string. */
export function readSteeringQuery(querystring: string): SteeringClientReport {
  return readSteeringReport(new URLSearchParams(querystring));
}

/**
 * Reads the client's steering parameters. Units are bit/s for every player: hls.js 1.7 sends its
 * bandwidth estimate, dash.js 5.2 the mean of its last kbit/s samples × 1000, Shaka Player 5.2 its
 * estimate (its default, 1 Mbit/s, before it has measured).
 */
export function readSteeringReport(params: URLSearchParams): SteeringClientReport {
  if (params.has('_DASH_pathway') || params.has('_DASH_throughput')) {
    return {
      protocol: 'dash',
      pathways: parseDashPathways(params.get('_DASH_pathway')),
      throughputBps: parseDashThroughputs(params.get('_DASH_throughput')),
    };
  }
  if (params.has('_HLS_pathway') || params.has('_HLS_throughput')) {
    const pathway = parseHlsPathway(params.get('_HLS_pathway'));
    const throughput = params.get('_HLS_throughput');
    return {
      protocol: 'hls',
      pathways: pathway === undefined ? [] : [pathway],
      throughputBps: pathway === undefined ? [] : [throughput === null ? undefined : parseBps(throughput)],
    };
  }
  return { protocol: 'unknown', pathways: [], throughputBps: [] };
}
