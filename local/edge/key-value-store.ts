/**
 * The twin's CloudFront KeyValueStore: the keys a CloudFront Function reads with `cf.kvs().get()`
 * (local/edge/cloudfront-function.ts) and the data-plane API routing-weights writes them with
 * (lambdas/routing-weights/generations.ts), as an SDK client's `send` for the two commands it uses. It keeps the
 * API's rules that matter to a writer: every write names the store's current ETag (If-Match) or fails with
 * ConflictException, UpdateKeys is all-or-nothing, at most 50 keys a request (the default quota), keys of at most
 * 512 bytes and values of at most 1 KB (ValidationException otherwise). Propagation to the edges is immediate here;
 * on CloudFront it takes seconds (ADR 0097 covers that race).
 */
import {
  ConflictException,
  DescribeKeyValueStoreCommand,
  type DescribeKeyValueStoreCommandOutput,
  UpdateKeysCommand,
  type UpdateKeysCommandOutput,
  ValidationException,
} from '@aws-sdk/client-cloudfront-keyvaluestore';
import type { GenerationStore } from '../../lambdas/routing-weights/generations';

/** The twin's store, standing for the keyring's KeyValueStore copy the gateway's key function is associated with. */
export const TWIN_KVS_ARN = 'arn:aws:cloudfront::000000000000:key-value-store/00000000-0000-4000-8000-000000000000';
export const TWIN_KVS_MAX_KEYS_PER_UPDATE = 50;
export const TWIN_KVS_MAX_KEY_BYTES = 512;
export const TWIN_KVS_MAX_VALUE_BYTES = 1024;

const metadata = { $metadata: {} };

export class TwinKeyValueStore {
  private readonly entries = new Map<string, string>();
  private version = 1;

  constructor(readonly arn: string) {}

  /** What a function's `kvs.get(key)` returns; undefined when absent (the runtime's get() then rejects). */
  get(key: string): string | undefined {
    return this.entries.get(key);
  }

  get etag(): string {
    return `E${this.version}`;
  }

  /** The data-plane client routing-weights is given in the twin: DescribeKeyValueStore and UpdateKeys. */
  readonly client: GenerationStore['client'] = {
    send: (async (command: unknown) => {
      if (command instanceof DescribeKeyValueStoreCommand) return this.describe(command.input.KvsARN);
      if (command instanceof UpdateKeysCommand) return this.updateKeys(command.input);
      throw new ValidationException({ message: `the twin's KeyValueStore does not implement ${(command as object).constructor.name}`, ...metadata });
    }) as GenerationStore['client']['send'],
  };

  private describe(arn: string | undefined): DescribeKeyValueStoreCommandOutput {
    this.checkArn(arn);
    return { ...metadata, KvsARN: this.arn, ETag: this.etag, ItemCount: this.entries.size, TotalSizeInBytes: this.sizeInBytes(), Created: new Date(0) };
  }

  private updateKeys(input: UpdateKeysCommand['input']): UpdateKeysCommandOutput {
    this.checkArn(input.KvsARN);
    const puts = input.Puts ?? [];
    const deletes = input.Deletes ?? [];
    if (puts.length + deletes.length > TWIN_KVS_MAX_KEYS_PER_UPDATE) {
      throw new ValidationException({ message: `${puts.length + deletes.length} keys in one UpdateKeys; at most ${TWIN_KVS_MAX_KEYS_PER_UPDATE}`, ...metadata });
    }
    for (const { Key, Value } of puts) {
      if (!Key || Buffer.byteLength(Key) > TWIN_KVS_MAX_KEY_BYTES) throw new ValidationException({ message: `key must be 1–${TWIN_KVS_MAX_KEY_BYTES} bytes`, ...metadata });
      if (Value === undefined || Buffer.byteLength(Value) > TWIN_KVS_MAX_VALUE_BYTES) throw new ValidationException({ message: `value must be at most ${TWIN_KVS_MAX_VALUE_BYTES} bytes`, ...metadata });
    }
    if (input.IfMatch !== this.etag) throw new ConflictException({ message: 'the key value store has changed since the ETag was read', ...metadata });
    for (const { Key } of deletes) if (Key) this.entries.delete(Key);
    for (const { Key, Value } of puts) this.entries.set(Key!, Value!);
    this.version++;
    return { ...metadata, ETag: this.etag, ItemCount: this.entries.size, TotalSizeInBytes: this.sizeInBytes() };
  }

  private checkArn(arn: string | undefined): void {
    if (arn !== this.arn) throw new ValidationException({ message: `no key value store ${arn}`, ...metadata });
  }

  private sizeInBytes(): number {
    let bytes = 0;
    for (const [k, v] of this.entries) bytes += Buffer.byteLength(k) + Buffer.byteLength(v);
    return bytes;
  }
}
