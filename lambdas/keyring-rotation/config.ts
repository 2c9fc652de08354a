/** keyring-rotation's configuration (lib/constructs/playback-keyring.ts sets it). */
import { type ConfigOf, defineFunctionConfig, envInteger, envIntegerWithDefault, envOptionalString } from '../shared/function-config';

export const keyringRotationConfig = defineFunctionConfig({
  /** Longest token lifetime the playback API signs; a retired key stays verifiable this long (ADR 0031). */
  maxTokenLifetimeSeconds: envInteger('MAX_TOKEN_LIFETIME_SECONDS', { min: 1 }),
  /**
   * The CloudFront KeyValueStore the CloudFront Functions token check reads (ADR 0033); absent when no
   * pathway uses that check.
   */
  keyringStoreArn: envOptionalString('KEYRING_STORE_ARN'),
  /**
   * How long setSecret lets a KeyValueStore write reach the edges before the rotation may make the new
   * key current (ADR 0034).
   */
  keyringStorePropagationSeconds: envIntegerWithDefault('KEYRING_STORE_PROPAGATION_SECONDS', 60, { min: 0, max: 600 }),
});
export type KeyringRotationConfig = ConfigOf<typeof keyringRotationConfig>;
