import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { KeyringCache } from '../shared/keyring-cache';
import { logger } from '../shared/powertools';
import { createSession, sessionRequestSchema } from './sessions';

export interface PlaybackApiDeps {
  readonly documents: DynamoDBDocumentClient;
  readonly keyring: Pick<KeyringCache, 'get'>;
  readonly assetsTableName: string;
  readonly gatewayDomain: string;
  readonly tokenLifetimeSeconds: number;
  readonly now?: () => number;
}

const json = (statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

/** `POST /sessions {assetId, device?}` → 201 signed URLs; 400 bad body; 404 unknown, not ready or taken down. */
export function createPlaybackApiHandler(deps: PlaybackApiDeps) {
  const now = deps.now ?? Date.now;
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    let body: unknown;
    try {
      const raw = event.isBase64Encoded && event.body ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
      body = JSON.parse(raw ?? '');
    } catch {
      return json(400, { error: 'bad-request', reason: 'body must be a JSON object like {"assetId":"big-buck"}' });
    }
    const parsed = sessionRequestSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return json(400, { error: 'bad-request', reason: `${issue.path.join('.') || 'body'}: ${issue.message}` });
    }
    const { Item: head } = await deps.documents.send(
      new GetCommand({ TableName: deps.assetsTableName, Key: { assetId: parsed.data.assetId, sk: 'asset' } }),
    );
    const revision = head?.currentRevision as string | undefined;
    if (!head || head.status === 'DELETED' || !revision) {
      return json(404, { error: 'not-found', reason: `asset "${parsed.data.assetId}" is unknown or has no playable revision` });
    }
    const session = createSession(parsed.data, revision, await deps.keyring.get(), {
      gatewayDomain: deps.gatewayDomain,
      lifetimeSeconds: deps.tokenLifetimeSeconds,
      nowSeconds: Math.floor(now() / 1000),
    });
    logger.info('playback session signed', { assetId: session.assetId, revision, sessionId: session.sessionId });
    return json(201, session);
  };
}

export const handler = createPlaybackApiHandler({
  documents: DynamoDBDocumentClient.from(new DynamoDBClient({})),
  keyring: new KeyringCache(new SecretsManagerClient({}), process.env.KEYRING_SECRET_ARN ?? ''),
  assetsTableName: process.env.ASSETS_TABLE_NAME ?? '',
  gatewayDomain: process.env.GATEWAY_DOMAIN ?? '',
  tokenLifetimeSeconds: Number(process.env.TOKEN_LIFETIME_SECONDS ?? 21600),
});
