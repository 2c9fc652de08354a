import { randomUUID } from 'node:crypto';
import { CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { lambdaHandler, logger, tracer } from '../shared/powertools';
import { ASSET_ID_RULE, ASSET_REMOVED, CATALOG_EVENT_SOURCE, isAssetId, mediaPrefixOf } from '../../core/identifiers';
import { CatalogTable } from '../../tables/catalog-table';
import { takedownConfig } from './config';

export interface TakedownDeps {
  readonly documents: DynamoDBDocumentClient;
  readonly s3: S3Client;
  readonly cloudfront: CloudFrontClient;
  readonly events: EventBridgeClient;
  readonly assetsTableName: string;
  readonly originBucketName: string;
  readonly distributionIds: readonly string[];
  readonly eventBusName: string;
  readonly now?: () => Date;
}

const json = (statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

/**
 * `DELETE /assets/{assetId}`: the asset stops being offered first (catalog `DELETED`, so no new sessions are
 * signed), then every origin object under `media/<assetId>/` is deleted, then every distribution invalidates
 * `/media/<assetId>/*` (the cache key has the token stripped, so one path covers every viewer). Repeating a
 * takedown is safe: each step is idempotent, which is also how a partial failure is finished.
 */
export function createTakedownHandler(deps: TakedownDeps) {
  const now = deps.now ?? (() => new Date());
  const catalog = new CatalogTable(deps.documents, deps.assetsTableName);
  const unknown = (assetId: string) => json(404, { error: 'not-found', reason: `asset "${assetId}" is unknown` });
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const assetId = event.pathParameters?.assetId ?? '';
    if (!isAssetId(assetId)) return json(400, { error: 'bad-request', reason: `"${assetId}" is not an asset id: ${ASSET_ID_RULE}` });

    if (!(await catalog.getHead(assetId))) return unknown(assetId);
    // False: the head vanished between the read and the write.
    if (!(await catalog.markDeleted(assetId, now().toISOString()))) return unknown(assetId);

    const deletedObjects = await deletePrefix(deps, mediaPrefixOf(assetId));
    const invalidations = await Promise.all(
      deps.distributionIds.map(async (distributionId) => {
        const { Invalidation } = await deps.cloudfront.send(
          new CreateInvalidationCommand({
            DistributionId: distributionId,
            InvalidationBatch: { CallerReference: `takedown-${assetId}-${randomUUID()}`, Paths: { Quantity: 1, Items: [`/media/${assetId}/*`] } },
          }),
        );
        return { distributionId, invalidationId: Invalidation?.Id };
      }),
    );
    await deps.events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: deps.eventBusName,
            Source: CATALOG_EVENT_SOURCE,
            DetailType: ASSET_REMOVED,
            Detail: JSON.stringify({ assetId, deletedObjects, distributions: invalidations.map((i) => i.distributionId) }),
          },
        ],
      }),
    );
    logger.info('asset taken down', { assetId, deletedObjects, invalidations });
    return json(202, { assetId, status: 'DELETED', deletedObjects, invalidations });
  };
}

async function deletePrefix(deps: TakedownDeps, prefix: string): Promise<number> {
  let deleted = 0;
  let continuationToken: string | undefined;
  do {
    const page = await deps.s3.send(
      new ListObjectsV2Command({ Bucket: deps.originBucketName, Prefix: prefix, ContinuationToken: continuationToken }),
    );
    const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (keys.length > 0) {
      const result = await deps.s3.send(new DeleteObjectsCommand({ Bucket: deps.originBucketName, Delete: { Objects: keys, Quiet: true } }));
      // DeleteObjects reports per-key failures in the body, not as an exception: never ignore them.
      if (result.Errors && result.Errors.length > 0) {
        throw new Error(`could not delete ${result.Errors.length} objects under ${prefix}, first: ${result.Errors[0]!.Key} ${result.Errors[0]!.Code}`);
      }
      deleted += keys.length;
    }
    continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (continuationToken);
  return deleted;
}

const clients = {
  documents: DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({}))),
  s3: tracer.captureAWSv3Client(new S3Client({})),
  cloudfront: tracer.captureAWSv3Client(new CloudFrontClient({})),
  events: tracer.captureAWSv3Client(new EventBridgeClient({})),
};

export const handler = lambdaHandler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>(() =>
  createTakedownHandler({ ...clients, ...takedownConfig.decode(process.env) }),
);
