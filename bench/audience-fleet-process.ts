/**
 * The load harness's fleet process (bench/audience.bench.ts forks it): runs one simulated audience for
 * a fixed time and sends back its statistics and its own CPU time, so the fleet's cost is measured apart
 * from the twin's. Only the fleet's modules are loaded here, not the twin's.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { startAudience, type AudienceStats } from '../local/audience/fleet';

export interface FleetRun {
  readonly playbackApi: string;
  readonly assets: readonly string[];
  readonly sessions: number;
  readonly countries: readonly string[];
  readonly seconds: number;
  readonly meanWatchSeconds: number;
}

export interface FleetResult {
  readonly stats: AudienceStats;
  readonly cpuMs: number;
  readonly wallMs: number;
  readonly rssMb: number;
}

const runText = process.env.AUDIENCE_FLEET_RUN;
if (runText && process.send) {
  const run = JSON.parse(runText) as FleetRun;
  const audience = startAudience({
    sessions: run.sessions,
    countries: run.countries,
    playbackApi: run.playbackApi,
    meanWatchSeconds: run.meanWatchSeconds,
    assets: async () => run.assets,
    log: (message) => console.log(`[fleet] ${message}`),
  });
  const cpuBefore = process.cpuUsage();
  const startedAt = Date.now();
  await sleep(run.seconds * 1000);
  const cpu = process.cpuUsage(cpuBefore);
  const result: FleetResult = {
    stats: audience.stats(),
    cpuMs: (cpu.user + cpu.system) / 1000,
    wallMs: Date.now() - startedAt,
    rssMb: process.memoryUsage().rss / 2 ** 20,
  };
  await audience.stop();
  process.send(result, () => process.exit(0));
}
