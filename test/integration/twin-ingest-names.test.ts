import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASSET_FAILED, ASSET_READY } from '../../core/identifiers';
import { startTwinIngest, type TwinIngest } from './twin-ingest-pipeline';
import { makeTestMaster } from './twin-media-fixtures';

/**
 * The ingest path of the twin with real servers and the real handlers: s3rver's upload → the bus's
 * S3 "Object Created" event (key URL-encoded as S3 writes it) → submit-job → the ffmpeg MediaConvert
 * stand-in → job-status → catalog. Names that S3 encodes must reach the asset id a content team
 * expects and play (ADR 0023).
 */
describe('twin ingest of file names S3 encodes', () => {
  let twin: TwinIngest;
  const workDir = mkdtempSync(join(tmpdir(), 'twin-names-'));
  const master = () => readFileSync(join(workDir, 'master.mp4'));

  beforeAll(async () => {
    twin = await startTwinIngest('names');
    makeTestMaster(join(workDir, 'master.mp4'));
  });

  afterAll(async () => {
    await twin?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  it.each([
    ['uploads/My Movie (Final) + été.mov', 'my-movie-final-ete'],
    ['uploads/Season 2/C++ 100% [Director’s Cut].mp4', 'season-2-c-100-directors-cut'],
  ])('encodes %j into asset %j and makes it READY', async (key, assetId) => {
    // Act
    const outcome = await twin.ingest(key, master());
    // Assess
    expect(outcome).toMatchObject({ outcome: 'submitted', assetId });
    const entry = await twin.catalog.getAsset(assetId);
    expect(entry?.head).toMatchObject({ status: 'READY' });
    expect(entry?.revisions).toEqual([expect.objectContaining({ status: 'READY', sourceKey: key })]);
    expect(twin.catalogEventsOf(assetId)).toEqual([ASSET_READY]);
  });

  it('fails a name with a line break with a reason and an Asset Failed event, and submits nothing', async () => {
    // Act
    const outcome = await twin.ingest('uploads/Two\nLines.mov', master());
    // Assess
    expect(outcome).toMatchObject({ outcome: 'failed', assetId: 'two-lines', reason: expect.stringContaining('U+000A') });
    const entry = await twin.catalog.getAsset('two-lines');
    expect(entry?.revisions).toEqual([expect.objectContaining({ status: 'FAILED', errorCode: 'INVALID_NAME' })]);
    expect(twin.catalogEventsOf('two-lines')).toEqual([ASSET_FAILED]);
  });
});
