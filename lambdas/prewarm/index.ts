/**
 * prewarm (ADR 0039): on `Asset Ready` for the revision playback now serves, fetches the first minutes of
 * the renditions viewers ask for first (core/prewarm-plan.ts) through every deployed pathway, with a
 * playback token it signs itself, so each pathway's Origin Shield and the edge it reaches hold them
 * before the first viewer arrives.
 *
 * Best effort by design: a failed fetch is logged and counted, and nothing is ever thrown — a warm-up
 * that did not happen only means the first viewers fill the caches themselves, while a retried one would
 * fetch the whole plan again through every pathway. The function runs with no asynchronous retries.
 *
 * Trending titles (ADR 0102): on its schedule (an EventBridge `Scheduled Event`, once a minute) it reads the
 * title demand the QoE aggregator writes (distinct sessions per title and minute), picks the titles whose
 * demand rose (core/title-demand.ts `trendingTitles`), claims each title's warm for a cooldown (one warm per
 * title per cooldown, whichever run claims it) and warms the revision playback serves exactly as above.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import { playableRevision } from '../../core/asset-status';
import { isAssetId, isPathwayId, isRevision } from '../../core/identifiers';
import { MANIFEST_FILE, mediaBaseUrl, type UrlScheme } from '../../core/playback-paths';
import { chooseWarmRenditions, onPathway, warmupObjects } from '../../core/prewarm-plan';
import { parseMediaPlaylist, parseMultivariant } from '../../core/steered-hls-playlists';
import { sessionsOfBits, trendingTitles } from '../../core/title-demand';
import { signToken } from '../../core/token';
import { CatalogTable } from '../../tables/catalog-table';
import { TitleDemandTable } from '../../tables/title-demand-table';
import { FunctionConfigError } from '../shared/function-config';
import { KeyringCache } from '../shared/keyring-cache';
import { lambdaHandler, logger as sharedLogger, metrics as sharedMetrics, tracer } from '../shared/powertools';
import { type PrewarmConfig, prewarmConfig } from './config';

/** Long enough for the whole plan; short, because the token only ever travels to our own pathways. */
const TOKEN_LIFETIME_SECONDS = 15 * 60;
/** One object's fetch (a segment of a few MB through a cold pathway) may take this long. */
const FETCH_TIMEOUT_MS = 30_000;
/** Failures logged one by one per invocation; the rest are only counted. */
const LOGGED_FAILURES = 5;

/** The part of the `Asset Ready` detail (core/asset-status.ts `revisionEvent`) the warm-up reads. */
const assetReadyDetail = z.object({
  assetId: z.string().refine(isAssetId, 'not an asset id'),
  revision: z.string().refine(isRevision, 'not a revision id'),
  current: z.boolean(),
});

export interface PrewarmEvent {
  readonly 'detail-type'?: string;
  readonly detail?: unknown;
}

export interface PathwayWarmup {
  /** Objects fetched with 200 that the pathway had to fill (edge miss). */
  warmed: number;
  /** Objects fetched with 200 the pathway already had (edge hit). */
  alreadyCached: number;
  failed: number;
}

export interface PrewarmResult {
  /** A scheduled run: the titles it found trending and what it did with each (ADR 0102). */
  readonly trending?: readonly TrendingOutcome[];
  readonly assetId?: string;
  readonly revision?: string;
  /** Why nothing was fetched, when nothing was. */
  readonly skipped?: string;
  /** Objects in the plan (per pathway). */
  readonly objects: number;
  readonly pathways: Readonly<Record<string, PathwayWarmup>>;
}

export interface TrendingOutcome {
  readonly assetId: string;
  readonly sessions: number;
  readonly baseline: number;
  /** `warmed`, or why not: warmed by another run within the cooldown, or nothing playable. */
  readonly outcome: 'warmed' | 'cooling-down' | 'not-playable';
  readonly revision?: string;
}

type TrendingConfigKeys = 'trendingTopK' | 'trendingMinSessions' | 'trendingRisePercent' | 'trendingBaselineMinutes' | 'trendingCooldownMinutes' | 'rollupsTableName' | 'assetsTableName';

export interface PrewarmDeps extends Omit<PrewarmConfig, 'keyringSecretArn' | TrendingConfigKeys>, Partial<Pick<PrewarmConfig, TrendingConfigKeys>> {
  readonly keyring: Pick<KeyringCache, 'get'>;
  /** The demand and trending-claim items (rollups table) and the catalog; required when `trendingTopK` > 0. */
  readonly demand?: Pick<TitleDemandTable, 'readDemand' | 'claimTrendingWarm'>;
  readonly catalog?: Pick<CatalogTable, 'getHead'>;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
}

interface PathwayEndpoint {
  readonly id: string;
  readonly scheme: UrlScheme;
  readonly host: string;
}

const PATHWAY_ORIGIN = /^(https?):\/\/([^/?#\s]+)$/;

/** Pairs `PATHWAY_IDS` with `PATHWAY_ORIGINS`; a mismatch or a bad origin fails the build naming the variables. */
export function endpointsOf(ids: readonly string[], origins: readonly string[]): PathwayEndpoint[] {
  if (ids.length === 0 || ids.length !== origins.length) {
    throw new FunctionConfigError(`PATHWAY_IDS (${ids.length}) and PATHWAY_ORIGINS (${origins.length}) must name the same pathways, at least one`);
  }
  return ids.map((id, i) => {
    const match = PATHWAY_ORIGIN.exec(origins[i]!);
    if (!isPathwayId(id) || !match) throw new FunctionConfigError(`PATHWAY_IDS/PATHWAY_ORIGINS entry ${i} ("${id}" = "${origins[i]}") must be a pathway id and "https://<host>"`);
    return { id, scheme: match[1] as UrlScheme, host: match[2]! };
  });
}

/** Runs `work` over `items` with at most `limit` in flight. */
async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export function createPrewarmHandler(deps: PrewarmDeps) {
  const fetchObject = deps.fetch ?? fetch;
  const now = deps.now ?? Date.now;
  const log = deps.logger ?? sharedLogger;
  const metrics = deps.metrics ?? sharedMetrics;
  const pathways = endpointsOf(deps.pathwayIds, deps.pathwayOrigins);

  const getText = async (url: string): Promise<string> => {
    const response = await fetchObject(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (response.status !== 200) throw new Error(`${response.status} for ${new URL(url).pathname.replace(/^\/[^/]+/, '/<token>')}`);
    return response.text();
  };

  /** The URLs to warm, as the first pathway that answers serves them: the rendition playlists and their first objects. */
  async function planThrough(token: string, assetId: string, revision: string): Promise<string[]> {
    let lastError: unknown;
    for (const pathway of pathways) {
      try {
        const multivariantUrl = `${mediaBaseUrl(pathway.host, token, assetId, revision, pathway.scheme)}${MANIFEST_FILE.hls}`;
        const renditions = chooseWarmRenditions(parseMultivariant(await getText(multivariantUrl), multivariantUrl), deps.topRungs);
        const objects = await Promise.all(renditions.map(async (url) => warmupObjects(parseMediaPlaylist(await getText(url), url), deps.warmSeconds)));
        return [...renditions, ...objects.flat()];
      } catch (error) {
        lastError = error;
        log.warn('pre-warm could not read the title through a pathway; trying the next', { pathway: pathway.id, error: (error as Error).message });
      }
    }
    throw lastError ?? new Error('no pathway configured');
  }

  /** Warms one revision through every pathway; never throws. */
  async function warm(assetId: string, revision: string): Promise<PrewarmResult> {
    const counts = Object.fromEntries(pathways.map((p) => [p.id, { warmed: 0, alreadyCached: 0, failed: 0 }])) as Record<string, PathwayWarmup>;
    let token: string;
    try {
      // A session id of its own: its requests are told apart from viewers' in the CDN logs (and in title demand).
      token = signToken({ sid: `prewarm-${randomUUID()}`, aid: assetId, exp: Math.floor(now() / 1000) + TOKEN_LIFETIME_SECONDS }, await deps.keyring.get());
    } catch (error) {
      log.error('pre-warm gave up: no playback token', { assetId, revision, error: error as Error });
      metrics.addMetric('PrewarmPlanFailures', MetricUnit.Count, 1);
      return { assetId, revision, skipped: 'no playback token: the keyring could not be read', objects: 0, pathways: counts };
    }
    let plan: string[];
    try {
      plan = await planThrough(token, assetId, revision);
    } catch (error) {
      log.error('pre-warm gave up: the title could not be read through any pathway', { assetId, revision, error: error as Error });
      metrics.addMetric('PrewarmPlanFailures', MetricUnit.Count, 1);
      return { assetId, revision, skipped: 'the title could not be read through any pathway', objects: 0, pathways: counts };
    }

    let logged = 0;
    const work = pathways.flatMap((pathway) => plan.map((url) => ({ pathway, url: onPathway(url, `${pathway.scheme}://${pathway.host}`) })));
    await forEachLimited(work, deps.concurrency, async ({ pathway, url }) => {
      const count = counts[pathway.id]!;
      try {
        const response = await fetchObject(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
        // Read to the end: the edge keeps an object it delivered whole.
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`status ${response.status}`);
        if (/^hit\b/i.test(response.headers.get('x-cache') ?? '')) count.alreadyCached += 1;
        else count.warmed += 1;
      } catch (error) {
        count.failed += 1;
        if (logged++ < LOGGED_FAILURES) {
          log.warn('pre-warm fetch failed', { pathway: pathway.id, path: new URL(url).pathname.split('/').slice(-1)[0], error: (error as Error).message });
        }
      }
    });

    for (const [pathway, count] of Object.entries(counts)) {
      const single = metrics.singleMetric();
      single.addDimension('pathway', pathway);
      single.addMetric('PrewarmObjectsWarmed', MetricUnit.Count, count.warmed);
      single.addMetric('PrewarmObjectsAlreadyCached', MetricUnit.Count, count.alreadyCached);
      single.addMetric('PrewarmFailures', MetricUnit.Count, count.failed);
    }
    log.info('pre-warm done', { assetId, revision, objects: plan.length, pathways: counts });
    return { assetId, revision, objects: plan.length, pathways: counts };
  }

  /**
   * A scheduled run (ADR 0102): the last complete minute's demand against the mean of the `trendingBaselineMinutes`
   * before it; each trending title is claimed for the cooldown, then its playable revision warmed, one title at a
   * time (each warm already uses `concurrency` requests). A minute counts as complete one minute after its end:
   * the aggregator writes a minute once it has ended, after its batching window.
   */
  async function warmTrending(): Promise<PrewarmResult> {
    const topK = deps.trendingTopK ?? 0;
    if (topK === 0 || deps.demand === undefined || deps.catalog === undefined) {
      return { skipped: 'trending pre-warm is off', objects: 0, pathways: {} };
    }
    const minuteMs = 60_000;
    const last = Math.floor(now() / minuteMs) * minuteMs - 2 * minuteMs;
    const baselineMinutes = deps.trendingBaselineMinutes ?? 5;
    const minutes = [last, ...Array.from({ length: baselineMinutes }, (_, i) => last - (i + 1) * minuteMs)];
    let read: Map<string, number>[];
    try {
      read = await Promise.all(
        minutes.map(async (minute) => new Map([...(await deps.demand!.readDemand(minute))].map(([assetId, bits]) => [assetId, sessionsOfBits(bits)]))),
      );
    } catch (error) {
      log.error('trending pre-warm gave up: title demand could not be read', { error: error as Error });
      metrics.addMetric('PrewarmPlanFailures', MetricUnit.Count, 1);
      return { skipped: 'title demand could not be read', objects: 0, pathways: {} };
    }
    const [current, ...baseline] = read;
    const trending = trendingTitles(current!, baseline, {
      topK,
      minSessions: deps.trendingMinSessions ?? 20,
      riseFactor: (deps.trendingRisePercent ?? 200) / 100,
    });
    const outcomes: TrendingOutcome[] = [];
    let objects = 0;
    const totals: Record<string, PathwayWarmup> = {};
    for (const title of trending) {
      try {
        const revision = playableRevision(await deps.catalog.getHead(title.assetId));
        if (revision === undefined) {
          outcomes.push({ ...title, outcome: 'not-playable' });
          continue;
        }
        if (!(await deps.demand.claimTrendingWarm(title.assetId, revision, now(), (deps.trendingCooldownMinutes ?? 30) * minuteMs))) {
          outcomes.push({ ...title, revision, outcome: 'cooling-down' });
          continue;
        }
        const result = await warm(title.assetId, revision);
        objects += result.objects;
        for (const [id, count] of Object.entries(result.pathways)) {
          const total = (totals[id] ??= { warmed: 0, alreadyCached: 0, failed: 0 });
          total.warmed += count.warmed;
          total.alreadyCached += count.alreadyCached;
          total.failed += count.failed;
        }
        outcomes.push({ ...title, revision, outcome: 'warmed' });
      } catch (error) {
        log.warn('trending pre-warm skipped a title', { assetId: title.assetId, error: (error as Error).message });
        metrics.addMetric('PrewarmPlanFailures', MetricUnit.Count, 1);
      }
    }
    metrics.addMetric('TrendingTitlesWarmed', MetricUnit.Count, outcomes.filter((o) => o.outcome === 'warmed').length);
    if (trending.length > 0) log.info('trending pre-warm done', { trending: outcomes });
    return { trending: outcomes, objects, pathways: totals };
  }

  return async (event: PrewarmEvent): Promise<PrewarmResult> => {
    if (event['detail-type'] === SCHEDULED_EVENT) return warmTrending();
    const parsed = assetReadyDetail.safeParse(event.detail);
    if (!parsed.success) {
      log.warn('pre-warm event set aside: not an Asset Ready detail', { detailType: event['detail-type'], problem: parsed.error.issues[0]?.message });
      metrics.addMetric('PrewarmEventsSetAside', MetricUnit.Count, 1);
      return { skipped: 'not an Asset Ready detail', objects: 0, pathways: {} };
    }
    const { assetId, revision, current } = parsed.data;
    if (!current) return { assetId, revision, skipped: 'playback serves another revision', objects: 0, pathways: {} };
    return warm(assetId, revision);
  };
}

/** What EventBridge Scheduler's and a schedule rule's events are called (EventBridge User Guide, "Scheduled events"). */
export const SCHEDULED_EVENT = 'Scheduled Event';

const secrets = tracer.captureAWSv3Client(new SecretsManagerClient({}));

export const handler = lambdaHandler<PrewarmEvent, PrewarmResult>(() => {
  const { keyringSecretArn, ...config } = prewarmConfig.decode(process.env);
  if (config.trendingTopK > 0 && (config.rollupsTableName === undefined || config.assetsTableName === undefined)) {
    throw new FunctionConfigError('TRENDING_TOP_K > 0 needs ROLLUPS_TABLE_NAME and ASSETS_TABLE_NAME');
  }
  const documents = config.trendingTopK > 0 ? DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({}))) : undefined;
  return createPrewarmHandler({
    ...config,
    keyring: new KeyringCache(secrets, keyringSecretArn),
    ...(documents !== undefined
      ? { demand: new TitleDemandTable(documents, config.rollupsTableName!), catalog: new CatalogTable(documents, config.assetsTableName!) }
      : {}),
  });
});
