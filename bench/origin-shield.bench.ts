/**
 * Origin GETs per segment of a new title (ADR 0038, 0039, 0098): three pathways with two edge locations each on
 * the twin's CloudFront stand-ins, six viewers starting the title at once (one per edge location, two
 * minutes of the 1080p rung and its audio), with Origin Shield off, per pathway or shared (one inner shield
 * distribution every pathway fetches through) and with or without the pre-warm on `Asset Ready`. Counts S3 GETs of media segments per segment, and the share of the first viewers'
 * segment requests answered from the edge. Figures go to docs/benchmarks.md.
 *
 * Run: `npx tsx bench/origin-shield.bench.ts` (about a minute; `npm run bench -- origin-shield`).
 */
import './quiet-handler-logs';

// The pre-warm handler records Powertools metrics; there is no CloudWatch to print them for here.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
const { startShieldScenario } = await import('../test/support/origin-shield-scenario');

const PATHWAYS = ['cf-a', 'cf-b', 'cf-c'];
const EDGES_PER_PATHWAY = 2;
const WATCH_SECONDS = 120;

type ShieldMode = 'off' | 'per-pathway' | 'shared';
const SCENARIO_SHIELD: Record<ShieldMode, boolean | 'shared'> = { off: false, 'per-pathway': true, shared: 'shared' };

interface Row {
  readonly shield: ShieldMode;
  readonly prewarm: boolean;
  readonly getsPerSegment: { readonly min: number; readonly max: number; readonly mean: number };
  readonly prewarmGetsPerSegment: number;
  readonly firstViewerEdgeHitPercent: number;
  /** Viewers' segment requests that had to wait for S3. */
  readonly firstViewerFromS3Percent: number;
}

/** The media segments the viewers play: the 1080p rung's and the audio's (the pre-warm also fetches 720p). */
const watched = (gets: ReadonlyMap<string, number>) => [...gets].filter(([key]) => /\/(v1080|a128)_\d+\.m4s$/.test(key));
const total = (entries: readonly (readonly [string, number])[]) => entries.reduce((sum, [, n]) => sum + n, 0);

async function measure(shield: ShieldMode, prewarm: boolean): Promise<Row> {
  const world = await startShieldScenario({ pathways: PATHWAYS, edgesPerPathway: EDGES_PER_PATHWAY, originShield: SCENARIO_SHIELD[shield] });
  try {
    if (prewarm) await world.prewarm({ warmSeconds: WATCH_SECONDS });
    const prewarmGets = total(watched(world.segmentGets()));
    const outcomes = await Promise.all([...world.edges.values()].flat().map((edge) => world.watch(edge, { rung: 'v1080', seconds: WATCH_SECONDS })));
    const entries = watched(world.segmentGets());
    const gets = entries.map(([, n]) => n);
    const hits = outcomes.reduce((sum, o) => sum + o.edgeHits, 0);
    const segments = outcomes.reduce((sum, o) => sum + o.segments, 0);
    return {
      shield,
      prewarm,
      getsPerSegment: { min: Math.min(...gets), max: Math.max(...gets), mean: total(entries) / gets.length },
      prewarmGetsPerSegment: prewarmGets / gets.length,
      firstViewerEdgeHitPercent: (100 * hits) / segments,
      firstViewerFromS3Percent: (100 * (total(entries) - prewarmGets)) / segments,
    };
  } finally {
    await world.stop();
  }
}

const rows: Row[] = [];
for (const shield of ['off', 'per-pathway', 'shared'] as const) for (const prewarm of [false, true]) rows.push(await measure(shield, prewarm));

console.log(`origin GETs per media segment of a new title: ${PATHWAYS.length} pathways × ${EDGES_PER_PATHWAY} edge locations, ${PATHWAYS.length * EDGES_PER_PATHWAY} viewers starting together, ${WATCH_SECONDS} s of 1080p + audio each`);
console.log('| Origin Shield | pre-warm | S3 GETs per segment (min / mean / max) | of which by the pre-warm | first viewers’ segments from the edge cache | S3 GETs while they watch, per segment request |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const row of rows) {
  const { min, mean, max } = row.getsPerSegment;
  console.log(
    `| ${row.shield === 'shared' ? 'shared shield' : row.shield} | ${row.prewarm ? 'on' : 'off'} | ${min} / ${mean.toFixed(2)} / ${max} | ${row.prewarm ? row.prewarmGetsPerSegment.toFixed(2) : '—'} | ${row.firstViewerEdgeHitPercent.toFixed(0)} % | ${row.firstViewerFromS3Percent.toFixed(0)} % |`,
  );
}
const most = (mode: ShieldMode) => Math.max(...rows.filter((r) => r.shield === mode).map((r) => r.getsPerSegment.max));
console.log(`per-pathway shield: at most ${most('per-pathway') / PATHWAYS.length} S3 GET per segment per pathway; shared shield: at most ${most('shared')} per segment across ${PATHWAYS.length} pathways (one shield Region)`);
