import { describe, expect, it } from 'vitest';
import { InvalidConfigError, parsePlatformConfig } from '../../core/platform-config';

const valid = { stackPrefix: 'Streaming', region: 'eu-west-1', pathways: [{ id: 'cf-a' }, { id: 'cf-b' }] };

function problemsOf(raw: unknown): string[] {
  try {
    parsePlatformConfig(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidConfigError);
    return [...(error as InvalidConfigError).problems];
  }
  throw new Error('expected the configuration to be rejected');
}

describe('platform configuration', () => {
  it('fills documented defaults for a minimal valid config', () => {
    const config = parsePlatformConfig(valid);
    expect(config).toMatchObject({
      ladder: 'standard',
      perTitleEncoding: false,
      tokenLifetimeSeconds: 21600,
      steeringTtlSeconds: 10,
      telemetrySamplingRate: 100,
      removalPolicy: 'retain',
      externalPathways: [],
    });
    expect(config.pathways[0]).toEqual({ id: 'cf-a', cap: 1, enabled: true, priceClass: 'PriceClass_All' });
  });

  it('names the key and shows the value of a bad region', () => {
    expect(problemsOf({ ...valid, region: 'europe' })).toEqual([expect.stringContaining('platform.region = "europe"')]);
  });

  it('refuses a prefix ending in "-Edge", which would name another copy’s edge stack', () => {
    expect(problemsOf({ ...valid, stackPrefix: 'Streaming-Edge' })).toEqual([expect.stringContaining('platform.stackPrefix = "Streaming-Edge": must not end in "-Edge"')]);
  });

  it('names the index of a bad pathway id', () => {
    const [problem] = problemsOf({ ...valid, pathways: [{ id: 'cf-a' }, { id: 'CF B' }] });
    expect(problem).toContain('platform.pathways[1].id = "CF B"');
  });

  it('rejects unknown keys so typos do not silently fall back to defaults', () => {
    const [problem] = problemsOf({ ...valid, steeringTTL: 5 });
    expect(problem).toContain('steeringTTL');
  });

  it('rejects a pathway id used twice across deployed and external pathways', () => {
    const problems = problemsOf({ ...valid, externalPathways: [{ id: 'cf-b', host: 'cdn.example.com' }] });
    expect(problems.join('\n')).toContain('pathway id "cf-b" is used twice');
  });

  it('rejects an external pathway host with a scheme', () => {
    const [problem] = problemsOf({ ...valid, externalPathways: [{ id: 'akamai', host: 'https://cdn.example.com' }] });
    expect(problem).toContain('platform.externalPathways[0].host = "https://cdn.example.com"');
  });

  it('rejects out-of-range numbers with the bad value', () => {
    expect(problemsOf({ ...valid, telemetrySamplingRate: 0 })[0]).toContain('platform.telemetrySamplingRate = 0');
    expect(problemsOf({ ...valid, tokenLifetimeSeconds: 30 })[0]).toContain('platform.tokenLifetimeSeconds = 30');
  });

  it('explains a missing platform object', () => {
    expect(problemsOf(undefined)[0]).toContain('add a "platform" object');
  });

  it('requires at least one CloudFront pathway', () => {
    expect(problemsOf({ ...valid, pathways: [] })[0]).toContain('platform.pathways');
  });
});
