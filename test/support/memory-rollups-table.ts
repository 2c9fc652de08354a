import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';

type Item = Record<string, unknown>;

/**
 * An in-memory QoE rollups table that answers the calls tables/rollups-table.ts makes (Get, Put, Update with
 * its ADD/SET and `attribute_not_exists` / `=` conditions, Query by partition key), for the unit tests of
 * the two rollup stages and the write-units benchmark. It counts write units as DynamoDB bills them: per
 * write, the larger of the item's size before and after, in 1 KB units rounded up (DynamoDB developer guide,
 * "Read/write capacity mode" and "Item sizes and formats"). The repository itself runs against dynalite in
 * test/integration/tables-rollups.test.ts.
 */
export class MemoryRollupsTable {
  readonly items = new Map<string, Item>();
  writes = 0;
  writeUnits = 0;
  /** Write units and writes per partition key. */
  readonly unitsByPartition = new Map<string, number>();
  readonly writesByPartition = new Map<string, number>();
  /** Make the next calls fail: return an error to throw for a command, or undefined to let it through. */
  fault?: (command: { constructor: { name: string }; input: Record<string, unknown> }) => Error | undefined;

  /** The DocumentClient's `send`, for `{ send } as DynamoDBDocumentClient` or `mock.callsFake`. */
  readonly send = async (command: { constructor: { name: string }; input: Record<string, unknown> }): Promise<Record<string, unknown>> => {
    const error = this.fault?.(command);
    if (error) throw error;
    if (command instanceof GetCommand || command.constructor.name === 'GetCommand') {
      const item = this.items.get(keyOf(command.input.Key as Item));
      return item === undefined ? {} : { Item: structuredClone(item) };
    }
    if (command instanceof QueryCommand || command.constructor.name === 'QueryCommand') {
      const value = Object.values(command.input.ExpressionAttributeValues as Item)[0];
      return { Items: [...this.items.values()].filter((item) => item.pk === value).map((item) => structuredClone(item)) };
    }
    if (command instanceof PutCommand || command.constructor.name === 'PutCommand') {
      const input = command.input as { Item: Item; ConditionExpression?: string; ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Item };
      const key = keyOf(input.Item);
      const before = this.items.get(key);
      check(before, input.ConditionExpression, input.ExpressionAttributeNames ?? {}, input.ExpressionAttributeValues ?? {});
      this.store(key, before, structuredClone(input.Item));
      return {};
    }
    if (command instanceof UpdateCommand || command.constructor.name === 'UpdateCommand') {
      const input = command.input as { Key: Item; UpdateExpression: string; ConditionExpression?: string; ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Item };
      const names = input.ExpressionAttributeNames ?? {};
      const values = input.ExpressionAttributeValues ?? {};
      const key = keyOf(input.Key);
      const before = this.items.get(key);
      check(before, input.ConditionExpression, names, values);
      const next: Item = structuredClone(before ?? { ...input.Key });
      for (const clause of input.UpdateExpression.split(/(?=\b(?:SET|ADD) )/)) {
        const [verb, ...rest] = clause.trim().split(' ');
        for (const part of rest.join(' ').split(',').map((p) => p.trim()).filter(Boolean)) {
          if (verb === 'SET') {
            const [path, value] = part.split('=').map((p) => p.trim()) as [string, string];
            next[names[path] ?? path] = structuredClone(values[value]);
          } else {
            const [path, value] = part.split(' ') as [string, string];
            const name = names[path] ?? path;
            const add = values[value];
            if (add instanceof Set) next[name] = new Set([...((next[name] as Set<unknown>) ?? []), ...add]);
            else next[name] = ((next[name] as number | undefined) ?? 0) + (add as number);
          }
        }
      }
      this.store(key, before, next);
      return {};
    }
    throw new Error(`MemoryRollupsTable does not answer ${command.constructor.name}`);
  };

  /** Items that are rollup cells (not claims or marks). */
  cells(): Item[] {
    return [...this.items.values()].filter((item) => /^\d+#\d+$/.test(String(item.pk)));
  }

  private store(key: string, before: Item | undefined, after: Item): void {
    this.items.set(key, after);
    const units = Math.ceil(Math.max(before === undefined ? 0 : itemSizeBytes(before), itemSizeBytes(after)) / 1024);
    this.writes += 1;
    this.writeUnits += units;
    const partition = String(after.pk);
    this.unitsByPartition.set(partition, (this.unitsByPartition.get(partition) ?? 0) + units);
    this.writesByPartition.set(partition, (this.writesByPartition.get(partition) ?? 0) + 1);
  }
}

function keyOf(key: Item): string {
  return `${String(key.pk)}|${String(key.cell)}`;
}

function check(item: Item | undefined, condition: string | undefined, names: Record<string, string>, values: Item): void {
  if (condition === undefined) return;
  const notExists = /^attribute_not_exists\((#\w+)\)$/.exec(condition);
  const equals = /^(#\w+) = (:\w+)$/.exec(condition);
  let ok: boolean;
  if (notExists) ok = item?.[names[notExists[1]!]!] === undefined;
  else if (equals) ok = item !== undefined && item[names[equals[1]!]!] === values[equals[2]!];
  else throw new Error(`MemoryRollupsTable does not evaluate "${condition}"`);
  if (!ok) throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
}

/** Size of a number as DynamoDB counts it: about one byte per two significant digits, plus one. */
function numberSize(n: number): number {
  const digits = String(Math.abs(n)).replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
}

function valueSize(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number') return numberSize(value);
  if (typeof value === 'boolean' || value === null) return 1;
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) return [...value].reduce((sum: number, member) => sum + valueSize(member), 0);
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, member) => sum + 1 + valueSize(member), 0);
  if (typeof value === 'object') return 3 + Object.entries(value as Item).reduce((sum, [k, v]) => sum + 1 + Buffer.byteLength(k) + valueSize(v), 0);
  return 0;
}

/** An item's size as DynamoDB counts it: every attribute's name in UTF-8 plus its value (developer guide, "Item sizes and formats"). */
export function itemSizeBytes(item: Item): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + Buffer.byteLength(name, 'utf8') + valueSize(value), 0);
}
