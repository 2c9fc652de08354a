import type { CloudFrontHeaders, CloudFrontRequestEvent, CloudFrontRequestResult, CloudFrontResultResponse } from 'aws-lambda';
import type { Keyring } from '../../core/keyring';
import { verifyToken, type TokenFailureReason } from '../../core/token';
import { assetIdOfPath, splitTokenPath } from '../../core/token-path';
import { corsPreflightHeaders, corsResponseHeaders, DELIVERY_CORS } from '../../core/identifiers';

/**
 * Viewer-request guard of every delivery distribution (docs/token.md "HTTP mapping"): checks the path
 * token, then strips it so every viewer of an object shares one cache entry.
 */

export interface ViewerAuthDeps {
  /** The keyring; a promise only until the first load finishes (cold start). */
  readonly keyring: () => Keyring | Promise<Keyring>;
  /**
   * Fetches a newer keyring when a token names an unknown kid: after a rotation the signer may know a key
   * this cache does not have yet (ADR 0031). Must rate-limit itself.
   * @default - no refresh; unknown kids are refused
   */
  readonly refreshKeyring?: () => Promise<Keyring>;
  /** Epoch seconds. @default Date.now */
  readonly now?: () => number;
  /** @default DEFAULT_LEEWAY_SECONDS of core/token */
  readonly leewaySeconds?: number;
  /** Called when no keyring can be loaded (the function answers 503). @default console.error */
  readonly onKeyringUnavailable?: (error: unknown) => void;
}

export type ViewerAuthHandler = (event: CloudFrontRequestEvent) => Promise<CloudFrontRequestResult>;

/** Why a request was refused before any token check could run. */
export type ViewerAuthRefusal = TokenFailureReason | 'keyring-unavailable';

export function createViewerAuthHandler(deps: ViewerAuthDeps): ViewerAuthHandler {
  const nowSeconds = deps.now ?? (() => Math.floor(Date.now() / 1000));
  const onKeyringUnavailable = deps.onKeyringUnavailable ?? ((error: unknown) => console.error('playback keyring unavailable', error));
  const leewaySeconds = deps.leewaySeconds;

  return async (event) => {
    const request = event.Records[0]!.cf.request;
    // CORS preflight (players sending CMCD as request headers) carries no token. Answered here: the private
    // S3 origin behind OAC has no CORS configuration and would refuse it.
    if (request.method === 'OPTIONS') return preflightResponse();
    const parts = splitTokenPath(request.uri);
    if (parts === null) return refusalResponse('malformed');
    const assetId = assetIdOfPath(parts.rest);
    // A path outside /media, /play and /steer (or with dot segments) belongs to no asset a token can grant.
    if (assetId === null) return refusalResponse('asset-mismatch');

    let keyring: Keyring;
    try {
      const loaded = deps.keyring();
      keyring = loaded instanceof Promise ? await loaded : loaded;
    } catch (error) {
      onKeyringUnavailable(error);
      return refusalResponse('keyring-unavailable');
    }

    const opts = { nowSeconds: nowSeconds(), assetId, ip: request.clientIp, leewaySeconds };
    let result = verifyToken(parts.token, keyring, opts);
    if (!result.ok && result.reason === 'unknown-kid' && deps.refreshKeyring !== undefined) {
      const newer = await deps.refreshKeyring().catch(() => keyring);
      if (newer !== keyring) result = verifyToken(parts.token, newer, opts);
    }
    if (!result.ok) return refusalResponse(result.reason);
    request.uri = parts.rest;
    return request;
  };
}

/** CloudFront's header map of plain `name: value` pairs. */
function cloudFrontHeaders(entries: Record<string, string>): CloudFrontHeaders {
  return Object.fromEntries(Object.entries(entries).map(([name, value]) => [name.toLowerCase(), [{ key: name, value }]]));
}

// The delivery distributions' CORS policy (core/identifiers.ts), as their response headers policy applies
// it; built once at init, not per request.
const PREFLIGHT_HEADERS = cloudFrontHeaders({ ...corsPreflightHeaders(DELIVERY_CORS), 'cache-control': 'no-store' });
const REFUSAL_CORS_HEADERS = cloudFrontHeaders(corsResponseHeaders(DELIVERY_CORS));

/**
 * The one place refusals become responses. Bodies stay tiny: generated viewer-request responses are
 * limited to 40 KB (CloudFront Developer Guide, "Quotas on Lambda@Edge"), and the reason code in a header
 * is all a player or operator needs; nothing about keys or claims is echoed.
 */
export function preflightResponse(): CloudFrontResultResponse {
  return { status: '204', statusDescription: 'No Content', headers: PREFLIGHT_HEADERS };
}

export function refusalResponse(reason: ViewerAuthRefusal): CloudFrontResultResponse {
  const unavailable = reason === 'keyring-unavailable';
  const headers: CloudFrontHeaders = {
    // Never cache a refusal: the next request may carry a valid token for the same path.
    'cache-control': [{ key: 'Cache-Control', value: 'no-store' }],
    'content-type': [{ key: 'Content-Type', value: 'text/plain; charset=utf-8' }],
    'x-token-error': [{ key: 'X-Token-Error', value: reason }],
    // Lets browser players read the status and reason of a cross-origin refusal.
    ...REFUSAL_CORS_HEADERS,
  };
  if (unavailable) headers['retry-after'] = [{ key: 'Retry-After', value: '5' }];
  return unavailable
    ? { status: '503', statusDescription: 'Service Unavailable', headers, body: 'Service Unavailable\n' }
    : { status: '403', statusDescription: 'Forbidden', headers, body: 'Forbidden\n' };
}
