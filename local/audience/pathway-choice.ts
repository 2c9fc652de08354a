/**
 * Which CDN pathway a simulated viewer uses, as hls.js 1.7 decides it (content-steering-controller.ts):
 *
 * - the steering server is asked with `_HLS_pathway=<current>` and `_HLS_throughput=<estimate bps>`;
 *   the answer's TTL schedules the next request, its RELOAD-URI replaces the server URI;
 * - on every PATHWAY-PRIORITY the first pathway that is not in the penalty box wins; if that is the
 *   current one, nothing changes (`updatePathwayPriority`);
 * - a request that keeps failing on the current pathway puts it in the penalty box for 300 s
 *   (PATHWAY_PENALTY_DURATION_MS) and moves to the next pathway of the last PATHWAY-PRIORITY, or of the
 *   playlist's order before any steering manifest arrived.
 *
 * Pure: the clock is a parameter, so the decisions are unit-tested with literals.
 */

/** hls.js's PATHWAY_PENALTY_DURATION_MS. */
export const HLS_PATHWAY_PENALTY_MS = 300_000;
/** hls.js's abrEwmaDefaultEstimate (bps): `_HLS_throughput` before the first measurement. */
export const HLS_DEFAULT_ESTIMATE_BPS = 500_000;

/** Pathways a viewer stopped using after failures, and since when. */
export class PenaltyBox {
  private readonly since = new Map<string, number>();

  constructor(readonly durationMs: number = HLS_PATHWAY_PENALTY_MS) {}

  /** Penalises `pathway` from `now`; a pathway already in the box keeps its first time (as hls.js). */
  penalize(pathway: string, now: number): void {
    if (!this.isPenalized(pathway, now)) this.since.set(pathway, now);
  }

  isPenalized(pathway: string, now: number): boolean {
    const at = this.since.get(pathway);
    if (at === undefined) return false;
    if (now - at > this.durationMs) {
      this.since.delete(pathway);
      return false;
    }
    return true;
  }
}

export interface SteeringManifest {
  readonly ttlSeconds: number;
  readonly reloadUri?: string;
  readonly priority: readonly string[];
}

export class SteeringManifestError extends Error {
  constructor(reason: string) {
    super(`unusable steering manifest: ${reason}`);
    this.name = 'SteeringManifestError';
  }
}

/** A steering manifest body (HLS Content Steering v1.2 §4; core/steering-manifest.ts writes it). */
export function parseSteeringManifest(body: string, requestUrl: string): SteeringManifest {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new SteeringManifestError('not JSON');
  }
  const m = value as Record<string, unknown>;
  if (m === null || typeof m !== 'object' || m.VERSION !== 1) throw new SteeringManifestError('VERSION is not 1');
  const ttl = typeof m.TTL === 'number' && Number.isFinite(m.TTL) && m.TTL > 0 ? m.TTL : undefined;
  if (ttl === undefined) throw new SteeringManifestError('no positive TTL');
  const priority = Array.isArray(m['PATHWAY-PRIORITY']) ? m['PATHWAY-PRIORITY'].filter((p): p is string => typeof p === 'string') : [];
  const reload = typeof m['RELOAD-URI'] === 'string' ? new URL(m['RELOAD-URI'], requestUrl).href : undefined;
  return { ttlSeconds: ttl, priority, ...(reload ? { reloadUri: reload } : {}) };
}

/** The steering request URL: hls.js sets (replaces) `_HLS_pathway` and `_HLS_throughput` on the server URI. */
export function steeringRequestUrl(serverUri: string, pathway: string, throughputBps: number): string {
  const url = new URL(serverUri);
  url.searchParams.set('_HLS_pathway', pathway);
  url.searchParams.set('_HLS_throughput', String(Math.max(0, Math.floor(throughputBps))));
  return url.href;
}

export interface PathwayContext {
  /** The pathway in use. */
  readonly current: string;
  /** Pathways the multivariant playlist has variants for, in playlist order. */
  readonly available: readonly string[];
  readonly penalties: PenaltyBox;
  readonly now: number;
}

/**
 * The pathway to use after a PATHWAY-PRIORITY arrives: its first pathway that is available and not
 * penalised; the current one when that is it, or when none qualifies (hls.js then keeps going).
 */
export function steeredPathway(priority: readonly string[], ctx: PathwayContext): string {
  for (const id of priority) {
    if (ctx.penalties.isPenalized(id, ctx.now)) continue;
    if (id === ctx.current) return id;
    if (ctx.available.includes(id)) return id;
  }
  return ctx.current;
}

/**
 * After the current pathway failed: penalise it and pick the next pathway in `priority` (the last
 * PATHWAY-PRIORITY, or the playlist's order when no steering manifest arrived yet) that is available and
 * not penalised. Like hls.js, a pathway the manifest leaves out is not a candidate. `undefined` when
 * none is left: the player has nowhere to go.
 */
export function failoverPathway(priority: readonly string[] | undefined, ctx: PathwayContext): string | undefined {
  ctx.penalties.penalize(ctx.current, ctx.now);
  return (priority ?? ctx.available).find((id) => id !== ctx.current && ctx.available.includes(id) && !ctx.penalties.isPenalized(id, ctx.now));
}
