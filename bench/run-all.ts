import { spawnSync } from 'node:child_process';

/**
 * Runs every benchmark in its own process (so one's JIT and GC state never colours another's) and
 * prints their output in order. `npm run bench`; figures go to docs/benchmarks.md.
 */
const benches = ['bench/viewer-auth.bench.ts', 'bench/steering.bench.ts', 'bench/aggregator.bench.ts', 'bench/reaction-sim.ts'];
let failed = 0;
for (const bench of benches) {
  console.log(`\n=== ${bench}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', bench], { stdio: 'inherit' });
  if (result.status !== 0) failed += 1;
}
process.exit(failed === 0 ? 0 : 1);
