/**
 * The routing table: the pathway registry (`pk = pathways`, written at deploy time), one weights
 * item per scope (`pk = weights#<scope>`, written by routing-weights) and the routing snapshot copies
 * (`pk = routing-snapshot#<n>`, registry and every scope's weights in one item, ADR 0048). Every reader — routing-weights,
 * qoe-aggregator, the steering edge function, the twin's operator page — goes through this module, so
 * an item is validated in one place and means the same everywhere (ADR 0007; docs/routing.md "Items
 * written").
 *
 * The steering edge function bundles this file (it reads one snapshot copy per period): it may import only `@aws-sdk/lib-dynamodb` and
 * `@aws-sdk/client-dynamodb` (provided by the Lambda runtime, left out of the edge bundle) and core/.
 */
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import { isPathwayHost, isPathwayId, isRoutingCountry } from '../core/identifiers';
import type { AnnouncedGeneration } from '../core/routing-generation';
import {
  ANNOUNCED_GENERATIONS_KEY,
  GLOBAL_SCOPE,
  PATHWAYS_KEY,
  type PathwayEntry,
  type PathwayRegistryItem,
  ROUTING_SNAPSHOT_SHARDS,
  type RoutingSnapshotItem,
  SNAPSHOT_KEY_PREFIX,
  SNAPSHOT_WEIGHT_SCALE,
  snapshotKey,
  WEIGHTS_KEY_PREFIX,
  weightsKey,
  type WeightsItem,
} from '../core/routing-types';
import { isConditionFailure } from './condition-failure';

export { weightsKey };

/**
 * Size of an item as DynamoDB counts it for the 400 KB limit and capacity units: the UTF-8 lengths of
 * attribute names and strings, numbers at about one byte per two significant digits plus one, and 3
 * bytes per list or map plus one per element (DynamoDB Developer Guide, "Item sizes and formats").
 */
export function snapshotItemBytes(item: RoutingSnapshotItem): number {
  const text = (s: string): number => Buffer.byteLength(s, 'utf8');
  const num = (n: number): number => Math.ceil(String(Math.abs(n)).replace(/[.-]/g, '').replace(/^0+/, '').length / 2) + 1;
  let bytes = text('pk') + text(item.pk) + text('generation') + num(item.generation) + text('ids') + text(item.ids) + text('weights') + text(item.weights);
  bytes += text('pathways') + 3 + item.pathways.length;
  for (const p of item.pathways) bytes += 3 + 4 + text('id') + text(p.id) + text('host') + text(p.host) + text('enabled') + 1 + text('cap') + num(p.cap);
  return bytes;
}

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

/** Largest snapshot a reader decodes: DynamoDB's item limit (400 KB); anything bigger is not ours. */
export const MAX_SNAPSHOT_TEXT_BYTES = 400 * 1024;

/** One routing snapshot as the steering edge uses it (ADR 0048). */
export interface RoutingSnapshot {
  readonly generation: number;
  /** Validated registry entries, registry order (disabled ones included; readers filter). */
  readonly pathways: readonly PathwayEntry[];
  /** Shares per pathway id, by scope (`*` or a country). Scopes whose entry was malformed are absent. */
  readonly shares: ReadonlyMap<string, Readonly<Record<string, number>>>;
  /** One line per part that was set aside (a malformed scope entry, a rejected registry entry). */
  readonly rejected: readonly string[];
}

/** A snapshot item that cannot be used at all (the reader keeps its last good snapshot). */
export class InvalidSnapshotError extends Error {
  constructor(reason: string) {
    super(`routing snapshot unusable: ${reason}`);
    this.name = 'InvalidSnapshotError';
  }
}

/** Registry plus every scope's weights, encoded for one snapshot item (see RoutingSnapshotItem). */
export function snapshotItemOf(
  shard: number,
  generation: number,
  pathways: readonly PathwayEntry[],
  weights: ReadonlyMap<string, Readonly<Record<string, number>>>,
): RoutingSnapshotItem {
  const ids = pathways.map((p) => p.id);
  const entries: string[] = [];
  // The global scope first, then countries in order: the same state always encodes to the same text.
  const scopes = [...weights.keys()].filter((scope) => scope === GLOBAL_SCOPE || isRoutingCountry(scope)).sort();
  for (const scope of scopes) {
    const shares = weights.get(scope) as Readonly<Record<string, number>>;
    const values = ids.map((id) => {
      const share = shares[id];
      return typeof share === 'number' && Number.isFinite(share) && share > 0 ? Math.min(SNAPSHOT_WEIGHT_SCALE, Math.round(share * SNAPSHOT_WEIGHT_SCALE)) : 0;
    });
    entries.push(`${scope}=${values.join(',')}`);
  }
  return { pk: snapshotKey(shard), generation, pathways: registryItemOf(pathways).pathways, ids: ids.join(','), weights: entries.join(';') };
}

const SNAPSHOT_WEIGHT = /^(0|[1-9]\d{0,4})$/;

/**
 * The one decoding of a snapshot item. The registry part goes through `parseRegistry`; a scope entry that
 * is malformed (unknown scope, wrong count, a value that is not an integer in [0, SNAPSHOT_WEIGHT_SCALE],
 * a repeated scope) is set aside and that scope falls back to the global weights, like a missing item.
 * Throws InvalidSnapshotError when the item is unusable as a whole: no generation, no registry, text too long.
 */
export function parseRoutingSnapshot(item: unknown): RoutingSnapshot {
  if (item === null || typeof item !== 'object') throw new InvalidSnapshotError('not an item');
  const raw = item as Record<string, unknown>;
  const generation = raw.generation;
  if (typeof generation !== 'number' || !Number.isSafeInteger(generation) || generation < 0) throw new InvalidSnapshotError('generation must be a non-negative integer');
  if (typeof raw.ids !== 'string' || typeof raw.weights !== 'string') throw new InvalidSnapshotError('ids and weights must be text');
  if (raw.ids.length + raw.weights.length > MAX_SNAPSHOT_TEXT_BYTES) throw new InvalidSnapshotError(`ids and weights exceed ${MAX_SNAPSHOT_TEXT_BYTES} characters`);
  let registry: PathwayRegistry;
  try {
    registry = parseRegistry(raw);
  } catch {
    throw new InvalidSnapshotError('no pathways list');
  }
  const rejected = [...registry.rejected];
  const ids = raw.ids === '' ? [] : raw.ids.split(',');
  const shares = new Map<string, Record<string, number>>();
  if (raw.weights !== '') {
    for (const entry of raw.weights.split(';')) {
      const eq = entry.indexOf('=');
      const scope = eq < 0 ? entry : entry.slice(0, eq);
      const values = eq < 0 ? [] : entry.slice(eq + 1).split(',');
      const label = JSON.stringify(scope.slice(0, 8));
      if (scope !== GLOBAL_SCOPE && !isRoutingCountry(scope)) rejected.push(`scope ${label}: not "*" or a country`);
      else if (shares.has(scope)) rejected.push(`scope ${label}: appears twice`);
      else if (values.length !== ids.length) rejected.push(`scope ${label}: ${values.length} weights for ${ids.length} pathways`);
      else if (!values.every((v) => SNAPSHOT_WEIGHT.test(v) && Number(v) <= SNAPSHOT_WEIGHT_SCALE)) rejected.push(`scope ${label}: weights must be integers in [0, ${SNAPSHOT_WEIGHT_SCALE}]`);
      else shares.set(scope, Object.fromEntries(ids.map((id, i) => [id, Number(values[i]) / SNAPSHOT_WEIGHT_SCALE])));
    }
  }
  return { generation, pathways: registry.pathways, shares, rejected };
}

/**
 * Reads one snapshot item (raw; interpret with `parseRoutingSnapshot`), or undefined when none is
 * written yet. Each call picks a random shard (ROUTING_SNAPSHOT_SHARDS), so containers spread their reads.
 */
export type RoutingSnapshotReader = () => Promise<unknown>;

/**
 * One eventually consistent GetItem of a random snapshot shard, for the steering edge. A function of its
 * own, not only a method, so the edge bundle carries this read and not the rest of RoutingTable.
 */
export function routingSnapshotReader(documents: DynamoDBDocumentClient, tableName: string, random: () => number = Math.random): RoutingSnapshotReader {
  return async () => {
    const shard = Math.min(ROUTING_SNAPSHOT_SHARDS - 1, Math.floor(random() * ROUTING_SNAPSHOT_SHARDS));
    const { Item } = await documents.send(new GetCommand({ TableName: tableName, Key: { pk: snapshotKey(shard) } }));
    return Item;
  };
}

/** What `publishSnapshot` wrote. */
export interface PublishedSnapshot {
  readonly generation: number;
  readonly scopes: number;
  /** Size of one copy, as DynamoDB counts it (attribute names plus values). */
  readonly itemBytes: number;
  /** Shards that already held a newer generation (an overlapping later tick) and were left alone. */
  readonly newerKept: number;
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

  /** The snapshot as published (copy 0, strongly consistent), or undefined before the first: what routing-weights announces (ADR 0097). */
  async readPublishedSnapshot(): Promise<RoutingSnapshot | undefined> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: { pk: snapshotKey(0) }, ConsistentRead: true }));
    return Item === undefined ? undefined : parseRoutingSnapshot(Item);
  }

  /** What routing-weights last announced per scope (ADR 0097), with the item's version; undefined before the first. Malformed entries are left out. */
  async readAnnouncedGenerations(): Promise<{ readonly version: number; readonly scopes: Readonly<Record<string, AnnouncedGeneration>> } | undefined> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: { pk: ANNOUNCED_GENERATIONS_KEY }, ConsistentRead: true }));
    if (Item === undefined || typeof Item.version !== 'number' || Item.scopes === null || typeof Item.scopes !== 'object') return undefined;
    const scopes: Record<string, AnnouncedGeneration> = {};
    for (const [scope, entry] of Object.entries(Item.scopes as Record<string, unknown>)) {
      const e = entry as { generation?: unknown; shares?: unknown } | null;
      if (e === null || typeof e !== 'object' || typeof e.generation !== 'number' || e.shares === null || typeof e.shares !== 'object') continue;
      scopes[scope] = { generation: e.generation, shares: e.shares as Record<string, number> };
    }
    return { version: Item.version, scopes };
  }

  /**
   * Writes the announcements over the `version` read (undefined: none yet); false when another writer (an
   * overlapping invocation) got there first — both announced to the store, and the next comparison starts from
   * whichever record won.
   */
  async saveAnnouncedGenerations(scopes: Readonly<Record<string, AnnouncedGeneration>>, version: number | undefined): Promise<boolean> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: ANNOUNCED_GENERATIONS_KEY, version: (version ?? 0) + 1, scopes },
          ...(version === undefined
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : { ConditionExpression: '#version = :version', ExpressionAttributeNames: { '#version': 'version' }, ExpressionAttributeValues: { ':version': version } }),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** `routingSnapshotReader` on this table. */
  get readSnapshot(): RoutingSnapshotReader {
    return routingSnapshotReader(this.documents, this.tableName);
  }

  /**
   * Writes the routing snapshot (ADR 0048) to every shard: the registry and every scope's weights as they
   * are now (one consistent Scan of this small table), stamped `generation`. A shard that holds a newer
   * generation is left alone, so an overlapping older tick never rolls the edge back; re-running the same
   * generation writes the same item again (idempotent).
   */
  async publishSnapshot(generation: number): Promise<PublishedSnapshot> {
    const { registry, weights } = await this.readAll({ consistent: true });
    if (registry === undefined) throw new RegistryMissingError(`routing table ${this.tableName}`);
    const byScope = new Map(weights.map((w) => [w.scope, w.weights]));
    let newerKept = 0;
    let itemBytes = 0;
    for (let shard = 0; shard < ROUTING_SNAPSHOT_SHARDS; shard++) {
      const item = snapshotItemOf(shard, generation, registry.pathways, byScope);
      itemBytes = snapshotItemBytes(item);
      try {
        await this.documents.send(
          new PutCommand({
            TableName: this.tableName,
            Item: item,
            ConditionExpression: 'attribute_not_exists(pk) OR #generation <= :generation',
            ExpressionAttributeNames: { '#generation': 'generation' },
            ExpressionAttributeValues: { ':generation': generation },
          }),
        );
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        newerKept++;
      }
    }
    return { generation, scopes: byScope.size, itemBytes, newerKept };
  }

  /**
   * The whole table, for the twin's operator page (a handful of items): the registry, if there is a
   * usable one, and every weights item.
   */
  async readAll(options: { readonly consistent?: boolean } = {}): Promise<{ readonly registry: PathwayRegistry | undefined; readonly weights: WeightsItem[] }> {
    const items: Record<string, unknown>[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      // The snapshot copies are the largest items and say nothing new here: not returned (still read).
      const page = await this.documents.send(
        new ScanCommand({
          TableName: this.tableName,
          ExclusiveStartKey,
          FilterExpression: 'NOT begins_with(pk, :snapshot)',
          ExpressionAttributeValues: { ':snapshot': SNAPSHOT_KEY_PREFIX },
          ...(options.consistent ? { ConsistentRead: true } : {}),
        }),
      );
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
