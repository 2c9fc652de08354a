import { type CloudFrontKeyValueStoreClient, DeleteKeyCommand, DescribeKeyValueStoreCommand, PutKeyCommand } from '@aws-sdk/client-cloudfront-keyvaluestore';
import type { Keyring } from '../../core/keyring';

/**
 * The keyring's copy in CloudFront KeyValueStore, read by the CloudFront Functions token check
 * (edge-functions/viewer-auth-cf/function.js): one entry per key, named by its kid, the key material in
 * standard base64 (32 bytes encode to 44 characters, well under the 1 KB value limit). `current` is not
 * stored: the edge only verifies, it never chooses a signing key.
 */
export interface KeyringStore {
  readonly client: Pick<CloudFrontKeyValueStoreClient, 'send'>;
  readonly arn: string;
  /** Time allowed for a write to reach every edge location before a signer may use the new key (ADR 0034). */
  readonly propagationSeconds: number;
  /** @default setTimeout */
  readonly wait?: (ms: number) => Promise<void>;
}

/**
 * Writes every key of `next`, then deletes the keys `previous` had and `next` retired, then waits out the
 * propagation allowance. Puts before deletes, so no moment exists in which a key a valid token may carry
 * is missing; every call writes the whole set, so a retried rotation step converges. Each write names the
 * ETag the previous one returned (the API's optimistic concurrency): a concurrent writer makes this fail
 * and Secrets Manager retry the step rather than interleave.
 */
export async function publishKeyring(store: KeyringStore, next: Keyring, previous: Keyring | undefined): Promise<{ written: string[]; deleted: string[] }> {
  let etag = (await store.client.send(new DescribeKeyValueStoreCommand({ KvsARN: store.arn }))).ETag;
  const written: string[] = [];
  const deleted: string[] = [];
  for (const [kid, key] of next.keys) {
    etag = (await store.client.send(new PutKeyCommand({ KvsARN: store.arn, IfMatch: etag, Key: kid, Value: key.toString('base64') }))).ETag;
    written.push(kid);
  }
  for (const kid of previous?.keys.keys() ?? []) {
    if (next.keys.has(kid)) continue;
    try {
      etag = (await store.client.send(new DeleteKeyCommand({ KvsARN: store.arn, IfMatch: etag, Key: kid }))).ETag;
      deleted.push(kid);
    } catch (error) {
      // Already gone (an earlier attempt of this step deleted it): the goal state holds.
      if (!(error instanceof Error && error.name === 'ResourceNotFoundException')) throw error;
    }
  }
  const wait = store.wait ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  await wait(store.propagationSeconds * 1000);
  return { written, deleted };
}
