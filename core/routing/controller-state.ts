/**
 * What the routing-weights controller carries from one tick to the next. It is stored next to the
 * weights (the `control` attribute of `weights#<scope>`, docs/routing.md "Items written"), so the
 * Lambda stays stateless and any invocation can continue where another stopped (ADR 0060).
 */

export type Direction = -1 | 0 | 1;

/** Hysteresis state of one pathway in one scope. */
export interface PathwayControl {
  /** The applied cost the target shares are computed from. */
  readonly cost: number;
  /**
   * Direction of the pathway's last cost move *for cause* (its own or borrowed evidence): +1 demoted,
   * -1 promoted, 0 never moved. Moves of its share caused by other pathways (rebalancing) do not count.
   */
  readonly direction: Direction;
  /** Epoch ms of the last demotion for cause, or of the turn to promotion (start of the reversal hold). */
  readonly changedAt: number;
  /**
   * Demoted on this scope's own evidence and not cleared by it since: its share stays at or below
   * `probeShare` until fresh evidence from this scope shows it healthy (ADR 0065). Absent = false.
   */
  readonly localFailure?: boolean;
}

/** What a scope's previous tick left behind: its published weights and controller state. */
export interface ScopeState {
  readonly weights: Readonly<Record<string, number>>;
  readonly control: Readonly<Record<string, PathwayControl>>;
}
