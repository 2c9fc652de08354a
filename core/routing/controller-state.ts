/**
 * What the routing-weights controller carries from one tick to the next. It is stored next to the
 * weights (the `control` attribute of `weights#<scope>`, docs/routing.md "Items written"), so the
 * Lambda stays stateless and any invocation can continue where another stopped (ADR 0060).
 */

export type Direction = -1 | 0 | 1;

/** Hysteresis state of one pathway in one scope. */
export interface PathwayControl {
  /** The cost the target shares are computed from. */
  readonly cost: number;
  /** Direction of the pathway's last share move: +1 up, -1 down, 0 never moved. */
  readonly direction: Direction;
  /** Epoch ms when that direction last turned (start of the reversal hold). */
  readonly changedAt: number;
}

/** What a scope's previous tick left behind: its published weights and controller state. */
export interface ScopeState {
  readonly weights: Readonly<Record<string, number>>;
  readonly control: Readonly<Record<string, PathwayControl>>;
}
