/**
 * Usage meters on the twin's AWS stand-ins (ADR 0077): what the platform's handlers asked of DynamoDB,
 * Kinesis and S3, counted where AWS meters it — at the service, whichever client called — so the load
 * harness can put a per-viewer-hour figure next to each line of the price list.
 *
 * - DynamoDB: calls per table and operation, items, and consumed read/write capacity units as dynalite
 *   computes them (4 KB read units, halved for eventually consistent reads; 1 KB write units, the larger of
 *   the old and new item). The meter asks dynalite for `ReturnConsumedCapacity: TOTAL` on every data call
 *   and takes it out of the answer again when the caller had not asked, so the handlers see the answer they
 *   would have had. Query and Scan, for which dynalite reports no capacity, are charged from the items
 *   returned, as DynamoDB charges a query without a filter. Index writes are not counted (dynalite does
 *   not report them): the write units are the base tables'.
 * - Kinesis: calls per operation; for PutRecord/PutRecords, records and bytes (data plus partition key)
 *   per stream, and the 1 KB-rounded bytes an on-demand stream bills.
 * - S3: requests per bucket and method (GET of the origin bucket is an origin fetch).
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';

const dynaliteDb = createRequire(import.meta.url)('dynalite/db/index.js') as {
  itemSize(item: Record<string, unknown>): number;
};

const DYNAMODB_READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan']);
const DYNAMODB_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);
const READ_UNIT_BYTES = 4_096;
const KINESIS_BILLING_UNIT_BYTES = 1_024;

export interface TableUsage {
  /** Calls that read this table (a BatchGetItem naming two tables is one call for each). */
  readonly readCalls: number;
  readonly writeCalls: number;
  /** Items asked for by key (GetItem, BatchGetItem) or returned (Query, Scan). */
  readonly itemsRead: number;
  /** Items put, updated or deleted. */
  readonly itemsWritten: number;
  readonly readUnits: number;
  readonly writeUnits: number;
}

export interface StreamUsage {
  readonly putCalls: number;
  readonly records: number;
  /** Data plus partition key, as Kinesis counts a record's size. */
  readonly bytes: number;
  /** Each record rounded up to the next KB: what on-demand ingest bills. */
  readonly billedBytes: number;
}

export interface AwsUsage {
  readonly dynamodb: {
    readonly tables: Readonly<Record<string, TableUsage>>;
    /** Every call by operation, including control-plane ones (CreateTable, DescribeTable). */
    readonly operations: Readonly<Record<string, number>>;
  };
  readonly kinesis: {
    readonly streams: Readonly<Record<string, StreamUsage>>;
    readonly operations: Readonly<Record<string, number>>;
  };
  /** Requests by bucket, then by method (`GET`, `HEAD`, `PUT`, …). */
  readonly s3: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

export interface AwsMeters {
  /** Wraps dynalite's request listener; the result serves in its place. */
  meterDynamoDb(handler: RequestListener): RequestListener;
  /** Wraps kinesalite's request listener (HTTP/1.1 or the HTTP/2 compatibility API). */
  meterKinesis(handler: RequestListener): RequestListener;
  /** A `request` listener for s3rver's HTTP server: it only looks. */
  readonly observeS3: RequestListener;
  /** A copy of the counters now. */
  usage(): AwsUsage;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface ConsumedCapacity {
  readonly TableName?: string;
  readonly CapacityUnits?: number;
}

function targetOperation(req: IncomingMessage): string {
  const target = req.headers['x-amz-target'];
  return (typeof target === 'string' ? target.split('.')[1] : undefined) ?? 'unknown';
}

function collectBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseJson(body: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The read units DynamoDB charges for returning these items in one Query or Scan page. */
export function queryReadUnits(items: readonly Record<string, unknown>[], consistent: boolean): number {
  const bytes = items.reduce((sum, item) => sum + dynaliteDb.itemSize(item), 0);
  // A page that returns nothing still reads: the minimum charge is one unit (half, eventually consistent).
  const units = Math.max(1, Math.ceil(bytes / READ_UNIT_BYTES));
  return consistent ? units : units / 2;
}

/** Tables a DynamoDB request touches and how many items of each, from its JSON body. */
function tablesOf(operation: string, request: Record<string, unknown>): Map<string, number> {
  const tables = new Map<string, number>();
  if (operation === 'BatchGetItem') {
    for (const [table, keys] of Object.entries((request.RequestItems ?? {}) as Record<string, { Keys?: unknown[] }>)) tables.set(table, keys.Keys?.length ?? 0);
  } else if (operation === 'BatchWriteItem') {
    for (const [table, writes] of Object.entries((request.RequestItems ?? {}) as Record<string, unknown[]>)) tables.set(table, writes.length);
  } else if (typeof request.TableName === 'string') {
    tables.set(request.TableName, operation === 'Query' || operation === 'Scan' ? 0 : 1);
  }
  return tables;
}

export function createAwsMeters(): AwsMeters {
  const tables = new Map<string, Mutable<TableUsage>>();
  const dynamoOperations = new Map<string, number>();
  const streams = new Map<string, Mutable<StreamUsage>>();
  const kinesisOperations = new Map<string, number>();
  const buckets = new Map<string, Map<string, number>>();
  const bump = (map: Map<string, number>, key: string, by = 1) => map.set(key, (map.get(key) ?? 0) + by);
  const tableUsage = (name: string) => {
    let usage = tables.get(name);
    if (!usage) tables.set(name, (usage = { readCalls: 0, writeCalls: 0, itemsRead: 0, itemsWritten: 0, readUnits: 0, writeUnits: 0 }));
    return usage;
  };

  function recordDynamoDbAnswer(operation: string, request: Record<string, unknown>, answer: Record<string, unknown>): void {
    const isRead = DYNAMODB_READS.has(operation);
    for (const [table, items] of tablesOf(operation, request)) {
      const usage = tableUsage(table);
      if (isRead) {
        usage.readCalls += 1;
        usage.itemsRead += items;
      } else {
        usage.writeCalls += 1;
        usage.itemsWritten += items;
      }
    }
    if (operation === 'Query' || operation === 'Scan') {
      const items = (answer.Items ?? []) as Record<string, unknown>[];
      const usage = tableUsage(String(request.TableName));
      usage.itemsRead += items.length;
      usage.readUnits += queryReadUnits(items, request.ConsistentRead === true);
      return;
    }
    const consumed = answer.ConsumedCapacity as ConsumedCapacity | ConsumedCapacity[] | undefined;
    for (const capacity of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
      if (capacity.TableName === undefined) continue;
      const usage = tableUsage(capacity.TableName);
      if (isRead) usage.readUnits += capacity.CapacityUnits ?? 0;
      else usage.writeUnits += capacity.CapacityUnits ?? 0;
    }
  }

  function meterDynamoDb(handler: RequestListener): RequestListener {
    return (req, res) => {
      const operation = targetOperation(req);
      bump(dynamoOperations, operation);
      if (!DYNAMODB_READS.has(operation) && !DYNAMODB_WRITES.has(operation)) return handler(req, res);
      void collectBody(req).then((body) => {
        const request = parseJson(body);
        const askedForCapacity = request?.ReturnConsumedCapacity === 'TOTAL' || request?.ReturnConsumedCapacity === 'INDEXES';
        const forwarded = request && !askedForCapacity ? Buffer.from(JSON.stringify({ ...request, ReturnConsumedCapacity: 'TOTAL' })) : body;
        const end = res.end.bind(res) as (chunk?: unknown) => ServerResponse;
        res.end = ((chunk?: unknown) => {
          const answer = res.statusCode === 200 && typeof chunk === 'string' ? parseJson(Buffer.from(chunk)) : undefined;
          if (!request || !answer) return end(chunk);
          recordDynamoDbAnswer(operation, request, answer);
          if (askedForCapacity || answer.ConsumedCapacity === undefined) return end(chunk);
          // The caller gets the answer it asked for: without the capacity, checksum and length to match.
          const { ConsumedCapacity: _, ...rest } = answer;
          const text = JSON.stringify(rest);
          res.setHeader('x-amz-crc32', crc32(text));
          res.setHeader('Content-Length', Buffer.byteLength(text));
          return end(text);
        }) as typeof res.end;
        const replay = Object.assign(Readable.from([forwarded], { objectMode: false }), {
          headers: { ...req.headers, 'content-length': String(forwarded.length) },
          method: req.method,
          url: req.url,
          socket: req.socket,
        });
        handler(replay as unknown as IncomingMessage, res);
      }, () => res.destroy());
    };
  }

  function recordKinesisRequest(operation: string, request: Record<string, unknown>): void {
    const records =
      operation === 'PutRecord' ? [request] : operation === 'PutRecords' ? ((request.Records ?? []) as Record<string, unknown>[]) : [];
    if (records.length === 0 || typeof request.StreamName !== 'string') return;
    let usage = streams.get(request.StreamName);
    if (!usage) streams.set(request.StreamName, (usage = { putCalls: 0, records: 0, bytes: 0, billedBytes: 0 }));
    usage.putCalls += 1;
    for (const record of records) {
      const size = Buffer.byteLength(String(record.Data ?? ''), 'base64') + Buffer.byteLength(String(record.PartitionKey ?? ''));
      usage.records += 1;
      usage.bytes += size;
      usage.billedBytes += Math.ceil(size / KINESIS_BILLING_UNIT_BYTES) * KINESIS_BILLING_UNIT_BYTES;
    }
  }

  function meterKinesis(handler: RequestListener): RequestListener {
    return (req, res) => {
      const operation = targetOperation(req);
      bump(kinesisOperations, operation);
      // Listening before kinesalite does: both see every chunk, and this 'end' runs before kinesalite's
      // answer clears the request's listeners.
      if (operation === 'PutRecord' || operation === 'PutRecords') {
        void collectBody(req).then((body) => {
          const request = parseJson(body);
          if (request) recordKinesisRequest(operation, request);
        }, () => undefined);
      }
      handler(req, res);
    };
  }

  const observeS3: RequestListener = (req) => {
    // Path-style URLs (the twin's S3 clients force them): /<bucket>/<key>.
    const bucket = new URL(req.url ?? '/', 'http://s3').pathname.split('/')[1] || '(service)';
    let methods = buckets.get(bucket);
    if (!methods) buckets.set(bucket, (methods = new Map()));
    bump(methods, req.method ?? 'GET');
  };

  return {
    meterDynamoDb,
    meterKinesis,
    observeS3,
    usage: () => ({
      dynamodb: {
        tables: Object.fromEntries([...tables].map(([name, usage]) => [name, { ...usage }])),
        operations: Object.fromEntries(dynamoOperations),
      },
      kinesis: {
        streams: Object.fromEntries([...streams].map(([name, usage]) => [name, { ...usage }])),
        operations: Object.fromEntries(kinesisOperations),
      },
      s3: Object.fromEntries([...buckets].map(([bucket, methods]) => [bucket, Object.fromEntries(methods)])),
    }),
  };
}
