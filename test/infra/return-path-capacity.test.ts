import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Match } from 'aws-cdk-lib/assertions';
import { reportApiThrottleFor } from '../../core/return-path-sizing';
import { cleanup, synthPlatform, type SynthResult } from './synth';

/** The telemetry stream's capacity and the report API's throttle come from the configuration (ADRs 0058, 0059). */
describe('return path capacity from config', () => {
  let defaults: SynthResult;
  let provisioned: SynthResult;
  beforeAll(() => {
    defaults = synthPlatform();
    provisioned = synthPlatform({ telemetryStream: { mode: 'provisioned', shards: 64 }, peakConcurrentViewers: 400_000, reportSamplingRate: 10 });
  });
  afterAll(() => {
    cleanup(defaults);
    cleanup(provisioned);
  });

  const stageOf = (synth: SynthResult) => {
    const stages = synth.template.findResources('AWS::ApiGatewayV2::Stage', {
      Properties: { DefaultRouteSettings: { ThrottlingRateLimit: Match.anyValue() } },
    }) as Record<string, { Properties: { ApiId: { Ref: string }; DefaultRouteSettings: { ThrottlingRateLimit: number; ThrottlingBurstLimit: number } } }>;
    const ingest = Object.values(stages).find((stage) => stage.Properties.ApiId.Ref.startsWith('TelemetryIngestApi'));
    expect(ingest, 'the report API stage').toBeDefined();
    return ingest!.Properties.DefaultRouteSettings;
  };
  const ingestEnv = (synth: SynthResult, variable: string) => {
    const functions = synth.template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: { [variable]: Match.anyValue() } } },
    }) as Record<string, { Properties: { Environment: { Variables: Record<string, string> } } }>;
    return Object.values(functions).map((fn) => fn.Properties.Environment.Variables[variable]);
  };

  it('makes an on-demand stream by default', () => {
    defaults.template.hasResourceProperties('AWS::Kinesis::Stream', { StreamModeDetails: { StreamMode: 'ON_DEMAND' } });
  });

  it('makes a provisioned stream with the configured shard count', () => {
    provisioned.template.hasResourceProperties('AWS::Kinesis::Stream', { StreamModeDetails: { StreamMode: 'PROVISIONED' }, ShardCount: 64 });
  });

  it('throttles the report API at the rate the configured peak needs', () => {
    expect(stageOf(defaults)).toEqual({ ThrottlingRateLimit: 6_650, ThrottlingBurstLimit: 3_325 });
    const expected = reportApiThrottleFor(400_000, 10);
    expect(stageOf(provisioned)).toEqual({ ThrottlingRateLimit: expected.rateLimit, ThrottlingBurstLimit: expected.burstLimit });
    expect(expected.rateLimit).toBe(10_640);
  });

  it('gives playback-api and cmcd-ingest the same report sampling rate', () => {
    expect(ingestEnv(defaults, 'REPORT_SAMPLING_PERCENT')).toEqual(['25', '25']);
    expect(ingestEnv(provisioned, 'REPORT_SAMPLING_PERCENT')).toEqual(['10', '10']);
  });
});
