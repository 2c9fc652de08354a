/**
 * Every way a report can be refused, with its HTTP status. `reason` is a short stable code returned to
 * the client; it never echoes input. Mapped to responses in one place (index.ts `toResponse`).
 *
 * Status choices follow what @svta/cml-cmcd's reporter (hls.js) does with them: 429 and 5xx make it
 * re-queue the events and retry, 410 silences the target, anything else drops the batch.
 */
export class ReportRejectedError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(`report rejected (${status}): ${reason}`);
    this.name = new.target.name;
  }
}

export class ForbiddenReportError extends ReportRejectedError {
  constructor(reason: string) {
    super(403, reason);
  }
}

export class BadReportError extends ReportRejectedError {
  constructor(reason: string) {
    super(400, reason);
  }
}

export class ReportTooLargeError extends ReportRejectedError {
  constructor() {
    super(413, 'body-too-large');
  }
}

export class UnsupportedReportTypeError extends ReportRejectedError {
  constructor() {
    super(415, 'unsupported-content-type');
  }
}

export class MethodNotAllowedError extends ReportRejectedError {
  constructor() {
    super(405, 'method-not-allowed');
  }
}

export class RateLimitedError extends ReportRejectedError {
  constructor(readonly retryAfterSeconds: number) {
    super(429, 'rate-limited');
  }
}

export class StreamUnavailableError extends ReportRejectedError {
  constructor() {
    super(503, 'stream-unavailable');
  }
}
