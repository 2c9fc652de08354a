/**
 * cmcd-ingest (docs/telemetry.md "Ingest endpoint"): `POST /v1/cmcd/{token}` behind API Gateway HTTP API (payload v2).
 *
 * Accepts CMCD v2 event-mode reports as @svta/cml-cmcd's reporter (hls.js ≥ 1.7) sends them:
 * `Content-Type: application/cmcd`, newline-separated CMCD lines. `text/plain` is accepted too: it is a
 * CORS-safelisted type, so sendBeacon-style clients can post without a preflight.
 *
 * Only the gateway distribution may call it (ADR 0055): CloudFront adds the origin-verify header, whose
 * value is a secret the handler compares in constant time; a direct call to the API's own endpoint is
 * refused (403 `not-through-edge`) before anything else, so country, ASN and viewer address — taken from
 * CloudFront's viewer headers — are the edge's facts, never the caller's.
 *
 * The playback token in the path proves the report belongs to a real session; every line's `sid` must
 * be the token's. Each report is charged to its session: the lines to the rate limit (ADR 0052), its
 * claimed evidence to the session-minute's evidence budget, and its lines are attributed to the pathway
 * hosts the platform can verify: media responses of its own token (ADRs 0054, 0068). Nothing rejected reaches the stream.
 * The budgets live in the container's memory and the aggregator charges the evidence again (ADR 0101); DynamoDB
 * holds only what attribution needs across containers (the session's host and interval), read on every report
 * and written only when it changes.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { Cmcd } from '@svta/cml-cmcd';
import {
  decodeCmcdReportLines,
  encodeIngestRecord,
  DEFAULT_REPORT_INTERVAL_MS,
  type EvidenceGrant,
  evidenceClaimOf,
  reportIntervalOf,
  sessionMediaHostOf,
  splitCmcdReportBody,
  verifiedHostsOf,
} from '../../core/cmcd-report';
import type { Keyring } from '../../core/keyring';
import { originSecretMatches, ORIGIN_VERIFY_HEADER } from '../../core/origin-verify';
import { MalformedRecordError } from '../../core/realtime-log';
import { isReportSampled } from '../../core/report-sampling';
import { verifyToken } from '../../core/token';
import { ReportEvidenceBudget } from '../../core/session-evidence';
import { RateLimitTable, SESSION_STATE_REFRESH_SECONDS, type SessionState } from '../../tables/rate-limit-table';
import { KeyringCache } from '../shared/keyring-cache';
import { SecretStringCache } from '../shared/secret-string-cache';
import { lambdaHandler, logger as sharedLogger, metrics as sharedMetrics, tracer } from '../shared/powertools';
import {
  BadReportError,
  ForbiddenReportError,
  MethodNotAllowedError,
  RateLimitedError,
  ReportRejectedError,
  ReportTooLargeError,
  StreamUnavailableError,
  UnsupportedReportTypeError,
} from './errors';
import { corsPreflightHeaders, corsResponseHeaders, countryOrUnknown, REPORT_CORS } from '../../core/identifiers';
import { type CmcdIngestConfig, cmcdIngestConfig } from './config';
import { LineBudget } from './line-budget';

const MINUTE_MS = 60_000;
/**
 * Kinesis bills PUT payload units of 25 KB (Kinesis pricing); one report becomes as many records of at
 * most this size as it needs, so a normal report (< 1 KiB) is one unit.
 */
const RECORD_BUDGET_BYTES = 25 * 1024;
const ACCEPTED_TYPES = new Set(['application/cmcd', 'text/plain']);

/** The deployed configuration (./config.ts) without the secrets, plus limits tests may tighten. */
export interface IngestConfig extends Omit<CmcdIngestConfig, 'keyringSecretArn' | 'originSecretArn' | 'reportSamplingPercent'> {
  /** Percent of sessions whose reports are taken (ADR 0058); @default 100 */
  readonly reportSamplingPercent?: number;
  /** @default 65_536 */
  readonly maxBodyBytes?: number;
  /** @default 200 */
  readonly maxLines?: number;
  /** PutRecords attempts for the entries that keep failing; @default 4 */
  readonly maxPutAttempts?: number;
  /** First retry delay, doubled per attempt, with full jitter; @default 50 */
  readonly baseBackoffMs?: number;
  /** Reports one session may post per UTC minute through one container (ADR 0101); @default 60 */
  readonly postsPerSessionMinute?: number;
  /** Session-minutes the container's budgets remember, the oldest forgotten first; @default 100_000 */
  readonly budgetEntries?: number;
}

/**
 * The part of Powertools Metrics the handler uses (the shared instance satisfies it; tests pass a spy).
 * The handler shell flushes once per invocation (lambdas/shared/powertools.ts).
 */
export interface MetricsSink {
  addMetric(name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number): unknown;
}

export interface IngestDeps {
  readonly kinesis: KinesisClient;
  readonly ddb: DynamoDBDocumentClient;
  readonly keyring: { get(): Promise<Keyring> };
  /** The value the gateway sends in the origin-verify header (ADR 0055); `refresh` re-reads it after a rotation. */
  readonly originSecret: { get(): Promise<string>; refresh(): Promise<string> };
  readonly config: IngestConfig;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly metrics?: MetricsSink;
}

/** Browsers post from the player's origin; the token, not a cookie, authorises, so any origin may post. */
const PREFLIGHT_HEADERS = corsPreflightHeaders(REPORT_CORS);
const RESPONSE_CORS_HEADERS = corsResponseHeaders(REPORT_CORS);

export function createIngestHandler(deps: IngestDeps) {
  const { kinesis, config } = deps;
  const rateLimits = new RateLimitTable(deps.ddb, config.rateLimitTableName);
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = deps.random ?? Math.random;
  const logger = deps.logger ?? sharedLogger;
  const metrics = deps.metrics ?? sharedMetrics;
  const maxBodyBytes = config.maxBodyBytes ?? 65_536;
  const maxLines = config.maxLines ?? 200;
  const linesPerMinute = config.linesPerSessionMinute;
  const maxPutAttempts = config.maxPutAttempts ?? 4;
  const baseBackoffMs = config.baseBackoffMs ?? 50;
  // Per container (ADR 0101): the stream's guard and the first evidence budget; the aggregator charges the evidence again.
  const lineBudget = new LineBudget(linesPerMinute, config.postsPerSessionMinute ?? 60, config.budgetEntries ?? 100_000);
  const evidenceBudget = new ReportEvidenceBudget(undefined, config.budgetEntries ?? 100_000);

  /** Refuses anything that did not come through the gateway distribution (ADR 0055). */
  async function requireEdge(headers: Record<string, string | undefined>): Promise<void> {
    const presented = headers[ORIGIN_VERIFY_HEADER];
    if (presented === undefined) throw new ForbiddenReportError('not-through-edge');
    if (originSecretMatches(presented, await deps.originSecret.get())) return;
    // Just after a rotation the cached value is the old one; re-read once (the cache limits how often).
    if (!originSecretMatches(presented, await deps.originSecret.refresh())) throw new ForbiddenReportError('not-through-edge');
  }

  async function accept(event: APIGatewayProxyEventV2): Promise<void> {
    const headers = lowerCaseHeaders(event.headers);
    await requireEdge(headers);
    const method = event.requestContext?.http?.method ?? 'POST';
    if (method !== 'POST') throw new MethodNotAllowedError();
    const mediaType = (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (!ACCEPTED_TYPES.has(mediaType)) throw new UnsupportedReportTypeError();

    const rawBody = event.body ?? '';
    // Base64 inflates by 4/3; refuse on the encoded length before decoding anything.
    if ((event.isBase64Encoded ? Math.floor((rawBody.length * 3) / 4) : Buffer.byteLength(rawBody)) > maxBodyBytes) {
      throw new ReportTooLargeError();
    }
    const body = event.isBase64Encoded ? Buffer.from(rawBody, 'base64').toString('utf8') : rawBody;
    if (Buffer.byteLength(body) > maxBodyBytes) throw new ReportTooLargeError();

    const nowMs = now();
    const keyring = await deps.keyring.get();
    const ip = viewerIp(headers);
    const verified = verifyToken(event.pathParameters?.token ?? '', keyring, {
      nowSeconds: Math.floor(nowMs / 1000),
      ...(ip !== undefined ? { ip } : {}),
    });
    if (!verified.ok) throw new ForbiddenReportError(verified.reason);
    const { sid, aid } = verified.claims;
    // A sampled-out session was given no reportUrl (ADR 0058); refused before the body is parsed or anything is written.
    if (!isReportSampled(sid, config.reportSamplingPercent ?? 100)) {
      metrics.addMetric('SampledOutReports', MetricUnit.Count, 1);
      throw new ForbiddenReportError('not-sampled');
    }

    const lines = splitCmcdReportBody(body);
    if (lines.length === 0) throw new BadReportError('empty-report');
    if (lines.length > maxLines) throw new BadReportError('too-many-lines');
    let events;
    try {
      events = decodeCmcdReportLines(lines);
    } catch (error) {
      if (error instanceof MalformedRecordError) throw new BadReportError(error.reason);
      throw error;
    }
    // A report is only trusted for the session its token names: no forged QoE for another session (ADR 0052).
    // A line without `sid` is the token's session: CMCD makes the key optional and dash.js's report target sends
    // none at its defaults; refusing those made dash.js re-send every report (ADR 0067).
    if (!events.every((e) => e.sid === undefined || e.sid === sid)) throw new ForbiddenReportError('sid-mismatch');

    // The stream's guard first: a report over the session's line budget costs no DynamoDB read.
    takeLines(sid, lines.length, nowMs);
    const state = await sessionState(sid, events, keyring, nowMs, ip);
    const granted = evidenceBudget.grant(sid, nowMs, evidenceClaimOf(events, state.intervalMs));

    const country = countryOrUnknown(headers['cloudfront-viewer-country']);
    const asnText = headers['cloudfront-viewer-asn'];
    const asn = asnText !== undefined && /^\d{1,10}$/.test(asnText) ? Number(asnText) : undefined;
    let left = granted;
    const records = chunkIndexes(lines, state.hosts).map(([from, to]) => {
      // The grant goes to the chunks in line order, each taking what its own lines claim.
      const chunkClaim = evidenceClaimOf(events.slice(from, to), state.intervalMs);
      const share: EvidenceGrant = { ms: Math.min(left.ms, chunkClaim.ms), lines: Math.min(left.lines, chunkClaim.lines) };
      left = { ms: left.ms - share.ms, lines: left.lines - share.lines };
      return encodeIngestRecord({
        rt: nowMs,
        country,
        ...(asn !== undefined ? { asn } : {}),
        sid,
        aid,
        lines: lines.slice(from, to),
        vh: state.hosts.slice(from, to),
        iv: state.intervalMs,
        gms: share.ms,
        gn: share.lines,
      });
    });
    await putAll(records, sid);
  }

  /**
   * The verified pathway host of every line and the session's report interval, from this report and what the
   * session's state remembers (docs/telemetry.md "Which pathway"). The state is read on every report and
   * written only when it changes: a new verified host, the first `t` timestamp, a newly measured interval, or
   * an expiry less than an hour away (ADR 0101). If the table fails, the report still goes on without the
   * state (its lines may stay unattributed, its interval the default): evidence lost, never gained, and the
   * budgets do not depend on the table.
   */
  async function sessionState(sid: string, events: readonly Cmcd[], keyring: Keyring, nowMs: number, ip: string | undefined) {
    // Only a media URL of the session's own token proves a pathway (ADR 0068).
    const nowSeconds = Math.floor(nowMs / 1000);
    const hostOfSessionUrl = (url: string): string | undefined => sessionMediaHostOf(url, { sid, keyring, nowSeconds, ...(ip !== undefined ? { ip } : {}) });
    let previous: SessionState | undefined;
    try {
      previous = await rateLimits.readSessionState(sid);
    } catch (error) {
      logger.warn('session state unavailable', { error });
      metrics.addMetric('SessionStateUnavailable', MetricUnit.Count, 1);
    }
    const { hosts, lastHost } = verifiedHostsOf(events, hostOfSessionUrl, previous?.host);
    const interval = intervalOf(events, previous ?? {});
    if (previous !== undefined) {
      const next = {
        ...(lastHost !== undefined && lastHost !== previous.host ? { host: lastHost } : {}),
        ...(interval.learned !== undefined && interval.learned !== previous.iv ? { iv: interval.learned } : {}),
        ...(interval.firstT !== undefined ? { lastT: interval.firstT } : {}),
      };
      const expiring = previous.expiresAt !== undefined && previous.expiresAt - nowSeconds < SESSION_STATE_REFRESH_SECONDS;
      if (Object.keys(next).length > 0 || expiring) {
        try {
          await rateLimits.writeSessionState(sid, next, nowMs);
        } catch (error) {
          logger.warn('session state not written', { error });
          metrics.addMetric('SessionStateUnavailable', MetricUnit.Count, 1);
        }
      }
    }
    return { hosts, intervalMs: interval.intervalMs };
  }

  /**
   * The session's line budget of this UTC minute in this container (ADR 0052, ADR 0101): over it, 429 with
   * the seconds to the next minute, the report's lines not taken.
   */
  function takeLines(sid: string, lines: number, nowMs: number): void {
    const minute = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS;
    if (lines <= linesPerMinute && lineBudget.take(sid, minute, lines)) return;
    metrics.addMetric('RateLimitedReports', MetricUnit.Count, 1);
    throw new RateLimitedError(Math.max(1, Math.ceil((minute + MINUTE_MS - nowMs) / 1000)));
  }

  /**
   * PutRecords can fail per entry (ProvisionedThroughputExceeded, InternalFailure): retry only the
   * failed entries, with exponential backoff and full jitter (Kinesis developer guide, PutRecords).
   * If nothing was stored the client may retry (503); if only part was, say 202 and count the loss —
   * a client retry would double count the part already stored.
   */
  async function putAll(records: readonly string[], sid: string): Promise<void> {
    let pending: PutRecordsRequestEntry[] = records.map((data) => ({ Data: Buffer.from(data, 'utf8'), PartitionKey: sid }));
    for (let attempt = 0; attempt < maxPutAttempts && pending.length > 0; attempt++) {
      if (attempt > 0) await sleep(Math.floor(random() * baseBackoffMs * 2 ** (attempt - 1)));
      try {
        const result = await kinesis.send(new PutRecordsCommand({ StreamName: config.streamName, Records: pending }));
        const outcomes = result.Records ?? [];
        pending = pending.filter((_, i) => outcomes[i] === undefined || outcomes[i]!.ErrorCode !== undefined);
      } catch (error) {
        logger.warn('PutRecords call failed', { attempt, error });
      }
    }
    if (pending.length === records.length) throw new StreamUnavailableError();
    if (pending.length > 0) {
      metrics.addMetric('ReportRecordsDropped', MetricUnit.Count, pending.length);
      throw new PartiallyStored();
    }
  }

  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    if (event.requestContext?.http?.method === 'OPTIONS') {
      return { statusCode: 204, headers: { ...PREFLIGHT_HEADERS, 'cache-control': 'no-store' } };
    }
    try {
      await accept(event);
      metrics.addMetric('ReportsAccepted', MetricUnit.Count, 1);
      return { statusCode: 204, headers: { ...PREFLIGHT_HEADERS, 'cache-control': 'no-store' } };
    } catch (error) {
      return toResponse(error, logger, metrics);
    }
  };
}

class PartiallyStored extends Error {}

function toResponse(
  error: unknown,
  logger: Pick<Logger, 'warn' | 'error'>,
  metrics: Pick<MetricsSink, 'addMetric'>,
): APIGatewayProxyStructuredResultV2 {
  const headers = { ...RESPONSE_CORS_HEADERS, 'cache-control': 'no-store', 'content-type': 'application/json' };
  if (error instanceof PartiallyStored) return { statusCode: 202, headers, body: JSON.stringify({ reason: 'partially-stored' }) };
  if (error instanceof ReportRejectedError) {
    metrics.addMetric('ReportsRejected', MetricUnit.Count, 1);
    logger.warn('report rejected', { status: error.status, reason: error.reason });
    return {
      statusCode: error.status,
      headers: error instanceof RateLimitedError ? { ...headers, 'retry-after': String(error.retryAfterSeconds) } : headers,
      body: JSON.stringify({ reason: error.reason }),
    };
  }
  logger.error('report ingest failed', { error });
  return { statusCode: 500, headers, body: JSON.stringify({ reason: 'internal-error' }) };
}

/**
 * The interval this report's `t` events stand for (ADR 0056) and what the session's state should learn from it
 * (ADR 0101): a report with two `t` events measures the interval itself; else the interval the state
 * remembers; else the gap between the state's first `t` and this report's, which the state then keeps as
 * `iv` instead of writing every `t` timestamp (unless it is a pause); else the default, and the report's `t`
 * becomes `firstT`.
 */
export function intervalOf(events: readonly Cmcd[], previous: SessionState): { intervalMs: number; learned?: number; firstT?: number } {
  const own = reportIntervalOf(events);
  // Counted as reportIntervalOf reads a timestamp, so the two agree on which events have one.
  const tCount = events.filter((e) => e.e === 't' && reportIntervalOf([e]).lastT !== undefined).length;
  if (tCount >= 2) return { intervalMs: own.intervalMs, learned: own.intervalMs };
  if (previous.iv !== undefined) return { intervalMs: previous.iv };
  if (tCount === 1 && previous.lastT !== undefined) {
    const { intervalMs, lastT } = reportIntervalOf(events, previous.lastT);
    // A gap of more than twice the default interval is a pause (seek, background tab), not the player's interval:
    // it counts for this report as it always did, but is not kept; this `t` starts the measurement again.
    if (intervalMs > 2 * DEFAULT_REPORT_INTERVAL_MS) return { intervalMs, ...(lastT !== undefined ? { firstT: lastT } : {}) };
    return { intervalMs, learned: intervalMs };
  }
  return { intervalMs: own.intervalMs, ...(tCount === 1 && previous.lastT === undefined && own.lastT !== undefined ? { firstT: own.lastT } : {}) };
}

function lowerCaseHeaders(headers: APIGatewayProxyEventV2['headers'] | undefined): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = value;
  return out;
}

/**
 * The viewer's address, for IP-bound tokens: CloudFront-Viewer-Address ("ip:port", CloudFront Developer
 * Guide, "Add CloudFront request headers"). Only the edge sets it (requests come only through the edge,
 * ADR 0055); the API's source IP is a CloudFront server and is never used. Without it a bound token fails.
 */
function viewerIp(headers: Record<string, string | undefined>): string | undefined {
  const address = headers['cloudfront-viewer-address'];
  if (address === undefined) return undefined;
  const colon = address.lastIndexOf(':');
  return colon > 0 ? address.slice(0, colon) : address;
}

/**
 * Splits lines into [from, to) groups whose JSON-escaped size (with the verified host of each line) stays
 * within one record budget; never splits a line.
 */
function chunkIndexes(lines: readonly string[], hosts: readonly string[]): [number, number][] {
  const chunks: [number, number][] = [];
  let from = 0;
  let size = 0;
  lines.forEach((line, i) => {
    const lineBytes = Buffer.byteLength(JSON.stringify(line)) + Buffer.byteLength(JSON.stringify(hosts[i] ?? '')) + 2;
    if (i > from && size + lineBytes > RECORD_BUDGET_BYTES - 512) {
      chunks.push([from, i]);
      from = i;
      size = 0;
    }
    size += lineBytes;
  });
  if (from < lines.length) chunks.push([from, lines.length]);
  return chunks;
}

const kinesisClient = tracer.captureAWSv3Client(new KinesisClient({}));
const ddbClient = DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})));
const secretsClient = tracer.captureAWSv3Client(new SecretsManagerClient({}));
/** A rotated origin secret may be re-read at most this often on mismatches (a flood of wrong values must not hammer Secrets Manager). */
const ORIGIN_SECRET_REFRESH_MS = 60_000;

export const handler = lambdaHandler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>(() => {
  const config = cmcdIngestConfig.decode(process.env);
  return createIngestHandler({
    kinesis: kinesisClient,
    ddb: ddbClient,
    keyring: new KeyringCache(secretsClient, config.keyringSecretArn),
    originSecret: new SecretStringCache(secretsClient, config.originSecretArn, { maxAgeMs: 5 * 60_000, minRefreshMs: ORIGIN_SECRET_REFRESH_MS }),
    config,
  });
});
