import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { createTableInput, TWIN_CREDENTIALS, type TableSpec } from '../../local/aws-servers';
import { closeServer, listenOnLoopback } from '../../local/http-server';
import { CATALOG_TABLE_SCHEMA, RATE_LIMIT_TABLE_SCHEMA, ROLLUPS_TABLE_SCHEMA, ROUTING_TABLE_SCHEMA } from '../../tables/table-schema';

/**
 * dynalite alone, in-process on 127.0.0.1 and an ephemeral port (so test files never collide), for the
 * repository tests in test/integration/tables-*.test.ts: a real DynamoDB API that evaluates the
 * repositories' own condition and update expressions.
 */
export interface LocalDynamoDb {
  readonly endpoint: string;
  /** Marshals `undefined` away, as the handlers' clients do. */
  readonly documents: DynamoDBDocumentClient;
  createTables(specs: readonly TableSpec[]): Promise<void>;
  stop(): Promise<void>;
}

/** The tables with the key schemas the stack and the twin declare them with (tables/table-schema.ts). */
export const TABLE_SPECS = {
  catalog: (tableName: string): TableSpec => ({ tableName, ...CATALOG_TABLE_SCHEMA }),
  routing: (tableName: string): TableSpec => ({ tableName, ...ROUTING_TABLE_SCHEMA }),
  rollups: (tableName: string): TableSpec => ({ tableName, ...ROLLUPS_TABLE_SCHEMA }),
  rateLimit: (tableName: string): TableSpec => ({ tableName, ...RATE_LIMIT_TABLE_SCHEMA }),
} as const;

export async function startLocalDynamoDb(): Promise<LocalDynamoDb> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const endpoint = await listenOnLoopback(server, 0);
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: TWIN_CREDENTIALS });
  const documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return {
    endpoint,
    documents,
    async createTables(specs) {
      for (const spec of specs) {
        await client.send(new CreateTableCommand(createTableInput(spec)));
        await waitUntilTableExists({ client, maxWaitTime: 10, minDelay: 0.05, maxDelay: 0.2 }, { TableName: spec.tableName });
      }
    },
    async stop() {
      client.destroy();
      await closeServer(server);
    },
  };
}
