import { describe, expect, it } from 'vitest';
import { NEAREST_ORIGIN_SHIELD_REGION, ORIGIN_SHIELD_REGIONS, recommendedOriginShieldRegion } from '../../core/origin-shield';
import { InvalidConfigError, originShieldOf, parsePlatformConfig } from '../../core/platform-config';

const valid = { stackPrefix: 'Streaming', region: 'eu-west-1', pathways: [{ id: 'cf-a' }] };

function problemOf(raw: unknown): string {
  try {
    parsePlatformConfig(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidConfigError);
    return (error as InvalidConfigError).problems.join('\n');
  }
  throw new Error('expected the configuration to be rejected');
}

describe('Origin Shield Region (ADR 0038)', () => {
  it('puts the shield in the origin’s own Region where CloudFront offers one there', () => {
    for (const region of ORIGIN_SHIELD_REGIONS) expect(recommendedOriginShieldRegion(region)).toBe(region);
  });

  it('follows the CloudFront guide’s table for Regions without Origin Shield, always to a Region that has one', () => {
    expect(recommendedOriginShieldRegion('eu-west-3')).toBe('eu-west-2');
    expect(recommendedOriginShieldRegion('ca-central-1')).toBe('us-east-1');
    for (const shield of Object.values(NEAREST_ORIGIN_SHIELD_REGION)) expect(ORIGIN_SHIELD_REGIONS).toContain(shield);
  });

  it('defaults to mode "per-pathway" in the Region the guide recommends for platform.region (ADR 0098)', () => {
    expect(originShieldOf(parsePlatformConfig(valid))).toEqual({ mode: 'per-pathway', region: 'eu-west-1' });
    expect(originShieldOf(parsePlatformConfig({ ...valid, region: 'eu-north-1' }))).toEqual({ mode: 'per-pathway', region: 'eu-west-2' });
  });

  it('takes an explicit Region and mode, and mode "off" for none', () => {
    expect(originShieldOf(parsePlatformConfig({ ...valid, originShield: { region: 'us-east-2' } }))).toEqual({ mode: 'per-pathway', region: 'us-east-2' });
    expect(originShieldOf(parsePlatformConfig({ ...valid, originShield: { mode: 'shared' } }))).toEqual({ mode: 'shared', region: 'eu-west-1' });
    expect(originShieldOf(parsePlatformConfig({ ...valid, originShield: { mode: 'off' } }))).toBeUndefined();
    // Without a shield, a Region the guide has no recommendation for needs none either.
    expect(originShieldOf(parsePlatformConfig({ ...valid, region: 'ap-southeast-5', originShield: { mode: 'off' } }))).toBeUndefined();
  });

  it('fails naming the key for a value that is no Region or mode, and for a Region the guide has no recommendation for', () => {
    expect(problemOf({ ...valid, originShield: { region: 'Frankfurt' } })).toBe('platform.originShield.region = "Frankfurt": must be an AWS region name such as eu-west-1');
    expect(problemOf({ ...valid, originShield: { mode: 'global' } })).toMatch(/^platform\.originShield\.mode = "global": /);
    expect(problemOf({ ...valid, originShield: { regoin: 'eu-west-1' } })).toContain('regoin');
    expect(problemOf({ ...valid, originShieldRegion: 'eu-west-1' })).toContain('originShieldRegion');
    expect(problemOf({ ...valid, region: 'ap-southeast-5' })).toMatch(/^platform\.originShield\.region: the CloudFront guide recommends no Origin Shield Region for region "ap-southeast-5": set the Region nearest to it, or mode "off"/);
    expect(originShieldOf(parsePlatformConfig({ ...valid, region: 'ap-southeast-5', originShield: { region: 'ap-southeast-1', mode: 'shared' } }))).toEqual({ mode: 'shared', region: 'ap-southeast-1' });
  });

  it('has pre-warm settings with defaults, false to turn it off, and names a bad key', () => {
    expect(parsePlatformConfig(valid).prewarm).toEqual({
      minutes: 2,
      topRungs: 1,
      concurrency: 8,
      trending: { topK: 3, minSessions: 20, risePercent: 200, cooldownMinutes: 30 },
    });
    // The trending part (ADR 0102): its own defaults inside a given prewarm object, false to turn only it off
    expect(parsePlatformConfig({ ...valid, prewarm: { minutes: 1 } }).prewarm).toMatchObject({ minutes: 1, trending: { topK: 3 } });
    expect(parsePlatformConfig({ ...valid, prewarm: { trending: false } }).prewarm).toMatchObject({ minutes: 2, trending: false });
    expect(problemOf({ ...valid, prewarm: { trending: { topK: 0 } } })).toMatch(/^platform\.prewarm\.trending\.topK = 0: /);
    expect(problemOf({ ...valid, prewarm: { trending: { k: 2 } } })).toContain('k');
    expect(parsePlatformConfig({ ...valid, prewarm: false }).prewarm).toBe(false);
    expect(problemOf({ ...valid, prewarm: { minutes: 0 } })).toMatch(/^platform\.prewarm\.minutes = 0: /);
    expect(problemOf({ ...valid, prewarm: { rungs: 2 } })).toContain('rungs');
  });
});
