import { spawnSync } from 'node:child_process';

/**
 * Runs benchmarks each in its own process (so one's JIT and GC state never colours another's) and
 * prints their output in order. `npm run bench` runs the default set; figures go to docs/benchmarks.md.
 * `npm run bench -- audience` (any names) runs the benchmarks whose file name contains one of them,
 * including the load harness and the reaction benchmark, which are not in the default set: each takes minutes.
 * Arguments after `--` that start with `--` go to the benchmarks, e.g. `npm run bench -- audience --sessions 500`.
 */
const DEFAULT = ['bench/viewer-auth.bench.ts', 'bench/steering.bench.ts', 'bench/aggregator.bench.ts', 'bench/bundle-sizes.ts', 'bench/origin-shield.bench.ts'];
/** Minutes each: the load harness needs ffmpeg; the reaction benchmark simulates hours of a world (ADR 0066). */
const ON_REQUEST = ['bench/audience.bench.ts', 'bench/reaction.bench.ts'];

const args = process.argv.slice(2);
const firstOption = args.findIndex((arg) => arg.startsWith('--'));
const names = firstOption === -1 ? args : args.slice(0, firstOption);
const passed = firstOption === -1 ? [] : args.slice(firstOption);
const benches = names.length === 0 ? DEFAULT : [...DEFAULT, ...ON_REQUEST].filter((file) => names.some((name) => file.includes(name)));
if (benches.length === 0) {
  console.error(`no benchmark matches ${names.join(', ')}; known: ${[...DEFAULT, ...ON_REQUEST].join(', ')}`);
  process.exit(2);
}

let failed = 0;
for (const bench of benches) {
  console.log(`\n=== ${bench}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', bench, ...passed], { stdio: 'inherit' });
  if (result.status !== 0) failed += 1;
}
process.exit(failed === 0 ? 0 : 1);
