/**
 * Which uploaded objects are masters (docs/catalog.md "What starts an encode", ADR 0021).
 *
 * Content teams drop masters under `uploads/`, often with the files that travel with them
 * (captions, checksums, delivery notes, posters). Only masters start an encode; everything else is
 * ignored with a reason the handler logs. A non-video file that is *not* on the sidecar list is
 * still a master candidate on purpose: the probe then fails it with a readable reason and an
 * `Asset Failed` event, so nothing is dropped silently.
 *
 * Keys arrive URL-encoded in S3's events; `notificationKeyCandidates` lists what an event key can
 * stand for and the handler asks S3 which one exists (ADR 0023). `unusableKeyReason` says which
 * names are refused outright.
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
 * Classifies an object key exactly as stored in S3 (already decoded, see `notificationKeyCandidates`).
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
 * The object key S3 names in a notification, as S3 writes it: URL-encoded in
 * `application/x-www-form-urlencoded` style — "red flower.jpg" arrives as "red+flower.jpg" (S3 user
 * guide, "Event message structure"), UTF-8 bytes and reserved characters as %XX. The `/` between
 * folders stays literal: EventBridge rules match `detail.object.key` with `prefix: "uploads/"`, which
 * would never fire if S3 encoded it. The twin's S3 event stand-in (local/event-bus.ts) encodes with
 * this, so the twin runs the decoding path the cloud runs (ADR 0023).
 */
export function encodeNotificationKey(key: string): string {
  // S3 keys are UTF-8, so a lone surrogate cannot come from S3; it is replaced rather than thrown on.
  return encodeURIComponent(key.replace(/\p{Cs}/gu, '\uFFFD'))
    .replace(/[!'()*~]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+')
    .replace(/%2F/g, '/');
}

/**
 * Decodes the form encoding of S3 notification keys: '+' is a space, %XX a UTF-8 byte. A malformed
 * escape (a literal "%" S3 did not encode) is returned undecoded rather than throwing.
 */
export function decodeNotificationKey(encoded: string): string {
  return strictDecode(encoded.replace(/\+/g, ' ')) ?? encoded.replace(/\+/g, ' ');
}

function strictDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/**
 * The keys an event's `detail.object.key` can stand for, most likely first, without duplicates:
 *
 * 1. the form-decoded key — what S3 documents for its notifications, and what Powertools for AWS
 *    Lambda (Python, `S3EventBridgeNotificationObject.key`) and OpenSearch Data Prepper apply to the
 *    EventBridge "Object Created" event;
 * 2. the percent-decoded key with '+' kept — reported for EventBridge events by one AWS sample
 *    (spaces as %20, a literal '+' left as is), and what a %20-encoding emulator sends;
 * 3. the key verbatim — what the S3 EventBridge page's own examples show (plain keys) and what this
 *    platform assumed before ADR 0023.
 *
 * A malformed escape rules the decoded forms out (S3 encodes '%' itself as %25). The handler asks
 * S3 which of these exists (ADR 0023); only a key that exists becomes an asset.
 */
export function notificationKeyCandidates(eventKey: string): string[] {
  const candidates = [strictDecode(eventKey.replace(/\+/g, ' ')), strictDecode(eventKey), eventKey];
  return [...new Set(candidates.filter((key): key is string => key !== undefined))];
}

/** S3's limit on a key: 1,024 bytes of UTF-8 (S3 user guide, "Naming Amazon S3 objects"). */
const MAX_KEY_BYTES = 1024;

/**
 * C0 and C1 control characters (U+0000–U+001F, U+007F–U+009F) and the Unicode line and paragraph
 * separators (U+2028, U+2029). S3 stores them (its naming guidelines list ASCII 0–31 and 127 among
 * the characters that "might require special handling"), but they end lines in logs, manifests and
 * the `s3://` URLs MediaConvert is given, so such a name is refused with a reason, not encoded.
 */
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;

/** Why `key` cannot be the name of a master; undefined when it can. */
export function unusableKeyReason(key: string): string | undefined {
  const control = CONTROL_CHARACTERS.exec(key);
  if (control) {
    const codePoint = `U+${control[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    return `the name contains a control or line-break character (${codePoint}); rename the file without it`;
  }
  const bytes = new TextEncoder().encode(key).length;
  if (bytes > MAX_KEY_BYTES) return `the name is ${bytes} bytes long, more than S3's ${MAX_KEY_BYTES}-byte limit for a key`;
  return undefined;
}
