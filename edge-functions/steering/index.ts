import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { CloudFrontRequestEvent, CloudFrontResultResponse } from 'aws-lambda';
import { readBakedConfig } from '../shared/baked-config';
import { routingItemReader } from '../../tables/routing-table';
import { createKeyringSource } from '../shared/keyring-source';
import { validateSteeringConfig } from './config';
import { createSteeringHandler } from './handler';
import { createPathwayOriginReader } from './origin-fetch';

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

// The routing table is read through its one repository module, which also interprets the items (ADR 0007).
const readRoutingItems = routingItemReader(dynamo, config.routingTable.name);

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
