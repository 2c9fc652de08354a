import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { watchDropFolder, type DropFolder } from '../../local/twin/drop-folder';

/** An S3 client that records PutObject keys and resolves at once (no network). */
function recordingS3() {
  const keys: string[] = [];
  const client = {
    send: async (command: PutObjectCommand) => {
      keys.push(command.input.Key!);
      return {};
    },
  } as unknown as S3Client;
  return { client, keys };
}

describe('twin drop folder', () => {
  const dirs: string[] = [];
  let folder: DropFolder | undefined;
  afterEach(() => {
    folder?.stop();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** Starts the watcher and resolves each time a key is uploaded, in order. */
  function start(directory: string, s3: S3Client) {
    const waiting: ((key: string) => void)[] = [];
    const arrived: string[] = [];
    folder = watchDropFolder({
      directory,
      s3,
      bucket: 'uploads',
      settleMs: 20,
      onUploaded: (key) => {
        const waiter = waiting.shift();
        if (waiter) waiter(key);
        else arrived.push(key);
      },
    });
    return () => (arrived.length > 0 ? Promise.resolve(arrived.shift()!) : new Promise<string>((resolve) => waiting.push(resolve)));
  }

  it('uploads the masters already in the folder when it starts, skipping hidden and partial files', async () => {
    // Prepare
    const directory = mkdtempSync(join(tmpdir(), 'twin-drop-'));
    dirs.push(directory);
    writeFileSync(join(directory, 'My Film.mp4'), 'film');
    writeFileSync(join(directory, '.DS_Store'), 'finder');
    writeFileSync(join(directory, 'Trailer.mov.part'), 'half');
    const s3 = recordingS3();
    // Act
    const next = start(directory, s3.client);
    const first = await next();
    // A later file is the marker that every earlier timer has run.
    writeFileSync(join(directory, 'marker.mp4'), 'marker');
    const second = await next();
    // Assess
    expect(first).toBe('uploads/My Film.mp4');
    expect(second).toBe('uploads/marker.mp4');
    expect(s3.keys).toEqual(['uploads/My Film.mp4', 'uploads/marker.mp4']);
  });

  it('uploads a file once per content: a metadata change does not upload it again, new bytes do', async () => {
    // Prepare
    const directory = mkdtempSync(join(tmpdir(), 'twin-drop-'));
    dirs.push(directory);
    const s3 = recordingS3();
    const next = start(directory, s3.client);
    const film = join(directory, 'film.mp4');
    writeFileSync(film, 'take 1');
    await next();
    // Act
    chmodSync(film, 0o600);
    writeFileSync(join(directory, 'marker-1.mp4'), 'marker');
    await next();
    writeFileSync(film, 'take 2, longer');
    const reupload = await next();
    // Assess
    expect(reupload).toBe('uploads/film.mp4');
    expect(s3.keys).toEqual(['uploads/film.mp4', 'uploads/marker-1.mp4', 'uploads/film.mp4']);
  });
});
