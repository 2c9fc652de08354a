import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Match } from 'aws-cdk-lib/assertions';
import { REALTIME_LOG_FIELDS } from '../../core/realtime-log';
import { cleanup, synthPlatform, type SynthResult } from './synth';

type Resource = { Properties: Record<string, any> };

let synth: SynthResult;
beforeAll(() => {
  synth = synthPlatform();
});
afterAll(() => cleanup(synth));

const distributions = () =>
  Object.values(synth.template.findResources('AWS::CloudFront::Distribution')) as Resource[];
const deliveryDistributions = () => distributions().filter((d) => String(d.Properties.DistributionConfig.Comment).startsWith('CDN pathway'));

describe('delivery network', () => {
  it('deploys one distribution per configured pathway plus the gateway', () => {
    expect(deliveryDistributions().map((d) => d.Properties.DistributionConfig.Comment).sort()).toEqual([
      'CDN pathway cf-a',
      'CDN pathway cf-b',
      'CDN pathway cf-c',
    ]);
    expect(distributions()).toHaveLength(4);
  });

  it('runs viewer-auth on viewer requests of every behaviour of every delivery distribution', () => {
    for (const distribution of deliveryDistributions()) {
      const config = distribution.Properties.DistributionConfig;
      const behaviours = [config.DefaultCacheBehavior, ...(config.CacheBehaviors ?? [])];
      expect(behaviours).toHaveLength(3);
      for (const behaviour of behaviours) {
        expect(behaviour.LambdaFunctionAssociations).toEqual([
          expect.objectContaining({ EventType: 'viewer-request' }),
        ]);
        expect(behaviour.RealtimeLogConfigArn).toBeDefined();
        expect(behaviour.ResponseHeadersPolicyId).toBeDefined();
        expect(behaviour.ViewerProtocolPolicy).toBe('redirect-to-https');
      }
    }
  });

  it('reaches the origin only through Origin Access Control', () => {
    synth.template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 2);
    for (const distribution of distributions()) {
      const s3Origins = distribution.Properties.DistributionConfig.Origins.filter((o: any) => o.S3OriginConfig);
      for (const origin of s3Origins) {
        expect(origin.OriginAccessControlId).toBeDefined();
        expect(origin.S3OriginConfig.OriginAccessIdentity).toBe('');
      }
    }
  });

  it('caches manifests briefly and immutable segments for a year', () => {
    synth.template.hasResourceProperties('AWS::CloudFront::CachePolicy', {
      CachePolicyConfig: Match.objectLike({ Comment: Match.stringLikeRegexp('playlists'), DefaultTTL: 30, MaxTTL: 300 }),
    });
    synth.template.hasResourceProperties('AWS::CloudFront::CachePolicy', {
      CachePolicyConfig: Match.objectLike({ Comment: Match.stringLikeRegexp('segments'), DefaultTTL: 31536000 }),
    });
    for (const distribution of deliveryDistributions()) {
      const patterns = distribution.Properties.DistributionConfig.CacheBehaviors.map((b: any) => b.PathPattern).sort();
      expect(patterns).toEqual(['*.m3u8', '*.mpd']);
    }
  });

  it('allows the CMCD request headers cross-origin', () => {
    synth.template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: Match.objectLike({
        CorsConfig: Match.objectLike({
          AccessControlAllowHeaders: { Items: Match.arrayWith(['CMCD-Request', 'CMCD-Object', 'CMCD-Status', 'CMCD-Session']) },
        }),
      }),
    });
  });

  it('serves HTTP/2 and HTTP/3', () => {
    for (const distribution of distributions()) expect(distribution.Properties.DistributionConfig.HttpVersion).toBe('http2and3');
  });

  it('writes real-time logs with the canonical fields to the telemetry stream', () => {
    synth.template.hasResourceProperties('AWS::CloudFront::RealtimeLogConfig', {
      Fields: [...REALTIME_LOG_FIELDS],
      SamplingRate: 4, // the default `telemetrySamplingRate` (ADR 0059)
      EndPoints: [Match.objectLike({ StreamType: 'Kinesis', KinesisStreamConfig: Match.objectLike({ StreamArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('TelemetryStream'), 'Arn'] } }) })],
    });
  });

  it('forwards viewer country, ASN and device headers to the steering function', () => {
    synth.template.hasResourceProperties('AWS::CloudFront::OriginRequestPolicy', {
      OriginRequestPolicyConfig: Match.objectLike({
        HeadersConfig: {
          HeaderBehavior: 'whitelist',
          Headers: Match.arrayWith(['CloudFront-Viewer-Country', 'CloudFront-Viewer-ASN', 'CloudFront-Is-Mobile-Viewer']),
        },
      }),
    });
    const gateway = distributions().find((d) => String(d.Properties.DistributionConfig.Comment).startsWith('Playback gateway'))!;
    expect(gateway.Properties.DistributionConfig.DefaultCacheBehavior.LambdaFunctionAssociations).toEqual([
      expect.objectContaining({ EventType: 'origin-request' }),
    ]);
  });
});

describe('Lambda@Edge', () => {
  it('lives in us-east-1 next to its roles when the platform region is elsewhere', () => {
    expect(synth.platform.edgeStack.region).toBe('us-east-1');
    synth.edgeTemplate.resourceCountIs('AWS::Lambda::Function', 2);
    synth.edgeTemplate.allResourcesProperties('AWS::Lambda::Function', { Runtime: 'nodejs22.x' });
  });

  it('gives each edge function a distinct code asset', () => {
    const functions = Object.values(synth.edgeTemplate.findResources('AWS::Lambda::Function')) as Resource[];
    const keys = functions.map((f) => JSON.stringify(f.Properties.Code));
    expect(new Set(keys).size).toBe(2);
  });

  it('lets edge roles read only the keyring and, for steering, the routing table', () => {
    const policies = Object.values(synth.edgeTemplate.findResources('AWS::IAM::Policy')) as Resource[];
    const actions = policies.flatMap((p) => p.Properties.PolicyDocument.Statement.flatMap((s: any) => [s.Action].flat()));
    expect(new Set(actions)).toEqual(
      new Set(['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'secretsmanager:GetSecretValue', 'dynamodb:GetItem']),
    );
    const dynamo = policies.flatMap((p) => p.Properties.PolicyDocument.Statement).filter((s: any) => [s.Action].flat().includes('dynamodb:GetItem'));
    expect(JSON.stringify(dynamo)).toContain(':table/Streaming-routing');
    expect(JSON.stringify(dynamo)).not.toContain('*');
    const secrets = policies.flatMap((p) => p.Properties.PolicyDocument.Statement).filter((s: any) => s.Action === 'secretsmanager:GetSecretValue');
    for (const statement of secrets) expect(JSON.stringify(statement.Resource)).toContain('secret:Streaming/playback-keyring-??????');
  });

  it('keeps everything in one stack when the platform region is us-east-1', () => {
    const east = synthPlatform({ region: 'us-east-1' });
    try {
      expect(east.platform.edgeStack).toBe(east.platform.stack);
      east.template.resourceCountIs('AWS::CloudFront::Distribution', 4);
    } finally {
      cleanup(east);
    }
  });
});

describe('routing table', () => {
  it('registers every pathway with its distribution domain at deploy time', () => {
    const registry = Object.values(synth.template.findResources('Custom::AWS')) as Resource[];
    const create = registry.map((r) => JSON.stringify(r.Properties.Create)).find((c) => c.includes('\\"pathways\\"'));
    expect(create).toBeDefined();
    for (const id of ['cf-a', 'cf-b', 'cf-c']) expect(create).toContain(`\\"${id}\\"`);
  });
});

describe('token check per pathway (ADR 0033)', () => {
  let mixed: SynthResult;
  let functionsOnly: SynthResult;
  beforeAll(() => {
    // synthPlatform runs cdk-nag: a finding on the function, the store or the grant fails here.
    mixed = synthPlatform({ pathways: [{ id: 'cf-a', tokenCheck: 'cloudfront-function' }, { id: 'cf-b' }, { id: 'cf-c', tokenCheck: 'cloudfront-function' }] });
    functionsOnly = synthPlatform({ pathways: [{ id: 'cf-a', tokenCheck: 'cloudfront-function' }, { id: 'cf-b', tokenCheck: 'cloudfront-function' }] });
  });
  afterAll(() => {
    cleanup(mixed);
    cleanup(functionsOnly);
  });

  const viewerRequestOf = (result: SynthResult) =>
    new Map(
      (Object.values(result.template.findResources('AWS::CloudFront::Distribution')) as Resource[])
        .filter((d) => String(d.Properties.DistributionConfig.Comment).startsWith('CDN pathway'))
        .map((d) => {
          const config = d.Properties.DistributionConfig;
          const behaviours = [config.DefaultCacheBehavior, ...config.CacheBehaviors];
          const kinds = behaviours.map((b: any) =>
            [...(b.FunctionAssociations ?? []).map((a: any) => `function:${a.EventType}`), ...(b.LambdaFunctionAssociations ?? []).map((a: any) => `lambda:${a.EventType}`)].join(','),
          );
          return [String(config.Comment).slice('CDN pathway '.length), [...new Set(kinds)]];
        }),
    );

  it('associates the CloudFront Function or the Lambda@Edge check with every behaviour, as each pathway says', () => {
    expect(Object.fromEntries(viewerRequestOf(mixed))).toEqual({
      'cf-a': ['function:viewer-request'],
      'cf-b': ['lambda:viewer-request'],
      'cf-c': ['function:viewer-request'],
    });
    expect(Object.fromEntries(viewerRequestOf(synth))).toEqual({
      'cf-a': ['lambda:viewer-request'],
      'cf-b': ['lambda:viewer-request'],
      'cf-c': ['lambda:viewer-request'],
    });
  });

  it('deploys one cloudfront-js-2.0 function under 10 KB reading the one KeyValueStore', () => {
    mixed.template.resourceCountIs('AWS::CloudFront::KeyValueStore', 1);
    const [store] = Object.keys(mixed.template.findResources('AWS::CloudFront::KeyValueStore'));
    const functions = Object.values(mixed.template.findResources('AWS::CloudFront::Function')) as Resource[];
    const viewerAuth = functions.filter((f) => String(f.Properties.FunctionConfig.Comment).startsWith('Playback token'));
    expect(viewerAuth).toHaveLength(1);
    const fn = viewerAuth[0]!.Properties;
    expect(fn.FunctionConfig.Runtime).toBe('cloudfront-js-2.0');
    expect(fn.FunctionConfig.KeyValueStoreAssociations).toEqual([{ KeyValueStoreARN: { 'Fn::GetAtt': [store, 'Arn'] } }]);
    expect(fn.AutoPublish).toBe(true);
    expect(typeof fn.FunctionCode).toBe('string');
    expect(Buffer.byteLength(fn.FunctionCode)).toBeLessThan(10 * 1024);
  });

  it('lets the rotation write and delete keys of that store only, and publish before the new key becomes current', () => {
    const [store] = Object.keys(mixed.template.findResources('AWS::CloudFront::KeyValueStore'));
    const statements = (Object.values(mixed.template.findResources('AWS::IAM::Policy')) as Resource[]).flatMap((p) => p.Properties.PolicyDocument.Statement);
    const kvs = statements.filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith('cloudfront-keyvaluestore:')));
    // The rotation writes and deletes kids; routing-weights only batch-updates the routing generations (ADR 0097).
    expect(kvs).toHaveLength(2);
    expect(kvs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Action: ['cloudfront-keyvaluestore:DescribeKeyValueStore', 'cloudfront-keyvaluestore:PutKey', 'cloudfront-keyvaluestore:DeleteKey'],
          Resource: { 'Fn::GetAtt': [store, 'Arn'] },
        }),
        expect.objectContaining({
          Action: ['cloudfront-keyvaluestore:DescribeKeyValueStore', 'cloudfront-keyvaluestore:UpdateKeys'],
          Resource: { 'Fn::GetAtt': [store, 'Arn'] },
        }),
      ]),
    );
    const rotation = (Object.values(mixed.template.findResources('AWS::Lambda::Function')) as Resource[]).find(
      (f) => f.Properties.Environment?.Variables?.KEYRING_STORE_ARN !== undefined,
    );
    expect(rotation?.Properties.Environment.Variables).toMatchObject({ KEYRING_STORE_ARN: { 'Fn::GetAtt': [store, 'Arn'] }, KEYRING_STORE_PROPAGATION_SECONDS: '60' });
    expect(rotation?.Properties.Timeout).toBeGreaterThan(60);
  });

  it('creates no viewer-auth CloudFront Function when every pathway uses Lambda@Edge; the store stays for the gateway (ADR 0036)', () => {
    const functions = Object.values(synth.template.findResources('AWS::CloudFront::Function')) as Resource[];
    expect(functions.filter((f) => String(f.Properties.FunctionConfig.Comment).startsWith('Playback token'))).toEqual([]);
    // The gateway's steering key function checks every steering reload's token from the store.
    synth.template.resourceCountIs('AWS::CloudFront::KeyValueStore', 1);
  });

  it('builds no viewer-auth Lambda@Edge when no pathway uses it (steering stays on Lambda@Edge)', () => {
    functionsOnly.edgeTemplate.resourceCountIs('AWS::Lambda::Function', 1);
    const policies = Object.values(functionsOnly.edgeTemplate.findResources('AWS::IAM::Policy')) as Resource[];
    expect(policies.length).toBeGreaterThan(0);
    expect(Object.fromEntries(viewerRequestOf(functionsOnly))).toEqual({ 'cf-a': ['function:viewer-request'], 'cf-b': ['function:viewer-request'] });
  });
});
