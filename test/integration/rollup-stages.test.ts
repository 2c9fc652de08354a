import { createHash } from 'node:crypto';
import { DeleteStreamCommand, GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildPathwayHosts } from '../../core/pathway-hosts';
import { aggregateSamples, aggregateSessionEvidence, COUNTER_NAMES, samplesOfStreamRecord } from '../../core/qoe-aggregate';
import { formatRealtimeLogLine } from '../../core/realtime-log';
import { emptySessionBits, SESSION_BIT_FIELDS, sessionCountsOf } from '../../core/session-evidence';
import { type LocalAws, startLocalAws } from '../../local/aws-servers';
import { toLambdaRecord } from '../../local/kinesis-poller';
import { RollupsTable } from '../../tables/rollups-table';
import { putPathwayRegistry, routingTableSpecs } from '../support/routing-tables';
import { rollupStageHandlers, startRollupStages } from '../support/rollup-stages';
import { seededRandom } from '../support/seeded-random';
import { FIXTURE_PATHWAYS, ingestRecordText } from '../support/telemetry';

// The two rollup stages (ADR 0057) on kinesalite and dynalite under the ways Kinesis and Lambda redeliver:
// every test puts the same telemetry on its own streams and tables and must end with exactly the rollups a
// single clean pass over the records gives.
const ROUTING = 'Routing';
const MINUTE = 1_700_000_040_000;
const COUNTRIES = ['DE', 'US', 'FR', 'BR', 'JP'];
const hosts = buildPathwayHosts(FIXTURE_PATHWAYS);

/** 3 minutes × 2 pathways × 5 countries of log lines, and player reports of 12 sessions. */
function telemetryTexts(): string[] {
  const texts: string[] = [];
  for (let i = 0; i < 240; i++) {
    const pathway = FIXTURE_PATHWAYS[i % 2]!;
    texts.push(
      formatRealtimeLogLine({
        timestamp: ((MINUTE + (i % 3) * 60_000 + i * 97) / 1000).toFixed(3),
        'time-to-first-byte': '0.012',
        'sc-status': i % 13 === 0 ? 503 : 200,
        'sc-bytes': 1000 + i,
        'cs-method': 'GET',
        'cs-host': pathway.host,
        'cs-uri-stem': `/media/big-buck/r1/v720/seg_${i}.m4s`,
        'x-edge-location': 'FRA56-P1',
        'x-edge-request-id': `req-${i}`,
        'x-host-header': pathway.host,
        'time-taken': '0.080',
        'x-edge-result-type': 'Hit',
        'c-country': COUNTRIES[i % COUNTRIES.length],
        asn: 3320,
      }),
    );
  }
  for (let s = 0; s < 12; s++) {
    texts.push(
      ingestRecordText({
        rt: MINUTE + 30_000,
        country: COUNTRIES[s % COUNTRIES.length]!,
        asn: 100 + s,
        sid: `session-${s}`,
        aid: 'big-buck',
        lines: [`e=t,sta=p,sid="session-${s}",ts=${MINUTE + 29_000}`, `e=ps,sta=r,sid="session-${s}",ts=${MINUTE + 29_500}`],
      }),
    );
  }
  return texts;
}

/** What one clean pass gives, per `<minute>/<cell>`: the counters and the session counts. */
function expectedRollups(texts: readonly string[]): Record<string, Record<string, number>> {
  const rollups = new Map();
  const sessions = new Map();
  for (const text of texts) {
    const { samples } = samplesOfStreamRecord(text, hosts);
    aggregateSamples(samples, rollups);
    aggregateSessionEvidence(samples, sessions);
  }
  const expected: Record<string, Record<string, number>> = {};
  for (const [key, rollup] of rollups) {
    const [minute, cell] = key.split('/');
    expected[`${minute}/${cell}`] = { ...Object.fromEntries(COUNTER_NAMES.map((n) => [n, rollup[n]])), ...sessionCountsOf(sessions.get(key) ?? emptySessionBits()) };
  }
  return expected;
}

describe('two-stage rollup writes against kinesalite and dynalite', () => {
  let aws: LocalAws;
  let ddb: DynamoDBDocumentClient;
  const texts = telemetryTexts();
  const expected = expectedRollups(texts);
  let run = 0;
  const streams: string[] = [];

  /** kinesalite holds 10 shards per account: each test's streams go when it ends. */
  async function createStream(name: string, shards: number): Promise<void> {
    await aws.createStream(name, shards);
    streams.push(name);
  }

  beforeAll(async () => {
    aws = await startLocalAws({ region: 'eu-west-1' });
    ddb = DynamoDBDocumentClient.from(aws.clients.dynamodb);
    await aws.createTables(routingTableSpecs({ routingTableName: ROUTING, rollupsTableName: 'unused' }).slice(0, 1));
    await putPathwayRegistry(ddb, ROUTING, FIXTURE_PATHWAYS);
    expect(SESSION_BIT_FIELDS.length).toBe(4);
  });

  afterEach(async () => {
    for (const name of streams.splice(0)) await aws.clients.kinesis.send(new DeleteStreamCommand({ StreamName: name, EnforceConsumerDeletion: true }));
  });

  afterAll(async () => {
    await aws?.stop();
  });

  /** Fresh streams (2 telemetry shards, 2 partials shards) and a fresh rollups table, with the telemetry put. */
  async function setUp() {
    run += 1;
    const names = { telemetry: `telemetry-${run}`, partials: `partials-${run}`, rollups: `rollups-${run}` };
    await aws.createTables(routingTableSpecs({ routingTableName: `unused-${run}`, rollupsTableName: names.rollups }).slice(1));
    await createStream(names.telemetry, 2);
    await createStream(names.partials, 2);
    for (let i = 0; i < texts.length; i += 100) {
      await aws.clients.kinesis.send(
        new PutRecordsCommand({ StreamName: names.telemetry, Records: texts.slice(i, i + 100).map((text, j) => ({ Data: Buffer.from(text), PartitionKey: `edge-${i + j}` })) }),
      );
    }
    const handlers = rollupStageHandlers({ aws, ddb, routingTableName: ROUTING, rollupsTableName: names.rollups, partialsStream: names.partials, buckets: 4 });
    return { names, ...handlers };
  }

  /** Every record of each shard of a stream, as the event source mapping would deliver them (one event per shard). */
  async function shardEvents(streamName: string): Promise<KinesisStreamEvent[]> {
    const { Shards } = await aws.clients.kinesis.send(new ListShardsCommand({ StreamName: streamName }));
    const events: KinesisStreamEvent[] = [];
    for (const shard of Shards ?? []) {
      const { ShardIterator } = await aws.clients.kinesis.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }));
      const { Records } = await aws.clients.kinesis.send(new GetRecordsCommand({ ShardIterator, Limit: 10_000 }));
      const context = { streamArn: `arn:aws:kinesis:eu-west-1:000000000000:stream/${streamName}`, region: 'eu-west-1', functionRoleArn: 'arn:aws:iam::000000000000:role/test' };
      if ((Records ?? []).length > 0) events.push({ Records: Records!.map((r) => toLambdaRecord(r, shard.ShardId!, context)) });
    }
    return events;
  }

  async function rollupsOf(tableName: string): Promise<Record<string, Record<string, number>>> {
    const table = new RollupsTable(ddb, tableName);
    const found: Record<string, Record<string, number>> = {};
    for (const minute of [MINUTE - 60_000, MINUTE, MINUTE + 60_000, MINUTE + 120_000]) {
      for (const item of await table.readMinute(minute)) {
        found[`${minute}/${item.cell}`] = { ...Object.fromEntries(COUNTER_NAMES.map((n) => [n, item[n]])), sessions: item.sessions, errorSessions: item.errorSessions, stallSessions: item.stallSessions, networks: item.networks };
      }
    }
    return found;
  }

  /** Delivers each partials shard's records after those delivered before, as the mapping does after a checkpoint. */
  function newRecordsOf(streamName: string) {
    const delivered = new Map<string, number>();
    return async (): Promise<KinesisStreamEvent[]> =>
      (await shardEvents(streamName)).map((event) => {
        const shard = event.Records[0]!.eventID.split(':')[0]!;
        const fresh = event.Records.slice(delivered.get(shard) ?? 0);
        delivered.set(shard, event.Records.length);
        return { Records: fresh };
      }).filter((event) => event.Records.length > 0);
  }

  const mergeAll = async (merge: (e: KinesisStreamEvent) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>, events: KinesisStreamEvent[]) => {
    for (const event of events) expect((await merge(event)).batchItemFailures).toEqual([]);
  };

  const merged = async (merge: (e: KinesisStreamEvent) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>, streamName: string) => {
    for (const event of await shardEvents(streamName)) expect((await merge(event)).batchItemFailures).toEqual([]);
  };

  it('gives the exact totals of one clean pass', async () => {
    const { names, aggregate, merge } = await setUp();

    for (const event of await shardEvents(names.telemetry)) await aggregate(event);
    await merged(merge, names.partials);

    expect(Object.keys(expected).length).toBeGreaterThan(20);
    expect(await rollupsOf(names.rollups)).toEqual(expected);
  });

  it('counts once when every batch of both stages is delivered twice, each copy in a later stage-2 batch, and when both streams are replayed', async () => {
    const { names, aggregate, merge } = await setUp();
    const deliver = newRecordsOf(names.partials);

    for (const event of await shardEvents(names.telemetry)) {
      await aggregate(event);
      const batches = await deliver();
      await mergeAll(merge, batches);
      // the retry after a crash between the puts and the checkpoint: the claim again, merged in the next batch
      await aggregate(event);
      await mergeAll(merge, await deliver());
      // a stage-2 batch redelivered
      await mergeAll(merge, batches);
    }
    // replay: both mappings start over at TRIM_HORIZON
    for (const event of await shardEvents(names.telemetry)) await aggregate(event);
    await mergeAll(merge, await deliver());
    await merged(merge, names.partials);

    expect(await rollupsOf(names.rollups)).toEqual(expected);
  });

  it('counts once when a stage-1 batch whose puts failed halfway is bisected, and stage 2 sees each copy in a later batch', async () => {
    const { names, merge } = await setUp();
    let failNext = true;
    // A client whose first PutRecords of each batch stores only the first entry and reports the others failed.
    const flaky = {
      send: async (command: { constructor: { name: string }; input: { Records?: unknown[] } }) => {
        if (command instanceof PutRecordsCommand && failNext) {
          failNext = false;
          const entries = command.input.Records!;
          await aws.clients.kinesis.send(new PutRecordsCommand({ ...command.input, Records: entries.slice(0, 1) } as never));
          return { FailedRecordCount: entries.length - 1, Records: entries.map((_, i) => (i === 0 ? { SequenceNumber: '1', ShardId: 'x' } : { ErrorCode: 'InternalFailure' })) };
        }
        return aws.clients.kinesis.send(command as never);
      },
    };
    const { aggregate } = rollupStageHandlers({
      aws: { clients: { ...aws.clients, kinesis: flaky as never } },
      ddb,
      routingTableName: ROUTING,
      rollupsTableName: names.rollups,
      partialsStream: names.partials,
      buckets: 4,
      aggregator: { maxPutAttempts: 1 },
    });
    const deliver = newRecordsOf(names.partials);

    for (const event of await shardEvents(names.telemetry)) {
      const half = Math.ceil(event.Records.length / 2);
      failNext = true;
      await expect(aggregate(event)).rejects.toThrow(/could not be put/);
      await mergeAll(merge, await deliver());
      // the mapping bisects the failed batch: each half comes on its own, the first half holds only part of the claim
      await aggregate({ Records: event.Records.slice(0, half) });
      await mergeAll(merge, await deliver());
      await aggregate({ Records: event.Records.slice(half) });
      await mergeAll(merge, await deliver());
    }

    expect(await rollupsOf(names.rollups)).toEqual(expected);
  });

  it('counts once when stage 2 reports some cells failed and the mapping retries from the lowest failed record', async () => {
    const { names, aggregate } = await setUp();
    const random = seededRandom(11);
    let failed = 0;
    // A table client that throttles about a third of the cell writes of the first merger invocation per shard.
    let throttling = true;
    const throttled = {
      send: (command: { constructor: { name: string }; input: { Key?: { pk?: string } } }) => {
        if (throttling && command.constructor.name === 'UpdateCommand' && /^\d+#\d+$/.test(String(command.input.Key?.pk)) && random() < 0.33) {
          failed += 1;
          return Promise.reject(Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' }));
        }
        return ddb.send(command as never);
      },
    };
    const { merge } = rollupStageHandlers({ aws, ddb: throttled as never, routingTableName: ROUTING, rollupsTableName: names.rollups, partialsStream: names.partials, buckets: 4 });
    for (const event of await shardEvents(names.telemetry)) await aggregate(event);

    for (const event of await shardEvents(names.partials)) {
      const first = await merge(event);
      expect(first.batchItemFailures.length).toBeGreaterThan(0);
      throttling = false;
      const lowest = BigInt(first.batchItemFailures[0]!.itemIdentifier);
      const retry = await merge({ Records: event.Records.filter((r) => BigInt(r.kinesis.sequenceNumber) >= lowest) });
      expect(retry.batchItemFailures).toEqual([]);
      throttling = true;
    }

    expect(failed).toBeGreaterThan(0);
    expect(await rollupsOf(names.rollups)).toEqual(expected);
  });

  it('counts once through both event source mapping stand-ins while a fifth of all writes fail', async () => {
    // Prepare: the pollers retry, bisect and honour batchItemFailures as Lambda does
    run += 1;
    const names = { telemetry: `telemetry-${run}`, rollups: `rollups-${run}` };
    await aws.createTables(routingTableSpecs({ routingTableName: `unused-${run}`, rollupsTableName: names.rollups }).slice(1));
    await createStream(names.telemetry, 2);
    streams.push(`${names.telemetry}-partials`);
    // Every fifth item (by key) has its first write throttled: claims, cells and marks alike.
    const throttledOnce = new Set<string>();
    const unreliable = {
      send: (command: { constructor: { name: string }; input: { Key?: unknown; Item?: { pk?: unknown; cell?: unknown } } }) => {
        const key = JSON.stringify(command.input.Key ?? { pk: command.input.Item?.pk, cell: command.input.Item?.cell });
        const writes = command.constructor.name === 'UpdateCommand' || command.constructor.name === 'PutCommand';
        if (writes && !throttledOnce.has(key) && createHash('sha256').update(key).digest()[0]! % 5 === 0) {
          throttledOnce.add(key);
          return Promise.reject(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));
        }
        return ddb.send(command as never);
      },
    };
    const gaveUp: unknown[] = [];
    const stages = await startRollupStages({
      aws,
      ddb: unreliable as never,
      telemetryStream: names.telemetry,
      routingTableName: ROUTING,
      rollupsTableName: names.rollups,
      batchSize: 60,
      onFailure: (_stage, failure) => gaveUp.push(failure),
    });

    // Act
    try {
      for (let i = 0; i < texts.length; i += 100) {
        await aws.clients.kinesis.send(
          new PutRecordsCommand({ StreamName: names.telemetry, Records: texts.slice(i, i + 100).map((text, j) => ({ Data: Buffer.from(text), PartitionKey: `edge-${i + j}` })) }),
        );
      }
      await stages.drain(60_000);
    } finally {
      await stages.stop();
    }

    // Assess
    expect(throttledOnce.size).toBeGreaterThan(0);
    expect(gaveUp).toEqual([]);
    expect(await rollupsOf(names.rollups)).toEqual(expected);
  });
});
