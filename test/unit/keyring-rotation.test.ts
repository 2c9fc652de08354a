import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import {
  CloudFrontKeyValueStoreClient,
  ConflictException as KvsConflict,
  DeleteKeyCommand,
  DescribeKeyValueStoreCommand,
  PutKeyCommand,
  ResourceNotFoundException as KvsNotFound,
} from '@aws-sdk/client-cloudfront-keyvaluestore';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateInitialKeyring, parseKeyring, rotateKeyring, serializeKeyring } from '../../core/keyring';
import { signToken, verifyToken } from '../../core/token';
import { keyringRotationConfig } from '../../lambdas/keyring-rotation/config';
import { createRotationHandler, RotationError, type RotationDeps, type RotationEvent } from '../../lambdas/keyring-rotation/index';
import { FunctionConfigError } from '../../lambdas/shared/function-config';

const NOW = 1_750_000_000;
const DAY = 86_400;
const LIFETIME = 6 * 3600;
const SECRET = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:playback-keyring-AbCdEf';
const OLD_VERSION = 'v-old';
const TOKEN = 'v-new';
const PLACEHOLDER = JSON.stringify({ current: null, keys: {}, createdAt: {}, placeholder: 'Zx81' });

const sm = mockClient(SecretsManagerClient);
const event = (Step: string, extra: Partial<RotationEvent> = {}): RotationEvent => ({ Step, SecretId: SECRET, ClientRequestToken: TOKEN, ...extra });
const rotation = (overrides: Partial<RotationDeps> = {}) =>
  createRotationHandler({
    client: new SecretsManagerClient({ region: 'eu-west-1' }),
    maxTokenLifetimeSeconds: LIFETIME,
    now: () => NOW,
    newKey: () => Buffer.alloc(32, 0x77),
    newKid: () => 'knew',
    ...overrides,
  });

function stagedAs(stages: Record<string, string[]>, rotationEnabled = true): void {
  sm.on(DescribeSecretCommand).resolves({ RotationEnabled: rotationEnabled, VersionIdsToStages: stages });
}
const notFound = () => new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret value", $metadata: {} });

beforeEach(() => stagedAs({ [OLD_VERSION]: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] }));
afterEach(() => sm.reset());

describe('keyring rotation: createSecret', () => {
  it('writes the first real keyring as AWSPENDING when the secret holds the deploy-time placeholder', async () => {
    // Prepare
    sm.on(GetSecretValueCommand, { SecretId: SECRET, VersionStage: 'AWSCURRENT' }).resolves({ SecretString: PLACEHOLDER });
    sm.on(GetSecretValueCommand, { SecretId: SECRET, VersionStage: 'AWSPENDING', VersionId: TOKEN }).rejects(notFound());
    // Act
    await rotation()(event('createSecret'));
    // Assess
    const put = sm.commandCalls(PutSecretValueCommand)[0]!.args[0].input;
    expect(put).toMatchObject({ SecretId: SECRET, ClientRequestToken: TOKEN, VersionStages: ['AWSPENDING'] });
    const written = parseKeyring(put.SecretString!);
    expect(written.current).toBe('knew');
    expect([...written.keys.keys()]).toEqual(['knew']);
  });

  it('adds a key, makes it current, keeps the outgoing key and retires keys no token can need', async () => {
    // Prepare: ka stopped signing 30 days ago (retire), kb is current (keep)
    const ka = generateInitialKeyring({ nowSeconds: NOW - 60 * DAY, kid: 'ka', key: Buffer.alloc(32, 1) });
    const current = rotateKeyring(ka, { nowSeconds: NOW - 30 * DAY, maxTokenLifetimeSeconds: LIFETIME, newKid: 'kb', newKey: Buffer.alloc(32, 2) });
    sm.on(GetSecretValueCommand, { SecretId: SECRET, VersionStage: 'AWSCURRENT' }).resolves({ SecretString: serializeKeyring(current) });
    sm.on(GetSecretValueCommand, { SecretId: SECRET, VersionStage: 'AWSPENDING', VersionId: TOKEN }).rejects(notFound());
    // Act
    await rotation()(event('createSecret', { RotationToken: 'rt-1' }));
    // Assess
    const put = sm.commandCalls(PutSecretValueCommand)[0]!.args[0].input;
    const written = parseKeyring(put.SecretString!);
    expect(written.current).toBe('knew');
    expect([...written.keys.keys()].sort()).toEqual(['kb', 'knew']);
    expect(written.keys.get('knew')).toEqual(Buffer.alloc(32, 0x77));
    expect(put.RotationToken).toBe('rt-1');
  });

  it('does nothing when the pending version already exists (a retried step)', async () => {
    sm.on(GetSecretValueCommand, { SecretId: SECRET, VersionStage: 'AWSCURRENT' }).resolves({ SecretString: PLACEHOLDER });
    sm.on(GetSecretValueCommand, { SecretId: SECRET, VersionStage: 'AWSPENDING', VersionId: TOKEN }).resolves({ SecretString: '{}' });
    await rotation()(event('createSecret'));
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('fails rather than overwrite a corrupted current keyring', async () => {
    sm.on(GetSecretValueCommand, { SecretId: SECRET, VersionStage: 'AWSCURRENT' }).resolves({ SecretString: '{"current":"ka"}' });
    sm.on(GetSecretValueCommand, { SecretId: SECRET, VersionStage: 'AWSPENDING', VersionId: TOKEN }).rejects(notFound());
    await expect(rotation()(event('createSecret'))).rejects.toThrow(/invalid keyring/);
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });
});

describe('keyring rotation: setSecret and testSecret', () => {
  const outgoing = generateInitialKeyring({ nowSeconds: NOW - DAY, kid: 'kb', key: Buffer.alloc(32, 2) });

  it('has nothing to update in setSecret', async () => {
    await rotation()(event('setSecret'));
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('passes a pending keyring that signs and verifies and still holds the outgoing key', async () => {
    const pending = rotateKeyring(outgoing, { nowSeconds: NOW, maxTokenLifetimeSeconds: LIFETIME, newKid: 'knew', newKey: Buffer.alloc(32, 3) });
    sm.on(GetSecretValueCommand, { SecretId: SECRET, VersionStage: 'AWSPENDING', VersionId: TOKEN }).resolves({ SecretString: serializeKeyring(pending) });
    sm.on(GetSecretValueCommand, { SecretId: SECRET, VersionStage: 'AWSCURRENT' }).resolves({ SecretString: serializeKeyring(outgoing) });
    await expect(rotation()(event('testSecret'))).resolves.toBeUndefined();
  });

  it('fails a pending keyring that dropped the outgoing current key', async () => {
    const pending = generateInitialKeyring({ nowSeconds: NOW, kid: 'knew', key: Buffer.alloc(32, 3) });
    sm.on(GetSecretValueCommand, { SecretId: SECRET, VersionStage: 'AWSPENDING', VersionId: TOKEN }).resolves({ SecretString: serializeKeyring(pending) });
    sm.on(GetSecretValueCommand, { SecretId: SECRET, VersionStage: 'AWSCURRENT' }).resolves({ SecretString: serializeKeyring(outgoing) });
    await expect(rotation()(event('testSecret'))).rejects.toThrow(/drops the outgoing current key "kb"/);
  });

  it('fails a pending version that is not a keyring', async () => {
    sm.on(GetSecretValueCommand, { SecretId: SECRET, VersionStage: 'AWSPENDING', VersionId: TOKEN }).resolves({ SecretString: 'hunter2' });
    await expect(rotation()(event('testSecret'))).rejects.toThrow(/invalid keyring/);
  });
});

describe('keyring rotation: finishSecret', () => {
  it('moves AWSCURRENT to the new version and off the old one', async () => {
    await rotation()(event('finishSecret'));
    expect(sm.commandCalls(UpdateSecretVersionStageCommand)[0]!.args[0].input).toEqual({
      SecretId: SECRET,
      VersionStage: 'AWSCURRENT',
      MoveToVersionId: TOKEN,
      RemoveFromVersionId: OLD_VERSION,
    });
  });

  it('does nothing when the version is already current (a retried step)', async () => {
    stagedAs({ [OLD_VERSION]: ['AWSPREVIOUS'], [TOKEN]: ['AWSCURRENT', 'AWSPENDING'] });
    await rotation()(event('finishSecret'));
    expect(sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
  });
});

describe('keyring rotation: guards', () => {
  it('refuses a secret without rotation enabled', async () => {
    stagedAs({ [TOKEN]: ['AWSPENDING'] }, false);
    await expect(rotation()(event('createSecret'))).rejects.toBeInstanceOf(RotationError);
  });

  it('refuses a version that is not staged AWSPENDING, or not a version of the secret', async () => {
    stagedAs({ [OLD_VERSION]: ['AWSCURRENT'], [TOKEN]: [] });
    await expect(rotation()(event('createSecret'))).rejects.toThrow(/not staged as AWSPENDING/);
    stagedAs({ [OLD_VERSION]: ['AWSCURRENT'] });
    await expect(rotation()(event('createSecret'))).rejects.toThrow(/is not a version/);
  });

  it('refuses an unknown step', async () => {
    await expect(rotation()(event('deleteEverything'))).rejects.toThrow(/unknown rotation step/);
  });

  it('reads the longest token lifetime from the environment', () => {
    expect(keyringRotationConfig.decode({ MAX_TOKEN_LIFETIME_SECONDS: '21600' })).toEqual({ maxTokenLifetimeSeconds: 21_600, keyringStorePropagationSeconds: 60 });
    expect(keyringRotationConfig.decode({ MAX_TOKEN_LIFETIME_SECONDS: '21600', KEYRING_STORE_ARN: 'arn:aws:cloudfront::111122223333:key-value-store/k' })).toMatchObject({ keyringStoreArn: 'arn:aws:cloudfront::111122223333:key-value-store/k' });
    expect(() => keyringRotationConfig.decode({})).toThrow(FunctionConfigError);
    expect(() => keyringRotationConfig.decode({ MAX_TOKEN_LIFETIME_SECONDS: '6h' })).toThrow('MAX_TOKEN_LIFETIME_SECONDS ("6h"): must be an integer');
  });
});

describe('keyring rotation: a full cycle', () => {
  it('leaves a current keyring that verifies tokens signed before and after the rotation', async () => {
    // Prepare: an in-memory secret with versions and stages, served through the mocked client
    const before = generateInitialKeyring({ nowSeconds: NOW - DAY, kid: 'kb', key: Buffer.alloc(32, 2) });
    const versions = new Map<string, { text: string; stages: string[] }>([
      [OLD_VERSION, { text: serializeKeyring(before), stages: ['AWSCURRENT'] }],
      [TOKEN, { text: '', stages: ['AWSPENDING'] }],
    ]);
    sm.on(DescribeSecretCommand).callsFake(() => ({
      RotationEnabled: true,
      VersionIdsToStages: Object.fromEntries([...versions].map(([id, v]) => [id, [...v.stages]])),
    }));
    sm.on(GetSecretValueCommand).callsFake((input: { VersionId?: string; VersionStage?: string }) => {
      const found = [...versions].find(([id, v]) => (input.VersionId === undefined || id === input.VersionId) && v.stages.includes(input.VersionStage!) && v.text !== '');
      if (found === undefined) throw notFound();
      return { SecretString: found[1].text };
    });
    sm.on(PutSecretValueCommand).callsFake((input: { ClientRequestToken: string; SecretString: string }) => {
      versions.get(input.ClientRequestToken)!.text = input.SecretString;
      return {};
    });
    sm.on(UpdateSecretVersionStageCommand).callsFake((input: { MoveToVersionId: string; RemoveFromVersionId: string }) => {
      versions.get(input.RemoveFromVersionId)!.stages = ['AWSPREVIOUS'];
      versions.get(input.MoveToVersionId)!.stages = ['AWSCURRENT'];
      return {};
    });
    const oldToken = signToken({ sid: 's-before', aid: 'big-buck', exp: NOW + 3600 }, before);
    const handler = rotation();

    // Act
    for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) await handler(event(step));

    // Assess
    const after = parseKeyring(versions.get(TOKEN)!.text);
    expect(versions.get(TOKEN)!.stages).toEqual(['AWSCURRENT']);
    expect(after.current).toBe('knew');
    expect(verifyToken(oldToken, after, { nowSeconds: NOW }).ok).toBe(true);
    expect(verifyToken(signToken({ sid: 's-after', aid: 'big-buck', exp: NOW + 3600 }, after), after, { nowSeconds: NOW }).ok).toBe(true);
  });
});

describe('keyring rotation: publishing to the CloudFront KeyValueStore (ADR 0034)', () => {
  const STORE = 'arn:aws:cloudfront::111122223333:key-value-store/3a1f9c2e-0b1d-4e5f-8a9b-0c1d2e3f4a5b';
  const kvs = mockClient(CloudFrontKeyValueStoreClient);
  afterEach(() => kvs.reset());

  /** Every external effect in order: store writes, waits and secret stage moves. */
  function recordEffects(): string[] {
    const effects: string[] = [];
    let etag = 0;
    kvs.on(DescribeKeyValueStoreCommand).resolves({ ETag: `e${etag}`, KvsARN: STORE, Created: new Date(0) });
    kvs.on(PutKeyCommand).callsFake((input: { Key: string; Value: string; IfMatch: string }) => {
      effects.push(`put ${input.Key}=${input.Value} if ${input.IfMatch}`);
      return { ETag: `e${++etag}`, ItemCount: 0, TotalSizeInBytes: 0 };
    });
    kvs.on(DeleteKeyCommand).callsFake((input: { Key: string; IfMatch: string }) => {
      effects.push(`delete ${input.Key} if ${input.IfMatch}`);
      return { ETag: `e${++etag}`, ItemCount: 0, TotalSizeInBytes: 0 };
    });
    sm.on(UpdateSecretVersionStageCommand).callsFake(() => {
      effects.push('AWSCURRENT moved');
      return {};
    });
    return effects;
  }
  const rotationWithStore = (effects: string[]) =>
    rotation({
      keyringStore: {
        client: new CloudFrontKeyValueStoreClient({ region: 'us-east-1' }),
        arn: STORE,
        propagationSeconds: 60,
        wait: async (ms) => {
          effects.push(`wait ${ms} ms`);
        },
      },
    });

  it('writes every pending key, deletes the retired one, then waits out propagation — all in setSecret', async () => {
    // Prepare: ka is retired by this rotation, kb is outgoing current, knew is pending current
    const outgoing = rotateKeyring(generateInitialKeyring({ nowSeconds: NOW - 40 * DAY, kid: 'ka', key: Buffer.alloc(32, 1) }), {
      nowSeconds: NOW - 30 * DAY,
      maxTokenLifetimeSeconds: LIFETIME,
      newKid: 'kb',
      newKey: Buffer.alloc(32, 2),
    });
    const pending = rotateKeyring(outgoing, { nowSeconds: NOW, maxTokenLifetimeSeconds: LIFETIME, newKid: 'knew', newKey: Buffer.alloc(32, 0x77) });
    expect([...pending.keys.keys()]).toEqual(['kb', 'knew']);
    sm.on(GetSecretValueCommand, { SecretId: SECRET, VersionStage: 'AWSCURRENT' }).resolves({ SecretString: serializeKeyring(outgoing) });
    sm.on(GetSecretValueCommand, { SecretId: SECRET, VersionStage: 'AWSPENDING', VersionId: TOKEN }).resolves({ SecretString: serializeKeyring(pending) });
    const effects = recordEffects();
    // Act
    await rotationWithStore(effects)(event('setSecret'));
    // Assess: puts before the delete, each naming the ETag the previous write returned; no stage moved
    expect(effects).toEqual([
      `put kb=${Buffer.alloc(32, 2).toString('base64')} if e0`,
      `put knew=${Buffer.alloc(32, 0x77).toString('base64')} if e1`,
      'delete ka if e2',
      'wait 60000 ms',
    ]);
    expect(kvs.commandCalls(PutKeyCommand).every((call) => call.args[0].input.KvsARN === STORE)).toBe(true);
  });

  it('publishes the new key before finishSecret makes it current, over a whole rotation', async () => {
    // Prepare: a secret whose versions change as the rotation writes them
    const before = generateInitialKeyring({ nowSeconds: NOW - DAY, kid: 'kb', key: Buffer.alloc(32, 2) });
    const versions = new Map<string, { text: string; stages: string[] }>([[OLD_VERSION, { text: serializeKeyring(before), stages: ['AWSCURRENT'] }]]);
    sm.on(DescribeSecretCommand).callsFake(() => ({ RotationEnabled: true, VersionIdsToStages: { ...Object.fromEntries([...versions].map(([id, v]) => [id, v.stages])), ...(versions.has(TOKEN) ? {} : { [TOKEN]: ['AWSPENDING'] }) } }));
    sm.on(GetSecretValueCommand).callsFake((input: { VersionStage: string; VersionId?: string }) => {
      const entry = input.VersionId !== undefined ? versions.get(input.VersionId) : [...versions.values()].find((v) => v.stages.includes(input.VersionStage));
      if (entry === undefined) throw notFound();
      return { SecretString: entry.text };
    });
    sm.on(PutSecretValueCommand).callsFake((input: { ClientRequestToken: string; SecretString: string }) => {
      versions.set(input.ClientRequestToken, { text: input.SecretString, stages: ['AWSPENDING'] });
      return {};
    });
    const effects = recordEffects();
    const handler = rotationWithStore(effects);
    // Act
    for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) await handler(event(step));
    // Assess
    const putNew = effects.findIndex((e) => e.startsWith('put knew='));
    expect(putNew).toBeGreaterThanOrEqual(0);
    expect(effects.indexOf('wait 60000 ms')).toBeGreaterThan(putNew);
    expect(effects.indexOf('AWSCURRENT moved')).toBeGreaterThan(effects.indexOf('wait 60000 ms'));
  });

  it('repeats setSecret safely: a key an earlier attempt deleted is not an error', async () => {
    // Prepare
    const outgoing = generateInitialKeyring({ nowSeconds: NOW - DAY, kid: 'kgone', key: Buffer.alloc(32, 5) });
    const pending = generateInitialKeyring({ nowSeconds: NOW, kid: 'knew', key: Buffer.alloc(32, 0x77) });
    sm.on(GetSecretValueCommand, { SecretId: SECRET, VersionStage: 'AWSCURRENT' }).resolves({ SecretString: serializeKeyring(outgoing) });
    sm.on(GetSecretValueCommand, { SecretId: SECRET, VersionStage: 'AWSPENDING', VersionId: TOKEN }).resolves({ SecretString: serializeKeyring(pending) });
    const effects = recordEffects();
    kvs.on(DeleteKeyCommand).rejects(new KvsNotFound({ message: 'Key not found', $metadata: {} }));
    // Act
    await rotationWithStore(effects)(event('setSecret'));
    // Assess
    expect(effects).toEqual([`put knew=${Buffer.alloc(32, 0x77).toString('base64')} if e0`, 'wait 60000 ms']);
  });

  it('fails the step when another writer changed the store in between (ETag mismatch)', async () => {
    // Prepare
    const pending = generateInitialKeyring({ nowSeconds: NOW, kid: 'knew', key: Buffer.alloc(32, 0x77) });
    sm.on(GetSecretValueCommand, { SecretId: SECRET, VersionStage: 'AWSCURRENT' }).resolves({ SecretString: PLACEHOLDER });
    sm.on(GetSecretValueCommand, { SecretId: SECRET, VersionStage: 'AWSPENDING', VersionId: TOKEN }).resolves({ SecretString: serializeKeyring(pending) });
    const effects = recordEffects();
    kvs.on(PutKeyCommand).rejects(new KvsConflict({ message: 'ETag mismatch', $metadata: {} }));
    // Act / Assess: no wait, so nothing pretends the key was published
    await expect(rotationWithStore(effects)(event('setSecret'))).rejects.toThrow('ETag mismatch');
    expect(effects).toEqual([]);
  });

  it('signs KeyValueStore requests with SigV4a in Node (the signer the API requires is loaded)', async () => {
    // Prepare: the real client (lambdas/keyring-rotation/index.ts, imported above, registers the signer);
    // stop each request after signing and keep its headers
    kvs.restore();
    const client = new CloudFrontKeyValueStoreClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' } });
    let headers: Record<string, string> = {};
    client.middlewareStack.add(
      () => async (args) => {
        headers = (args.request as { headers: Record<string, string> }).headers;
        throw new Error('stopped after signing');
      },
      { step: 'deserialize', name: 'captureSigned', priority: 'low' },
    );
    // Act
    await expect(client.send(new DescribeKeyValueStoreCommand({ KvsARN: STORE }))).rejects.toThrow('stopped after signing');
    // Assess
    expect(headers.authorization).toMatch(/^AWS4-ECDSA-P256-SHA256 /);
    expect(headers['x-amz-region-set']).toBe('*');
  });
});
