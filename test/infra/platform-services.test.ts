import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Match } from 'aws-cdk-lib/assertions';
import { cleanup, synthPlatform, type SynthResult } from './synth';
import { PLATFORM_FUNCTIONS, ROLLUP_STAGES } from '../../lib/topology';

type Resource = { Properties: Record<string, any> };

let synth: SynthResult;
beforeAll(() => {
  synth = synthPlatform();
});
afterAll(() => cleanup(synth));

describe('keyring', () => {
  it('replicates to us-east-1 and the regions near the regional edge caches, not to its own region', () => {
    const [secret] = Object.values(synth.template.findResources('AWS::SecretsManager::Secret')) as Resource[];
    const regions = secret!.Properties.ReplicaRegions.map((r: { Region: string }) => r.Region);
    expect(regions).toContain('us-east-1');
    expect(regions).toContain('ap-northeast-1');
    expect(regions).not.toContain('eu-west-1');
    expect(secret!.Properties.Name).toBe('Streaming/playback-keyring');
  });

  it('rotates on a schedule with the rotation Lambda, immediately at deploy time', () => {
    synth.template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      RotationLambdaARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('KeyringRotation'), 'Arn'] },
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
      RotateImmediatelyOnUpdate: true,
    });
  });

  it('lets the rotation Lambda touch only the keyring secret', () => {
    const policies = Object.values(synth.template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('KeyringRotationRole') } })) as Resource[];
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
    const secretStatements = statements.filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith('secretsmanager:')));
    for (const statement of secretStatements) expect(statement.Resource).toEqual({ Ref: expect.stringMatching(/^KeyringSecret/) });
  });
});

describe('edge limits', () => {
  it('gives viewer-auth the viewer-request maximum of 5 s and steering room for a cold origin-request path', () => {
    const functions = Object.values(synth.edgeTemplate.findResources('AWS::Lambda::Function')) as Resource[];
    const byName = Object.fromEntries(functions.map((f) => [f.Properties.FunctionName, f.Properties]));
    expect(byName['Streaming-viewer-auth']).toMatchObject({ Timeout: 5, MemorySize: 128 });
    expect(byName['Streaming-steering'].Timeout).toBeLessThanOrEqual(30);
    expect(byName['Streaming-steering'].Timeout).toBeGreaterThanOrEqual(10);
  });
});

describe('playback API', () => {
  it('requires SigV4 (IAM) on every route by default', () => {
    const routes = Object.values(synth.template.findResources('AWS::ApiGatewayV2::Route')) as Resource[];
    const playbackRoutes = routes.filter((r) => ['POST /sessions', 'DELETE /assets/{assetId}'].includes(r.Properties.RouteKey));
    expect(playbackRoutes).toHaveLength(2);
    for (const route of playbackRoutes) expect(route.Properties.AuthorizationType).toBe('AWS_IAM');
  });
});

describe('telemetry', () => {
  it('encrypts the telemetry stream', () => {
    synth.template.hasResourceProperties('AWS::Kinesis::Stream', { StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' } });
  });

  it('maps the telemetry stream to the aggregator with large batches, a short window, bisect, bounded retries and a failure destination', () => {
    synth.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: Match.stringLikeRegexp('QoeAggregator') },
      BatchSize: 10_000,
      MaximumBatchingWindowInSeconds: ROLLUP_STAGES.aggregatorWindowSeconds,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 5,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('FailureQueue'), 'Arn'] } } },
    });
  });

  it('maps the partials stream to the merger with the merge window, partial batch failures and one consumer per shard (ADR 0057)', () => {
    synth.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: Match.stringLikeRegexp('RollupMerger') },
      StartingPosition: 'TRIM_HORIZON',
      MaximumBatchingWindowInSeconds: ROLLUP_STAGES.mergeWindowSeconds,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 5,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('FailureQueue'), 'Arn'] } } },
    });
    // Claims and cell marks rely on one in-order consumer per shard of either stream.
    for (const mapping of Object.values(synth.template.findResources('AWS::Lambda::EventSourceMapping')) as Resource[]) {
      expect(mapping.Properties.ParallelizationFactor ?? 1).toBe(1);
    }
  });

  it('lets the aggregator touch only its claims in the rollups table, and the merger only get and update items', () => {
    const statements = (role: string) =>
      Object.entries(synth.template.findResources('AWS::IAM::Policy'))
        .filter(([id]) => id.startsWith(role))
        .flatMap(([, policy]) => (policy as Resource).Properties.PolicyDocument.Statement as { Action: string | string[]; Condition?: unknown; Resource: unknown }[]);
    const dynamo = (list: ReturnType<typeof statements>) => list.filter((s) => [s.Action].flat().some((a) => a.startsWith('dynamodb:')));
    const aggregator = dynamo(statements('TelemetryQoeAggregator'));
    expect(aggregator.find((s) => JSON.stringify(s.Resource).includes('QoeRollups'))).toMatchObject({
      Action: ['dynamodb:GetItem', 'dynamodb:PutItem'],
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['claim#*'] } },
    });
    const merger = dynamo(statements('TelemetryRollupMerger'));
    expect(merger.flatMap((s) => [s.Action].flat()).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
  });

  it('lets the report ingest only get and update session-state items of its table (ADR 0101)', () => {
    const statements = Object.entries(synth.template.findResources('AWS::IAM::Policy'))
      .filter(([id]) => id.startsWith('TelemetryCmcdIngest'))
      .flatMap(([, policy]) => (policy as Resource).Properties.PolicyDocument.Statement as { Action: string | string[]; Condition?: unknown; Resource: unknown }[])
      .filter((s) => [s.Action].flat().some((a) => a.startsWith('dynamodb:')));
    expect(statements).toEqual([
      expect.objectContaining({
        Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^TelemetryReportRateLimits/), 'Arn'] },
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['*#session'] } },
      }),
    ]);
  });

  it('recomputes routing weights every minute', () => {
    synth.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('RoutingWeights'), 'Arn'] } })],
    });
  });

  it('alarms on per-pathway error spikes, aggregator lag, set-aside records and the failure queue', () => {
    const alarms = Object.values(synth.template.findResources('AWS::CloudWatch::Alarm')) as Resource[];
    const descriptions = alarms.map((a) => a.Properties.AlarmDescription as string);
    for (const pathway of ['cf-a', 'cf-b', 'cf-c']) expect(descriptions).toContain(`CDN pathway ${pathway} serves more than 5% errors`);
    expect(descriptions.some((d) => d.includes('falling behind'))).toBe(true);
    expect(descriptions.some((d) => d.includes('set aside'))).toBe(true);
    expect(descriptions.some((d) => d.includes('failure queue'))).toBe(true);
    synth.template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});

describe('regional functions', () => {
  it('trace actively with X-Ray, every one of them (ADR 0008)', () => {
    const functions = Object.values(synth.template.findResources('AWS::Lambda::Function')) as Resource[];
    const platform = functions.filter((fn) => typeof fn.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === 'string');
    expect(platform).toHaveLength(Object.keys(PLATFORM_FUNCTIONS).length);
    for (const fn of platform) expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
  });
});
