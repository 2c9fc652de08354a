/**
 * EventBridge stand-in (ADR 0072): an in-process bus whose rules use the same patterns as the
 * CDK rules (core/event-patterns.ts). Events come from s3rver's `event` emitter (as S3's "Object
 * Created" notifications), from the MediaConvert stand-in, and from handlers calling `PutEvents`
 * through the real SDK client against `listen()`'s endpoint.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { EventEmitter } from 'node:events';
import { matchesEventPattern, S3_OBJECT_CREATED, type EventPatternObject } from '../core/event-patterns';
import { encodeNotificationKey } from '../core/upload-key';
import { closeServer, listenOnLoopback, readBody, sendAwsJsonError, sendJson } from './http-server';

/** The envelope EventBridge delivers to targets. */
export interface BusEvent<TDetail = unknown> {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: TDetail;
}

export type BusTarget = (event: BusEvent) => unknown;

export interface TargetFailure {
  readonly rule: string;
  readonly event: BusEvent;
  readonly error: unknown;
}

export interface LocalEventBusOptions {
  readonly region?: string;
  readonly account?: string;
  /** Called when a target throws; EventBridge would retry, then drop or dead-letter. @default ignore */
  readonly onTargetError?: (failure: TargetFailure) => void;
}

/** One record of s3rver's `event` emission (S3 notification shape, but the key as stored, not URL-encoded). */
interface S3rverRecord {
  eventName: string;
  eventTime: string;
  requestParameters?: { sourceIPAddress?: string };
  responseElements?: Record<string, string>;
  s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string; sequencer?: string } };
}

const S3_REASON_BY_EVENT_NAME: Record<string, string> = {
  'ObjectCreated:Put': 'PutObject',
  'ObjectCreated:Post': 'CompleteMultipartUpload',
  'ObjectCreated:Copy': 'CopyObject',
};

/**
 * Turns an s3rver notification record into the "Object Created" event S3 sends to EventBridge
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html), with the key URL-encoded as
 * S3 writes it (`encodeNotificationKey`, ADR 0023), so submit-job decodes in the twin as in the
 * cloud. Returns undefined for removals, which no platform rule listens to.
 */
export function objectCreatedEventFromS3rver(
  record: S3rverRecord,
  context: { region: string; account: string },
): BusEvent | undefined {
  const reason = S3_REASON_BY_EVENT_NAME[record.eventName];
  if (reason === undefined) return undefined;
  const { bucket, object } = record.s3;
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': S3_OBJECT_CREATED,
    source: 'aws.s3',
    account: context.account,
    time: new Date(record.eventTime).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: context.region,
    resources: [`arn:aws:s3:::${bucket.name}`],
    detail: {
      version: '0',
      bucket: { name: bucket.name },
      object: {
        key: encodeNotificationKey(object.key),
        ...(object.size !== undefined && { size: object.size }),
        ...(object.eTag !== undefined && { etag: object.eTag }),
        ...(object.sequencer !== undefined && { sequencer: object.sequencer }),
      },
      'request-id': record.responseElements?.['x-amz-request-id'] ?? randomUUID(),
      requester: context.account,
      // EventBridge carries IPv4 here; s3rver may report an IPv4-mapped IPv6 address.
      'source-ip-address': (record.requestParameters?.sourceIPAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
      reason,
    },
  };
}

interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  Resources?: string[];
  Time?: number | string;
  EventBusName?: string;
}

export class LocalEventBus {
  readonly region: string;
  readonly account: string;
  private readonly rules = new Map<string, { pattern: EventPatternObject; target: BusTarget }>();
  private readonly pending = new Set<Promise<void>>();
  private readonly onTargetError: (failure: TargetFailure) => void;
  private server: Server | undefined;
  /** Every event put on the bus, in order, for tests and the operator page. */
  readonly history: BusEvent[] = [];

  constructor(options: LocalEventBusOptions = {}) {
    this.region = options.region ?? 'us-east-1';
    this.account = options.account ?? '000000000000';
    this.onTargetError = options.onTargetError ?? (() => undefined);
  }

  addRule(name: string, pattern: EventPatternObject, target: BusTarget): void {
    if (this.rules.has(name)) throw new Error(`rule ${name} already exists`);
    this.rules.set(name, { pattern, target });
  }

  /**
   * Delivers an event to every matching rule's target, asynchronously as EventBridge does; `idle()`
   * waits for deliveries in flight. Returns the names of the matching rules.
   */
  publish(event: BusEvent): string[] {
    this.history.push(event);
    const matched: string[] = [];
    for (const [name, rule] of this.rules) {
      if (!matchesEventPattern(rule.pattern, event)) continue;
      matched.push(name);
      const delivery = (async () => {
        await new Promise<void>((resolve) => setImmediate(resolve));
        await rule.target(event);
      })()
        .catch((error: unknown) => this.onTargetError({ rule: name, event, error }))
        .finally(() => this.pending.delete(delivery));
      this.pending.add(delivery);
    }
    return matched;
  }

  /** Builds the EventBridge envelope around a detail, as EventBridge does for `PutEvents` entries. */
  envelope<TDetail>(source: string, detailType: string, detail: TDetail, resources: readonly string[] = []): BusEvent<TDetail> {
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': detailType,
      source,
      account: this.account,
      time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.region,
      resources,
      detail,
    };
  }

  /** Resolves when no delivery is in flight (including deliveries that publish further events). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Forwards s3rver's notifications as "Object Created" events; returns a function that detaches. */
  attachS3rver(s3rver: EventEmitter): () => void {
    const listener = (notification: { Records: S3rverRecord[] }) => {
      for (const record of notification.Records) {
        const event = objectCreatedEventFromS3rver(record, this);
        if (event) this.publish(event);
      }
    };
    s3rver.on('event', listener);
    return () => s3rver.off('event', listener);
  }

  /**
   * Serves the EventBridge `PutEvents` operation (AWS JSON 1.1, `X-Amz-Target: AWSEvents.PutEvents`)
   * so handlers publish through an unmodified `EventBridgeClient`. Resolves to the endpoint URL.
   */
  async listen(port = 0): Promise<string> {
    this.server = createServer((req, res) => {
      void (async () => {
        const target = req.headers['x-amz-target'];
        if (req.method !== 'POST' || target !== 'AWSEvents.PutEvents') {
          return sendAwsJsonError(res, 400, 'UnknownOperationException', `unsupported operation ${String(target)}`);
        }
        const request = JSON.parse((await readBody(req)).toString('utf8') || '{}') as { Entries?: PutEventsEntry[] };
        const entries = (request.Entries ?? []).map((entry) => this.acceptEntry(entry));
        sendJson(
          res,
          200,
          { FailedEntryCount: entries.filter((e) => 'ErrorCode' in e).length, Entries: entries },
          { 'content-type': 'application/x-amz-json-1.1' },
        );
      })().catch((error: unknown) => sendAwsJsonError(res, 500, 'InternalException', String(error)));
    });
    return listenOnLoopback(this.server, port);
  }

  private acceptEntry(entry: PutEventsEntry): { EventId: string } | { ErrorCode: string; ErrorMessage: string } {
    if (!entry.Source || !entry.DetailType || entry.Detail === undefined) {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Source, DetailType and Detail are required' };
    }
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail);
    } catch {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is not valid JSON' };
    }
    const event = this.envelope(entry.Source, entry.DetailType, detail, entry.Resources ?? []);
    this.publish(event);
    return { EventId: event.id };
  }

  async close(): Promise<void> {
    await this.idle();
    if (this.server) await closeServer(this.server);
  }
}
