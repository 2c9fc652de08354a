/**
 * Reason text: what an operator reads next to the weights ("why did DE move off cf-b?"), e.g.
 * `cf-b error rate 20% over 1,200 requests in DE; demoted 0.33 → 0.03` (docs/routing.md step 7).
 */
import { TTFB_SIGNALS, type CostComponent, type MeasuredCost, type TtfbSignal } from './pathway-cost';
import type { Direction } from './controller-state';

const count = (n: number): string => Math.round(n).toLocaleString('en-US');
const share = (n: number): string => n.toFixed(2);
const percent = (r: number): string => `${(r * 100).toFixed(r < 0.1 ? 1 : 0)}%`;

export function formatShares(weights: Readonly<Record<string, number>>): string {
  return Object.entries(weights)
    .map(([id, w]) => `${id} ${share(w)}`)
    .join(', ');
}

/** Borrowed figures are a pool's (ADR 0065): the reason says whose. */
const fallbackNote = (m: MeasuredCost): string => (m.borrowedFrom ? ` (figures of the ${m.borrowedFrom.pool} pool: too few sessions here)` : '');

/** The figure behind a pathway's cost, naming its largest component. */
export function describeCost(m: MeasuredCost): string {
  const [top, value] = (Object.entries(m.components) as [CostComponent, number][]).reduce((a, b) => (b[1] > a[1] ? b : a));
  const errorText =
    m.errorRate === undefined ? `${count(m.samples)} samples` : `error rate ${percent(m.errorRate)} over ${count(m.errorDenominator)} ${m.rateUnit}`;
  if (value <= 0) return `${errorText}`;
  switch (top) {
    case 'errors':
      return m.best.errorRate === undefined ? errorText : `${errorText} vs ${percent(m.best.errorRate)}`;
    case 'rebuffering':
      return m.rateUnit === 'sessions'
        ? `stalls in ${percent(m.stallRate ?? 0)} of ${count(m.samples)} sessions vs ${percent(m.best.stallRate ?? 0)}`
        : `rebuffering ${percent(m.rebufferRatio ?? 0)} of ${count(m.playMs / 60_000)} min played`;
    case 'startup':
      return `startup ${((m.startupMs ?? 0) / 1000).toFixed(1)} s vs best ${((m.best.startupMs ?? 0) / 1000).toFixed(1)} s`;
    case 'throughput':
      return `throughput ${count(m.throughputKbps ?? 0)} kbps vs best ${count(m.best.throughputKbps ?? 0)} kbps`;
    case 'ttfb': {
      // The signal that set the cost: the one furthest above its own best.
      const ratio = (signal: TtfbSignal) => (m.ttfbMs[signal] ?? 0) / Math.max(1, m.best.ttfbMs[signal] ?? Infinity);
      const signal = TTFB_SIGNALS.reduce((a, b) => (ratio(b) > ratio(a) ? b : a));
      return `${signal} TTFB ${count(m.ttfbMs[signal] ?? 0)} ms vs best ${count(m.best.ttfbMs[signal] ?? 0)} ms`;
    }
  }
}

export function describeAll(ids: readonly string[], measured: ReadonlyMap<string, MeasuredCost>): string {
  return ids
    .filter((id) => measured.has(id))
    .map((id) => `${id} ${describeCost(measured.get(id)!)}${fallbackNote(measured.get(id)!)}`)
    .join('; ');
}

export function explainChange(a: {
  ids: readonly string[];
  where: string;
  measured: ReadonlyMap<string, MeasuredCost>;
  costs: ReadonlyMap<string, number>;
  costChanged: ReadonlyMap<string, Direction>;
  prev: Readonly<Record<string, number>>;
  next: Readonly<Record<string, number>>;
  target: Readonly<Record<string, number>>;
}): string {
  const moves = a.ids
    .map((id) => ({ id, from: a.prev[id] ?? 0, to: a.next[id] ?? 0, target: a.target[id] ?? 0 }))
    .filter((m) => m.from !== m.to)
    .sort((x, y) => Math.abs(y.to - y.from) - Math.abs(x.to - x.from) || (x.id < y.id ? -1 : 1));
  // The pathways whose own figures moved are the cause; the others are rebalanced around them.
  const causes = moves.filter((m) => a.costChanged.has(m.id) || (m.to < m.from && a.costs.get(m.id)! > 0));
  const shown = causes.length ? causes : moves.slice(0, 1);
  const parts = shown.map((m) => {
    const verb = m.to < m.from ? 'demoted' : 'promoted';
    const heading = m.to === m.target ? '' : ` (target ${share(m.target)})`;
    const figures = a.measured.get(m.id);
    const why = !figures
      ? 'no recent samples'
      : a.costChanged.get(m.id) === -1 || (m.to > m.from && a.costs.get(m.id) === 0 && a.costChanged.has(m.id))
        ? `recovered, ${describeCost(figures)}`
        : describeCost(figures);
    return `${m.id} ${why} ${a.where}${figures ? fallbackNote(figures) : ''}; ${verb} ${share(m.from)} → ${share(m.to)}${heading}`;
  });
  const others = moves.filter((m) => !shown.includes(m));
  if (others.length) parts.push(`rebalanced ${others.map((m) => `${m.id} ${share(m.from)} → ${share(m.to)}`).join(', ')}`);
  return parts.join('; ');
}

export function explainSteady(a: { where: string; held: readonly string[]; anyData: boolean }): string {
  if (!a.anyData) return `no trusted QoE data ${a.where}; holding the last weights`;
  if (a.held.length) return `${a.held.join(', ')} demoted too recently ${a.where} to be promoted yet; holding`;
  return `no significant change ${a.where}`;
}
