/**
 * Turning per-pathway preferences into shares of traffic: the exploration floor and capacity caps as
 * bounds, water-filling within them, and rounding that keeps the sum at exactly 1. Why floors and caps
 * work this way: docs/routing.md step 4 and ADR 0060.
 */
import type { PathwayEntry } from '../routing-types';
import type { ScoringParams } from './scoring-params';

/** The exploration floor and the caps as per-pathway bounds; disabled pathways are pinned to 0. */
export function boundsOf(pathways: readonly PathwayEntry[], p: ScoringParams): Map<string, { lo: number; hi: number }> {
  const enabled = pathways.filter((e) => e.enabled);
  const floor = enabled.length ? Math.min(p.explorationFloor, 1 / enabled.length) : 0;
  return new Map(
    pathways.map((e) => {
      const hi = e.enabled ? Math.min(1, Math.max(0, e.cap)) : 0;
      return [e.id, { lo: Math.min(floor, hi), hi }];
    }),
  );
}

/**
 * Shares proportional to `raw`, each clamped to its [lo, hi], summing to `total` ("water filling"):
 * find λ with Σ clamp(λ·raw_i, lo_i, hi_i) = total by bisection (the sum is monotone in λ). When the
 * caps cannot hold the total (Σhi < total) the caps are scaled up proportionally: a capped CDN
 * overloaded is still better than no CDN at all.
 */
export function fillShares(
  raw: ReadonlyMap<string, number>,
  bounds: ReadonlyMap<string, { lo: number; hi: number }>,
  total = 1,
): Map<string, number> {
  const ids = [...raw.keys()];
  const lo = (id: string) => bounds.get(id)?.lo ?? 0;
  const hi = (id: string) => bounds.get(id)?.hi ?? 1;
  const his = ids.reduce((s, id) => s + hi(id), 0);
  const los = ids.reduce((s, id) => s + lo(id), 0);
  if (his <= 0) return new Map(ids.map((id) => [id, 0]));
  if (his <= total) return new Map(ids.map((id) => [id, (hi(id) / his) * total]));
  if (los >= total) return new Map(ids.map((id) => [id, (lo(id) / los) * total]));
  const at = (lambda: number) => new Map(ids.map((id) => [id, Math.min(hi(id), Math.max(lo(id), lambda * Math.max(0, raw.get(id)!)))]));
  const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  let low = 0;
  let high = 1;
  while (sum(at(high)) < total && high < 1e300) high *= 2;
  for (let i = 0; i < 200; i++) {
    const mid = (low + high) / 2;
    if (sum(at(mid)) < total) low = mid;
    else high = mid;
  }
  const shares = at(high);
  const s = sum(shares);
  return new Map([...shares].map(([id, v]) => [id, (v / s) * total]));
}

/** Rounds to 4 decimals and puts the rounding residue on the largest share so the sum stays 1. */
export function roundShares(shares: ReadonlyMap<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  let largest: string | undefined;
  let sum = 0;
  for (const [id, v] of shares) {
    out[id] = Math.round(v * 10_000) / 10_000;
    sum += out[id];
    if (largest === undefined || out[id] > out[largest]) largest = id;
  }
  if (largest !== undefined && sum > 0) out[largest] = Math.round((out[largest] + 1 - sum) * 10_000) / 10_000;
  return out;
}
