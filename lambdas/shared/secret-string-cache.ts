import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/**
 * A plain secret string read from Secrets Manager on first use and re-read after `maxAgeMs`; `refresh()`
 * re-reads at once unless the last read is younger than `minRefreshMs` (callers refresh on a mismatch, and
 * a flood of wrong values must not become a flood of GetSecretValue calls). A failed re-read keeps the last
 * good value.
 */
export class SecretStringCache {
  private value: string | undefined;
  private loadedAt = 0;

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretId: string,
    private readonly opts: { readonly maxAgeMs: number; readonly minRefreshMs: number },
    private readonly now: () => number = Date.now,
  ) {}

  async get(): Promise<string> {
    if (this.value !== undefined && this.now() - this.loadedAt < this.opts.maxAgeMs) return this.value;
    return this.load();
  }

  async refresh(): Promise<string> {
    if (this.value !== undefined && this.now() - this.loadedAt < this.opts.minRefreshMs) return this.value;
    return this.load();
  }

  private async load(): Promise<string> {
    try {
      const { SecretString } = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
      if (SecretString === undefined || SecretString === '') throw new Error(`secret ${this.secretId} has no string value`);
      this.value = SecretString;
      this.loadedAt = this.now();
    } catch (error) {
      if (this.value === undefined) throw error;
    }
    return this.value;
  }
}
