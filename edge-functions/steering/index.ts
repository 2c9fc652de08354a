import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { CloudFrontRequestEvent, CloudFrontResultResponse } from 'aws-lambda';
import { readBakedConfig } from '../shared/baked-config';
import { createKeyringSource } from '../shared/keyring-source';
import { validateSteeringConfig } from './config';
import { createSteeringHandler } from './handler';
import { createPathwayOriginReader } from './origin-fetch';
import type { RoutingItemReader } from './routing-cache';

/**
 * Lambda@Edge entry of the steering gateway (origin-request). Everything that is built once per
 * container lives at module scope: baked config (validated at init, so a bad build fails loudly),
 * SDK clients, the keyring source and the handler with its caches. The decision logic is in
 * handler.ts and core/, which tests drive without AWS.
 */

export { createSteeringHandler } from './handler';
export type { SteeringHandlerDeps } from './handler';

const config = readBakedConfig(validateSteeringConfig);

// Bounded socket timeouts: the origin-request limit is 30 s, but a viewer waiting on a manifest is not.
const requestHandler = new NodeHttpHandler({ connectionTimeout: 1000, requestTimeout: 2000 });
const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ region: config.routingTable.region, requestHandler, maxAttempts: 2 }));

// Origin manifests come through the delivery pathways with the viewer's token (docs/adr/0003).
const readOriginText = createPathwayOriginReader({ timeoutMs: 1500, maxAttempts: 3, scheme: config.publicScheme });

const readRoutingItems: RoutingItemReader = async (keys) => {
  const table = config.routingTable.name;
  const result = await dynamo.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: keys.map((pk) => ({ pk })) } } }));
  // A partial answer would look like "no weights for this country"; fail the read so the cache keeps the last good items.
  if ((result.UnprocessedKeys?.[table]?.Keys?.length ?? 0) > 0) throw new Error('routing table read was throttled (UnprocessedKeys)');
  const items = new Map<string, unknown>();
  for (const item of result.Responses?.[table] ?? []) items.set(String(item.pk), item);
  return items;
};

const keyring = createKeyringSource(config.keyring, { executingRegion: process.env.AWS_REGION });

const steeringHandler = createSteeringHandler({
  getKeyring: () => keyring.get(),
  refreshKeyring: () => keyring.refresh({ minAgeSeconds: 30 }),
  readOriginText,
  readRoutingItems,
  steeringTtlSeconds: config.steeringTtlSeconds,
  routingCacheSeconds: config.routingCacheSeconds,
  publicScheme: config.publicScheme,
});

export const handler = (event: CloudFrontRequestEvent): Promise<CloudFrontResultResponse> => steeringHandler(event);
