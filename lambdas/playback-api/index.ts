import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { KeyringCache } from '../shared/keyring-cache';
import { lambdaHandler, logger, tracer } from '../shared/powertools';
import { playableRevision } from '../../core/asset-status';
import type { UrlScheme } from '../../core/playback-paths';
import { CatalogTable } from '../../tables/catalog-table';
import { createSession, sessionRequestSchema } from './sessions';
import { playbackApiConfig } from './config';

export interface PlaybackApiDeps {
  readonly documents: DynamoDBDocumentClient;
  readonly keyring: Pick<KeyringCache, 'get'>;
  readonly assetsTableName: string;
  readonly gatewayDomain: string;
  /**
   * `scheme://host[:port]` of the gateway when it is not `https://<gatewayDomain>` — the local twin's
   * plain-http gateway (env `GATEWAY_ORIGIN`). @default `https://${gatewayDomain}`
   */
  readonly gatewayOrigin?: string;
  readonly tokenLifetimeSeconds: number;
  /** Percent of sessions that send player reports (ADR 0058); @default 100 */
  readonly reportSamplingPercent?: number;
  readonly now?: () => number;
}

const json = (statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

/** `GATEWAY_ORIGIN` is not `scheme://host[:port]`. */
export class InvalidGatewayOriginError extends Error {
  constructor(value: string) {
    super(`GATEWAY_ORIGIN must look like "http://127.0.0.1:4580" or "https://gw.example.com", got "${value}"`);
    this.name = 'InvalidGatewayOriginError';
  }
}

/** Splits `GATEWAY_ORIGIN` into the scheme and host the URL builders take; a path or query is a misconfiguration. */
export function parseGatewayOrigin(origin: string): { scheme: UrlScheme; host: string } {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new InvalidGatewayOriginError(origin);
  }
  const scheme = url.protocol.slice(0, -1);
  if ((scheme !== 'http' && scheme !== 'https') || url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '') {
    throw new InvalidGatewayOriginError(origin);
  }
  return { scheme, host: url.host };
}

/** `POST /sessions {assetId, device?}` → 201 signed URLs; 400 bad body; 404 unknown, not ready or taken down. */
export function createPlaybackApiHandler(deps: PlaybackApiDeps) {
  const now = deps.now ?? Date.now;
  const gateway = deps.gatewayOrigin ? parseGatewayOrigin(deps.gatewayOrigin) : { scheme: 'https' as const, host: deps.gatewayDomain };
  const catalog = new CatalogTable(deps.documents, deps.assetsTableName);
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
    const revision = playableRevision(await catalog.getHead(parsed.data.assetId));
    if (!revision) {
      return json(404, { error: 'not-found', reason: `asset "${parsed.data.assetId}" is unknown or has no playable revision` });
    }
    const session = createSession(parsed.data, revision, await deps.keyring.get(), {
      gatewayDomain: gateway.host,
      scheme: gateway.scheme,
      lifetimeSeconds: deps.tokenLifetimeSeconds,
      ...(deps.reportSamplingPercent !== undefined ? { reportSamplingPercent: deps.reportSamplingPercent } : {}),
      nowSeconds: Math.floor(now() / 1000),
    });
    logger.info('playback session signed', { assetId: session.assetId, revision, sessionId: session.sessionId, reportSampled: session.reportSampled });
    return json(201, session);
  };
}

const documents = DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})));
const secrets = tracer.captureAWSv3Client(new SecretsManagerClient({}));

/** The configuration is decoded on first use, so a misconfigured function fails its first request naming the variable. */
export const handler = lambdaHandler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>(() => {
  const config = playbackApiConfig.decode(process.env);
  return createPlaybackApiHandler({ documents, keyring: new KeyringCache(secrets, config.keyringSecretArn), ...config });
});
