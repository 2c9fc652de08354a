import { describe, expect, it } from 'vitest';
import {
  buildSteeringManifest,
  EmptyPathwayPriorityError,
  parseDashPathways,
  parseDashThroughputs,
  parseHlsPathway,
  readSteeringQuery,
  serializeSteeringManifest,
} from '../../core/steering-manifest';

const RELOAD = 'https://gw.example.net/tok.sig/steer/big-buck';

describe('buildSteeringManifest', () => {
  it('always carries VERSION 1, TTL, RELOAD-URI and PATHWAY-PRIORITY', () => {
    // Act
    const json = JSON.parse(serializeSteeringManifest(buildSteeringManifest({ ttlSeconds: 10, reloadUri: RELOAD, priority: ['cf-b', 'cf-a'] })));
    // Assess
    expect(json).toEqual({ VERSION: 1, TTL: 10, 'RELOAD-URI': RELOAD, 'PATHWAY-PRIORITY': ['cf-b', 'cf-a'] });
  });

  it('never emits a TTL below 1 second or a fractional one (hls.js reloads in a tight loop without one)', () => {
    expect(buildSteeringManifest({ ttlSeconds: 0, reloadUri: RELOAD, priority: ['a'] }).TTL).toBe(1);
    expect(buildSteeringManifest({ ttlSeconds: Number.NaN, reloadUri: RELOAD, priority: ['a'] }).TTL).toBe(1);
    expect(buildSteeringManifest({ ttlSeconds: 7.6, reloadUri: RELOAD, priority: ['a'] }).TTL).toBe(8);
  });

  it('refuses an empty priority list', () => {
    expect(() => buildSteeringManifest({ ttlSeconds: 10, reloadUri: RELOAD, priority: [] })).toThrow(EmptyPathwayPriorityError);
  });
});

describe('steering query parameters', () => {
  it('accepts _HLS_pathway unquoted, as hls.js sends it', () => {
    expect(parseHlsPathway('cf-a')).toBe('cf-a');
  });

  it('accepts _HLS_pathway quoted, as the HLS specification writes it', () => {
    expect(parseHlsPathway('"cf-a"')).toBe('cf-a');
  });

  it('reads hls.js\'s initial "." and an empty value as no pathway', () => {
    expect(parseHlsPathway('.')).toBeUndefined();
    expect(parseHlsPathway('')).toBeUndefined();
    expect(parseHlsPathway(null)).toBeUndefined();
  });

  it('accepts _DASH_pathway as one quoted list (dash.js 5), quoted items, or bare items', () => {
    expect(parseDashPathways('"cf-a,cf-b"')).toEqual(['cf-a', 'cf-b']);
    expect(parseDashPathways('"cf-a","cf-b"')).toEqual(['cf-a', 'cf-b']);
    expect(parseDashPathways('cf-a, cf-b')).toEqual(['cf-a', 'cf-b']);
    expect(parseDashPathways('""')).toEqual([]);
  });

  it('aligns _DASH_throughput items with pathways, empty items meaning no sample', () => {
    expect(parseDashThroughputs('5140000,,x')).toEqual([5140000, undefined, undefined]);
  });

  it('decodes the URL-encoded query string CloudFront passes to the function', () => {
    expect(readSteeringQuery('_DASH_pathway=%22cf-a%2Ccf-b%22&_DASH_throughput=100%2C200')).toEqual({
      protocol: 'dash',
      pathways: ['cf-a', 'cf-b'],
      throughputBps: [100, 200],
    });
    expect(readSteeringQuery('_HLS_pathway=cf-c&_HLS_throughput=2500000')).toEqual({ protocol: 'hls', pathways: ['cf-c'], throughputBps: [2500000] });
    expect(readSteeringQuery('_HLS_pathway=%22cf-c%22')).toEqual({ protocol: 'hls', pathways: ['cf-c'], throughputBps: [undefined] });
    expect(readSteeringQuery('')).toEqual({ protocol: 'unknown', pathways: [], throughputBps: [] });
  });
});
