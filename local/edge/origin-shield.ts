import { SHIELD_FAILOVER_STATUS_CODES } from '../../core/origin-shield';
import { originSecretMatches } from '../../core/origin-verify';

/**
 * The twin's CloudFront Origin Shield (ADR 0038): one caching layer per shield Region between the
 * distributions' edge caches and S3, which every edge cache of a distribution fetches through.
 *
 * Modelled as CloudFront documents it:
 * - the cache key is the distribution's domain name and the URL path (CloudFront's default cache key,
 *   Developer Guide "Understand the cache key"), so two edge locations of one pathway share an entry while two
 *   pathways (two distributions) each fetch an object once;
 * - concurrent requests for an object not yet in the shield are collapsed into one origin request
 *   (Developer Guide "Use Amazon CloudFront Origin Shield", "Reduced origin load");
 * - only cacheable answers are kept (200 with a TTL > 0, as the edge cache keeps them); an invalidation of a
 *   distribution removes its objects from the shield too.
 *
 * Counters per distribution say what the layer did: `originGets` (requests that left for S3), `shieldHits`
 * (answered from the shield, collapsed requests included) and `shieldMisses` (went on to S3).
 *
 * Mode "shared" (ADR 0098) models the inner distribution with Origin Shield that every pathway uses as its
 * origin: one cache keyed by the inner distribution's domain and the path, so every pathway and edge location
 * shares an entry; its viewer-request check refuses a request without the pathways' secret header (403); and
 * each pathway's origin group fails over to S3 directly on the inner tier's 403/404/5xx or when it is
 * unreachable (`setDown`), counted in `shieldFailovers`. A pathway's invalidation also reaches the shared cache:
 * it stands in for the takedown's invalidation of the inner distribution, which the stack adds to its list.
 */

/** What an origin (S3) fetch answers; the shape the CloudFront stand-in passes around. */
export interface OriginAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

export interface OriginFetchCounters {
  /** Requests that left the CDN for S3 on this distribution's behalf. */
  originGets: number;
  /** Requests the shield answered from its cache (or by joining a fetch already in flight). */
  shieldHits: number;
  /** Requests the shield passed on to S3. */
  shieldMisses: number;
  /** Mode "shared": requests the pathway's origin group sent to S3 directly because the inner tier failed. */
  shieldFailovers: number;
}

export interface OriginShieldFetch {
  /** The distribution's domain name: CloudFront's default cache key scope. */
  readonly cacheScope: string;
  /** The distribution whose counters this request counts in. */
  readonly distributionId: string;
  /** The origin path (token already stripped), e.g. `/media/a/r/seg_1.m4s`. */
  readonly path: string;
  /** Seconds the answer may be kept; 0 keeps nothing. */
  readonly ttlSeconds: (answer: OriginAnswer) => number;
  /** The S3 GET. */
  readonly load: () => Promise<OriginAnswer>;
  /** Mode "shared": the origin-verify header value the pathway sends (its origin custom header). */
  readonly originVerify?: string;
}

export interface OriginShield {
  /** The AWS Region the shield runs in (a label in the twin; in the cloud, `platform.originShield.region`). */
  readonly region: string;
  readonly mode: 'per-pathway' | 'shared';
  /** Mode "shared": makes the inner tier unreachable (`true`) or heals it, to show the origin group's failover. */
  setDown(down: boolean): void;
  fetch(request: OriginShieldFetch): Promise<OriginAnswer>;
  /** Removes the scope's objects whose path matches; returns how many went. */
  invalidate(cacheScope: string, matches: (path: string) => boolean): number;
  /** The counters of one distribution (zeros for one never seen). */
  countersOf(distributionId: string): OriginFetchCounters;
  /** Objects in the shield's cache now. */
  readonly size: number;
}

interface ShieldEntry {
  readonly answer: OriginAnswer;
  readonly expiresAt: number;
}

export interface SharedShieldOptions {
  /** The inner distribution's domain name: the one cache key scope of every pathway. */
  readonly domainName: string;
  /** The value its viewer-request check wants in the origin-verify header. */
  readonly originSecret: string;
}

const FAILOVER_STATUSES: ReadonlySet<number> = new Set(SHIELD_FAILOVER_STATUS_CODES);

export function createOriginShield(options: { readonly region: string; readonly shared?: SharedShieldOptions; readonly now?: () => number }): OriginShield {
  const now = options.now ?? Date.now;
  const shared = options.shared;
  let down = false;
  const cache = new Map<string, ShieldEntry>();
  const inFlight = new Map<string, Promise<OriginAnswer>>();
  const counters = new Map<string, OriginFetchCounters>();
  const countersOf = (distributionId: string): OriginFetchCounters => {
    let found = counters.get(distributionId);
    if (!found) counters.set(distributionId, (found = { originGets: 0, shieldHits: 0, shieldMisses: 0, shieldFailovers: 0 }));
    return found;
  };
  const keyOf = (scope: string, path: string) => `${scope}\u0000${path}`;

  /** The shield's own fetch: from its cache, joining a fetch in flight, or from S3. */
  async function throughShield(request: OriginShieldFetch, scope: string): Promise<OriginAnswer> {
    const key = keyOf(scope, request.path);
    const count = countersOf(request.distributionId);
    const cached = cache.get(key);
    if (cached && cached.expiresAt > now()) {
      count.shieldHits += 1;
      return cached.answer;
    }
    const pending = inFlight.get(key);
    if (pending) {
      count.shieldHits += 1;
      return pending;
    }
    count.shieldMisses += 1;
    count.originGets += 1;
    const fetching = request.load().then((answer) => {
      const ttl = answer.status === 200 ? request.ttlSeconds(answer) : 0;
      if (ttl > 0) cache.set(key, { answer, expiresAt: now() + ttl * 1000 });
      return answer;
    });
    inFlight.set(key, fetching);
    try {
      return await fetching;
    } finally {
      inFlight.delete(key);
    }
  }

  const refused: OriginAnswer = { status: 403, headers: { 'content-type': 'text/plain' }, body: Buffer.from('Forbidden') };
  /** Mode "shared": the pathway's origin group: the inner distribution first, S3 directly on its failure. */
  async function throughSharedTier(request: OriginShieldFetch, tier: SharedShieldOptions): Promise<OriginAnswer> {
    let answer: OriginAnswer | undefined;
    if (!down) {
      // The inner distribution's viewer-request function, before its cache.
      const admitted = request.originVerify !== undefined && originSecretMatches(request.originVerify, tier.originSecret);
      // An S3 error the inner tier could not answer reaches the pathway as its 5xx: fail over.
      answer = admitted ? await throughShield(request, tier.domainName).catch(() => undefined) : refused;
    }
    if (answer !== undefined && !FAILOVER_STATUSES.has(answer.status)) return answer;
    const count = countersOf(request.distributionId);
    count.shieldFailovers += 1;
    count.originGets += 1;
    return request.load();
  }

  return {
    region: options.region,
    mode: shared ? 'shared' : 'per-pathway',
    setDown(value) {
      down = value;
    },
    fetch: (request) => (shared ? throughSharedTier(request, shared) : throughShield(request, request.cacheScope)),
    invalidate(cacheScope, matches) {
      const prefix = keyOf(shared ? shared.domainName : cacheScope, '');
      let removed = 0;
      for (const key of [...cache.keys()]) {
        if (key.startsWith(prefix) && matches(key.slice(prefix.length))) removed += Number(cache.delete(key));
      }
      return removed;
    },
    countersOf: (distributionId) => ({ ...countersOf(distributionId) }),
    get size() {
      return cache.size;
    },
  };
}
