/**
 * qoe-aggregator (docs/telemetry.md "Aggregator"): Kinesis telemetry stream -> QoE rollups table.
 *
 * 1. Normalise every record to samples (core/). Malformed records are counted (`SetAsideRecords`),
 *    logged with shard and sequence number, and never fail the batch.
 * 2. Aggregate per cell `pathway × country × minute` (additive counters and distinct-session bitmaps,
 *    ADR 0054), remembering which records fed which cell.
 * 3. Write O(cells) idempotent UpdateItems (tables/rollups-table.ts).
 * 4. Report through Powertools' BatchProcessor exactly the records that fed a cell whose write failed;
 *    the event source mapping retries from the lowest of them, and the high-water marks make the
 *    re-delivered records that were already applied no-ops.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { buildPathwayHosts, type PathwayHosts } from '../../core/pathway-hosts';
import { aggregateSamples, aggregateSessionEvidence, cellSortKey, COUNTER_NAMES, samplesOfStreamRecord } from '../../core/qoe-aggregate';
import { MalformedRecordError } from '../../core/realtime-log';
import { type CellContribution, type CellWrite, padSequenceNumber, RollupsTable } from '../../tables/rollups-table';
import { RoutingTable } from '../../tables/routing-table';
import { lambdaHandler, logger as sharedLogger, metrics as sharedMetrics, tracer } from '../shared/powertools';
import { type QoeAggregatorConfig, qoeAggregatorConfig } from './config';

const DAY_SECONDS = 86_400;

/** The deployed configuration (./config.ts) plus tuning that tests may change. */
export interface AggregatorConfig extends QoeAggregatorConfig {
  /** How long the pathway registry is cached; @default 60_000 */
  readonly registryMaxAgeMs?: number;
  /** Parallel UpdateItem calls; @default 16 */
  readonly writeConcurrency?: number;
  /** Conflict rounds per cell before it is reported failed; @default 3 */
  readonly maxConflicts?: number;
}

/**
 * The part of Powertools Metrics the handler uses (the shared instance satisfies it; tests pass a spy).
 * The handler shell flushes once per invocation (lambdas/shared/powertools.ts).
 */
export interface MetricsSink {
  addMetric(name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number): unknown;
  /** A metric with its own dimensions, flushed at once (Powertools `singleMetric`). */
  singleMetric(): { addDimension(name: string, value: string): unknown; addMetric(name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number): unknown };
}

export interface AggregatorDeps {
  readonly ddb: DynamoDBDocumentClient;
  readonly config: AggregatorConfig;
  readonly logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly metrics?: MetricsSink;
  readonly now?: () => number;
}

/**
 * Registry read once a minute; a failed refresh keeps the last good registry (telemetry must not stall
 * on a blip). Without any registry it throws RegistryMissingError, so the batch is retried, not dropped.
 */
function registryCache(routing: RoutingTable, maxAgeMs: number, now: () => number, logger: Pick<Logger, 'warn'>) {
  let hosts: PathwayHosts | undefined;
  let loadedAt = 0;
  return async (): Promise<PathwayHosts> => {
    if (hosts && now() - loadedAt < maxAgeMs) return hosts;
    try {
      const registry = await routing.readRegistry();
      if (registry.rejected.length > 0) logger.warn('pathway registry entries set aside', { rejected: registry.rejected });
      hosts = buildPathwayHosts(registry.pathways);
      loadedAt = now();
    } catch (error) {
      if (!hosts) throw error;
    }
    return hosts;
  };
}

interface PendingCell {
  readonly write: Omit<CellWrite, 'contributions'>;
  readonly contributions: CellContribution[];
}

async function runPool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

export function createAggregatorHandler(deps: AggregatorDeps) {
  const { ddb, config } = deps;
  const logger = deps.logger ?? sharedLogger;
  const metrics = deps.metrics ?? sharedMetrics;
  const now = deps.now ?? Date.now;
  const rollupsTable = new RollupsTable(ddb, config.rollupsTableName);
  const getHosts = registryCache(new RoutingTable(ddb, config.routingTableName), config.registryMaxAgeMs ?? 60_000, now, logger);
  const concurrency = config.writeConcurrency ?? 16;
  const maxConflicts = config.maxConflicts ?? 3;

  return async (event: KinesisStreamEvent, context?: Context): Promise<KinesisStreamBatchResponse> => {
    const hosts = await getHosts();
    const cells = new Map<string, PendingCell>();
    const cellsOfRecord = new Map<string, string[]>();
    let setAside = 0;
    let unattributed = 0;
    let implausible = 0;
    let overBudget = 0;
    let refused = 0;

    for (const record of event.Records) {
      const { sequenceNumber } = record.kinesis;
      const shardId = shardOf(record);
      let samples;
      try {
        const normalised = samplesOfStreamRecord(Buffer.from(record.kinesis.data, 'base64').toString('utf8'), hosts);
        samples = normalised.samples;
        unattributed += normalised.unattributed;
        implausible += normalised.implausible;
        overBudget += normalised.overBudget;
        refused += normalised.refused;
      } catch (error) {
        setAside += 1;
        logger.warn('telemetry record set aside', {
          shardId,
          sequenceNumber,
          reason: error instanceof MalformedRecordError ? error.reason : 'unexpected',
          ...(error instanceof MalformedRecordError ? {} : { error }),
        });
        continue;
      }
      const seq = padSequenceNumber(sequenceNumber);
      const keys: string[] = [];
      const sessionsByCell = aggregateSessionEvidence(samples);
      for (const [key, rollup] of aggregateSamples(samples)) {
        const cellKey = `${key}@${shardId}`;
        let cell = cells.get(cellKey);
        if (cell === undefined) {
          cell = {
            write: {
              minute: rollup.minute,
              cell: cellSortKey(rollup.pathway, rollup.country),
              pathway: rollup.pathway,
              country: rollup.country,
              shardId,
            },
            contributions: [],
          };
          cells.set(cellKey, cell);
        }
        const counters = Object.fromEntries(COUNTER_NAMES.map((name) => [name, rollup[name]])) as unknown as CellContribution['counters'];
        const sessions = sessionsByCell.get(key);
        cell.contributions.push({ seq, counters, ...(sessions !== undefined ? { sessions } : {}) });
        keys.push(cellKey);
      }
      cellsOfRecord.set(sequenceNumber, keys);
    }

    const failedCells = new Set<string>();
    let updateCalls = 0;
    await runPool([...cells.entries()], concurrency, async ([cellKey, cell]) => {
      // Records of one shard arrive in sequence order, but sort anyway: the condition relies on it.
      const contributions = cell.contributions.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
      try {
        const outcome = await rollupsTable.addToCell({ ...cell.write, contributions }, {
          expiresAtSeconds: Math.floor(cell.write.minute / 1000) + config.rollupTtlDays * DAY_SECONDS,
          maxConflicts,
        });
        updateCalls += outcome.updateCalls;
      } catch (error) {
        failedCells.add(cellKey);
        logger.error('rollup cell write failed', { minute: cell.write.minute, cell: cell.write.cell, shardId: cell.write.shardId, error });
      }
    });

    metrics.addMetric('SetAsideRecords', MetricUnit.Count, setAside);
    metrics.addMetric('UnattributedReports', MetricUnit.Count, unattributed);
    metrics.addMetric('ImplausibleReportValues', MetricUnit.Count, implausible);
    metrics.addMetric('OverBudgetReportLines', MetricUnit.Count, overBudget);
    metrics.addMetric('RefusedLogLines', MetricUnit.Count, refused);
    metrics.addMetric('RollupCells', MetricUnit.Count, cells.size);
    metrics.addMetric('RollupUpdateCalls', MetricUnit.Count, updateCalls);
    metrics.addMetric('FailedRollupCells', MetricUnit.Count, failedCells.size);
    publishPathwayMetrics(metrics, cells.values());

    const recordHandler = async (record: KinesisStreamRecord): Promise<void> => {
      const keys = cellsOfRecord.get(record.kinesis.sequenceNumber) ?? [];
      if (keys.some((key) => failedCells.has(key))) {
        throw new Error(`record ${record.kinesis.sequenceNumber} fed a rollup cell whose write failed`);
      }
    };
    return processPartialResponse(event, recordHandler, new BatchProcessor(EventType.KinesisDataStreams), {
      ...(context ? { context } : {}),
      throwOnFullBatchFailure: false,
    });
  };
}

/**
 * Per-pathway `PathwayErrors` / `PathwayRequests` (dimension `pathway`) for the error-spike alarms of
 * lib/constructs/telemetry-pipeline.ts. The volume is max(CDN requests, player reports) per cell, the
 * same denominator as the scorer (core/routing/pathway-cost.ts), so pathways without real-time logs count too.
 */
function publishPathwayMetrics(metrics: MetricsSink, cells: Iterable<PendingCell>): void {
  const byPathway = new Map<string, { errors: number; volume: number }>();
  for (const cell of cells) {
    let requests = 0;
    let reports = 0;
    let errors = 0;
    for (const c of cell.contributions) {
      requests += c.counters.requests;
      reports += c.counters.reports;
      errors += c.counters.errors;
    }
    const sum = byPathway.get(cell.write.pathway) ?? { errors: 0, volume: 0 };
    sum.errors += errors;
    sum.volume += Math.max(requests, reports);
    byPathway.set(cell.write.pathway, sum);
  }
  for (const [pathway, { errors, volume }] of byPathway) {
    const single = metrics.singleMetric();
    single.addDimension('pathway', pathway);
    single.addMetric('PathwayErrors', MetricUnit.Count, errors);
    const volumeMetric = metrics.singleMetric();
    volumeMetric.addDimension('pathway', pathway);
    volumeMetric.addMetric('PathwayRequests', MetricUnit.Count, volume);
  }
}

/** `eventID` is `<shardId>:<sequenceNumber>` (Lambda Kinesis event, documented sample events). */
function shardOf(record: KinesisStreamRecord): string {
  const colon = record.eventID.indexOf(':');
  return colon > 0 ? record.eventID.slice(0, colon) : 'unknown';
}

const ddbClient = DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})));

export const handler = lambdaHandler<KinesisStreamEvent, KinesisStreamBatchResponse>(() =>
  createAggregatorHandler({ ddb: ddbClient, config: qoeAggregatorConfig.decode(process.env) }),
);
