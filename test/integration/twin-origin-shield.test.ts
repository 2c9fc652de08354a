import { afterEach, describe, expect, it } from 'vitest';
import { startShieldScenario, type ShieldScenario } from '../support/origin-shield-scenario';

/**
 * The twin's Origin Shield (ADR 0038) and the pre-warm (ADR 0039) on a new title: three pathways with two
 * edge locations each, real CloudFront stand-ins, s3rver, the real pre-warm handler.
 */
const PATHWAYS = ['cf-a', 'cf-b', 'cf-c'];
let scenario: ShieldScenario | undefined;
afterEach(async () => {
  await scenario?.stop();
  scenario = undefined;
});

const allEdges = (world: ShieldScenario) => [...world.edges.values()].flat();

describe('twin Origin Shield', () => {
  it('lets a segment leave S3 once per pathway, whatever the number of edge locations and concurrent viewers', async () => {
    scenario = await startShieldScenario({ pathways: PATHWAYS, edgesPerPathway: 2, originShield: true });
    const world = scenario;

    // Two viewers on every edge location at once: twelve players start the title together.
    await Promise.all(allEdges(world).flatMap((edge) => [1, 2].map(() => world.watch(edge, { rung: 'v1080', seconds: 30 }))));

    const gets = world.segmentGets();
    expect(gets.size).toBe(10); // 5 segments of v1080 and of the audio
    // CloudFront's cache key holds the distribution's domain, so each pathway fills its shield entry once.
    expect([...new Set(gets.values())]).toEqual([PATHWAYS.length]);
    for (const edge of allEdges(world)) {
      expect(edge.originStats()).toMatchObject({ originShieldRegion: 'us-east-1' });
    }
    const totals = allEdges(world).map((edge) => edge.originStats()).reduce((sum, s) => ({ originGets: sum.originGets + s.originGets, shieldHits: sum.shieldHits + s.shieldHits }), { originGets: 0, shieldHits: 0 });
    // 12 objects per pathway from S3 (two playlists, two inits, ten segments); the second edge location of each pathway is served by the shield.
    expect(totals.originGets).toBe(PATHWAYS.length * 14);
    expect(totals.shieldHits).toBeGreaterThanOrEqual(PATHWAYS.length * 14);
  });

  it('without a shield, every edge location of every pathway fetches each segment from S3', async () => {
    scenario = await startShieldScenario({ pathways: PATHWAYS, edgesPerPathway: 2, originShield: false });
    const world = scenario;

    for (const edge of allEdges(world)) await world.watch(edge, { rung: 'v1080', seconds: 30 });

    expect([...new Set(world.segmentGets().values())]).toEqual([PATHWAYS.length * 2]);
    expect(allEdges(world)[0]!.originStats()).toEqual({ distributionId: 'cf-a-edge1', originShieldRegion: null, originShieldMode: null, originGets: 14, shieldHits: 0, shieldMisses: 0, shieldFailovers: 0 });
  });

  it('answers the origin counters on /__twin/origin-stats, and an invalidation empties the shield for its distribution only', async () => {
    scenario = await startShieldScenario({ pathways: PATHWAYS, edgesPerPathway: 2, originShield: true });
    const world = scenario;
    const [a1, a2] = world.edges.get('cf-a')!;
    const [b1] = world.edges.get('cf-b')!;
    await world.watch(a1!, { rung: 'v720', seconds: 12 });
    await world.watch(b1!, { rung: 'v720', seconds: 12 });

    const stats = await (await fetch(`${a1!.endpoint}/__twin/origin-stats`)).json();
    expect(stats).toEqual({ distributionId: 'cf-a-edge1', originShieldRegion: 'us-east-1', originShieldMode: 'per-pathway', originGets: 8, shieldHits: 0, shieldMisses: 8, shieldFailovers: 0 });

    a1!.invalidate([`/media/*`]);
    const before = world.segmentGets().get(`media/premiere/20261202-120000-0123456789abcdef01234567/v720_00001.m4s`);
    await world.watch(a2!, { rung: 'v720', seconds: 12 });
    await world.watch(world.edges.get('cf-b')![1]!, { rung: 'v720', seconds: 12 });
    // cf-a's objects were invalidated everywhere, cf-b's still sit in the shield.
    expect(world.segmentGets().get(`media/premiere/20261202-120000-0123456789abcdef01234567/v720_00001.m4s`)).toBe(before! + 1);
    expect(world.edges.get('cf-b')![1]!.originStats().originGets).toBe(0);
  });
});

describe('twin shared Origin Shield distribution (ADR 0098)', () => {
  const totals = (world: ShieldScenario) =>
    allEdges(world)
      .map((edge) => edge.originStats())
      .reduce((sum, s) => ({ originGets: sum.originGets + s.originGets, shieldFailovers: sum.shieldFailovers + s.shieldFailovers }), { originGets: 0, shieldFailovers: 0 });

  it('lets a segment leave S3 once in all, whatever the number of pathways, edge locations and concurrent viewers', async () => {
    scenario = await startShieldScenario({ pathways: PATHWAYS, edgesPerPathway: 2, originShield: 'shared' });
    const world = scenario;

    await Promise.all(allEdges(world).flatMap((edge) => [1, 2].map(() => world.watch(edge, { rung: 'v1080', seconds: 30 }))));

    const gets = world.segmentGets();
    expect(gets.size).toBe(10);
    expect([...new Set(gets.values())]).toEqual([1]);
    // Two playlists, two inits and ten segments leave S3 once for all six edge locations.
    expect(totals(world)).toEqual({ originGets: 14, shieldFailovers: 0 });
    for (const edge of allEdges(world)) expect(edge.originStats()).toMatchObject({ originShieldRegion: 'us-east-1', originShieldMode: 'shared' });
    const stats = await (await fetch(`${allEdges(world)[0]!.endpoint}/__twin/origin-stats`)).json();
    expect(stats).toMatchObject({ distributionId: 'cf-a-edge1', originShieldMode: 'shared', shieldFailovers: 0 });
  });

  it('fails over to S3 directly while the inner tier is down, and goes back through it once it is up', async () => {
    scenario = await startShieldScenario({ pathways: PATHWAYS, edgesPerPathway: 1, originShield: 'shared' });
    const world = scenario;
    const [a, b, c] = allEdges(world);
    world.shield!.setDown(true);

    // Every viewer is still served: each pathway's origin group reads S3 itself.
    expect(await world.watch(a!, { rung: 'v720', seconds: 12 })).toEqual({ edgeHits: 0, segments: 4 });
    expect(await world.watch(b!, { rung: 'v720', seconds: 12 })).toEqual({ edgeHits: 0, segments: 4 });
    expect([...new Set(world.segmentGets().values())]).toEqual([2]);
    expect(totals(world)).toEqual({ originGets: 16, shieldFailovers: 16 });

    world.shield!.setDown(false);
    await world.watch(c!, { rung: 'v720', seconds: 12 });
    await world.watch(a!, { rung: 'v360', seconds: 12 });
    await world.watch(b!, { rung: 'v360', seconds: 12 });
    const gets = world.segmentGets();
    expect(gets.get(`media/premiere/20261202-120000-0123456789abcdef01234567/v360_00001.m4s`)).toBe(1);
    // Healed, the inner tier fills once: for c's v720 (a third GET after a's and b's own), for a's v360, which b then finds there.
    expect(gets.get(`media/premiere/20261202-120000-0123456789abcdef01234567/v720_00001.m4s`)).toBe(3);
    expect(totals(world).shieldFailovers).toBe(16);
  });

  it('refuses a pathway without the secret header at the inner tier, which then reads S3 itself; the others share the tier', async () => {
    scenario = await startShieldScenario({ pathways: PATHWAYS, edgesPerPathway: 1, originShield: 'shared', withoutShieldSecret: ['cf-c'] });
    const world = scenario;
    const [a, b, c] = allEdges(world);

    for (const edge of [a!, b!, c!]) expect(await world.watch(edge, { rung: 'v720', seconds: 12 })).toEqual({ edgeHits: 0, segments: 4 });

    expect([...new Set(world.segmentGets().values())]).toEqual([2]);
    expect(c!.originStats()).toMatchObject({ originGets: 8, shieldHits: 0, shieldMisses: 0, shieldFailovers: 8 });
    expect(b!.originStats()).toMatchObject({ originGets: 0, shieldHits: 8, shieldFailovers: 0 });
  });

  it('empties the inner tier on a pathway’s invalidation, as the takedown invalidates the inner distribution too', async () => {
    scenario = await startShieldScenario({ pathways: PATHWAYS, edgesPerPathway: 1, originShield: 'shared' });
    const world = scenario;
    const [a, b] = allEdges(world);
    await world.watch(a!, { rung: 'v720', seconds: 12 });
    a!.invalidate(['/media/premiere/*']);
    await world.watch(b!, { rung: 'v720', seconds: 12 });
    expect([...new Set(world.segmentGets().values())]).toEqual([2]);
  });
});

describe('cache pre-warm on Asset Ready', () => {
  it('warms the start of each device class’s top rung through every pathway, so the first viewers are served from cache', async () => {
    scenario = await startShieldScenario({ pathways: PATHWAYS, edgesPerPathway: 2, originShield: true });
    const world = scenario;

    const result = await world.prewarm({ warmSeconds: 60 });

    // v1080 (TV, desktop, tablet) and v720 (mobile) with their audio: 3 playlists and 3 × (init + 10 segments).
    expect(result.objects).toBe(3 + 3 * 11);
    // The plan was read through cf-a, whose three rendition playlists were cached by then.
    expect(result.pathways).toEqual({
      'cf-a': { warmed: 33, alreadyCached: 3, failed: 0 },
      'cf-b': { warmed: 36, alreadyCached: 0, failed: 0 },
      'cf-c': { warmed: 36, alreadyCached: 0, failed: 0 },
    });
    const getsAfterWarmup = new Map(world.segmentGets());
    expect([...new Set(getsAfterWarmup.values())]).toEqual([PATHWAYS.length]);

    // The first viewer at the warmed edge location hits on every segment; at the other location, the shield answers.
    for (const pathway of PATHWAYS) {
      const [warmed, other] = world.edges.get(pathway)!;
      expect(await world.watch(warmed!, { rung: 'v1080', seconds: 60 })).toEqual({ edgeHits: 20, segments: 20 });
      expect(await world.watch(other!, { rung: 'v720', seconds: 60 })).toEqual({ edgeHits: 0, segments: 20 });
    }
    expect(world.segmentGets()).toEqual(getsAfterWarmup);

    // A second warm-up (a redelivered event) finds everything cached and costs S3 nothing.
    const again = await world.prewarm({ warmSeconds: 60 });
    expect(again.pathways['cf-a']).toEqual({ warmed: 0, alreadyCached: 36, failed: 0 });
    expect(world.segmentGets()).toEqual(getsAfterWarmup);
  });

  it('counts a pathway that refuses every fetch and still warms the others', async () => {
    scenario = await startShieldScenario({ pathways: PATHWAYS, edgesPerPathway: 1, originShield: true });
    const world = scenario;
    world.edges.get('cf-b')![0]!.setFaults({ down: '503' });

    const result = await world.prewarm({ warmSeconds: 30 });

    expect(result.pathways['cf-b']).toEqual({ warmed: 0, alreadyCached: 0, failed: result.objects });
    expect(result.pathways['cf-a']).toEqual({ warmed: result.objects - 3, alreadyCached: 3, failed: 0 });
    expect(result.pathways['cf-c']).toEqual({ warmed: result.objects, alreadyCached: 0, failed: 0 });
  });
});
