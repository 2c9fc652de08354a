import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient, GetItemCommand, PutItemCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamSummaryCommand, KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startLocalAws, type LocalAws } from '../../local/aws-servers';

describe('twin AWS servers', () => {
  let aws: LocalAws;
  let restoreEnv: () => void;

  beforeAll(async () => {
    aws = await startLocalAws();
    await aws.createBuckets(['twin-uploads']);
    await aws.createTables([
      {
        tableName: 'Assets',
        partitionKey: { name: 'pk', type: 'S' },
        globalSecondaryIndexes: [{ indexName: 'byStatus', partitionKey: { name: 'status', type: 'S' } }],
      },
    ]);
    await aws.createStream('telemetry', 2);
    restoreEnv = aws.applyEnvironment();
  });

  afterAll(async () => {
    restoreEnv?.();
    await aws?.stop();
  });

  it('binds every server to 127.0.0.1', () => {
    for (const endpoint of Object.values(aws.endpoints)) expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('lets an S3 client configured only by the environment write and read an object', async () => {
    const s3 = new S3Client({});
    await s3.send(new PutObjectCommand({ Bucket: 'twin-uploads', Key: 'uploads/Big Buck.mov', Body: 'hello' }));

    const got = await s3.send(new GetObjectCommand({ Bucket: 'twin-uploads', Key: 'uploads/Big Buck.mov' }));

    expect(await got.Body?.transformToString()).toBe('hello');
    s3.destroy();
  });

  it('creates declared tables, with their indexes, that an environment-configured client can use', async () => {
    const ddb = new DynamoDBClient({});
    await ddb.send(new PutItemCommand({ TableName: 'Assets', Item: { pk: { S: 'a1' }, status: { S: 'READY' } } }));

    const got = await ddb.send(new GetItemCommand({ TableName: 'Assets', Key: { pk: { S: 'a1' } } }));
    const table = await ddb.send(new DescribeTableCommand({ TableName: 'Assets' }));

    expect(got.Item?.status?.S).toBe('READY');
    expect(table.Table?.GlobalSecondaryIndexes?.[0]?.IndexName).toBe('byStatus');
    ddb.destroy();
  });

  it('creates the stream with the requested shards, reachable with the HTTP/1.1 handler', async () => {
    const kinesis = new KinesisClient({ requestHandler: new NodeHttpHandler() });

    const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 'telemetry' }));
    const put = await kinesis.send(
      new PutRecordCommand({ StreamName: 'telemetry', PartitionKey: 'p', Data: Buffer.from('x') }),
    );

    expect(summary.StreamDescriptionSummary?.OpenShardCount).toBe(2);
    expect(put.SequenceNumber).toBeTruthy();
    kinesis.destroy();
  });

  it('lets a Kinesis client with the SDK\'s default HTTP/2 handler write and read the stream', async () => {
    const kinesis = new KinesisClient({});

    const put = await kinesis.send(
      new PutRecordCommand({ StreamName: 'telemetry', PartitionKey: 'p', Data: Buffer.from('over h2') }),
    );
    const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 'telemetry' }));

    expect(put.ShardId).toMatch(/^shardId-/);
    expect(summary.StreamDescriptionSummary?.StreamName).toBe('telemetry');
    kinesis.destroy();
  });

  it('emits an s3rver event for an uploaded object', async () => {
    const seen = new Promise<unknown>((resolve) => aws.s3rver.once('event', resolve));

    await aws.clients.s3.send(new PutObjectCommand({ Bucket: 'twin-uploads', Key: 'uploads/x.mp4', Body: 'x' }));

    expect(await seen).toMatchObject({ Records: [{ eventName: 'ObjectCreated:Put', s3: { object: { key: 'uploads/x.mp4' } } }] });
  });
});
