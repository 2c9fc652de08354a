import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newRevision, nextHead } from '../../core/asset-status';
import { newTakedownRecord } from '../../core/takedown';
import { CatalogTable } from '../../tables/catalog-table';
import { type LocalDynamoDb, startLocalDynamoDb, TABLE_SPECS } from '../support/local-dynamodb';

const TABLE = 'Assets';
const R1 = '20261202-090000-0066432b73a1c2d9e4000000';
const T0 = '2026-12-02T09:00:00.000Z';
const T1 = '2026-12-02T09:05:00.000Z';
const T2 = '2026-12-02T09:10:00.000Z';
const LEASE = '2026-12-02T09:15:00.000Z';

describe('catalog table: takedown records against dynalite (ADR 0011)', () => {
  let dynamo: LocalDynamoDb;
  let table: CatalogTable;
  const head = (assetId: string) => dynamo.documents.send(new GetCommand({ TableName: TABLE, Key: { assetId, sk: 'asset' } })).then((r) => r.Item);

  /** A READY asset, as ingest leaves it. */
  async function readyAsset(assetId: string): Promise<void> {
    await table.createRevision({ ...newRevision({ assetId, revision: R1, uploadedAt: T0, sourceBucket: 'u', sourceKey: `uploads/${assetId}.mov`, now: T0 }), status: 'READY' });
    await table.writeHead(assetId, undefined, nextHead(undefined, { revision: R1, status: 'READY', uploadedAt: T0, now: T0 })!);
  }

  beforeAll(async () => {
    dynamo = await startLocalDynamoDb();
    await dynamo.createTables([TABLE_SPECS.catalog(TABLE)]);
    table = new CatalogTable(dynamo.documents, TABLE);
  });
  afterAll(async () => {
    await dynamo?.stop();
  });

  it('starts a takedown once: pending head, cutoff and record; a second request and an unknown asset change nothing', async () => {
    // Prepare
    await readyAsset('once');
    // Act
    const first = await table.requestTakedown('once', newTakedownRecord(T1));
    const second = await table.requestTakedown('once', newTakedownRecord(T2));
    const unknown = await table.requestTakedown('ghost', newTakedownRecord(T1));
    // Assess
    expect([first, second, unknown]).toEqual([true, false, false]);
    expect(await head('once')).toMatchObject({
      status: 'TAKEDOWN_PENDING',
      deletedAt: T1,
      updatedAt: T1,
      currentRevision: R1,
      takedown: { requestedAt: T1, status: 'PENDING', attempts: 0, deletedObjects: 0, invalidations: {} },
    });
    expect(await head('ghost')).toBeUndefined();
  });

  it('lets one worker hold a takedown until its lease runs out, counting attempts', async () => {
    // Prepare
    await readyAsset('lease');
    await table.requestTakedown('lease', newTakedownRecord(T1));
    // Act
    const first = await table.claimTakedown('lease', T1, T1, LEASE);
    const whileHeld = await table.claimTakedown('lease', T1, T2, LEASE);
    const otherTakedown = await table.claimTakedown('lease', T0, '2026-12-02T09:20:00.000Z', '2026-12-02T09:25:00.000Z');
    const afterExpiry = await table.claimTakedown('lease', T1, '2026-12-02T09:20:00.000Z', '2026-12-02T09:25:00.000Z');
    // Assess
    expect(first).toMatchObject({ attempts: 1, leaseUntil: LEASE });
    expect(whileHeld).toBeUndefined();
    expect(otherTakedown).toBeUndefined();
    expect(afterExpiry).toMatchObject({ attempts: 2, leaseUntil: '2026-12-02T09:25:00.000Z' });
  });

  it('records each step, a failure that frees the takedown for the retry, and the end on head and record', async () => {
    // Prepare
    await readyAsset('steps');
    await table.requestTakedown('steps', newTakedownRecord(T1));
    await table.claimTakedown('steps', T1, T1, LEASE);
    // Act
    await table.recordJobsSettled('steps', T1, ['job-2'], T1);
    await table.addDeletedObjects('steps', T1, 1000);
    await table.addDeletedObjects('steps', T1, 7);
    await table.recordObjectsDeleted('steps', T1, T1);
    await table.recordInvalidation('steps', T1, 'E2ABCDEF', 'I1');
    await table.recordTakedownFailure('steps', T1, 'Throttling', T2);
    const failed = await head('steps');
    const retried = await table.claimTakedown('steps', T1, T2, LEASE);
    await table.recordInvalidation('steps', T1, 'cf-b', 'I2');
    const completed = await table.completeTakedown('steps', T1, T2);
    // Assess
    expect(failed).toMatchObject({ takedown: { lastError: { at: T2, message: 'Throttling' } } });
    expect(failed!.takedown).not.toHaveProperty('leaseUntil');
    expect(retried).toMatchObject({ attempts: 2, deletedObjects: 1007 });
    expect(completed).toBe(true);
    const done = await head('steps');
    expect(done).toMatchObject({
      status: 'TAKEN_DOWN',
      updatedAt: T2,
      takedown: {
        status: 'TAKEN_DOWN',
        completedAt: T2,
        attempts: 2,
        canceledJobs: ['job-2'],
        jobsSettledAt: T1,
        deletedObjects: 1007,
        objectsDeletedAt: T1,
        invalidations: { E2ABCDEF: 'I1', 'cf-b': 'I2' },
      },
    });
    expect(done!.takedown).not.toHaveProperty('lastError');
    expect(done!.takedown).not.toHaveProperty('leaseUntil');
    expect(await table.claimTakedown('steps', T1, '2026-12-02T10:00:00.000Z', '2026-12-02T10:05:00.000Z')).toBeUndefined();
  });

  it('completes only the record when an upload after the request revived the asset, and refuses writes of a replaced takedown', async () => {
    // Prepare: a takedown, then an upload after it revives the asset, then a second takedown replaces the first.
    await readyAsset('revived');
    await table.requestTakedown('revived', newTakedownRecord(T1));
    const snapshot = await table.getHead('revived', { consistent: true });
    await table.writeHead('revived', snapshot, nextHead(snapshot, { revision: '20261202-091000-0066432b73a1c2d9e4111111', status: 'RECEIVED', uploadedAt: T2, now: T2 })!);
    // Act
    const completed = await table.completeTakedown('revived', T1, T2);
    const afterRevival = await head('revived');
    await table.requestTakedown('revived', newTakedownRecord('2026-12-02T09:30:00.000Z'));
    const staleWrite = await table.recordInvalidation('revived', T1, 'cf-a', 'I-old');
    // Assess
    expect(completed).toBe(true);
    expect(afterRevival).toMatchObject({ status: 'RECEIVED', takedown: { status: 'TAKEN_DOWN', requestedAt: T1 } });
    expect(staleWrite).toBe(false);
    expect(await head('revived')).toMatchObject({ status: 'TAKEDOWN_PENDING', takedown: { requestedAt: '2026-12-02T09:30:00.000Z', invalidations: {} } });
  });
});
