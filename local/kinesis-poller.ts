/**
 * Kinesis event source mapping stand-in (ADR 0074): polls every kinesalite shard, batches
 * with a batching window and a maximum batch size, and invokes a handler with the event Lambda
 * delivers. Failure handling follows the mapping settings the qoe-aggregator is deployed with
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html):
 * `batchItemFailures` checkpoint at the lowest failed sequence number, bisect on function error,
 * bounded retries, then the on-failure destination, and the shard moves on.
 */
import {
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  ListShardsCommand,
  type KinesisClient,
  type _Record,
} from '@aws-sdk/client-kinesis';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';

export type KinesisHandler = (
  event: KinesisStreamEvent,
) => Promise<KinesisStreamBatchResponse | void | undefined> | KinesisStreamBatchResponse | void | undefined;

/** What an on-failure destination receives about records the mapping gave up on. */
export interface KinesisBatchFailure {
  readonly shardId: string;
  readonly startSequenceNumber: string;
  readonly endSequenceNumber: string;
  readonly batchSize: number;
  readonly attempts: number;
  readonly reason: 'RetryAttemptsExhausted';
  readonly lastError?: string;
}

export interface KinesisPollerOptions {
  /** A client for kinesalite (HTTP/1.1 handler; see `kinesisClientConfig`). */
  readonly client: KinesisClient;
  readonly streamName: string;
  readonly handler: KinesisHandler;
  /** @default 100 */
  readonly batchSize?: number;
  /** MaximumBatchingWindowInSeconds, in milliseconds. @default 1000 */
  readonly maximumBatchingWindowMs?: number;
  /** Retries after the first attempt, per batch. @default 2 */
  readonly maximumRetryAttempts?: number;
  /** @default true */
  readonly bisectBatchOnFunctionError?: boolean;
  /** @default 'TRIM_HORIZON' — the twin starts empty, so nothing old is replayed */
  readonly startingPosition?: 'TRIM_HORIZON' | 'LATEST';
  /** Pause between empty polls. @default 100 */
  readonly pollIntervalMs?: number;
  readonly onFailure?: (failure: KinesisBatchFailure) => void;
  readonly region?: string;
  readonly account?: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One Kinesis record as Lambda delivers it. */
export function toLambdaRecord(
  record: _Record,
  shardId: string,
  context: { streamArn: string; region: string; functionRoleArn: string },
): KinesisStreamRecord {
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: record.PartitionKey ?? '',
      sequenceNumber: record.SequenceNumber ?? '',
      data: Buffer.from(record.Data ?? new Uint8Array()).toString('base64'),
      approximateArrivalTimestamp: (record.ApproximateArrivalTimestamp?.getTime() ?? Date.now()) / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${shardId}:${record.SequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: context.functionRoleArn,
    awsRegion: context.region,
    eventSourceARN: context.streamArn,
  };
}

type InvokeOutcome =
  | { kind: 'success' }
  | { kind: 'partial'; lowestFailed: string }
  | { kind: 'error'; message: string };

/**
 * Interprets a handler's outcome the way Lambda does: a thrown error or an invalid identifier
 * fails the whole batch; otherwise the batch is checkpointed just before the lowest failed record.
 */
export function interpretBatchResponse(
  batch: readonly _Record[],
  response: KinesisStreamBatchResponse | void | undefined,
): InvokeOutcome {
  const failures = response?.batchItemFailures ?? [];
  if (failures.length === 0) return { kind: 'success' };
  const inBatch = new Set(batch.map((r) => r.SequenceNumber));
  if (failures.some((f) => !f.itemIdentifier || !inBatch.has(f.itemIdentifier))) {
    return { kind: 'error', message: 'batchItemFailures named an identifier that is not in the batch' };
  }
  const lowest = failures
    .map((f) => BigInt(f.itemIdentifier))
    .reduce((min, seq) => (seq < min ? seq : min));
  return { kind: 'partial', lowestFailed: lowest.toString() };
}

export class KinesisPoller {
  private running = false;
  private readonly loops: Promise<void>[] = [];
  private readonly idleSince = new Map<string, number>();
  private readonly settings: Required<
    Pick<
      KinesisPollerOptions,
      'batchSize' | 'maximumBatchingWindowMs' | 'maximumRetryAttempts' | 'bisectBatchOnFunctionError' | 'startingPosition' | 'pollIntervalMs'
    >
  >;

  constructor(private readonly options: KinesisPollerOptions) {
    this.settings = {
      batchSize: options.batchSize ?? 100,
      maximumBatchingWindowMs: options.maximumBatchingWindowMs ?? 1000,
      maximumRetryAttempts: options.maximumRetryAttempts ?? 2,
      bisectBatchOnFunctionError: options.bisectBatchOnFunctionError ?? true,
      startingPosition: options.startingPosition ?? 'TRIM_HORIZON',
      pollIntervalMs: options.pollIntervalMs ?? 100,
    };
  }

  async start(): Promise<void> {
    const { client, streamName } = this.options;
    const shards = await client.send(new ListShardsCommand({ StreamName: streamName }));
    this.running = true;
    for (const shard of shards.Shards ?? []) {
      const iterator = await client.send(
        new GetShardIteratorCommand({
          StreamName: streamName,
          ShardId: shard.ShardId!,
          ShardIteratorType: this.settings.startingPosition,
        }),
      );
      this.loops.push(this.pollShard(shard.ShardId!, iterator.ShardIterator!));
    }
  }

  /** Resolves once every shard has been polled empty with nothing pending after this call. */
  async drain(timeoutMs = 10_000): Promise<void> {
    const since = Date.now();
    const deadline = since + timeoutMs;
    while ([...this.idleSince.values()].some((at) => at <= since) || this.idleSince.size === 0) {
      if (Date.now() > deadline) throw new Error('kinesis poller did not drain in time');
      await sleep(this.settings.pollIntervalMs);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.allSettled(this.loops);
  }

  private async pollShard(shardId: string, firstIterator: string): Promise<void> {
    const { client, region = 'us-east-1', account = '000000000000', streamName } = this.options;
    const context = {
      region,
      streamArn: `arn:aws:kinesis:${region}:${account}:stream/${streamName}`,
      functionRoleArn: `arn:aws:iam::${account}:role/twin-function`,
    };
    let iterator: string | undefined = firstIterator;
    let buffer: _Record[] = [];
    let bufferedSince = 0;
    let attempts = 0;
    let batchLimit = this.settings.batchSize;
    let lastError: string | undefined;
    this.idleSince.set(shardId, 0);

    while (this.running && iterator) {
      const windowOpen = buffer.length > 0 && Date.now() - bufferedSince < this.settings.maximumBatchingWindowMs;
      if (buffer.length < this.settings.batchSize && (buffer.length === 0 || windowOpen)) {
        const result: GetRecordsCommandOutput = await client.send(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: this.settings.batchSize - buffer.length }),
        );
        iterator = result.NextShardIterator;
        const records = result.Records ?? [];
        if (records.length > 0) {
          if (buffer.length === 0) bufferedSince = Date.now();
          buffer.push(...records);
          continue;
        }
        if (buffer.length === 0) {
          this.idleSince.set(shardId, Date.now());
          await sleep(this.settings.pollIntervalMs);
          continue;
        }
        if (Date.now() - bufferedSince < this.settings.maximumBatchingWindowMs) {
          await sleep(Math.min(this.settings.pollIntervalMs, this.settings.maximumBatchingWindowMs));
          continue;
        }
      }

      const batch = buffer.slice(0, Math.min(batchLimit, this.settings.batchSize));
      const outcome = await this.invoke(batch, shardId, context);
      if (outcome.kind === 'success') {
        buffer = buffer.slice(batch.length);
        attempts = 0;
        batchLimit = this.settings.batchSize;
        bufferedSince = Date.now();
        continue;
      }
      if (outcome.kind === 'error' && this.settings.bisectBatchOnFunctionError && batch.length > 1) {
        // Splitting does not count against the retry quota (Lambda docs, BisectBatchOnFunctionError).
        batchLimit = Math.ceil(batch.length / 2);
        lastError = outcome.message;
        continue;
      }
      let retained: readonly _Record[] = batch;
      if (outcome.kind === 'partial') {
        const lowest = BigInt(outcome.lowestFailed);
        buffer = buffer.filter((r) => BigInt(r.SequenceNumber!) >= lowest);
        retained = batch.filter((r) => BigInt(r.SequenceNumber!) >= lowest);
        lastError = 'batchItemFailures';
      } else {
        lastError = outcome.message;
      }
      attempts += 1;
      if (attempts > this.settings.maximumRetryAttempts) {
        this.options.onFailure?.({
          shardId,
          startSequenceNumber: retained[0]!.SequenceNumber!,
          endSequenceNumber: retained.at(-1)!.SequenceNumber!,
          batchSize: retained.length,
          attempts,
          reason: 'RetryAttemptsExhausted',
          lastError,
        });
        const lastSkipped = BigInt(retained.at(-1)!.SequenceNumber!);
        buffer = buffer.filter((r) => BigInt(r.SequenceNumber!) > lastSkipped);
        attempts = 0;
        batchLimit = this.settings.batchSize;
      }
    }
  }

  private async invoke(
    batch: readonly _Record[],
    shardId: string,
    context: { streamArn: string; region: string; functionRoleArn: string },
  ): Promise<InvokeOutcome> {
    const event: KinesisStreamEvent = { Records: batch.map((r) => toLambdaRecord(r, shardId, context)) };
    try {
      return interpretBatchResponse(batch, await this.options.handler(event));
    } catch (error) {
      return { kind: 'error', message: (error as Error).message };
    }
  }
}
