/**
 * The platform's shared identifiers and the rules that say what a valid one is: the one home of every
 * name and pattern that crosses a boundary (stack ↔ handler ↔ edge ↔ twin). Anything that checks an
 * asset id, a revision, a country or a pathway id imports the rule from here; a second regex elsewhere
 * is a bug (test/unit/identifiers.test.ts scans for them).
 *
 * docs/architecture.md "Contracts" lists which module owns each contract.
 */

// ---------------------------------------------------------------------------------------------
// Asset ids and revisions (ADR 0020, docs/catalog.md). core/asset-id.ts produces both.

/** Longest asset id the producer makes (`assetIdFromKey`). */
export const MAX_ASSET_ID_LENGTH = 64;
/** `[a-z0-9]` runs joined by single dashes: what `slugify` leaves, so an id is one URL path segment. */
const ASSET_ID_SHAPE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** Whether `value` is an asset id the platform can have produced. */
export function isAssetId(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_ASSET_ID_LENGTH && ASSET_ID_SHAPE.test(value);
}

/** What a caller is told when an asset id is refused. */
export const ASSET_ID_RULE = `lower-case letters and digits in dash-separated words, at most ${MAX_ASSET_ID_LENGTH} characters, e.g. "big-buck"`;

/**
 * Revision ids: `YYYYMMDD-HHMMSS-<24 hex>` (`revisionFromUpload`). Revision paths are immutable, which
 * is what lets the edge cache origin manifests; the exact shape keeps anything else out of those paths.
 */
export const REVISION_PATTERN = /^\d{8}-\d{6}-[0-9a-f]{24}$/;

export function isRevision(value: unknown): value is string {
  return typeof value === 'string' && REVISION_PATTERN.test(value);
}

// ---------------------------------------------------------------------------------------------
// Viewers' countries: ISO 3166-1 alpha-2 as CloudFront reports them (`CloudFront-Viewer-Country`).

/** Exported for the CloudFront Functions, which bake it at build (lib/bundling/cloudfront-function.ts). */
export const COUNTRY_SHAPE = /^[A-Z]{2}$/;
/** What the telemetry records when the viewer's country is unknown; never a routing scope of its own. */
export const UNKNOWN_COUNTRY = 'XX';

/** Whether `value` is an upper-case two-letter country code ("XX" included). */
export function isCountryCode(value: unknown): value is string {
  return typeof value === 'string' && COUNTRY_SHAPE.test(value);
}

/** A country that can be a routing scope: a known country code. */
export function isRoutingCountry(value: unknown): value is string {
  return isCountryCode(value) && value !== UNKNOWN_COUNTRY;
}

/** A header or log value as a country code: upper-cased when it has the shape, else UNKNOWN_COUNTRY. */
export function countryOrUnknown(value: string | undefined): string {
  const upper = value?.trim().toUpperCase();
  return isCountryCode(upper) ? upper : UNKNOWN_COUNTRY;
}

// ---------------------------------------------------------------------------------------------
// Pathway ids: HLS PATHWAY-ID, DASH serviceLocation, CMCD `cdn`, DynamoDB keys and construct ids.

/**
 * Lower-case letter first, then lower-case letters, digits and "-", at most 31 characters: inside what
 * HLS Content Steering allows for a Pathway ID (`[a-zA-Z0-9]`, `.`, `-`, `_`) and safe in every key.
 */
export const PATHWAY_ID_PATTERN = /^[a-z][a-z0-9-]{0,30}$/;
export const PATHWAY_ID_RULE = 'must be lower-case letters, digits and "-", starting with a letter (at most 31)';

export function isPathwayId(value: unknown): value is string {
  return typeof value === 'string' && PATHWAY_ID_PATTERN.test(value);
}

/** A pathway's viewer-facing host: a DNS name, optionally with a port (the twin's CDNs differ only by port). */
const PATHWAY_HOST_SHAPE = /^(?=.{1,253}(:|$))[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(:\d{1,5})?$/;

/** Whether `value` can be written into manifests and URLs as a pathway's host. */
export function isPathwayHost(value: unknown): value is string {
  return typeof value === 'string' && PATHWAY_HOST_SHAPE.test(value);
}

// ---------------------------------------------------------------------------------------------
// S3 key layout (docs/catalog.md).

/** Masters are dropped under this prefix of the upload bucket (ADR 0021). */
export const UPLOAD_PREFIX = 'uploads/';
/** Encoded output: `media/<assetId>/<revision>/…` in the origin bucket. */
export const MEDIA_PREFIX = 'media/';

export function mediaPrefixOf(assetId: string, revision?: string): string {
  return revision === undefined ? `${MEDIA_PREFIX}${assetId}/` : `${MEDIA_PREFIX}${assetId}/${revision}/`;
}

// ---------------------------------------------------------------------------------------------
// Events the platform publishes on its bus (docs/catalog.md "Events").

/** `source` of every catalog event. */
export const CATALOG_EVENT_SOURCE = 'streaming.catalog';
export const ASSET_READY = 'Asset Ready';
export const ASSET_FAILED = 'Asset Failed';
export const ASSET_REMOVED = 'Asset Removed';
/** A takedown was accepted; the takedown worker does the work (ADR 0011). */
export const ASSET_TAKEDOWN_REQUESTED = 'Asset Takedown Requested';

// ---------------------------------------------------------------------------------------------
// Metrics: the Powertools namespace the functions write and the alarms watch.

export const METRICS_NAMESPACE = 'StreamingPlatform';

// ---------------------------------------------------------------------------------------------
// Browser access (CORS). Players run on the customer's origin, so viewer-facing endpoints allow any
// origin; nothing carries credentials (the token is in the path), so `*` is safe. One policy per kind
// of endpoint, applied alike by the CDK (response headers policy), the edge functions' own answers and
// the twin's CloudFront stand-in.

export interface CorsPolicy {
  readonly allowMethods: readonly string[];
  readonly allowHeaders: readonly string[];
  readonly exposeHeaders: readonly string[];
  readonly maxAgeSeconds: number;
}

/** CMCD v1 request headers (CTA-5004) players may send; not CORS-safelisted, so they must be allowed. */
export const CMCD_REQUEST_HEADERS = ['CMCD-Request', 'CMCD-Object', 'CMCD-Status', 'CMCD-Session'] as const;

/** The delivery distributions: segments and media playlists, with byte ranges and CMCD headers. */
export const DELIVERY_CORS: CorsPolicy = {
  allowMethods: ['GET', 'HEAD', 'OPTIONS'],
  allowHeaders: [...CMCD_REQUEST_HEADERS, 'Range'],
  // X-Token-Error: lets a player (and an operator's browser console) read why the edge refused.
  exposeHeaders: ['Content-Length', 'Content-Range', 'Age', 'X-Token-Error'],
  maxAgeSeconds: 86_400,
};

/** The gateway's steering function: multivariant playlists, MPDs and steering manifests. */
export const STEERING_CORS: CorsPolicy = {
  allowMethods: ['GET', 'HEAD', 'OPTIONS'],
  allowHeaders: [...CMCD_REQUEST_HEADERS],
  exposeHeaders: ['X-Token-Error'],
  maxAgeSeconds: 86_400,
};

/** The CMCD report endpoint: `POST` with `Content-Type: application/cmcd` (not safelisted: preflighted). */
export const REPORT_CORS: CorsPolicy = {
  allowMethods: ['POST', 'OPTIONS'],
  allowHeaders: ['Content-Type'],
  exposeHeaders: [],
  maxAgeSeconds: 86_400,
};

/** Headers of a preflight (`OPTIONS`) answer under `policy`, lower-case names. */
export function corsPreflightHeaders(policy: CorsPolicy): Record<string, string> {
  return {
    'access-control-allow-origin': '*',
    'access-control-allow-methods': policy.allowMethods.join(', '),
    'access-control-allow-headers': policy.allowHeaders.join(', '),
    'access-control-max-age': String(policy.maxAgeSeconds),
  };
}

/** Headers every actual response under `policy` carries, lower-case names. */
export function corsResponseHeaders(policy: CorsPolicy): Record<string, string> {
  return {
    'access-control-allow-origin': '*',
    ...(policy.exposeHeaders.length > 0 ? { 'access-control-expose-headers': policy.exposeHeaders.join(', ') } : {}),
  };
}
