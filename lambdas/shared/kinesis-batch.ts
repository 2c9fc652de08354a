/**
 * What the two rollup stages share about a Kinesis batch as Lambda delivers it, and the part of Powertools
 * Metrics they use (the shared instance satisfies it; tests pass a spy; the handler shell flushes once per
 * invocation, lambdas/shared/powertools.ts).
 */
import type { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { KinesisStreamRecord } from 'aws-lambda';

export interface MetricsSink {
  addMetric(name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number): unknown;
  /** A metric with its own dimensions, flushed at once (Powertools `singleMetric`). */
  singleMetric(): { addDimension(name: string, value: string): unknown; addMetric(name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number): unknown };
}

/** `eventID` is `<shardId>:<sequenceNumber>` (Lambda Kinesis event, documented sample events). */
export function shardOf(record: KinesisStreamRecord): string {
  const colon = record.eventID.indexOf(':');
  return colon > 0 ? record.eventID.slice(0, colon) : 'unknown';
}

/** `eventSourceARN` is `arn:aws:kinesis:<region>:<account>:stream/<name>`. */
export function streamNameOf(record: KinesisStreamRecord): string {
  const slash = record.eventSourceARN.lastIndexOf('/');
  return slash >= 0 ? record.eventSourceARN.slice(slash + 1) : record.eventSourceARN;
}
