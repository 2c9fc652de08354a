/**
 * The tunables of the routing-weights controller, in one place, with their defaults. What each step
 * does with them: docs/routing.md "What one tick does". Overrides from the environment
 * (`SCORING_PARAMS_JSON`) are validated against these keys by the handler's configuration,
 * lambdas/routing-weights/config.ts.
 */

/** The tunables of the controller, one place, with the defaults of {@link DEFAULT_SCORING_PARAMS}. */
export interface ScoringParams {
  /**
   * Whole UTC minutes of rollups re-read on every tick, the current one included. Records that arrive
   * late (real-time logs are best effort) or from a slow player clock land in past minutes; re-reading
   * them is what lets them still count (ADR 0064).
   */
  readonly windowMinutes: number;
  /** Minutes *after* the current one that are read too: reports from player clocks running fast. */
  readonly clockSkewMinutes: number;
  /**
   * Length of the sliding "fresh" window: the current partial minute plus the matching tail of the
   * previous minute, pro rata. The partial minute is never scored on its own.
   */
  readonly freshSeconds: number;
  /** Distinct sessions (session-minutes) a cell needs before its figures count, when rollups carry sessions. */
  readonly minSessions: number;
  /** Requests + player reports a cell needs before its figures count, when rollups carry no session counts. */
  readonly minSamples: number;
  /**
   * A country whose cells hold on average fewer than this many quorums (`minSessions`, or `minSamples`
   * without session counts) in the recent window is *small*: it also borrows pooled evidence of its region
   * and of the world, which can demote a pathway there but never re-admit one against its own evidence.
   */
  readonly borrowBelowQuorums: number;
  /** Measurements (startups, throughput or TTFB values) a mean needs before it is compared. */
  readonly minMeasurements: number;
  /** Playing + stalled milliseconds a cell needs before its rebuffering ratio is compared. */
  readonly minPlayMs: number;
  /**
   * z of every confidence bound: a pathway is worse than a peer only when its lower bound is beyond the
   * peer's upper bound (rates, Wilson intervals) or the difference of means is beyond z standard errors.
   */
  readonly confidenceZ: number;
  /**
   * z of the bound that re-admits: a demoted pathway's cost falls only to what it may be worse by at most
   * at this z. Smaller than `confidenceZ`: failure needs strong evidence, health moderate evidence, and a
   * cell of healthy probe sessions must be able to provide it (ADR 0063).
   */
  readonly healthConfidenceZ: number;
  /**
   * Spread (standard deviation, in doublings) of one session's mean throughput, TTFB or startup time
   * around its pathway's mean. Rollups carry sums, not second moments, so the standard error of a mean is
   * this spread over √n (n = sessions, or measurements when sessions are not counted).
   */
  readonly relativeSpread: number;
  /**
   * Error and stall sessions per minute of a window that are set aside before a pathway's rate is compared:
   * a handful of viewers can report any failure (within the ingest's budgets), and this many of them per
   * cell move nothing (ADR 0063). The CDN's own 5xx lines are never discounted.
   */
  readonly untrustedSessionsPerMinute: number;
  /** Error-rate excess over the peers that costs nothing (both bounds already separated). */
  readonly errorRateTolerated: number;
  /** Significant excess error rate that costs one unit (one unit ≈ the pathway gets 1/20 of a healthy share). */
  readonly errorRateUnit: number;
  /** Significant excess error rate over the peers that applies at once (no smoothing, no hold). */
  readonly errorSpikeRate: number;
  readonly rebufferTolerated: number;
  /** Significant excess rebuffering ratio that costs one unit. */
  readonly rebufferUnit: number;
  /** Relative differences below this many doublings (log2), beyond the confidence bound, cost nothing. */
  readonly relativeDeadband: number;
  /**
   * Cost per significant doubling of mean startup time over a peer. 0 by default: startup time is a player
   * claim summed per line, and a mean of claims moves with a few sessions claiming minutes (ADR 0063).
   */
  readonly startupWeight: number;
  /** Cost per significant halving of mean throughput under a peer. */
  readonly throughputWeight: number;
  /** Cost per significant doubling of mean edge TTFB (the CDN's own measurement, real-time logs) over a peer. */
  readonly ttfbWeight: number;
  /**
   * Cost per significant doubling of mean player-measured TTFB (CMCD `ttfb`) over a peer. 0 by default for
   * the same reason as `startupWeight`: a claimed value has no upper bound a few sessions cannot reach.
   */
  readonly playerTtfbWeight: number;
  /** TTFBs below this are treated as equal: 8 ms vs 16 ms is not a doubling a viewer notices. */
  readonly ttfbFloorMs: number;
  /** Upper bound of a pathway's cost, so a dead pathway's figure is finite and comparable. */
  readonly maxCost: number;
  /** Share multiplier per unit of cost is `exp(-sharpness)`; ln 20 gives 1/20 per unit. */
  readonly sharpness: number;
  /** A measured cost must differ from the applied one by more than this to be applied (anti-flap). */
  readonly costDeadband: number;
  /**
   * After a pathway was demoted for its own figures, its cost may not fall again for this long (a
   * flapping CDN stays down). Demotions are never held, and pathways that only moved because another one
   * did are not held at all (ADR 0063).
   */
  readonly reversalHoldSeconds: number;
  /** Minimum share of every enabled pathway, so a recovered CDN still gets probe traffic. */
  readonly explorationFloor: number;
  /**
   * The largest share a pathway demoted on its scope's own evidence gets back before fresh evidence from
   * that scope clears it: its probe traffic. Evidence borrowed from other scopes, and the fading of an
   * unmeasured cost, never lift it above this (ADR 0065).
   */
  readonly probeShare: number;
  /**
   * Half-life of a pathway's cost while there is no evidence about it in the scope (own cell or borrowed).
   * A demoted CDN whose few probe viewers are too few to measure would otherwise keep its last cost for
   * ever; the fade lets its share grow, up to `probeShare` when the demotion was local. See ADR 0062.
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
  windowMinutes: 4,
  clockSkewMinutes: 3,
  freshSeconds: 60,
  minSessions: 8,
  minSamples: 100,
  borrowBelowQuorums: 12,
  minMeasurements: 20,
  minPlayMs: 5 * 60_000,
  confidenceZ: 3,
  healthConfidenceZ: 1,
  relativeSpread: 1,
  untrustedSessionsPerMinute: 5,
  errorRateTolerated: 0.005,
  errorRateUnit: 0.02,
  errorSpikeRate: 0.05,
  rebufferTolerated: 0.005,
  rebufferUnit: 0.02,
  relativeDeadband: 0.2,
  startupWeight: 0,
  throughputWeight: 2,
  ttfbWeight: 1.5,
  playerTtfbWeight: 0,
  ttfbFloorMs: 20,
  maxCost: 10,
  sharpness: Math.log(20),
  costDeadband: 0.25,
  reversalHoldSeconds: 300,
  explorationFloor: 0.03,
  probeShare: 0.08,
  unmeasuredCostHalfLifeSeconds: 300,
  evaluationIntervalSeconds: 10,
  demotionHalfLifeSeconds: 10,
  promotionHalfLifeSeconds: 60,
  snapEpsilon: 0.01,
};
