/** The player-reported figures that feed routing, by the sample field they become. */
export type BoundedField = 'ttfbMs' | 'startupMs' | 'stallMs' | 'throughputKbps' | 'bitrateKbps' | 'bufferMs' | 'status';

/**
 * What a player may plausibly report, inclusive. A value outside is not clamped (a clamp would still
 * let a made-up value pull a mean to the bound) but set aside and counted: dash.js 5 sends `ttfb` as an
 * epoch timestamp (≈ 1.8e12), and one `bsd=(999999999)` once demoted a CDN for a country.
 * - ttfb: a first byte after more than a minute is a timeout, not a latency;
 * - msd: players give up on a start long before 10 minutes;
 * - bsd: starvation reported in one line covers at most the time since the session's previous
 *   report, i.e. about one reporting interval; two intervals allow for a late timer ({@link stallBound});
 * - mtp: 10 Gbit/s is beyond any access link a player measures; br: 500 Mbit/s beyond any rung;
 * - bl: an hour of forward buffer is beyond any player's default;
 * - rc: an HTTP status (CTA-5004-B) or 0 for "no response".
 */
export const PLAYER_VALUE_BOUNDS: Readonly<Record<Exclude<BoundedField, 'stallMs'>, { readonly min: number; readonly max: number }>> = {
  ttfbMs: { min: 0, max: 60_000 },
  startupMs: { min: 0, max: 600_000 },
  throughputKbps: { min: 0, max: 10_000_000 },
  bitrateKbps: { min: 0, max: 500_000 },
  bufferMs: { min: 0, max: 3_600_000 },
  status: { min: 0, max: 599 },
};
