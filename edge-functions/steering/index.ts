import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CloudFrontRequestEvent, CloudFrontResultResponse } from 'aws-lambda';
import { readBakedConfig } from '../shared/baked-config';
import { routingSnapshotReader } from '../../tables/routing-table';
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

// Bounded timeouts: the origin-request limit is 30 s, but a viewer waiting on a manifest is not. The
// handler is given as its options, so the client builds it from the runtime's own SDK: importing
// @smithy/node-http-handler would bundle a second copy of @smithy/core (ADR 0008). Since
// @smithy/node-http-handler 4.4 a request timeout only warns unless throwOnRequestTimeout is set.
const requestHandler = { connectionTimeout: 1000, requestTimeout: 2000, throwOnRequestTimeout: true };
const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ region: config.routingTable.region, requestHandler, maxAttempts: 2 }));

// Origin manifests come through the delivery pathways with the viewer's token (ADR 0003).
const readOriginText = createPathwayOriginReader({ timeoutMs: 1500, maxAttempts: 3, scheme: config.publicScheme });

// One snapshot item per refresh period, through the routing table's one repository module (ADRs 0007, 0048).
const readRoutingSnapshot = routingSnapshotReader(dynamo, config.routingTable.name);

const keyring = createKeyringSource(config.keyring, { executingRegion: process.env.AWS_REGION });

const steeringHandler = createSteeringHandler({
  getKeyring: () => keyring.get(),
  refreshKeyring: () => keyring.refresh({ minAgeSeconds: 30 }),
  readOriginText,
  readRoutingSnapshot,
  staticPathways: config.staticPathways,
  steeringTtlSeconds: config.steeringTtlSeconds,
  routingCacheSeconds: config.routingCacheSeconds,
  publicScheme: config.publicScheme,
  sessionSteering: config.sessionSteering,
});

export const handler = (event: CloudFrontRequestEvent): Promise<CloudFrontResultResponse> => steeringHandler(event);
