/**
 * How fast do routing weights react? (docs/routing.md "Measured reaction"; docs/benchmarks.md). Run: `npx tsx bench/reaction-sim.ts [seed]`.
 *
 * A deterministic simulation with a virtual clock (bench/sim/world.ts) that runs the real
 * aggregation, scoring and rendezvous code with the platform's delays (Kinesis batch window 5 s,
 * weights tick 10 s, edge cache 5 s, steering TTL 10 s). For comparison, in the same run: static
 * equal weights, and DNS-style switching (same weights, but each resolver caches one answer for 60 s
 * and players cannot fail over within a session).
 *
 * Figures:
 *  - reaction: seconds from the fault until the degraded pathway gets < 10% of new steering decisions
 *    in the affected country, for good (every later 10 s bucket stays below). Target <= 60 s, goal 30 s.
 *  - recovery: seconds from the CDN coming back until it gets >= 50% of its fair share of decisions
 *    in a 10 s bucket. Target <= 300 s.
 *  - flapping: weight direction changes per pathway and scope per 5 minutes of steady, noisy traffic.
 *    Target <= 1.
 *  - failed: share of media requests that failed during the fault.
 */
import { COUNTRIES, HEALTHY, PATHWAYS, runWorld, type CdnHealth, type Country, type Decision, type Strategy, type WorldResult } from './sim/world';

const FAULT_AT = 300;
const BUCKET = 10;
const STRATEGIES: readonly Strategy[] = ['adaptive', 'dns-60s', 'static-equal'];
const seed = Number(process.argv[2] ?? 20261124);

interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly pathway: string;
  readonly countries: readonly Country[];
  readonly faultEnds?: number;
  readonly duration: number;
  readonly health: (t: number, pathway: string, country: Country) => CdnHealth;
}

const ALL = Object.keys(COUNTRIES) as Country[];
const SCENARIOS: readonly Scenario[] = [
  {
    name: 'errors-de',
    description: 'cf-b error rate jumps to 20% in DE',
    pathway: 'cf-b',
    countries: ['DE'],
    duration: FAULT_AT + 300,
    health: (t, p, c) => (t >= FAULT_AT && p === 'cf-b' && c === 'DE' ? { ...HEALTHY, errorRate: 0.2 } : HEALTHY),
  },
  {
    name: 'throughput-halved',
    description: "cf-a's throughput halves everywhere",
    pathway: 'cf-a',
    countries: ALL,
    duration: FAULT_AT + 300,
    health: (t, p) => (t >= FAULT_AT && p === 'cf-a' ? { ...HEALTHY, throughputFactor: 0.5 } : HEALTHY),
  },
  {
    name: 'down-5min',
    description: 'cf-c down (all requests fail) for 5 min, then back',
    pathway: 'cf-c',
    countries: ALL,
    faultEnds: FAULT_AT + 300,
    duration: FAULT_AT + 300 + 600,
    health: (t, p) => (t >= FAULT_AT && t < FAULT_AT + 300 && p === 'cf-c' ? { ...HEALTHY, down: true } : HEALTHY),
  },
];

/** Share of decisions per 10 s bucket that put `pathway` first, in `country`. */
function shareSeries(decisions: readonly Decision[], pathway: string, country: Country, end: number): number[] {
  const buckets = Math.ceil(end / BUCKET);
  const hits = new Array<number>(buckets).fill(0);
  const all = new Array<number>(buckets).fill(0);
  for (const d of decisions) {
    if (d.country !== country) continue;
    const b = Math.floor(d.t / BUCKET);
    all[b]++;
    if (d.pathway === pathway) hits[b]++;
  }
  return all.map((n, i) => (n ? hits[i] / n : Number.NaN));
}

/** Seconds from `from` until the end of the first bucket after which the share stays below `limit`. */
function secondsUntilBelow(series: readonly number[], from: number, until: number, limit: number): number | null {
  const first = Math.floor(from / BUCKET);
  const last = Math.floor(until / BUCKET);
  for (let b = first; b < last; b++) {
    if (series.slice(b, last).every((s) => Number.isNaN(s) || s < limit)) return (b + 1) * BUCKET - from;
  }
  return null;
}

function secondsUntilAbove(series: readonly number[], from: number, limit: number): number | null {
  for (let b = Math.floor(from / BUCKET); b < series.length; b++) if (series[b] >= limit) return (b + 1) * BUCKET - from;
  return null;
}

const worst = (values: readonly (number | null)[]): number | null => (values.some((v) => v === null) ? null : Math.max(...(values as number[])));

function measure(scenario: Scenario, result: WorldResult) {
  const faultEnd = scenario.faultEnds ?? scenario.duration;
  const reactionByCountry = Object.fromEntries(
    scenario.countries.map((c) => [c, secondsUntilBelow(shareSeries(result.decisions, scenario.pathway, c, scenario.duration), FAULT_AT, faultEnd, 0.1)]),
  );
  const recoveryByCountry = scenario.faultEnds
    ? Object.fromEntries(
        scenario.countries.map((c) => [c, secondsUntilAbove(shareSeries(result.decisions, scenario.pathway, c, scenario.duration), scenario.faultEnds!, 0.5 / PATHWAYS.length)]),
      )
    : undefined;
  const during = result.failuresAt(FAULT_AT, faultEnd);
  return {
    reactionSeconds: worst(Object.values(reactionByCountry)),
    reactionByCountry,
    recoverySeconds: recoveryByCountry ? worst(Object.values(recoveryByCountry)) : undefined,
    recoveryByCountry,
    failedPercent: Math.round((during.failed / Math.max(1, during.requests)) * 10_000) / 100,
  };
}

/** Direction changes of each scope/pathway weight, as a rate per 5 minutes and the worst 5-minute window. */
function flapping(result: WorldResult, duration: number, skip: number) {
  let worstWindow = 0;
  let total = 0;
  let series = 0;
  for (const history of result.weightsHistory.values()) {
    for (const pathway of PATHWAYS) {
      series++;
      const reversals: number[] = [];
      let last = 0;
      let prev: number | undefined;
      for (const [t, weights] of history) {
        const w = weights[pathway];
        if (prev !== undefined && t >= skip) {
          const d = Math.sign(w - prev);
          if (d !== 0 && last !== 0 && d !== last) reversals.push(t);
          if (d !== 0) last = d;
        }
        prev = w;
      }
      total += reversals.length;
      for (const at of reversals) worstWindow = Math.max(worstWindow, reversals.filter((r) => r >= at && r < at + 300).length);
    }
  }
  return { perPathwayPer5Min: Math.round((total / Math.max(1, series) / ((duration - skip) / 300)) * 1000) / 1000, worst5MinWindow: worstWindow };
}

const started = performance.now();
const rows: { scenario: string; strategy: Strategy; reaction: number | null; recovery: number | null | undefined; failedPercent: number }[] = [];
const json: Record<string, unknown> = { seed, delays: { kinesisBatchSeconds: 5, weightsTickSeconds: 10, edgeCacheSeconds: 5, steeringTtlSeconds: 10, dnsTtlSeconds: 60 } };

for (const scenario of SCENARIOS) {
  const perStrategy: Record<string, unknown> = {};
  for (const strategy of STRATEGIES) {
    const m = measure(scenario, runWorld({ strategy, seed, health: scenario.health }, scenario.duration));
    rows.push({ scenario: scenario.name, strategy, reaction: m.reactionSeconds, recovery: m.recoverySeconds, failedPercent: m.failedPercent });
    perStrategy[strategy] = m;
  }
  json[scenario.name] = perStrategy;
}

const STEADY_SECONDS = 1800;
const steady = runWorld({ strategy: 'adaptive', seed: seed + 1, health: () => HEALTHY }, STEADY_SECONDS);
// The first 2 minutes are the start-up from equal weights with no data; flapping is a steady-state figure.
const flaps = flapping(steady, STEADY_SECONDS, 120);
json.steady = { seconds: STEADY_SECONDS, ...flaps };

const show = (v: number | null | undefined) => (v === undefined ? '-' : v === null ? 'never' : `${v} s`);
console.log(`reaction simulation (seed ${seed}); fault at t=${FAULT_AT} s; decisions bucketed per ${BUCKET} s`);
console.log('');
console.log('scenario            strategy       reaction (<10%)  recovery (>=50% fair)  failed requests during fault');
for (const r of rows) {
  console.log(`${r.scenario.padEnd(20)}${r.strategy.padEnd(15)}${show(r.reaction).padEnd(17)}${show(r.recovery).padEnd(23)}${r.failedPercent}%`);
}
console.log('');
console.log(`steady 30 min (adaptive): ${flaps.perPathwayPer5Min} weight direction changes per pathway per 5 min; worst 5-min window ${flaps.worst5MinWindow}`);
console.log(`targets: reaction <= 60 s (goal 30 s), recovery <= 300 s, direction changes <= 1 per 5 min; wall time ${Math.round(performance.now() - started)} ms`);
console.log(JSON.stringify(json));
