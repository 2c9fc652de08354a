import { describe, expect, it } from 'vitest';
import {
  failoverPathway,
  HLS_PATHWAY_PENALTY_MS,
  parseSteeringManifest,
  PenaltyBox,
  SteeringManifestError,
  steeredPathway,
  steeringRequestUrl,
} from '../../local/audience/pathway-choice';

const AVAILABLE = ['cf-a', 'cf-b', 'cf-c'];
const T0 = 1_796_000_000_000;

describe('steeredPathway (hls.js updatePathwayPriority)', () => {
  it('moves to the first pathway of PATHWAY-PRIORITY', () => {
    const next = steeredPathway(['cf-b', 'cf-a', 'cf-c'], { current: 'cf-a', available: AVAILABLE, penalties: new PenaltyBox(), now: T0 });
    expect(next).toBe('cf-b');
  });

  it('stays when the current pathway is first', () => {
    const next = steeredPathway(['cf-a', 'cf-b'], { current: 'cf-a', available: AVAILABLE, penalties: new PenaltyBox(), now: T0 });
    expect(next).toBe('cf-a');
  });

  it('skips a penalised pathway, even when steering puts it first', () => {
    // Prepare
    const penalties = new PenaltyBox();
    penalties.penalize('cf-b', T0);
    // Act
    const next = steeredPathway(['cf-b', 'cf-c', 'cf-a'], { current: 'cf-a', available: AVAILABLE, penalties, now: T0 + 10_000 });
    // Assess
    expect(next).toBe('cf-c');
  });

  it('returns to a pathway once its penalty has run out', () => {
    const penalties = new PenaltyBox();
    penalties.penalize('cf-b', T0);
    const next = steeredPathway(['cf-b', 'cf-a'], { current: 'cf-a', available: AVAILABLE, penalties, now: T0 + HLS_PATHWAY_PENALTY_MS + 1 });
    expect(next).toBe('cf-b');
  });

  it('ignores pathways the playlist has no variants for', () => {
    const next = steeredPathway(['cf-z', 'cf-c'], { current: 'cf-a', available: AVAILABLE, penalties: new PenaltyBox(), now: T0 });
    expect(next).toBe('cf-c');
  });

  it('keeps the current pathway when every listed one is penalised or unknown', () => {
    const penalties = new PenaltyBox();
    penalties.penalize('cf-b', T0);
    const next = steeredPathway(['cf-b', 'cf-z'], { current: 'cf-a', available: AVAILABLE, penalties, now: T0 });
    expect(next).toBe('cf-a');
  });
});

describe('failoverPathway', () => {
  it('penalises the failed pathway and takes the next one in PATHWAY-PRIORITY', () => {
    // Prepare
    const penalties = new PenaltyBox();
    // Act
    const next = failoverPathway(['cf-b', 'cf-c', 'cf-a'], { current: 'cf-b', available: AVAILABLE, penalties, now: T0 });
    // Assess
    expect(next).toBe('cf-c');
    expect(penalties.isPenalized('cf-b', T0 + 1)).toBe(true);
  });

  it('follows the playlist order before any steering manifest arrived', () => {
    const next = failoverPathway(undefined, { current: 'cf-a', available: AVAILABLE, penalties: new PenaltyBox(), now: T0 });
    expect(next).toBe('cf-b');
  });

  it('does not go back to a pathway that failed earlier and is still penalised', () => {
    const penalties = new PenaltyBox();
    failoverPathway(['cf-a', 'cf-b', 'cf-c'], { current: 'cf-a', available: AVAILABLE, penalties, now: T0 });
    const next = failoverPathway(['cf-a', 'cf-b', 'cf-c'], { current: 'cf-b', available: AVAILABLE, penalties, now: T0 + 5_000 });
    expect(next).toBe('cf-c');
  });

  it('finds no pathway when every one is penalised', () => {
    const penalties = new PenaltyBox();
    penalties.penalize('cf-a', T0);
    penalties.penalize('cf-c', T0);
    expect(failoverPathway(['cf-a', 'cf-b', 'cf-c'], { current: 'cf-b', available: AVAILABLE, penalties, now: T0 + 1 })).toBeUndefined();
  });

  it('moves only within PATHWAY-PRIORITY, as hls.js does', () => {
    const next = failoverPathway(['cf-a', 'cf-c'], { current: 'cf-a', available: AVAILABLE, penalties: new PenaltyBox(), now: T0 });
    expect(next).toBe('cf-c');
    expect(failoverPathway(['cf-c'], { current: 'cf-c', available: AVAILABLE, penalties: new PenaltyBox(), now: T0 })).toBeUndefined();
  });
});

describe('PenaltyBox', () => {
  it('keeps the time of the first failure while the penalty lasts (a second failure does not extend it)', () => {
    const penalties = new PenaltyBox(300_000);
    penalties.penalize('cf-a', T0);
    penalties.penalize('cf-a', T0 + 200_000);
    expect(penalties.isPenalized('cf-a', T0 + 300_000)).toBe(true);
    expect(penalties.isPenalized('cf-a', T0 + 300_001)).toBe(false);
  });

  it('takes a shorter penalty when configured', () => {
    const penalties = new PenaltyBox(30_000);
    penalties.penalize('cf-a', T0);
    expect(penalties.isPenalized('cf-a', T0 + 30_001)).toBe(false);
  });
});

describe('steeringRequestUrl', () => {
  it('adds _HLS_pathway and _HLS_throughput (bps) as hls.js does', () => {
    const url = new URL(steeringRequestUrl('http://127.0.0.1:4580/tok/steer/twin-sample', 'cf-b', 12_000_000.7));
    expect(url.searchParams.get('_HLS_pathway')).toBe('cf-b');
    expect(url.searchParams.get('_HLS_throughput')).toBe('12000000');
  });

  it('replaces the parameters of a previous request (a RELOAD-URI may carry them)', () => {
    const url = new URL(steeringRequestUrl('http://127.0.0.1:4580/s?_HLS_pathway=cf-a&_HLS_throughput=1&x=1', 'cf-c', 500_000));
    expect(url.searchParams.getAll('_HLS_pathway')).toEqual(['cf-c']);
    expect(url.searchParams.getAll('_HLS_throughput')).toEqual(['500000']);
    expect(url.searchParams.get('x')).toBe('1');
  });
});

describe('parseSteeringManifest', () => {
  it('reads TTL, PATHWAY-PRIORITY and a relative RELOAD-URI', () => {
    const manifest = parseSteeringManifest(
      JSON.stringify({ VERSION: 1, TTL: 10, 'RELOAD-URI': '/tok/steer/a?session=1', 'PATHWAY-PRIORITY': ['cf-b', 'cf-a'] }),
      'http://127.0.0.1:4580/tok/steer/a?_HLS_pathway=cf-a',
    );
    expect(manifest).toEqual({ ttlSeconds: 10, reloadUri: 'http://127.0.0.1:4580/tok/steer/a?session=1', priority: ['cf-b', 'cf-a'] });
  });

  it('refuses a manifest of another version or without a TTL', () => {
    expect(() => parseSteeringManifest('{"VERSION":2,"TTL":10}', 'http://127.0.0.1/')).toThrow(SteeringManifestError);
    expect(() => parseSteeringManifest('{"VERSION":1}', 'http://127.0.0.1/')).toThrow(SteeringManifestError);
    expect(() => parseSteeringManifest('<html>', 'http://127.0.0.1/')).toThrow(SteeringManifestError);
  });
});
