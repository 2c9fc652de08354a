/**
 * Publishes routing generations (ADR 0097, core/routing-generation.ts) to the gateway's KeyValueStore after
 * routing-weights has written the routing snapshot: a new generation for each scope whose answers would
 * materially change since its last announcement, so steady sessions of that country re-key at their next reload.
 *
 * What was announced is kept in the routing table (`pk = routing-generations`, through tables/routing-table.ts),
 * written only after the store took the keys: the comparison is always with what the edge has, and a failed publish is retried by the next
 * tick's comparison. The store is shared with the keyring rotation (lambdas/keyring-rotation/keyring-store.ts),
 * which writes with the same ETag discipline: a conflict re-reads the ETag and tries again, a few times.
 */
import { ConflictException, type CloudFrontKeyValueStoreClient, DescribeKeyValueStoreCommand, UpdateKeysCommand } from '@aws-sdk/client-cloudfront-keyvaluestore';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type AnnouncedGeneration, generationChanges, routingGenerationKey } from '../../core/routing-generation';
import { RoutingTable } from '../../tables/routing-table';

export { ANNOUNCED_GENERATIONS_KEY } from '../../core/routing-types';

/**
 * Keys per UpdateKeys request: the API's default quota is 50 keys or a 3 MB payload per request, whichever comes
 * first (CloudFront quotas, "key value stores"); a generation entry is ~20 bytes, so the count decides.
 */
export const UPDATE_KEYS_MAX_KEYS = 50;
/** Attempts per batch when the ETag moved under it (the keyring rotation, an overlapping tick). */
export const ETAG_CONFLICT_ATTEMPTS = 3;

export interface GenerationStore {
  readonly client: Pick<CloudFrontKeyValueStoreClient, 'send'>;
  readonly arn: string;
}

export interface PublishedGenerations {
  /** The snapshot generation compared (and announced, for the scopes in `announced`). */
  readonly generation: number;
  readonly announced: readonly string[];
  /** UpdateKeys requests made, conflicts included. */
  readonly requests: number;
  readonly conflicts: number;
}

/**
 * Compares the routing snapshot as published (shard 0, strongly consistent) with what was announced and announces
 * what changed materially. Throws on a store or table failure; the caller logs it and counts it (the weights and the
 * snapshot are written already, so sessions still get them within the reuse time).
 */
export async function publishRoutingGenerations(ddb: DynamoDBDocumentClient, tableName: string, store: GenerationStore): Promise<PublishedGenerations> {
  const table = new RoutingTable(ddb, tableName);
  const [snapshot, previous] = await Promise.all([table.readPublishedSnapshot(), table.readAnnouncedGenerations()]);
  if (snapshot === undefined) return { generation: 0, announced: [], requests: 0, conflicts: 0 };
  const changes = generationChanges(new Map(Object.entries(previous?.scopes ?? {})), snapshot);
  if (changes.length === 0) return { generation: snapshot.generation, announced: [], requests: 0, conflicts: 0 };

  const value = String(snapshot.generation);
  const announced: string[] = [];
  let requests = 0;
  let conflicts = 0;
  let etag: string | undefined;
  let failure: unknown;
  for (let i = 0; i < changes.length && failure === undefined; i += UPDATE_KEYS_MAX_KEYS) {
    const batch = changes.slice(i, i + UPDATE_KEYS_MAX_KEYS);
    const puts = batch.map((c) => ({ Key: routingGenerationKey(c.scope), Value: value }));
    for (let attempt = 1; ; attempt++) {
      etag ??= (await store.client.send(new DescribeKeyValueStoreCommand({ KvsARN: store.arn }))).ETag;
      requests++;
      try {
        etag = (await store.client.send(new UpdateKeysCommand({ KvsARN: store.arn, IfMatch: etag, Puts: puts }))).ETag;
        announced.push(...batch.map((c) => c.scope));
        break;
      } catch (error) {
        if (!isConflict(error) || attempt >= ETAG_CONFLICT_ATTEMPTS) {
          failure = error;
          break;
        }
        // Another writer (the keyring rotation) moved the store's version: read it again and retry.
        conflicts++;
        etag = undefined;
      }
    }
  }
  if (announced.length > 0) {
    // Only what the store took is recorded; the rest is compared again next tick. A lost race on the record is not
    // an error: both writers announced to the store.
    const scopes: Record<string, AnnouncedGeneration> = { ...(previous?.scopes ?? {}) };
    for (const change of changes) if (announced.includes(change.scope)) scopes[change.scope] = change.announcement;
    await table.saveAnnouncedGenerations(scopes, previous?.version);
  }
  if (failure !== undefined) throw new GenerationPublishError(announced, failure);
  return { generation: snapshot.generation, announced, requests, conflicts };
}

/** Some or all generations could not be written to the store; `announced` lists the scopes that were. */
export class GenerationPublishError extends Error {
  constructor(
    readonly announced: readonly string[],
    cause: unknown,
  ) {
    super(`routing generations not published: ${cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)}`, { cause });
    this.name = 'GenerationPublishError';
  }
}

function isConflict(error: unknown): boolean {
  return error instanceof ConflictException || (error instanceof Error && error.name === 'ConflictException');
}
