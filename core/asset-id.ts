/**
 * Asset ids and revision ids (the rules are spelled out in docs/catalog.md "Names" and decided in
 * ADR 0020).
 *
 * - The asset id is a pure function of the upload key: a content team can predict it
 *   (`uploads/Big Buck.mov` -> `big-buck`) and a re-upload of the same name lands on the same asset.
 * - The revision id is a pure function of the upload *event*: a duplicate delivery of one upload
 *   yields the same revision, a later upload a later-sorting one. Both are URL-safe path segments
 *   (`media/<assetId>/<revision>/…`, core/playback-paths.ts).
 */
import { createHash } from 'node:crypto';
import { MAX_ASSET_ID_LENGTH, UPLOAD_PREFIX } from './identifiers';

/** Characters of the name kept when a long name is shortened; the rest of the id is "-" + 8 hex digits. */
const TRUNCATED_NAME_LENGTH = MAX_ASSET_ID_LENGTH - 9;

/** The upload's name cannot become an asset id; `reason` is written to the failure event. */
export class InvalidAssetNameError extends Error {
  override readonly name = 'InvalidAssetNameError';
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** The upload event lacks what a revision id is derived from. */
export class InvalidUploadEventError extends Error {
  override readonly name = 'InvalidUploadEventError';
}

/**
 * Latin letters that Unicode does not decompose into a base letter plus marks, folded the way
 * readers transliterate them (ISO 8859-1/-2 coverage), so `Straße` becomes `strasse`, not `stra-e`.
 */
const LETTER_FOLDS: Readonly<Record<string, string>> = {
  ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', đ: 'd', ð: 'd', þ: 'th', ł: 'l', ı: 'i', ħ: 'h', ŋ: 'ng',
};

/** Lower-case, Unicode-folded, `[a-z0-9]` runs joined by single dashes; '' when nothing is left. */
export function slugify(text: string): string {
  return (
    text
      // NFKD splits accented letters into letter + combining mark and maps compatibility forms
      // (ligatures, full-width digits) to plain ones; the marks are then dropped.
      .normalize('NFKD')
      .replace(/\p{M}+/gu, '')
      .toLowerCase()
      .replace(/[ßæœøđðþłıħŋ]/g, (letter) => LETTER_FOLDS[letter] ?? letter)
      // Apostrophes join words ("Don't Look" -> "dont-look") rather than splitting them.
      .replace(/['’`]/g, '')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
  );
}

/**
 * The asset id for an upload key: the path below `uploads/` without the file's extension, folders
 * included (`uploads/trailers/Foo.mp4` -> `trailers-foo`), slugified. Ids longer than
 * MAX_ASSET_ID_LENGTH keep at most their first 55 characters (cut at a word boundary when one is
 * near) plus "-" and 8 hex digits of the full slug's SHA-256, so two long names that share a
 * beginning stay distinct.
 *
 * @throws InvalidAssetNameError when the key is not under `uploads/` or no letter or digit survives.
 */
export function assetIdFromKey(key: string): string {
  if (!key.startsWith(UPLOAD_PREFIX)) {
    throw new InvalidAssetNameError(`"${key}" is not under ${UPLOAD_PREFIX}`);
  }
  const relativePath = key.slice(UPLOAD_PREFIX.length);
  const lastSlash = relativePath.lastIndexOf('/');
  const fileName = relativePath.slice(lastSlash + 1);
  const dot = fileName.lastIndexOf('.');
  const baseName = dot > 0 ? fileName.slice(0, dot) : fileName;
  const slug = slugify(`${relativePath.slice(0, lastSlash + 1)}${baseName}`);
  if (slug === '') {
    throw new InvalidAssetNameError(
      `the name "${relativePath}" has no letters or digits that can form an asset id; rename the file using a-z or 0-9`,
    );
  }
  if (slug.length <= MAX_ASSET_ID_LENGTH) return slug;
  const digest = createHash('sha256').update(slug).digest('hex').slice(0, 8);
  const kept = slug.slice(0, TRUNCATED_NAME_LENGTH);
  // Cut at a word boundary when one is near, so the id does not end in a word fragment.
  const wordEnd = kept.lastIndexOf('-');
  return `${wordEnd >= TRUNCATED_NAME_LENGTH / 2 ? kept.slice(0, wordEnd) : kept}-${digest}`;
}

/** What identifies one upload in S3's EventBridge "Object Created" event. */
export interface UploadEventIdentity {
  /** Event `time` (ISO 8601, second resolution in S3's events). */
  readonly time: string;
  readonly key: string;
  /** `detail.object.sequencer`: hex, grows with each PUT/DELETE of the same key. */
  readonly sequencer?: string;
  readonly versionId?: string;
  readonly etag?: string;
  /** `detail.request-id` of the request that created the object. */
  readonly requestId?: string;
}

export interface UploadRevision {
  /** `YYYYMMDD-HHMMSS-<24 hex>`, e.g. `20240115-103000-0055aed6dcd90281e5000000`. */
  readonly revision: string;
  /** The event time at millisecond precision (`toISOString`), comparable with other catalog timestamps. */
  readonly uploadedAt: string;
}

/** Width the sequencer is padded to; S3's sequencers are 16–18 hex digits today. */
const SEQUENCER_WIDTH = 24;

/**
 * The revision id of one upload. The UTC event time (to the second) leads, so revisions of an
 * asset sort by upload time as plain strings. The tie-breaker is the object's `sequencer`
 * right-padded with zeros to a fixed width, which is how S3 says sequencers of one key compare
 * (S3 user guide, "Event message structure": "right pad the shorter value with zeros, and then do
 * a lexicographical comparison"). Without a sequencer, a hash of the request id, version id,
 * ETag and key keeps duplicates identical (order within that second is then arbitrary).
 *
 * @throws InvalidUploadEventError when the event time is not a date.
 */
export function revisionFromUpload(upload: UploadEventIdentity): UploadRevision {
  const at = new Date(upload.time);
  if (Number.isNaN(at.getTime())) throw new InvalidUploadEventError(`event time "${upload.time}" is not a date`);
  const iso = at.toISOString();
  const stamp = `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}`;
  const sequencer = upload.sequencer?.toLowerCase();
  const tieBreaker =
    sequencer !== undefined && /^[0-9a-f]{1,64}$/.test(sequencer)
      ? sequencer.padEnd(SEQUENCER_WIDTH, '0')
      : createHash('sha256')
          .update([upload.requestId, upload.versionId, upload.etag, upload.key].map((part) => part ?? '').join('\n'))
          .digest('hex')
          .slice(0, SEQUENCER_WIDTH);
  return { revision: `${stamp}-${tieBreaker}`, uploadedAt: iso };
}

/**
 * MediaConvert's `ClientRequestToken` for one revision: deterministic, so a CreateJob retried after
 * a crash (or by a duplicate event) returns the job already created instead of a second one.
 */
export function jobRequestToken(stackName: string, assetId: string, revision: string): string {
  return createHash('sha256').update(`${stackName}\n${assetId}\n${revision}`).digest('hex');
}
