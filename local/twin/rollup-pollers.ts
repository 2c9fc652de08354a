/**
 * The two rollup stages' event source mappings in the twin (ADR 0057): telemetry stream -> qoe-aggregator,
 * partials stream -> rollup-merger, each a KinesisPoller (ADR 0074). The twin's windows are short: its
 * audience is tens of viewers, and the failover demo wants the rollups seconds behind the CDN logs.
 */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { type KinesisBatchFailure, type KinesisHandler, KinesisPoller } from '../kinesis-poller';

export interface RollupPollersOptions {
  readonly client: KinesisClient;
  readonly telemetryStream: string;
  readonly partialsStream: string;
  readonly aggregate: KinesisHandler;
  readonly merge: KinesisHandler;
  /** @default 500 */
  readonly batchSize?: number;
  /** Stage 1's batching window; @default 2000 */
  readonly aggregatorWindowMs?: number;
  /** Stage 2's batching window; @default 1000 */
  readonly mergeWindowMs?: number;
  /** Bisect a failing batch, as the deployed mappings do; @default true */
  readonly bisect?: boolean;
  readonly onFailure?: (stage: 'qoe-aggregator' | 'rollup-merger', failure: KinesisBatchFailure) => void;
}

export interface RollupPollers {
  /** Resolves once both stages have handled everything put on the telemetry stream before the call. */
  drain(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startRollupPollers(options: RollupPollersOptions): Promise<RollupPollers> {
  const common = { client: options.client, batchSize: options.batchSize ?? 500, bisectBatchOnFunctionError: options.bisect ?? true };
  const merger = new KinesisPoller({
    ...common,
    streamName: options.partialsStream,
    handler: options.merge,
    maximumBatchingWindowMs: options.mergeWindowMs ?? 1000,
    onFailure: (failure) => options.onFailure?.('rollup-merger', failure),
  });
  const aggregator = new KinesisPoller({
    ...common,
    streamName: options.telemetryStream,
    handler: options.aggregate,
    maximumBatchingWindowMs: options.aggregatorWindowMs ?? 2000,
    onFailure: (failure) => options.onFailure?.('qoe-aggregator', failure),
  });
  await merger.start();
  await aggregator.start();
  return {
    async drain(timeoutMs = 30_000) {
      // Stage 1 first: once it is idle, everything it will emit is on the partials stream.
      await aggregator.drain(timeoutMs);
      await merger.drain(timeoutMs);
    },
    async stop() {
      await aggregator.stop();
      await merger.stop();
    },
  };
}
