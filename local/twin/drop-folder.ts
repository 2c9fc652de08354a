/**
 * A watched folder that uploads what is dropped into it to `uploads/<name>` in the upload bucket, so
 * a newcomer can start an ingest without an S3 client. The upload is an ordinary PutObject: s3rver's
 * event then takes the same path as any upload (docs/catalog.md "What starts an encode"; ADR 0084).
 *
 * Files already in the folder when it starts are uploaded too: the twin's buckets and catalog live in
 * memory, so after a restart a master left in the folder would otherwise be in no catalog at all.
 * Within one run a file is uploaded once per content change (size and mtime), never twice for the
 * same bytes.
 */
import { mkdirSync, readdirSync, watch, type FSWatcher } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

export interface DropFolderOptions {
  readonly directory: string;
  readonly s3: S3Client;
  readonly bucket: string;
  /** @default 'uploads/' */
  readonly prefix?: string;
  /** A file counts as complete once its size has not changed for this long. @default 1000 */
  readonly settleMs?: number;
  /** `file` is the path in the folder, `key` the object key it was uploaded to. */
  readonly onUploaded?: (key: string, file: string) => void;
  readonly onError?: (file: string, error: unknown) => void;
}

export interface DropFolder {
  stop(): void;
}

/** Hidden and partial files (editors, browsers, `cp` into place) are not masters. */
const IGNORED = /^\.|\.(part|crdownload|tmp|swp)$|~$/i;

export function watchDropFolder(options: DropFolderOptions): DropFolder {
  const prefix = options.prefix ?? 'uploads/';
  const settleMs = options.settleMs ?? 1000;
  mkdirSync(options.directory, { recursive: true });
  const pending = new Map<string, NodeJS.Timeout>();
  const uploadedSignature = new Map<string, string>();

  const upload = async (name: string): Promise<void> => {
    const file = join(options.directory, name);
    // Open before anything else: a file removed meanwhile (renamed into place, deleted, the folder
    // cleaned up) is simply not uploaded, and once open it can be read to the end even if unlinked.
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) return;
      const signature = `${stat.size}:${stat.mtimeMs}`;
      if (uploadedSignature.get(name) === signature) return;
      uploadedSignature.set(name, signature);
      const key = `${prefix}${basename(name)}`;
      try {
        await options.s3.send(
          new PutObjectCommand({ Bucket: options.bucket, Key: key, Body: handle.createReadStream({ autoClose: false }), ContentLength: stat.size }),
        );
      } catch (error) {
        // Not uploaded: the next change to the file (or a restart) tries again.
        uploadedSignature.delete(name);
        throw error;
      }
      options.onUploaded?.(key, file);
    } finally {
      await handle.close();
    }
  };

  // fs.watch reports a burst of events while a file is written; wait until it settles.
  const schedule = (name: string) => {
    if (IGNORED.test(name)) return;
    clearTimeout(pending.get(name));
    pending.set(
      name,
      setTimeout(() => {
        pending.delete(name);
        upload(name).catch((error: unknown) => options.onError?.(name, error));
      }, settleMs),
    );
  };

  const watcher: FSWatcher = watch(options.directory, (_event, name) => {
    if (name) schedule(name.toString());
  });
  // Watch first, then list: a file written between the two is seen by both and uploaded once.
  for (const name of readdirSync(options.directory)) schedule(name);
  return {
    stop() {
      watcher.close();
      for (const timer of pending.values()) clearTimeout(timer);
      pending.clear();
    },
  };
}
