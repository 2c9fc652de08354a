import type { CloudFrontRequestHandler } from 'aws-lambda';
import { readBakedConfig } from '../shared/baked-config';
import { createKeyringSource } from '../shared/keyring-source';
import { parseViewerAuthConfig } from './config';
import { createViewerAuthHandler } from './handler';

export { createViewerAuthHandler, refusalResponse } from './handler';
export type { ViewerAuthDeps, ViewerAuthHandler, ViewerAuthRefusal } from './handler';

/** An unknown kid triggers at most one keyring fetch per this many seconds per instance (ADR 0031). */
const UNKNOWN_KID_REFRESH_MIN_AGE_SECONDS = 30;

const config = readBakedConfig(parseViewerAuthConfig);
const keyringSource = createKeyringSource(config.keyring, {
  executingRegion: process.env.AWS_REGION,
  onFetchError: (region, error) => console.warn(`[${config.pathwayId}] keyring fetch from ${region} failed`, error instanceof Error ? error.name : error),
});
// Start the cold-start fetch during init so it overlaps runtime start-up instead of the first request.
const initialLoad = keyringSource.get();
if (initialLoad instanceof Promise) initialLoad.catch(() => undefined);

export const handler: CloudFrontRequestHandler = createViewerAuthHandler({
  keyring: () => keyringSource.get(),
  refreshKeyring: () => keyringSource.refresh({ minAgeSeconds: UNKNOWN_KID_REFRESH_MIN_AGE_SECONDS }),
  onKeyringUnavailable: (error) => console.error(`[${config.pathwayId}] playback keyring unavailable`, error instanceof Error ? error.message : error),
});
