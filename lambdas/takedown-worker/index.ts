import { CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CancelJobCommand, GetJobCommand, MediaConvertClient, NotFoundException } from '@aws-sdk/client-mediaconvert';
import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TakedownRecord } from '../../core/asset-status';
import { mediaPrefixOf } from '../../core/identifiers';
import {
  assetRemovedEvent,
  distributionsToInvalidate,
  invalidationCallerReference,
  invalidationPaths,
  isJobFinished,
  jobsToCancel,
  originKeyFilter,
  parseTakedownRequested,
  TAKEDOWN_WORKER_TIMEOUT_SECONDS,
} from '../../core/takedown';
import { CatalogTable } from '../../tables/catalog-table';
import { publishCatalogEvent } from '../shared/catalog-writer';
import { lambdaHandler, logger, tracer } from '../shared/powertools';
import { takedownWorkerConfig } from './config';

export interface TakedownWorkerDeps {
  readonly documents: DynamoDBDocumentClient;
  readonly s3: S3Client;
  readonly cloudfront: CloudFrontClient;
  readonly mediaconvert: MediaConvertClient;
  readonly events: EventBridgeClient;
  readonly assetsTableName: string;
  readonly originBucketName: string;
  readonly distributionIds: readonly string[];
  readonly eventBusName: string;
  readonly now?: () => Date;
  /** Waits between looks at a cancelled job that has not ended yet. @default setTimeout */
  readonly pause?: (ms: number) => Promise<void>;
}

/** A cancelled job still runs after the worker's looks; the attempt fails and the retry looks again. */
export class JobStillRunningError extends Error {
  override readonly name = 'JobStillRunningError';
}

/** S3 refused to delete some keys (DeleteObjects reports them in its body, not as an exception). */
export class ObjectsNotDeletedError extends Error {
  override readonly name = 'ObjectsNotDeletedError';
}

/**
 * How long a cancelled job gets to end before the attempt gives up: MediaConvert ends a job shortly
 * after CancelJob, and until it has ended it may still write outputs under `media/`.
 */
const JOB_END_LOOKS = 10;
const JOB_END_PAUSE_MS = 2_000;

/** The takedown was replaced by a newer one (or finished by another worker) while this one worked. */
class TakedownGoneError extends Error {}

/**
 * The takedown worker (ADR 0011): runs the takedown an `Asset Takedown Requested` event names, in an
 * order that never exposes anything: (1) cancel the asset's MediaConvert jobs still running, so none
 * writes after (2) every origin object under `media/<assetId>/` is deleted, then (3) one invalidation
 * of `/media/<assetId>/*` per distribution, then `Asset Removed` and the catalog's TAKEN_DOWN. Each
 * step is recorded when it is done and skipped by a later attempt, so a failed attempt is finished
 * by the retry (Lambda's asynchronous retries, or the next DELETE) without repeating finished work.
 * A worker holds the takedown with a lease, so two deliveries of the request never work at once.
 */
export function createTakedownWorker(deps: TakedownWorkerDeps) {
  const now = deps.now ?? (() => new Date());
  const pause = deps.pause ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const catalog = new CatalogTable(deps.documents, deps.assetsTableName);

  /** Runs one recorded step; a write refused because the takedown is no longer this one stops the attempt. */
  const recorded = async (written: Promise<boolean>): Promise<void> => {
    if (!(await written)) throw new TakedownGoneError();
  };

  async function settleJobs(assetId: string, requestedAt: string): Promise<string[]> {
    const entry = await catalog.getAsset(assetId);
    const canceled: string[] = [];
    for (const jobId of jobsToCancel(entry?.revisions ?? [], requestedAt)) {
      if (await cancelJob(jobId)) canceled.push(jobId);
      await waitUntilEnded(jobId);
    }
    return canceled;
  }

  /** True when this call cancelled the job; false when it had ended already (or MediaConvert no longer knows it). */
  async function cancelJob(jobId: string): Promise<boolean> {
    try {
      await deps.mediaconvert.send(new CancelJobCommand({ Id: jobId }));
      return true;
    } catch (error) {
      if (error instanceof NotFoundException) return false;
      // MediaConvert refuses to cancel a job that has ended (BadRequest/Conflict): fine if it has.
      const job = await jobStatus(jobId);
      if (job === undefined || isJobFinished(job)) return false;
      throw error;
    }
  }

  async function jobStatus(jobId: string): Promise<string | undefined> {
    try {
      return (await deps.mediaconvert.send(new GetJobCommand({ Id: jobId }))).Job?.Status;
    } catch (error) {
      if (error instanceof NotFoundException) return undefined;
      throw error;
    }
  }

  async function waitUntilEnded(jobId: string): Promise<void> {
    for (let look = 0; look < JOB_END_LOOKS; look++) {
      const status = await jobStatus(jobId);
      if (status === undefined || isJobFinished(status)) return;
      await pause(JOB_END_PAUSE_MS);
    }
    throw new JobStillRunningError(`MediaConvert job ${jobId} has not ended ${(JOB_END_LOOKS * JOB_END_PAUSE_MS) / 1000} s after CancelJob`);
  }

  async function deleteOrigin(assetId: string, requestedAt: string): Promise<void> {
    const entry = await catalog.getAsset(assetId);
    const deletable = originKeyFilter(assetId, entry?.revisions ?? [], requestedAt);
    const prefix = mediaPrefixOf(assetId);
    let continuationToken: string | undefined;
    do {
      const page = await deps.s3.send(
        new ListObjectsV2Command({ Bucket: deps.originBucketName, Prefix: prefix, ContinuationToken: continuationToken }),
      );
      // ListObjectsV2 pages hold at most 1,000 keys, which is also DeleteObjects' limit.
      const keys = (page.Contents ?? []).map((o) => o.Key!).filter(deletable);
      if (keys.length > 0) {
        const result = await deps.s3.send(
          new DeleteObjectsCommand({ Bucket: deps.originBucketName, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }),
        );
        if (result.Errors && result.Errors.length > 0) {
          const first = result.Errors[0]!;
          throw new ObjectsNotDeletedError(`could not delete ${result.Errors.length} objects under ${prefix}, first: ${first.Key} ${first.Code}`);
        }
        await recorded(catalog.addDeletedObjects(assetId, requestedAt, keys.length));
      }
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken);
  }

  async function invalidate(assetId: string, record: TakedownRecord): Promise<void> {
    for (const distributionId of distributionsToInvalidate(deps.distributionIds, record)) {
      const paths = invalidationPaths(assetId);
      const { Invalidation } = await deps.cloudfront.send(
        new CreateInvalidationCommand({
          DistributionId: distributionId,
          InvalidationBatch: { CallerReference: invalidationCallerReference(assetId, record.requestedAt), Paths: { Quantity: paths.length, Items: paths } },
        }),
      );
      if (!Invalidation?.Id) throw new Error(`CloudFront created no invalidation on ${distributionId}`);
      await recorded(catalog.recordInvalidation(assetId, record.requestedAt, distributionId, Invalidation.Id));
    }
  }

  async function run(assetId: string, requestedAt: string, claimed: TakedownRecord): Promise<void> {
    if (claimed.jobsSettledAt === undefined) {
      const canceled = await settleJobs(assetId, requestedAt);
      await recorded(catalog.recordJobsSettled(assetId, requestedAt, canceled, now().toISOString()));
      if (canceled.length > 0) logger.info('cancelled running jobs', { assetId, canceled });
    }
    if (claimed.objectsDeletedAt === undefined) {
      await deleteOrigin(assetId, requestedAt);
      await recorded(catalog.recordObjectsDeleted(assetId, requestedAt, now().toISOString()));
    }
    await invalidate(assetId, claimed);
    // The event carries the final counts: read them back (the steps above wrote them).
    const record = (await catalog.getHead(assetId, { consistent: true }))?.takedown;
    if (record?.requestedAt !== requestedAt) throw new TakedownGoneError();
    await publishCatalogEvent(deps.events, deps.eventBusName, assetRemovedEvent(assetId, record));
    await recorded(catalog.completeTakedown(assetId, requestedAt, now().toISOString()));
    logger.info('asset taken down', { assetId, requestedAt, deletedObjects: record.deletedObjects, invalidations: record.invalidations });
  }

  // The event is EventBridge's envelope; only its detail is read, and checked, since anything may arrive.
  return async (event: unknown): Promise<void> => {
    const detail = (event as { detail?: unknown } | null)?.detail;
    const request = parseTakedownRequested(detail);
    // Not a request this worker can act on: retrying would not change that.
    if (!request) return void logger.error('not an Asset Takedown Requested detail; ignored', { detail });
    const { assetId, requestedAt } = request;
    const at = now();
    const leaseUntil = new Date(at.getTime() + TAKEDOWN_WORKER_TIMEOUT_SECONDS * 1000).toISOString();
    const claimed = await catalog.claimTakedown(assetId, requestedAt, at.toISOString(), leaseUntil);
    if (!claimed) return void logger.info('takedown is done, replaced, or held by another worker; nothing to do', { assetId, requestedAt });
    try {
      await run(assetId, requestedAt, claimed);
    } catch (error) {
      if (error instanceof TakedownGoneError) return void logger.info('takedown was replaced while it ran; stopped', { assetId, requestedAt });
      const message = (error as Error)?.message ?? String(error);
      await catalog
        .recordTakedownFailure(assetId, requestedAt, message, now().toISOString())
        .catch((recordError: unknown) => logger.error('could not record the failed attempt', { assetId, error: recordError as Error }));
      throw error;
    }
  };
}

const clients = {
  documents: DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({}))),
  s3: tracer.captureAWSv3Client(new S3Client({})),
  cloudfront: tracer.captureAWSv3Client(new CloudFrontClient({})),
  mediaconvert: tracer.captureAWSv3Client(new MediaConvertClient({})),
  events: tracer.captureAWSv3Client(new EventBridgeClient({})),
};

export const handler = lambdaHandler<unknown, void>(() =>
  createTakedownWorker({ ...clients, ...takedownWorkerConfig.decode(process.env) }),
);
