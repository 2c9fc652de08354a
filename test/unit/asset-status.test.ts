import { describe, expect, it } from 'vitest';
import {
  type AssetHead,
  applyHeadChange,
  canAdvance,
  manifestPaths,
  newRevision,
  nextHead,
  playableRevision,
  REVISION_STATUSES,
  renditionsFromOutputGroups,
  revisionEvent,
  revisionStatusForJobStatus,
  statusesBefore,
} from '../../core/asset-status';

const R1 = '20240514-092107-0066432b73a1c2d9e4000000';
const R2 = '20240515-080000-00664471a0b0c0d0e1000000';
const R3 = '20240516-080000-006645c32040506070000000';
const NOW = '2024-05-16T10:00:00.000Z';

describe('the forward-only state machine', () => {
  it('orders SUBMITTED < PROGRESSING < READY|FAILED|CANCELED after the pre-submit RECEIVED', () => {
    expect(canAdvance('RECEIVED', 'SUBMITTED')).toBe(true);
    expect(canAdvance('SUBMITTED', 'PROGRESSING')).toBe(true);
    expect(canAdvance('PROGRESSING', 'READY')).toBe(true);
    expect(canAdvance('SUBMITTED', 'FAILED')).toBe(true);
    expect(canAdvance(undefined, 'RECEIVED')).toBe(true);
  });

  it('never moves backwards, sideways between terminal states, or onto itself', () => {
    expect(canAdvance('READY', 'PROGRESSING')).toBe(false);
    expect(canAdvance('PROGRESSING', 'SUBMITTED')).toBe(false);
    expect(canAdvance('READY', 'FAILED')).toBe(false);
    expect(canAdvance('FAILED', 'READY')).toBe(false);
    expect(canAdvance('CANCELED', 'READY')).toBe(false);
    for (const status of REVISION_STATUSES) expect(canAdvance(status, status)).toBe(false);
  });

  // How the catalog table turns these into conditions: test/integration/tables-catalog.test.ts.
  it('lists the statuses a revision may be in for the next one to apply', () => {
    expect(statusesBefore('READY')).toEqual(['RECEIVED', 'SUBMITTED', 'PROGRESSING']);
    expect(statusesBefore('PROGRESSING')).toEqual(['RECEIVED', 'SUBMITTED']);
  });

  it('only lets RECEIVED be created, never reached from another status', () => {
    expect(statusesBefore('RECEIVED')).toEqual([]);
  });

  it.each([
    ['SUBMITTED', 'SUBMITTED'],
    ['PROGRESSING', 'PROGRESSING'],
    ['STATUS_UPDATE', 'PROGRESSING'],
    ['COMPLETE', 'READY'],
    ['ERROR', 'FAILED'],
    ['CANCELED', 'CANCELED'],
    ['INPUT_INFORMATION', undefined],
    ['NEW_WARNING', undefined],
    ['QUEUE_HOP', undefined],
  ])('maps MediaConvert status %s to %s', (jobStatus, expected) => {
    expect(revisionStatusForJobStatus(jobStatus)).toBe(expected);
  });
});

describe('nextHead', () => {
  const change = (revision: string, status: (typeof REVISION_STATUSES)[number], uploadedAt = '2024-05-14T09:21:07.000Z') => ({
    revision,
    status,
    uploadedAt,
    now: NOW,
  });

  it('creates the head for the first revision without a playable revision', () => {
    // Act
    const result = nextHead(undefined, change(R1, 'RECEIVED'));
    // Assess
    expect(result).toEqual({
      set: { latestRevision: R1, status: 'RECEIVED', createdAt: NOW, updatedAt: NOW, version: 1 },
      remove: [],
    });
  });

  it('makes a READY revision current when it is newer', () => {
    // Prepare
    const head: AssetHead = { assetId: 'a', latestRevision: R2, status: 'PROGRESSING', currentRevision: R1, version: 4 };
    // Act
    const result = nextHead(head, change(R2, 'READY'));
    // Assess
    expect(result?.set).toMatchObject({ status: 'READY', currentRevision: R2, version: 5 });
  });

  it('keeps the newer current revision when an older one finishes late', () => {
    // Prepare
    const head: AssetHead = { assetId: 'a', latestRevision: R2, status: 'READY', currentRevision: R2, version: 7 };
    // Act + Assess
    expect(nextHead(head, change(R1, 'READY'))).toBeNull();
  });

  it('keeps serving the current revision while a re-upload encodes or fails', () => {
    // Prepare
    const head: AssetHead = { assetId: 'a', latestRevision: R1, status: 'READY', currentRevision: R1, version: 3 };
    // Act
    const submitted = applyHeadChange('a', head, nextHead(head, change(R2, 'SUBMITTED'))!);
    const failed = applyHeadChange('a', submitted, nextHead(submitted, change(R2, 'FAILED'))!);
    // Assess
    expect(submitted).toMatchObject({ latestRevision: R2, status: 'SUBMITTED', currentRevision: R1 });
    expect(failed).toMatchObject({ latestRevision: R2, status: 'FAILED', currentRevision: R1 });
  });

  it('does not move the latest revision status backwards', () => {
    // Prepare
    const head: AssetHead = { assetId: 'a', latestRevision: R1, status: 'READY', currentRevision: R1, version: 3 };
    // Act + Assess
    expect(nextHead(head, change(R1, 'PROGRESSING'))).toBeNull();
  });

  it('never lets a revision uploaded before a takedown touch the head again', () => {
    // Prepare
    const head: AssetHead = {
      assetId: 'a',
      latestRevision: R1,
      status: 'TAKEDOWN_PENDING',
      currentRevision: R1,
      deletedAt: '2024-05-14T12:00:00.000Z',
    };
    // Act + Assess
    expect(nextHead(head, change(R1, 'READY', '2024-05-14T09:21:07.000Z'))).toBeNull();
  });

  it('revives a taken-down asset with a later upload and withdraws the deleted revision', () => {
    // Prepare
    const head: AssetHead = {
      assetId: 'a',
      latestRevision: R1,
      status: 'TAKEN_DOWN',
      currentRevision: R1,
      deletedAt: '2024-05-14T12:00:00.000Z',
      version: 5,
    };
    // Act
    const result = nextHead(head, change(R3, 'RECEIVED', '2024-05-16T08:00:00.000Z'));
    // Assess
    expect(result).toEqual({ set: { latestRevision: R3, status: 'RECEIVED', updatedAt: NOW, version: 6 }, remove: ['currentRevision'] });
  });
});

describe('playableRevision', () => {
  it('serves the current revision of a live asset', () => {
    expect(playableRevision({ assetId: 'a', status: 'PROGRESSING', currentRevision: R1, latestRevision: R2 })).toBe(R1);
  });

  it('serves nothing for an unknown asset, one without a READY revision, or a taken-down one', () => {
    expect(playableRevision(undefined)).toBeUndefined();
    expect(playableRevision({ assetId: 'a', status: 'PROGRESSING', latestRevision: R1 })).toBeUndefined();
    expect(playableRevision({ assetId: 'a', status: 'TAKEDOWN_PENDING', currentRevision: R1 })).toBeUndefined();
    expect(playableRevision({ assetId: 'a', status: 'TAKEN_DOWN', currentRevision: R1 })).toBeUndefined();
  });
});

describe('renditionsFromOutputGroups', () => {
  it('takes video and audio renditions and the duration from the CMAF group only', () => {
    // Prepare
    const groups = [
      {
        type: 'CMAF_GROUP',
        playlistFilePaths: ['s3://origin/media/big-buck/r1/main.m3u8', 's3://origin/media/big-buck/r1/main.mpd'],
        outputDetails: [
          { durationInMs: 596480, videoDetails: { widthInPx: 1920, heightInPx: 1080, averageBitrate: 5_210_000 } },
          { durationInMs: 596480, videoDetails: { widthInPx: 1280, heightInPx: 720 } },
          { durationInMs: 596501 },
        ],
      },
      { type: 'FILE_GROUP', outputDetails: [{ outputFilePaths: ['s3://origin/media/big-buck/r1/thumbs/poster.0000000.jpg'], durationInMs: 596480, videoDetails: { widthInPx: 1280, heightInPx: 720 } }] },
    ];
    // Act
    const result = renditionsFromOutputGroups(groups);
    // Assess
    expect(result).toEqual({
      renditions: [
        { type: 'video', width: 1920, height: 1080, averageBitrate: 5_210_000 },
        { type: 'video', width: 1280, height: 720 },
        { type: 'audio' },
      ],
      durationMs: 596501,
    });
  });

  it('returns no renditions when the event carries no output details', () => {
    expect(renditionsFromOutputGroups(undefined)).toEqual({ renditions: [] });
  });
});

describe('revisionEvent', () => {
  const base = newRevision({
    assetId: 'big-buck',
    revision: R1,
    uploadedAt: '2024-05-14T09:21:07.000Z',
    sourceBucket: 'uploads',
    sourceKey: 'uploads/Big Buck.mov',
    now: NOW,
  });

  it('announces a READY revision with its manifests', () => {
    // Act
    const event = revisionEvent({ ...base, status: 'READY', manifests: manifestPaths('big-buck', R1), durationMs: 1 }, true);
    // Assess
    expect(event?.DetailType).toBe('Asset Ready');
    expect(event?.Source).toBe('streaming.catalog');
    expect(JSON.parse(event!.Detail)).toMatchObject({
      assetId: 'big-buck',
      revision: R1,
      current: true,
      manifests: { hls: `media/big-buck/${R1}/main.m3u8`, dash: `media/big-buck/${R1}/main.mpd` },
    });
  });

  it('announces FAILED and CANCELED as Asset Failed with the reason', () => {
    expect(JSON.parse(revisionEvent({ ...base, status: 'FAILED', errorReason: 'the file is empty (0 bytes)' }, false)!.Detail)).toMatchObject({
      status: 'FAILED',
      reason: 'the file is empty (0 bytes)',
    });
    expect(revisionEvent({ ...base, status: 'CANCELED' }, false)?.DetailType).toBe('Asset Failed');
  });

  it('announces nothing for a revision still on its way', () => {
    expect(revisionEvent({ ...base, status: 'PROGRESSING' }, false)).toBeUndefined();
  });
});
