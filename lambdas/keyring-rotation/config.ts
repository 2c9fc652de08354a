/** keyring-rotation's configuration (lib/constructs/playback-keyring.ts sets it). */
import { type ConfigOf, defineFunctionConfig, envInteger } from '../shared/function-config';

export const keyringRotationConfig = defineFunctionConfig({
  /** Longest token lifetime the playback API signs; a retired key stays verifiable this long (ADR 0031). */
  maxTokenLifetimeSeconds: envInteger('MAX_TOKEN_LIFETIME_SECONDS', { min: 1 }),
});
export type KeyringRotationConfig = ConfigOf<typeof keyringRotationConfig>;
