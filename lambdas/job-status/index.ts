/**
 * job-status: "MediaConvert Job State Change" → catalog (docs/catalog.md; ADR 0022).
 *
 * Events arrive at least once and out of order. Every revision write is conditional on moving
 * forward (core/asset-status.ts), so a stale or repeated event fails the condition and does
 * nothing: no write, no event. `Asset Ready` / `Asset Failed` go out only from the invocation that
 * made the terminal transition (or from its retry, if it crashed before publishing).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import {
  isTerminal,
  manifestPaths,
  renditionsFromOutputGroups,
  revisionStatusForJobStatus,
  type RevisionStatus,
} from '../../core/asset-status';
import { CatalogTable } from '../../tables/catalog-table';
import { lambdaHandler, logger, tracer } from '../shared/powertools';
import { CatalogWriter } from '../shared/catalog-writer';
import { type JobStatusConfig, jobStatusConfig } from './config';

export interface JobStatusDeps {
  readonly documents: DynamoDBDocumentClient;
  readonly events: EventBridgeClient;
  readonly config: JobStatusConfig;
  readonly now?: () => Date;
}

/**
 * The fields used from MediaConvert's job state change event (MediaConvert user guide, "List of
 * MediaConvert EventBridge events" and the per-status pages). `userMetadata` is the job's
 * UserMetadata, which submit-job fills with {stack, assetId, revision}.
 */
const jobStateChangeEventSchema = z.object({
  id: z.string(),
  time: z.string(),
  'detail-type': z.literal('MediaConvert Job State Change'),
  detail: z.object({
    status: z.string(),
    jobId: z.string().min(1),
    userMetadata: z.record(z.string(), z.string()).optional(),
    outputGroupDetails: z
      .array(
        z.object({
          type: z.string().optional(),
          playlistFilePaths: z.array(z.string()).optional(),
          outputDetails: z
            .array(
              z.object({
                outputFilePaths: z.array(z.string()).optional(),
                durationInMs: z.number().optional(),
                videoDetails: z
                  .object({
                    widthInPx: z.number().optional(),
                    heightInPx: z.number().optional(),
                    averageBitrate: z.number().optional(),
                  })
                  .optional(),
              }),
            )
            .optional(),
        }),
      )
      .optional(),
    errorCode: z.union([z.number(), z.string()]).optional(),
    errorMessage: z.string().optional(),
  }),
});

type JobStateChangeDetail = z.infer<typeof jobStateChangeEventSchema>['detail'];

export type JobStatusOutcome =
  | { readonly outcome: 'ignored'; readonly reason: string }
  | { readonly outcome: 'stale'; readonly assetId: string; readonly revision: string; readonly status: RevisionStatus }
  | { readonly outcome: 'applied'; readonly assetId: string; readonly revision: string; readonly status: RevisionStatus };

/** The fields written with each status (besides status/updatedAt/jobId). */
function fieldsFor(next: RevisionStatus, detail: JobStateChangeDetail, assetId: string, revision: string, now: string) {
  switch (next) {
    case 'READY': {
      const { renditions, durationMs } = renditionsFromOutputGroups(detail.outputGroupDetails);
      return { renditions, durationMs, manifests: manifestPaths(assetId, revision), readyAt: now };
    }
    case 'FAILED':
      return {
        errorReason: `MediaConvert could not encode the file: ${detail.errorMessage ?? 'no error message'}`,
        errorCode: detail.errorCode !== undefined ? String(detail.errorCode) : 'MEDIACONVERT_ERROR',
      };
    case 'CANCELED':
      return { errorReason: 'the encode was canceled', errorCode: 'CANCELED' };
    case 'PROGRESSING':
      return { startedAt: now };
    default:
      return {};
  }
}

export function createJobStatusHandler(deps: JobStatusDeps) {
  const now = deps.now ?? (() => new Date());
  const { config } = deps;
  const table = new CatalogTable(deps.documents, config.assetsTableName);
  const catalog = new CatalogWriter(table, deps.events, config.eventBusName, now);

  return async (event: unknown): Promise<JobStatusOutcome> => {
    const parsed = jobStateChangeEventSchema.safeParse(event);
    if (!parsed.success) {
      logger.error('not a MediaConvert Job State Change event', { issues: parsed.error.issues.slice(0, 3) });
      return { outcome: 'ignored', reason: 'malformed event' };
    }
    const { detail } = parsed.data;
    const { stack, assetId, revision } = detail.userMetadata ?? {};
    // The rule already filters on the stack; this guards a shared default bus and hand-sent events.
    if (stack !== config.stackName || !assetId || !revision) {
      logger.info('job of another stack or without catalog metadata', { jobId: detail.jobId, stack });
      return { outcome: 'ignored', reason: 'not a job of this stack' };
    }
    const next = revisionStatusForJobStatus(detail.status);
    if (!next) {
      logger.debug('job event without a state change', { jobId: detail.jobId, status: detail.status });
      return { outcome: 'ignored', reason: `status ${detail.status} carries no state` };
    }
    const key = { assetId, revision };
    const at = now().toISOString();
    const log = { assetId, revision, jobId: detail.jobId, jobStatus: detail.status, next };

    const item = await table.advanceRevision(key, next, at, fieldsFor(next, detail, assetId, revision, at), detail.jobId);
    if (!item) {
      if (isTerminal(next)) {
        // Either a duplicate, or a retry of an invocation that crashed before its event went out.
        const existing = await table.getRevision(key);
        if (existing && existing.jobId === detail.jobId) await catalog.finishTerminal(existing);
      }
      logger.info('stale or duplicate job event ignored', log);
      return { outcome: 'stale', assetId, revision, status: next };
    }
    if (isTerminal(item.status)) await catalog.finishTerminal(item);
    else await catalog.advanceHead(item);
    logger.info('revision advanced', log);
    return { outcome: 'applied', assetId, revision, status: next };
  };
}

const documents = DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})), { marshallOptions: { removeUndefinedValues: true } });
const events = tracer.captureAWSv3Client(new EventBridgeClient({}));

export const handler = lambdaHandler<unknown, JobStatusOutcome>(() =>
  createJobStatusHandler({ documents, events, config: jobStatusConfig.decode(process.env) }),
);
