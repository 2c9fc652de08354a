import type { OriginTextReader } from './manifest-cache';

/**
 * Reads an origin manifest through the delivery pathways (ADR 0003): GET
 * `https://<cdn-host>/<token>/media/<aid>/<rev>/main.m3u8` with the viewer's own token, trying the
 * session's pathways best first, each with a short timeout. The edge role needs no S3 grant, and
 * after the first viewer the CDN serves the manifest from its cache.
 *
 * 404 from a pathway means the revision does not exist (all pathways share one origin): null.
 * 403 means the CDN rejected the token that the gateway just accepted — a real fault, not "try the
 * next CDN" material, but the next pathway may still answer (e.g. a stale keyring at one CDN), so
 * it is treated like any other failure. When every pathway fails the last error is thrown (→ 502).
 */

export class OriginFetchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OriginFetchError';
  }
}

export interface PathwayFetchOptions {
  /** Per-pathway timeout. */
  readonly timeoutMs: number;
  /** At most this many pathways are tried for one manifest. */
  readonly maxAttempts?: number;
  /** @default globalThis.fetch (Node 22 runtime at the edge) */
  readonly fetch?: typeof fetch;
  /** Scheme of the delivery pathways (`http` only in the local twin). @default 'https' */
  readonly scheme?: 'https' | 'http';
}

export function createPathwayOriginReader(opts: PathwayFetchOptions): OriginTextReader {
  const doFetch = opts.fetch ?? globalThis.fetch;
  return async ({ key, token, pathways }) => {
    let lastError: unknown = new OriginFetchError('no pathway to fetch the origin manifest from');
    for (const pathway of pathways.slice(0, opts.maxAttempts ?? 3)) {
      const url = `${opts.scheme ?? 'https'}://${pathway.host}/${token}/${key}`;
      try {
        const response = await doFetch(url, { signal: AbortSignal.timeout(opts.timeoutMs), redirect: 'error' });
        if (response.status === 404) return null;
        if (response.ok) return await response.text();
        lastError = new OriginFetchError(`pathway ${pathway.id} answered ${response.status} for ${key}`);
      } catch (error) {
        lastError = new OriginFetchError(`pathway ${pathway.id} failed for ${key}`, { cause: error });
      }
    }
    throw lastError;
  };
}
