/**
 * The twin's operator API (docs/architecture.md#who-uses-it, "operator"; docs/local-twin.md "The pages"): read-only JSON views of the catalog, the
 * routing table and the QoE rollups for the operator page, plus a proxy to each distribution's fault
 * control API so the page talks to one origin only. Decisions: docs/adr/0080-operator-page.md.
 *
 * It also runs timed CDN breaks ("break cf-b for 60 s", then heal) and keeps a short in-memory
 * history of the routing weights and of the request counters per pathway, from which each break's
 * timeline is derived (local/twin/failover-timeline.ts; ADR 0083).
 *
 * Twin-only: it Scans whole tables, which is fine for a few dozen items in dynalite and would not be
 * in a real account (the deployed operator view is the CloudWatch dashboard).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AssetStatus, Rendition, RevisionStatus } from '../core/asset-status';
import { emptyCounters, addCounters, MINUTE_MS, minuteStartOf } from '../core/qoe-aggregate';
import type { QoeCounters } from '../core/qoe-types';
import { GLOBAL_SCOPE, type PathwayEntry, type WeightsItem } from '../core/routing-types';
import { CatalogTable, type CatalogEntry } from '../tables/catalog-table';
import { RollupsTable, type RollupItem } from '../tables/rollups-table';
import { RoutingTable, type PathwayRegistry } from '../tables/routing-table';
import { readBody, sendJson } from './http-server';
import { breakTimeline, trafficSince, type CdnBreak, type CellCounts, type TimelineEvent, type TrafficBucket, type WeightsSample } from './twin/failover-timeline';

export const OPERATOR_API_PREFIX = '/operator/api/';

export interface OperatorApiDeps {
  readonly documents: DynamoDBDocumentClient;
  readonly tables: { readonly assets: string; readonly routing: string; readonly rollups: string };
  /** Delivery distributions and the base URL of their `/__twin/` control API. */
  readonly distributions: readonly { readonly id: string; readonly controlEndpoint: string }[];
  /** @default Date.now */
  readonly now?: () => number;
  /**
   * How often the weights and request counters are read into the timeline history. 0 samples only
   * when `sample()` is called (tests).
   * @default 0
   */
  readonly sampleEveryMs?: number;
}

export interface OperatorApi {
  /** Handles `/operator/api/*` and answers true; false for any other path. */
  readonly handle: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
  /** Reads the routing weights and the QoE rollups once into the timeline history. */
  sample(): Promise<void>;
  /** Stops sampling and cancels pending heals (the distributions go down with the twin anyway). */
  stop(): void;
}

/** `GET /operator/api/breaks`: every break of the history window, newest first, with its timeline. */
export interface BreaksView {
  readonly generatedAt: string;
  readonly sampleEveryMs: number;
  readonly breaks: readonly (CdnBreak & { readonly events: readonly TimelineEvent[]; readonly healError?: string })[];
  /** Requests per pathway per sampling interval, oldest first. */
  readonly traffic: readonly TrafficBucket[];
  /** Every scope's weights at each sample, oldest first. */
  readonly weights: readonly WeightsSample[];
}

/** `GET /operator/api/assets`, one entry per asset. */
export interface AssetView {
  readonly assetId: string;
  /** Head status, or the latest revision's status when no head was written yet. */
  readonly status: AssetStatus | undefined;
  readonly currentRevision?: string;
  readonly latestRevision?: string;
  readonly updatedAt?: string;
  readonly deletedAt?: string;
  readonly revisionCount: number;
  /** The newest revision item (by revision id, which sorts by upload time). */
  readonly latest?: {
    readonly revision: string;
    readonly status: RevisionStatus;
    readonly sourceKey?: string;
    readonly updatedAt?: string;
    readonly errorReason?: string;
    readonly errorCode?: string;
    readonly durationMs?: number;
    readonly renditions?: readonly Rendition[];
  };
}

/** `GET /operator/api/routing`, one entry per `weights#<scope>` item. */
export interface ScopeWeightsView {
  readonly scope: string;
  readonly weights: Readonly<Record<string, number>>;
  readonly target?: Readonly<Record<string, number>>;
  readonly version: number;
  readonly updatedAt?: string;
  readonly reason?: string;
}

/** Derived QoE figures of a counter sum; null where the denominator is zero. */
export interface QoeFigures {
  readonly requests: number;
  readonly reports: number;
  readonly errors: number;
  readonly stalls: number;
  /** errors / max(requests, reports), the routing scorer's definition (docs/routing.md). */
  readonly errorRate: number | null;
  /** stallMs / (playMs + stallMs): time-based rebuffering ratio. */
  readonly rebufferingRatio: number | null;
  /** TTFB as the CDNs logged it (edge to viewer). */
  readonly meanTtfbMs: number | null;
  /** TTFB as the players reported it (CMCD `ttfb`, network included): a different span, shown apart. */
  readonly meanPlayerTtfbMs: number | null;
  readonly meanThroughputKbps: number | null;
  readonly meanStartupMs: number | null;
}

export interface QoeSeries {
  readonly pathway: string;
  /** Absent for the all-countries series. */
  readonly country?: string;
  /** The whole window summed. */
  readonly total: QoeFigures;
  /** One entry per element of `QoeView.minutes`, in the same order. */
  readonly points: readonly QoeFigures[];
}

/** `GET /operator/api/qoe?minutes=N`. */
export interface QoeView {
  /** Epoch ms of each minute in the window, oldest first; the last one is the current (partial) minute. */
  readonly minutes: readonly number[];
  readonly pathways: readonly QoeSeries[];
  readonly cells: readonly QoeSeries[];
}

export interface FaultsView {
  readonly id: string;
  readonly faults?: Record<string, unknown>;
  /** Set when the distribution's control API could not be reached. */
  readonly error?: string;
}

export const DEFAULT_QOE_MINUTES = 15;
/** A break lasts 60 s unless asked otherwise: long enough to see demotion, short enough to wait for. */
export const DEFAULT_BREAK_SECONDS = 60;
export const MAX_BREAK_SECONDS = 600;
/** How far back the timeline history reaches; older samples and ended breaks are dropped. */
export const HISTORY_MS = 30 * 60_000;
/**
 * The fault a break sets unless asked otherwise: every request answered 503. Unlike a reset
 * connection it is logged, so the error spike reaches the rollups and the routing controller
 * (docs/routing.md: demotion follows errors).
 */
export const DEFAULT_BREAK_FAULTS: Readonly<Record<string, unknown>> = { down: '503' };
/** What each fault field is when it is off; a heal sets the break's fields back to these or to what was set before. */
const FAULTS_OFF: Readonly<Record<string, unknown>> = { down: false, errorRate: 0, latencyMs: 0, throughputKbps: 0 };
/** One Query per minute partition; an hour bounds a single page load to 60 small Queries. */
export const MAX_QOE_MINUTES = 60;
const CONTROL_TIMEOUT_MS = 2_000;

/** A break as the API keeps it: what it set, and the faults it found, to put back when it heals. */
interface BreakRecord {
  readonly id: string;
  readonly pathway: string;
  readonly faults: Record<string, unknown>;
  readonly previous: Record<string, unknown>;
  readonly startedAt: number;
  readonly endsAt: number;
  healedAt?: number;
  healError?: string;
}

class OperatorApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
class NotFoundError extends OperatorApiError {
  constructor(message: string) {
    super(404, message);
  }
}
class BadRequestError extends OperatorApiError {
  constructor(message: string) {
    super(400, message);
  }
}
class MethodNotAllowedError extends OperatorApiError {
  constructor(readonly allowed: string) {
    super(405, 'method not allowed');
  }
}
class ConflictError extends OperatorApiError {
  constructor(message: string) {
    super(409, message);
  }
}
class ControlEndpointError extends OperatorApiError {
  constructor(id: string, cause: string) {
    super(502, `distribution ${id} control API unavailable: ${cause}`);
  }
}

export function createOperatorApi(deps: OperatorApiDeps): OperatorApi {
  const now = deps.now ?? Date.now;
  const distributions = new Map(deps.distributions.map((d) => [d.id, d.controlEndpoint.replace(/\/+$/, '')]));
  const sampleEveryMs = deps.sampleEveryMs ?? 0;
  const breaks: BreakRecord[] = [];
  const healTimers = new Map<string, NodeJS.Timeout>();
  const traffic: TrafficBucket[] = [];
  const weightHistory: WeightsSample[] = [];
  let lastCells = new Map<string, CellCounts>();
  let lastSampleAt: number | undefined;
  let breakCount = 0;

  // Every table is read through its repository (tables/, ADR 0007), like the handlers read them.
  const catalog = new CatalogTable(deps.documents, deps.tables.assets);
  const routingTable = new RoutingTable(deps.documents, deps.tables.routing);
  const rollupsTable = new RollupsTable(deps.documents, deps.tables.rollups);
  const readMinutes = async (minutes: readonly number[]) => (await Promise.all(minutes.map((minute) => rollupsTable.readMinute(minute)))).flat();

  async function assets() {
    return { generatedAt: new Date(now()).toISOString(), assets: assetViews(await catalog.listAssets()) };
  }

  /** One asset, for the player page waiting for it to become READY. */
  async function asset(assetId: string) {
    const entry = await catalog.getAsset(assetId);
    const [view] = assetViews(entry ? [entry] : []);
    if (!view) throw new NotFoundError(`asset ${JSON.stringify(assetId)} is not in the catalog (yet)`);
    return { generatedAt: new Date(now()).toISOString(), asset: view };
  }

  async function routing() {
    return { generatedAt: new Date(now()).toISOString(), ...routingView(await routingTable.readAll()) };
  }

  async function qoe(url: URL) {
    const minutesParam = url.searchParams.get('minutes');
    const count = minutesParam === null ? DEFAULT_QOE_MINUTES : Number(minutesParam);
    if (!Number.isInteger(count) || count < 1 || count > MAX_QOE_MINUTES) {
      throw new BadRequestError(`minutes must be an integer from 1 to ${MAX_QOE_MINUTES}, got ${JSON.stringify(minutesParam)}`);
    }
    const current = minuteStartOf(now());
    const minutes = Array.from({ length: count }, (_, i) => current - (count - 1 - i) * MINUTE_MS);
    return { generatedAt: new Date(now()).toISOString(), ...qoeView(minutes, await readMinutes(minutes)) };
  }

  async function control(id: string, method: 'GET' | 'POST' | 'DELETE', body?: string): Promise<Record<string, unknown>> {
    const endpoint = distributions.get(id);
    if (endpoint === undefined) throw new NotFoundError(`unknown pathway ${JSON.stringify(id)}`);
    let response: Response;
    try {
      response = await fetch(`${endpoint}/__twin/faults`, {
        method,
        ...(body !== undefined ? { body, headers: { 'content-type': 'application/json' } } : {}),
        signal: AbortSignal.timeout(CONTROL_TIMEOUT_MS),
      });
    } catch (error) {
      throw new ControlEndpointError(id, (error as Error).message);
    }
    if (!response.ok) throw new ControlEndpointError(id, `HTTP ${response.status}`);
    return (await response.json()) as Record<string, unknown>;
  }

  async function allFaults(): Promise<{ distributions: FaultsView[] }> {
    const views = await Promise.all(
      [...distributions.keys()].map(async (id): Promise<FaultsView> => {
        try {
          return { id, faults: await control(id, 'GET') };
        } catch (error) {
          return { id, error: (error as Error).message };
        }
      }),
    );
    return { distributions: views };
  }

  /** Sets a break's fields back to what they were before it (or off); other fields are left alone. */
  async function heal(cdnBreak: BreakRecord): Promise<void> {
    clearTimeout(healTimers.get(cdnBreak.id));
    healTimers.delete(cdnBreak.id);
    if (cdnBreak.healedAt !== undefined) return;
    const restore = Object.fromEntries(Object.keys(cdnBreak.faults).map((name) => [name, cdnBreak.previous[name] ?? FAULTS_OFF[name]]));
    try {
      await control(cdnBreak.pathway, 'POST', JSON.stringify(restore));
      cdnBreak.healedAt = now();
      delete cdnBreak.healError;
    } catch (error) {
      // Retried at every sample until the control API answers; shown on the page meanwhile.
      cdnBreak.healError = (error as Error).message;
    }
  }

  async function startBreak(req: IncomingMessage) {
    let body: unknown;
    try {
      const text = (await readBody(req)).toString('utf8');
      body = text.trim() === '' ? {} : JSON.parse(text);
    } catch {
      throw new BadRequestError('body is not JSON');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequestError('body must be a JSON object');
    const { pathway, seconds = DEFAULT_BREAK_SECONDS, faults: requested, ...rest } = body as Record<string, unknown>;
    if (Object.keys(rest).length > 0) throw new BadRequestError(`unknown field(s): ${Object.keys(rest).join(', ')}`);
    if (typeof pathway !== 'string' || !distributions.has(pathway)) {
      throw new BadRequestError(`pathway must be one of ${[...distributions.keys()].join(', ')}, got ${JSON.stringify(pathway)}`);
    }
    if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 1 || seconds > MAX_BREAK_SECONDS) {
      throw new BadRequestError(`seconds must be an integer from 1 to ${MAX_BREAK_SECONDS}, got ${JSON.stringify(seconds)}`);
    }
    const faults = requested === undefined ? { ...DEFAULT_BREAK_FAULTS } : parseFaults(JSON.stringify(requested));
    if (Object.keys(faults).length === 0) throw new BadRequestError('faults must set at least one fault');
    const active = breaks.find((b) => b.pathway === pathway && b.healedAt === undefined);
    if (active) throw new ConflictError(`${pathway} is already broken until ${new Date(active.endsAt).toISOString()} (break ${active.id})`);

    const previous = await control(pathway, 'GET');
    await control(pathway, 'POST', JSON.stringify(faults));
    const startedAt = now();
    const cdnBreak: BreakRecord = { id: `break-${++breakCount}`, pathway, faults, previous, startedAt, endsAt: startedAt + seconds * 1000 };
    breaks.push(cdnBreak);
    healTimers.set(cdnBreak.id, setTimeout(() => void heal(cdnBreak), seconds * 1000));
    return breakView(cdnBreak);
  }

  async function endBreak(id: string) {
    const cdnBreak = breaks.find((b) => b.id === id);
    if (!cdnBreak) throw new NotFoundError(`no break ${JSON.stringify(id)}`);
    await heal(cdnBreak);
    if (cdnBreak.healedAt === undefined) throw new ControlEndpointError(cdnBreak.pathway, cdnBreak.healError ?? 'heal failed');
    return breakView(cdnBreak);
  }

  function breakView(cdnBreak: BreakRecord) {
    const { previous: _previous, ...view } = cdnBreak;
    return { ...view, events: breakTimeline(cdnBreak, traffic, weightHistory) };
  }

  function breaksView(): BreaksView {
    return {
      generatedAt: new Date(now()).toISOString(),
      sampleEveryMs,
      breaks: [...breaks].reverse().map(breakView),
      traffic,
      weights: weightHistory,
    };
  }

  async function sample(): Promise<void> {
    const at = now();
    const minute = minuteStartOf(at);
    const [routingItems, rollupItems] = await Promise.all([
      routingTable.readAll(),
      readMinutes([minute - MINUTE_MS, minute]),
    ]);
    for (const scope of routingView(routingItems).scopes) {
      weightHistory.push({ at, scope: scope.scope, weights: scope.weights, ...(scope.reason ? { reason: scope.reason } : {}) });
    }
    const { pathways, seen } = trafficSince(lastCells, rollupItems);
    for (const id of distributions.keys()) pathways[id] ??= { requests: 0, errors: 0 };
    // The first read is the baseline: what the current minute held before sampling began is not a bucket.
    if (lastSampleAt !== undefined) traffic.push({ at, spanMs: at - lastSampleAt, pathways });
    lastCells = seen;
    lastSampleAt = at;

    const horizon = at - HISTORY_MS;
    const drop = <T extends { at: number }>(list: T[]) => {
      const firstKept = list.findIndex((item) => item.at >= horizon);
      list.splice(0, firstKept === -1 ? list.length : firstKept);
    };
    drop(traffic);
    drop(weightHistory);
    for (let i = breaks.length - 1; i >= 0; i--) if ((breaks[i]!.healedAt ?? Infinity) < horizon) breaks.splice(i, 1);
    for (const pending of breaks.filter((b) => b.healedAt === undefined && b.endsAt <= at)) await heal(pending);
  }

  async function changeFaults(req: IncomingMessage, id: string) {
    if (!distributions.has(id)) throw new NotFoundError(`unknown pathway ${JSON.stringify(id)}`);
    if (req.method === 'DELETE') return { id, faults: await control(id, 'DELETE') };
    const faults = parseFaults((await readBody(req)).toString('utf8'));
    return { id, faults: await control(id, 'POST', JSON.stringify(faults)) };
  }

  async function route(req: IncomingMessage, url: URL): Promise<unknown> {
    const path = url.pathname.slice(OPERATOR_API_PREFIX.length).replace(/\/+$/, '');
    const method = req.method ?? 'GET';
    const readOnly = (produce: () => Promise<unknown>) => {
      if (method !== 'GET' && method !== 'HEAD') throw new MethodNotAllowedError('GET, HEAD');
      return produce();
    };
    if (path === 'assets') return readOnly(assets);
    const assetOf = /^assets\/([^/]+)$/.exec(path);
    if (assetOf) return readOnly(() => asset(decodeURIComponent(assetOf[1]!)));
    if (path === 'breaks') {
      if (method === 'POST') return startBreak(req);
      return readOnly(async () => breaksView());
    }
    const breakOf = /^breaks\/([^/]+)$/.exec(path);
    if (breakOf) {
      if (method !== 'DELETE') throw new MethodNotAllowedError('DELETE');
      return endBreak(decodeURIComponent(breakOf[1]!));
    }
    if (path === 'routing') return readOnly(routing);
    if (path === 'qoe') return readOnly(() => qoe(url));
    if (path === 'faults') return readOnly(allFaults);
    const faultsOf = /^faults\/([^/]+)$/.exec(path);
    if (faultsOf) {
      if (method !== 'POST' && method !== 'DELETE') throw new MethodNotAllowedError('POST, DELETE');
      return changeFaults(req, decodeURIComponent(faultsOf[1]!));
    }
    throw new NotFoundError(`no operator route ${url.pathname}`);
  }

  let sampling = false;
  const timer =
    sampleEveryMs > 0
      ? setInterval(() => {
          if (sampling) return;
          sampling = true;
          sample()
            .catch((error: unknown) => console.warn('[twin operator-api] timeline sample failed:', (error as Error)?.message ?? error))
            .finally(() => (sampling = false));
        }, sampleEveryMs)
      : undefined;
  timer?.unref();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!url.pathname.startsWith(OPERATOR_API_PREFIX)) return false;
    // The page polls every 2 s; a cached answer would freeze its charts.
    const headers = { 'cache-control': 'no-store' };
    try {
      const created = req.method === 'POST' && url.pathname.replace(/\/+$/, '') === `${OPERATOR_API_PREFIX}breaks`;
      sendJson(res, created ? 201 : 200, await route(req, url), headers);
    } catch (error) {
      if (error instanceof OperatorApiError) {
        const extra: Record<string, string> = error instanceof MethodNotAllowedError ? { allow: error.allowed } : {};
        sendJson(res, error.status, { message: error.message }, { ...headers, ...extra });
      } else {
        console.warn('[twin operator-api]', (error as Error)?.message ?? error);
        sendJson(res, 503, { message: 'table read failed' }, headers);
      }
    }
    return true;
  };

  return {
    handle,
    sample,
    stop() {
      clearInterval(timer);
      for (const pending of healTimers.values()) clearTimeout(pending);
      healTimers.clear();
    },
  };
}

/**
 * The fault fields the control API understands (local/edge/cloudfront-server.ts `EdgeFaults`). Only
 * these are forwarded, so the page cannot set anything else on a distribution.
 */
export function parseFaults(text: string): Record<string, unknown> {
  let body: unknown;
  try {
    body = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw new BadRequestError('body is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequestError('body must be a JSON object');
  const input = body as Record<string, unknown>;
  const faults: Record<string, unknown> = {};
  const number = (name: string, max: number) => {
    const value = input[name];
    if (value === undefined) return;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) {
      throw new BadRequestError(`${name} must be a number from 0 to ${max}, got ${JSON.stringify(value)}`);
    }
    faults[name] = value;
  };
  number('latencyMs', 60_000);
  number('errorRate', 1);
  number('throughputKbps', 10_000_000);
  if (input.down !== undefined) {
    if (input.down !== true && input.down !== false && input.down !== 'reset' && input.down !== '503') {
      throw new BadRequestError(`down must be true, false, "reset" or "503", got ${JSON.stringify(input.down)}`);
    }
    faults.down = input.down;
  }
  const unknown = Object.keys(input).filter((key) => !['latencyMs', 'errorRate', 'throughputKbps', 'down'].includes(key));
  if (unknown.length > 0) throw new BadRequestError(`unknown fault field(s): ${unknown.join(', ')}`);
  return faults;
}

/** One view per catalog entry (head and revisions of an asset, as tables/catalog-table.ts groups them). */
export function assetViews(entries: readonly CatalogEntry[]): AssetView[] {
  const views = entries.map(({ assetId, head, revisions: unsorted }): AssetView => {
    // Revision ids sort in upload order as plain strings (docs/catalog.md).
    const revisions = [...unsorted].sort((a, b) => String(a.revision).localeCompare(String(b.revision)));
    const newest = revisions.at(-1);
    const string = (value: unknown) => (typeof value === 'string' ? value : undefined);
    return {
      assetId,
      status: (string(head?.status) ?? string(newest?.status)) as AssetStatus | undefined,
      currentRevision: string(head?.currentRevision),
      latestRevision: string(head?.latestRevision) ?? string(newest?.revision),
      updatedAt: string(head?.updatedAt) ?? string(newest?.updatedAt),
      deletedAt: string(head?.deletedAt),
      revisionCount: revisions.length,
      ...(newest
        ? {
            latest: {
              revision: String(newest.revision),
              status: newest.status as RevisionStatus,
              sourceKey: string(newest.sourceKey),
              updatedAt: string(newest.updatedAt),
              errorReason: string(newest.errorReason),
              errorCode: string(newest.errorCode),
              durationMs: typeof newest.durationMs === 'number' ? newest.durationMs : undefined,
              renditions: Array.isArray(newest.renditions) ? (newest.renditions as Rendition[]) : undefined,
            },
          }
        : {}),
    };
  });
  // Most recently changed first: what an operator watching an upload wants to see.
  return views.sort((a, b) => (b.updatedAt ?? '').localeCompare(a.updatedAt ?? '') || a.assetId.localeCompare(b.assetId));
}

/** The registry and every weights item of the routing table; the global scope first, then countries A–Z. */
export function routingView(table: {
  readonly registry: PathwayRegistry | undefined;
  readonly weights: readonly WeightsItem[];
}): { pathways: PathwayEntry[]; scopes: ScopeWeightsView[] } {
  const scopes = table.weights
    .map(
      (item): ScopeWeightsView => ({
        scope: item.scope,
        weights: item.weights,
        ...(item.target ? { target: item.target } : {}),
        version: item.version,
        updatedAt: item.updatedAt || undefined,
        reason: item.reason || undefined,
      }),
    )
    .sort((a, b) => (a.scope === GLOBAL_SCOPE ? -1 : b.scope === GLOBAL_SCOPE ? 1 : a.scope.localeCompare(b.scope)));
  return { pathways: [...(table.registry?.pathways ?? [])], scopes };
}

export function qoeFigures(c: QoeCounters): QoeFigures {
  const ratio = (numerator: number, denominator: number) => (denominator > 0 ? numerator / denominator : null);
  return {
    requests: c.requests,
    reports: c.reports,
    errors: c.errors,
    stalls: c.stalls,
    errorRate: ratio(c.errors, Math.max(c.requests, c.reports)),
    rebufferingRatio: ratio(c.stallMs, c.playMs + c.stallMs),
    meanTtfbMs: ratio(c.edgeTtfbMsSum, c.edgeTtfbCount),
    meanPlayerTtfbMs: ratio(c.playerTtfbMsSum, c.playerTtfbCount),
    meanThroughputKbps: ratio(c.throughputKbpsSum, c.throughputCount),
    meanStartupMs: ratio(c.startupMsSum, c.startupCount),
  };
}

/**
 * Rollup items → per-pathway series (all countries summed) and per pathway × country series, each
 * with one point per minute of `minutes` (zero counters where a cell has no item). Counters are summed
 * before dividing, so a mean is weighted by its sample count, never a mean of means.
 */
export function qoeView(minutes: readonly number[], items: readonly RollupItem[]): QoeView {
  const index = new Map(minutes.map((minute, i) => [minute, i]));
  const pathwaySums = new Map<string, QoeCounters[]>();
  const cellSums = new Map<string, QoeCounters[]>();
  const slot = (sums: Map<string, QoeCounters[]>, key: string) => {
    let series = sums.get(key);
    if (!series) sums.set(key, (series = minutes.map(() => emptyCounters())));
    return series;
  };
  for (const item of items) {
    const i = index.get(item.minute);
    if (i === undefined) continue;
    addCounters(slot(pathwaySums, item.pathway)[i]!, item);
    addCounters(slot(cellSums, `${item.pathway}#${item.country}`)[i]!, item);
  }
  const toSeries = (key: string, perMinute: QoeCounters[], country?: string): QoeSeries => ({
    pathway: key,
    ...(country !== undefined ? { country } : {}),
    total: qoeFigures(perMinute.reduce((sum, c) => addCounters(sum, c), emptyCounters())),
    points: perMinute.map(qoeFigures),
  });
  const byKey = <T>(map: Map<string, T>) => [...map].sort(([a], [b]) => a.localeCompare(b));
  return {
    minutes: [...minutes],
    pathways: byKey(pathwaySums).map(([pathway, sums]) => toSeries(pathway, sums)),
    cells: byKey(cellSums).map(([key, sums]) => {
      const [pathway, country] = key.split('#') as [string, string];
      return toSeries(pathway, sums, country);
    }),
  };
}
