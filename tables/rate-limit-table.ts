/**
 * The report ingest's per-session table (ADR 0007; only cmcd-ingest uses it, through this module):
 * - one budget item per session and UTC minute, `pk = <sid>#<minute epoch ms>`: `lines` (N, the rate limit
 *   of ADR 0052), `evidenceMs` and `evidenceLines` (N, what the session's reports claimed of the evidence
 *   budget, ADR 0054), `expiresAt` (TTL, epoch s);
 * - one state item per session, `pk = <sid>#session`: `host` (S, the last pathway host verified for the
 *   session), `lastT` (N, epoch ms of its last `t` event), `expiresAt`.
 */
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { EvidenceGrant } from '../core/cmcd-report';
import { isConditionFailure } from './condition-failure';

const MINUTE_MS = 60_000;
/** Counters outlive their minute by an hour: TTL deletion is lazy, and nothing reads an old minute. */
const RETENTION_SECONDS = 3600;

export const rateLimitKey = (sid: string, minute: number): string => `${sid}#${minute}`;
export const sessionStateKey = (sid: string): string => `${sid}#session`;
/** A session's state outlives a long pause (a token lives hours); a session gone for longer starts over. */
const SESSION_STATE_SECONDS = 4 * 3600;

/** What the ingest remembers of a session between reports. */
export interface SessionState {
  readonly host?: string;
  readonly lastT?: number;
}

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
    return (await this.takeReport(sid, minute, { lines, budget, claim: { ms: 0, lines: 0 }, evidenceBudget: { ms: 0, lines: 0 } })) !== undefined;
  }

  /**
   * Takes a report's lines from the rate limit (undefined when they do not fit; nothing changes then) and,
   * in the same atomic ADD, its evidence claim from the session-minute's evidence budget. Returns the part
   * of the claim that fits: ADD returns the new totals, and `budget - (total - claim)` is the room this
   * report found, so concurrent reports of one session can never be granted more than the budget together.
   */
  async takeReport(
    sid: string,
    minute: number,
    report: { readonly lines: number; readonly budget: number; readonly claim: EvidenceGrant; readonly evidenceBudget: EvidenceGrant },
  ): Promise<EvidenceGrant | undefined> {
    let totals: Record<string, unknown> | undefined;
    try {
      const result = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: rateLimitKey(sid, minute) },
          UpdateExpression: 'ADD #lines :lines, #evidenceMs :ms, #evidenceLines :n SET #expiresAt = if_not_exists(#expiresAt, :expiresAt)',
          ConditionExpression: 'attribute_not_exists(#lines) OR #lines <= :room',
          ExpressionAttributeNames: { '#lines': 'lines', '#evidenceMs': 'evidenceMs', '#evidenceLines': 'evidenceLines', '#expiresAt': 'expiresAt' },
          ExpressionAttributeValues: {
            ':lines': report.lines,
            ':ms': report.claim.ms,
            ':n': report.claim.lines,
            ':room': report.budget - report.lines,
            ':expiresAt': Math.floor((minute + 2 * MINUTE_MS) / 1000) + RETENTION_SECONDS,
          },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      totals = result.Attributes;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
    const room = (budget: number, total: unknown, claim: number): number =>
      Math.max(0, Math.min(claim, budget - ((Number(total) || claim) - claim)));
    return {
      ms: room(report.evidenceBudget.ms, totals?.evidenceMs, report.claim.ms),
      lines: room(report.evidenceBudget.lines, totals?.evidenceLines, report.claim.lines),
    };
  }

  /**
   * Records what this report tells about the session (`host` and `lastT` when it has them) and returns
   * what was known before it. One write per report; it also keeps the state alive.
   */
  async swapSessionState(sid: string, next: SessionState, nowMs: number): Promise<SessionState> {
    const names: Record<string, string> = { '#expiresAt': 'expiresAt' };
    const values: Record<string, unknown> = { ':expiresAt': Math.floor(nowMs / 1000) + SESSION_STATE_SECONDS };
    const sets = ['#expiresAt = :expiresAt'];
    if (next.host !== undefined) {
      names['#host'] = 'host';
      values[':host'] = next.host;
      sets.push('#host = :host');
    }
    if (next.lastT !== undefined) {
      names['#lastT'] = 'lastT';
      values[':lastT'] = next.lastT;
      sets.push('#lastT = :lastT');
    }
    const { Attributes: old } = await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: sessionStateKey(sid) },
        UpdateExpression: `SET ${sets.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_OLD',
      }),
    );
    return {
      ...(typeof old?.host === 'string' ? { host: old.host } : {}),
      ...(typeof old?.lastT === 'number' ? { lastT: old.lastT } : {}),
    };
  }
}
