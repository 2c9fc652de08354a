import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AwsClientStub } from 'aws-sdk-client-mock';

type Item = Record<string, unknown>;

interface UpdateInput {
  readonly Key: Item;
  readonly UpdateExpression: string;
  readonly ConditionExpression?: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues?: Record<string, unknown>;
  readonly ReturnValues?: string;
}

/**
 * The report ingest's rate-limit table in memory, behind a mocked DocumentClient, for unit tests that
 * replay whole sessions through cmcd-ingest: it evaluates the two updates tables/rate-limit-table.ts sends
 * — the budget `ADD` with its room condition (`UPDATED_NEW`) and the session state `SET` (`ALL_OLD`) — so
 * a session's state and budgets carry from one report to the next as they would in DynamoDB. The table
 * itself is tested against dynalite (test/integration).
 */
export class InMemoryRateLimitTable {
  readonly items = new Map<string, Item>();

  attach(mock: AwsClientStub<DynamoDBDocumentClient>): void {
    mock.on(UpdateCommand).callsFake(async (input: UpdateInput) => {
      const names = input.ExpressionAttributeNames ?? {};
      const values = input.ExpressionAttributeValues ?? {};
      const pk = String(input.Key.pk);
      const old = this.items.get(pk);
      const next: Item = { ...(old ?? { pk }) };
      const [, addText = '', setText = ''] = /^(?:ADD (.*?))?\s*(?:SET (.*))?$/.exec(input.UpdateExpression.trim()) ?? [];
      const adds = clausesOf(addText);
      const sets = clausesOf(setText);
      if (input.ConditionExpression !== undefined) {
        // The budget's only condition: `attribute_not_exists(#lines) OR #lines <= :room`.
        const match = /^attribute_not_exists\((#\w+)\) OR (#\w+) <= (:\w+)$/.exec(input.ConditionExpression);
        if (match === null) throw new Error(`unsupported condition ${input.ConditionExpression}`);
        const current = old?.[names[match[2]!]!];
        if (current !== undefined && !(Number(current) <= Number(values[match[3]!]))) {
          throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
        }
      }
      for (const part of adds) {
        const [path, value] = part.split(/\s+/);
        const name = names[path!]!;
        next[name] = Number(next[name] ?? 0) + Number(values[value!]);
      }
      for (const part of sets) {
        const [path, expression] = part.split('=').map((p) => p.trim());
        const name = names[path!]!;
        const ifNotExists = /^if_not_exists\((#\w+), (:\w+)\)$/.exec(expression!);
        next[name] = ifNotExists ? (next[names[ifNotExists[1]!]!] ?? values[ifNotExists[2]!]) : values[expression!];
      }
      this.items.set(pk, next);
      if (input.ReturnValues === 'ALL_OLD') return { Attributes: old === undefined ? undefined : structuredClone(old) };
      if (input.ReturnValues === 'UPDATED_NEW') {
        const touched = [...adds, ...sets].map((part) => names[part.split(/[\s=]/)[0]!]!);
        return { Attributes: Object.fromEntries(touched.map((name) => [name, next[name]])) };
      }
      return {};
    });
  }
}

/** `a, b = f(c, d)` → [`a`, `b = f(c, d)`]: commas inside a function's parentheses do not split. */
function clausesOf(text: string): string[] {
  return text
    .split(/,(?![^(]*\))/)
    .map((part) => part.trim())
    .filter(Boolean);
}
