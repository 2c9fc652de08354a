/**
 * One fleet process of the load harness (local/audience/load-harness.ts forks one or more): runs a simulated
 * audience until told to stop, and answers each `mark` with its statistics, its own CPU time and the
 * viewer-seconds watched so far, so the harness measures a window of its choosing apart from the twin.
 * Only the fleet's modules are loaded here, not the twin's.
 */
import { startAudience, type AudienceStats } from './fleet';

export interface FleetRun {
  readonly playbackApi: string;
  readonly assets: readonly string[];
  readonly sessions: number;
  readonly countries: readonly string[];
  readonly meanWatchSeconds: number;
  /** Spread of the first sessions' starts. */
  readonly rampUpMs: number;
}

/** The parent's requests: take a reading now, or stop and leave. */
export type FleetCommand = { readonly type: 'mark' } | { readonly type: 'stop' };

export interface FleetMark {
  readonly type: 'mark';
  readonly stats: AudienceStats;
  /** CPU time of this process since it started, ms. */
  readonly cpuMs: number;
  /** ∫ viewers with a session dt since the start, s: the viewer-hours the counters are divided by. */
  readonly viewerSeconds: number;
  readonly at: number;
  readonly rssMb: number;
}

/** How often the number of viewers with a session is sampled for `viewerSeconds`. */
const VIEWER_SAMPLE_MS = 500;

const runText = process.env.AUDIENCE_FLEET_RUN;
if (runText && process.send) {
  const run = JSON.parse(runText) as FleetRun;
  const audience = startAudience({
    sessions: run.sessions,
    countries: run.countries,
    playbackApi: run.playbackApi,
    meanWatchSeconds: run.meanWatchSeconds,
    rampUpMs: run.rampUpMs,
    assets: async () => run.assets,
    log: (message) => console.log(`[fleet ${process.pid}] ${message}`),
  });
  let viewerSeconds = 0;
  let sampledAt = Date.now();
  const sample = () => {
    const now = Date.now();
    viewerSeconds += (audience.stats().active * (now - sampledAt)) / 1000;
    sampledAt = now;
  };
  const sampler = setInterval(sample, VIEWER_SAMPLE_MS);
  process.on('message', (command: FleetCommand) => {
    if (command.type === 'mark') {
      sample();
      const cpu = process.cpuUsage();
      const mark: FleetMark = {
        type: 'mark',
        stats: audience.stats(),
        cpuMs: (cpu.user + cpu.system) / 1000,
        viewerSeconds,
        at: Date.now(),
        rssMb: process.memoryUsage().rss / 2 ** 20,
      };
      process.send!(mark);
    } else if (command.type === 'stop') {
      clearInterval(sampler);
      void audience.stop().then(() => process.send!({ type: 'stopped' }, () => process.exit(0)));
    }
  });
  // The harness going away takes the fleet with it: a load generator is never left running.
  process.on('disconnect', () => process.exit(0));
}
