/**
 * The routing table: the pathway registry (`pk = pathways`, written at deploy time) and one weights
 * item per scope (`pk = weights#<scope>`, written by routing-weights). Every reader — routing-weights,
 * qoe-aggregator, the steering edge function, the twin's operator page — goes through this module, so
 * an item is validated in one place and means the same everywhere (ADR 0007; docs/routing.md "Items
 * written").
 *
 * The steering edge function bundles this file: it may import only `@aws-sdk/lib-dynamodb` and
 * `@aws-sdk/client-dynamodb` (provided by the Lambda runtime, left out of the edge bundle) and core/.
 */
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import { isPathwayHost, isPathwayId } from '../core/identifiers';
import { GLOBAL_SCOPE, PATHWAYS_KEY, type PathwayEntry, type PathwayRegistryItem, WEIGHTS_KEY_PREFIX, weightsKey, type WeightsItem } from '../core/routing-types';
import { isConditionFailure } from './condition-failure';

export { weightsKey };

/** BatchGetItem reads at most 100 keys per call (DynamoDB API reference, BatchGetItem). */
const BATCH_GET_LIMIT = 100;
/** Rounds of UnprocessedKeys retries before a batch read gives up. */
const BATCH_GET_RETRIES = 5;

/** No usable registry item: nothing can be routed or attributed without one. */
export class RegistryMissingError extends Error {
  constructor(where: string) {
    super(`${where} has no usable "${PATHWAYS_KEY}" registry item`);
    this.name = 'RegistryMissingError';
  }
}

/** The registry as read: the entries that can be trusted, and why the others were set aside. */
export interface PathwayRegistry {
  /** Registry order. */
  readonly pathways: readonly PathwayEntry[];
  /** One line per entry that was set aside, e.g. `entry 2 ("cf-x"): cap must be a number in (0, 1]`. */
  readonly rejected: readonly string[];
}

/**
 * The one validation of the registry item. An entry is used only with a pathway id and a host that
 * can go into manifests and URLs (core/identifiers.ts), a boolean `enabled` and a numeric `cap` in
 * (0, 1]; anything else is set aside, never half-trusted (a missing cap once gave NaN shares).
 * Throws RegistryMissingError when the item has no `pathways` list at all.
 */
export function parseRegistry(item: unknown): PathwayRegistry {
  const list = (item as { pathways?: unknown } | null | undefined)?.pathways;
  if (!Array.isArray(list)) throw new RegistryMissingError('the routing table');
  const pathways: PathwayEntry[] = [];
  const rejected: string[] = [];
  const seen = new Set<string>();
  list.forEach((raw: unknown, index) => {
    const entry = (raw !== null && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
    const problem = !isPathwayId(entry.id)
      ? 'id must be a pathway id'
      : !isPathwayHost(entry.host)
        ? 'host must be a host name, optionally with a port'
        : typeof entry.enabled !== 'boolean'
          ? 'enabled must be true or false'
          : typeof entry.cap !== 'number' || !(entry.cap > 0 && entry.cap <= 1)
            ? 'cap must be a number in (0, 1]'
            : seen.has(entry.id)
              ? 'id appears twice'
              : undefined;
    if (problem !== undefined) {
      rejected.push(`entry ${index} (${JSON.stringify(entry.id) ?? 'no id'}): ${problem}`);
      return;
    }
    seen.add(entry.id as string);
    pathways.push({ id: entry.id as string, host: entry.host as string, enabled: entry.enabled as boolean, cap: entry.cap as number });
  });
  return { pathways, rejected };
}

/** Shares per pathway id; non-numbers and negative values are dropped. Null when there is no such map. */
function parseShares(raw: unknown): Record<string, number> | null {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return null;
  const shares: Record<string, number> = {};
  for (const [id, value] of Object.entries(raw as Record<string, unknown>)) {
    const share = typeof value === 'number' ? value : Number(value);
    if (Number.isFinite(share) && share >= 0) shares[id] = share;
  }
  return shares;
}

/** A weights item as read, with the scope taken from the key when the attribute is missing. */
function toWeightsItem(item: Record<string, unknown>): WeightsItem {
  const pk = String(item.pk);
  const target = parseShares(item.target);
  const control = item.control !== null && typeof item.control === 'object' ? (item.control as WeightsItem['control']) : undefined;
  return {
    pk,
    scope: typeof item.scope === 'string' ? item.scope : pk.slice(WEIGHTS_KEY_PREFIX.length),
    weights: parseShares(item.weights) ?? {},
    version: typeof item.version === 'number' ? item.version : Number(item.version) || 0,
    updatedAt: typeof item.updatedAt === 'string' ? item.updatedAt : '',
    reason: typeof item.reason === 'string' ? item.reason : '',
    ...(target ? { target } : {}),
    ...(control ? { control } : {}),
  };
}

/** Keys of what the steering edge reads for one viewer: the registry, then each scope's weights. */
export function steeringKeys(scopes: readonly string[]): string[] {
  return [PATHWAYS_KEY, ...scopes.map(weightsKey)];
}

/** What the steering edge learns from one read of `steeringKeys(scopes)`. */
export interface SteeringRead {
  /** Undefined when the registry item was not returned. */
  readonly registry: PathwayRegistry | undefined;
  /** Per scope: its shares, or null when it has no weights item. */
  readonly shares: ReadonlyMap<string, Readonly<Record<string, number>> | null>;
}

/** Interprets items read by `RoutingTable.readItems(steeringKeys(scopes))` (or a stand-in). */
export function steeringReadOf(items: ReadonlyMap<string, unknown>, scopes: readonly string[]): SteeringRead {
  const registryItem = items.get(PATHWAYS_KEY);
  const shares = new Map<string, Record<string, number> | null>();
  for (const scope of scopes) {
    const item = items.get(weightsKey(scope));
    shares.set(scope, item === undefined ? null : parseShares((item as { weights?: unknown }).weights));
  }
  return { registry: registryItem === undefined ? undefined : parseRegistry(registryItem), shares };
}

/** Reads routing items by partition key; absent items are absent from the map (the steering edge's view). */
export type RoutingItemReader = (keys: readonly string[]) => Promise<ReadonlyMap<string, unknown>>;

/**
 * Raw items by key in one eventually consistent BatchGetItem, for the steering edge (interpret them
 * with `steeringReadOf`). A partial answer would look like "no weights for this country", so
 * UnprocessedKeys fail the read and the edge keeps its last good copy. A function of its own, not
 * only a method, so the edge bundle carries this read and not the rest of RoutingTable.
 */
export function routingItemReader(documents: DynamoDBDocumentClient, tableName: string): RoutingItemReader {
  return async (keys) => {
    const result = await documents.send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: keys.map((pk) => ({ pk })) } } }));
    if ((result.UnprocessedKeys?.[tableName]?.Keys?.length ?? 0) > 0) throw new Error('routing table read was throttled (UnprocessedKeys)');
    const items = new Map<string, unknown>();
    for (const item of result.Responses?.[tableName] ?? []) items.set(String(item.pk), item);
    return items;
  };
}

/**
 * The registry item: written by the deploy (a custom resource, lib/constructs/routing-table.ts) on every
 * deploy and by the twin at start. A host may be a CloudFormation token at synth time.
 */
export function registryItemOf(pathways: readonly PathwayEntry[]): PathwayRegistryItem {
  return { pk: PATHWAYS_KEY, pathways: pathways.map(({ id, host, enabled, cap }) => ({ id, host, enabled, cap })) };
}

/**
 * The global weights item seeded once, before routing-weights has learned anything: equal shares over
 * the enabled pathways. Version 0, so the controller's first write (version 1) replaces it.
 */
export function seedWeightsItemOf(pathways: readonly PathwayEntry[], reason: string, updatedAt = '1970-01-01T00:00:00.000Z'): WeightsItem {
  const enabled = pathways.filter((p) => p.enabled);
  const share = enabled.length > 0 ? Math.round(1e6 / enabled.length) / 1e6 : 0;
  return {
    pk: weightsKey(GLOBAL_SCOPE),
    scope: GLOBAL_SCOPE,
    weights: Object.fromEntries(enabled.map((p) => [p.id, share])),
    version: 0,
    updatedAt,
    reason,
  };
}

export interface RoutingTableOptions {
  /** Backoff between UnprocessedKeys retries. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

export class RoutingTable {
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly documents: DynamoDBDocumentClient,
    readonly tableName: string,
    options: RoutingTableOptions = {},
  ) {
    this.sleep = options.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  }

  /**
   * The validated registry. routing-weights reads it consistently (it decides from it at once);
   * the aggregator caches it for a minute and reads it eventually consistent.
   */
  async readRegistry(options: { readonly consistent?: boolean } = {}): Promise<PathwayRegistry> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: PATHWAYS_KEY }, ...(options.consistent ? { ConsistentRead: true } : {}) }),
    );
    if (Item === undefined || !Array.isArray(Item.pathways)) throw new RegistryMissingError(`routing table ${this.tableName}`);
    return parseRegistry(Item);
  }

  /**
   * The weights items of `scopes` that exist, by scope, read consistently. UnprocessedKeys are normal
   * under throttling: they are retried with a short backoff, and the read fails only if they persist.
   */
  async readWeights(scopes: readonly string[]): Promise<Map<string, WeightsItem>> {
    const found = new Map<string, WeightsItem>();
    for (let i = 0; i < scopes.length; i += BATCH_GET_LIMIT) {
      let keys: Record<string, unknown>[] = scopes.slice(i, i + BATCH_GET_LIMIT).map((scope) => ({ pk: weightsKey(scope) }));
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt > 0) await this.sleep(Math.min(1000, 50 * 2 ** attempt));
        if (attempt > BATCH_GET_RETRIES) throw new Error(`BatchGetItem left ${keys.length} weights keys unprocessed after ${attempt} attempts`);
        const out = await this.documents.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of out.Responses?.[this.tableName] ?? []) {
          const weights = toWeightsItem(item);
          found.set(weights.scope, weights);
        }
        keys = (out.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return found;
  }

  /** One scope's weights item, read consistently (after a conflicting write). */
  async readScopeWeights(scope: string): Promise<WeightsItem | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: weightsKey(scope) }, ConsistentRead: true }),
    );
    return Item ? toWeightsItem(Item) : undefined;
  }

  /**
   * Writes a scope's weights with optimistic versioning: only over the version `previous` had, or only
   * if the item still does not exist when there was none. The new item's version is one higher.
   * False when someone else wrote the scope in between.
   */
  async writeWeights(next: Omit<WeightsItem, 'pk' | 'version'>, previous: Pick<WeightsItem, 'version'> | undefined): Promise<boolean> {
    const item: WeightsItem = { pk: weightsKey(next.scope), ...next, version: (previous?.version ?? 0) + 1 };
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ...(previous
            ? {
                ConditionExpression: '#version = :version',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':version': previous.version },
              }
            : { ConditionExpression: 'attribute_not_exists(pk)' }),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Replaces the registry (the twin's start; the cloud writes it through the deploy's custom resource). */
  async putRegistry(pathways: readonly PathwayEntry[]): Promise<void> {
    await this.documents.send(new PutCommand({ TableName: this.tableName, Item: registryItemOf(pathways) }));
  }

  /** Seeds the global weights unless some are there already; false when they were. */
  async seedWeights(item: WeightsItem): Promise<boolean> {
    try {
      await this.documents.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** `routingItemReader` on this table. */
  get readItems(): RoutingItemReader {
    return routingItemReader(this.documents, this.tableName);
  }

  /**
   * The whole table, for the twin's operator page (a handful of items): the registry, if there is a
   * usable one, and every weights item.
   */
  async readAll(): Promise<{ readonly registry: PathwayRegistry | undefined; readonly weights: WeightsItem[] }> {
    const items: Record<string, unknown>[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(new ScanCommand({ TableName: this.tableName, ExclusiveStartKey }));
      items.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    const registryItem = items.find((item) => item.pk === PATHWAYS_KEY);
    return {
      registry: Array.isArray(registryItem?.pathways) ? parseRegistry(registryItem) : undefined,
      weights: items.filter((item) => typeof item.pk === 'string' && item.pk.startsWith(WEIGHTS_KEY_PREFIX)).map(toWeightsItem),
    };
  }
}
