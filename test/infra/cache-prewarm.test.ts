import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Match } from 'aws-cdk-lib/assertions';
import { cleanup, synthPlatform, type SynthResult } from './synth';

type Resource = { Properties: Record<string, any> };

let synth: SynthResult;
beforeAll(() => {
  synth = synthPlatform();
});
afterAll(() => cleanup(synth));

const prewarmFunction = () =>
  Object.entries(synth.template.findResources('AWS::Lambda::Function')).find(([, f]) => (f as Resource).Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === 'prewarm');

describe('cache pre-warm (ADR 0039)', () => {
  it('runs on Asset Ready of the current revision on the catalog bus, with a failure destination', () => {
    const [logicalId] = prewarmFunction()!;
    synth.template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: Match.anyValue(),
      EventPattern: { source: ['streaming.catalog'], 'detail-type': ['Asset Ready'], detail: { current: [true] } },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId, 'Arn'] }, DeadLetterConfig: Match.anyValue() })],
    });
  });

  it('has no asynchronous retries and the default settings in its environment', () => {
    const [logicalId, fn] = prewarmFunction()!;
    expect((fn as Resource).Properties.Environment.Variables).toMatchObject({ PATHWAY_IDS: 'cf-a,cf-b,cf-c', WARM_SECONDS: '120', TOP_RUNGS: '1', CONCURRENCY: '8' });
    synth.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: logicalId }, MaximumRetryAttempts: 0 });
  });

  it('may read the keyring, title demand, its trending claims and asset heads, and nothing else beyond its logs and traces', () => {
    const [logicalId, fn] = prewarmFunction()!;
    const roleId = (fn as Resource).Properties.Role['Fn::GetAtt'][0];
    const statements = Object.values(synth.template.findResources('AWS::IAM::Policy'))
      .filter((p) => (p as Resource).Properties.Roles.some((r: { Ref: string }) => r.Ref === roleId))
      .flatMap((p) => (p as Resource).Properties.PolicyDocument.Statement);
    const actions = statements.flatMap((s: { Action: string | string[] }) => [s.Action].flat()).sort();
    expect(actions).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    const keyringStatement = statements.find((s: { Action: string | string[] }) => [s.Action].flat().includes('secretsmanager:GetSecretValue'));
    expect(keyringStatement.Resource).toEqual({ Ref: expect.stringMatching(/^KeyringSecret/) });
    // ADR 0102: demand items and its own claims only in the rollups table; asset heads in the catalog
    const of = (action: string) => statements.find((s: { Action: string | string[] }) => [s.Action].flat().includes(action));
    expect(of('dynamodb:Query')).toMatchObject({
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/^TelemetryQoeRollups/), 'Arn'] },
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['demand#*'] } },
    });
    expect(of('dynamodb:PutItem')).toMatchObject({
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/^TelemetryQoeRollups/), 'Arn'] },
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['trending#*'] } },
    });
    expect(of('dynamodb:GetItem').Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^StorageAssets/), 'Arn'] });
    expect(logicalId).toMatch(/^Prewarm/);
  });

  it('runs the trending pre-warm once a minute with the default settings, and the aggregator writes demand (ADR 0102)', () => {
    const [logicalId, fn] = prewarmFunction()!;
    expect((fn as Resource).Properties.Environment.Variables).toMatchObject({
      TRENDING_TOP_K: '3',
      TRENDING_MIN_SESSIONS: '20',
      TRENDING_RISE_PERCENT: '200',
      TRENDING_COOLDOWN_MINUTES: '30',
      ROLLUPS_TABLE_NAME: { Ref: expect.stringMatching(/^TelemetryQoeRollups/) },
      ASSETS_TABLE_NAME: { Ref: expect.stringMatching(/^StorageAssetsTable/) },
    });
    synth.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } })],
    });
    const aggregator = Object.values(synth.template.findResources('AWS::Lambda::Function')).find(
      (f) => (f as Resource).Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === 'qoe-aggregator',
    ) as Resource;
    expect(aggregator.Properties.Environment.Variables.DEMAND_TOP_K).toBe('10');
    const demandGrant = Object.entries(synth.template.findResources('AWS::IAM::Policy'))
      .filter(([id]) => id.startsWith('TelemetryQoeAggregator'))
      .flatMap(([, p]) => (p as Resource).Properties.PolicyDocument.Statement)
      .find((s: { Action: string | string[] }) => [s.Action].flat().includes('dynamodb:UpdateItem'));
    expect(demandGrant).toMatchObject({ Action: 'dynamodb:UpdateItem', Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['demand#*'] } } });
  });

  it('deploys neither the schedule nor the demand signal when platform.prewarm.trending is false', () => {
    const off = synthPlatform({ prewarm: { trending: false } });
    try {
      const rules = Object.values(off.template.findResources('AWS::Events::Rule')).filter((r) => (r as Resource).Properties.ScheduleExpression === 'rate(1 minute)');
      const targets = rules.flatMap((r) => (r as Resource).Properties.Targets.map((t: { Arn: unknown }) => JSON.stringify(t.Arn)));
      expect(targets.some((t) => t.includes('Prewarm'))).toBe(false);
      const aggregator = Object.values(off.template.findResources('AWS::Lambda::Function')).find(
        (f) => (f as Resource).Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === 'qoe-aggregator',
      ) as Resource;
      expect(aggregator.Properties.Environment.Variables.DEMAND_TOP_K).toBe('0');
    } finally {
      cleanup(off);
    }
  });

  it('is not deployed when platform.prewarm is false', () => {
    const off = synthPlatform({ prewarm: false });
    try {
      const services = Object.values(off.template.findResources('AWS::Lambda::Function')).map((f) => (f as Resource).Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME);
      expect(services).not.toContain('prewarm');
    } finally {
      cleanup(off);
    }
  });
});
