import { describe, expect, it } from 'vitest';
import { InvalidConfigError, parsePlatformConfig } from '../../core/platform-config';
import { shardsFor } from '../../core/return-path-sizing';

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
      telemetrySamplingRate: 4,
      reportSamplingRate: 25,
      removalPolicy: 'retain',
      externalPathways: [],
    });
    expect(config.pathways[0]).toEqual({ id: 'cf-a', cap: 1, enabled: true, priceClass: 'PriceClass_All', tokenCheck: 'lambda-edge' });
  });

  it('takes the token check per pathway and names the pathway of a bad one', () => {
    const config = parsePlatformConfig({ ...valid, pathways: [{ id: 'cf-a', tokenCheck: 'cloudfront-function' }, { id: 'cf-b' }] });
    expect(config.pathways.map((p) => p.tokenCheck)).toEqual(['cloudfront-function', 'lambda-edge']);
    const [problem] = problemsOf({ ...valid, pathways: [{ id: 'cf-a' }, { id: 'cf-b', tokenCheck: 'cloudfront-functions' }] });
    expect(problem).toBe('platform.pathways[1].tokenCheck = "cloudfront-functions": must be one of "cloudfront-function", "lambda-edge"');
  });

  it('leaves surround audio off by default and names the key of a bad value (ADR 0017)', () => {
    expect(parsePlatformConfig(valid).surroundAudio).toBe(false);
    expect(parsePlatformConfig({ ...valid, surroundAudio: true }).surroundAudio).toBe(true);
    expect(problemsOf({ ...valid, surroundAudio: 'yes' })[0]).toMatch(/^platform\.surroundAudio = "yes": /);
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

describe('return path configuration', () => {
  it('refuses a provisioned stream too small for the peak, naming the key and the shards needed', () => {
    const [problem] = problemsOf({ ...valid, telemetryStream: { mode: 'provisioned', shards: 2 }, peakConcurrentViewers: 1_000_000 });
    expect(problem).toContain('platform.telemetryStream.shards = 2');
    expect(problem).toContain(`${shardsFor(1_000_000, parsePlatformConfig(valid))} shards are needed`);
  });

  it('names the key of a bad sampling rate, stream mode or shard count', () => {
    expect(problemsOf({ ...valid, reportSamplingRate: 0 })[0]).toContain('platform.reportSamplingRate = 0');
    expect(problemsOf({ ...valid, reportSamplingRate: 12.5 })[0]).toContain('platform.reportSamplingRate = 12.5');
    expect(problemsOf({ ...valid, telemetryStream: { mode: 'fast' } })[0]).toContain('platform.telemetryStream.mode');
    expect(problemsOf({ ...valid, telemetryStream: { mode: 'on-demand', shards: 4 } })[0]).toContain('platform.telemetryStream');
    expect(problemsOf({ ...valid, telemetryStream: { mode: 'provisioned', shards: 0 } })[0]).toContain('platform.telemetryStream.shards = 0');
    expect(problemsOf({ ...valid, telemetryStream: { mode: 'provisioned', shards: 501 } })[0]).toContain('platform.telemetryStream.shards = 501');
    expect(problemsOf({ ...valid, peakConcurrentViewers: 0 })[0]).toContain('platform.peakConcurrentViewers = 0');
  });
});

describe('rollup merge window', () => {
  it('defaults to 30 s, the window that keeps a one-country outage under 60 s (ADR 0057)', () => {
    expect(parsePlatformConfig(valid).rollupMergeWindowSeconds).toBe(30);
  });

  it('takes whole seconds from 0 to 300, the batching windows an event source mapping accepts', () => {
    expect(parsePlatformConfig({ ...valid, rollupMergeWindowSeconds: 0 }).rollupMergeWindowSeconds).toBe(0);
    expect(parsePlatformConfig({ ...valid, rollupMergeWindowSeconds: 120 }).rollupMergeWindowSeconds).toBe(120);
    expect(parsePlatformConfig({ ...valid, rollupMergeWindowSeconds: 300 }).rollupMergeWindowSeconds).toBe(300);
  });

  it.each([[301], [-1], [45.5], ['120'], [null]])('names the key of the bad value %j', (bad) => {
    const problems = problemsOf({ ...valid, rollupMergeWindowSeconds: bad });

    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^platform\\.rollupMergeWindowSeconds = ${JSON.stringify(bad).replace(/[.]/g, '\\.')}: `));
  });
});
