/**
 * The URL shapes of playback (docs/token.md "Where the token goes"; why the revision is in the URL: ADR 0003):
 *
 *   gateway manifest   https://<gateway>/<token>/play/<assetId>/<revision>/main.m3u8 | main.mpd
 *   steering server    https://<gateway>/<token>/play/<assetId>/<revision>/steering
 *   (before ADR 0036)  https://<gateway>/<token>/steer/<assetId>, still answered, without session memory
 *   delivery media     https://<cdn-host>/<token>/media/<assetId>/<revision>/<file>
 *
 * The token is always the first path segment so that relative URIs in manifests inherit it.
 * Parsing here works on the path *after* the token segment (core/token-path.ts splits it off).
 * The revision is part of the path because the edge cannot read the catalog; revision paths are
 * immutable, which is what lets the steering function cache parsed origin manifests; they still expire
 * after 5 minutes (`MANIFEST_MAX_AGE_MS`, edge-functions/steering/handler.ts) so a takedown reaches
 * warm functions (ADR 0005).
 *
 * The cloud serves https only; the local twin (docs/local-twin.md) has no TLS, so every builder takes an
 * optional scheme that defaults to https.
 */
import { isAssetId, isRevision, mediaPrefixOf } from './identifiers';

/** A media file name below the revision folder, possibly in sub-folders; no "..", no empty segments. */
const MEDIA_FILE = /^(?:[A-Za-z0-9_][A-Za-z0-9._-]*\/)*[A-Za-z0-9_][A-Za-z0-9._-]*$/;

export type ManifestFormat = 'hls' | 'dash';

export const MANIFEST_FILE: Readonly<Record<ManifestFormat, string>> = { hls: 'main.m3u8', dash: 'main.mpd' };

/**
 * The steering server's file, next to the manifests: every player resolves a relative RELOAD-URI
 * `steering?<memory>` to the same URL (hls.js against its last steering URL, dash.js against the MPD's
 * ContentSteering URL, Shaka Player against the manifest URL), so the answer can leave out the token and be
 * shared by every session with the same cache key (ADR 0036).
 */
export const STEERING_FILE = 'steering';

export type PlaybackPath =
  | { readonly kind: 'play'; readonly assetId: string; readonly revision: string; readonly format: ManifestFormat }
  /** `revision` is absent on the pre-ADR 0036 path `/steer/<assetId>`. */
  | { readonly kind: 'steer'; readonly assetId: string; readonly revision?: string }
  | { readonly kind: 'media'; readonly assetId: string; readonly revision: string; readonly file: string };

/**
 * Classifies the path that follows the token segment, e.g. `/play/big-buck/r2/main.m3u8`.
 * Returns null for any other shape (the caller answers 404).
 */
export function parsePlaybackPath(rest: string): PlaybackPath | null {
  if (!rest.startsWith('/')) return null;
  const parts = rest.slice(1).split('/');
  const kind = parts[0];
  if (kind === 'steer') {
    if (parts.length !== 2 || !isAssetId(parts[1])) return null;
    return { kind: 'steer', assetId: parts[1] };
  }
  if (kind === 'play') {
    if (parts.length !== 4 || !isAssetId(parts[1]) || !isRevision(parts[2])) return null;
    if (parts[3] === STEERING_FILE) return { kind: 'steer', assetId: parts[1], revision: parts[2] };
    const format = parts[3] === MANIFEST_FILE.hls ? 'hls' : parts[3] === MANIFEST_FILE.dash ? 'dash' : null;
    if (format === null) return null;
    return { kind: 'play', assetId: parts[1], revision: parts[2], format };
  }
  if (kind === 'media') {
    if (parts.length < 4 || !isAssetId(parts[1]) || !isRevision(parts[2])) return null;
    const file = parts.slice(3).join('/');
    if (!MEDIA_FILE.test(file) || file.split('/').some((p) => p === '.' || p === '..')) return null;
    return { kind: 'media', assetId: parts[1], revision: parts[2], file };
  }
  return null;
}

/** S3 key of an origin object; the origin bucket mirrors the `media/` path without the token. */
export function originKey(assetId: string, revision: string, file: string): string {
  return `${mediaPrefixOf(assetId, revision)}${file}`;
}

/** `https` in the cloud; `http` only in the local twin, which terminates no TLS. */
export type UrlScheme = 'https' | 'http';

/** `https://<host>/<token>/media/<assetId>/<revision>/` — the base that relative manifest URIs resolve against. */
export function mediaBaseUrl(host: string, token: string, assetId: string, revision: string, scheme: UrlScheme = 'https'): string {
  return `${scheme}://${host}/${token}/media/${assetId}/${revision}/`;
}

export function steeringUrl(gatewayHost: string, token: string, assetId: string, revision: string, scheme: UrlScheme = 'https'): string {
  return `${scheme}://${gatewayHost}/${token}/play/${assetId}/${revision}/${STEERING_FILE}`;
}

/** The pre-ADR 0036 steering URL, which sessions started before it still reload. */
export function legacySteeringUrl(gatewayHost: string, token: string, assetId: string, scheme: UrlScheme = 'https'): string {
  return `${scheme}://${gatewayHost}/${token}/steer/${assetId}`;
}

export function playUrl(
  gatewayHost: string,
  token: string,
  assetId: string,
  revision: string,
  format: ManifestFormat,
  scheme: UrlScheme = 'https',
): string {
  return `${scheme}://${gatewayHost}/${token}/play/${assetId}/${revision}/${MANIFEST_FILE[format]}`;
}
