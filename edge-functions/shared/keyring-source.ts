import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parseKeyring, type Keyring } from '../../core/keyring';

/**
 * The playback keyring as an edge function sees it (docs/token.md "Keys"; ADR 0032): fetched from Secrets
 * Manager at cold start, from the replica in the region the function runs in when there is one; kept in
 * memory; refreshed in the background so requests never wait once a keyring is loaded.
 */

/** Baked per function (edge functions have no environment variables). */
export interface KeyringSourceConfig {
  /** Secret *name*: replicas share the name, while ARNs differ per region. */
  readonly secretId: string;
  /** Regions holding a copy (primary and replicas). */
  readonly regions: readonly string[];
  /** Per-region fetch timeout; the next region is tried after it. */
  readonly timeoutMs: number;
  /** Age after which a request triggers a background refresh. */
  readonly refreshSeconds: number;
}

/** Reads the secret string from one region. Must honour `signal` (the source also stops waiting on its own). */
export type SecretReader = (region: string, secretId: string, signal: AbortSignal) => Promise<string>;

export interface KeyringSourceDeps {
  /** Region the function executes in; Lambda sets AWS_REGION at the edge too. */
  readonly executingRegion?: string;
  /** @default - GetSecretValue through one SDK client per region, created on first use */
  readonly readSecret?: SecretReader;
  readonly nowMs?: () => number;
  /** @default - console.warn with region and error name; never the secret */
  readonly onFetchError?: (region: string, error: unknown) => void;
}

export interface KeyringSource {
  /** The cached keyring (synchronously once loaded), or the promise of the first load. Rejects with KeyringUnavailableError. */
  get(): Keyring | Promise<Keyring>;
  /**
   * Fetches again unless the last fetch is younger than `minAgeSeconds`; resolves to the newest keyring,
   * the cached one if the fetch fails. For a kid that may be newer than the cache (ADR 0031).
   */
  refresh(opts?: { minAgeSeconds?: number }): Promise<Keyring>;
  /** The order regions are tried in. */
  readonly regionOrder: readonly string[];
}

/** No region returned a usable keyring. */
export class KeyringUnavailableError extends Error {
  constructor(readonly regionsTried: readonly string[], options?: { cause?: unknown }) {
    super(`keyring unavailable from ${regionsTried.join(', ') || 'no region'}`, options);
    this.name = 'KeyringUnavailableError';
  }
}

/**
 * Lambda@Edge viewer-request functions have a 5 s limit (CloudFront Developer Guide, "Quotas on
 * Lambda@Edge"); a cold start must leave time for the request itself, so all regions share this budget.
 */
const TOTAL_FETCH_BUDGET_MS = 4000;
/** After every region failed, fail fast for this long instead of making each request wait for timeouts. */
const RETRY_AFTER_FAILURE_MS = 5000;
/** The region Lambda@Edge functions are created in, and where every deployment keeps a copy. */
const EDGE_HOME_REGION = 'us-east-1';

export function createKeyringSource(config: KeyringSourceConfig, deps: KeyringSourceDeps = {}): KeyringSource {
  const order = regionOrder(config.regions, deps.executingRegion);
  const readSecret = deps.readSecret ?? sdkSecretReader();
  const nowMs = deps.nowMs ?? Date.now;
  const onFetchError = deps.onFetchError ?? ((region, error) => console.warn(`keyring fetch from ${region} failed: ${errorName(error)}`));
  const refreshMs = config.refreshSeconds * 1000;

  let keyring: Keyring | undefined;
  let secretText: string | undefined;
  let fetchedAtMs = 0;
  let failedAtMs = Number.NEGATIVE_INFINITY;
  let inflight: Promise<Keyring> | undefined;

  async function fetchFromRegions(): Promise<Keyring> {
    const started = nowMs();
    const tried: string[] = [];
    let lastError: unknown;
    for (const region of order) {
      const remaining = TOTAL_FETCH_BUDGET_MS - (nowMs() - started);
      if (remaining <= 0) break;
      tried.push(region);
      try {
        const text = await withTimeout((signal) => readSecret(region, config.secretId, signal), Math.min(config.timeoutMs, remaining));
        // An unchanged secret keeps the same Keyring object, so the verifier's per-keyring caches survive.
        const next = text === secretText && keyring !== undefined ? keyring : parseKeyring(text);
        keyring = next;
        secretText = text;
        fetchedAtMs = nowMs();
        return next;
      } catch (error) {
        lastError = error;
        onFetchError(region, error);
      }
    }
    failedAtMs = nowMs();
    throw new KeyringUnavailableError(tried, { cause: lastError });
  }

  function startFetch(): Promise<Keyring> {
    inflight ??= fetchFromRegions().finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  return {
    regionOrder: order,
    get() {
      if (keyring !== undefined) {
        if (nowMs() - fetchedAtMs >= refreshMs && inflight === undefined && nowMs() - failedAtMs >= RETRY_AFTER_FAILURE_MS) {
          // Background refresh: the stale keyring keeps serving; a failure is logged by fetchFromRegions.
          startFetch().catch(() => undefined);
        }
        return keyring;
      }
      if (inflight !== undefined) return inflight;
      if (nowMs() - failedAtMs < RETRY_AFTER_FAILURE_MS) return Promise.reject(new KeyringUnavailableError([]));
      return startFetch();
    },
    async refresh(opts = {}) {
      const minAgeMs = (opts.minAgeSeconds ?? 0) * 1000;
      if (keyring !== undefined && (nowMs() - fetchedAtMs < minAgeMs || nowMs() - failedAtMs < RETRY_AFTER_FAILURE_MS)) return keyring;
      try {
        return await startFetch();
      } catch (error) {
        if (keyring !== undefined) return keyring;
        throw error;
      }
    },
  };
}

/**
 * Executing region first when it holds a replica; otherwise replicas in the same geography (same
 * region-name prefix, e.g. "eu-"), then us-east-1, then the rest in configured order.
 */
export function regionOrder(regions: readonly string[], executingRegion: string | undefined): string[] {
  const unique = [...new Set(regions)];
  const geography = executingRegion?.split('-')[0];
  const rank = (region: string): number => {
    if (region === executingRegion) return 0;
    if (geography !== undefined && region.split('-')[0] === geography) return 1;
    if (region === EDGE_HOME_REGION) return 2;
    return 3;
  };
  // Array.prototype.sort is stable, so equal ranks keep the configured order.
  return unique.sort((a, b) => rank(a) - rank(b));
}

function sdkSecretReader(): SecretReader {
  const clients = new Map<string, SecretsManagerClient>();
  return async (region, secretId, signal) => {
    let client = clients.get(region);
    if (client === undefined) {
      // One attempt per region: the caller's timeout moves on to the next replica instead of retrying here.
      client = new SecretsManagerClient({ region, maxAttempts: 1 });
      clients.set(region, client);
    }
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }), { abortSignal: signal });
    if (out.SecretString === undefined) throw new Error('secret has no SecretString');
    return out.SecretString;
  };
}

class FetchTimeoutError extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = 'FetchTimeoutError';
  }
}

async function withTimeout<T>(run: (signal: AbortSignal) => Promise<T>, ms: number): Promise<T> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new FetchTimeoutError(ms));
    }, ms);
  });
  try {
    return await Promise.race([run(controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function errorName(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Validates the `keyring` block of a baked edge configuration; throws with the bad member named. */
export function parseKeyringSourceConfig(raw: unknown): KeyringSourceConfig {
  if (typeof raw !== 'object' || raw === null) throw new TypeError('keyring: must be an object');
  const r = raw as Record<string, unknown>;
  if (typeof r.secretId !== 'string' || r.secretId.length === 0) throw new TypeError('keyring.secretId: must be a non-empty secret name');
  if (!Array.isArray(r.regions) || r.regions.length === 0 || !r.regions.every((x) => typeof x === 'string' && /^[a-z]{2}(-[a-z]+)+-\d$/.test(x))) {
    throw new TypeError(`keyring.regions: must be a non-empty list of region names, got ${JSON.stringify(r.regions)}`);
  }
  if (typeof r.timeoutMs !== 'number' || !(r.timeoutMs > 0 && r.timeoutMs <= TOTAL_FETCH_BUDGET_MS)) {
    throw new TypeError(`keyring.timeoutMs: must be in (0, ${TOTAL_FETCH_BUDGET_MS}], got ${String(r.timeoutMs)}`);
  }
  if (typeof r.refreshSeconds !== 'number' || !(r.refreshSeconds >= 1)) throw new TypeError(`keyring.refreshSeconds: must be >= 1, got ${String(r.refreshSeconds)}`);
  return { secretId: r.secretId, regions: r.regions as string[], timeoutMs: r.timeoutMs, refreshSeconds: r.refreshSeconds };
}
