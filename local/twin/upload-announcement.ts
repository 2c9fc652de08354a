/**
 * What the twin prints for each upload, so a newcomer learns the asset id an upload became without
 * reading the catalog: `uploads/My Film.mp4 → asset my-film → http://127.0.0.1:4590/?asset=my-film`.
 * The id comes from the same functions the submit-job handler uses (core/asset-id.ts,
 * core/upload-key.ts; ADR 0020, 0021), so the line cannot disagree with the catalog.
 */
import { assetIdFromKey, InvalidAssetNameError } from '../../core/asset-id';
import { classifyUploadKey } from '../../core/upload-key';

/** The player page's URL for one asset. */
export function playerUrlFor(playerBaseUrl: string, assetId: string): string {
  const url = new URL(playerBaseUrl);
  url.searchParams.set('asset', assetId);
  return url.toString();
}

/** One line describing what an object key under the upload bucket becomes. */
export function describeUpload(key: string, playerBaseUrl: string): string {
  const upload = classifyUploadKey(key);
  if (upload.kind === 'ignored') return `${key} → not encoded: ${upload.detail}`;
  try {
    const assetId = assetIdFromKey(key);
    return `${key} → asset ${assetId} → ${playerUrlFor(playerBaseUrl, assetId)}`;
  } catch (error) {
    if (error instanceof InvalidAssetNameError) return `${key} → rejected: ${error.reason}`;
    throw error;
  }
}
