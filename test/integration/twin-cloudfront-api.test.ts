import { CloudFrontClient, CreateInvalidationCommand, GetInvalidationCommand, NoSuchDistribution, NoSuchInvalidation } from '@aws-sdk/client-cloudfront';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalAws, TWIN_CREDENTIALS, type LocalAws } from '../../local/aws-servers';
import { startCloudFrontApi, type CloudFrontApi } from '../../local/edge/cloudfront-api';
import { startDistribution, type Distribution } from '../../local/edge/cloudfront-server';

/** The CloudFront API stand-in (ADR 0012), driven by the unmodified SDK client the takedown worker uses. */
describe('twin CloudFront API', () => {
  let aws: LocalAws;
  let cdn: Distribution;
  let api: CloudFrontApi;
  let cloudfront: CloudFrontClient;
  const get = async (path: string) => (await fetch(`${cdn.endpoint}${path}`)).headers.get('x-cache');
  const invalidate = (CallerReference: string, Items: string[], DistributionId = 'cf-a') =>
    cloudfront.send(new CreateInvalidationCommand({ DistributionId, InvalidationBatch: { CallerReference, Paths: { Quantity: Items.length, Items } } }));

  beforeAll(async () => {
    aws = await startLocalAws();
    await aws.createBuckets(['origin']);
    for (const key of ['media/a/r1/seg-1.m4s', 'media/a/r1/seg-2.m4s', 'media/ab/r1/seg-1.m4s', 'media/b/r1/seg-1.m4s']) {
      await aws.clients.s3.send(new PutObjectCommand({ Bucket: 'origin', Key: key, Body: key, ContentType: 'video/mp4' }));
    }
    cdn = await startDistribution({ id: 'cf-a', origin: { s3: aws.clients.s3, bucket: 'origin', region: aws.region } });
    api = await startCloudFrontApi({ distributions: new Map([['cf-a', cdn]]) });
    cloudfront = new CloudFrontClient({ endpoint: api.endpoint, region: 'us-east-1', credentials: TWIN_CREDENTIALS });
  });
  afterAll(async () => {
    cloudfront?.destroy();
    await api?.stop();
    await cdn?.stop();
    await aws?.stop();
  });

  it('empties the cache entries a wildcard path covers, and only those, and describes the invalidation as CloudFront does', async () => {
    // Prepare: four objects in the distribution's cache.
    for (const path of ['/media/a/r1/seg-1.m4s', '/media/a/r1/seg-2.m4s', '/media/ab/r1/seg-1.m4s', '/media/b/r1/seg-1.m4s']) {
      await get(path);
      expect(await get(path)).toBe('Hit from cloudfront');
    }
    // Act
    const { Invalidation, Location } = await invalidate('takedown-a-1', ['/media/a/*']);
    // Assess
    expect(Invalidation).toMatchObject({ Id: expect.stringMatching(/^I[0-9A-F]+$/), Status: 'Completed', InvalidationBatch: { CallerReference: 'takedown-a-1', Paths: { Quantity: 1, Items: ['/media/a/*'] } } });
    expect(Invalidation!.CreateTime).toBeInstanceOf(Date);
    expect(Location).toBe(`${api.endpoint}/2020-05-31/distribution/cf-a/invalidation/${Invalidation!.Id}`);
    expect(await get('/media/a/r1/seg-1.m4s')).toBe('Miss from cloudfront');
    expect(await get('/media/a/r1/seg-2.m4s')).toBe('Miss from cloudfront');
    expect(await get('/media/ab/r1/seg-1.m4s')).toBe('Hit from cloudfront');
    expect(await get('/media/b/r1/seg-1.m4s')).toBe('Hit from cloudfront');
    expect(api.invalidations.at(-1)).toMatchObject({ removed: 2 });
    const described = await cloudfront.send(new GetInvalidationCommand({ DistributionId: 'cf-a', Id: Invalidation!.Id }));
    expect(described.Invalidation).toEqual(Invalidation);
  });

  it('invalidates an exact path only', async () => {
    await invalidate('exact-1', ['/media/b/r1/seg-1.m4s']);
    expect(await get('/media/ab/r1/seg-1.m4s')).toBe('Hit from cloudfront');
    expect(await get('/media/b/r1/seg-1.m4s')).toBe('Miss from cloudfront');
  });

  it('answers a repeated CallerReference with the same invalidation, and refuses it with other paths', async () => {
    // Prepare
    const first = await invalidate('takedown-repeat', ['/media/a/*']);
    const count = api.invalidations.length;
    // Act
    const again = await invalidate('takedown-repeat', ['/media/a/*']);
    const other = invalidate('takedown-repeat', ['/media/b/*']);
    // Assess
    expect(again.Invalidation!.Id).toBe(first.Invalidation!.Id);
    expect(api.invalidations).toHaveLength(count);
    await expect(other).rejects.toMatchObject({ name: 'InvalidationBatchAlreadyExists', $metadata: { httpStatusCode: 409 } });
  });

  it('answers unknown distributions and invalidations with the modelled errors, and bad batches with 400', async () => {
    await expect(invalidate('x', ['/media/*'], 'E404')).rejects.toBeInstanceOf(NoSuchDistribution);
    await expect(cloudfront.send(new GetInvalidationCommand({ DistributionId: 'cf-a', Id: 'INOPE' }))).rejects.toBeInstanceOf(NoSuchInvalidation);
    await expect(invalidate('bad-path', ['media/no-leading-slash'])).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
    await expect(invalidate('bad-wildcard', ['/media/*/seg.m4s'])).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
  });
});
