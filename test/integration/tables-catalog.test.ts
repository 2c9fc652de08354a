import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AssetHead, newRevision, nextHead } from '../../core/asset-status';
import { newTakedownRecord } from '../../core/takedown';
import { CatalogTable } from '../../tables/catalog-table';
import { type LocalDynamoDb, startLocalDynamoDb, TABLE_SPECS } from '../support/local-dynamodb';

const TABLE = 'Assets';
const R1 = '20261202-090000-0066432b73a1c2d9e4000000';
const R2 = '20261202-100000-00664471a0b0c0d0e1000000';
const T0 = '2026-12-02T09:00:00.000Z';
const T1 = '2026-12-02T09:05:00.000Z';
const T2 = '2026-12-02T09:10:00.000Z';

/** The head change `nextHead` computes for a revision reaching `status` (never null in these tests). */
const change = (head: AssetHead | undefined, revision: string, status: 'RECEIVED' | 'READY', now: string) =>
  nextHead(head, { revision, status, uploadedAt: T0, now })!;

const upload = (assetId: string, revision = R1) =>
  newRevision({ assetId, revision, uploadedAt: T0, sourceBucket: 'uploads', sourceKey: `uploads/${assetId}.mov`, sourceSize: 1000, now: T0 });

describe('catalog table against dynalite', () => {
  let dynamo: LocalDynamoDb;
  let table: CatalogTable;
  const raw = (assetId: string, sk: string) => dynamo.documents.send(new GetCommand({ TableName: TABLE, Key: { assetId, sk } })).then((r) => r.Item);

  beforeAll(async () => {
    dynamo = await startLocalDynamoDb();
    await dynamo.createTables([TABLE_SPECS.catalog(TABLE)]);
    table = new CatalogTable(dynamo.documents, TABLE);
  });

  afterAll(async () => {
    await dynamo?.stop();
  });

  describe('revisions', () => {
    it('creates a revision once; the duplicate event finds it there and changes nothing', async () => {
      // Prepare
      const first = upload('dup');
      // Act
      const created = await table.createRevision(first);
      const again = await table.createRevision({ ...first, sourceSize: 999, updatedAt: T1 });
      // Assess
      expect([created, again]).toEqual([true, false]);
      expect(await raw('dup', `rev#${R1}`)).toEqual({ ...first, sk: `rev#${R1}` });
      expect(await table.getRevision({ assetId: 'dup', revision: R1 })).toEqual(first);
    });

    it('moves a revision only forward: repeated, late and backward transitions fail and change nothing', async () => {
      // Prepare
      const key = { assetId: 'forward', revision: R1 };
      await table.createRevision(upload('forward'));
      // Act
      const submitted = await table.advanceRevision(key, 'SUBMITTED', T1, { submittedAt: T1 }, 'job-1');
      const progressing = await table.advanceRevision(key, 'PROGRESSING', T1, {}, 'job-1');
      const repeated = await table.advanceRevision(key, 'PROGRESSING', T2, { startedAt: T2 }, 'job-1');
      const backwards = await table.advanceRevision(key, 'SUBMITTED', T2, {}, 'job-1');
      const ready = await table.advanceRevision(key, 'READY', T2, { durationMs: 1000, skipped: undefined }, 'job-1');
      const sideways = await table.advanceRevision(key, 'FAILED', T2, { errorReason: 'late' }, 'job-1');
      // Assess
      expect(submitted).toMatchObject({ status: 'SUBMITTED', submittedAt: T1, jobId: 'job-1', updatedAt: T1 });
      expect(progressing?.status).toBe('PROGRESSING');
      expect([repeated, backwards, sideways]).toEqual([undefined, undefined, undefined]);
      expect(ready).toMatchObject({ status: 'READY', durationMs: 1000, updatedAt: T2 });
      expect(ready).not.toHaveProperty('sk');
      expect(ready).not.toHaveProperty('skipped');
      const stored = await raw('forward', `rev#${R1}`);
      expect(stored).toMatchObject({ status: 'READY', durationMs: 1000 });
      expect(stored).not.toHaveProperty('errorReason');
      expect(stored).not.toHaveProperty('startedAt');
    });

    it('leaves a revision of another job alone, and never creates a revision by moving it', async () => {
      // Prepare
      const key = { assetId: 'stray', revision: R1 };
      await table.createRevision(upload('stray'));
      await table.advanceRevision(key, 'SUBMITTED', T1, {}, 'job-1');
      // Act
      const stray = await table.advanceRevision(key, 'PROGRESSING', T1, {}, 'job-2');
      const missing = await table.advanceRevision({ assetId: 'stray', revision: R2 }, 'SUBMITTED', T1, {}, 'job-1');
      // Assess
      expect([stray, missing]).toEqual([undefined, undefined]);
      expect(await raw('stray', `rev#${R1}`)).toMatchObject({ status: 'SUBMITTED', jobId: 'job-1' });
      expect(await raw('stray', `rev#${R2}`)).toBeUndefined();
    });

    it('records the terminal event once: the second mark is refused, as is a mark on a missing revision', async () => {
      // Prepare
      const key = { assetId: 'marked', revision: R1 };
      await table.createRevision(upload('marked'));
      // Act
      const first = await table.markEventPublished(key, T1);
      const second = await table.markEventPublished(key, T2);
      const missing = await table.markEventPublished({ assetId: 'marked', revision: R2 }, T1);
      // Assess
      expect([first, second, missing]).toEqual([true, false, false]);
      expect((await table.getRevision(key))?.eventPublishedAt).toBe(T1);
      expect(await raw('marked', `rev#${R2}`)).toBeUndefined();
    });

    it('counts submit attempts by compare-and-set: a stale count is refused, as is a revision past RECEIVED', async () => {
      // Prepare
      const claimed = { ...upload('attempts'), attempts: 1 };
      await table.createRevision(claimed);
      // Act
      const second = await table.countSubmitAttempt(claimed, T1);
      const stale = await table.countSubmitAttempt(claimed, T1);
      const third = await table.countSubmitAttempt(second!, T2);
      await table.advanceRevision(claimed, 'SUBMITTED', T2, {}, 'job-1');
      const afterSubmit = await table.countSubmitAttempt(third!, T2);
      // Assess
      expect([second?.attempts, stale, third?.attempts, afterSubmit]).toEqual([2, undefined, 3, undefined]);
      expect((await table.getRevision(claimed))?.attempts).toBe(3);
    });

    it('counts the first attempt of a revision written before attempts were counted', async () => {
      // Prepare
      const legacy = upload('legacy-attempts');
      await table.createRevision(legacy);
      // Act
      const counted = await table.countSubmitAttempt(legacy, T1);
      // Assess
      expect(counted?.attempts).toBe(1);
    });

    it('records the start of a submission once and only while RECEIVED', async () => {
      // Prepare
      const key = { assetId: 'submitting', revision: R1 };
      await table.createRevision(upload('submitting'));
      // Act
      const first = await table.markSubmitting(key, T1);
      const again = await table.markSubmitting(key, T2);
      await table.advanceRevision(key, 'FAILED', T2, { errorReason: 'x' });
      const late = await table.markSubmitting({ assetId: 'submitting', revision: R2 }, T2);
      // Assess
      expect([first?.submittingSince, again, late]).toEqual([T1, undefined, undefined]);
      expect((await table.getRevision(key))?.submittingSince).toBe(T1);
    });
  });

  describe('head', () => {
    it('creates the head only if there is none: a second writer from the same empty snapshot is refused', async () => {
      // Act
      const first = await table.writeHead('head-new', undefined, change(undefined, R1, 'RECEIVED', T0));
      const second = await table.writeHead('head-new', undefined, change(undefined, R2, 'RECEIVED', T1));
      // Assess
      expect([first, second]).toEqual([true, false]);
      expect(await table.getHead('head-new', { consistent: true })).toEqual({
        assetId: 'head-new',
        latestRevision: R1,
        status: 'RECEIVED',
        createdAt: T0,
        updatedAt: T0,
        version: 1,
      });
    });

    it('compare-and-sets on the fields the change was computed from, so a concurrent takedown wins', async () => {
      // Prepare
      await table.writeHead('head-race', undefined, change(undefined, R1, 'RECEIVED', T0));
      const snapshot = await table.getHead('head-race', { consistent: true });
      // Act
      const takenDown = await table.requestTakedown('head-race', newTakedownRecord(T1));
      const stale = await table.writeHead('head-race', snapshot, change(snapshot, R1, 'READY', T2));
      // Assess
      expect([takenDown, stale]).toEqual([true, false]);
      expect(await raw('head-race', 'asset')).toMatchObject({ status: 'TAKEDOWN_PENDING', deletedAt: T1, updatedAt: T1 });
      expect(await raw('head-race', 'asset')).not.toHaveProperty('currentRevision');
    });

    it('applies a change over an unchanged snapshot, setting and removing fields', async () => {
      // Prepare
      await table.writeHead('head-cas', undefined, change(undefined, R1, 'READY', T0));
      const snapshot = await table.getHead('head-cas', { consistent: true });
      // Act
      const written = await table.writeHead('head-cas', snapshot, { set: { status: 'PROGRESSING', version: 2, updatedAt: T1 }, remove: ['currentRevision'] });
      // Assess
      expect(written).toBe(true);
      const head = await table.getHead('head-cas');
      expect(head).toMatchObject({ status: 'PROGRESSING', version: 2, updatedAt: T1, latestRevision: R1 });
      expect(head).not.toHaveProperty('currentRevision');
      expect(head).not.toHaveProperty('sk');
    });

    it('takes down only an asset it knows, and creates nothing for an unknown one', async () => {
      // Act
      const unknown = await table.requestTakedown('ghost', newTakedownRecord(T1));
      // Assess
      expect(unknown).toBe(false);
      expect(await raw('ghost', 'asset')).toBeUndefined();
    });
  });

  describe('listing', () => {
    it('groups an asset partition into its head and revisions, and leaves other items out', async () => {
      // Prepare
      await table.createRevision(upload('listed', R1));
      await table.createRevision(upload('listed', R2));
      await table.writeHead('listed', undefined, change(undefined, R2, 'RECEIVED', T0));
      await dynamo.documents.send(new PutCommand({ TableName: TABLE, Item: { assetId: 'listed', sk: 'note#1', text: 'not catalog data' } }));
      // Act
      const one = await table.getAsset('listed');
      const all = await table.listAssets();
      const none = await table.getAsset('nothing-here');
      // Assess
      expect(one?.head).toMatchObject({ assetId: 'listed', latestRevision: R2 });
      expect(one?.revisions.map((r) => r.revision)).toEqual([R1, R2]);
      expect(one?.revisions.every((r) => !('sk' in r))).toBe(true);
      expect(all.find((entry) => entry.assetId === 'listed')).toEqual(one);
      expect(all.map((entry) => entry.assetId)).toEqual(expect.arrayContaining(['dup', 'forward', 'head-race', 'listed']));
      expect(none).toBeUndefined();
    });
  });
});
