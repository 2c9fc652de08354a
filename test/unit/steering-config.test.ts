import { describe, expect, it } from 'vitest';
import { DEFAULT_SESSION_STEERING_POLICY } from '../../core/session-steering';
import { InvalidSteeringConfigError, staticPathwaysOf, validateSteeringConfig } from '../../edge-functions/steering/config';

const BASE_CONFIG = {
  keyring: { secretId: 'prod/playback-keyring', regions: ['us-east-1'], timeoutMs: 1500, refreshSeconds: 300 },
  routingTable: { name: 'prod-routing', region: 'eu-west-1' },
  steeringTtlSeconds: 10,
  routingCacheSeconds: 5,
};
const withSession = (sessionSteering: unknown) => validateSteeringConfig({ ...BASE_CONFIG, sessionSteering });

describe('steering edge config: session steering thresholds', () => {
  it('takes the defaults when the block or a key is absent', () => {
    expect(validateSteeringConfig(BASE_CONFIG).sessionSteering).toEqual(DEFAULT_SESSION_STEERING_POLICY);
    expect(withSession({ throughputFloorBps: 2_500_000 }).sessionSteering).toEqual({ ...DEFAULT_SESSION_STEERING_POLICY, throughputFloorBps: 2_500_000 });
  });

  it.each([
    ['sessionSteering', 'fast'],
    ['sessionSteering.minAvoidSeconds', 0],
    ['sessionSteering.minAvoidSeconds', '300'],
    ['sessionSteering.memorySeconds', 100_000],
    ['sessionSteering.recoveryShareRatio', 0],
    ['sessionSteering.recoveryShareRatio', 1.5],
    ['sessionSteering.throughputFloorBps', -1],
    ['sessionSteering.throughputFloorBps', 5_000_000_000],
    ['sessionSteering.collapseRatio', Number.NaN],
    ['sessionSteering.collapseRatio', 0],
  ])('fails naming the key for %s = %s', (path, value) => {
    const block = path === 'sessionSteering' ? value : { [path.split('.')[1]]: value };
    expect(() => withSession(block)).toThrow(InvalidSteeringConfigError);
    expect(() => withSession(block)).toThrow(path);
  });

  it('refuses a memory shorter than the hold it has to cover', () => {
    expect(() => withSession({ minAvoidSeconds: 900, memorySeconds: 600 })).toThrow('sessionSteering.memorySeconds = 600');
  });
});

describe('steering edge config: static weights for a container without a routing snapshot', () => {
  const withStatic = (staticPathways: unknown) => validateSteeringConfig({ ...BASE_CONFIG, staticPathways });

  it('takes none when absent, and keeps a host only where one was baked', () => {
    expect(validateSteeringConfig(BASE_CONFIG).staticPathways).toEqual([]);
    expect(withStatic([{ id: 'cf-a', weight: 0.5 }, { id: 'ext-b', host: 'cdn.example.net', weight: 0.5 }]).staticPathways).toEqual([
      { id: 'cf-a', weight: 0.5 },
      { id: 'ext-b', host: 'cdn.example.net', weight: 0.5 },
    ]);
  });

  it.each([
    ['staticPathways', 'cf-a'],
    ['staticPathways', Array.from({ length: 33 }, (_, i) => ({ id: `cf-${i}`, weight: 0 }))],
    ['staticPathways.0.id', [{ id: 'CF A', weight: 1 }]],
    ['staticPathways.1.id', [{ id: 'cf-a', weight: 1 }, { id: 'cf-a', weight: 1 }]],
    ['staticPathways.0.host', [{ id: 'cf-a', host: 'https://cdn.example.net/', weight: 1 }]],
    ['staticPathways.0.weight', [{ id: 'cf-a', weight: -0.1 }]],
    ['staticPathways.0.weight', [{ id: 'cf-a', weight: '1' }]],
  ])('fails naming the key for %s', (path, value) => {
    expect(() => withStatic(value)).toThrow(InvalidSteeringConfigError);
    expect(() => withStatic(value)).toThrow(`${path} =`);
  });

  it('bakes equal shares over the enabled pathways, leaving out hosts unknown at build time', () => {
    const pathways = [
      { id: 'cf-a', host: '${Token[TOKEN.1]}', enabled: true, cap: 1 },
      { id: 'cf-b', host: 'b.example.net', enabled: false, cap: 1 },
      { id: 'ext-c', host: 'c.example.net', enabled: true, cap: 0.5 },
    ];
    expect(staticPathwaysOf(pathways, (host) => !host.includes('Token'))).toEqual([
      { id: 'cf-a', weight: 0.5 },
      { id: 'ext-c', host: 'c.example.net', weight: 0.5 },
    ]);
  });
});
