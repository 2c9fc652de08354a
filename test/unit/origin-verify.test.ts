import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { originSecretMatches } from '../../core/origin-verify';
import { SecretStringCache } from '../../lambdas/shared/secret-string-cache';

describe('originSecretMatches', () => {
  it('accepts only the exact value, whatever the lengths', () => {
    expect(originSecretMatches('s3cret-value', 's3cret-value')).toBe(true);
    expect(originSecretMatches('s3cret-valuE', 's3cret-value')).toBe(false);
    expect(originSecretMatches('s3cret', 's3cret-value')).toBe(false);
    expect(originSecretMatches('', 's3cret-value')).toBe(false);
  });

  it('never matches an empty secret (an unset value must not open the door)', () => {
    expect(originSecretMatches('', '')).toBe(false);
  });
});

describe('SecretStringCache', () => {
  const secrets = mockClient(SecretsManagerClient);
  let now = 0;
  const cache = () => new SecretStringCache(new SecretsManagerClient({ region: 'eu-west-1' }), 'origin', { maxAgeMs: 300_000, minRefreshMs: 60_000 }, () => now);

  beforeEach(() => {
    secrets.reset();
    now = 1_000_000;
  });

  it('reads once, then serves the cached value until it is old', async () => {
    secrets.on(GetSecretValueCommand).resolvesOnce({ SecretString: 'v1' }).resolves({ SecretString: 'v2' });
    const c = cache();

    expect([await c.get(), await c.get()]).toEqual(['v1', 'v1']);
    now += 300_000;
    expect(await c.get()).toBe('v2');
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('re-reads on refresh at most once per minRefreshMs, so wrong values cannot hammer Secrets Manager', async () => {
    secrets.on(GetSecretValueCommand).resolvesOnce({ SecretString: 'old' }).resolves({ SecretString: 'rotated' });
    const c = cache();
    await c.get();

    expect(await c.refresh()).toBe('old');
    now += 60_000;
    expect(await c.refresh()).toBe('rotated');
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('keeps the last good value when a re-read fails, and fails without one', async () => {
    secrets.on(GetSecretValueCommand).resolvesOnce({ SecretString: 'v1' }).rejects(new Error('throttled'));
    const c = cache();
    await c.get();
    now += 300_000;

    expect(await c.get()).toBe('v1');
    secrets.reset();
    secrets.on(GetSecretValueCommand).rejects(new Error('throttled'));
    await expect(cache().get()).rejects.toThrow('throttled');
  });
});
