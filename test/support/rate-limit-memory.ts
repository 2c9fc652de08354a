import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AwsClientStub } from 'aws-sdk-client-mock';

type Item = Record<string, unknown>;

interface UpdateInput {
  readonly Key: Item;
  readonly UpdateExpression: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues?: Record<string, unknown>;
}

/**
 * The report ingest's session-state table in memory, behind a mocked DocumentClient, for unit tests that
 * replay whole sessions through cmcd-ingest: it answers the GetItem and evaluates the `SET` UpdateItem that
 * tables/rate-limit-table.ts sends (ADR 0101), so a session's state carries from one report to the next as
 * it would in DynamoDB, and counts both. The table itself is tested against dynalite (test/integration).
 */
export class InMemoryRateLimitTable {
  readonly items = new Map<string, Item>();
  reads = 0;
  writes = 0;

  attach(mock: AwsClientStub<DynamoDBDocumentClient>): void {
    mock.on(GetCommand).callsFake(async (input: { Key: Item }) => {
      this.reads += 1;
      const item = this.items.get(String(input.Key.pk));
      return item === undefined ? {} : { Item: structuredClone(item) };
    });
    mock.on(UpdateCommand).callsFake(async (input: UpdateInput) => {
      this.writes += 1;
      const names = input.ExpressionAttributeNames ?? {};
      const values = input.ExpressionAttributeValues ?? {};
      const pk = String(input.Key.pk);
      const next: Item = { ...(this.items.get(pk) ?? { pk }) };
      const setText = /^SET (.*)$/.exec(input.UpdateExpression.trim())?.[1];
      if (setText === undefined) throw new Error(`unsupported update ${input.UpdateExpression}`);
      for (const part of setText.split(',')) {
        const [path, value] = part.split('=').map((p) => p.trim());
        next[names[path!]!] = values[value!];
      }
      this.items.set(pk, next);
      return {};
    });
  }
}
