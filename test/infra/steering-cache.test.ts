import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STEERING_BEHAVIOR_PATH_PATTERN, STEERING_KEY_QUERY_NAMES } from '../../core/steering-cache-key';
import { cleanup, synthPlatform, type SynthResult } from './synth';

type Resource = { Properties: Record<string, any> };

/** The gateway's steering behavior (ADR 0036): cache policy, key function and steering function as synthesised. */
let synth: SynthResult;
let customTtl: SynthResult;
beforeAll(() => {
  synth = synthPlatform();
  customTtl = synthPlatform({ steeringTtlSeconds: 6 });
});
afterAll(() => {
  cleanup(synth);
  cleanup(customTtl);
});

const gatewayOf = (s: SynthResult) =>
  (Object.values(s.template.findResources('AWS::CloudFront::Distribution')) as Resource[]).find((d) => String(d.Properties.DistributionConfig.Comment).startsWith('Playback gateway'))!
    .Properties.DistributionConfig;
const steeringBehaviorOf = (s: SynthResult) => (gatewayOf(s).CacheBehaviors as any[]).find((b) => b.PathPattern === STEERING_BEHAVIOR_PATH_PATTERN);
const logicalIdOf = (s: SynthResult, type: string, predicate: (r: Resource) => boolean) =>
  Object.entries(s.template.findResources(type)).find(([, r]) => predicate(r as Resource))![0];
const steeringCachePolicyOf = (s: SynthResult) => {
  const [id, policy] = Object.entries(s.template.findResources('AWS::CloudFront::CachePolicy')).find(([, r]) =>
    String((r as Resource).Properties.CachePolicyConfig.Name).endsWith('-steering-cache'),
  )!;
  return { id, config: (policy as Resource).Properties.CachePolicyConfig };
};

describe('gateway steering cache', () => {
  it('keys steering answers on exactly the viewer country and the key function\'s query (session folder, report, memory), no cookies', () => {
    const { config } = steeringCachePolicyOf(synth);
    const key = config.ParametersInCacheKeyAndForwardedToOrigin;
    expect(key.HeadersConfig).toEqual({ HeaderBehavior: 'whitelist', Headers: ['CloudFront-Viewer-Country'] });
    expect(key.QueryStringsConfig.QueryStringBehavior).toBe('whitelist');
    expect([...key.QueryStringsConfig.QueryStrings].sort()).toEqual([...STEERING_KEY_QUERY_NAMES].sort());
    expect(key.CookiesConfig).toEqual({ CookieBehavior: 'none' });
  });

  it('reuses an answer for an unchanged key for nine steering TTLs, whatever the configured TTL', () => {
    expect(steeringCachePolicyOf(synth).config).toMatchObject({ MinTTL: 0, DefaultTTL: 90, MaxTTL: 90 });
    expect(steeringCachePolicyOf(customTtl).config).toMatchObject({ MinTTL: 0, DefaultTTL: 54, MaxTTL: 54 });
  });

  it('routes every path ending in /steering through the key function, the cache, then the steering function', () => {
    const behavior = steeringBehaviorOf(synth);
    const { id: policyId } = steeringCachePolicyOf(synth);
    const keyFunctionId = logicalIdOf(synth, 'AWS::CloudFront::Function', (r) => String(r.Properties.FunctionConfig.Comment).startsWith('Token v1 check and steering cache key'));
    expect(behavior.CachePolicyId).toEqual({ Ref: policyId });
    expect(behavior.FunctionAssociations).toEqual([{ EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [keyFunctionId, 'FunctionARN'] } }]);
    expect(behavior.LambdaFunctionAssociations).toEqual([expect.objectContaining({ EventType: 'origin-request' })]);
    // The same steering function version as the manifests' default behavior.
    expect(behavior.LambdaFunctionAssociations[0].LambdaFunctionARN).toEqual(gatewayOf(synth).DefaultCacheBehavior.LambdaFunctionAssociations[0].LambdaFunctionARN);
    // Nothing but the key reaches the steering function: no origin request policy on this behavior.
    expect(behavior.OriginRequestPolicyId).toBeUndefined();
    expect(behavior.AllowedMethods.sort()).toEqual(['GET', 'HEAD', 'OPTIONS']);
  });

  it('checks tokens in the key function with the keyring\'s KeyValueStore, in the runtime and size CloudFront accepts', () => {
    const [fn] = (Object.values(synth.template.findResources('AWS::CloudFront::Function')) as Resource[]).filter((r) =>
      String(r.Properties.FunctionConfig.Comment).startsWith('Token v1 check and steering cache key'),
    );
    const [store] = Object.keys(synth.template.findResources('AWS::CloudFront::KeyValueStore'));
    expect(fn!.Properties.FunctionConfig.Runtime).toBe('cloudfront-js-2.0');
    expect(fn!.Properties.FunctionConfig.KeyValueStoreAssociations).toEqual([{ KeyValueStoreARN: { 'Fn::GetAtt': [store, 'Arn'] } }]);
    expect(fn!.Properties.Name).toBe('Streaming-steering-key');
    expect(Buffer.byteLength(fn!.Properties.FunctionCode)).toBeLessThan(10 * 1024);
  });

  it('never caches a gateway error, so a cold 503 does not stand in for later answers', () => {
    expect(gatewayOf(synth).CustomErrorResponses).toEqual(
      [500, 502, 503, 504].map((code) => ({ ErrorCode: code, ErrorCachingMinTTL: 0 })),
    );
  });

  it('leaves playback manifests uncached on the default behavior', () => {
    expect(gatewayOf(synth).DefaultCacheBehavior.CachePolicyId).toBe('4135ea2d-6df8-44a3-9df3-4b5a84be39ad'); // CachingDisabled
  });
});

describe('routing generations in the steering key (ADR 0097)', () => {
  const routingWeightsOf = (s: SynthResult) =>
    Object.entries(s.template.findResources('AWS::Lambda::Function')).find(([, r]) => (r as Resource).Properties.Environment?.Variables?.ROUTING_TABLE_NAME !== undefined && (r as Resource).Properties.Environment?.Variables?.TICKS !== undefined)!;

  it('tells routing-weights the KeyValueStore the key function reads', () => {
    const [store] = Object.keys(synth.template.findResources('AWS::CloudFront::KeyValueStore'));
    const [, fn] = routingWeightsOf(synth);
    expect((fn as Resource).Properties.Environment.Variables.ROUTING_GENERATION_STORE_ARN).toEqual({ 'Fn::GetAtt': [store, 'Arn'] });
  });

  it('lets routing-weights describe and batch-update that one store and nothing else of it', () => {
    const [store] = Object.keys(synth.template.findResources('AWS::CloudFront::KeyValueStore'));
    const [, fn] = routingWeightsOf(synth);
    const roleId = (fn as Resource).Properties.Role['Fn::GetAtt'][0];
    const statements = (Object.values(synth.template.findResources('AWS::IAM::Policy')) as Resource[])
      .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
    const kvs = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('cloudfront-keyvaluestore:')));
    expect(kvs).toEqual([expect.objectContaining({ Action: ['cloudfront-keyvaluestore:DescribeKeyValueStore', 'cloudfront-keyvaluestore:UpdateKeys'], Resource: { 'Fn::GetAtt': [store, 'Arn'] } })]);
  });
});
