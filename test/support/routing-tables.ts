import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { PATHWAYS_KEY, type PathwayEntry, type PathwayRegistryItem } from '../../core/routing-types';
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
