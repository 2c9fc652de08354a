/**
 * The twin's operator API (DESIGN.md §1 "operator", §8): read-only JSON views of the catalog, the
 * routing table and the QoE rollups for the operator page, plus a proxy to each distribution's fault
 * control API so the page talks to one origin only. Decisions: docs/adr/0080-operator-page.md.
 *
 * Twin-only: it Scans whole tables, which is fine for a few dozen items in dynalite and would not be
 * in a real account (the deployed operator view is the CloudWatch dashboard).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { QueryCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { HEAD_SK, REVISION_SK_PREFIX, type AssetStatus, type Rendition, type RevisionStatus } from '../core/asset-status';
import { COUNTER_NAMES, emptyCounters, addCounters, MINUTE_MS, minuteStartOf } from '../core/qoe-aggregate';
import type { QoeCounters } from '../core/qoe-types';
import { GLOBAL_SCOPE, PATHWAYS_KEY, type PathwayEntry } from '../core/routing-types';
import { readBody, sendJson } from './http-server';

export const OPERATOR_API_PREFIX = '/operator/api/';

export interface OperatorApiDeps {
  readonly documents: DynamoDBDocumentClient;
  readonly tables: { readonly assets: string; readonly routing: string; readonly rollups: string };
  /** Delivery distributions and the base URL of their `/__twin/` control API. */
  readonly distributions: readonly { readonly id: string; readonly controlEndpoint: string }[];
  /** @default Date.now */
  readonly now?: () => number;
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
/** One Query per minute partition; an hour bounds a single page load to 60 small Queries. */
export const MAX_QOE_MINUTES = 60;
const CONTROL_TIMEOUT_MS = 2_000;

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
class ControlEndpointError extends OperatorApiError {
  constructor(id: string, cause: string) {
    super(502, `distribution ${id} control API unavailable: ${cause}`);
  }
}

export function createOperatorApi(deps: OperatorApiDeps): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const now = deps.now ?? Date.now;
  const distributions = new Map(deps.distributions.map((d) => [d.id, d.controlEndpoint.replace(/\/+$/, '')]));

  async function scanAll(tableName: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await deps.documents.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey }));
      items.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items;
  }

  async function queryMinute(minute: number): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      // "minute" is a DynamoDB reserved word, hence the expression attribute name.
      const page = await deps.documents.send(
        new QueryCommand({
          TableName: deps.tables.rollups,
          KeyConditionExpression: '#minute = :minute',
          ExpressionAttributeNames: { '#minute': 'minute' },
          ExpressionAttributeValues: { ':minute': minute },
          ExclusiveStartKey,
        }),
      );
      items.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items;
  }

  async function assets() {
    return { generatedAt: new Date(now()).toISOString(), assets: assetViews(await scanAll(deps.tables.assets)) };
  }

  async function routing() {
    return { generatedAt: new Date(now()).toISOString(), ...routingView(await scanAll(deps.tables.routing)) };
  }

  async function qoe(url: URL) {
    const minutesParam = url.searchParams.get('minutes');
    const count = minutesParam === null ? DEFAULT_QOE_MINUTES : Number(minutesParam);
    if (!Number.isInteger(count) || count < 1 || count > MAX_QOE_MINUTES) {
      throw new BadRequestError(`minutes must be an integer from 1 to ${MAX_QOE_MINUTES}, got ${JSON.stringify(minutesParam)}`);
    }
    const current = minuteStartOf(now());
    const minutes = Array.from({ length: count }, (_, i) => current - (count - 1 - i) * MINUTE_MS);
    const items = (await Promise.all(minutes.map(queryMinute))).flat();
    return { generatedAt: new Date(now()).toISOString(), ...qoeView(minutes, items) };
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

  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!url.pathname.startsWith(OPERATOR_API_PREFIX)) return false;
    // The page polls every 2 s; a cached answer would freeze its charts.
    const headers = { 'cache-control': 'no-store' };
    try {
      sendJson(res, 200, await route(req, url), headers);
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

/** Groups Assets table items (head `sk = asset`, revisions `sk = rev#…`) into one view per asset. */
export function assetViews(items: readonly Record<string, unknown>[]): AssetView[] {
  const byAsset = new Map<string, { head?: Record<string, unknown>; revisions: Record<string, unknown>[] }>();
  for (const item of items) {
    const assetId = String(item.assetId);
    const entry = byAsset.get(assetId) ?? { revisions: [] };
    if (item.sk === HEAD_SK) entry.head = item;
    else if (typeof item.sk === 'string' && item.sk.startsWith(REVISION_SK_PREFIX)) entry.revisions.push(item);
    byAsset.set(assetId, entry);
  }
  const views = [...byAsset].map(([assetId, { head, revisions }]): AssetView => {
    // Revision ids sort in upload order as plain strings (docs/catalog.md).
    revisions.sort((a, b) => String(a.revision).localeCompare(String(b.revision)));
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
export function routingView(items: readonly Record<string, unknown>[]): { pathways: PathwayEntry[]; scopes: ScopeWeightsView[] } {
  const registry = items.find((item) => item.pk === PATHWAYS_KEY);
  const scopes = items
    .filter((item) => typeof item.pk === 'string' && item.pk.startsWith('weights#'))
    .map(
      (item): ScopeWeightsView => ({
        scope: typeof item.scope === 'string' ? item.scope : String(item.pk).slice('weights#'.length),
        weights: (item.weights ?? {}) as Record<string, number>,
        ...(item.target ? { target: item.target as Record<string, number> } : {}),
        version: Number(item.version) || 0,
        updatedAt: typeof item.updatedAt === 'string' ? item.updatedAt : undefined,
        reason: typeof item.reason === 'string' ? item.reason : undefined,
      }),
    )
    .sort((a, b) => (a.scope === GLOBAL_SCOPE ? -1 : b.scope === GLOBAL_SCOPE ? 1 : a.scope.localeCompare(b.scope)));
  return { pathways: Array.isArray(registry?.pathways) ? (registry.pathways as PathwayEntry[]) : [], scopes };
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
export function qoeView(minutes: readonly number[], items: readonly Record<string, unknown>[]): QoeView {
  const index = new Map(minutes.map((minute, i) => [minute, i]));
  const pathwaySums = new Map<string, QoeCounters[]>();
  const cellSums = new Map<string, QoeCounters[]>();
  const slot = (sums: Map<string, QoeCounters[]>, key: string) => {
    let series = sums.get(key);
    if (!series) sums.set(key, (series = minutes.map(() => emptyCounters())));
    return series;
  };
  for (const item of items) {
    const i = index.get(Number(item.minute));
    if (i === undefined) continue;
    const [cellPathway, cellCountry] = String(item.cell ?? '').split('#');
    const pathway = typeof item.pathway === 'string' ? item.pathway : cellPathway!;
    const country = typeof item.country === 'string' ? item.country : (cellCountry ?? 'XX');
    const counters = emptyCounters();
    for (const name of COUNTER_NAMES) counters[name] = Number(item[name]) || 0;
    addCounters(slot(pathwaySums, pathway)[i]!, counters);
    addCounters(slot(cellSums, `${pathway}#${country}`)[i]!, counters);
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
