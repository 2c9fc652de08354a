/**
 * Path-token URL helpers (docs/token.md "Where the token goes"): playback URLs are `/<token>/<rest>` so
 * that relative URIs inside manifests inherit the token.
 */

/**
 * Splits `/<token>/<rest>`. Returns null when there is no non-empty first segment followed by a path;
 * `rest` keeps its leading "/" and is what the origin sees once the token is stripped.
 */
export function splitTokenPath(uri: string): { token: string; rest: string } | null {
  if (uri.charCodeAt(0) !== 0x2f /* "/" */) return null;
  const end = uri.indexOf('/', 1);
  if (end <= 1 || end === uri.length - 1) return null;
  return { token: uri.slice(1, end), rest: uri.slice(end) };
}

/**
 * The asset a token-stripped path belongs to: `/media/<aid>/<rev>/…`, `/play/<aid>/…` or `/steer/<aid>`.
 *
 * Returns null for any other shape and for paths an intermediary could resolve to a different asset:
 * dot segments (`/media/a/../b/…`, RFC 3986 §5.2.4 remove_dot_segments), and percent-encoded dots,
 * slashes or backslashes that a later decoder could turn into them.
 */
export function assetIdOfPath(rest: string): string | null {
  let start: number;
  let needsMore: boolean;
  if (rest.startsWith('/media/')) {
    start = 7;
    needsMore = true;
  } else if (rest.startsWith('/play/')) {
    start = 6;
    needsMore = true;
  } else if (rest.startsWith('/steer/')) {
    start = 7;
    needsMore = false;
  } else {
    return null;
  }
  if (hasAmbiguousSegments(rest)) return null;
  const end = rest.indexOf('/', start);
  if (end === -1) return needsMore || start === rest.length ? null : rest.slice(start);
  if (end === start) return null;
  // /media and /play need something after the asset id; /steer/<aid> takes no further path.
  if (!needsMore || end === rest.length - 1) return null;
  return rest.slice(start, end);
}

function hasAmbiguousSegments(path: string): boolean {
  if (path.indexOf('\\') !== -1) return true;
  if (path.indexOf('%') !== -1 && /%(2e|2f|5c)/i.test(path)) return true;
  if (path.indexOf('/.') === -1) return false;
  // Only whole "." and ".." segments are resolved by normalisers; names that merely start with "." are not.
  return /\/\.\.?(?:\/|$)/.test(path);
}
