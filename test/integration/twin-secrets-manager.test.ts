import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { applyToProcessEnv, TWIN_CREDENTIALS } from '../../local/aws-servers';
import { startSecretsManagerServer, type SecretsManagerServer } from '../../local/secrets-manager';

describe('twin Secrets Manager', () => {
  let secretsManager: SecretsManagerServer;
  let restoreEnv: () => void;
  const keyring = { current: 'k1', keys: { k1: Buffer.alloc(32, 1).toString('base64') } };

  beforeAll(async () => {
    secretsManager = await startSecretsManagerServer();
    secretsManager.putSecret('twin/token-keyring', JSON.stringify(keyring));
    restoreEnv = applyToProcessEnv({
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: TWIN_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TWIN_CREDENTIALS.secretAccessKey,
    });
  });

  afterAll(async () => {
    restoreEnv?.();
    await secretsManager?.stop();
  });

  it('serves the seeded keyring to a client configured only by the environment', async () => {
    const client = new SecretsManagerClient({});

    const secret = await client.send(new GetSecretValueCommand({ SecretId: 'twin/token-keyring' }));

    expect(JSON.parse(secret.SecretString!)).toEqual(keyring);
    expect(secret.VersionStages).toEqual(['AWSCURRENT']);
    expect(secret.CreatedDate).toBeInstanceOf(Date);
    client.destroy();
  });

  it('rotates with PutSecretValue, keeping the old value reachable as AWSPREVIOUS', async () => {
    const client = new SecretsManagerClient({});
    const rotated = { current: 'k2', keys: { ...keyring.keys, k2: Buffer.alloc(32, 2).toString('base64') } };

    const put = await client.send(
      new PutSecretValueCommand({ SecretId: 'twin/token-keyring', SecretString: JSON.stringify(rotated) }),
    );
    const current = await client.send(new GetSecretValueCommand({ SecretId: 'twin/token-keyring' }));
    const previous = await client.send(
      new GetSecretValueCommand({ SecretId: 'twin/token-keyring', VersionStage: 'AWSPREVIOUS' }),
    );
    const described = await client.send(new DescribeSecretCommand({ SecretId: current.ARN! }));

    expect(current.VersionId).toBe(put.VersionId);
    expect(JSON.parse(current.SecretString!).current).toBe('k2');
    expect(JSON.parse(previous.SecretString!).current).toBe('k1');
    expect(Object.values(described.VersionIdsToStages ?? {})).toHaveLength(2);
    client.destroy();
  });

  it('answers an unknown secret with ResourceNotFoundException', async () => {
    const client = new SecretsManagerClient({});

    await expect(client.send(new GetSecretValueCommand({ SecretId: 'missing' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
    client.destroy();
  });
});
