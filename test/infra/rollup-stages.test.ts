import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ROLLUP_MERGE_WINDOW_SECONDS } from '../../core/platform-config';
import { TelemetryPipeline, type TelemetryPipelineProps } from '../../lib/constructs/telemetry-pipeline';
import { ROLLUP_STAGES } from '../../lib/topology';
import { cleanup, synthPlatform, type SynthResult } from './synth';

/** The rollup stages' settings (ADR 0057) reach the mapping and the function, and bad ones fail synth naming them. */
describe('rollup stages from construct props', () => {
  const pipeline = (rollupStages: TelemetryPipelineProps['rollupStages']) => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
    new TelemetryPipeline(stack, 'Telemetry', {
      routingTable: new dynamodb.TableV2(stack, 'Routing', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } }),
      keyringSecret: new secretsmanager.Secret(stack, 'Keyring'),
      pathwayIds: ['cf-a'],
      rollupRetentionDays: 14,
      removalPolicy: RemovalPolicy.DESTROY,
      failureQueue: new sqs.Queue(stack, 'Failures', { enforceSSL: true }),
      weightsTickSeconds: 10,
      dashboardName: 'test',
      rollupStages,
    });
    return Template.fromStack(stack);
  };

  it('takes a shorter merge window and more buckets for a deployment that wants faster reaction', () => {
    const template = pipeline({ mergeWindowSeconds: 20, buckets: 32 });

    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { MaximumBatchingWindowInSeconds: 20, FunctionResponseTypes: ['ReportBatchItemFailures'] });
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: { ROLLUP_BUCKETS: '32' } } });
  });

  it('refuses a window Lambda cannot take and a bucket count of zero, naming the setting', () => {
    expect(() => pipeline({ mergeWindowSeconds: 301 })).toThrow(/rollupStages\.mergeWindowSeconds must be an integer from 0 to 300, got 301/);
    expect(() => pipeline({ buckets: 0 })).toThrow(/rollupStages\.buckets/);
  });
});

/** `rollupMergeWindowSeconds` of the platform configuration is the merger mapping's batching window (ADR 0057). */
describe('rollup merge window from the platform configuration', () => {
  let premiere: SynthResult | undefined;
  beforeAll(() => {
    premiere = synthPlatform({ rollupMergeWindowSeconds: 120 });
  });
  afterAll(() => cleanup(premiere));

  const mappingOf = (template: Template, functionId: string) => {
    const mappings = template.findResources('AWS::Lambda::EventSourceMapping', { Properties: { FunctionName: { Ref: Match.stringLikeRegexp(functionId) } } });
    expect(Object.keys(mappings), `event source mappings of ${functionId}`).toHaveLength(1);
    return Object.values(mappings)[0].Properties as { MaximumBatchingWindowInSeconds: number };
  };

  it('gives the merger the configured window and leaves the aggregator its own', () => {
    expect(mappingOf(premiere!.template, 'RollupMerger').MaximumBatchingWindowInSeconds).toBe(120);
    expect(mappingOf(premiere!.template, 'QoeAggregator').MaximumBatchingWindowInSeconds).toBe(ROLLUP_STAGES.aggregatorWindowSeconds);
  });

  it('defaults the merger to the 30 s of the configuration schema', () => {
    expect(ROLLUP_STAGES.mergeWindowSeconds).toBe(DEFAULT_ROLLUP_MERGE_WINDOW_SECONDS);
    expect(DEFAULT_ROLLUP_MERGE_WINDOW_SECONDS).toBe(30);
  });
});
