/**
 * Which uploaded objects are masters (docs/catalog.md "What starts an encode", ADR 0021).
 *
 * Content teams drop masters under `uploads/`, often with the files that travel with them
 * (captions, checksums, delivery notes, posters). Only masters start an encode; everything else is
 * ignored with a reason the handler logs. A non-video file that is *not* on the sidecar list is
 * still a master candidate on purpose: the probe then fails it with a readable reason and an
 * `Asset Failed` event, so nothing is dropped silently.
 */
import { UPLOAD_PREFIX } from './identifiers';

/**
 * Extensions (lower-case, with the dot) of files that accompany a master and are never encoded:
 * metadata (.json .xml .txt .csv .md .pdf), checksums (.md5 .sha1 .sha256), captions and subtitles
 * (.srt .vtt .scc .stl .ttml .dfxp .cap .sub .ass .ssa), stills (.jpg .jpeg .png .gif .webp .tif
 * .tiff .bmp) and transfer leftovers (.part .tmp .crdownload).
 */
export const SIDECAR_EXTENSIONS: ReadonlySet<string> = new Set([
  '.json', '.xml', '.txt', '.csv', '.md', '.pdf',
  '.md5', '.sha1', '.sha256',
  '.srt', '.vtt', '.scc', '.stl', '.ttml', '.dfxp', '.cap', '.sub', '.ass', '.ssa',
  '.jpg', '.jpeg', '.png', '.gif', '.webp', '.tif', '.tiff', '.bmp',
  '.part', '.tmp', '.crdownload',
]);

export type IgnoredUploadReason = 'outside-uploads' | 'folder-marker' | 'hidden-file' | 'sidecar';

export type UploadKeyClass =
  | {
      readonly kind: 'master';
      readonly key: string;
      /** The key below `uploads/`, e.g. `trailers/Foo.mp4`. */
      readonly relativePath: string;
      /** Lower-case extension with the dot (`.mov`), or '' when the name has none. */
      readonly extension: string;
    }
  | { readonly kind: 'ignored'; readonly key: string; readonly reason: IgnoredUploadReason; readonly detail: string };

/** Lower-case extension of the last path segment, with the dot; '' for none or a leading-dot name. */
export function extensionOf(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  return dot > 0 ? fileName.slice(dot).toLowerCase() : '';
}

/**
 * Classifies an object key exactly as stored in S3 (already decoded, see `decodeNotificationKey`).
 * Extensions compare case-insensitively (`Foo.SRT` is a sidecar, `Foo.MOV` a master).
 */
export function classifyUploadKey(key: string): UploadKeyClass {
  if (!key.startsWith(UPLOAD_PREFIX) || key.length === UPLOAD_PREFIX.length) {
    return { kind: 'ignored', key, reason: 'outside-uploads', detail: `only objects under ${UPLOAD_PREFIX} are masters` };
  }
  // The S3 console's "Create folder" writes a zero-byte object whose key ends in "/".
  if (key.endsWith('/')) {
    return { kind: 'ignored', key, reason: 'folder-marker', detail: 'folder marker object' };
  }
  const relativePath = key.slice(UPLOAD_PREFIX.length);
  const fileName = relativePath.slice(relativePath.lastIndexOf('/') + 1);
  // macOS Finder copies bring `.DS_Store` and AppleDouble `._Name.mov` files along; neither is media.
  if (fileName.startsWith('.')) {
    return { kind: 'ignored', key, reason: 'hidden-file', detail: `hidden file "${fileName}"` };
  }
  const extension = extensionOf(fileName);
  if (SIDECAR_EXTENSIONS.has(extension)) {
    return { kind: 'ignored', key, reason: 'sidecar', detail: `"${extension}" files accompany masters and are not encoded` };
  }
  return { kind: 'master', key, relativePath, extension };
}

/**
 * Decodes a key from S3's *classic* event notifications (SQS/SNS/Lambda `Records[]`), which S3
 * documents as URL-encoded in `application/x-www-form-urlencoded` style: "red flower.jpg" arrives as
 * "red+flower.jpg" (S3 user guide, "Event message structure"). '+' is a space, %XX a UTF-8 byte.
 *
 * S3's EventBridge events ("Object Created") are a different format: the S3 EventBridge page
 * documents no encoding and its examples carry keys verbatim, so the submit-job handler uses
 * `detail.object.key` as-is (ADR 0021). This decoder exists for the classic format only.
 * A malformed escape is returned undecoded rather than throwing: the probe then fails the upload
 * with a readable reason instead of the handler crashing into its retry loop.
 */
export function decodeNotificationKey(encoded: string): string {
  const spaced = encoded.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}
