import type { EdgeFunctionDefinition } from '../shared/baked-config';
import { parseKeyringSourceConfig, type KeyringSourceConfig } from '../shared/keyring-source';
import { isPathwayId } from '../../core/identifiers';

/** What lib/bundling/edge-bundle.ts bakes into a viewer-auth bundle. */
export interface ViewerAuthConfig {
  /**
   * Tag for log lines. One bundle guards every delivery distribution in the cloud, which bakes
   * "delivery"; the twin builds one bundle per CDN and bakes its pathway id.
   */
  readonly pathwayId: string;
  readonly keyring: KeyringSourceConfig;
}

export function parseViewerAuthConfig(raw: unknown): ViewerAuthConfig {
  if (typeof raw !== 'object' || raw === null) throw new TypeError('must be an object');
  const r = raw as Record<string, unknown>;
  const pathwayId = r.pathwayId;
  if (!isPathwayId(pathwayId)) {
    throw new TypeError(`pathwayId: must be a pathway id such as "cf-a", got ${JSON.stringify(r.pathwayId)}`);
  }
  return { pathwayId, keyring: parseKeyringSourceConfig(r.keyring) };
}

export const viewerAuthEdgeFunction: EdgeFunctionDefinition<ViewerAuthConfig> = { handlerDir: 'viewer-auth', validateConfig: parseViewerAuthConfig };
