/**
 * routing-weights (docs/routing.md): loads the pathway registry, the recent QoE rollups and the current
 * weights (tables/routing-table.ts, tables/rollups-table.ts), runs the controller of
 * core/routing/weights-controller.ts for every scope, and saves each changed scope's weights with
 * optimistic versioning, then writes the routing snapshot the steering edge reads (ADR 0048). Never deletes.
 *
 * Cadence (docs/adr/0061-routing-weights-cadence.md): an EventBridge schedule invokes it once a
 * minute; one invocation runs TICKS evaluations TICK_SECONDS apart (default 6 × 10 s), so weights are
 * re-evaluated every 10 s although the finest schedule granularity is one minute.
 */
import { CloudFrontKeyValueStoreClient } from '@aws-sdk/client-cloudfront-keyvaluestore';
// The KeyValueStore API is signed with SigV4a; this registers the JavaScript signer with the SDK.
import '@aws-sdk/signature-v4a';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { QoeRollup } from '../../core/qoe-types';
import { GLOBAL_SCOPE, type WeightsItem } from '../../core/routing-types';
import { computeRoutingWeights } from '../../core/routing/weights-controller';
import { windowMinutesAt } from '../../core/routing/rollup-windows';
import { DEFAULT_SCORING_PARAMS, type ScoringParams } from '../../core/routing/scoring-params';
import type { ScopeState } from '../../core/routing/controller-state';
import type { ScopeDecision } from '../../core/routing/scope-decision';
import { lambdaHandler, logger as sharedLogger, metrics as sharedMetrics, tracer } from '../shared/powertools';
import { isRoutingCountry } from '../../core/identifiers';
import { RollupsTable } from '../../tables/rollups-table';
import { RoutingTable } from '../../tables/routing-table';
import { type RoutingWeightsConfig, routingWeightsConfig } from './config';
import { GenerationPublishError, type GenerationStore, publishRoutingGenerations, type PublishedGenerations } from './generations';

const WRITE_CONCURRENCY = 16;
/** A tick is skipped when less than this is left of the invocation, so it never times out mid-write. */
const SAFETY_MARGIN_MS = 8_000;

/** Thrown by a tick when the routing table has no usable registry item. */
export { RegistryMissingError } from '../../tables/routing-table';

export interface RoutingWeightsDeps {
  readonly ddb: DynamoDBDocumentClient;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** The gateway's KeyValueStore the routing generations go to (ADR 0097). @default none: no generations */
  readonly generationStore?: GenerationStore;
}

export interface TickResult {
  readonly at: number;
  readonly scopes: number;
  readonly written: readonly string[];
  readonly conflicts: number;
  /** Scopes whose write still conflicted after the one retry; the next tick picks them up. */
  readonly skipped: readonly string[];
  /** The routing snapshot written after the weights (ADR 0048): its generation (= `at`) and size. */
  readonly snapshot: { readonly scopes: number; readonly itemBytes: number };
  /** Scopes whose routing generation this tick announced (ADR 0097); absent without a store or when publishing failed. */
  readonly generations?: Pick<PublishedGenerations, 'announced' | 'conflicts'>;
}

/** One evaluation of every scope at `now`. */
export function createRoutingWeightsTick(deps: RoutingWeightsDeps, config: RoutingWeightsConfig): (now: number) => Promise<TickResult> {
  const log = deps.logger ?? sharedLogger;
  const metrics = deps.metrics ?? sharedMetrics;
  const params: Partial<ScoringParams> = { evaluationIntervalSeconds: config.tickSeconds, ...config.params };
  const window = { ...DEFAULT_SCORING_PARAMS, ...params };

  const routing = new RoutingTable(deps.ddb, config.routingTableName, { sleep: deps.sleep ?? delay });
  const rollupsTable = new RollupsTable(deps.ddb, config.rollupsTableName);

  async function loadRegistry() {
    const registry = await routing.readRegistry({ consistent: true });
    if (registry.rejected.length > 0) log.warn('pathway registry entries set aside', { rejected: registry.rejected });
    return registry.pathways;
  }

  async function loadRollups(now: number): Promise<QoeRollup[]> {
    // The recent window re-reads past minutes (late records) and a few future ones (fast player clocks).
    return (await Promise.all(windowMinutesAt(now, window).map((minute) => rollupsTable.readMinute(minute)))).flat();
  }

  /** Saves a decision over `previous`; false when another writer got there first. */
  function save(decision: ScopeDecision, previous: WeightsItem | undefined, now: number): Promise<boolean> {
    const { scope, weights, reason, target, control } = decision;
    return routing.writeWeights({ scope, weights, updatedAt: new Date(now).toISOString(), reason, target, control }, previous);
  }

  return async function tick(now: number): Promise<TickResult> {
    const [pathways, rollups] = await Promise.all([loadRegistry(), loadRollups(now)]);
    const scopes = [GLOBAL_SCOPE, ...new Set(rollups.map((r) => r.country).filter(isRoutingCountry))];
    const stored = await routing.readWeights(scopes);
    const decide = (items: ReadonlyMap<string, WeightsItem>) =>
      computeRoutingWeights({ pathways, rollups, previous: toStates(items), now, params });

    const written: string[] = [];
    const skipped: string[] = [];
    let conflicts = 0;
    const decisions = decide(stored).filter((d) => d.changed);
    for (let i = 0; i < decisions.length; i += WRITE_CONCURRENCY) {
      await Promise.all(
        decisions.slice(i, i + WRITE_CONCURRENCY).map(async (decision) => {
          if (await save(decision, stored.get(decision.scope), now)) {
            written.push(decision.scope);
            report(decision);
            return;
          }
          conflicts++;
          // Someone else (an overlapping invocation, an operator) wrote this scope since we read it:
          // decide again from what is there now, and try once more.
          const fresh = await routing.readScopeWeights(decision.scope);
          const retried = decide(new Map(fresh ? [[decision.scope, fresh]] : [])).find((d) => d.scope === decision.scope);
          if (!retried?.changed) return;
          if (await save(retried, fresh, now)) {
            written.push(retried.scope);
            report(retried);
            return;
          }
          conflicts++;
          skipped.push(decision.scope);
          log.warn('weights write conflicted twice; leaving it to the next tick', { scope: decision.scope });
        }),
      );
    }
    // After the per-scope items, every tick: the one item each steering container reads (ADR 0048). The
    // generation is the tick time, so a redelivered or overlapping older tick never replaces a newer one.
    const snapshot = await routing.publishSnapshot(now);
    // Then the generations, which name that snapshot: a key function that reads one finds a snapshot at least as
    // new in DynamoDB (ADR 0097). A failure here does not fail the tick: the weights and the snapshot are written,
    // and sessions get them within the answers' reuse time, as before generations.
    let generations: TickResult['generations'];
    if (deps.generationStore !== undefined) {
      try {
        const published = await publishRoutingGenerations(deps.ddb, config.routingTableName, deps.generationStore);
        generations = { announced: published.announced, conflicts: published.conflicts };
        if (published.announced.length > 0) log.info('routing generations announced', { generation: published.generation, scopes: published.announced });
        metrics.addMetric('RoutingGenerationsAnnounced', MetricUnit.Count, published.announced.length);
        metrics.addMetric('RoutingGenerationConflicts', MetricUnit.Count, published.conflicts);
      } catch (error) {
        const announced = error instanceof GenerationPublishError ? error.announced : [];
        log.error('routing generations not published; sessions get the weights when their cached answers expire', { error: error as Error, announced });
        metrics.addMetric('RoutingGenerationPublishFailures', MetricUnit.Count, 1);
      }
    }
    metrics.addMetric('RoutingSnapshotBytes', MetricUnit.Bytes, snapshot.itemBytes);
    metrics.addMetric('ScopesEvaluated', MetricUnit.Count, scopes.length);
    metrics.addMetric('WeightsWritten', MetricUnit.Count, written.length);
    metrics.addMetric('WeightsWriteConflicts', MetricUnit.Count, conflicts);
    return {
      at: now,
      scopes: scopes.length,
      written: written.sort(),
      conflicts,
      skipped,
      snapshot: { scopes: snapshot.scopes, itemBytes: snapshot.itemBytes },
      ...(generations !== undefined ? { generations } : {}),
    };
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
      }
    }
    if (results.length === 0 && lastError) throw lastError;
    return results;
  };
}

function toStates(items: ReadonlyMap<string, WeightsItem>): Map<string, ScopeState> {
  return new Map([...items].map(([scope, item]) => [scope, { weights: item.weights, control: item.control ?? {} }]));
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// Built once per execution environment; the config is read on first use so that importing this
// module (tests, the local twin) does not require the environment.
const documentClient = DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})), {
  marshallOptions: { removeUndefinedValues: true },
});

/**
 * The Lambda handler with a given KeyValueStore client for the routing generations; the twin passes its store's
 * (local/edge/key-value-store.ts), the cloud the SDK's. Without ROUTING_GENERATION_STORE_ARN no generation is published.
 */
export function routingWeightsHandlerWith(storeClient: () => GenerationStore['client']) {
  return lambdaHandler<unknown, TickResult[]>(() => {
    const config = routingWeightsConfig.decode(process.env);
    const generationStore = config.generationStoreArn === undefined ? undefined : { client: storeClient(), arn: config.generationStoreArn };
    return createRoutingWeightsHandler({ ddb: documentClient, ...(generationStore !== undefined ? { generationStore } : {}) }, config);
  });
}

export const handler = routingWeightsHandlerWith(() => tracer.captureAWSv3Client(new CloudFrontKeyValueStoreClient({})));
