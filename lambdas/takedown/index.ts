import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { AssetHead } from '../../core/asset-status';
import { ASSET_ID_RULE, isAssetId } from '../../core/identifiers';
import { assetStatusView, decideTakedownRequest, newTakedownRecord, takedownRequestedEvent } from '../../core/takedown';
import { CatalogTable } from '../../tables/catalog-table';
import { publishCatalogEvent } from '../shared/catalog-writer';
import { lambdaHandler, logger, tracer } from '../shared/powertools';
import { takedownConfig } from './config';

export interface TakedownDeps {
  readonly documents: DynamoDBDocumentClient;
  readonly events: EventBridgeClient;
  readonly assetsTableName: string;
  readonly eventBusName: string;
  readonly now?: () => Date;
}

const json = (statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
  body: JSON.stringify(body),
});

/** 202 with the takedown's status; `Location` is where to poll it (RFC 9110 §15.3.3). */
const accepted = (head: AssetHead): APIGatewayProxyStructuredResultV2 => {
  const view = assetStatusView(head);
  return json(202, view, { location: view.statusUrl });
};

/**
 * The playback API's asset routes (ADR 0011):
 *
 * - `DELETE /assets/{assetId}` answers `202` at once. A new takedown marks the head TAKEDOWN_PENDING
 *   (no new session is signed from then on), records the request and puts `Asset Takedown Requested`
 *   on the catalog bus for the takedown worker. A repeat while the takedown is pending or done starts
 *   nothing new and answers with its status; while pending it puts the request on the bus again, so a
 *   takedown whose worker gave up (retries spent) is finished by asking again.
 * - `GET /assets/{assetId}` answers the asset's status with the takedown's progress.
 *
 * 400 for something that is not an asset id, 404 for an unknown asset.
 */
export function createTakedownHandler(deps: TakedownDeps) {
  const now = deps.now ?? (() => new Date());
  const catalog = new CatalogTable(deps.documents, deps.assetsTableName);
  const unknown = (assetId: string) => json(404, { error: 'not-found', reason: `asset "${assetId}" is unknown` });
  const requestWorker = (assetId: string, requestedAt: string) =>
    publishCatalogEvent(deps.events, deps.eventBusName, takedownRequestedEvent({ assetId, requestedAt }));

  async function takeDown(assetId: string): Promise<APIGatewayProxyStructuredResultV2> {
    // Two reads at most: a concurrent DELETE that won the write is answered like a repeat.
    for (let attempt = 0; attempt < 2; attempt++) {
      const head = await catalog.getHead(assetId, { consistent: true });
      const decision = decideTakedownRequest(head);
      if (decision.kind === 'unknown') return unknown(assetId);
      if (decision.kind === 'repeat') {
        if (decision.takedown.status === 'PENDING') await requestWorker(assetId, decision.takedown.requestedAt);
        return accepted(head!);
      }
      const record = newTakedownRecord(now().toISOString());
      if (!(await catalog.requestTakedown(assetId, record))) continue;
      // A failure here leaves the takedown pending with no worker on it; the caller's retry puts it on the bus.
      await requestWorker(assetId, record.requestedAt);
      logger.info('takedown requested', { assetId, requestedAt: record.requestedAt });
      return accepted({ ...head!, status: 'TAKEDOWN_PENDING', deletedAt: record.requestedAt, updatedAt: record.requestedAt, takedown: record });
    }
    return json(409, { error: 'conflict', reason: `asset "${assetId}" changed while the takedown was being recorded; try again` });
  }

  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const assetId = event.pathParameters?.assetId ?? '';
    if (!isAssetId(assetId)) return json(400, { error: 'bad-request', reason: `"${assetId}" is not an asset id: ${ASSET_ID_RULE}` });
    if (event.requestContext?.http?.method === 'GET') {
      const head = await catalog.getHead(assetId, { consistent: true });
      return head ? json(200, assetStatusView(head)) : unknown(assetId);
    }
    return takeDown(assetId);
  };
}

const clients = {
  documents: DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({}))),
  events: tracer.captureAWSv3Client(new EventBridgeClient({})),
};

export const handler = lambdaHandler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>(() =>
  createTakedownHandler({ ...clients, ...takedownConfig.decode(process.env) }),
);
