import { describe, expect, it } from 'vitest';
import { DEFAULT_SESSION_STEERING_POLICY } from '../../core/session-steering';
import { InvalidSteeringConfigError, validateSteeringConfig } from '../../edge-functions/steering/config';

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
