/**
 * The report ingest's per-session table (ADR 0007; only cmcd-ingest uses it, through this module). Since
 * ADR 0101 it holds no budgets (those are kept in the ingest's and the aggregator's memory) but one state
 * item per session, `pk = <sid>#session`: `host` (S, the last pathway host verified for the session),
 * `lastT` (N, epoch ms of its first `t` event, until the interval is known), `iv` (N, the session's report
 * interval in ms), `expiresAt` (TTL, epoch s). The ingest reads it on every report (eventually consistent,
 * half a read unit) and writes it only when what it remembers changes, so a session costs a few writes in
 * all instead of two per report. The table keeps its name and its `RATE_LIMIT_TABLE_NAME` variable.
 */
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';

export const sessionStateKey = (sid: string): string => `${sid}#session`;
/** A session's state outlives a long pause (a token lives hours); a session gone for longer starts over. */
export const SESSION_STATE_SECONDS = 4 * 3600;
/** A state item whose expiry is nearer than this is written again, so a long steady session keeps it (one write per 3 h). */
export const SESSION_STATE_REFRESH_SECONDS = 3600;

/** What the ingest remembers of a session between reports. */
export interface SessionState {
  readonly host?: string;
  readonly lastT?: number;
  readonly iv?: number;
  /** Epoch s; absent when the session has no item. */
  readonly expiresAt?: number;
}

export class RateLimitTable {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /**
   * The session's state, `{}` when it has none. Eventually consistent: half the price of a strong read, and
   * a state written by another container a moment ago may be missed — the report is then attributed as if
   * that write had not happened yet (lines unattributed or the older host), which loses evidence, never gains it.
   */
  async readSessionState(sid: string): Promise<SessionState> {
    const { Item: item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: { pk: sessionStateKey(sid) } }));
    return {
      ...(typeof item?.host === 'string' ? { host: item.host } : {}),
      ...(typeof item?.lastT === 'number' ? { lastT: item.lastT } : {}),
      ...(typeof item?.iv === 'number' ? { iv: item.iv } : {}),
      ...(typeof item?.expiresAt === 'number' ? { expiresAt: item.expiresAt } : {}),
    };
  }

  /** Sets the given fields of the session's state and pushes its expiry out; fields left out keep their value. */
  async writeSessionState(sid: string, next: Omit<SessionState, 'expiresAt'>, nowMs: number): Promise<void> {
    const names: Record<string, string> = { '#expiresAt': 'expiresAt' };
    const values: Record<string, unknown> = { ':expiresAt': Math.floor(nowMs / 1000) + SESSION_STATE_SECONDS };
    const sets = ['#expiresAt = :expiresAt'];
    for (const field of ['host', 'lastT', 'iv'] as const) {
      if (next[field] === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = next[field];
      sets.push(`#${field} = :${field}`);
    }
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: sessionStateKey(sid) },
        UpdateExpression: `SET ${sets.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }
}
