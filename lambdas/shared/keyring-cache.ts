import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type Keyring, parseKeyring } from '../../core/keyring';

/**
 * The playback keyring as a regional handler sees it: read from Secrets Manager on first use and re-read
 * after `maxAgeMs`, so a rotation reaches signers and verifiers within minutes without a redeploy.
 * A failed refresh keeps serving the last good keyring (tokens stay verifiable while Secrets Manager blips).
 * An unchanged secret keeps the same Keyring object: the token verifier caches verified claims per keyring
 * object (ADR 0030), and a refresh must not throw that cache away.
 */
export class KeyringCache {
  private keyring: Keyring | undefined;
  private secretString: string | undefined;
  private loadedAt = 0;

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretId: string,
    private readonly maxAgeMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  async get(): Promise<Keyring> {
    if (this.keyring && this.now() - this.loadedAt < this.maxAgeMs) return this.keyring;
    try {
      const { SecretString = '' } = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
      if (SecretString !== this.secretString || !this.keyring) {
        this.keyring = parseKeyring(SecretString);
        this.secretString = SecretString;
      }
      this.loadedAt = this.now();
    } catch (error) {
      if (!this.keyring) throw error;
    }
    return this.keyring;
  }
}
