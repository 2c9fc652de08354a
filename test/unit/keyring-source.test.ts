import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { generateInitialKeyring, serializeKeyring } from '../../core/keyring';
import { createKeyringSource, KeyringUnavailableError, parseKeyringSourceConfig, regionOrder, type SecretReader } from '../../edge-functions/shared/keyring-source';

const NOW_MS = 1_750_000_000_000;
const KEYRING_1 = serializeKeyring(generateInitialKeyring({ nowSeconds: 1_750_000_000, kid: 'k1', key: Buffer.alloc(32, 1) }));
const KEYRING_2 = serializeKeyring(generateInitialKeyring({ nowSeconds: 1_750_000_100, kid: 'k2', key: Buffer.alloc(32, 2) }));
const config = { secretId: 'playback-keyring', regions: ['us-east-1', 'eu-west-1', 'ap-northeast-1'], timeoutMs: 50, refreshSeconds: 300 };

function clock(start = NOW_MS) {
  let now = start;
  return { nowMs: () => now, advance: (ms: number) => (now += ms) };
}

const never: SecretReader = (_region, _id, signal) =>
  new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));

describe('regionOrder', () => {
  it('tries the executing region first when it holds a replica', () => {
    expect(regionOrder(['us-east-1', 'eu-west-1'], 'eu-west-1')).toEqual(['eu-west-1', 'us-east-1']);
  });

  it('falls back to a replica in the same geography, then us-east-1, then the rest', () => {
    expect(regionOrder(['ap-northeast-1', 'us-east-1', 'eu-west-1', 'eu-central-1'], 'eu-north-1')).toEqual([
      'eu-west-1',
      'eu-central-1',
      'us-east-1',
      'ap-northeast-1',
    ]);
    expect(regionOrder(['eu-west-1', 'us-east-1'], 'sa-east-1')).toEqual(['us-east-1', 'eu-west-1']);
    expect(regionOrder(['eu-west-1', 'us-east-1'], undefined)).toEqual(['us-east-1', 'eu-west-1']);
  });
});

describe('createKeyringSource', () => {
  it('loads once at cold start from the executing region, then serves from memory synchronously', async () => {
    // Prepare
    const reads: string[] = [];
    const readSecret: SecretReader = async (region) => (reads.push(region), KEYRING_1);
    const source = createKeyringSource(config, { executingRegion: 'eu-west-1', readSecret, nowMs: clock().nowMs });
    // Act
    const first = await source.get();
    const second = source.get();
    // Assess
    expect(first.current).toBe('k1');
    expect(second).toBe(first);
    expect(reads).toEqual(['eu-west-1']);
  });

  it('shares one fetch among concurrent cold-start requests', async () => {
    const readSecret = vi.fn<SecretReader>(async () => KEYRING_1);
    const source = createKeyringSource(config, { readSecret, nowMs: clock().nowMs });
    const [a, b] = await Promise.all([source.get(), source.get()]);
    expect(a).toBe(b);
    expect(readSecret).toHaveBeenCalledTimes(1);
  });

  it('moves on to the next region when one times out or fails', async () => {
    const reads: string[] = [];
    const readSecret: SecretReader = (region, id, signal) => {
      reads.push(region);
      if (region === 'eu-west-1') return never(region, id, signal);
      if (region === 'us-east-1') return Promise.reject(new Error('AccessDenied'));
      return Promise.resolve(KEYRING_1);
    };
    const source = createKeyringSource(config, { executingRegion: 'eu-west-1', readSecret, onFetchError: () => undefined });
    expect((await source.get()).current).toBe('k1');
    expect(reads).toEqual(['eu-west-1', 'us-east-1', 'ap-northeast-1']);
  });

  it('rejects with KeyringUnavailableError when every region fails, then fails fast instead of re-waiting', async () => {
    const readSecret = vi.fn<SecretReader>(async () => {
      throw new Error('down');
    });
    const time = clock();
    const source = createKeyringSource(config, { readSecret, nowMs: time.nowMs, onFetchError: () => undefined });
    await expect(source.get()).rejects.toBeInstanceOf(KeyringUnavailableError);
    expect(readSecret).toHaveBeenCalledTimes(3);
    await expect(source.get()).rejects.toBeInstanceOf(KeyringUnavailableError);
    expect(readSecret).toHaveBeenCalledTimes(3);
    time.advance(6000);
    await expect(source.get()).rejects.toBeInstanceOf(KeyringUnavailableError);
    expect(readSecret).toHaveBeenCalledTimes(6);
  });

  it('treats a region returning an unusable keyring as failed and tries the next', async () => {
    const readSecret: SecretReader = async (region) => (region === 'us-east-1' ? '{"current":null,"keys":{},"createdAt":{}}' : KEYRING_1);
    const source = createKeyringSource(config, { readSecret, onFetchError: () => undefined });
    expect((await source.get()).current).toBe('k1');
  });

  it('refreshes in the background when stale, serving the old keyring until the new one arrives', async () => {
    let value = KEYRING_1;
    const readSecret = vi.fn<SecretReader>(async () => value);
    const time = clock();
    const source = createKeyringSource(config, { readSecret, nowMs: time.nowMs });
    const first = await source.get();
    value = KEYRING_2;
    time.advance(config.refreshSeconds * 1000);
    // Act: the stale request is answered from memory at once…
    expect(source.get()).toBe(first);
    await vi.waitFor(() => expect(readSecret).toHaveBeenCalledTimes(2));
    // …and a later one sees the refreshed keyring.
    await vi.waitFor(() => expect((source.get() as { current: string }).current).toBe('k2'));
  });

  it('keeps the same keyring object when the secret did not change, so verifier caches survive', async () => {
    const readSecret = vi.fn<SecretReader>(async () => KEYRING_1);
    const time = clock();
    const source = createKeyringSource(config, { readSecret, nowMs: time.nowMs });
    const first = await source.get();
    time.advance(10_000);
    expect(await source.refresh()).toBe(first);
  });

  it('keeps serving the cached keyring when a background refresh fails', async () => {
    let fail = false;
    const readSecret = vi.fn<SecretReader>(async () => {
      if (fail) throw new Error('down');
      return KEYRING_1;
    });
    const time = clock();
    const source = createKeyringSource(config, { readSecret, nowMs: time.nowMs, onFetchError: () => undefined });
    const first = await source.get();
    fail = true;
    time.advance(config.refreshSeconds * 1000);
    expect(source.get()).toBe(first);
    expect(await source.refresh()).toBe(first);
  });

  it('rate-limits forced refreshes by the age of the last fetch', async () => {
    const readSecret = vi.fn<SecretReader>(async () => KEYRING_1);
    const time = clock();
    const source = createKeyringSource(config, { readSecret, nowMs: time.nowMs });
    await source.get();
    await source.refresh({ minAgeSeconds: 30 });
    expect(readSecret).toHaveBeenCalledTimes(1);
    time.advance(31_000);
    await source.refresh({ minAgeSeconds: 30 });
    expect(readSecret).toHaveBeenCalledTimes(2);
  });

  describe('default reader (Secrets Manager SDK)', () => {
    const sm = mockClient(SecretsManagerClient);
    afterEach(() => sm.reset());

    it('calls GetSecretValue with the secret name', async () => {
      sm.on(GetSecretValueCommand).resolves({ SecretString: KEYRING_1 });
      const source = createKeyringSource(config, { executingRegion: 'us-east-1' });
      expect((await source.get()).current).toBe('k1');
      expect(sm.commandCalls(GetSecretValueCommand)[0]!.args[0].input).toEqual({ SecretId: 'playback-keyring' });
    });
  });
});

describe('parseKeyringSourceConfig', () => {
  it('accepts the baked keyring block and names the bad member otherwise', () => {
    expect(parseKeyringSourceConfig(config)).toEqual(config);
    expect(() => parseKeyringSourceConfig({ ...config, regions: [] })).toThrow(/keyring.regions/);
    expect(() => parseKeyringSourceConfig({ ...config, timeoutMs: 10_000 })).toThrow(/keyring.timeoutMs/);
    expect(() => parseKeyringSourceConfig({ ...config, secretId: '' })).toThrow(/keyring.secretId/);
  });
});
