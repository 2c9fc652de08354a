/**
 * submit-job: S3 "Object Created" (EventBridge) under `uploads/` → probe → ladder → MediaConvert job
 * (docs/architecture.md#ingest-and-encode; docs/catalog.md walks through the states).
 *
 * - Keys: the event's key is URL-encoded; the handler asks S3 which decoding names an object
 *   (HeadObject) and encodes that one (ADR 0023).
 * - One job per revision: the revision is claimed (RECEIVED) before anything is submitted, the moment
 *   CreateJob is first attempted is recorded, and a retry after that looks the job up (ListJobs)
 *   before creating one; `ClientRequestToken` covers the first minute (ADR 0024).
 * - Failure policy: a bad upload (unusable name, missing, empty, unreadable, not video, unsupported)
 *   is a *result*: the revision becomes FAILED with a reason, an `Asset Failed` event goes out and the
 *   invocation succeeds. Transient errors (throttling, 5xx, network) throw, so Lambda's asynchronous
 *   retries run the event again; the last attempt fails the revision with the error as its reason
 *   instead of throwing, so no revision stays RECEIVED (ADR 0025). Every step is safe to repeat.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CreateJobCommand, type Job, ListJobsCommand, MediaConvertClient, ProbeCommand } from '@aws-sdk/client-mediaconvert';
import { HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3EventNotificationEventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/s3';
import { z } from 'zod';
import { assetIdFromKey, InvalidAssetNameError, jobRequestToken, revisionFromUpload } from '../../core/asset-id';
import { newRevision, rejectedUploadEvent, type Revision } from '../../core/asset-status';
import { LADDERS, planLadder, UnsupportedSourceError } from '../../core/ladder';
import type { DynamicRange } from '../../core/media-types';
import { buildCreateJobRequest, InvalidJobContextError } from '../../core/mediaconvert-job';
import { sourceInfoFromProbe, UnreadableSourceError } from '../../core/probe';
import { planSubtitles, type SubtitleSidecar, subtitleSidecarOf } from '../../core/renditions';
import { classifyUploadKey, notificationKeyCandidates, unusableKeyReason } from '../../core/upload-key';
import { CatalogTable } from '../../tables/catalog-table';
import { lambdaHandler, logger, tracer } from '../shared/powertools';
import { CatalogWriter } from '../shared/catalog-writer';
import { MEDIACONVERT_QUEUE_NAME, type SubmitJobConfig, submitJobConfig } from './config';
import { classifyServiceError, describeError, isLastAttempt, permanentErrorCode } from './failure-policy';
import { mediaPrefixOf } from '../../core/identifiers';

export interface SubmitJobDeps {
  readonly documents: DynamoDBDocumentClient;
  readonly mediaConvert: MediaConvertClient;
  readonly events: EventBridgeClient;
  readonly s3: S3Client;
  readonly config: SubmitJobConfig;
  readonly now?: () => Date;
}

/**
 * The fields used from S3's EventBridge "Object Created" event (S3 user guide, "EventBridge event
 * message structure"). `detail.object.key` is URL-encoded (ADR 0023).
 */
const objectCreatedEventSchema = S3EventNotificationEventBridgeSchema.extend({
  'detail-type': z.literal('Object Created'),
  // Powertools types this as IPv4, but S3 also reports IPv6 clients and service principals here; it is unused.
  detail: S3EventNotificationEventBridgeSchema.shape.detail.extend({ 'source-ip-address': z.string().optional() }),
});

/** An event the ingest rule should never deliver. Thrown, not ignored: retries then the DLQ keep it visible. */
export class MalformedUploadEventError extends Error {
  override readonly name = 'MalformedUploadEventError';
}

export type SubmitOutcome =
  | { readonly outcome: 'ignored'; readonly reason: string }
  | { readonly outcome: 'duplicate'; readonly assetId: string; readonly revision: string; readonly status: string }
  | { readonly outcome: 'submitted'; readonly assetId: string; readonly revision: string; readonly jobId: string }
  | { readonly outcome: 'failed'; readonly assetId?: string; readonly revision?: string; readonly reason: string };

/**
 * How far before the recorded start of a submission a retry looks for the job it may have created:
 * the recorded time is the handler's clock, `CreatedAt` MediaConvert's.
 */
const CLOCK_SKEW_MS = 60_000;

/** The upload cannot become an encode; `code` goes to the catalog and the `Asset Failed` event. */
class BadUploadError extends Error {
  constructor(
    readonly reason: string,
    readonly code: string,
  ) {
    super(reason);
  }
}

/** Another delivery of the same upload moved the revision past RECEIVED while this one was probing. */
class RevisionMovedOnError extends Error {
  constructor(readonly status: string) {
    super(`the revision is already ${status}`);
  }
}

/** Where an event's key was found in the bucket (ADR 0023). */
type ResolvedKey =
  | { readonly found: true; readonly key: string }
  | { readonly found: false; readonly reason: string; readonly code: string };

export function createSubmitJobHandler(deps: SubmitJobDeps) {
  const now = deps.now ?? (() => new Date());
  const { config } = deps;
  const table = new CatalogTable(deps.documents, config.assetsTableName);
  const catalog = new CatalogWriter(table, deps.events, config.eventBusName, now);

  async function fail(item: Revision, reason: string, code: string): Promise<SubmitOutcome> {
    const failed =
      (await table.advanceRevision(item, 'FAILED', now().toISOString(), { errorReason: reason, errorCode: code })) ??
      (await table.getRevision(item));
    if (failed) await catalog.finishTerminal(failed);
    logger.warn('upload failed', { assetId: item.assetId, revision: item.revision, reason, code });
    return { outcome: 'failed', assetId: item.assetId, revision: item.revision, reason };
  }

  /**
   * Which of the event key's readings names an object (HeadObject, most likely first). An object
   * whose ETag matches the event's wins over one that merely exists, so a key whose decoded and raw
   * forms both exist picks the one this event is about. 404 moves on; 403 and anything permanent
   * end the upload; transient errors throw.
   */
  async function resolveKey(bucket: string, candidates: readonly string[], etag: string | undefined): Promise<ResolvedKey> {
    let existing: string | undefined;
    for (const key of candidates) {
      // A reading with a control character or over S3's length limit cannot be the object (S3 would answer 400).
      if (unusableKeyReason(key) !== undefined) continue;
      try {
        const head = await deps.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        if (etag === undefined || head.ETag?.replace(/"/g, '') === etag) return { found: true, key };
        existing ??= key;
      } catch (error) {
        if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) continue;
        if (classifyServiceError(error) === 'transient') throw error;
        return { found: false, reason: `S3 refused to read the file: ${describeError(error)}`, code: permanentErrorCode(error, 'UNREADABLE') };
      }
    }
    if (existing !== undefined) return { found: true, key: existing };
    return { found: false, reason: 'the file is no longer in the bucket (deleted or renamed before it was processed)', code: 'SOURCE_MISSING' };
  }

  /**
   * Caption and subtitle files next to the master, `<name>.<lang>[.cc].<vtt|srt|scc>` (ADR 0018):
   * one ListObjectsV2 on the master's name as prefix. They must be uploaded before the master.
   */
  async function findSidecars(bucket: string, masterKey: string): Promise<SubtitleSidecar[]> {
    const prefix = `${masterKey.replace(/\.[^./]*$/, '')}.`;
    const found: SubtitleSidecar[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await deps.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken }));
      for (const object of page.Contents ?? []) {
        const sidecar = object.Key === undefined ? undefined : subtitleSidecarOf(masterKey, object.Key);
        if (sidecar) found.push(sidecar);
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    return found;
  }

  /** A job MediaConvert already has for this revision, created at or after `since` (ADR 0024). */
  async function findJob(item: Revision, token: string, since: number): Promise<string | undefined> {
    const ours = (job: Job) =>
      job.ClientRequestToken === token ||
      (job.UserMetadata?.stack === config.stackName && job.UserMetadata?.assetId === item.assetId && job.UserMetadata?.revision === item.revision);
    let NextToken: string | undefined;
    do {
      const page = await deps.mediaConvert.send(new ListJobsCommand({ Queue: MEDIACONVERT_QUEUE_NAME, Order: 'DESCENDING', MaxResults: 20, NextToken }));
      for (const job of page.Jobs ?? []) {
        if (ours(job) && job.Id) return job.Id;
        // Newest first: once past the window, every older job predates this revision's submission.
        if (job.CreatedAt !== undefined && job.CreatedAt.getTime() < since) return undefined;
      }
      NextToken = page.NextToken;
    } while (NextToken);
    return undefined;
  }

  /** Runs one MediaConvert (or S3) step; a permanent refusal becomes a BadUploadError with `code`. */
  async function mediaConvertStep<T>(step: () => Promise<T>, what: string, code: string): Promise<T> {
    try {
      return await step();
    } catch (error) {
      if (error instanceof BadUploadError || classifyServiceError(error) === 'transient') throw error;
      throw new BadUploadError(`${what}: ${describeError(error)}`, permanentErrorCode(error, code));
    }
  }

  /** The job's id and, when this attempt planned it, the source's dynamic range for the catalog (ADR 0015). */
  async function submit(item: Revision): Promise<{ jobId: string; dynamicRange?: DynamicRange }> {
    const token = jobRequestToken(config.stackName, item.assetId, item.revision);
    if (item.submittingSince !== undefined) {
      // An earlier attempt went on to CreateJob and did not record a job: it may have created one.
      const since = Date.parse(item.submittingSince) - CLOCK_SKEW_MS;
      const existing = await mediaConvertStep(() => findJob(item, token, since), 'MediaConvert refused to list jobs', 'JOB_REJECTED');
      if (existing) {
        logger.info('found the job an earlier attempt created', { assetId: item.assetId, revision: item.revision, jobId: existing });
        return { jobId: existing };
      }
    }
    const inputS3Uri = `s3://${item.sourceBucket}/${item.sourceKey}`;
    const { ProbeResults } = await mediaConvertStep(
      () => deps.mediaConvert.send(new ProbeCommand({ InputFiles: [{ FileUrl: inputS3Uri }] })),
      'MediaConvert cannot read the file',
      'UNREADABLE',
    );
    const sidecars = await mediaConvertStep(() => findSidecars(item.sourceBucket, item.sourceKey), 'S3 refused to list the caption files next to the master', 'UNREADABLE');
    let request;
    let dynamicRange: DynamicRange;
    try {
      const source = sourceInfoFromProbe(ProbeResults?.[0]);
      const plan = {
        ...planLadder(source, LADDERS[config.ladder], { surroundAudio: config.surroundAudio }),
        subtitles: planSubtitles(source, sidecars, (key) => `s3://${item.sourceBucket}/${key}`),
      };
      dynamicRange = plan.dynamicRange ?? 'SDR';
      request = buildCreateJobRequest(plan, {
        inputS3Uri,
        outputS3Prefix: `s3://${config.originBucketName}/${mediaPrefixOf(item.assetId, item.revision)}`,
        roleArn: config.mediaConvertRoleArn,
        assetId: item.assetId,
        revision: item.revision,
        stackName: config.stackName,
        clientRequestToken: token,
        perTitle: config.perTitle,
      });
    } catch (error) {
      if (error instanceof UnreadableSourceError) throw new BadUploadError(error.reason, 'UNREADABLE');
      if (error instanceof UnsupportedSourceError) throw new BadUploadError(error.reason, 'UNSUPPORTED');
      if (error instanceof InvalidJobContextError) throw new BadUploadError(error.message, 'JOB_REJECTED');
      throw error;
    }
    // A takedown requested after this upload must not be followed by its encode: the takedown worker
    // cancels the jobs it finds, and one created after it looked would write the asset back (ADR 0011).
    const head = await table.getHead(item.assetId, { consistent: true });
    if (head?.deletedAt !== undefined && item.uploadedAt <= head.deletedAt) {
      throw new BadUploadError(`the asset was taken down (${head.deletedAt}) before its encode was submitted`, 'TAKEN_DOWN');
    }
    if (item.submittingSince === undefined && !(await table.markSubmitting(item, now().toISOString()))) {
      const current = await table.getRevision(item);
      if (current && current.status !== 'RECEIVED') throw new RevisionMovedOnError(current.status);
      // Another delivery recorded it a moment ago; CreateJob's token makes both calls one job.
    }
    const { Job } = await mediaConvertStep(() => deps.mediaConvert.send(new CreateJobCommand(request)), 'MediaConvert rejected the job', 'JOB_REJECTED');
    if (!Job?.Id) throw new Error('CreateJob returned no job id');
    return { jobId: Job.Id, dynamicRange };
  }

  /**
   * An upload that cannot become an encode before it has a revision (unusable name, missing or
   * unreadable object): a FAILED revision and its event when the name gives an asset id, else an
   * `Asset Failed` event naming the key.
   */
  async function rejectUpload(
    key: string,
    identity: Parameters<typeof revisionFromUpload>[0],
    source: { bucket: string; size?: number },
    reason: string,
    code: string,
  ): Promise<SubmitOutcome> {
    let assetId: string;
    try {
      assetId = assetIdFromKey(key);
    } catch (error) {
      if (!(error instanceof InvalidAssetNameError)) throw error;
      await catalog.publish(rejectedUploadEvent(key, reason));
      logger.warn('upload rejected', { key, reason });
      return { outcome: 'failed', reason };
    }
    const { revision, uploadedAt } = revisionFromUpload(identity);
    const item = newRevision(
      { assetId, revision, uploadedAt, sourceBucket: source.bucket, sourceKey: key, ...(source.size !== undefined ? { sourceSize: source.size } : {}), now: now().toISOString() },
      { reason, code },
    );
    const existing = (await table.createRevision(item)) ? item : await table.getRevision(item);
    if (existing) await catalog.finishTerminal(existing);
    logger.warn('upload failed', { assetId, revision, key, reason, code });
    return { outcome: 'failed', assetId, revision, reason: existing?.errorReason ?? reason };
  }

  return async (event: unknown): Promise<SubmitOutcome> => {
    const parsed = objectCreatedEventSchema.safeParse(event);
    if (!parsed.success) {
      // The rule's pattern should never let one through; if one comes, it must not vanish silently.
      logger.error('not an S3 Object Created event', { issues: parsed.error.issues.slice(0, 3) });
      throw new MalformedUploadEventError(`not an S3 Object Created event: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`);
    }
    const { detail, time } = parsed.data;
    const { size, etag } = detail.object;
    const eventKey = detail.object.key;
    const candidates = notificationKeyCandidates(eventKey);
    const named = candidates[0]!;
    const identity = {
      time,
      key: named,
      sequencer: detail.object.sequencer,
      versionId: detail.object['version-id'],
      etag,
      requestId: detail['request-id'],
    };
    const source = { bucket: detail.bucket.name, ...(size !== undefined ? { size } : {}) };

    const upload = classifyUploadKey(named);
    if (upload.kind === 'ignored') {
      logger.info('upload ignored', { key: named, reason: upload.reason, detail: upload.detail });
      return { outcome: 'ignored', reason: upload.detail };
    }
    const unusable = unusableKeyReason(named);
    if (unusable) return rejectUpload(named, identity, source, unusable, 'INVALID_NAME');

    const resolved = await resolveKey(detail.bucket.name, candidates, etag);
    if (!resolved.found) return rejectUpload(named, identity, source, resolved.reason, resolved.code);
    const key = resolved.key;
    if (key !== named) {
      logger.info('event key names the object in another form than its decoded one', { eventKey, key });
      const reclassified = classifyUploadKey(key);
      if (reclassified.kind === 'ignored') return { outcome: 'ignored', reason: reclassified.detail };
    }

    let assetId: string;
    try {
      assetId = assetIdFromKey(key);
    } catch (error) {
      if (!(error instanceof InvalidAssetNameError)) throw error;
      await catalog.publish(rejectedUploadEvent(key, error.reason));
      logger.warn('upload rejected: unusable name', { key, reason: error.reason });
      return { outcome: 'failed', reason: error.reason };
    }
    const { revision, uploadedAt } = revisionFromUpload({ ...identity, key });
    const received = {
      assetId,
      revision,
      uploadedAt,
      sourceBucket: detail.bucket.name,
      sourceKey: key,
      ...(size !== undefined ? { sourceSize: size } : {}),
      now: now().toISOString(),
    };
    const log = { assetId, revision, key };

    if (size === 0) {
      const item = newRevision(received, { reason: 'the file is empty (0 bytes)', code: 'EMPTY_FILE' });
      const existing = (await table.createRevision(item)) ? item : await table.getRevision(item);
      if (existing) await catalog.finishTerminal(existing);
      logger.warn('upload failed', { ...log, reason: item.errorReason });
      return { outcome: 'failed', assetId, revision, reason: item.errorReason! };
    }

    // The claim: the first delivery creates the revision, counting itself as attempt 1.
    let item: Revision = { ...newRevision(received), attempts: 1 };
    if (await table.createRevision(item)) {
      await catalog.advanceHead(item);
    } else {
      const existing = await table.getRevision(item);
      if (!existing) throw new Error(`revision ${revision} of ${assetId} vanished between write and read`);
      if (existing.status !== 'RECEIVED') {
        // A duplicate delivery. If the first one crashed after a terminal write, finish its event.
        await catalog.finishTerminal(existing);
        logger.info('duplicate upload event', { ...log, status: existing.status });
        return { outcome: 'duplicate', assetId, revision, status: existing.status };
      }
      // Claimed but never submitted: an earlier attempt failed or crashed. Count this one and resume.
      const counted = await table.countSubmitAttempt(existing, now().toISOString());
      if (!counted) {
        logger.info('another delivery of this upload is working on it', log);
        return { outcome: 'duplicate', assetId, revision, status: 'RECEIVED' };
      }
      logger.info('resuming an unsubmitted revision', { ...log, attempt: counted.attempts });
      item = counted;
    }

    let jobId: string;
    let dynamicRange: DynamicRange | undefined;
    try {
      ({ jobId, dynamicRange } = await submit(item));
    } catch (error) {
      if (error instanceof BadUploadError) return fail(item, error.reason, error.code);
      if (error instanceof RevisionMovedOnError) {
        logger.info('another delivery of this upload submitted it first', { ...log, status: error.status });
        return { outcome: 'duplicate', assetId, revision, status: error.status };
      }
      const attempts = item.attempts ?? 1;
      if (!isLastAttempt(attempts, config.invocationAttempts)) throw error;
      // The last attempt Lambda makes: fail with the error instead of leaving the revision RECEIVED.
      logger.error('transient error on the last attempt', { ...log, attempts, error: describeError(error) });
      return fail(item, `MediaConvert could not be reached after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${describeError(error)}`, 'RETRIES_EXHAUSTED');
    }
    const at = now().toISOString();
    const submitted = await table.advanceRevision(item, 'SUBMITTED', at, { submittedAt: at, dynamicRange }, jobId);
    // Undefined: the job's own PROGRESSING event got there first, which is fine.
    if (submitted) await catalog.advanceHead(submitted);
    logger.info('encode submitted', { ...log, jobId });
    return { outcome: 'submitted', assetId, revision, jobId };
  };
}

// SDK clients once per container. MediaConvert is called on its regional endpoint, the SDK's
// default for the region; DescribeEndpoints is deprecated (MediaConvert API reference).
const documents = DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})), { marshallOptions: { removeUndefinedValues: true } });
const mediaConvert = tracer.captureAWSv3Client(new MediaConvertClient({}));
const events = tracer.captureAWSv3Client(new EventBridgeClient({}));
const s3 = tracer.captureAWSv3Client(new S3Client({}));

export const handler = lambdaHandler<unknown, SubmitOutcome>(() =>
  createSubmitJobHandler({ documents, mediaConvert, events, s3, config: submitJobConfig.decode(process.env) }),
);
