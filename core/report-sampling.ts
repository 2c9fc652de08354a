import { createHash } from 'node:crypto';

/**
 * Per-session sampling of player reports (docs/telemetry.md "Sampled reports", ADR 0058).
 *
 * The decision is a pure function of the session id and the configured rate: the session id is chosen by
 * playback-api and signed into the playback token, so a player can neither pick a sampled-in id nor
 * claim to be sampled in. playback-api decides at session creation (a sampled-out session gets no
 * `reportUrl`); cmcd-ingest re-derives the same decision from the verified token and refuses the
 * reports of a sampled-out session before touching the rate limiter or the stream. The token format is
 * unchanged (docs/token.md), so every verifier of it keeps working.
 */

/**
 * The rate is whole percent of sessions, like CloudFront's real-time log `SamplingRate` (the platform's
 * `telemetrySamplingRate`): integers survive every encoding (context, env, URL) exactly.
 */
export const MIN_REPORT_SAMPLING_PERCENT = 1;
export const MAX_REPORT_SAMPLING_PERCENT = 100;

/** A report sampling rate that is not a whole percent from 1 to 100. */
export class ReportSamplingRateError extends Error {
  constructor(percent: number) {
    super(`report sampling rate must be a whole percent from ${MIN_REPORT_SAMPLING_PERCENT} to ${MAX_REPORT_SAMPLING_PERCENT}, got ${percent}`);
    this.name = 'ReportSamplingRateError';
  }
}

export function isReportSamplingPercent(percent: number): boolean {
  return Number.isInteger(percent) && percent >= MIN_REPORT_SAMPLING_PERCENT && percent <= MAX_REPORT_SAMPLING_PERCENT;
}

/**
 * The session's position in [0, 1): the first 32 bits of SHA-256 of the session id. Uniform for any id
 * source (UUIDs are not uniform in their leading characters: the version nibble is fixed).
 */
export function reportSampleBucket(sessionId: string): number {
  return createHash('sha256').update(sessionId, 'utf8').digest().readUInt32BE(0) / 2 ** 32;
}

/** Whether the session sends player reports when `percent` % of sessions do; 100 samples every session in. */
export function isReportSampled(sessionId: string, percent: number): boolean {
  if (!isReportSamplingPercent(percent)) throw new ReportSamplingRateError(percent);
  return percent === MAX_REPORT_SAMPLING_PERCENT || reportSampleBucket(sessionId) * 100 < percent;
}
