import { parseKeyringSourceConfig, type KeyringSourceConfig } from '../shared/keyring-source';

/** What lib/bundling/edge-bundle.ts bakes into each viewer-auth bundle (one per distribution). */
export interface ViewerAuthConfig {
  /** The pathway (CDN) this copy guards, e.g. "cf-a"; appears in logs. */
  readonly pathwayId: string;
  readonly keyring: KeyringSourceConfig;
}

export function parseViewerAuthConfig(raw: unknown): ViewerAuthConfig {
  if (typeof raw !== 'object' || raw === null) throw new TypeError('must be an object');
  const r = raw as Record<string, unknown>;
  if (typeof r.pathwayId !== 'string' || !/^[a-z][a-z0-9-]{0,30}$/.test(r.pathwayId)) {
    throw new TypeError(`pathwayId: must be a pathway id such as "cf-a", got ${JSON.stringify(r.pathwayId)}`);
  }
  return { pathwayId: r.pathwayId, keyring: parseKeyringSourceConfig(r.keyring) };
}
