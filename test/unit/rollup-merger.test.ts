import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryRollupsTable } from '../support/memory-rollups-table';
import { emptyCounters } from '../../core/qoe-aggregate';
import { type CellPartial, encodeRollupPartials, type RollupPartials } from '../../core/rollup-partials';
import { emptySessionBits } from '../../core/session-evidence';
import { createRollupMergerHandler } from '../../lambdas/rollup-merger/index';
import { RollupsTable } from '../../tables/rollups-table';

const MINUTE = 1_700_000_040_000;
const MERGER_SHARD = 'shardId-000000000003';
const seq = (n: number) => `4962${String(n).padStart(52, '0')}`;
const tseq = (n: number) => `4970${String(n).padStart(52, '0')}`;

const cell = (pathway: string, country: string, requests: number, sessions: number[] = []): CellPartial => ({
  minute: MINUTE,
  pathway,
  country,
  counters: { ...emptyCounters(), requests },
  sessions: { ...emptySessionBits(), sessions: new Set(sessions) },
});

const partials = (source: string, first: number, last: number, cells: CellPartial[], bucket = 0): RollupPartials => ({
  source: `telemetry/${source}`,
  first: tseq(first),
  last: tseq(last),
  bucket,
  cells,
});

function partialsEvent(records: readonly { seq: string; partials: RollupPartials | string }[]): KinesisStreamEvent {
  return {
    Records: records.map((r) => ({
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: typeof r.partials === 'string' ? '0' : String(r.partials.bucket),
        sequenceNumber: r.seq,
        data: (typeof r.partials === 'string' ? Buffer.from(r.partials) : encodeRollupPartials(r.partials)).toString('base64'),
        approximateArrivalTimestamp: 1_700_000_100,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `${MERGER_SHARD}:${r.seq}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::123456789012:role/rollup-merger',
      awsRegion: 'eu-west-1',
      eventSourceARN: 'arn:aws:kinesis:eu-west-1:123456789012:stream/partials',
    })),
  };
}

const ddbMock = mockClient(DynamoDBDocumentClient);
const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
const config = { rollupsTableName: 'rollups', rollupTtlDays: 7 };
const quiet = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
const metricsSpy = () => {
  const recorded: Record<string, number> = {};
  return {
    recorded,
    metrics: {
      addMetric: (name: string, _unit: unknown, value: number) => void (recorded[name] = (recorded[name] ?? 0) + value),
      singleMetric: () => ({ addDimension: vi.fn(), addMetric: vi.fn() }),
    },
  };
};

describe('rollup-merger (rollup stage 2)', () => {
  let table: MemoryRollupsTable;
  const read = async (cellKey: string) => (await new RollupsTable({ send: table.send } as never, 'rollups').readMinute(MINUTE)).find((c) => c.cell === cellKey);

  beforeEach(() => {
    ddbMock.reset();
    table = new MemoryRollupsTable();
    ddbMock.on(GetCommand).callsFake((input) => table.send(new GetCommand(input)));
    ddbMock.on(UpdateCommand).callsFake((input) => table.send(new UpdateCommand(input)));
  });

  it('merges the partials of many telemetry shards and writes each cell once, with one high-water mark', async () => {
    // Prepare: 64 telemetry shards each saw the same two cells
    const handler = createRollupMergerHandler({ ddb, config, logger: quiet, metrics: metricsSpy().metrics });
    const records = Array.from({ length: 64 }, (_, i) => ({
      seq: seq(i + 1),
      partials: partials(`shardId-${String(i).padStart(12, '0')}`, 1, 10, [cell('cf-a', 'DE', 2, [i % 7]), cell('cf-b', 'US', 1)]),
    }));

    // Act
    const response = await handler(partialsEvent(records));

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(table.cells()).toHaveLength(2);
    expect(ddbMock.commandCalls(UpdateCommand).filter((c) => /^\d+#\d+$/.test(String(c.args[0].input.Key!.pk)))).toHaveLength(2);
    expect(await read('cf-a#DE')).toMatchObject({ requests: 128, sessions: 7 });
    expect(await read('cf-b#US')).toMatchObject({ requests: 64 });
    const item = table.cells().find((c) => c.cell === 'cf-a#DE')!;
    expect(Object.keys(item).filter((k) => k.startsWith('hwm_'))).toEqual([`hwm_${MERGER_SHARD}`]);
  });

  it('applies a claim once: a repeat in the same batch, in a later batch and a redelivered batch change nothing', async () => {
    // Prepare
    const handler = createRollupMergerHandler({ ddb, config, logger: quiet, metrics: metricsSpy().metrics });
    const claim = partials('shardId-000000000000', 1, 5, [cell('cf-a', 'DE', 3, [1, 2])]);
    const batch = [
      { seq: seq(1), partials: claim },
      { seq: seq(2), partials: claim },
    ];

    // Act
    await handler(partialsEvent(batch));
    await handler(partialsEvent(batch));
    await handler(partialsEvent([{ seq: seq(3), partials: claim }]));
    await handler(partialsEvent([{ seq: seq(4), partials: partials('shardId-000000000000', 6, 6, [cell('cf-a', 'DE', 1, [3])]) }]));

    // Assess
    expect(await read('cf-a#DE')).toMatchObject({ requests: 4, sessions: 3 });
  });

  it('reports the records of a failed cell, keeps the marks before them, and a retry from the lowest completes the count', async () => {
    // Prepare
    const { metrics, recorded } = metricsSpy();
    const handler = createRollupMergerHandler({ ddb, config: { ...config, maxConflicts: 0 }, logger: quiet, metrics });
    const batch = [
      { seq: seq(1), partials: partials('shardId-000000000000', 1, 5, [cell('cf-a', 'DE', 1)]) },
      { seq: seq(2), partials: partials('shardId-000000000001', 1, 5, [cell('cf-b', 'US', 1), cell('cf-a', 'DE', 1)]) },
      { seq: seq(3), partials: partials('shardId-000000000000', 6, 9, [cell('cf-a', 'DE', 1)]) },
    ];
    table.fault = (command) => (command.constructor.name === 'UpdateCommand' && (command.input.Key as { cell: string }).cell === 'cf-b#US' ? new Error('ProvisionedThroughputExceededException') : undefined);

    // Act
    const first = await handler(partialsEvent(batch));
    table.fault = undefined;
    const retry = await handler(partialsEvent(batch.slice(1)));

    // Assess
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: seq(2) }]);
    expect(recorded.FailedRollupCells).toBe(1);
    expect(retry.batchItemFailures).toEqual([]);
    expect(await read('cf-a#DE')).toMatchObject({ requests: 3 });
    expect(await read('cf-b#US')).toMatchObject({ requests: 1 });
  });

  it('fails the batch when the marks cannot be raised, and the redelivery neither adds twice nor loses the claim', async () => {
    // Prepare
    const handler = createRollupMergerHandler({ ddb, config, logger: quiet, metrics: metricsSpy().metrics });
    const claim = partials('shardId-000000000000', 1, 5, [cell('cf-a', 'DE', 2)]);
    table.fault = (command) => (String((command.input.Key as { pk: string } | undefined)?.pk).startsWith('applied#') && command.constructor.name === 'UpdateCommand' ? new Error('InternalServerError') : undefined);

    // Act
    await expect(handler(partialsEvent([{ seq: seq(1), partials: claim }]))).rejects.toThrow(/InternalServerError/);
    table.fault = undefined;
    await handler(partialsEvent([{ seq: seq(1), partials: claim }]));
    await handler(partialsEvent([{ seq: seq(2), partials: claim }]));

    // Assess
    expect(await read('cf-a#DE')).toMatchObject({ requests: 2 });
  });

  it('sets a malformed record aside without failing the batch', async () => {
    const { metrics, recorded } = metricsSpy();
    const handler = createRollupMergerHandler({ ddb, config, logger: quiet, metrics });

    const response = await handler(partialsEvent([{ seq: seq(1), partials: 'not gzip' }, { seq: seq(2), partials: partials('shardId-000000000000', 1, 1, [cell('cf-a', 'DE', 1)]) }]));

    expect(response.batchItemFailures).toEqual([]);
    expect(recorded.SetAsideRecords).toBe(1);
    expect(await read('cf-a#DE')).toMatchObject({ requests: 1 });
  });

  it('keeps a cell item under 1 KB with a few hundred sessions, so one write costs one write unit', async () => {
    // Prepare: 500 distinct sessions and 60 networks, every counter non-zero
    const handler = createRollupMergerHandler({ ddb, config, logger: quiet, metrics: metricsSpy().metrics });
    const busy: CellPartial = {
      minute: MINUTE,
      pathway: 'cf-a',
      country: 'DE',
      counters: Object.fromEntries(Object.keys(emptyCounters()).map((name) => [name, 123_456_789])) as unknown as CellPartial['counters'],
      sessions: { sessions: new Set(Array.from({ length: 500 }, (_, i) => (i * 7) % 1024)), errorSessions: new Set([1, 2, 3]), stallSessions: new Set([4, 5]), networks: new Set(Array.from({ length: 60 }, (_, i) => i * 13)) },
    };

    // Act
    await handler(partialsEvent([{ seq: seq(1), partials: partials('shardId-000000000000', 1, 1, [busy]) }]));

    // Assess
    const unitsOfCellWrites = [...table.unitsByPartition].filter(([pk]) => /^\d+#\d+$/.test(pk)).reduce((sum, [, units]) => sum + units, 0);
    expect(unitsOfCellWrites).toBe(1);
  });
});
