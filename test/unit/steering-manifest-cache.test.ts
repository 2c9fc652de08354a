import { describe, expect, it, vi } from 'vitest';
import { ParsedManifestCache } from '../../edge-functions/steering/manifest-cache';

const request = (key: string) => ({ key, token: 't', pathways: [{ id: 'cf-a', host: 'a.example' }] });

describe('parsed origin manifest cache', () => {
  it('reads an origin manifest once while it is fresh, and shares one read between concurrent misses', async () => {
    const read = vi.fn(async () => '#EXTM3U');
    const cache = new ParsedManifestCache(read, (text) => ({ text }), 8, 60_000, () => 0);
    const [a, b] = await Promise.all([cache.get(request('k')), cache.get(request('k'))]);
    await cache.get(request('k'));
    expect(a).toEqual({ text: '#EXTM3U' });
    expect(b).toBe(a);
    expect(read).toHaveBeenCalledOnce();
  });

  it('reads again after the maximum age, so a taken-down revision stops being served', async () => {
    let now = 0;
    const read = vi.fn().mockResolvedValueOnce('#EXTM3U').mockResolvedValueOnce(null);
    const cache = new ParsedManifestCache(read, (text: string) => text, 8, 60_000, () => now);
    expect(await cache.get(request('k'))).toBe('#EXTM3U');
    now = 60_001;
    expect(await cache.get(request('k'))).toBeNull();
    expect(read).toHaveBeenCalledTimes(2);
  });

  it('evicts the least recently used entry beyond its size bound', async () => {
    const read = vi.fn(async (r: { key: string }) => r.key);
    const cache = new ParsedManifestCache(read, (text: string) => text, 2, 60_000, () => 0);
    await cache.get(request('a'));
    await cache.get(request('b'));
    await cache.get(request('a'));
    await cache.get(request('c'));
    await cache.get(request('a'));
    await cache.get(request('b'));
    expect(read.mock.calls.map(([r]) => r.key)).toEqual(['a', 'b', 'c', 'b']);
  });
});
