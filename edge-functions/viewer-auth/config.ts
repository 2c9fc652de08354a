import { parseKeyringSourceConfig, type KeyringSourceConfig } from '../shared/keyring-source';
import { isPathwayId } from '../../core/identifiers';

/** What lib/bundling/edge-bundle.ts bakes into each viewer-auth bundle (one per distribution). */
export interface ViewerAuthConfig {
  /**
   * Tag for log lines. One bundle guards every delivery distribution (the CDK shares it), so this is
   * usually "delivery"; the twin may bake a pathway id.
   */
  readonly pathwayId: string;
  readonly keyring: KeyringSourceConfig;
}

export function parseViewerAuthConfig(raw: unknown): ViewerAuthConfig {
  if (typeof raw !== 'object' || raw === null) throw new TypeError('must be an object');
  const r = raw as Record<string, unknown>;
  const pathwayId = r.pathwayId ?? 'delivery';
  if (typeof pathwayId !== 'string' || !isPathwayId(pathwayId)) {
    throw new TypeError(`pathwayId: must be a pathway id such as "cf-a", got ${JSON.stringify(r.pathwayId)}`);
  }
  return { pathwayId, keyring: parseKeyringSourceConfig(r.keyring) };
}
