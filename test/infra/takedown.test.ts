import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, synthPlatform, type SynthResult } from './synth';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Resource = { Properties: Record<string, any> };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Statement = { Action: string | string[]; Resource: any; Condition?: Record<string, any> };

let synth: SynthResult;
beforeAll(() => {
  synth = synthPlatform();
});
afterAll(() => cleanup(synth));

const logicalIdOf = (type: string, service: string): string => {
  const [id] = Object.entries(synth.template.findResources(type)).find(
    ([, r]) => (r as Resource).Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === service,
  )!;
  return id;
};
/** Every statement of the policies attached to a function's role. */
const statementsOf = (service: string): Statement[] => {
  const fn = synth.template.findResources('AWS::Lambda::Function')[logicalIdOf('AWS::Lambda::Function', service)] as Resource;
  const roleId = fn.Properties.Role['Fn::GetAtt'][0] as string;
  return Object.values(synth.template.findResources('AWS::IAM::Policy'))
    .filter((p) => ((p as Resource).Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
    .flatMap((p) => (p as Resource).Properties.PolicyDocument.Statement as Statement[]);
};
const actions = (statements: Statement[]) => statements.flatMap((s) => [s.Action].flat()).sort();

describe('asynchronous takedown (ADR 0011)', () => {
  it('routes DELETE and GET /assets/{assetId} on the IAM-authorised playback API to the takedown function', () => {
    for (const routeKey of ['DELETE /assets/{assetId}', 'GET /assets/{assetId}']) {
      synth.template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: routeKey, AuthorizationType: 'AWS_IAM' });
    }
  });

  it('gives the takedown API only the catalog head and the catalog bus', () => {
    const statements = statementsOf('takedown');
    expect(actions(statements).filter((a) => !a.startsWith('logs:') && !a.startsWith('xray:'))).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem', 'events:PutEvents']);
  });

  it('hands accepted takedowns to the worker through a rule on the catalog bus, with retries and a dead-letter queue', () => {
    const workerId = logicalIdOf('AWS::Lambda::Function', 'takedown-worker');
    synth.template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: Match.stringLikeRegexp('^CatalogBus') },
      EventPattern: { source: ['streaming.catalog'], 'detail-type': ['Asset Takedown Requested'] },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [workerId, 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 3600 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FailureQueue'), 'Arn'] } },
        }),
      ],
    });
    synth.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'takedown-worker' }) },
      Timeout: 300,
      DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FailureQueue'), 'Arn'] } },
    });
    synth.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: workerId }, MaximumRetryAttempts: 2 });
  });

  it('alarms on a failed takedown attempt, and the failure queue it lands in after its retries has its own alarm', () => {
    const workerId = logicalIdOf('AWS::Lambda::Function', 'takedown-worker');
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('^A takedown attempt failed'),
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: workerId } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FailureQueue'), 'QueueName'] } }],
      Threshold: 1,
    });
  });

  it('grants the worker least privilege: jobs of this account and Region, deletes under media/ only, invalidations on the delivery distributions', () => {
    const statements = statementsOf('takedown-worker');
    const granting = (action: string) => statements.filter((s) => [s.Action].flat().includes(action));

    expect(granting('mediaconvert:CancelJob')).toEqual([
      expect.objectContaining({
        Action: ['mediaconvert:CancelJob', 'mediaconvert:GetJob'],
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':mediaconvert:eu-west-1:', { Ref: 'AWS::AccountId' }, ':jobs/*']] },
      }),
    ]);
    const [deletes] = granting('s3:DeleteObject');
    expect(deletes!.Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^StorageOriginBucket/), 'Arn'] }, '/media/*']] });
    const [lists] = granting('s3:ListBucket');
    expect(lists!.Condition).toEqual({ StringLike: { 's3:prefix': ['media/*'] } });
    const invalidated = granting('cloudfront:CreateInvalidation').map((s) => JSON.stringify(s.Resource));
    const distributions = Object.keys(synth.template.findResources('AWS::CloudFront::Distribution')).filter((id) => id.startsWith('Delivery'));
    expect(distributions).toHaveLength(3);
    for (const id of distributions) expect(invalidated.some((r) => r.includes(id))).toBe(true);
    expect(invalidated.some((r) => r.includes('Gateway'))).toBe(false);
    expect(actions(statements).filter((a) => !a.startsWith('logs:') && !a.startsWith('xray:') && !a.startsWith('sqs:'))).toEqual([
      'cloudfront:CreateInvalidation',
      'cloudfront:CreateInvalidation',
      'cloudfront:CreateInvalidation',
      'dynamodb:GetItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
      'events:PutEvents',
      'mediaconvert:CancelJob',
      'mediaconvert:GetJob',
      's3:DeleteObject',
      's3:ListBucket',
    ]);
  });
});
