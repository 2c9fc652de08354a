import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { vi } from 'vitest';
import { createAggregatorHandler, type AggregatorConfig } from '../../lambdas/qoe-aggregator/index';
import { createRollupMergerHandler, type MergerConfig } from '../../lambdas/rollup-merger/index';
import type { LocalAws } from '../../local/aws-servers';
import type { KinesisBatchFailure } from '../../local/kinesis-poller';
import { type RollupPollers, startRollupPollers } from '../../local/twin/rollup-pollers';

/**
 * Both rollup stages (ADR 0057) on kinesalite and dynalite, as the twin wires them: telemetry stream ->
 * qoe-aggregator -> partials stream -> rollup-merger -> rollups table. For tests that put telemetry on a
 * stream and read the rollups: `await stages.drain()` returns once both stages handled everything put before.
 */
export interface RollupStagesOptions {
  readonly aws: LocalAws;
  readonly ddb: DynamoDBDocumentClient;
  readonly telemetryStream: string;
  readonly routingTableName: string;
  readonly rollupsTableName: string;
  /** Created by `startRollupStages`; @default `<telemetryStream>-partials` */
  readonly partialsStream?: string;
  /** @default 4 */
  readonly buckets?: number;
  /** Handler deps the test wants to see or change (metrics, logger, config overrides). */
  readonly aggregator?: Partial<AggregatorConfig>;
  readonly merger?: Partial<MergerConfig>;
  readonly batchSize?: number;
  readonly onFailure?: (stage: 'qoe-aggregator' | 'rollup-merger', failure: KinesisBatchFailure) => void;
}

export interface RollupStages extends RollupPollers {
  readonly partialsStream: string;
}

const quiet = () => ({ info: vi.fn(), warn: vi.fn(), error: vi.fn() });
const noMetrics = () => ({ addMetric: vi.fn(), singleMetric: () => ({ addDimension: vi.fn(), addMetric: vi.fn() }) });

/** The stage-1 and stage-2 handlers with a quiet logger and no metrics. */
export function rollupStageHandlers(options: Pick<RollupStagesOptions, 'ddb' | 'routingTableName' | 'rollupsTableName' | 'buckets' | 'aggregator' | 'merger'> & { readonly aws: Pick<LocalAws, 'clients'>; readonly partialsStream: string }) {
  const aggregate = createAggregatorHandler({
    ddb: options.ddb,
    kinesis: options.aws.clients.kinesis,
    config: {
      rollupsTableName: options.rollupsTableName,
      routingTableName: options.routingTableName,
      partialsStreamName: options.partialsStream,
      rollupBuckets: options.buckets ?? 4,
      basePutBackoffMs: 1,
      ...options.aggregator,
    },
    logger: quiet(),
    metrics: noMetrics(),
  });
  const merge = createRollupMergerHandler({
    ddb: options.ddb,
    config: { rollupsTableName: options.rollupsTableName, rollupTtlDays: 7, ...options.merger },
    logger: quiet(),
    metrics: noMetrics(),
  });
  return { aggregate, merge };
}

export async function startRollupStages(options: RollupStagesOptions): Promise<RollupStages> {
  const partialsStream = options.partialsStream ?? `${options.telemetryStream}-partials`;
  await options.aws.createStream(partialsStream, 1);
  const { aggregate, merge } = rollupStageHandlers({ ...options, partialsStream });
  const pollers = await startRollupPollers({
    client: options.aws.clients.kinesis,
    telemetryStream: options.telemetryStream,
    partialsStream,
    aggregate,
    merge,
    batchSize: options.batchSize ?? 400,
    aggregatorWindowMs: 200,
    mergeWindowMs: 200,
    onFailure: options.onFailure,
  });
  return { ...pollers, partialsStream, drain: pollers.drain, stop: pollers.stop };
}
