import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Match } from 'aws-cdk-lib/assertions';
import { cleanup, synthPlatform, type SynthResult } from './synth';

let synth: SynthResult;
beforeAll(() => {
  synth = synthPlatform();
});
afterAll(() => cleanup(synth));

describe('ingest pipeline infrastructure', () => {
  it('sends upload bucket events to EventBridge', () => {
    synth.template.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: { EventBridgeConfiguration: {} },
    });
  });

  it('starts submit-job only for Object Created under uploads/ of the upload bucket', () => {
    synth.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: { bucket: { name: [Match.anyValue()] }, object: { key: [{ prefix: 'uploads/' }] } },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('IngestSubmitJob'), 'Arn'] } })],
    });
  });

  it("applies only this stack's MediaConvert job state changes", () => {
    synth.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.mediaconvert'],
        'detail-type': ['MediaConvert Job State Change'],
        detail: { userMetadata: { stack: ['Streaming'] } },
      },
    });
  });

  it('lets MediaConvert read only uploads/ and write only media/', () => {
    const policies = synth.template.findResources('AWS::IAM::Policy', {
      Properties: { PolicyName: Match.stringLikeRegexp('IngestMediaConvertRole') },
    });
    const statements = Object.values(policies).flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties.PolicyDocument.Statement);
    expect(statements).toEqual([
      expect.objectContaining({ Action: 's3:GetObject', Resource: { 'Fn::Join': ['', [expect.anything(), '/uploads/*']] } }),
      expect.objectContaining({ Action: 's3:PutObject', Resource: { 'Fn::Join': ['', [expect.anything(), '/media/*']] } }),
    ]);
  });

  it('allows iam:PassRole only for the MediaConvert role', () => {
    const policies = synth.template.findResources('AWS::IAM::Policy');
    const passRoles = Object.values(policies)
      .flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: Array<{ Action: unknown; Resource: unknown }> } } }).Properties.PolicyDocument.Statement)
      .filter((s) => s.Action === 'iam:PassRole');
    expect(passRoles).toHaveLength(1);
    expect(passRoles[0]!.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^IngestMediaConvertRole/), 'Arn'] });
  });

  it('encrypts and locks down both buckets', () => {
    const buckets = synth.template.findResources('AWS::S3::Bucket');
    for (const bucket of Object.values(buckets) as Array<{ Properties: Record<string, unknown> }>) {
      expect(bucket.Properties.BucketEncryption).toBeDefined();
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
    }
  });

  it('denies non-TLS access to every bucket', () => {
    const policies = Object.values(synth.template.findResources('AWS::S3::BucketPolicy')) as Array<{ Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } } }>;
    expect(policies.length).toBe(Object.keys(synth.template.findResources('AWS::S3::Bucket')).length);
    for (const policy of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });

  it('aborts abandoned multipart uploads in the upload bucket', () => {
    synth.template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 3 } })]) },
    });
  });

  it('keeps the assets catalog keyed by asset and revision with point-in-time recovery', () => {
    synth.template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [
        { AttributeName: 'assetId', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      Replicas: [Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })],
    });
  });

  it('runs submit-job at most three times per upload event and tells the handler so (ADR 0025)', () => {
    const submitJob = Object.entries(synth.template.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith('IngestSubmitJob'))!;
    synth.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: submitJob[0] },
      MaximumRetryAttempts: 2,
    });
    expect((submitJob[1] as { Properties: { Environment: { Variables: Record<string, unknown> } } }).Properties.Environment.Variables.INVOCATION_ATTEMPTS).toBe('3');
  });

  it('lets submit-job list the upload bucket (404, not 403, for a missing key) and list MediaConvert jobs (ADR 0023, 0024)', () => {
    const policies = synth.template.findResources('AWS::IAM::Policy', {
      Properties: { PolicyName: Match.stringLikeRegexp('IngestSubmitJobRole') },
    });
    const statements = Object.values(policies).flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: Array<{ Action: unknown; Resource: unknown }> } } }).Properties.PolicyDocument.Statement);
    expect(statements).toContainEqual(
      expect.objectContaining({ Action: 's3:ListBucket', Resource: { 'Fn::GetAtt': [expect.stringMatching(/Upload/), 'Arn'] } }),
    );
    expect(statements).toContainEqual(expect.objectContaining({ Action: ['mediaconvert:Probe', 'mediaconvert:ListJobs'], Resource: '*' }));
  });

  it('gives the ingest handlers a dead-letter queue and bounded retries', () => {
    synth.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ MEDIACONVERT_ROLE_ARN: Match.anyValue() }) },
      DeadLetterConfig: { TargetArn: Match.anyValue() },
    });
  });
});
