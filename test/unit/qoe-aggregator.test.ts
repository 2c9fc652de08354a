import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ingestRecordText } from '../support/telemetry';
import { MemoryRollupsTable } from '../support/memory-rollups-table';
import { decodeRollupPartials, type RollupPartials } from '../../core/rollup-partials';
import { createAggregatorHandler, PartialsNotStoredError } from '../../lambdas/qoe-aggregator/index';
import { THROUGHPUT_VALUES_PER_SESSION_MINUTE } from '../../core/session-evidence';

const SHARD = 'shardId-000000000000';
const SOURCE = `telemetry/${SHARD}`;
const REGISTRY = {
  pk: 'pathways',
  pathways: [
    { id: 'cf-a', host: 'd111111abcdef8.cloudfront.net', enabled: true, cap: 1 },
    { id: 'cf-b', host: 'd222222abcdef8.cloudfront.net', enabled: true, cap: 1 },
  ],
};
const logLines = readFileSync(new URL('../fixtures/telemetry/realtime-log-lines.tsv', import.meta.url), 'utf8').split('\n').filter(Boolean);
const [hitA, errorB, hitANextMinute] = logLines as [string, string, string];
const reportA = ingestRecordText({
  rt: 1_700_000_030_000,
  country: 'DE',
  sid: 's1',
  aid: 'big-buck',
  lines: ['e=t,sta=p,sid="s1",ts=1700000029000', 'e=ps,sta=r,sid="s1",ts=1700000029500'],
});

const seq = (n: number) => `4962${String(n).padStart(52, '0')}`;

function kinesisEvent(records: readonly { data: string; seq: string }[], shard = SHARD): KinesisStreamEvent {
  return {
    Records: records.map(({ data, seq }) => ({
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: 'pk',
        sequenceNumber: seq,
        data: Buffer.from(data, 'utf8').toString('base64'),
        approximateArrivalTimestamp: 1_700_000_031,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `${shard}:${seq}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::123456789012:role/qoe-aggregator',
      awsRegion: 'eu-west-1',
      eventSourceARN: 'arn:aws:kinesis:eu-west-1:123456789012:stream/telemetry',
    })),
  };
}

const ddbMock = mockClient(DynamoDBDocumentClient);
const kinesisMock = mockClient(KinesisClient);
const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
const kinesis = new KinesisClient({ region: 'eu-west-1' });
const config = { rollupsTableName: 'rollups', routingTableName: 'routing', partialsStreamName: 'partials', rollupBuckets: 4, basePutBackoffMs: 0 };
const quiet = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };

function metricsSpy() {
  const recorded: Record<string, number> = {};
  return {
    recorded,
    metrics: {
      addMetric: vi.fn((name: string, _unit: unknown, value: number) => {
        recorded[name] = (recorded[name] ?? 0) + value;
      }),
      singleMetric: () => {
        const dims: Record<string, string> = {};
        return {
          addDimension: (name: string, value: string) => {
            dims[name] = value;
          },
          addMetric: (name: string, _unit: unknown, value: number) => {
            const key = `${name}[${Object.values(dims).join(',')}]`;
            recorded[key] = (recorded[key] ?? 0) + value;
          },
        };
      },
    },
  };
}

describe('qoe-aggregator (rollup stage 1)', () => {
  let table: MemoryRollupsTable;
  let emitted: { partitionKey: string; partials: RollupPartials }[];

  beforeEach(() => {
    ddbMock.reset();
    kinesisMock.reset();
    table = new MemoryRollupsTable();
    emitted = [];
    ddbMock.on(GetCommand, { TableName: 'routing' }).resolves({ Item: REGISTRY });
    ddbMock.on(GetCommand, { TableName: 'rollups' }).callsFake((input) => table.send(new GetCommand(input)));
    ddbMock.on(PutCommand, { TableName: 'rollups' }).callsFake((input) => table.send(new PutCommand(input)));
    kinesisMock.on(PutRecordsCommand).callsFake((input: { Records: PutRecordsRequestEntry[] }) => {
      for (const entry of input.Records) emitted.push({ partitionKey: entry.PartitionKey!, partials: decodeRollupPartials(entry.Data!) });
      return { FailedRecordCount: 0, Records: input.Records.map((_, i) => ({ SequenceNumber: String(i), ShardId: 'shardId-000000000000' })) };
    });
  });

  const totalOf = (cell: string, counter: 'requests' | 'reports' | 'errors' | 'stalls' | 'playMs') =>
    emitted.flatMap((e) => e.partials.cells).filter((c) => `${c.pathway}#${c.country}` === cell).reduce((sum, c) => sum + c.counters[counter], 0);

  it('claims the batch, puts one partials record per bucket keyed by the bucket, and sets bad records aside', async () => {
    // Prepare
    const { metrics, recorded } = metricsSpy();
    const handler = createAggregatorHandler({ ddb, kinesis, config, logger: quiet, metrics });
    const event = kinesisEvent([
      { data: `${hitA}\n`, seq: seq(1) },
      { data: 'garbage that is not a log line', seq: seq(2) },
      { data: `${errorB}\n`, seq: seq(3) },
      { data: hitA.split('\t').slice(0, 5).join('\t'), seq: seq(4) },
      { data: reportA, seq: seq(5) },
      { data: `${hitANextMinute}\n`, seq: seq(6) },
    ]);

    // Act
    const response = await handler(event);

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(recorded.SetAsideRecords).toBe(2);
    expect(new Set(emitted.map((e) => e.partitionKey)).size).toBe(emitted.length);
    for (const { partitionKey, partials } of emitted) {
      expect(partials).toMatchObject({ source: SOURCE, first: seq(1), last: seq(6), bucket: Number(partitionKey) });
    }
    expect(totalOf('cf-a#DE', 'requests')).toBe(2);
    expect(totalOf('cf-a#DE', 'reports')).toBe(2);
    expect(totalOf('cf-a#DE', 'stalls')).toBe(2);
    expect(totalOf('cf-b#US', 'errors')).toBe(1);
    expect(table.items.get(`claim#${SOURCE}|claim`)).toMatchObject({ first: seq(1), last: seq(6) });
    expect(recorded['PathwayErrors[cf-b]']).toBe(1);
    expect(recorded['PathwayRequests[cf-a]']).toBe(3); // max(1 request, 2 reports) + 1 request next minute
    // no rollup cell is written by stage 1
    expect(table.cells()).toEqual([]);
  });

  it('keeps the player values of one session\'s first 60 logged requests a minute and only the CDN\'s facts of the rest (ADR 0069)', async () => {
    // Prepare: one session's 100 logged requests in one minute, each claiming a measured throughput
    const { metrics, recorded } = metricsSpy();
    const handler = createAggregatorHandler({ ddb, kinesis, config, logger: quiet, metrics });
    const event = kinesisEvent(Array.from({ length: 100 }, (_, i) => ({ data: `${hitA}\n`, seq: seq(i + 1) })));

    // Act
    await handler(event);

    // Assess: every request counts; only 60 lines keep their player values, and of their throughput claims
    // only the session-minute's throughput budget (next test)
    const cells = emitted.flatMap((e) => e.partials.cells).filter((c) => c.pathway === 'cf-a' && c.country === 'DE');
    expect(cells.reduce((sum, c) => sum + c.counters.requests, 0)).toBe(100);
    expect(cells.reduce((sum, c) => sum + c.counters.throughputCount, 0)).toBe(THROUGHPUT_VALUES_PER_SESSION_MINUTE);
    expect(recorded.OverBudgetReportLines).toBe(40);
  });

  it('counts one session\'s throughput claims a minute, reported and logged together, no more than its budget (ADR 0069 note)', async () => {
    // Prepare: one session floods a minute with 60 report lines and 60 logged requests, each claiming 1 kbit/s
    const { metrics, recorded } = metricsSpy();
    const handler = createAggregatorHandler({ ddb, kinesis, config, logger: quiet, metrics });
    const reportFlood = ingestRecordText({
      rt: 1_700_000_030_000,
      country: 'DE',
      sid: 's1',
      aid: 'big-buck',
      lines: Array.from({ length: 60 }, (_, i) => `e=rr,mtp=1,sid="s1",ts=${1_700_000_020_000 + i}`),
    });
    const event = kinesisEvent([{ data: reportFlood, seq: seq(1) }, ...Array.from({ length: 60 }, (_, i) => ({ data: hitA, seq: seq(i + 2) }))]);

    // Act
    await handler(event);

    // Assess: the cell holds the budget's throughput values, the rest of what the lines said still counts
    const cells = emitted.flatMap((e) => e.partials.cells).filter((c) => c.pathway === 'cf-a' && c.country === 'DE');
    expect(cells.reduce((sum, c) => sum + c.counters.throughputCount, 0)).toBe(THROUGHPUT_VALUES_PER_SESSION_MINUTE);
    expect(cells.reduce((sum, c) => sum + c.counters.throughputKbpsSum, 0)).toBe(THROUGHPUT_VALUES_PER_SESSION_MINUTE);
    expect(cells.reduce((sum, c) => sum + c.counters.requests, 0)).toBe(60);
    expect(cells.reduce((sum, c) => sum + c.counters.reports, 0)).toBe(60);
    expect(recorded.OverBudgetThroughputValues).toBe(120 - THROUGHPUT_VALUES_PER_SESSION_MINUTE);
  });

  it('puts every pathway of a country into the same partials record, so a place is merged at one moment', async () => {
    const handler = createAggregatorHandler({ ddb, kinesis, config: { ...config, rollupBuckets: 64 }, logger: quiet, metrics: metricsSpy().metrics });

    const errorBInDe = errorB.replace('\tUS\t', '\tDE\t');
    await handler(kinesisEvent([{ data: `${hitA}\n`, seq: seq(1) }, { data: `${errorBInDe}\n`, seq: seq(2) }]));

    const carrying = emitted.filter((e) => e.partials.cells.some((c) => c.country === 'DE'));
    expect(carrying).toHaveLength(1);
    expect(new Set(carrying[0]!.partials.cells.map((c) => c.pathway))).toEqual(new Set(['cf-a', 'cf-b']));
  });

  it('re-emits exactly the last claim when its batch comes again, and claims nothing new', async () => {
    // Prepare
    const handler = createAggregatorHandler({ ddb, kinesis, config, logger: quiet, metrics: metricsSpy().metrics });
    const event = kinesisEvent([
      { data: hitA, seq: seq(1) },
      { data: errorB, seq: seq(2) },
      { data: reportA, seq: seq(3) },
    ]);
    await handler(event);
    const first = structuredClone(emitted);

    // Act: the retry after a crash between the puts and the checkpoint
    await handler(event);

    // Assess
    expect(emitted.slice(first.length)).toEqual(first);
    expect(ddbMock.commandCalls(PutCommand)).toHaveLength(1);
  });

  it('reads the last claim back from the stream when a bisected retry holds only part of it', async () => {
    // Prepare
    const handler = createAggregatorHandler({ ddb, kinesis, config, logger: quiet, metrics: metricsSpy().metrics });
    const records = [
      { data: hitA, seq: seq(1) },
      { data: errorB, seq: seq(2) },
      { data: hitA, seq: seq(3) },
      { data: errorB, seq: seq(4) },
    ];
    await handler(kinesisEvent(records));
    const first = structuredClone(emitted);
    kinesisMock.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it-1' });
    kinesisMock.on(GetRecordsCommand).resolves({
      Records: [...records, { data: hitA, seq: seq(5) }].map((r) => ({ SequenceNumber: r.seq, Data: Buffer.from(r.data), PartitionKey: 'pk' })),
      NextShardIterator: 'it-2',
      MillisBehindLatest: 0,
    });

    // Act: the first half, then the second half of the bisected batch
    await handler(kinesisEvent(records.slice(0, 2)));
    await handler(kinesisEvent(records.slice(2)));

    // Assess: the whole claim, twice more (rollup-merger applies it once)
    expect(kinesisMock.commandCalls(GetShardIteratorCommand)[0]!.args[0].input).toMatchObject({
      StreamName: 'telemetry',
      ShardId: SHARD,
      ShardIteratorType: 'AT_SEQUENCE_NUMBER',
      StartingSequenceNumber: seq(1),
    });
    expect(emitted.slice(first.length)).toEqual([...first, ...first]);
  });

  it('skips records below the last claim and claims the new ones after it', async () => {
    // Prepare
    const handler = createAggregatorHandler({ ddb, kinesis, config, logger: quiet, metrics: metricsSpy().metrics });
    await handler(kinesisEvent([{ data: hitA, seq: seq(3) }, { data: hitA, seq: seq(4) }]));
    await handler(kinesisEvent([{ data: hitA, seq: seq(5) }]));
    emitted = [];

    // Act: a replay from an older checkpoint
    await handler(kinesisEvent([{ data: hitA, seq: seq(3) }, { data: hitA, seq: seq(4) }, { data: hitA, seq: seq(5) }, { data: errorB, seq: seq(6) }]));

    // Assess: the last claim (5) again, then a new claim (6)
    expect(emitted.map((e) => [e.partials.first, e.partials.last])).toEqual([
      [seq(5), seq(5)],
      [seq(6), seq(6)],
    ]);
    expect(table.items.get(`claim#${SOURCE}|claim`)).toMatchObject({ first: seq(6), last: seq(6) });
  });

  it('retries failed entries, and fails the batch when they keep failing (the retry re-emits the claim)', async () => {
    // Prepare
    kinesisMock.on(PutRecordsCommand).resolves({ FailedRecordCount: 1, Records: [{ ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'slow down' }] });
    const handler = createAggregatorHandler({ ddb, kinesis, config: { ...config, maxPutAttempts: 3 }, logger: quiet, metrics: metricsSpy().metrics });

    // Act
    const outcome = handler(kinesisEvent([{ data: hitA, seq: seq(1) }]));

    // Assess
    await expect(outcome).rejects.toThrow(PartialsNotStoredError);
    expect(kinesisMock.commandCalls(PutRecordsCommand)).toHaveLength(3);
    expect(table.items.get(`claim#${SOURCE}|claim`)).toMatchObject({ first: seq(1), last: seq(1) });
  });

  it('splits a batch into several claims when a partials record would not fit a Kinesis record', async () => {
    // Prepare
    const handler = createAggregatorHandler({ ddb, kinesis, config: { ...config, rollupBuckets: 1, maxRecordBytes: 140 }, logger: quiet, metrics: metricsSpy().metrics });

    // Act
    await handler(kinesisEvent([{ data: hitA, seq: seq(1) }, { data: errorB, seq: seq(2) }, { data: hitANextMinute, seq: seq(3) }, { data: reportA, seq: seq(4) }]));

    // Assess: contiguous claims covering the batch, each emitted once
    const ranges = emitted.map((e) => [e.partials.first, e.partials.last]);
    expect(ranges.length).toBeGreaterThan(1);
    expect(ranges[0]![0]).toBe(seq(1));
    expect(ranges.at(-1)![1]).toBe(seq(4));
    expect(totalOf('cf-a#DE', 'requests') + totalOf('cf-b#US', 'requests')).toBe(3);
  });

  it('reads the pathway registry once a minute', async () => {
    let nowMs = 1_700_000_000_000;
    const handler = createAggregatorHandler({ ddb, kinesis, config, logger: quiet, metrics: metricsSpy().metrics, now: () => nowMs });

    await handler(kinesisEvent([{ data: hitA, seq: seq(1) }]));
    nowMs += 30_000;
    await handler(kinesisEvent([{ data: hitA, seq: seq(2) }]));
    nowMs += 31_000;
    await handler(kinesisEvent([{ data: hitA, seq: seq(3) }]));

    expect(ddbMock.commandCalls(GetCommand, { TableName: 'routing' })).toHaveLength(2);
  });

  it('fails the invocation when no registry has ever been read, so the batch is retried rather than dropped', async () => {
    ddbMock.on(GetCommand, { TableName: 'routing' }).resolves({});
    const handler = createAggregatorHandler({ ddb, kinesis, config, logger: quiet, metrics: metricsSpy().metrics });

    await expect(handler(kinesisEvent([{ data: hitA, seq: seq(1) }]))).rejects.toThrow(/registry/);
    expect(emitted).toEqual([]);
  });
});

describe('qoe-aggregator title demand (ADR 0102)', () => {
  let table: MemoryRollupsTable;

  beforeEach(() => {
    ddbMock.reset();
    kinesisMock.reset();
    table = new MemoryRollupsTable();
    ddbMock.on(GetCommand, { TableName: 'routing' }).resolves({ Item: REGISTRY });
    ddbMock.on(GetCommand, { TableName: 'rollups' }).callsFake((input) => table.send(new GetCommand(input)));
    ddbMock.on(PutCommand, { TableName: 'rollups' }).callsFake((input) => table.send(new PutCommand(input)));
    ddbMock.on(UpdateCommand).resolves({});
    kinesisMock.on(PutRecordsCommand).callsFake((input: { Records: PutRecordsRequestEntry[] }) => ({
      FailedRecordCount: 0,
      Records: input.Records.map((_, i) => ({ SequenceNumber: String(i), ShardId: SHARD })),
    }));
  });

  const report = (sid: string, aid: string, rt = 1_700_000_030_000) =>
    ingestRecordText({ rt, country: 'DE', sid, aid, lines: [`e=t,sta=p,sid="${sid}",ts=${rt}`] });

  it('writes each ended minute\'s top titles as a set union of session bits, once the minute is over', async () => {
    // Prepare: 3 sessions on big-buck, 1 on sintel, 1 pre-warm session, in the minute starting 1_699_999_980_000
    let now = 1_700_000_031_000;
    const handler = createAggregatorHandler({ ddb, kinesis, config: { ...config, demandTopK: 10 }, logger: quiet, metrics: metricsSpy().metrics, now: () => now });
    const records = [report('s1', 'big-buck'), report('s2', 'big-buck'), report('s3', 'big-buck'), report('s4', 'sintel'), report('prewarm-x', 'sintel')];
    // Act: the minute is still running, then a later batch after its end
    await handler(kinesisEvent(records.map((data, i) => ({ data, seq: seq(i + 1) }))));
    const whileRunning = ddbMock.commandCalls(UpdateCommand).length;
    now = 1_700_000_045_000;
    await handler(kinesisEvent([]));
    // Assess
    expect(whileRunning).toBe(0);
    const writes = ddbMock.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    expect(writes.map((w) => [w.Key, (w.ExpressionAttributeValues![':bits'] as Set<number>).size])).toEqual([
      [{ pk: 'demand#1699999980000', cell: 'big-buck' }, 3],
      [{ pk: 'demand#1699999980000', cell: 'sintel' }, 1],
    ]);
    expect(writes[0]).toMatchObject({ TableName: 'rollups', UpdateExpression: 'ADD #sessions :bits SET #expiresAt = if_not_exists(#expiresAt, :expiresAt)' });
  });

  it('writes only the top K titles of a minute, and nothing when the signal is off', async () => {
    const now = () => 1_700_000_100_000;
    const records = ['a', 'a', 'b', 'b', 'b', 'c'].map((aid, i) => ({ data: report(`s${i}`, aid), seq: seq(i + 1) }));
    await createAggregatorHandler({ ddb, kinesis, config: { ...config, demandTopK: 2 }, logger: quiet, metrics: metricsSpy().metrics, now })(kinesisEvent(records));
    expect(ddbMock.commandCalls(UpdateCommand).map((c) => c.args[0].input.Key!.cell)).toEqual(['b', 'a']);

    ddbMock.resetHistory();
    await createAggregatorHandler({ ddb, kinesis, config, logger: quiet, metrics: metricsSpy().metrics, now })(kinesisEvent(records, 'shardId-000000000001'));
    expect(ddbMock.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('never fails the batch when a demand write fails: counted, the rollups go on', async () => {
    ddbMock.on(UpdateCommand).rejects(new Error('ProvisionedThroughputExceededException'));
    const { metrics, recorded } = metricsSpy();

    const result = await createAggregatorHandler({ ddb, kinesis, config: { ...config, demandTopK: 10 }, logger: quiet, metrics, now: () => 1_700_000_100_000 })(
      kinesisEvent([{ data: report('s1', 'big-buck'), seq: seq(1) }]),
    );

    expect(result).toEqual({ batchItemFailures: [] });
    expect(recorded.TitleDemandWriteFailures).toBe(1);
    expect(kinesisMock.commandCalls(PutRecordsCommand)).toHaveLength(1);
  });
});
