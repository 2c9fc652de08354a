/**
 * EventBridge event patterns shared by the CDK rules (lib/) and the local twin's bus (local/), so both
 * route exactly the same events. Pure data in EventBridge's JSON pattern syntax
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html).
 */
import { ASSET_READY, ASSET_TAKEDOWN_REQUESTED, CATALOG_EVENT_SOURCE, UPLOAD_PREFIX } from './identifiers';

/** A pattern leaf: the event value must equal one of the listed values or match one of the filters. */
export type PatternMatcher = string | number | boolean | null | { readonly prefix: string };

export interface EventPatternObject {
  readonly [field: string]: readonly PatternMatcher[] | EventPatternObject;
}

export const S3_OBJECT_CREATED = 'Object Created';
export const MEDIACONVERT_JOB_STATE_CHANGE = 'MediaConvert Job State Change';

/**
 * Uploads that should start an encode: S3's EventBridge notification for any object created under
 * `uploads/` (single PUT, copy and multipart completion all arrive as "Object Created"; docs/catalog.md "What starts an encode").
 */
export function uploadCreatedPattern(bucketName: string): EventPatternObject {
  return {
    source: ['aws.s3'],
    'detail-type': [S3_OBJECT_CREATED],
    detail: {
      bucket: { name: [bucketName] },
      object: { key: [{ prefix: UPLOAD_PREFIX }] },
    },
  };
}

/**
 * MediaConvert job state changes for jobs this stack submitted: the submit-job handler tags every job
 * with `UserMetadata.stack`, which MediaConvert copies into `detail.userMetadata`.
 */
export function jobStateChangePattern(stackName: string): EventPatternObject {
  return {
    source: ['aws.mediaconvert'],
    'detail-type': [MEDIACONVERT_JOB_STATE_CHANGE],
    detail: { userMetadata: { stack: [stackName] } },
  };
}

/** Takedowns the playback API accepted, on the catalog bus: the takedown worker's input (ADR 0011). */
export function takedownRequestedPattern(): EventPatternObject {
  return { source: [CATALOG_EVENT_SOURCE], 'detail-type': [ASSET_TAKEDOWN_REQUESTED] };
}

/**
 * Revisions that became the one playback serves, on the catalog bus: the cache pre-warm's input (ADR 0039).
 * A READY revision older than the current one (`current: false`) is not worth warming.
 */
export function currentRevisionReadyPattern(): EventPatternObject {
  return { source: [CATALOG_EVENT_SOURCE], 'detail-type': [ASSET_READY], detail: { current: [true] } };
}

/** The same pattern in the camelCase shape `aws-cdk-lib/aws-events` `EventPattern` takes. */
export function toCdkEventPattern(pattern: EventPatternObject): {
  source?: string[];
  detailType?: string[];
  detail?: Record<string, unknown>;
} {
  const { source, 'detail-type': detailType, detail } = pattern;
  return {
    ...(source !== undefined && { source: [...(source as readonly string[])] }),
    ...(detailType !== undefined && { detailType: [...(detailType as readonly string[])] }),
    ...(detail !== undefined && { detail: detail as Record<string, unknown> }),
  };
}

function isMatcherList(value: readonly PatternMatcher[] | EventPatternObject): value is readonly PatternMatcher[] {
  return Array.isArray(value);
}

function leafMatches(matchers: readonly PatternMatcher[], value: unknown): boolean {
  // EventBridge matches an array-valued event field if any of its elements matches.
  const candidates = Array.isArray(value) ? value : [value];
  return candidates.some((candidate) =>
    matchers.some((matcher) => {
      if (matcher !== null && typeof matcher === 'object') {
        return typeof candidate === 'string' && candidate.startsWith(matcher.prefix);
      }
      return candidate === matcher;
    }),
  );
}

/**
 * Whether an event matches a pattern, for the subset of EventBridge matching the platform's patterns
 * use: exact values, `prefix`, and nested objects. Every pattern field must match; a field absent
 * from the event matches nothing (null matches only an explicit null).
 */
export function matchesEventPattern(pattern: EventPatternObject, event: unknown): boolean {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return false;
  const record = event as Record<string, unknown>;
  return Object.entries(pattern).every(([field, expected]) => {
    if (!(field in record)) return false;
    const actual = record[field];
    return isMatcherList(expected) ? leafMatches(expected, actual) : matchesEventPattern(expected, actual);
  });
}
