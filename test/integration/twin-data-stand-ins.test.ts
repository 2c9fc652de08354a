/**
 * The data stand-ins in their own process (ADR 0100): dynalite and kinesalite answer the same SDK calls at the
 * endpoints the twin hands its handlers, the meters count there and come back by message with the process's CPU
 * time, S3 stays metered in the twin's process, and stopping the twin ends the child.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetRecordsCommand, GetShardIteratorCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { startLocalAws, TWIN_CREDENTIALS, type LocalAws } from '../../local/aws-servers';

describe('twin data stand-ins in their own process (ADR 0100)', () => {
  let aws: LocalAws;

  beforeAll(async () => {
    aws = await startLocalAws({ dataStandIns: 'own-process' });
    await aws.createBuckets(['origin']);
    await aws.createTables([{ tableName: 'Things', partitionKey: { name: 'pk', type: 'S' } }]);
    await aws.createStream('telemetry', 1);
  });

  afterAll(async () => {
    await aws?.stop();
  });

  it('serves DynamoDB and Kinesis calls and meters them in the child, S3 in the twin', async () => {
    await aws.clients.dynamodb.send(new PutItemCommand({ TableName: 'Things', Item: { pk: { S: 'a' }, v: { S: 'x'.repeat(100) } } }));
    const got = await aws.clients.dynamodb.send(new GetItemCommand({ TableName: 'Things', Key: { pk: { S: 'a' } } }));
    expect(got.Item?.v?.S).toHaveLength(100);
    // The SDK's default Kinesis handler (HTTP/2), as the handlers use it, through the dual-protocol front.
    const h2 = new KinesisClient({ endpoint: aws.endpoints.kinesis, region: aws.region, credentials: TWIN_CREDENTIALS });
    try {
      await h2.send(new PutRecordsCommand({ StreamName: 'telemetry', Records: [{ PartitionKey: 'p', Data: Buffer.from('one\n') }, { PartitionKey: 'q', Data: Buffer.from('two\n') }] }));
    } finally {
      h2.destroy();
    }
    const { ShardIterator } = await aws.clients.kinesis.send(new GetShardIteratorCommand({ StreamName: 'telemetry', ShardId: 'shardId-000000000000', ShardIteratorType: 'TRIM_HORIZON' }));
    const records = await aws.clients.kinesis.send(new GetRecordsCommand({ ShardIterator }));
    expect(records.Records?.map((r) => Buffer.from(r.Data!).toString())).toEqual(['one\n', 'two\n']);
    await aws.clients.s3.send(new PutObjectCommand({ Bucket: 'origin', Key: 'k', Body: 'b' }));

    const { usage, standInsCpuMs } = await aws.readUsage();
    expect(usage.dynamodb.tables.Things).toMatchObject({ readCalls: 1, writeCalls: 1, readUnits: 0.5, writeUnits: 1 });
    expect(usage.kinesis.streams.telemetry).toMatchObject({ putCalls: 1, records: 2 });
    // CreateBucket and the object: both PUTs on the bucket, as S3 bills them.
    expect(usage.s3).toMatchObject({ origin: { PUT: 2 } });
    expect(standInsCpuMs).toBeGreaterThan(0);
  });

  it('refuses the synchronous reading, which only an in-process meter can give', () => {
    expect(() => aws.usage()).toThrow(/readUsage/);
  });

  it('reads the same figures from in-process stand-ins, with no helper CPU', async () => {
    const local = await startLocalAws();
    try {
      await local.createTables([{ tableName: 'Things', partitionKey: { name: 'pk', type: 'S' } }]);
      await local.clients.dynamodb.send(new PutItemCommand({ TableName: 'Things', Item: { pk: { S: 'a' } } }));
      const { usage, standInsCpuMs } = await local.readUsage();
      expect(usage.dynamodb.tables.Things).toMatchObject({ writeCalls: 1, writeUnits: 1 });
      expect(usage).toEqual(local.usage());
      expect(standInsCpuMs).toBe(0);
    } finally {
      await local.stop();
    }
  });
});
