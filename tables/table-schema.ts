/**
 * The key schema of each table, as data: the CDK constructs declare the tables from it
 * (lib/constructs/*) and the twin creates them in dynalite from it (local/dev.ts), so the repositories
 * beside this file, which own the keys, are the only place a key attribute is named.
 */

export interface KeyAttribute {
  readonly name: string;
  /** DynamoDB scalar type: S string, N number. */
  readonly type: 'S' | 'N';
}

export interface TableSchema {
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  /** Attribute holding the item's expiry (epoch seconds) for DynamoDB TTL. */
  readonly timeToLiveAttribute?: string;
}

/** Assets table: `assetId` + `sk` ("asset" for the head, "rev#<revision>" per revision). */
export const CATALOG_TABLE_SCHEMA: TableSchema = {
  partitionKey: { name: 'assetId', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
};

/** Routing table: `pk` ("pathways", "weights#<scope>"). */
export const ROUTING_TABLE_SCHEMA: TableSchema = {
  partitionKey: { name: 'pk', type: 'S' },
};

/**
 * QoE rollups: `pk` = `<minute>#<write shard>` (a minute spread over several partition keys, ADR 0035), one
 * item per `<pathway>#<country>` cell; plus the two-stage writers' progress items (tables/rollups-table.ts).
 */
export const ROLLUPS_TABLE_SCHEMA: TableSchema = {
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'cell', type: 'S' },
  timeToLiveAttribute: 'expiresAt',
};

/** The report ingest's session state: `pk` = `<sid>#session` (ADR 0101; the table keeps its old name). */
export const RATE_LIMIT_TABLE_SCHEMA: TableSchema = {
  partitionKey: { name: 'pk', type: 'S' },
  timeToLiveAttribute: 'expiresAt',
};
