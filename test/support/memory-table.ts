import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AwsClientStub } from 'aws-sdk-client-mock';

type Item = Record<string, unknown>;

/**
 * An in-memory Assets table behind a mocked DocumentClient, for the catalog handlers' unit tests
 * (submit-job, job-status). It evaluates the condition and update expressions tables/catalog-table.ts
 * sends (the subset it uses), so duplicates and out-of-order events behave as they would against
 * DynamoDB. The catalog table itself is tested against dynalite (test/integration/tables-catalog.test.ts).
 */
export class InMemoryAssetsTable {
  readonly items = new Map<string, Item>();

  attach(mock: AwsClientStub<DynamoDBDocumentClient>): void {
    mock.on(GetCommand).callsFake(async (input: { Key: Item }) => ({ Item: this.read(input.Key) }));
    mock.on(PutCommand).callsFake(async (input: { Item: Item; ConditionExpression?: string; ExpressionAttributeNames?: Record<string, string> }) => {
      this.check(this.read(input.Item), input.ConditionExpression, input.ExpressionAttributeNames, {});
      this.items.set(keyOf(input.Item), structuredClone(input.Item));
      return {};
    });
    mock.on(UpdateCommand).callsFake(
      async (input: {
        Key: Item;
        UpdateExpression: string;
        ConditionExpression?: string;
        ExpressionAttributeNames?: Record<string, string>;
        ExpressionAttributeValues?: Record<string, unknown>;
        ReturnValues?: string;
      }) => {
        const names = input.ExpressionAttributeNames ?? {};
        const values = input.ExpressionAttributeValues ?? {};
        const existing = this.read(input.Key);
        this.check(existing, input.ConditionExpression, names, values);
        const next: Item = { ...(existing ?? input.Key) };
        for (const clause of input.UpdateExpression.split(/(?=\bSET |\bREMOVE )/)) {
          const [verb, ...rest] = clause.trim().split(' ');
          for (const part of rest.join(' ').split(',').map((p) => p.trim()).filter(Boolean)) {
            if (verb === 'SET') {
              const [path, value] = part.split('=').map((p) => p.trim());
              next[names[path!] ?? path!] = structuredClone(values[value!]);
            } else {
              delete next[names[part] ?? part];
            }
          }
        }
        this.items.set(keyOf(input.Key), next);
        return input.ReturnValues === 'ALL_NEW' ? { Attributes: structuredClone(next) } : {};
      },
    );
  }

  revision(assetId: string, revision: string): Item | undefined {
    return this.read({ assetId, sk: `rev#${revision}` });
  }

  head(assetId: string): Item | undefined {
    return this.read({ assetId, sk: 'asset' });
  }

  private read(key: Item): Item | undefined {
    const item = this.items.get(keyOf(key));
    return item ? structuredClone(item) : undefined;
  }

  private check(item: Item | undefined, expression: string | undefined, names: Record<string, string> = {}, values: Record<string, unknown>): void {
    if (expression && !evaluateCondition(expression, item, names, values)) {
      throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
    }
  }
}

const keyOf = (item: Item): string => `${String(item.assetId)}|${String(item.sk)}`;

function evaluateCondition(expression: string, item: Item | undefined, names: Record<string, string>, values: Record<string, unknown>): boolean {
  const tokens = expression.match(/attribute_not_exists|attribute_exists|AND|OR|IN|<>|<=|>=|=|<|>|\(|\)|,|[#:][\w]+/g) ?? [];
  let at = 0;
  const take = (expected?: string): string => {
    const token = tokens[at++];
    if (token === undefined || (expected !== undefined && token !== expected)) throw new Error(`bad expression near ${token}: ${expression}`);
    return token;
  };
  const operand = (): unknown => {
    const token = take();
    return token.startsWith('#') ? item?.[names[token]!] : values[token];
  };
  const primary = (): boolean => {
    const token = tokens[at];
    if (token === '(') {
      take('(');
      const inner = disjunction();
      take(')');
      return inner;
    }
    if (token === 'attribute_exists' || token === 'attribute_not_exists') {
      take();
      take('(');
      const attribute = names[take()]!;
      const present = item?.[attribute] !== undefined;
      take(')');
      return token === 'attribute_exists' ? present : !present;
    }
    const left = operand();
    const operator = take();
    if (operator === 'IN') {
      take('(');
      const list = [operand()];
      while (tokens[at] === ',') {
        take(',');
        list.push(operand());
      }
      take(')');
      return list.includes(left);
    }
    const right = operand();
    // DynamoDB: a comparison with a missing attribute is false.
    if (left === undefined || right === undefined) return false;
    const [l, r] = [left as string | number, right as string | number];
    return { '=': l === r, '<>': l !== r, '<': l < r, '<=': l <= r, '>': l > r, '>=': l >= r }[operator] ?? false;
  };
  const conjunction = (): boolean => {
    let result = primary();
    while (tokens[at] === 'AND') {
      take('AND');
      result = primary() && result;
    }
    return result;
  };
  const disjunction = (): boolean => {
    let result = conjunction();
    while (tokens[at] === 'OR') {
      take('OR');
      result = conjunction() || result;
    }
    return result;
  };
  const result = disjunction();
  if (at !== tokens.length) throw new Error(`unparsed tail in ${expression}`);
  return result;
}
