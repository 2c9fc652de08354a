import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { generateInitialKeyring, serializeKeyring } from '../../core/keyring';
import { DELIVERY_CORS } from '../../core/identifiers';
import { signToken } from '../../core/token';
import { applyToProcessEnv, startLocalAws, TWIN_CREDENTIALS, type LocalAws } from '../../local/aws-servers';
import { startDistribution, type Distribution } from '../../local/edge/cloudfront-server';
import { twinViewerAuthFunction } from '../../local/edge/cloudfront-function';
import { startSecretsManagerServer, type SecretsManagerServer } from '../../local/secrets-manager';

/**
 * The twin's CDN running the CloudFront Functions token check (ADR 0033): the uploaded function code,
 * its KeyValueStore reading the keyring secret, real HTTP through the CloudFront stand-in to S3.
 */
describe('twin CDN with the CloudFront Functions token check', () => {
  let aws: LocalAws;
  let secrets: SecretsManagerServer;
  let cdn: Distribution;
  let restoreEnv: () => void;
  const keyring = generateInitialKeyring({ kid: 'ktwin', key: Buffer.alloc(32, 0x5a) });
  const other = generateInitialKeyring({ kid: 'ktwin', key: Buffer.alloc(32, 0x5b) });
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    aws = await startLocalAws();
    await aws.createBuckets(['origin']);
    await aws.clients.s3.send(new PutObjectCommand({ Bucket: 'origin', Key: 'media/big-buck/r1/seg-1.m4s', Body: 'segment-bytes', ContentType: 'video/mp4' }));
    secrets = await startSecretsManagerServer();
    secrets.putSecret('twin/playback-keyring', serializeKeyring(keyring));
    restoreEnv = applyToProcessEnv({
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
      AWS_ACCESS_KEY_ID: TWIN_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TWIN_CREDENTIALS.secretAccessKey,
    });
    cdn = await startDistribution({
      id: 'cf-a',
      origin: { s3: aws.clients.s3, bucket: 'origin', region: aws.region },
      viewerRequest: twinViewerAuthFunction({ secretId: 'twin/playback-keyring', regions: [aws.region], timeoutMs: 1000, refreshSeconds: 60 }),
      cors: DELIVERY_CORS,
    });
  });

  afterAll(async () => {
    await cdn?.stop();
    restoreEnv?.();
    await secrets?.stop();
    await aws?.stop();
  });

  it('serves a segment for a valid token, with the token segment stripped', async () => {
    const token = signToken({ sid: 'twin-session', aid: 'big-buck', exp: now() + 600 }, keyring);
    const response = await fetch(`${cdn.endpoint}/${token}/media/big-buck/r1/seg-1.m4s`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('segment-bytes');
  });

  it('refuses a token signed with another key, naming the reason, never cached', async () => {
    const token = signToken({ sid: 'twin-session', aid: 'big-buck', exp: now() + 600 }, other);
    const response = await fetch(`${cdn.endpoint}/${token}/media/big-buck/r1/seg-1.m4s`);
    expect(response.status).toBe(403);
    expect(response.headers.get('x-token-error')).toBe('bad-signature');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('access-control-expose-headers')).toContain('X-Token-Error');
    expect(await response.text()).toBe('Forbidden\n');
  });

  it('refuses a token for another asset and a token-less path', async () => {
    const token = signToken({ sid: 'twin-session', aid: 'sintel', exp: now() + 600 }, keyring);
    const mismatch = await fetch(`${cdn.endpoint}/${token}/media/big-buck/r1/seg-1.m4s`);
    expect([mismatch.status, mismatch.headers.get('x-token-error')]).toEqual([403, 'asset-mismatch']);
    const bare = await fetch(`${cdn.endpoint}/media`);
    expect([bare.status, bare.headers.get('x-token-error')]).toEqual([403, 'malformed']);
  });
});
