import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORIGIN_VERIFY_HEADER } from '../../core/origin-verify';
import { cleanup, synthPlatform, type SynthResult } from './synth';

type Resource = { Properties: Record<string, any> };

let synth: SynthResult;
beforeAll(() => {
  synth = synthPlatform();
});
afterAll(() => cleanup(synth));

describe('the report ingest answers only the gateway distribution (ADR 0055)', () => {

  it('sends the origin secret as a custom header on the ingest origin, by dynamic reference, never in clear', () => {
    const [gateway] = Object.values(synth.template.findResources('AWS::CloudFront::Distribution', { Properties: { DistributionConfig: { Comment: Match.stringLikeRegexp('Playback gateway') } } })) as Resource[];
    const origins = gateway!.Properties.DistributionConfig.Origins as { CustomOriginConfig?: unknown; OriginCustomHeaders?: { HeaderName: string; HeaderValue: unknown }[] }[];
    const ingestOrigin = origins.find((origin) => origin.CustomOriginConfig !== undefined)!;

    expect(ingestOrigin.OriginCustomHeaders).toHaveLength(1);
    expect(ingestOrigin.OriginCustomHeaders![0]!.HeaderName).toBe(ORIGIN_VERIFY_HEADER);
    expect(JSON.stringify(ingestOrigin.OriginCustomHeaders![0]!.HeaderValue)).toMatch(/\{\{resolve:secretsmanager:/);
  });

  it('gives the ingest function the secret by ARN and read access to that secret only', () => {
    const [ingest] = Object.values(synth.template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { ORIGIN_VERIFY_SECRET_ARN: Match.anyValue() } } } })) as Resource[];
    expect(ingest!.Properties.Environment.Variables.ORIGIN_VERIFY_SECRET_ARN).toEqual({ Ref: expect.stringMatching(/^TelemetryIngestOriginSecret/) });

    const policies = Object.values(synth.template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('CmcdIngest') } })) as Resource[];
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
    const onOriginSecret = statements.filter((s) => JSON.stringify(s.Resource).includes('IngestOriginSecret'));
    expect(onOriginSecret.flatMap((s) => [s.Action].flat()).sort()).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
  });
});
