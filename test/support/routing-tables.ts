import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { PATHWAYS_KEY, type PathwayEntry, type PathwayRegistryItem } from '../../core/routing-types';
import type { TableSpec } from '../../local/aws-servers';

/**
 * The routing table (pathway registry and `weights#<scope>` items, key `pk`) and the QoE rollups
 * table (key `minute` + `cell`), keyed as lib/constructs/routing-table.ts and telemetry-pipeline.ts
 * declare them, for `LocalAws.createTables`.
 */
export function routingTableSpecs(names: { readonly routingTableName: string; readonly rollupsTableName: string }): TableSpec[] {
  return [
    { tableName: names.routingTableName, partitionKey: { name: 'pk', type: 'S' } },
    { tableName: names.rollupsTableName, partitionKey: { name: 'minute', type: 'N' }, sortKey: { name: 'cell', type: 'S' } },
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
