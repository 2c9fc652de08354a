import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { jobStateChangePattern, matchesEventPattern, uploadCreatedPattern } from '../../core/event-patterns';
import { startLocalAws, type LocalAws } from '../../local/aws-servers';
import { LocalEventBus, type BusEvent } from '../../local/event-bus';
import { decodeNotificationKey } from '../../core/upload-key';

describe('twin event bus', () => {
  let aws: LocalAws;
  let bus: LocalEventBus;
  let busEndpoint: string;
  const uploads: BusEvent[] = [];
  const jobEvents: BusEvent[] = [];

  beforeAll(async () => {
    aws = await startLocalAws();
    await aws.createBuckets(['upload-bucket', 'other-bucket']);
    bus = new LocalEventBus({ region: aws.region });
    bus.attachS3rver(aws.s3rver);
    bus.addRule('SubmitJob', uploadCreatedPattern('upload-bucket'), (event) => void uploads.push(event));
    bus.addRule('JobStatus', jobStateChangePattern('twin-stack'), (event) => void jobEvents.push(event));
    busEndpoint = await bus.listen();
  });

  afterAll(async () => {
    await bus?.close();
    await aws?.stop();
  });

  it('delivers an upload under uploads/ as an S3 "Object Created" event with the key URL-encoded as S3 does', async () => {
    await aws.clients.s3.send(
      new PutObjectCommand({ Bucket: 'upload-bucket', Key: 'uploads/Big Buck.mov', Body: 'master' }),
    );
    await bus.idle();

    expect(uploads).toHaveLength(1);
    expect(uploads[0]).toMatchObject({
      source: 'aws.s3',
      'detail-type': 'Object Created',
      resources: ['arn:aws:s3:::upload-bucket'],
      detail: { bucket: { name: 'upload-bucket' }, object: { key: 'uploads/Big+Buck.mov', size: 6 }, reason: 'PutObject' },
    });
  });

  it.each([
    ['uploads/My Movie (Final) + été.mov', 'uploads/My+Movie+%28Final%29+%2B+%C3%A9t%C3%A9.mov'],
    ['uploads/100% sure/C++ [v2]!.mp4', 'uploads/100%25+sure/C%2B%2B+%5Bv2%5D%21.mp4'],
    ['uploads/e\u0301te\u0301 ~ it\'s*.mov', 'uploads/e%CC%81te%CC%81+%7E+it%27s%2A.mov'],
    ['uploads/今晩は.mov', 'uploads/%E4%BB%8A%E6%99%A9%E3%81%AF.mov'],
  ])('encodes the key %j of a real s3rver upload as %j', async (key, encoded) => {
    const before = uploads.length;
    await aws.clients.s3.send(new PutObjectCommand({ Bucket: 'upload-bucket', Key: key, Body: 'master' }));
    await bus.idle();

    expect(uploads.slice(before).map((event) => (event.detail as { object: { key: string } }).object.key)).toEqual([encoded]);
    expect(decodeNotificationKey(encoded)).toBe(key);
  });

  it('ignores objects outside uploads/ and objects in other buckets', async () => {
    const before = uploads.length;
    await aws.clients.s3.send(new PutObjectCommand({ Bucket: 'upload-bucket', Key: 'media/x.mp4', Body: 'x' }));
    await aws.clients.s3.send(new PutObjectCommand({ Bucket: 'other-bucket', Key: 'uploads/x.mp4', Body: 'x' }));
    await bus.idle();

    expect(uploads).toHaveLength(before);
  });

  it('routes PutEvents sent by an unmodified EventBridge client through the same patterns', async () => {
    const client = new EventBridgeClient({
      endpoint: busEndpoint,
      region: aws.region,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    const detail = { status: 'COMPLETE', jobId: 'j1', userMetadata: { stack: 'twin-stack' } };

    const result = await client.send(
      new PutEventsCommand({
        Entries: [
          { Source: 'aws.mediaconvert', DetailType: 'MediaConvert Job State Change', Detail: JSON.stringify(detail) },
          {
            Source: 'aws.mediaconvert',
            DetailType: 'MediaConvert Job State Change',
            Detail: JSON.stringify({ ...detail, userMetadata: { stack: 'someone-else' } }),
          },
        ],
      }),
    );
    await bus.idle();

    expect(result.FailedEntryCount).toBe(0);
    expect(result.Entries?.[0]?.EventId).toBeTruthy();
    expect(jobEvents.map((e) => e.detail)).toEqual([detail]);
    client.destroy();
  });

  it('matches prefixes, nested objects and array-valued fields like EventBridge', () => {
    const pattern = { detail: { object: { key: [{ prefix: 'uploads/' }] }, tags: ['a'] } };

    expect(matchesEventPattern(pattern, { detail: { object: { key: 'uploads/x' }, tags: ['b', 'a'] } })).toBe(true);
    expect(matchesEventPattern(pattern, { detail: { object: { key: 'Uploads/x' }, tags: ['a'] } })).toBe(false);
    expect(matchesEventPattern(pattern, { detail: { object: { key: 'uploads/x' } } })).toBe(false);
  });
});
