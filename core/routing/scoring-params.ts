/**
 * The tunables of the routing-weights controller, in one place, with their defaults. What each step
 * does with them: docs/routing.md "What one tick does". Overrides from the environment
 * (`SCORING_PARAMS_JSON`) are validated against these keys by the handler's configuration,
 * lambdas/routing-weights/config.ts.
 */

/** The tunables of the controller, one place, with the defaults of {@link DEFAULT_SCORING_PARAMS}. */
export interface ScoringParams {
  /** Minutes of rollups in the "recent" window, the current partial minute included. */
  readonly windowMinutes: number;
  /** Requests + player reports a cell needs in a window before its figures are trusted. */
  readonly minSamples: number;
  /** Measurements (startups, throughput or TTFB values) a mean needs before it is compared. */
  readonly minMeasurements: number;
  /** Playing + stalled milliseconds a cell needs before its rebuffering ratio is used. */
  readonly minPlayMs: number;
  /** Error rate any CDN has on a normal day; only the excess costs anything. */
  readonly errorRateTolerated: number;
  /** Excess error rate that costs one unit (one unit ≈ the pathway gets 1/20 of a healthy share). */
  readonly errorRateUnit: number;
  /** Error rate whose lower confidence bound triggers immediate demotion (no smoothing, no hold). */
  readonly errorSpikeRate: number;
  /** z of the Wilson lower bound used for the spike test: small cells cannot trigger a spike by chance. */
  readonly spikeConfidenceZ: number;
  readonly rebufferTolerated: number;
  /** Excess rebuffering ratio that costs one unit. */
  readonly rebufferUnit: number;
  /** Relative differences below this many doublings (log2) are noise and cost nothing. */
  readonly relativeDeadband: number;
  /** Cost per doubling of mean startup time over the scope's best pathway. */
  readonly startupWeight: number;
  /** Cost per halving of mean throughput under the scope's best pathway. */
  readonly throughputWeight: number;
  /** Cost per doubling of mean TTFB over the scope's best pathway. */
  readonly ttfbWeight: number;
  /** TTFBs below this are treated as equal: 15 ms vs 30 ms is not a doubling a viewer notices. */
  readonly ttfbFloorMs: number;
  /** Upper bound of a pathway's cost, so a dead pathway's figure is finite and comparable. */
  readonly maxCost: number;
  /** Share multiplier per unit of cost is `exp(-sharpness)`; ln 20 gives 1/20 per unit. */
  readonly sharpness: number;
  /** A measured cost must differ from the applied one by more than this to be applied (anti-flap). */
  readonly costDeadband: number;
  /** After a pathway's cost moved one way, a move the other way waits this long (spikes excepted). */
  readonly reversalHoldSeconds: number;
  /** Minimum share of every enabled pathway, so a recovered CDN still gets probe traffic. */
  readonly explorationFloor: number;
  /**
   * Half-life of a pathway's cost while there is no trusted evidence about it in the scope (neither its
   * own cell nor the global fallback). A demoted CDN whose few probe viewers are too few to measure would
   * otherwise keep its last cost for ever; decaying it lets its share grow until there is evidence again,
   * and evidence of failure demotes it at once (an error spike skips smoothing). See ADR 0062.
   */
  readonly unmeasuredCostHalfLifeSeconds: number;
  /** Seconds between ticks; the EWMA step is derived from it and the half-lives. */
  readonly evaluationIntervalSeconds: number;
  readonly demotionHalfLifeSeconds: number;
  readonly promotionHalfLifeSeconds: number;
  /** When every share is within this of its target, publish the target exactly (ends the EWMA tail). */
  readonly snapEpsilon: number;
}

export const DEFAULT_SCORING_PARAMS: ScoringParams = {
  windowMinutes: 2,
  minSamples: 100,
  minMeasurements: 20,
  minPlayMs: 5 * 60_000,
  errorRateTolerated: 0.005,
  errorRateUnit: 0.02,
  errorSpikeRate: 0.05,
  spikeConfidenceZ: 3,
  rebufferTolerated: 0.005,
  rebufferUnit: 0.02,
  relativeDeadband: 0.2,
  startupWeight: 1,
  throughputWeight: 1,
  ttfbWeight: 0.5,
  ttfbFloorMs: 40,
  maxCost: 10,
  sharpness: Math.log(20),
  costDeadband: 0.25,
  reversalHoldSeconds: 300,
  explorationFloor: 0.03,
  unmeasuredCostHalfLifeSeconds: 300,
  evaluationIntervalSeconds: 10,
  demotionHalfLifeSeconds: 10,
  promotionHalfLifeSeconds: 60,
  snapEpsilon: 0.01,
};
