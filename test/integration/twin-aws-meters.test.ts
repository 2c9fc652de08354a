import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  BatchGetItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { KinesisClient, PutRecordCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { s3ClientConfig, startLocalAws, TWIN_CREDENTIALS, type LocalAws } from '../../local/aws-servers';

/** An attribute value of `bytes` characters: the item's size is about that plus the names. */
const padding = (bytes: number) => ({ S: 'x'.repeat(bytes) });

describe('twin AWS usage meters (ADR 0077)', () => {
  let aws: LocalAws;
  let ddb: DynamoDBClient;

  beforeAll(async () => {
    aws = await startLocalAws();
    await aws.createBuckets(['origin', 'uploads']);
    await aws.createTables([
      { tableName: 'Things', partitionKey: { name: 'pk', type: 'S' } },
      { tableName: 'Cells', partitionKey: { name: 'pk', type: 'S' }, sortKey: { name: 'sk', type: 'S' } },
    ]);
    await aws.createStream('telemetry', 1);
    ddb = new DynamoDBClient({ endpoint: aws.endpoints.dynamodb, region: aws.region, credentials: TWIN_CREDENTIALS });
  });

  afterAll(async () => {
    ddb?.destroy();
    await aws?.stop();
  });

  it('charges DynamoDB writes in 1 KB units of the larger of the old and new item, and reads in 4 KB units halved when eventually consistent', async () => {
    const before = aws.usage().dynamodb.tables.Things;
    expect(before).toBeUndefined();

    await ddb.send(new PutItemCommand({ TableName: 'Things', Item: { pk: { S: 'a' }, body: padding(1_500) } }));
    await ddb.send(new UpdateItemCommand({
      TableName: 'Things',
      Key: { pk: { S: 'a' } },
      UpdateExpression: 'SET body = :small',
      ExpressionAttributeValues: { ':small': { S: 'tiny' } },
    }));
    await ddb.send(new PutItemCommand({ TableName: 'Things', Item: { pk: { S: 'big' }, body: padding(5_000) } }));
    await ddb.send(new GetItemCommand({ TableName: 'Things', Key: { pk: { S: 'big' } } }));
    await ddb.send(new GetItemCommand({ TableName: 'Things', Key: { pk: { S: 'big' } }, ConsistentRead: true }));
    await ddb.send(new GetItemCommand({ TableName: 'Things', Key: { pk: { S: 'missing' } } }));

    expect(aws.usage().dynamodb.tables.Things).toEqual({
      writeCalls: 3,
      itemsWritten: 3,
      // 1.5 KB → 2; the update's old item 1.5 KB → 2; 5 KB → 5
      writeUnits: 9,
      readCalls: 3,
      itemsRead: 3,
      // 5 KB → 2 units, halved → 1; consistent → 2; a missing item still costs half a unit
      readUnits: 3.5,
    });
  });

  it('hands the caller the answer it asked for: no ConsumedCapacity unless requested, and then the real one', async () => {
    const plain = await ddb.send(new GetItemCommand({ TableName: 'Things', Key: { pk: { S: 'a' } } }));
    const asked = await ddb.send(new GetItemCommand({ TableName: 'Things', Key: { pk: { S: 'a' } }, ReturnConsumedCapacity: 'TOTAL' }));

    expect(plain.ConsumedCapacity).toBeUndefined();
    expect(plain.Item?.body?.S).toBe('tiny');
    expect(asked.ConsumedCapacity).toEqual({ TableName: 'Things', CapacityUnits: 0.5 });
  });

  it('counts a BatchGetItem per table and item, and a Query by the items it returns', async () => {
    for (const sk of ['1', '2', '3']) await ddb.send(new PutItemCommand({ TableName: 'Cells', Item: { pk: { S: 'c' }, sk: { S: sk }, body: padding(2_000) } }));
    const before = aws.usage().dynamodb.tables.Cells!;

    const batch = await ddb.send(new BatchGetItemCommand({ RequestItems: { Cells: { Keys: [{ pk: { S: 'c' }, sk: { S: '1' } }, { pk: { S: 'c' }, sk: { S: '2' } }] } } }));
    const query = await ddb.send(new QueryCommand({ TableName: 'Cells', KeyConditionExpression: 'pk = :c', ExpressionAttributeValues: { ':c': { S: 'c' } } }));

    expect(batch.Responses?.Cells).toHaveLength(2);
    expect(query.Items).toHaveLength(3);
    const after = aws.usage().dynamodb.tables.Cells!;
    expect(after.readCalls - before.readCalls).toBe(2);
    expect(after.itemsRead - before.itemsRead).toBe(5);
    // Batch: 2 items of ~2 KB, half a unit each; query: ~6 KB in one page → 2 units, halved
    expect(after.readUnits - before.readUnits).toBe(2);
    expect(aws.usage().dynamodb.operations).toMatchObject({ BatchGetItem: 1, Query: 1 });
  });

  it('counts Kinesis records and bytes put, over HTTP/2 and HTTP/1.1, with 1 KB-rounded billed bytes', async () => {
    const http2 = new KinesisClient({ endpoint: aws.endpoints.kinesis, region: aws.region, credentials: TWIN_CREDENTIALS });
    const http1 = new KinesisClient({ endpoint: aws.endpoints.kinesis, region: aws.region, credentials: TWIN_CREDENTIALS, requestHandler: new NodeHttpHandler() });

    await http2.send(new PutRecordCommand({ StreamName: 'telemetry', PartitionKey: 'k1', Data: Buffer.alloc(100) }));
    const put = await http1.send(new PutRecordsCommand({
      StreamName: 'telemetry',
      Records: [
        { PartitionKey: 'k2', Data: Buffer.alloc(2_000) },
        { PartitionKey: 'k3', Data: Buffer.alloc(10) },
      ],
    }));

    expect(put.FailedRecordCount).toBe(0);
    expect(aws.usage().kinesis.streams.telemetry).toEqual({ putCalls: 2, records: 3, bytes: 102 + 2_002 + 12, billedBytes: 1_024 + 2_048 + 1_024 });
    expect(aws.usage().kinesis.operations).toMatchObject({ PutRecord: 1, PutRecords: 1 });
    http2.destroy();
    http1.destroy();
  });

  it('counts S3 requests per bucket and method', async () => {
    const s3 = new S3Client(s3ClientConfig(aws.endpoints.s3, aws.region));
    // CreateBucket was one PUT on each bucket.
    expect(aws.usage().s3).toMatchObject({ origin: { PUT: 1 }, uploads: { PUT: 1 } });

    await s3.send(new PutObjectCommand({ Bucket: 'origin', Key: 'media/a/seg1.m4s', Body: 'x' }));
    for (let i = 0; i < 3; i += 1) await (await s3.send(new GetObjectCommand({ Bucket: 'origin', Key: 'media/a/seg1.m4s' }))).Body?.transformToString();

    expect(aws.usage().s3).toMatchObject({ origin: { PUT: 2, GET: 3 }, uploads: { PUT: 1 } });
    expect(aws.usage().s3.uploads!.GET).toBeUndefined();
    s3.destroy();
  });
});
