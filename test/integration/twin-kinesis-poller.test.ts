import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { KinesisStreamEvent } from 'aws-lambda';
import { startLocalAws, type LocalAws } from '../../local/aws-servers';
import { KinesisPoller, type KinesisBatchFailure, type KinesisPollerOptions } from '../../local/kinesis-poller';

const decode = (event: KinesisStreamEvent) =>
  event.Records.map((r) => Buffer.from(r.kinesis.data, 'base64').toString('utf8'));

describe('twin Kinesis event source mapping', () => {
  let aws: LocalAws;
  let poller: KinesisPoller | undefined;
  let streamCount = 0;

  beforeAll(async () => {
    aws = await startLocalAws();
  });
  afterEach(async () => {
    await poller?.stop();
    poller = undefined;
  });
  afterAll(async () => {
    await aws?.stop();
  });

  async function streamWith(payloads: string[]): Promise<string> {
    const name = `telemetry-${++streamCount}`;
    await aws.createStream(name, 1);
    await aws.clients.kinesis.send(
      new PutRecordsCommand({
        StreamName: name,
        Records: payloads.map((p) => ({ PartitionKey: 'p', Data: Buffer.from(p) })),
      }),
    );
    return name;
  }

  async function run(options: Omit<KinesisPollerOptions, 'client'>) {
    poller = new KinesisPoller({ client: aws.clients.kinesis, pollIntervalMs: 20, ...options });
    await poller.start();
    await poller.drain();
  }

  it('delivers records in the shape Lambda uses, in batches of at most the batch size', async () => {
    const streamName = await streamWith(['a', 'b', 'c', 'd', 'e']);
    const events: KinesisStreamEvent[] = [];

    await run({ streamName, batchSize: 2, maximumBatchingWindowMs: 0, handler: (e) => void events.push(e) });

    expect(events.map(decode)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(events[0]!.Records[0]).toMatchObject({
      eventSource: 'aws:kinesis',
      eventName: 'aws:kinesis:record',
      eventVersion: '1.0',
      eventSourceARN: `arn:aws:kinesis:us-east-1:000000000000:stream/${streamName}`,
      kinesis: { kinesisSchemaVersion: '1.0', partitionKey: 'p' },
    });
    expect(events[0]!.Records[0]!.eventID).toBe(`shardId-000000000000:${events[0]!.Records[0]!.kinesis.sequenceNumber}`);
  });

  it('retries from the lowest failed sequence number reported in batchItemFailures', async () => {
    const streamName = await streamWith(['a', 'b', 'c', 'd']);
    const seen: string[][] = [];
    let failedOnce = false;

    await run({
      streamName,
      batchSize: 10,
      maximumBatchingWindowMs: 0,
      handler: (event) => {
        seen.push(decode(event));
        const c = event.Records.find((r) => Buffer.from(r.kinesis.data, 'base64').toString() === 'c');
        const d = event.Records.find((r) => Buffer.from(r.kinesis.data, 'base64').toString() === 'd');
        if (failedOnce || !c || !d) return { batchItemFailures: [] };
        failedOnce = true;
        return { batchItemFailures: [{ itemIdentifier: d.kinesis.sequenceNumber }, { itemIdentifier: c.kinesis.sequenceNumber }] };
      },
    });

    expect(seen).toEqual([['a', 'b', 'c', 'd'], ['c', 'd']]);
  });

  it('after the retry limit sends the checkpointed remainder of the batch on-failure and moves on', async () => {
    const streamName = await streamWith(['a', 'poison', 'b']);
    const failures: KinesisBatchFailure[] = [];
    const processed: string[] = [];

    await run({
      streamName,
      batchSize: 10,
      maximumBatchingWindowMs: 0,
      maximumRetryAttempts: 2,
      onFailure: (f) => failures.push(f),
      handler: (event) => {
        const poison = event.Records.find((r) => Buffer.from(r.kinesis.data, 'base64').toString() === 'poison');
        if (poison) {
          const before = event.Records.slice(0, event.Records.indexOf(poison));
          processed.push(...decode({ Records: before }));
          return { batchItemFailures: [{ itemIdentifier: poison.kinesis.sequenceNumber }] };
        }
        processed.push(...decode(event));
        return { batchItemFailures: [] };
      },
    });

    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ attempts: 3, reason: 'RetryAttemptsExhausted', batchSize: 2 });
    // As Lambda does, the whole remainder from the checkpoint (poison and b) is skipped, not just poison.
    expect(processed).toEqual(['a']);
  });

  it('bisects a batch whose invocation throws until the failing record is isolated', async () => {
    const streamName = await streamWith(['a', 'b', 'poison', 'c']);
    const failures: KinesisBatchFailure[] = [];
    const processed: string[] = [];

    await run({
      streamName,
      batchSize: 10,
      maximumBatchingWindowMs: 0,
      maximumRetryAttempts: 1,
      onFailure: (f) => failures.push(f),
      handler: (event) => {
        const payloads = decode(event);
        if (payloads.includes('poison')) throw new Error('cannot parse poison');
        processed.push(...payloads);
      },
    });

    expect(processed).toEqual(['a', 'b', 'c']);
    expect(failures).toEqual([expect.objectContaining({ batchSize: 1, lastError: 'cannot parse poison' })]);
  });

  it('waits for the batching window to fill a batch before invoking', async () => {
    const streamName = await streamWith(['a']);
    const events: KinesisStreamEvent[] = [];
    poller = new KinesisPoller({
      client: aws.clients.kinesis,
      streamName,
      pollIntervalMs: 20,
      batchSize: 10,
      maximumBatchingWindowMs: 400,
      handler: (e) => void events.push(e),
    });
    await poller.start();
    await aws.clients.kinesis.send(
      new PutRecordsCommand({ StreamName: streamName, Records: [{ PartitionKey: 'p', Data: Buffer.from('b') }] }),
    );

    await poller.drain();

    expect(events.map(decode)).toEqual([['a', 'b']]);
  });
});
