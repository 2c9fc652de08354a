/**
 * Reaction of the routing loop to issue 9's scenarios (docs/benchmarks.md "Reaction of the routing loop"):
 * `npm run bench -- reaction [--seed N] [--merge-window S] [--only name] [--write]`. Runs every scenario of
 * bench/reaction/scenarios.ts on the full world, prints the table (scenario, target, measured, pass/fail)
 * and, with `--write`, replaces the table in docs/benchmarks.md. `--merge-window` models another
 * `rollupMergeWindowSeconds` (default: the platform's). Deterministic for a seed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { MAX_BATCHING_WINDOW_SECONDS } from '../core/platform-config';
import { ROLLUP_STAGES } from '../lib/topology';
import { SCENARIOS, type ScenarioResult } from './reaction/scenarios';

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? undefined : args[i + 1];
};
const seed = Number(option('seed') ?? 20261202);
const only = option('only');
const mergeWindowSeconds = Number(option('merge-window') ?? ROLLUP_STAGES.mergeWindowSeconds);
if (!Number.isInteger(mergeWindowSeconds) || mergeWindowSeconds < 0 || mergeWindowSeconds > MAX_BATCHING_WINDOW_SECONDS) throw new Error(`--merge-window must be whole seconds from 0 to ${MAX_BATCHING_WINDOW_SECONDS}, got ${option('merge-window')}`);
const started = performance.now();
const rows: ScenarioResult[] = [];
for (const scenario of SCENARIOS) {
  if (only && !scenario.name.includes(only)) continue;
  const t0 = performance.now();
  const row = scenario.run('full', seed, { mergeWindowSeconds });
  rows.push(row);
  console.error(`${row.pass ? 'pass' : 'FAIL'}  ${row.name}: ${row.measured} (${Math.round(performance.now() - t0)} ms)`);
}

const table = [
  '| scenario | target | measured | result |',
  '| --- | --- | --- | --- |',
  ...rows.map((r) => `| ${r.name} | ${r.target} | ${r.measured} | ${r.pass ? 'pass' : '**fail**'} |`),
].join('\n');
console.log(`reaction benchmark, seed ${seed}, rollup merge window ${mergeWindowSeconds} s, wall time ${Math.round((performance.now() - started) / 1000)} s\n`);
console.log(table);

if (args.includes('--write') && !only) {
  const file = new URL('../docs/benchmarks.md', import.meta.url);
  const doc = readFileSync(file, 'utf8');
  const begin = '<!-- reaction-table:begin -->';
  const end = '<!-- reaction-table:end -->';
  const from = doc.indexOf(begin);
  const to = doc.indexOf(end);
  if (from === -1 || to === -1) throw new Error(`docs/benchmarks.md has no ${begin} … ${end} markers`);
  writeFileSync(file, `${doc.slice(0, from + begin.length)}\n_seed ${seed}, rollup merge window ${mergeWindowSeconds} s_\n\n${table}\n${doc.slice(to)}`);
  console.log('\nwritten to docs/benchmarks.md');
}
process.exit(rows.every((r) => r.pass) ? 0 : 1);
