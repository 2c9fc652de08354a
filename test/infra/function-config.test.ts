import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionConfig } from '../../lambdas/shared/function-config';
import { PLATFORM_FUNCTIONS } from '../../lib/topology';
import { twinEnvironmentNames } from '../../local/dev';
import { twinFunctionEnvironments } from '../../local/twin/function-environments';
import { cleanup, synthPlatform, type SynthResult } from './synth';

/**
 * Each function's configuration has one schema (lambdas/<fn>/config.ts). The construct encodes it, the
 * twin encodes it, the handler decodes it: this checks that what synth and the twin put in each
 * function's environment decodes with that schema, and that both set the same variables.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const CONFIGS: Record<string, FunctionConfig<any>> = Object.fromEntries(Object.entries(PLATFORM_FUNCTIONS).map(([name, fn]) => [name, fn.config]));
/** What every PlatformFunction gets besides its own configuration (lib/constructs/platform-function.ts). */
const PLATFORM_VARIABLES = new Set(['POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_METRICS_NAMESPACE', 'NODE_OPTIONS']);
/** Set only where the twin differs from the cloud on purpose: its plain-http gateway and its short controller clocks. */
const TWIN_ONLY = new Set(['GATEWAY_ORIGIN', 'SCORING_PARAMS_JSON']);

/** A CloudFormation value as the function would see it at run time: tokens become a placeholder name. */
const deployed = (value: unknown): string => (typeof value === 'string' ? value : 'resolved-at-deploy');

const twinEnvironments = twinFunctionEnvironments({
  ...twinEnvironmentNames,
  gatewayHost: '127.0.0.1:4580',
  ladder: 'compact',
  routingTickSeconds: 10,
  scoringParams: { windowMinutes: 1 },
  tokenLifetimeSeconds: 3600,
});

describe('function configuration: one schema for synth, twin and handler', () => {
  let synth: SynthResult;
  const synthesized = new Map<string, Record<string, string>>();

  beforeAll(() => {
    synth = synthPlatform();
    for (const resource of Object.values(synth.template.findResources('AWS::Lambda::Function'))) {
      const variables = (resource.Properties?.Environment?.Variables ?? {}) as Record<string, unknown>;
      const service = variables.POWERTOOLS_SERVICE_NAME;
      if (typeof service !== 'string') continue;
      synthesized.set(service, Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, deployed(value)])));
    }
  });
  afterAll(() => cleanup(synth));

  it('synthesizes every function that has a configuration schema, and none without one', () => {
    expect([...synthesized.keys()].sort()).toEqual(Object.keys(CONFIGS).sort());
  });

  it.each(Object.entries(CONFIGS))('%s: the synthesized environment decodes and sets only declared variables', (service, config) => {
    const env = synthesized.get(service)!;

    expect(() => config.decode(env)).not.toThrow();
    const own = Object.keys(env).filter((name) => !PLATFORM_VARIABLES.has(name));
    expect(own.filter((name) => !config.variables.includes(name))).toEqual([]);
  });

  it.each(Object.entries(twinEnvironments))('%s: the twin sets the same variables as synth and they decode', (service, env) => {
    const config = CONFIGS[service]!;
    const cloud = Object.keys(synthesized.get(service)!).filter((name) => !PLATFORM_VARIABLES.has(name));

    expect(() => config.decode(env)).not.toThrow();
    expect(Object.keys(env).filter((name) => !TWIN_ONLY.has(name)).sort()).toEqual(cloud.sort());
  });

  it('round-trips every configuration: decoded values encode to an environment that decodes to the same values', () => {
    for (const [service, env] of Object.entries(twinEnvironments)) {
      const config = CONFIGS[service]!;
      const values = config.decode(env);
      expect(config.decode(config.encode(values)), service).toEqual(values);
    }
  });
});
