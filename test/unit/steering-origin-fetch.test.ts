import { describe, expect, it, vi } from 'vitest';
import { createPathwayOriginReader, OriginFetchError } from '../../edge-functions/steering/origin-fetch';

const PATHWAYS = [
  { id: 'cf-b', host: 'd2222.cloudfront.net' },
  { id: 'cf-a', host: 'd1111.cloudfront.net' },
  { id: 'cf-c', host: 'd3333.cloudfront.net' },
];
const REQUEST = { key: 'media/big-buck/r2/main.m3u8', token: 'tok.sig', pathways: PATHWAYS };

const fetchAnswering = (...answers: (number | Error)[]) =>
  vi.fn(async () => {
    const next = answers.shift();
    if (next instanceof Error) throw next;
    return new Response(next === 200 ? '#EXTM3U\n' : 'x', { status: next });
  });

describe('createPathwayOriginReader', () => {
  it('fetches the manifest through the best pathway with the viewer token', async () => {
    const fetch = fetchAnswering(200);
    const text = await createPathwayOriginReader({ timeoutMs: 100, fetch })(REQUEST);
    expect(text).toBe('#EXTM3U\n');
    expect(fetch).toHaveBeenCalledWith('https://d2222.cloudfront.net/tok.sig/media/big-buck/r2/main.m3u8', expect.anything());
  });

  it('tries the next pathway when one fails or times out', async () => {
    const fetch = fetchAnswering(new Error('timeout'), 503, 200);
    expect(await createPathwayOriginReader({ timeoutMs: 100, fetch })(REQUEST)).toBe('#EXTM3U\n');
    expect(fetch).toHaveBeenCalledTimes(3);
  });

  it('reports a missing revision as null without trying other pathways', async () => {
    const fetch = fetchAnswering(404);
    expect(await createPathwayOriginReader({ timeoutMs: 100, fetch })(REQUEST)).toBeNull();
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  it('throws when every pathway fails', async () => {
    const fetch = fetchAnswering(500, 500, 403);
    await expect(createPathwayOriginReader({ timeoutMs: 100, fetch })(REQUEST)).rejects.toBeInstanceOf(OriginFetchError);
  });
});
