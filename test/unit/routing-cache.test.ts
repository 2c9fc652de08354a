import { describe, expect, it, vi } from 'vitest';
import { RoutingCache, RoutingUnavailableError } from '../../edge-functions/steering/routing-cache';
import { ROUTING_SNAPSHOT_SHARDS, type PathwayEntry } from '../../core/routing-types';
import { InvalidSnapshotError, MAX_SNAPSHOT_TEXT_BYTES, parseRoutingSnapshot, routingSnapshotReader, snapshotItemBytes, snapshotItemOf } from '../../tables/routing-table';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const pathway = (id: string, enabled = true): PathwayEntry => ({ id, host: `${id}.example.net`, enabled, cap: 1 });
const PATHWAYS = [pathway('cf-a'), pathway('cf-b'), pathway('cf-c', false)];
const item = (weights: Record<string, Record<string, number>>, generation = 1) =>
  snapshotItemOf(0, generation, PATHWAYS, new Map(Object.entries(weights)));

/** 200 two-letter countries (AA…HR) plus the global scope, each with `n` pathways. */
function fullSnapshot(n: number) {
  const pathways = Array.from({ length: n }, (_, i) => ({ id: `cf-pathway-${i}`, host: `d${String(i).padStart(13, '0')}.cloudfront.net`, enabled: true, cap: 1 }));
  const shares = Object.fromEntries(pathways.map((p, i) => [p.id, (i + 1) / ((n * (n + 1)) / 2) + 1e-7]));
  const scopes = ['*', ...Array.from({ length: 200 }, (_, i) => String.fromCharCode(65 + Math.floor(i / 26), 65 + (i % 26)))];
  return snapshotItemOf(0, Date.UTC(2026, 11, 2), pathways, new Map(scopes.map((s) => [s, shares])));
}

function harness(read: () => Promise<unknown>, opts: { staticWeights?: boolean; coldWaitMs?: number } = {}) {
  const clock = { ms: 1_000_000 };
  const reader = vi.fn(read);
  const onRefreshError = vi.fn();
  const cache = new RoutingCache(reader, {
    ttlMs: 5000,
    coldWaitMs: opts.coldWaitMs ?? 1000,
    nowMs: () => clock.ms,
    onRefreshError,
    ...(opts.staticWeights ? { staticPathways: [{ id: 'cf-a', host: 'cf-a.example.net', weight: 0.5 }, { id: 'cf-b', host: '', weight: 0.5 }] } : {}),
  });
  return { cache, clock, reader, onRefreshError };
}

describe('routing cache: one snapshot read per period', () => {
  it('reads once per period whatever the number of countries and requests', async () => {
    const { cache, clock, reader } = harness(async () => item({ '*': { 'cf-a': 1 }, DE: { 'cf-b': 1 } }));
    const countries = ['DE', 'FR', 'US', 'JP', 'BR', 'XX', undefined, 'garbage'];
    for (let minute = 0; minute < 60_000; minute += 250) {
      await Promise.all(countries.map((c) => cache.view(c)));
      clock.ms += 250;
    }
    // 60 s at a 5 s period: 12 reads, although 1,920 requests from 8 "countries" were answered.
    expect(reader).toHaveBeenCalledTimes(12);
    expect(cache.stats).toMatchObject({ reads: 12, failedReads: 0 });
  });

  it('answers each country from its weights, falling back to the global ones', async () => {
    const { cache } = harness(async () => item({ '*': { 'cf-a': 1 }, DE: { 'cf-b': 1 } }));
    expect(await cache.view('DE')).toEqual({ pathways: [PATHWAYS[0], PATHWAYS[1]], weights: { 'cf-a': 0, 'cf-b': 1 }, source: 'weights#DE' });
    expect((await cache.view('FR')).source).toBe('weights#*');
    expect((await cache.view('XX')).source).toBe('weights#*');
  });

  it('keeps a newer generation when a lagging copy is read', async () => {
    let generation = 5;
    const { cache, clock } = harness(async () => item({ '*': generation === 5 ? { 'cf-a': 1 } : { 'cf-b': 1 } }, generation));
    await cache.view('DE');
    generation = 4;
    clock.ms += 5000;
    await cache.view('DE');
    await vi.waitFor(() => expect(cache.stats.settledReads).toBe(2));
    expect(cache.stats.generation).toBe(5);
    expect((await cache.view('DE')).weights).toEqual({ 'cf-a': 1, 'cf-b': 0 });
  });
});

describe('routing cache: cold and failing reads', () => {
  it('answers a cold container from the static weights when the first read fails, without counting it against the request', async () => {
    const { cache, onRefreshError } = harness(async () => Promise.reject(new Error('ProvisionedThroughputExceededException')), { staticWeights: true });
    const view = await cache.view('DE');
    expect(view.source).toBe('static');
    expect(view.weights).toEqual({ 'cf-a': 0.5, 'cf-b': 0.5 });
    expect(onRefreshError).toHaveBeenCalledTimes(1);
  });

  it('answers from the static weights when no snapshot is written yet', async () => {
    const { cache, onRefreshError } = harness(async () => undefined, { staticWeights: true });
    expect((await cache.view('DE')).source).toBe('static');
    expect(onRefreshError).not.toHaveBeenCalled();
  });

  it('waits on the first read only: later cold requests are answered at once from the static weights', async () => {
    let release: (value: unknown) => void = () => undefined;
    const { cache, clock, reader } = harness(() => new Promise((resolve) => (release = resolve)), { staticWeights: true, coldWaitMs: 60_000 });
    const first = cache.view('DE');
    await vi.waitFor(() => expect(reader).toHaveBeenCalledTimes(1));
    release(undefined);
    expect((await first).source).toBe('static');
    clock.ms += 5000;
    // The second read hangs; the request does not wait on it.
    expect((await cache.view('DE')).source).toBe('static');
  });

  it('keeps the last good snapshot through throttled reads and unusable items', async () => {
    const answers: (() => Promise<unknown>)[] = [
      async () => item({ '*': { 'cf-b': 1 } }),
      async () => Promise.reject(new Error('ThrottlingException')),
      async () => ({ pk: 'routing-snapshot#0', generation: 'soon' }),
    ];
    let call = 0;
    const { cache, clock, onRefreshError } = harness(() => answers[Math.min(call++, answers.length - 1)]());
    for (let i = 0; i < 3; i++) {
      expect((await cache.view('DE')).weights).toEqual({ 'cf-a': 0, 'cf-b': 1 });
      clock.ms += 5000;
      await vi.waitFor(() => expect(cache.stats.settledReads).toBe(i + 1));
    }
    expect(onRefreshError).toHaveBeenCalledTimes(2);
    expect((await cache.view('DE')).source).toBe('weights#*');
  });

  it('throws RoutingUnavailableError with neither a snapshot nor static weights', async () => {
    const { cache } = harness(async () => Promise.reject(new Error('AccessDenied')));
    await expect(cache.view('DE')).rejects.toBeInstanceOf(RoutingUnavailableError);
  });

  it('bounds the cold wait on a hanging first read', async () => {
    const { cache } = harness(() => new Promise(() => undefined), { staticWeights: true, coldWaitMs: 10 });
    expect((await cache.view('DE')).source).toBe('static');
  });
});

describe('routing snapshot codec', () => {
  it('round-trips the registry and every scope at four-digit precision', () => {
    const decoded = parseRoutingSnapshot(item({ '*': { 'cf-a': 0.33333, 'cf-b': 0.66667 }, DE: { 'cf-a': 1 } }, 42));
    expect(decoded.generation).toBe(42);
    expect(decoded.pathways).toEqual(PATHWAYS);
    expect(decoded.shares.get('*')).toEqual({ 'cf-a': 0.3333, 'cf-b': 0.6667, 'cf-c': 0 });
    expect(decoded.rejected).toEqual([]);
  });

  it('keeps 200 countries × 10 pathways well under the 400 KB item limit', () => {
    const full = fullSnapshot(10);
    const bytes = snapshotItemBytes(full);
    expect(bytes).toBeLessThan(16 * 1024);
    expect(parseRoutingSnapshot(full).shares.size).toBe(201);
  });

  it('sets aside malformed scope entries and keeps the rest', () => {
    const good = item({ '*': { 'cf-a': 1 } });
    const decoded = parseRoutingSnapshot({
      ...good,
      weights: ['*=10000,0,0', 'DE=1,2', 'FR=-1,0,0', 'IT=1e4,0,0', 'ES=99999,0,0', 'evil=1,1,1', '*=0,0,1', 'PT', 'NL=0.5,0,0', 'BE=1,,1'].join(';'),
    });
    expect([...decoded.shares.keys()]).toEqual(['*']);
    expect(decoded.rejected).toHaveLength(9);
  });

  it('refuses unusable items as a whole: the reader keeps its last good snapshot', () => {
    const good = item({ '*': { 'cf-a': 1 } });
    for (const hostile of [null, 'text', {}, { ...good, generation: -1 }, { ...good, generation: 1.5 }, { ...good, ids: 7 }, { ...good, pathways: 'cf-a' }, { ...good, weights: 'x'.repeat(MAX_SNAPSHOT_TEXT_BYTES + 1) }]) {
      expect(() => parseRoutingSnapshot(hostile)).toThrow(InvalidSnapshotError);
    }
  });

  it('drops scopes that are neither global nor a country when writing, and clamps shares', () => {
    const written = snapshotItemOf(0, 1, PATHWAYS, new Map<string, Record<string, number>>([['XX', { 'cf-a': 1 }], ['nope', { 'cf-a': 1 }], ['*', { 'cf-a': 7, 'cf-b': Number.NaN, 'cf-c': -1 }]]));
    expect(written.weights).toBe('*=10000,0,0');
  });
});

describe('routing snapshot reader', () => {
  it('reads one random copy with one GetItem', async () => {
    const send = vi.fn(async () => ({ Item: { pk: 'x' } }));
    const documents = { send } as unknown as DynamoDBDocumentClient;
    const shards = new Set<string>();
    for (const r of [0, 0.26, 0.51, 0.99, 1]) {
      await routingSnapshotReader(documents, 'Routing', () => r)();
      shards.add((send.mock.calls.at(-1) as unknown as [{ input: { Key: { pk: string } } }])[0].input.Key.pk);
    }
    expect(shards).toEqual(new Set(Array.from({ length: ROUTING_SNAPSHOT_SHARDS }, (_, i) => `routing-snapshot#${i}`)));
    expect(send).toHaveBeenCalledTimes(5);
  });
});

describe('routing cache: a key\'s routing generation (ADR 0097)', () => {
  it('is current at once when the snapshot is at least as new, without a read', async () => {
    const { cache, reader } = harness(async () => item({ '*': { 'cf-a': 1 } }, 50));
    await cache.view('DE');
    expect(await cache.ensureGeneration(50)).toBe(true);
    expect(await cache.ensureGeneration(10)).toBe(true);
    expect(reader).toHaveBeenCalledTimes(1);
  });

  it('reads once more for a newer generation, and only once per generation however many requests name it', async () => {
    let generation = 50;
    const { cache, reader } = harness(async () => item({ '*': { 'cf-a': 1 } }, generation));
    await cache.view('DE');
    // A bad store value far ahead: the snapshot never reaches it.
    const answers = await Promise.all(Array.from({ length: 20 }, () => cache.ensureGeneration(9_999_999_999_999)));
    expect(answers.every((a) => a === false)).toBe(true);
    expect(await cache.ensureGeneration(9_999_999_999_999)).toBe(false);
    expect(reader).toHaveBeenCalledTimes(2);
    expect(reader).toHaveBeenCalledTimes(2);
  });

  it('waits for the period\'s read instead of answering from the snapshot it replaces', async () => {
    let generation = 50;
    const { cache, clock, reader } = harness(async () => item({ '*': { 'cf-a': 1 } }, generation));
    await cache.view('DE');
    expect(await cache.ensureGeneration(60)).toBe(false);
    generation = 60;
    clock.ms += 5000;
    expect(await cache.ensureGeneration(60)).toBe(true);
    expect(reader).toHaveBeenCalledTimes(3);
  });

  it('is never current without a snapshot (static weights): such answers are not cached', async () => {
    const { cache } = harness(async () => undefined, { staticWeights: true });
    await cache.view('DE');
    expect(await cache.ensureGeneration(1)).toBe(false);
  });
});
