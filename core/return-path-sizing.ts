/**
 * Sizing of the return path from the audience (docs/scale.md, ADR 0059): how many telemetry records a
 * viewer produces, how many sessions a cell sees, and the stream and report API capacity a configured
 * peak needs. Pure arithmetic on per-viewer rates measured in the twin; config validation and the
 * telemetry construct both use it, so the documented formula is the one that runs.
 */
import { MAX_REPORT_SAMPLING_PERCENT, MIN_REPORT_SAMPLING_PERCENT } from './report-sampling';

export { MAX_REPORT_SAMPLING_PERCENT, MIN_REPORT_SAMPLING_PERCENT };

/**
 * Delivery requests per viewer per second, measured by `npm run bench -- audience` (1,711 per viewer-hour:
 * 6 s video and audio segments, playlists and each session's start-up burst at a 60 s mean watch time;
 * docs/scale.md). One real-time log record each when the log samples every request.
 */
export const CDN_REQUESTS_PER_VIEWER_SECOND = 0.475;
/**
 * Report POSTs per reporting viewer per second, measured the same way (480 per viewer-hour: batches of 4
 * lines, one `rr` per request plus `t`, `ps`, `bc`). One stream record each.
 */
export const REPORT_POSTS_PER_REPORTING_VIEWER_SECOND = 0.133;
/** Kinesis: a provisioned shard takes 1,000 records/s and 1 MB/s (Kinesis Data Streams quotas). */
export const RECORDS_PER_SHARD_SECOND = 1_000;
/** Default shard quota per account in the largest Regions (us-east-1, us-west-2, eu-west-1); 200 elsewhere. */
export const MAX_PROVISIONED_SHARDS = 500;
/** Capacity over the expected mean: arrivals at a premiere's start and uneven partition keys. */
export const CAPACITY_HEADROOM = 2;

export interface ReturnPathRates {
  /** Percent of CDN requests in the real-time log (`telemetrySamplingRate`). */
  readonly telemetrySamplingRate: number;
  /** Percent of sessions that report (`reportSamplingRate`). */
  readonly reportSamplingRate: number;
}

/** Stream records one concurrent viewer produces per second, on average over all sessions. */
export function recordsPerViewerSecond(rates: ReturnPathRates): number {
  return (
    CDN_REQUESTS_PER_VIEWER_SECOND * (rates.telemetrySamplingRate / 100) +
    REPORT_POSTS_PER_REPORTING_VIEWER_SECOND * (rates.reportSamplingRate / 100)
  );
}

export function recordsPerViewerHour(rates: ReturnPathRates): number {
  return recordsPerViewerSecond(rates) * 3600;
}

/**
 * Expected distinct sessions with evidence in one cell-minute when `viewers` watch on that pathway in that
 * country: a session counts when it reported (sampled in) or when at least one of its ~28 requests of the
 * minute was logged: n · (1 − (1 − s)(1 − p)^r).
 */
export function expectedSessionsPerCellMinute(viewers: number, rates: ReturnPathRates): number {
  const requestsPerMinute = CDN_REQUESTS_PER_VIEWER_SECOND * 60;
  const unseen = (1 - rates.reportSamplingRate / 100) * (1 - rates.telemetrySamplingRate / 100) ** requestsPerMinute;
  return viewers * (1 - unseen);
}

/** Shards a provisioned stream needs for `peakViewers` (with CAPACITY_HEADROOM). */
export function shardsFor(peakViewers: number, rates: ReturnPathRates): number {
  return Math.max(1, Math.ceil((peakViewers * recordsPerViewerSecond(rates) * CAPACITY_HEADROOM) / RECORDS_PER_SHARD_SECOND));
}

export interface StageThrottle {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

/** Floor of the report API throttle: a small deployment still takes a test fleet's reports. */
export const MIN_REPORT_API_RATE = 100;

/**
 * The report API stage throttle for `peakViewers`: the reporting share of them times their POST rate,
 * with CAPACITY_HEADROOM; burst half of it (a second's worth of a premiere's arrivals).
 */
export function reportApiThrottleFor(peakViewers: number, reportSamplingRate: number): StageThrottle {
  const rateLimit = Math.max(
    MIN_REPORT_API_RATE,
    Math.ceil(peakViewers * (reportSamplingRate / 100) * REPORT_POSTS_PER_REPORTING_VIEWER_SECOND * CAPACITY_HEADROOM),
  );
  return { rateLimit, burstLimit: Math.max(MIN_REPORT_API_RATE / 2, Math.ceil(rateLimit / 2)) };
}
