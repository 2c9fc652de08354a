import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { generateInitialKeyring, serializeKeyring } from '../../core/keyring';
import { KeyringCache } from '../../lambdas/shared/keyring-cache';

const client = new SecretsManagerClient({ region: 'eu-west-1' });
const secrets = mockClient(client);
const first = serializeKeyring(generateInitialKeyring({ nowSeconds: 1_700_000_000, kid: 'k1' }));
const second = serializeKeyring(generateInitialKeyring({ nowSeconds: 1_700_000_000, kid: 'k2' }));

beforeEach(() => secrets.reset());

describe('regional keyring cache', () => {
  it('reads the secret once within its maximum age', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: first });
    const cache = new KeyringCache(client, 'arn:secret', 60_000, () => 0);
    await cache.get();
    await cache.get();
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('keeps the same keyring object when a refresh finds the secret unchanged', async () => {
    let now = 0;
    secrets.on(GetSecretValueCommand).resolves({ SecretString: first });
    const cache = new KeyringCache(client, 'arn:secret', 60_000, () => now);
    const before = await cache.get();
    now = 120_000;
    expect(await cache.get()).toBe(before);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('picks up a rotated keyring after its maximum age', async () => {
    let now = 0;
    secrets.on(GetSecretValueCommand).resolvesOnce({ SecretString: first }).resolves({ SecretString: second });
    const cache = new KeyringCache(client, 'arn:secret', 60_000, () => now);
    expect((await cache.get()).current).toBe('k1');
    now = 120_000;
    expect((await cache.get()).current).toBe('k2');
  });

  it('serves the last good keyring when a refresh fails, and fails when there is none', async () => {
    let now = 0;
    secrets.on(GetSecretValueCommand).resolvesOnce({ SecretString: first }).rejects(new Error('throttled'));
    const cache = new KeyringCache(client, 'arn:secret', 60_000, () => now);
    const good = await cache.get();
    now = 120_000;
    expect(await cache.get()).toBe(good);
    const cold = new KeyringCache(client, 'arn:other', 60_000, () => 0);
    await expect(cold.get()).rejects.toThrow('throttled');
  });
});
