/**
 * The report ingest's rate-limit table: one counter item per session and UTC minute, partition
 * `pk = <sid>#<minute epoch ms>`, attributes `lines` (N) and `expiresAt` (TTL, epoch s). Only
 * cmcd-ingest uses it, through this module (ADR 0007; the budget itself is ADR 0052).
 */
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from './condition-failure';

const MINUTE_MS = 60_000;
/** Counters outlive their minute by an hour: TTL deletion is lazy, and nothing reads an old minute. */
const RETENTION_SECONDS = 3600;

export const rateLimitKey = (sid: string, minute: number): string => `${sid}#${minute}`;

export class RateLimitTable {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /**
   * Takes `lines` from the session's budget of `budget` lines for the minute starting at `minute`
   * (epoch ms): one atomic ADD conditioned on the room left, so concurrent requests cannot overshoot
   * it. False when the lines do not fit; the counter is then unchanged.
   */
  async take(sid: string, minute: number, lines: number, budget: number): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: rateLimitKey(sid, minute) },
          UpdateExpression: 'ADD #lines :lines SET #expiresAt = if_not_exists(#expiresAt, :expiresAt)',
          ConditionExpression: 'attribute_not_exists(#lines) OR #lines <= :room',
          ExpressionAttributeNames: { '#lines': 'lines', '#expiresAt': 'expiresAt' },
          ExpressionAttributeValues: {
            ':lines': lines,
            ':room': budget - lines,
            ':expiresAt': Math.floor((minute + 2 * MINUTE_MS) / 1000) + RETENTION_SECONDS,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}
