import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { PATHWAYS_KEY, type PathwayEntry, type PathwayRegistryItem, WEIGHTS_KEY_PREFIX } from '../../core/routing-types';
import { parseRegistry, snapshotItemOf } from '../../tables/routing-table';
import type { TableSpec } from '../../local/aws-servers';
import { ROLLUPS_TABLE_SCHEMA, ROUTING_TABLE_SCHEMA } from '../../tables/table-schema';

/**
 * The routing table and the QoE rollups table with their key schemas (tables/table-schema.ts), for
 * `LocalAws.createTables`.
 */
export function routingTableSpecs(names: { readonly routingTableName: string; readonly rollupsTableName: string }): TableSpec[] {
  return [
    { tableName: names.routingTableName, ...ROUTING_TABLE_SCHEMA },
    { tableName: names.rollupsTableName, ...ROLLUPS_TABLE_SCHEMA },
  ];
}

/** Writes the pathway registry item the aggregator and the routing-weights controller read. */
export async function putPathwayRegistry(
  ddb: DynamoDBDocumentClient,
  routingTableName: string,
  pathways: readonly PathwayEntry[],
  updatedAt?: string,
): Promise<void> {
  const item: PathwayRegistryItem = { pk: PATHWAYS_KEY, pathways, ...(updatedAt === undefined ? {} : { updatedAt }) };
  await ddb.send(new PutCommand({ TableName: routingTableName, Item: item }));
}

/**
 * A stand-in for the steering edge's snapshot read (ADR 0048): the snapshot routing-weights would publish
 * from these routing-table items (`pathways` and `weights#<scope>`), built at each call, so a test that
 * changes `items` sees the change on the next read. Undefined when there is no registry item.
 */
export function snapshotOfItems(items: Readonly<Record<string, unknown>>, generation = 1): Record<string, unknown> | undefined {
  const registry = items[PATHWAYS_KEY];
  if (registry === undefined) return undefined;
  const weights = new Map<string, Readonly<Record<string, number>>>();
  for (const [key, item] of Object.entries(items)) {
    if (key.startsWith(WEIGHTS_KEY_PREFIX)) weights.set(key.slice(WEIGHTS_KEY_PREFIX.length), (item as { weights: Record<string, number> }).weights);
  }
  return { ...snapshotItemOf(0, generation, parseRegistry(registry).pathways, weights) };
}
