/**
 * Title demand and trending pre-warm items in the QoE rollups table (ADR 0102; the fourth and fifth kinds of
 * item beside tables/rollups-table.ts's cells, claims and marks, told apart by `pk`; the sort key is `cell`):
 *
 * - **demand**: `pk` = `demand#<minute epoch ms>`, `cell` = `<assetId>`; `sessions` (NS, the bit positions of
 *   a linear-counting bitmap of the title's sessions, ≤ 1,024 members), `expiresAt` (TTL). Written by every
 *   qoe-aggregator container with `ADD` (a set union: concurrent writers and redelivered batches add nothing
 *   twice), read by the pre-warm with one Query per minute.
 * - **trending warms**: `pk` = `trending#<assetId>`, `cell` = `warm`; `warmedAt` (N, epoch ms), `revision`,
 *   `expiresAt`. The pre-warm's claim that it warms this title now: one per cooldown, whichever run gets it.
 */
import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from './condition-failure';
import { queryPartition } from './query-partition';

export const DEMAND_KEY_PREFIX = 'demand#';
export const TRENDING_KEY_PREFIX = 'trending#';
export const demandKey = (minute: number): string => `${DEMAND_KEY_PREFIX}${minute}`;
export const trendingKey = (assetId: string): string => `${TRENDING_KEY_PREFIX}${assetId}`;
/** Demand is read for the last few minutes only; a day is kept for an operator's look. */
const DEMAND_TTL_SECONDS = 86_400;

export class TitleDemandTable {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /** Adds session bits to a title's minute: a set union, so repeating it changes nothing. */
  async addDemand(minute: number, assetId: string, sessionBits: ReadonlySet<number>): Promise<void> {
    if (sessionBits.size === 0) return;
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: demandKey(minute), cell: assetId },
        UpdateExpression: 'ADD #sessions :bits SET #expiresAt = if_not_exists(#expiresAt, :expiresAt)',
        ExpressionAttributeNames: { '#sessions': 'sessions', '#expiresAt': 'expiresAt' },
        ExpressionAttributeValues: { ':bits': new Set(sessionBits), ':expiresAt': Math.floor(minute / 1000) + DEMAND_TTL_SECONDS },
      }),
    );
  }

  /** Every title's session bits of one minute. */
  async readDemand(minute: number): Promise<Map<string, Set<number>>> {
    const items = await queryPartition(this.documents, this.tableName, { name: 'pk', value: demandKey(minute) });
    const demand = new Map<string, Set<number>>();
    for (const item of items) {
      const bits = item.sessions instanceof Set ? new Set([...(item.sessions as Set<unknown>)].map(Number).filter(Number.isInteger)) : new Set<number>();
      demand.set(String(item.cell), bits);
    }
    return demand;
  }

  /**
   * Claims the title's trending warm: true when no warm was claimed within `cooldownMs` before `nowMs`
   * (the claim is then this run's), false when one was. Conditional, so concurrent runs warm a title once.
   */
  async claimTrendingWarm(assetId: string, revision: string, nowMs: number, cooldownMs: number): Promise<boolean> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: trendingKey(assetId), cell: 'warm', warmedAt: nowMs, revision, expiresAt: Math.floor((nowMs + cooldownMs) / 1000) + 3600 },
          ConditionExpression: 'attribute_not_exists(pk) OR warmedAt <= :since',
          ExpressionAttributeValues: { ':since': nowMs - cooldownMs },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}
