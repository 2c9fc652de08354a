/**
 * routing-weights (DESIGN.md §6): reads the pathway registry and the recent QoE rollups, runs the
 * controller of core/routing-score.ts for every scope, and writes each changed `weights#<scope>`
 * item with optimistic versioning. Never deletes.
 *
 * Cadence (docs/adr/0061-routing-weights-cadence.md): an EventBridge schedule invokes it once a
 * minute; one invocation runs TICKS evaluations TICK_SECONDS apart (default 6 × 10 s), so weights are
 * re-evaluated every 10 s although the finest schedule granularity is one minute.
 */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { emptyCounters, MINUTE_MS, minuteStartOf } from '../../core/qoe-aggregate';
import type { QoeRollup } from '../../core/qoe-types';
import { GLOBAL_SCOPE, PATHWAYS_KEY, weightsKey, type PathwayEntry } from '../../core/routing-types';
import {
  computeRoutingWeights,
  DEFAULT_SCORING_PARAMS,
  type PathwayControl,
  type ScopeDecision,
  type ScopeState,
  type ScoringParams,
} from '../../core/routing-score';
import { logger as sharedLogger, metrics as sharedMetrics } from '../shared/powertools';
import { isRoutingCountry } from '../../core/identifiers';

/** BatchGetItem reads at most 100 keys per call (DynamoDB API reference, BatchGetItem). */
const BATCH_GET_LIMIT = 100;
const WRITE_CONCURRENCY = 16;
/** A tick is skipped when less than this is left of the invocation, so it never times out mid-write. */
const SAFETY_MARGIN_MS = 8_000;

export class RoutingWeightsConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RoutingWeightsConfigError';
  }
}

export class RegistryMissingError extends Error {
  constructor(table: string) {
    super(`routing table ${table} has no "${PATHWAYS_KEY}" registry item`);
    this.name = 'RegistryMissingError';
  }
}

export interface RoutingWeightsConfig {
  readonly routingTableName: string;
  readonly rollupsTableName: string;
  /** Evaluations per invocation. */
  readonly ticks: number;
  /** Seconds between evaluations; also the controller's `evaluationIntervalSeconds`. */
  readonly tickSeconds: number;
  readonly params?: Partial<ScoringParams>;
}

export interface RoutingWeightsDeps {
  readonly ddb: DynamoDBDocumentClient;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface TickResult {
  readonly at: number;
  readonly scopes: number;
  readonly written: readonly string[];
  readonly conflicts: number;
  /** Scopes whose write still conflicted after the one retry; the next tick picks them up. */
  readonly skipped: readonly string[];
}

/** A weights item as stored: the WeightsItem contract plus the controller state (`control`, `target`). */
interface StoredWeightsItem {
  readonly pk: string;
  readonly scope: string;
  readonly weights: Record<string, number>;
  readonly version: number;
  readonly updatedAt: string;
  readonly reason: string;
  readonly target?: Record<string, number>;
  readonly control?: Record<string, PathwayControl>;
}

export function configFromEnvironment(env: NodeJS.ProcessEnv = process.env): RoutingWeightsConfig {
  const required = (name: string): string => {
    const value = env[name];
    if (!value) throw new RoutingWeightsConfigError(`environment variable ${name} is required`);
    return value;
  };
  const positive = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) throw new RoutingWeightsConfigError(`${name} = "${raw}": must be a positive number`);
    return value;
  };
  const params = scoringParamsFromJson(env.SCORING_PARAMS_JSON);
  return {
    routingTableName: required('ROUTING_TABLE_NAME'),
    rollupsTableName: required('ROLLUPS_TABLE_NAME'),
    ticks: Math.floor(positive('TICKS', 6)),
    tickSeconds: positive('TICK_SECONDS', 10),
    ...(params ? { params } : {}),
  };
}

/**
 * `SCORING_PARAMS_JSON`: a JSON object overriding some of {@link DEFAULT_SCORING_PARAMS}, e.g.
 * `{"reversalHoldSeconds":20,"minSamples":20}`. The cloud leaves it unset (the defaults are the tuned
 * ones, docs/routing.md); the local twin shortens the controller's clocks so a failover demo or the
 * e2e test sees demotion and re-admission within a minute or two. Unknown keys and non-numbers fail
 * the cold start with the key named, rather than being silently ignored.
 */
export function scoringParamsFromJson(raw: string | undefined): Partial<ScoringParams> | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new RoutingWeightsConfigError(`SCORING_PARAMS_JSON is not valid JSON: ${raw.slice(0, 80)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new RoutingWeightsConfigError('SCORING_PARAMS_JSON must be a JSON object of scoring parameters');
  }
  const params: Record<string, number> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!Object.hasOwn(DEFAULT_SCORING_PARAMS, key)) {
      throw new RoutingWeightsConfigError(`SCORING_PARAMS_JSON.${key}: unknown scoring parameter (known: ${Object.keys(DEFAULT_SCORING_PARAMS).join(', ')})`);
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new RoutingWeightsConfigError(`SCORING_PARAMS_JSON.${key} = ${JSON.stringify(value)}: must be a non-negative number`);
    }
    params[key] = value;
  }
  return params as Partial<ScoringParams>;
}

/** One evaluation of every scope at `now`. */
export function createRoutingWeightsTick(deps: RoutingWeightsDeps, config: RoutingWeightsConfig): (now: number) => Promise<TickResult> {
  const log = deps.logger ?? sharedLogger;
  const metrics = deps.metrics ?? sharedMetrics;
  const params: Partial<ScoringParams> = { evaluationIntervalSeconds: config.tickSeconds, ...config.params };
  const windowMinutes = params.windowMinutes ?? 2;

  async function readRegistry(): Promise<PathwayEntry[]> {
    const got = await deps.ddb.send(
      new GetCommand({ TableName: config.routingTableName, Key: { pk: PATHWAYS_KEY }, ConsistentRead: true }),
    );
    const pathways = got.Item?.pathways as PathwayEntry[] | undefined;
    if (!Array.isArray(pathways)) throw new RegistryMissingError(config.routingTableName);
    return pathways;
  }

  async function readRollups(now: number): Promise<QoeRollup[]> {
    const current = minuteStartOf(now);
    const minutes = Array.from({ length: windowMinutes }, (_, i) => current - i * MINUTE_MS);
    const pages = await Promise.all(minutes.map((minute) => queryMinute(minute)));
    return pages.flat();
  }

  async function queryMinute(minute: number): Promise<QoeRollup[]> {
    const rollups: QoeRollup[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      // "minute" is a DynamoDB reserved word, hence the expression attribute name.
      const page = await deps.ddb.send(
        new QueryCommand({
          TableName: config.rollupsTableName,
          KeyConditionExpression: '#minute = :minute',
          ExpressionAttributeNames: { '#minute': 'minute' },
          ExpressionAttributeValues: { ':minute': minute },
          ExclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) rollups.push(toRollup(item, minute));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return rollups;
  }

  async function readWeights(scopes: readonly string[]): Promise<Map<string, StoredWeightsItem>> {
    const found = new Map<string, StoredWeightsItem>();
    for (let i = 0; i < scopes.length; i += BATCH_GET_LIMIT) {
      let keys: Record<string, unknown>[] = scopes.slice(i, i + BATCH_GET_LIMIT).map((s) => ({ pk: weightsKey(s) }));
      // UnprocessedKeys are normal under throttling; retry them with a short backoff.
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt > 0) await (deps.sleep ?? delay)(Math.min(1000, 50 * 2 ** attempt));
        if (attempt > 5) throw new Error(`BatchGetItem left ${keys.length} weights keys unprocessed after ${attempt} attempts`);
        const out = await deps.ddb.send(
          new BatchGetCommand({ RequestItems: { [config.routingTableName]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of out.Responses?.[config.routingTableName] ?? []) {
          const stored = item as StoredWeightsItem;
          found.set(stored.scope ?? String(stored.pk).slice('weights#'.length), stored);
        }
        keys = (out.UnprocessedKeys?.[config.routingTableName]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return found;
  }

  async function readOne(scope: string): Promise<StoredWeightsItem | undefined> {
    const got = await deps.ddb.send(
      new GetCommand({ TableName: config.routingTableName, Key: { pk: weightsKey(scope) }, ConsistentRead: true }),
    );
    return got.Item as StoredWeightsItem | undefined;
  }

  async function write(decision: ScopeDecision, previous: StoredWeightsItem | undefined, now: number): Promise<void> {
    const item: StoredWeightsItem = {
      pk: weightsKey(decision.scope),
      scope: decision.scope,
      weights: decision.weights,
      version: (previous?.version ?? 0) + 1,
      updatedAt: new Date(now).toISOString(),
      reason: decision.reason,
      target: decision.target,
      control: decision.control,
    };
    await deps.ddb.send(
      new PutCommand({
        TableName: config.routingTableName,
        Item: item,
        ...(previous
          ? {
              ConditionExpression: '#version = :version',
              ExpressionAttributeNames: { '#version': 'version' },
              ExpressionAttributeValues: { ':version': previous.version },
            }
          : { ConditionExpression: 'attribute_not_exists(pk)' }),
      }),
    );
  }

  return async function tick(now: number): Promise<TickResult> {
    const [pathways, rollups] = await Promise.all([readRegistry(), readRollups(now)]);
    const scopes = [GLOBAL_SCOPE, ...new Set(rollups.map((r) => r.country).filter(isRoutingCountry))];
    const stored = await readWeights(scopes);
    const decide = (items: ReadonlyMap<string, StoredWeightsItem>) =>
      computeRoutingWeights({ pathways, rollups, previous: toStates(items), now, params });

    const written: string[] = [];
    const skipped: string[] = [];
    let conflicts = 0;
    const decisions = decide(stored).filter((d) => d.changed);
    for (let i = 0; i < decisions.length; i += WRITE_CONCURRENCY) {
      await Promise.all(
        decisions.slice(i, i + WRITE_CONCURRENCY).map(async (decision) => {
          try {
            await write(decision, stored.get(decision.scope), now);
            written.push(decision.scope);
            report(decision);
          } catch (err) {
            if (!(err instanceof ConditionalCheckFailedException)) throw err;
            conflicts++;
            // Someone else (an overlapping invocation, an operator) wrote this scope since we read it:
            // decide again from what is there now, and try once more.
            const fresh = await readOne(decision.scope);
            const retried = decide(new Map(fresh ? [[decision.scope, fresh]] : [])).find((d) => d.scope === decision.scope);
            if (!retried?.changed) return;
            try {
              await write(retried, fresh, now);
              written.push(retried.scope);
              report(retried);
            } catch (again) {
              if (!(again instanceof ConditionalCheckFailedException)) throw again;
              conflicts++;
              skipped.push(decision.scope);
              log.warn('weights write conflicted twice; leaving it to the next tick', { scope: decision.scope });
            }
          }
        }),
      );
    }
    metrics.addMetric('ScopesEvaluated', MetricUnit.Count, scopes.length);
    metrics.addMetric('WeightsWritten', MetricUnit.Count, written.length);
    metrics.addMetric('WeightsWriteConflicts', MetricUnit.Count, conflicts);
    metrics.publishStoredMetrics();
    return { at: now, scopes: scopes.length, written: written.sort(), conflicts, skipped };
  };

  /** A metric per weight change; per-pathway dimensions only for the global scope, to bound cardinality. */
  function report(decision: ScopeDecision): void {
    log.info('routing weights changed', { scope: decision.scope, weights: decision.weights, reason: decision.reason });
    for (const pathway of decision.spikes) {
      const single = metrics.singleMetric();
      single.addDimension('pathway', pathway);
      single.addMetric('ErrorSpikeDemotions', MetricUnit.Count, 1);
    }
    if (decision.scope !== GLOBAL_SCOPE) return;
    for (const [pathway, share] of Object.entries(decision.weights)) {
      const single = metrics.singleMetric();
      single.addDimension('pathway', pathway);
      single.addMetric('GlobalWeightPercent', MetricUnit.Percent, Math.round(share * 1000) / 10);
    }
  }
}

/**
 * The scheduled handler: `ticks` evaluations `tickSeconds` apart, each aligned to the invocation's
 * start. A failed tick is logged and counted; the invocation fails only when every tick failed, so
 * one DynamoDB hiccup does not raise the Lambda error alarm but a persistent fault does.
 */
export function createRoutingWeightsHandler(deps: RoutingWeightsDeps, config: RoutingWeightsConfig) {
  const tick = createRoutingWeightsTick(deps, config);
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? delay;
  const log = deps.logger ?? sharedLogger;
  const metrics = deps.metrics ?? sharedMetrics;
  return async (_event?: unknown, context?: { getRemainingTimeInMillis(): number }): Promise<TickResult[]> => {
    const start = now();
    const results: TickResult[] = [];
    let lastError: unknown;
    for (let i = 0; i < config.ticks; i++) {
      const due = start + i * config.tickSeconds * 1000;
      const wait = due - now();
      if (context && context.getRemainingTimeInMillis() - Math.max(0, wait) < SAFETY_MARGIN_MS) break;
      if (wait > 0) await sleep(wait);
      try {
        results.push(await tick(now()));
      } catch (err) {
        lastError = err;
        log.error('routing weights tick failed', { error: err as Error, tick: i });
        metrics.addMetric('TickFailures', MetricUnit.Count, 1);
        metrics.publishStoredMetrics();
      }
    }
    if (results.length === 0 && lastError) throw lastError;
    return results;
  };
}

function toRollup(item: Record<string, unknown>, minute: number): QoeRollup {
  const counters = emptyCounters();
  for (const field of Object.keys(counters) as (keyof typeof counters)[]) counters[field] = Number(item[field]) || 0;
  const [cellPathway, cellCountry] = String(item.cell ?? '').split('#');
  return {
    ...counters,
    pathway: typeof item.pathway === 'string' ? item.pathway : cellPathway,
    country: typeof item.country === 'string' ? item.country : (cellCountry ?? 'XX'),
    minute,
  };
}

function toStates(items: ReadonlyMap<string, StoredWeightsItem>): Map<string, ScopeState> {
  return new Map([...items].map(([scope, item]) => [scope, { weights: item.weights ?? {}, control: item.control ?? {} }]));
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// Built once per execution environment; the config is read on first use so that importing this
// module (tests, the local twin) does not require the environment.
const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});
let scheduled: ReturnType<typeof createRoutingWeightsHandler> | undefined;

export const handler = (event: unknown, context?: { getRemainingTimeInMillis(): number }): Promise<TickResult[]> => {
  scheduled ??= createRoutingWeightsHandler({ ddb: documentClient }, configFromEnvironment());
  return scheduled(event, context);
};
