import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { CloudFrontKeyValueStoreClient } from '@aws-sdk/client-cloudfront-keyvaluestore';
// The KeyValueStore API is signed with SigV4a; this registers the JavaScript signer with the SDK.
import '@aws-sdk/signature-v4a';
import { nextKeyringVersion, parseKeyring, serializeKeyring, type Keyring } from '../../core/keyring';
import { signToken, verifyToken } from '../../core/token';
import { lambdaHandler, logger, tracer } from '../shared/powertools';
import { keyringRotationConfig } from './config';
import { publishKeyring, type KeyringStore } from './keyring-store';

/**
 * Secrets Manager rotation function of the playback keyring (docs/token.md "Key rotation"; ADR 0031).
 * Secrets Manager calls it four times per rotation with the same ClientRequestToken (Secrets Manager User
 * Guide, "Rotation by Lambda function"): createSecret writes the next keyring as AWSPENDING, setSecret
 * publishes it to the CloudFront KeyValueStore when there is one (ADR 0034), testSecret checks the pending
 * keyring, finishSecret moves AWSCURRENT.
 * Every step is safe to repeat: Secrets Manager retries failed steps.
 */

export interface RotationEvent {
  readonly Step: string;
  readonly SecretId: string;
  readonly ClientRequestToken: string;
  /** Present for rotations through an assumed role; passed back on PutSecretValue. */
  readonly RotationToken?: string;
}

export interface RotationDeps {
  readonly client: Pick<SecretsManagerClient, 'send'>;
  readonly maxTokenLifetimeSeconds: number;
  /** Epoch seconds. @default Date.now */
  readonly now?: () => number;
  /** @default - random 32 bytes */
  readonly newKey?: () => Buffer;
  /** @default - newKeyId(now) */
  readonly newKid?: (nowSeconds: number) => string;
  /** The KeyValueStore copy read by the CloudFront Functions token check. @default - none */
  readonly keyringStore?: KeyringStore;
}

/** The secret or event is not in a state this rotation can proceed from; Secrets Manager marks the rotation failed. */
export class RotationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RotationError';
  }
}

const CURRENT = 'AWSCURRENT';
const PENDING = 'AWSPENDING';

export function createRotationHandler(deps: RotationDeps): (event: RotationEvent) => Promise<void> {
  const { client } = deps;
  const nowSeconds = deps.now ?? (() => Math.floor(Date.now() / 1000));

  async function readSecret(secretId: string, selector: { VersionStage: string; VersionId?: string }): Promise<string> {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretId, ...selector }));
    if (out.SecretString === undefined) throw new RotationError(`secret version ${selector.VersionId ?? selector.VersionStage} has no SecretString`);
    return out.SecretString;
  }

  async function createSecret(event: RotationEvent): Promise<void> {
    const current = await readSecret(event.SecretId, { VersionStage: CURRENT });
    try {
      await readSecret(event.SecretId, { VersionStage: PENDING, VersionId: event.ClientRequestToken });
      logger.info('pending keyring already written', { step: event.Step });
      return;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    const now = nowSeconds();
    const next = nextKeyringVersion(current, {
      nowSeconds: now,
      maxTokenLifetimeSeconds: deps.maxTokenLifetimeSeconds,
      newKid: deps.newKid?.(now),
      newKey: deps.newKey?.(),
    });
    await client.send(
      new PutSecretValueCommand({
        SecretId: event.SecretId,
        ClientRequestToken: event.ClientRequestToken,
        SecretString: serializeKeyring(next),
        VersionStages: [PENDING],
        ...(event.RotationToken !== undefined ? { RotationToken: event.RotationToken } : {}),
      }),
    );
    logger.info('pending keyring written', { current: next.current, kids: [...next.keys.keys()] });
  }

  /**
   * The KeyValueStore must hold the new key before any signer can use it: signers read AWSCURRENT, which
   * only finishSecret moves, and a CloudFront Function cannot fetch a key it lacks (ADR 0034).
   */
  async function setSecret(event: RotationEvent): Promise<void> {
    if (deps.keyringStore === undefined) return;
    const pending = parseKeyring(await readSecret(event.SecretId, { VersionStage: PENDING, VersionId: event.ClientRequestToken }));
    let outgoing: Keyring | undefined;
    try {
      outgoing = parseKeyring(await readSecret(event.SecretId, { VersionStage: CURRENT }));
    } catch {
      outgoing = undefined; // the deploy-time placeholder has no keys to retire
    }
    const published = await publishKeyring(deps.keyringStore, pending, outgoing);
    logger.info('keyring published to the KeyValueStore', { ...published });
  }

  async function testSecret(event: RotationEvent): Promise<void> {
    const pending = parseKeyring(await readSecret(event.SecretId, { VersionStage: PENDING, VersionId: event.ClientRequestToken }));
    const now = nowSeconds();
    const probe = signToken({ sid: 'rotation-test', aid: 'rotation-test', exp: now + 60 }, pending);
    const result = verifyToken(probe, pending, { nowSeconds: now, assetId: 'rotation-test' });
    if (!result.ok) throw new RotationError(`pending keyring cannot verify its own token: ${result.reason}`);

    // Tokens signed a moment ago with the outgoing key must keep verifying after the switch.
    let outgoing: Keyring | undefined;
    try {
      outgoing = parseKeyring(await readSecret(event.SecretId, { VersionStage: CURRENT }));
    } catch {
      outgoing = undefined; // the deploy-time placeholder (or an unusable value) has signed nothing
    }
    if (outgoing !== undefined) {
      const outgoingKey = pending.keys.get(outgoing.current);
      if (outgoingKey === undefined || !outgoingKey.equals(outgoing.keys.get(outgoing.current)!)) {
        throw new RotationError(`pending keyring drops the outgoing current key "${outgoing.current}"`);
      }
    }
    logger.info('pending keyring tested', { current: pending.current });
  }

  async function finishSecret(event: RotationEvent, versions: Record<string, string[]>): Promise<void> {
    const currentVersion = Object.keys(versions).find((id) => versions[id]!.includes(CURRENT));
    if (currentVersion === event.ClientRequestToken) return;
    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: event.SecretId,
        VersionStage: CURRENT,
        MoveToVersionId: event.ClientRequestToken,
        ...(currentVersion !== undefined ? { RemoveFromVersionId: currentVersion } : {}),
      }),
    );
    logger.info('keyring version is now current', { version: event.ClientRequestToken, previous: currentVersion });
  }

  return async (event) => {
    const meta = await client.send(new DescribeSecretCommand({ SecretId: event.SecretId }));
    if (meta.RotationEnabled !== true) throw new RotationError(`secret ${event.SecretId} is not enabled for rotation`);
    const versions = meta.VersionIdsToStages ?? {};
    const stages = versions[event.ClientRequestToken];
    if (stages === undefined) throw new RotationError(`version ${event.ClientRequestToken} is not a version of ${event.SecretId}`);
    if (stages.includes(CURRENT)) {
      logger.info('version already current; nothing to do', { step: event.Step });
      return;
    }
    if (!stages.includes(PENDING)) throw new RotationError(`version ${event.ClientRequestToken} is not staged as ${PENDING}`);

    switch (event.Step) {
      case 'createSecret':
        return createSecret(event);
      case 'setSecret':
        return setSecret(event);
      case 'testSecret':
        return testSecret(event);
      case 'finishSecret':
        return finishSecret(event, versions);
      default:
        throw new RotationError(`unknown rotation step "${event.Step}"`);
    }
  };
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && error.name === 'ResourceNotFoundException';
}

const client = tracer.captureAWSv3Client(new SecretsManagerClient({}));

/** Environment is read on first use so a misconfigured function fails its rotation with a clear message. */
export const handler = lambdaHandler<RotationEvent, void>(() => {
  const { keyringStoreArn, keyringStorePropagationSeconds, ...config } = keyringRotationConfig.decode(process.env);
  const keyringStore: KeyringStore | undefined =
    keyringStoreArn === undefined
      ? undefined
      : { client: tracer.captureAWSv3Client(new CloudFrontKeyValueStoreClient({})), arn: keyringStoreArn, propagationSeconds: keyringStorePropagationSeconds };
  const rotate = createRotationHandler({ client, ...config, ...(keyringStore !== undefined ? { keyringStore } : {}) });
  return (event) => {
    logger.appendKeys({ step: event.Step });
    return rotate(event);
  };
});
