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

  it('may read the keyring and nothing else beyond its logs and traces', () => {
    const [logicalId, fn] = prewarmFunction()!;
    const roleId = (fn as Resource).Properties.Role['Fn::GetAtt'][0];
    const statements = Object.values(synth.template.findResources('AWS::IAM::Policy'))
      .filter((p) => (p as Resource).Properties.Roles.some((r: { Ref: string }) => r.Ref === roleId))
      .flatMap((p) => (p as Resource).Properties.PolicyDocument.Statement);
    const actions = statements.flatMap((s: { Action: string | string[] }) => [s.Action].flat()).sort();
    expect(actions).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents', 'secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    const keyringStatement = statements.find((s: { Action: string | string[] }) => [s.Action].flat().includes('secretsmanager:GetSecretValue'));
    expect(keyringStatement.Resource).toEqual({ Ref: expect.stringMatching(/^KeyringSecret/) });
    expect(logicalId).toMatch(/^Prewarm/);
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
