/**
 * submit-job: S3 "Object Created" (EventBridge) under `uploads/` → probe → ladder → MediaConvert job
 * (docs/architecture.md#ingest-and-encode; docs/catalog.md walks through the states).
 *
 * Failure policy: a bad upload (empty, unreadable, not video, unsupported, unusable name) is a
 * *result*: the revision becomes FAILED with a reason, an `Asset Failed` event goes out and the
 * invocation succeeds, so nothing retries forever. Anything transient (throttling, 5xx, network)
 * throws: Lambda's async retries and the DLQ (lib/constructs/ingest-pipeline.ts) take it from there,
 * and every step below is safe to repeat.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CreateJobCommand, MediaConvertClient, ProbeCommand } from '@aws-sdk/client-mediaconvert';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3EventNotificationEventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/s3';
import { z } from 'zod';
import { assetIdFromKey, InvalidAssetNameError, jobRequestToken, revisionFromUpload } from '../../core/asset-id';
import { newRevision, rejectedUploadEvent, type Revision } from '../../core/asset-status';
import { LADDERS, planLadder, UnsupportedSourceError } from '../../core/ladder';
import { buildCreateJobRequest } from '../../core/mediaconvert-job';
import { sourceInfoFromProbe, UnreadableSourceError } from '../../core/probe';
import { classifyUploadKey } from '../../core/upload-key';
import { CatalogTable } from '../../tables/catalog-table';
import { lambdaHandler, logger, tracer } from '../shared/powertools';
import { CatalogWriter } from '../shared/catalog-writer';
import { type SubmitJobConfig, submitJobConfig } from './config';
import { mediaPrefixOf } from '../../core/identifiers';

export interface SubmitJobDeps {
  readonly documents: DynamoDBDocumentClient;
  readonly mediaConvert: MediaConvertClient;
  readonly events: EventBridgeClient;
  readonly config: SubmitJobConfig;
  readonly now?: () => Date;
}

/**
 * The fields used from S3's EventBridge "Object Created" event (S3 user guide, "EventBridge event
 * message structure"). `detail.object.key` is used verbatim: unlike the classic `Records[]`
 * notifications, S3's EventBridge events do not form-encode keys (ADR 0021).
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

/** MediaConvert refuses this input or job for good; retrying cannot help (API model error shapes). */
const PERMANENT_MEDIACONVERT_ERRORS = new Set(['BadRequestException', 'NotFoundException']);

class BadUploadError extends Error {
  constructor(
    readonly reason: string,
    readonly code: string,
  ) {
    super(reason);
  }
}

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

  async function probeAndSubmit(item: Revision): Promise<string> {
    const inputS3Uri = `s3://${item.sourceBucket}/${item.sourceKey}`;
    let request;
    try {
      const { ProbeResults } = await deps.mediaConvert.send(new ProbeCommand({ InputFiles: [{ FileUrl: inputS3Uri }] }));
      const source = sourceInfoFromProbe(ProbeResults?.[0]);
      const plan = planLadder(source, LADDERS[config.ladder]);
      request = buildCreateJobRequest(plan, {
        inputS3Uri,
        outputS3Prefix: `s3://${config.originBucketName}/${mediaPrefixOf(item.assetId, item.revision)}`,
        roleArn: config.mediaConvertRoleArn,
        assetId: item.assetId,
        revision: item.revision,
        stackName: config.stackName,
        clientRequestToken: jobRequestToken(config.stackName, item.assetId, item.revision),
        perTitle: config.perTitle,
      });
    } catch (error) {
      if (error instanceof UnreadableSourceError) throw new BadUploadError(error.reason, 'UNREADABLE');
      if (error instanceof UnsupportedSourceError) throw new BadUploadError(error.reason, 'UNSUPPORTED');
      if (PERMANENT_MEDIACONVERT_ERRORS.has((error as Error).name)) {
        throw new BadUploadError(`MediaConvert cannot read the file: ${(error as Error).message}`, 'UNREADABLE');
      }
      throw error;
    }
    try {
      const { Job } = await deps.mediaConvert.send(new CreateJobCommand(request));
      if (!Job?.Id) throw new Error('CreateJob returned no job id');
      return Job.Id;
    } catch (error) {
      if (PERMANENT_MEDIACONVERT_ERRORS.has((error as Error).name)) {
        throw new BadUploadError(`MediaConvert rejected the job: ${(error as Error).message}`, 'JOB_REJECTED');
      }
      throw error;
    }
  }

  return async (event: unknown): Promise<SubmitOutcome> => {
    const parsed = objectCreatedEventSchema.safeParse(event);
    if (!parsed.success) {
      // The rule's pattern should never let one through; if one comes, it must not vanish silently.
      logger.error('not an S3 Object Created event', { issues: parsed.error.issues.slice(0, 3) });
      throw new MalformedUploadEventError(`not an S3 Object Created event: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`);
    }
    const { detail, time } = parsed.data;
    const { key, size } = detail.object;

    const upload = classifyUploadKey(key);
    if (upload.kind === 'ignored') {
      logger.info('upload ignored', { key, reason: upload.reason, detail: upload.detail });
      return { outcome: 'ignored', reason: upload.detail };
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
    const { revision, uploadedAt } = revisionFromUpload({
      time,
      key,
      sequencer: detail.object.sequencer,
      versionId: detail.object['version-id'],
      etag: detail.object.etag,
      requestId: detail['request-id'],
    });
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

    let item = newRevision(received);
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
      // Claimed but never submitted (an earlier attempt crashed): resume; CreateJob's token dedupes.
      logger.info('resuming an unsubmitted revision', log);
      item = existing;
    }

    let jobId: string;
    try {
      jobId = await probeAndSubmit(item);
    } catch (error) {
      if (error instanceof BadUploadError) return fail(item, error.reason, error.code);
      throw error;
    }
    const at = now().toISOString();
    const submitted = await table.advanceRevision(item, 'SUBMITTED', at, { submittedAt: at }, jobId);
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

export const handler = lambdaHandler<unknown, SubmitOutcome>(() =>
  createSubmitJobHandler({ documents, mediaConvert, events, config: submitJobConfig.decode(process.env) }),
);
