/**
 * qoe-aggregator, stage 1 of the rollup writes (docs/telemetry.md "Two-stage rollup writes", ADR 0057):
 * telemetry stream -> partials stream.
 *
 * 1. Normalise every record to samples (core/). Malformed records are counted (`SetAsideRecords`),
 *    logged with shard and sequence number, and never fail the batch.
 * 2. Reduce the batch to per-cell partials (additive counters and distinct-session bits, ADR 0054).
 * 3. Claim the batch's range of the shard (one small conditional write), then put one partials record per
 *    bucket of cells on the partials stream, partition key = bucket. rollup-merger (stage 2) merges the
 *    partials of every shard and writes each cell once per batch.
 *
 * Exactly once: a batch that holds records of the shard's last claim re-emits exactly that claim (from the
 * batch when it holds all of it, else read back from the stream), so every claim reaches the partials stream
 * with the same range however often it is emitted, and rollup-merger applies each claim once per bucket.
 * Records below the last claim were emitted by an earlier claim and are skipped. Any failure fails the whole
 * batch; the retry repeats the claim.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  PutRecordsCommand,
  type PutRecordsRequestEntry,
} from '@aws-sdk/client-kinesis';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { buildPathwayHosts, type PathwayHosts } from '../../core/pathway-hosts';
import { aggregateSamples, aggregateSessionEvidence, COUNTER_NAMES, emptyCounters, samplesOfStreamRecord } from '../../core/qoe-aggregate';
import type { QoeCounters } from '../../core/qoe-types';
import { MalformedRecordError } from '../../core/realtime-log';
import {
  bucketOfCountry,
  type CellPartial,
  encodeRollupPartials,
  MAX_PARTIALS_RECORD_BYTES,
  mergeCellPartial,
  partialCellKey,
} from '../../core/rollup-partials';
import { emptySessionBits, LogLineEvidenceBudget, ReportEvidenceBudget, ThroughputEvidenceBudget } from '../../core/session-evidence';
import { TitleDemand } from '../../core/title-demand';
import { type RollupClaim, RollupsTable } from '../../tables/rollups-table';
import { TitleDemandTable } from '../../tables/title-demand-table';
import { RoutingTable } from '../../tables/routing-table';
import { type MetricsSink, shardOf, streamNameOf } from '../shared/kinesis-batch';
import { lambdaHandler, logger as sharedLogger, metrics as sharedMetrics, tracer } from '../shared/powertools';
import { type QoeAggregatorConfig, qoeAggregatorConfig } from './config';

/** The deployed configuration (./config.ts) plus tuning that tests may change. */
export interface AggregatorConfig extends Omit<QoeAggregatorConfig, 'demandTopK'> {
  /** Titles per minute written for the trending pre-warm (ADR 0102); @default 0 (off; the deployed default is the config's) */
  readonly demandTopK?: number;
  /** How long the pathway registry is cached; @default 60_000 */
  readonly registryMaxAgeMs?: number;
  /** PutRecords attempts for entries that keep failing, before the batch fails; @default 4 */
  readonly maxPutAttempts?: number;
  /** First backoff between PutRecords attempts; @default 100 */
  readonly basePutBackoffMs?: number;
  /** Largest partials record; @default MAX_PARTIALS_RECORD_BYTES */
  readonly maxRecordBytes?: number;
}

export interface AggregatorDeps {
  readonly ddb: DynamoDBDocumentClient;
  readonly kinesis: KinesisClient;
  readonly config: AggregatorConfig;
  readonly logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly metrics?: MetricsSink;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** A claim's partials could not all be put; the batch fails and its retry re-emits the claim. */
export class PartialsNotStoredError extends Error {
  constructor(failed: number) {
    super(`${failed} rollup partials records could not be put on the partials stream`);
    this.name = 'PartialsNotStoredError';
  }
}

/**
 * Registry read once a minute; a failed refresh keeps the last good registry (telemetry must not stall
 * on a blip). Without any registry it throws, so the batch is retried, not dropped.
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

/** One telemetry record: its sequence number and text. */
export interface TelemetryRecord {
  readonly seq: string;
  readonly text: string;
}

interface Normalised {
  readonly cells: CellPartial[];
  readonly setAside: number;
  readonly unattributed: number;
  readonly implausible: number;
  readonly overBudget: number;
  readonly overBudgetThroughput: number;
  readonly refused: number;
}

const compareSeq = (a: string, b: string) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);

export function createAggregatorHandler(deps: AggregatorDeps) {
  const { ddb, kinesis, config } = deps;
  const logger = deps.logger ?? sharedLogger;
  const metrics = deps.metrics ?? sharedMetrics;
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const rollups = new RollupsTable(ddb, config.rollupsTableName);
  const getHosts = registryCache(new RoutingTable(ddb, config.routingTableName), config.registryMaxAgeMs ?? 60_000, now, logger);
  const maxPutAttempts = config.maxPutAttempts ?? 4;
  const basePutBackoffMs = config.basePutBackoffMs ?? 100;
  const maxRecordBytes = config.maxRecordBytes ?? MAX_PARTIALS_RECORD_BYTES;
  // One per container (ADR 0069): a session's CDN log lines keep their player values for a bounded number
  // of lines per minute. A re-emitted claim finds its lines already charged, so evidence can be lost, never gained.
  const logBudget = new LogLineEvidenceBudget();
  // …and every session's throughput values, reports and log lines together, so it weighs as one session in a cell's mean.
  const throughputBudget = new ThroughputEvidenceBudget();
  // …and every report's evidence grant again (ADR 0101): the ingest keeps its budget per ingest container, while a
  // session's reports share one partition key, so they reach this shard's few containers only.
  const reportBudget = new ReportEvidenceBudget();
  // Sessions per title and minute (ADR 0102), written once the minute has ended: the pre-warm's trending signal.
  const demand = new TitleDemand(config.demandTopK ?? 0);
  const demandTable = new TitleDemandTable(ddb, config.rollupsTableName);

  /** The cells one record adds to; a malformed record adds none and is logged. */
  function normalise(records: readonly TelemetryRecord[], hosts: PathwayHosts, shard: string): Normalised[] {
    return records.map((record) => {
      try {
        const normalised = samplesOfStreamRecord(record.text, hosts, logBudget, { budget: reportBudget, recordId: `${shard}/${record.seq}` });
        for (const sample of normalised.samples) demand.add(sample);
        const admitted = throughputBudget.admitAll(normalised.samples);
        const sessionsByCell = aggregateSessionEvidence(admitted.samples);
        const cells = [...aggregateSamples(admitted.samples)].map(([key, rollup]): CellPartial => {
          const counters = emptyCounters();
          for (const name of COUNTER_NAMES) counters[name] = rollup[name];
          return { minute: rollup.minute, pathway: rollup.pathway, country: rollup.country, counters, sessions: sessionsByCell.get(key) ?? emptySessionBits() };
        });
        return { cells, setAside: 0, unattributed: normalised.unattributed, implausible: normalised.implausible, overBudget: normalised.overBudget, overBudgetThroughput: admitted.setAside, refused: normalised.refused };
      } catch (error) {
        logger.warn('telemetry record set aside', {
          shard,
          sequenceNumber: record.seq,
          reason: error instanceof MalformedRecordError ? error.reason : 'unexpected',
          ...(error instanceof MalformedRecordError ? {} : { error }),
        });
        return { cells: [], setAside: 1, unattributed: 0, implausible: 0, overBudget: 0, overBudgetThroughput: 0, refused: 0 };
      }
    });
  }

  /** One partials record per bucket with cells: the claim's cells merged. */
  function partialsRecords(source: string, claim: RollupClaim, normalised: readonly Normalised[]): PutRecordsRequestEntry[] {
    const byBucket = new Map<number, Map<string, { minute: number; pathway: string; country: string; counters: QoeCounters; sessions: ReturnType<typeof emptySessionBits> }>>();
    for (const record of normalised) {
      for (const cell of record.cells) {
        const bucket = bucketOfCountry(cell.country, config.rollupBuckets);
        let cells = byBucket.get(bucket);
        if (cells === undefined) byBucket.set(bucket, (cells = new Map()));
        const key = partialCellKey(cell);
        let merged = cells.get(key);
        if (merged === undefined) cells.set(key, (merged = { minute: cell.minute, pathway: cell.pathway, country: cell.country, counters: emptyCounters(), sessions: emptySessionBits() }));
        mergeCellPartial(merged, cell);
      }
    }
    return [...byBucket].map(([bucket, cells]) => ({
      PartitionKey: String(bucket),
      Data: encodeRollupPartials({ source, first: claim.first, last: claim.last, bucket, cells: [...cells.values()] }),
    }));
  }

  /**
   * The claims covering `records`: all of them in one, split in halves until every partials record fits
   * a Kinesis record. A claim's records are always re-emitted together, so a re-emission fits too.
   */
  function claimsOf(source: string, records: readonly TelemetryRecord[], normalised: readonly Normalised[]): { claim: RollupClaim; entries: PutRecordsRequestEntry[] }[] {
    const claim = { first: records[0]!.seq, last: records.at(-1)!.seq };
    const entries = partialsRecords(source, claim, normalised);
    if (records.length === 1 || entries.every((entry) => (entry.Data as Uint8Array).byteLength <= maxRecordBytes)) return [{ claim, entries }];
    const half = Math.ceil(records.length / 2);
    return [...claimsOf(source, records.slice(0, half), normalised.slice(0, half)), ...claimsOf(source, records.slice(half), normalised.slice(half))];
  }

  /** PutRecords, retrying only the failed entries with exponential backoff and full jitter (Kinesis developer guide). */
  async function putAll(entries: readonly PutRecordsRequestEntry[]): Promise<void> {
    // PutRecords takes at most 500 records and 5 MiB per call.
    const calls: PutRecordsRequestEntry[][] = [];
    let current: PutRecordsRequestEntry[] = [];
    let bytes = 0;
    for (const entry of entries) {
      const size = (entry.Data as Uint8Array).byteLength + entry.PartitionKey!.length;
      if (current.length === 500 || bytes + size > 5_000_000) {
        calls.push(current);
        current = [];
        bytes = 0;
      }
      current.push(entry);
      bytes += size;
    }
    if (current.length > 0) calls.push(current);
    for (const call of calls) {
      let pending = call;
      for (let attempt = 0; attempt < maxPutAttempts && pending.length > 0; attempt++) {
        if (attempt > 0) await sleep(Math.floor(Math.random() * basePutBackoffMs * 2 ** (attempt - 1)));
        try {
          const result = await kinesis.send(new PutRecordsCommand({ StreamName: config.partialsStreamName, Records: pending }));
          const outcomes = result.Records ?? [];
          pending = pending.filter((_, i) => outcomes[i] === undefined || outcomes[i]!.ErrorCode !== undefined);
        } catch (error) {
          logger.warn('PutRecords call failed', { attempt, error });
        }
      }
      if (pending.length > 0) throw new PartialsNotStoredError(pending.length);
    }
  }

  /** The records of a claim, read back from the telemetry stream (a retry that holds only part of it). */
  async function readClaimFromStream(streamName: string, shardId: string, claim: RollupClaim): Promise<TelemetryRecord[]> {
    const records: TelemetryRecord[] = [];
    let { ShardIterator: iterator } = await kinesis.send(
      new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: claim.first }),
    );
    const last = BigInt(claim.last);
    while (iterator !== undefined) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const record of page.Records ?? []) {
        if (BigInt(record.SequenceNumber!) > last) return records;
        records.push({ seq: record.SequenceNumber!, text: Buffer.from(record.Data ?? new Uint8Array()).toString('utf8') });
      }
      if (records.at(-1)?.seq === claim.last) return records;
      // An empty page at the tip means the claim's end is not in the stream (trimmed or never written).
      if ((page.Records ?? []).length === 0 && (page.MillisBehindLatest ?? 0) === 0) break;
      iterator = page.NextShardIterator;
    }
    throw new Error(`claim ${claim.first}..${claim.last} of ${streamName}/${shardId} is no longer in the stream`);
  }

  /**
   * Writes the top titles of every minute that has ended (ADR 0102): at most `demandTopK` set unions per minute
   * and container. Best effort: a failed write is counted and logged, never fails the batch (the rollups do not
   * depend on it), and its bits are lost to the signal.
   */
  async function writeEndedDemand(): Promise<void> {
    const writes = demand.takeEndedMinutes(now()).flatMap((m) => m.titles.map((t) => ({ minute: m.minute, ...t })));
    if (writes.length === 0) return;
    const results = await Promise.allSettled(writes.map((w) => demandTable.addDemand(w.minute, w.assetId, w.sessionBits)));
    const failed = results.filter((r) => r.status === 'rejected');
    metrics.addMetric('TitleDemandWrites', MetricUnit.Count, writes.length - failed.length);
    if (failed.length > 0) {
      metrics.addMetric('TitleDemandWriteFailures', MetricUnit.Count, failed.length);
      logger.warn('title demand not written', { failed: failed.length, error: (failed[0] as PromiseRejectedResult).reason });
    }
  }

  async function processShard(streamName: string, shardId: string, batch: readonly TelemetryRecord[], hosts: PathwayHosts, totals: BatchTotals): Promise<void> {
    const source = `${streamName}/${shardId}`;
    const records = [...batch].sort((a, b) => compareSeq(a.seq, b.seq));
    let claim = await rollups.readClaim(source);
    if (claim !== undefined) {
      const current = claim;
      const inClaim = records.filter((r) => compareSeq(r.seq, current.first) >= 0 && compareSeq(r.seq, current.last) <= 0);
      if (inClaim.length > 0) {
        // A retry or replay of the last claim: emit exactly its range again; rollup-merger drops what it applied.
        const whole = inClaim[0]!.seq === current.first && inClaim.at(-1)!.seq === current.last;
        const claimRecords = whole ? inClaim : await readClaimFromStream(streamName, shardId, current);
        const again = partialsRecords(source, current, normalise(claimRecords, hosts, source));
        await putAll(again);
        totals.reemittedClaims += 1;
        totals.partialsRecords += again.length;
      }
      totals.skipped += records.filter((r) => compareSeq(r.seq, current.first) < 0).length;
    }
    const fresh = claim === undefined ? records : records.filter((r) => compareSeq(r.seq, claim!.last) > 0);
    if (fresh.length === 0) return;
    const normalised = normalise(fresh, hosts, source);
    for (const n of normalised) {
      totals.setAside += n.setAside;
      totals.unattributed += n.unattributed;
      totals.implausible += n.implausible;
      totals.overBudget += n.overBudget;
      totals.overBudgetThroughput += n.overBudgetThroughput;
      totals.refused += n.refused;
      for (const cell of n.cells) totals.cells.push(cell);
    }
    for (const next of claimsOf(source, fresh, normalised)) {
      await rollups.putClaim(source, next.claim, claim, Math.floor(now() / 1000));
      claim = next.claim;
      await putAll(next.entries);
      totals.claims += 1;
      totals.partialsRecords += next.entries.length;
    }
  }

  return async (event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> => {
    const hosts = await getHosts();
    const totals: BatchTotals = { setAside: 0, unattributed: 0, implausible: 0, overBudget: 0, overBudgetThroughput: 0, refused: 0, skipped: 0, claims: 0, reemittedClaims: 0, partialsRecords: 0, cells: [] };
    // The event source mapping delivers one shard per batch; grouped anyway, the claims are per shard.
    const byShard = new Map<string, { streamName: string; shardId: string; records: TelemetryRecord[] }>();
    for (const record of event.Records) {
      const streamName = streamNameOf(record);
      const shardId = shardOf(record);
      const key = `${streamName}/${shardId}`;
      let group = byShard.get(key);
      if (group === undefined) byShard.set(key, (group = { streamName, shardId, records: [] }));
      group.records.push({ seq: record.kinesis.sequenceNumber, text: Buffer.from(record.kinesis.data, 'base64').toString('utf8') });
    }
    for (const group of byShard.values()) await processShard(group.streamName, group.shardId, group.records, hosts, totals);
    await writeEndedDemand();

    metrics.addMetric('SetAsideRecords', MetricUnit.Count, totals.setAside);
    metrics.addMetric('UnattributedReports', MetricUnit.Count, totals.unattributed);
    metrics.addMetric('ImplausibleReportValues', MetricUnit.Count, totals.implausible);
    metrics.addMetric('OverBudgetReportLines', MetricUnit.Count, totals.overBudget);
    metrics.addMetric('OverBudgetThroughputValues', MetricUnit.Count, totals.overBudgetThroughput);
    metrics.addMetric('RefusedLogLines', MetricUnit.Count, totals.refused);
    metrics.addMetric('RollupClaims', MetricUnit.Count, totals.claims);
    metrics.addMetric('ReemittedRollupClaims', MetricUnit.Count, totals.reemittedClaims);
    metrics.addMetric('RollupPartialsRecords', MetricUnit.Count, totals.partialsRecords);
    metrics.addMetric('AlreadyClaimedRecords', MetricUnit.Count, totals.skipped);
    publishPathwayMetrics(metrics, totals.cells);
    return { batchItemFailures: [] };
  };
}

interface BatchTotals {
  setAside: number;
  unattributed: number;
  implausible: number;
  overBudget: number;
  /** Throughput values beyond their session-minute's budget (ThroughputEvidenceBudget), set aside. */
  overBudgetThroughput: number;
  refused: number;
  /** Records below the last claim: emitted before. */
  skipped: number;
  claims: number;
  reemittedClaims: number;
  partialsRecords: number;
  /** The new records' cells (re-emitted claims excluded), for the pathway metrics. */
  cells: CellPartial[];
}

/**
 * Per-pathway `PathwayErrors` / `PathwayRequests` (dimension `pathway`) for the error-spike alarms of
 * lib/constructs/telemetry-pipeline.ts. The volume is max(CDN requests, player reports) per cell, the
 * same denominator as the scorer (core/routing/pathway-cost.ts), so pathways without real-time logs count too.
 */
function publishPathwayMetrics(metrics: MetricsSink, cells: readonly CellPartial[]): void {
  const byCell = new Map<string, { pathway: string; requests: number; reports: number; errors: number }>();
  for (const cell of cells) {
    const key = partialCellKey(cell);
    const sum = byCell.get(key) ?? { pathway: cell.pathway, requests: 0, reports: 0, errors: 0 };
    sum.requests += cell.counters.requests;
    sum.reports += cell.counters.reports;
    sum.errors += cell.counters.errors;
    byCell.set(key, sum);
  }
  const byPathway = new Map<string, { errors: number; volume: number }>();
  for (const { pathway, requests, reports, errors } of byCell.values()) {
    const sum = byPathway.get(pathway) ?? { errors: 0, volume: 0 };
    sum.errors += errors;
    sum.volume += Math.max(requests, reports);
    byPathway.set(pathway, sum);
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

const ddbClient = DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})));
const kinesisClient = tracer.captureAWSv3Client(new KinesisClient({}));

export const handler = lambdaHandler<KinesisStreamEvent, KinesisStreamBatchResponse>(() =>
  createAggregatorHandler({ ddb: ddbClient, kinesis: kinesisClient, config: qoeAggregatorConfig.decode(process.env) }),
);
