import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateInitialKeyring, parseKeyring, rotateKeyring, serializeKeyring } from '../../core/keyring';
import { signToken, verifyToken } from '../../core/token';
import { keyringRotationConfig } from '../../lambdas/keyring-rotation/config';
import { createRotationHandler, RotationError, type RotationEvent } from '../../lambdas/keyring-rotation/index';
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
const rotation = () =>
  createRotationHandler({
    client: new SecretsManagerClient({ region: 'eu-west-1' }),
    maxTokenLifetimeSeconds: LIFETIME,
    now: () => NOW,
    newKey: () => Buffer.alloc(32, 0x77),
    newKid: () => 'knew',
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
    expect(keyringRotationConfig.decode({ MAX_TOKEN_LIFETIME_SECONDS: '21600' })).toEqual({ maxTokenLifetimeSeconds: 21_600 });
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
