import { readFileSync } from 'node:fs';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ingestRecordText } from '../support/telemetry';
import { COUNTER_NAMES } from '../../core/qoe-aggregate';
import { createAggregatorHandler } from '../../lambdas/qoe-aggregator/index';

const SHARD = 'shardId-000000000000';
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

const seq = (n: number) => `4962${String(n).padStart(52, '0')}`;

/**
 * A minimal stateful stand-in for the rollups table behind aws-sdk-client-mock: it evaluates the one
 * condition the writer uses (`attribute_not_exists(#hwm) OR #hwm < :minSeq`) and applies ADD/SET, so
 * idempotency is observable in a unit test. The same behaviour is checked against dynalite in
 * test/integration/telemetry-pipeline.test.ts.
 */
function fakeRollupsTable(opts: { returnsOldItemOnConflict: boolean } = { returnsOldItemOnConflict: true }) {
  const items = new Map<string, Record<string, unknown>>();
  const update = (input: UpdateCommandInput) => {
    const key = `${input.Key!.minute}|${input.Key!.cell}`;
    const names = input.ExpressionAttributeNames!;
    const values = input.ExpressionAttributeValues!;
    const item = items.get(key) ?? { ...input.Key };
    const hwm = item[names['#hwm']!] as string | undefined;
    if (hwm !== undefined && !(hwm < (values[':minSeq'] as string))) {
      throw new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
        // ReturnValuesOnConditionCheckFailure: ALL_OLD hands back the item, marshalled.
        ...(opts.returnsOldItemOnConflict ? { Item: { [names['#hwm']!]: { S: hwm } } } : {}),
      });
    }
    for (const [alias, name] of Object.entries(names)) {
      if (!alias.startsWith('#c')) continue;
      item[name] = ((item[name] as number | undefined) ?? 0) + (values[`:c${alias.slice(2)}`] as number);
    }
    Object.assign(item, { pathway: values[':pathway'], country: values[':country'], expiresAt: values[':expiresAt'], [names['#hwm']!]: values[':maxSeq'] });
    items.set(key, item);
    return {};
  };
  return { items, update };
}

const ddbMock = mockClient(DynamoDBDocumentClient);
const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
const config = { rollupsTableName: 'rollups', routingTableName: 'routing', rollupTtlDays: 7 };
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

function rollupOf(table: ReturnType<typeof fakeRollupsTable>, cell: string) {
  const found = [...table.items.values()].filter((item) => item.cell === cell);
  return Object.fromEntries(COUNTER_NAMES.map((name) => [name, found.reduce((s, item) => s + ((item[name] as number) ?? 0), 0)]));
}

describe('qoe-aggregator handler', () => {
  let table: ReturnType<typeof fakeRollupsTable>;

  beforeEach(() => {
    ddbMock.reset();
    table = fakeRollupsTable();
    ddbMock.on(GetCommand, { TableName: 'routing' }).resolves({ Item: REGISTRY });
    ddbMock.on(UpdateCommand).callsFake(table.update);
  });

  it('counts every good record once, sets bad ones aside without failing the batch, and writes one update per cell', async () => {
    const { metrics, recorded } = metricsSpy();
    const handler = createAggregatorHandler({ ddb, config, logger: quiet, metrics });
    const event = kinesisEvent([
      { data: `${hitA}\n`, seq: seq(1) },
      { data: 'garbage that is not a log line', seq: seq(2) },
      { data: `${errorB}\n`, seq: seq(3) },
      { data: hitA.split('\t').slice(0, 5).join('\t'), seq: seq(4) },
      { data: reportA, seq: seq(5) },
      { data: `${hitANextMinute}\n`, seq: seq(6) },
    ]);

    const response = await handler(event);

    expect(response.batchItemFailures).toEqual([]);
    expect(recorded.SetAsideRecords).toBe(2);
    expect(ddbMock.commandCalls(UpdateCommand)).toHaveLength(3);
    expect(rollupOf(table, 'cf-a#DE')).toMatchObject({ requests: 2, reports: 2, playMs: 30_000, stalls: 2 });
    expect(rollupOf(table, 'cf-b#US')).toMatchObject({ requests: 1, errors: 1 });
    expect(recorded['PathwayErrors[cf-b]']).toBe(1);
    expect(recorded['PathwayRequests[cf-b]']).toBe(1);
    expect(recorded['PathwayRequests[cf-a]']).toBe(3); // max(1 request, 2 reports) + 1 request next minute
  });

  it('counts implausible player values and keeps them out of the rollup (a dash.js epoch ttfb)', async () => {
    // Prepare
    const { metrics, recorded } = metricsSpy();
    const handler = createAggregatorHandler({ ddb, config, logger: quiet, metrics });
    const epochTtfb = ingestRecordText({
      rt: 1_700_000_030_000,
      country: 'DE',
      sid: 'dash-1',
      lines: ['e=rr,sid="dash-1",rc=200,ttfb=1796182414387', 'e=rr,sid="dash-1",rc=200,ttfb=80'],
    });

    // Act
    await handler(kinesisEvent([{ data: epochTtfb, seq: seq(1) }]));

    // Assess
    expect(recorded.ImplausibleReportValues).toBe(1);
    expect(rollupOf(table, 'cf-a#DE')).toMatchObject({ reports: 2, playerTtfbMsSum: 80, playerTtfbCount: 1 });
  });

  it('writes the rollup item in the schema the routing-weights scorer reads', async () => {
    const handler = createAggregatorHandler({ ddb, config, logger: quiet, metrics: metricsSpy().metrics });

    await handler(kinesisEvent([{ data: errorB, seq: seq(1) }]));

    const input = ddbMock.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(input.Key).toEqual({ minute: 1_699_999_980_000, cell: 'cf-b#US' });
    expect(input.ExpressionAttributeValues).toMatchObject({ ':pathway': 'cf-b', ':country': 'US', ':expiresAt': 1_699_999_980 + 7 * 86_400 });
    expect(Object.values(input.ExpressionAttributeNames!)).toEqual(expect.arrayContaining([...COUNTER_NAMES, `hwm_${SHARD}`]));
  });

  it('leaves the rollups unchanged when the same batch is delivered twice', async () => {
    const handler = createAggregatorHandler({ ddb, config, logger: quiet, metrics: metricsSpy().metrics });
    const event = kinesisEvent([
      { data: hitA, seq: seq(1) },
      { data: errorB, seq: seq(2) },
      { data: reportA, seq: seq(3) },
    ]);

    await handler(event);
    const after = structuredClone([...table.items.entries()]);
    const second = await handler(event);

    expect(second.batchItemFailures).toEqual([]);
    expect([...table.items.entries()]).toEqual(after);
  });

  it('applies only the new records of a retry that starts from a failed record', async () => {
    const handler = createAggregatorHandler({ ddb, config, logger: quiet, metrics: metricsSpy().metrics });
    await handler(kinesisEvent([
      { data: hitA, seq: seq(1) },
      { data: hitA, seq: seq(2) },
    ]));

    await handler(kinesisEvent([
      { data: hitA, seq: seq(2) },
      { data: hitA, seq: seq(3) },
    ]));

    expect(rollupOf(table, 'cf-a#DE').requests).toBe(3);
  });

  it('reports only the records that fed a cell whose write failed, and a redelivery completes the count', async () => {
    const handler = createAggregatorHandler({ ddb, config, logger: quiet, metrics: metricsSpy().metrics });
    const records = [
      { data: hitA, seq: seq(1) },
      { data: errorB, seq: seq(2) },
      { data: hitA, seq: seq(3) },
      { data: errorB, seq: seq(4) },
    ];
    ddbMock.on(UpdateCommand, { Key: { minute: 1_699_999_980_000, cell: 'cf-b#US' } }).rejects(new Error('ProvisionedThroughputExceeded'));

    const first = await handler(kinesisEvent(records));

    expect(first.batchItemFailures).toEqual([{ itemIdentifier: seq(2) }, { itemIdentifier: seq(4) }]);
    expect(rollupOf(table, 'cf-a#DE').requests).toBe(2);

    // The event source mapping re-delivers from the lowest failed sequence number.
    ddbMock.on(UpdateCommand).callsFake(table.update);
    const retry = await handler(kinesisEvent(records.slice(1)));

    expect(retry.batchItemFailures).toEqual([]);
    expect(rollupOf(table, 'cf-a#DE').requests).toBe(2);
    expect(rollupOf(table, 'cf-b#US')).toMatchObject({ requests: 2, errors: 2 });
  });

  it('reads the high-water mark when DynamoDB does not return the old item on a conflict', async () => {
    table = fakeRollupsTable({ returnsOldItemOnConflict: false });
    ddbMock.on(UpdateCommand).callsFake(table.update);
    const handler = createAggregatorHandler({ ddb, config, logger: quiet, metrics: metricsSpy().metrics });
    await handler(kinesisEvent([{ data: hitA, seq: seq(5) }]));
    ddbMock.on(GetCommand, { TableName: 'rollups' }).callsFake((input) => ({
      Item: { [`hwm_${SHARD}`]: table.items.get(`${input.Key.minute}|${input.Key.cell}`)![`hwm_${SHARD}`] },
    }));

    const response = await handler(kinesisEvent([
      { data: hitA, seq: seq(4) },
      { data: hitA, seq: seq(5) },
      { data: hitA, seq: seq(6) },
    ]));

    expect(response.batchItemFailures).toEqual([]);
    expect(rollupOf(table, 'cf-a#DE').requests).toBe(2);
    expect(ddbMock.commandCalls(GetCommand, { TableName: 'rollups' })).toHaveLength(1);
  });

  it('keeps separate high-water marks per shard', async () => {
    const handler = createAggregatorHandler({ ddb, config, logger: quiet, metrics: metricsSpy().metrics });

    await handler(kinesisEvent([{ data: hitA, seq: seq(9) }], 'shardId-000000000001'));
    await handler(kinesisEvent([{ data: hitA, seq: seq(1) }], 'shardId-000000000002'));

    expect(rollupOf(table, 'cf-a#DE').requests).toBe(2);
  });

  it('reads the pathway registry once a minute', async () => {
    let nowMs = 1_700_000_000_000;
    const handler = createAggregatorHandler({ ddb, config, logger: quiet, metrics: metricsSpy().metrics, now: () => nowMs });

    await handler(kinesisEvent([{ data: hitA, seq: seq(1) }]));
    nowMs += 30_000;
    await handler(kinesisEvent([{ data: hitA, seq: seq(2) }]));
    nowMs += 31_000;
    await handler(kinesisEvent([{ data: hitA, seq: seq(3) }]));

    expect(ddbMock.commandCalls(GetCommand, { TableName: 'routing' })).toHaveLength(2);
  });

  it('fails the invocation when no registry has ever been read, so the batch is retried rather than dropped', async () => {
    ddbMock.on(GetCommand, { TableName: 'routing' }).resolves({});
    const handler = createAggregatorHandler({ ddb, config, logger: quiet, metrics: metricsSpy().metrics });

    await expect(handler(kinesisEvent([{ data: hitA, seq: seq(1) }]))).rejects.toThrow(/registry/);
    expect(ddbMock.commandCalls(UpdateCommand)).toHaveLength(0);
  });
});
