/**
 * Which errors of the AWS calls submit-job makes (S3 HeadObject, MediaConvert Probe, ListJobs,
 * CreateJob) end an upload and which are worth another attempt (ADR 0025). Decided from the SDK
 * error's modelled name and HTTP status, so it holds for every service the handler calls.
 *
 * - Permanent: the request itself is refused — 400 BadRequest (MediaConvert cannot open or decode the
 *   file, or refuses the job), 403 AccessDenied/Forbidden, 404 NotFound/NoSuchKey. Retrying repeats the
 *   same answer, so the revision fails at once with the service's message.
 * - Transient: throttling (429, `TooManyRequestsException`, `ThrottlingException`, `SlowDown`),
 *   request timeouts (408), 5xx, and errors with no HTTP answer at all (network, socket, timeout).
 *   These are retried by Lambda's asynchronous retries; the last attempt fails the revision instead.
 */

/** The SDK error fields this policy reads (`ServiceException` in `@smithy/smithy-client`). */
interface ServiceErrorLike {
  readonly name?: string;
  readonly message?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

const TRANSIENT_NAMES = new Set([
  'TooManyRequestsException',
  'ThrottlingException',
  'Throttling',
  'SlowDown',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalServerErrorException',
  'ServiceUnavailable',
]);

const PERMANENT_NAMES = new Set([
  'BadRequestException',
  'NotFoundException',
  'ForbiddenException',
  'AccessDenied',
  'AccessDeniedException',
  'NoSuchKey',
  'NoSuchBucket',
  'NotFound',
  'Forbidden',
]);

export type FailureKind = 'permanent' | 'transient';

export function classifyServiceError(error: unknown): FailureKind {
  const { name, $metadata } = (error ?? {}) as ServiceErrorLike;
  if (name !== undefined && TRANSIENT_NAMES.has(name)) return 'transient';
  if (name !== undefined && PERMANENT_NAMES.has(name)) return 'permanent';
  const status = $metadata?.httpStatusCode;
  if (status === undefined || status === 408 || status === 429 || status >= 500) return 'transient';
  return status >= 400 ? 'permanent' : 'transient';
}

/** The catalog's error code for a permanent refusal, from the HTTP status the service answered. */
export function permanentErrorCode(error: unknown, otherwise: string): string {
  const status = ((error ?? {}) as ServiceErrorLike).$metadata?.httpStatusCode;
  if (status === 403) return 'ACCESS_DENIED';
  if (status === 404) return 'SOURCE_MISSING';
  return otherwise;
}

/** `Name: message` of an error, for a revision's reason. */
export function describeError(error: unknown): string {
  const { name, message } = (error ?? {}) as ServiceErrorLike;
  return [name, message].filter(Boolean).join(': ') || String(error);
}

/**
 * Whether the invocation that counted `attempts` on the revision is the last one Lambda makes:
 * the asynchronous event is retried `invocationAttempts - 1` times after a function error, and every
 * invocation that reaches a RECEIVED revision counts itself first (ADR 0025). A duplicate delivery
 * also counts, so it can only bring the end forward, never let the revision stay RECEIVED.
 */
export function isLastAttempt(attempts: number, invocationAttempts: number): boolean {
  return attempts >= invocationAttempts;
}
