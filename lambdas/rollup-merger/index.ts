/**
 * rollup-merger, stage 2 of the rollup writes (docs/telemetry.md "Two-stage rollup writes", ADR 0057):
 * partials stream -> QoE rollups table.
 *
 * 1. Decode each partials record (one claim of one telemetry shard, one bucket of cells); a malformed one is
 *    counted (`SetAsideRecords`) and logged, never fails the batch.
 * 2. Drop the claims this bucket applied already (the bucket's applied marks) and repeats within the batch:
 *    qoe-aggregator re-emits a claim whole after a retry, so a claim is either new or entirely applied.
 * 3. Merge per cell and write each cell once (tables/rollups-table.ts): every cell of a bucket is written by
 *    this stream shard alone, and the cell's high-water mark of this shard makes a redelivered partials
 *    record a no-op.
 * 4. Raise the applied marks for the claims before the first failed record; report the records that fed a
 *    failed cell, so the event source mapping retries from the lowest of them.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { cellSortKey, emptyCounters } from '../../core/qoe-aggregate';
import { decodeRollupPartials, MalformedPartialsError, mergeCellPartial, partialCellKey, type RollupPartials } from '../../core/rollup-partials';
import { emptySessionBits } from '../../core/session-evidence';
import { type CellContribution, orderedSequenceNumber, RollupsTable } from '../../tables/rollups-table';
import { type MetricsSink, shardOf } from '../shared/kinesis-batch';
import { lambdaHandler, logger as sharedLogger, metrics as sharedMetrics, tracer } from '../shared/powertools';
import { type RollupMergerConfig, rollupMergerConfig } from './config';

const DAY_SECONDS = 86_400;

/** The deployed configuration (./config.ts) plus tuning that tests may change. */
export interface MergerConfig extends RollupMergerConfig {
  /** Parallel cell writes; @default 16 */
  readonly writeConcurrency?: number;
  /** Conflict rounds per cell before it is reported failed; @default 3 */
  readonly maxConflicts?: number;
}

export interface MergerDeps {
  readonly ddb: DynamoDBDocumentClient;
  readonly config: MergerConfig;
  readonly logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly metrics?: MetricsSink;
  readonly now?: () => number;
}

interface PendingCell {
  readonly minute: number;
  readonly cell: string;
  readonly shardId: string;
  readonly contributions: CellContribution[];
  /** Sequence numbers of the partials records that fed it. */
  readonly records: string[];
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

const bySeq = (a: { seq: string }, b: { seq: string }) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : BigInt(a.seq) > BigInt(b.seq) ? 1 : 0);

export function createRollupMergerHandler(deps: MergerDeps) {
  const { ddb, config } = deps;
  const logger = deps.logger ?? sharedLogger;
  const metrics = deps.metrics ?? sharedMetrics;
  const now = deps.now ?? Date.now;
  const rollups = new RollupsTable(ddb, config.rollupsTableName);
  const concurrency = config.writeConcurrency ?? 16;
  const maxConflicts = config.maxConflicts ?? 3;

  return async (event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> => {
    const decoded: { seq: string; shardId: string; partials: RollupPartials }[] = [];
    let setAside = 0;
    for (const record of event.Records) {
      const { sequenceNumber: seq } = record.kinesis;
      try {
        decoded.push({ seq, shardId: shardOf(record), partials: decodeRollupPartials(Buffer.from(record.kinesis.data, 'base64')) });
      } catch (error) {
        setAside += 1;
        logger.warn('rollup partials record set aside', {
          shardId: shardOf(record),
          sequenceNumber: seq,
          reason: error instanceof MalformedPartialsError ? error.reason : 'unexpected',
          ...(error instanceof MalformedPartialsError ? {} : { error }),
        });
      }
    }
    decoded.sort(bySeq);

    const marks = await rollups.readAppliedMarks(decoded.map((d) => d.partials.bucket));
    const seenClaims = new Set<string>();
    const accepted: typeof decoded = [];
    let duplicates = 0;
    for (const record of decoded) {
      const { bucket, source, last } = record.partials;
      const claim = `${bucket}|${source}|${last}`;
      if (marks.get(bucket)!.covers(source, last) || seenClaims.has(claim)) {
        duplicates += 1;
        continue;
      }
      seenClaims.add(claim);
      accepted.push(record);
    }

    const cells = new Map<string, PendingCell>();
    for (const record of accepted) {
      const seq = orderedSequenceNumber(record.seq);
      for (const partial of record.partials.cells) {
        const key = `${partialCellKey(partial)}@${record.shardId}`;
        let cell = cells.get(key);
        if (cell === undefined) {
          cell = { minute: partial.minute, cell: cellSortKey(partial.pathway, partial.country), shardId: record.shardId, contributions: [], records: [] };
          cells.set(key, cell);
        }
        const last = cell.contributions.at(-1);
        if (last?.seq === seq) {
          // Two cells of one record never share a key; kept for a record that lists a cell twice.
          mergeCellPartial(last as { counters: typeof partial.counters; sessions: typeof partial.sessions }, partial);
        } else {
          const merged = { counters: emptyCounters(), sessions: emptySessionBits() };
          mergeCellPartial(merged, partial);
          cell.contributions.push({ seq, ...merged });
          cell.records.push(record.seq);
        }
      }
    }

    const failedRecords = new Set<string>();
    let failedCells = 0;
    let updateCalls = 0;
    await runPool([...cells.values()], concurrency, async (cell) => {
      try {
        const outcome = await rollups.addToCell(cell, {
          expiresAtSeconds: Math.floor(cell.minute / 1000) + config.rollupTtlDays * DAY_SECONDS,
          maxConflicts,
        });
        updateCalls += outcome.updateCalls;
      } catch (error) {
        failedCells += 1;
        for (const seq of cell.records) failedRecords.add(seq);
        logger.error('rollup cell write failed', { minute: cell.minute, cell: cell.cell, shardId: cell.shardId, error });
      }
    });

    // The mapping retries from the lowest failed record: claims before it are done, the rest come again.
    const lowestFailed = [...failedRecords].reduce<bigint | undefined>((min, seq) => (min === undefined || BigInt(seq) < min ? BigInt(seq) : min), undefined);
    const advances = new Map<number, Map<string, string>>();
    for (const record of accepted) {
      if (lowestFailed !== undefined && BigInt(record.seq) >= lowestFailed) break;
      const { bucket, source, last } = record.partials;
      let bucketMarks = advances.get(bucket);
      if (bucketMarks === undefined) advances.set(bucket, (bucketMarks = new Map()));
      bucketMarks.set(source, last);
    }
    const nowSeconds = Math.floor(now() / 1000);
    // A failure here fails the batch: the retry finds the cells written (high-water marks) and raises the marks.
    await Promise.all([...advances].map(([bucket, lastBySource]) => rollups.advanceAppliedMarks(bucket, lastBySource, nowSeconds)));

    metrics.addMetric('SetAsideRecords', MetricUnit.Count, setAside);
    metrics.addMetric('DuplicateRollupClaims', MetricUnit.Count, duplicates);
    metrics.addMetric('RollupCells', MetricUnit.Count, cells.size);
    metrics.addMetric('RollupUpdateCalls', MetricUnit.Count, updateCalls);
    metrics.addMetric('FailedRollupCells', MetricUnit.Count, failedCells);
    return {
      batchItemFailures: [...failedRecords].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)).map((itemIdentifier) => ({ itemIdentifier })),
    };
  };
}

const ddbClient = DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})));

export const handler = lambdaHandler<KinesisStreamEvent, KinesisStreamBatchResponse>(() =>
  createRollupMergerHandler({ ddb: ddbClient, config: rollupMergerConfig.decode(process.env) }),
);
