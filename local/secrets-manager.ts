/**
 * Secrets Manager stand-in (docs/architecture.md#the-local-twin; the keyring: docs/token.md "Keys"): the AWS JSON 1.1 operations the platform
 * uses — GetSecretValue, PutSecretValue, DescribeSecret, CreateSecret — so handlers and edge functions
 * read the token keyring through an unmodified `SecretsManagerClient` (`AWS_ENDPOINT_URL_SECRETS_MANAGER`).
 * Versions carry the AWSCURRENT/AWSPREVIOUS staging labels the way rotation relies on.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { closeServer, listenOnLoopback, readBody, sendAwsJsonError, sendJson } from './http-server';

interface SecretVersion {
  readonly versionId: string;
  readonly secretString: string;
  readonly createdDate: Date;
  stages: string[];
}

interface Secret {
  readonly name: string;
  readonly arn: string;
  readonly versions: SecretVersion[];
  lastChangedDate: Date;
}

class SecretsManagerError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export interface SecretsManagerServer {
  readonly endpoint: string;
  /** Creates the secret or stores a new current version (what a test or `npm run dev` seeds). */
  putSecret(name: string, value: string): void;
  stop(): Promise<void>;
}

export async function startSecretsManagerServer(
  options: { region?: string; account?: string; port?: number } = {},
): Promise<SecretsManagerServer> {
  const region = options.region ?? 'us-east-1';
  const account = options.account ?? '000000000000';
  const secrets = new Map<string, Secret>();

  const find = (secretId: unknown): Secret => {
    const id = String(secretId ?? '');
    const secret = secrets.get(id) ?? [...secrets.values()].find((s) => s.arn === id);
    if (!secret) throw new SecretsManagerError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return secret;
  };

  const create = (name: string): Secret => {
    // Real ARNs end in a random 6-character suffix; clients must not rely on the name being the ARN.
    const secret: Secret = {
      name,
      arn: `arn:aws:secretsmanager:${region}:${account}:secret:${name}-${randomUUID().slice(0, 6)}`,
      versions: [],
      lastChangedDate: new Date(),
    };
    secrets.set(name, secret);
    return secret;
  };

  const addVersion = (secret: Secret, secretString: string, versionId: string = randomUUID()): SecretVersion => {
    const existing = secret.versions.find((v) => v.versionId === versionId);
    if (existing) return existing; // ClientRequestToken makes PutSecretValue idempotent
    for (const version of secret.versions) {
      version.stages = version.stages.filter((s) => s !== 'AWSPREVIOUS');
      if (version.stages.includes('AWSCURRENT')) version.stages = ['AWSPREVIOUS'];
    }
    const version = { versionId, secretString, createdDate: new Date(), stages: ['AWSCURRENT'] };
    secret.versions.push(version);
    secret.lastChangedDate = version.createdDate;
    return version;
  };

  const epochSeconds = (date: Date) => date.getTime() / 1000;

  const operations: Record<string, (input: Record<string, unknown>) => unknown> = {
    CreateSecret(input) {
      const name = String(input.Name ?? '');
      if (secrets.has(name)) throw new SecretsManagerError('ResourceExistsException', `The secret ${name} already exists.`);
      const secret = create(name);
      const version =
        typeof input.SecretString === 'string'
          ? addVersion(secret, input.SecretString, input.ClientRequestToken as string | undefined)
          : undefined;
      return { ARN: secret.arn, Name: secret.name, VersionId: version?.versionId };
    },
    GetSecretValue(input) {
      const secret = find(input.SecretId);
      const stage = (input.VersionStage as string | undefined) ?? (input.VersionId ? undefined : 'AWSCURRENT');
      const version = secret.versions.find((v) =>
        input.VersionId ? v.versionId === input.VersionId : v.stages.includes(stage!),
      );
      if (!version) {
        throw new SecretsManagerError('ResourceNotFoundException', "Secrets Manager can't find the specified secret value.");
      }
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: version.versionId,
        SecretString: version.secretString,
        VersionStages: version.stages,
        CreatedDate: epochSeconds(version.createdDate),
      };
    },
    PutSecretValue(input) {
      const secret = find(input.SecretId);
      if (typeof input.SecretString !== 'string') {
        throw new SecretsManagerError('InvalidParameterException', 'SecretString is required by the twin.');
      }
      const version = addVersion(secret, input.SecretString, input.ClientRequestToken as string | undefined);
      return { ARN: secret.arn, Name: secret.name, VersionId: version.versionId, VersionStages: version.stages };
    },
    DescribeSecret(input) {
      const secret = find(input.SecretId);
      return {
        ARN: secret.arn,
        Name: secret.name,
        LastChangedDate: epochSeconds(secret.lastChangedDate),
        VersionIdsToStages: Object.fromEntries(secret.versions.filter((v) => v.stages.length > 0).map((v) => [v.versionId, v.stages])),
      };
    },
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = operations[target.replace(/^secretsmanager\./, '')];
      if (req.method !== 'POST' || !target.startsWith('secretsmanager.') || !operation) {
        return sendAwsJsonError(res, 400, 'InvalidRequestException', `unsupported operation ${target}`);
      }
      const input = JSON.parse((await readBody(req)).toString('utf8') || '{}') as Record<string, unknown>;
      sendJson(res, 200, operation(input), { 'content-type': 'application/x-amz-json-1.1' });
    })().catch((error: unknown) => {
      if (error instanceof SecretsManagerError) return sendAwsJsonError(res, 400, error.type, error.message);
      sendAwsJsonError(res, 500, 'InternalServiceError', String(error));
    });
  });
  const endpoint = await listenOnLoopback(server, options.port ?? 0);

  return {
    endpoint,
    putSecret(name, value) {
      addVersion(secrets.get(name) ?? create(name), value);
    },
    stop: () => closeServer(server),
  };
}
