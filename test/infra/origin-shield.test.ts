import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, synthPlatform, type SynthResult } from './synth';

type Resource = { Properties: Record<string, any> };

const results: SynthResult[] = [];
afterAll(() => results.forEach(cleanup));

function deliveryOrigins(overrides: Parameters<typeof synthPlatform>[0]): { comment: string; origins: Record<string, any>[] }[] {
  const synth = synthPlatform(overrides);
  results.push(synth);
  return (Object.values(synth.template.findResources('AWS::CloudFront::Distribution')) as Resource[])
    .map((d) => d.Properties.DistributionConfig)
    .filter((config) => String(config.Comment).startsWith('CDN pathway'))
    .map((config) => ({ comment: config.Comment, origins: config.Origins }));
}

describe('Origin Shield on the delivery pathways (ADR 0038)', () => {
  it('puts every pathway’s S3 origin behind Origin Shield in the Region the CloudFront guide recommends for the stack’s', () => {
    // eu-west-3 (Paris) has no Origin Shield; the guide's table names eu-west-2 (London).
    const pathways = deliveryOrigins({ region: 'eu-west-3' });
    expect(pathways.map((p) => p.comment).sort()).toEqual(['CDN pathway cf-a', 'CDN pathway cf-b', 'CDN pathway cf-c']);
    for (const { origins } of pathways) {
      expect(origins).toHaveLength(1);
      expect(origins[0]!.S3OriginConfig).toBeDefined();
      expect(origins[0]!.OriginShield).toEqual({ Enabled: true, OriginShieldRegion: 'eu-west-2' });
    }
  });

  it('takes an explicit Region from the config, and mode "off" turns the shield off on every pathway', () => {
    for (const { origins } of deliveryOrigins({ originShield: { region: 'us-east-1' } })) {
      expect(origins[0]!.OriginShield).toEqual({ Enabled: true, OriginShieldRegion: 'us-east-1' });
    }
    for (const { origins } of deliveryOrigins({ originShield: { mode: 'off' } })) {
      expect(origins[0]!.OriginShield ?? { Enabled: false }).toEqual({ Enabled: false });
    }
  });
});

describe('shared Origin Shield distribution (ADR 0098)', () => {
  const synth = synthPlatform({ originShield: { mode: 'shared', region: 'eu-west-2' } });
  results.push(synth);
  const template = synth.template;
  const distributions = Object.entries(template.findResources('AWS::CloudFront::Distribution')) as [string, Resource][];
  const [shieldId, shield] = distributions.find(([, d]) => String(d.Properties.DistributionConfig.Comment).startsWith('Shared Origin Shield'))!;
  const pathways = distributions.filter(([, d]) => String(d.Properties.DistributionConfig.Comment).startsWith('CDN pathway'));
  const [secretId] = Object.keys(template.findResources('AWS::SecretsManager::Secret', { Properties: { Description: Match.stringLikeRegexp('shared Origin Shield') } }));

  it('is one inner distribution: S3 through OAC with Origin Shield, the pathways’ cache policies, the check function on viewer-request', () => {
    const config = shield.Properties.DistributionConfig;
    expect(config.Origins).toHaveLength(1);
    expect(config.Origins[0].S3OriginConfig).toBeDefined();
    expect(config.Origins[0].OriginAccessControlId).toBeDefined();
    expect(config.Origins[0].OriginShield).toEqual({ Enabled: true, OriginShieldRegion: 'eu-west-2' });
    const pathwayConfig = pathways[0]![1].Properties.DistributionConfig;
    expect(config.DefaultCacheBehavior.CachePolicyId).toEqual(pathwayConfig.DefaultCacheBehavior.CachePolicyId);
    const manifestPolicy = (c: any) => c.CacheBehaviors.filter((b: any) => b.PathPattern === '*.m3u8').map((b: any) => b.CachePolicyId);
    expect(manifestPolicy(config)).toEqual(manifestPolicy(pathwayConfig));
    expect(config.DefaultCacheBehavior.AllowedMethods).toEqual(['GET', 'HEAD']);
    expect(config.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('https-only');
    for (const behavior of [config.DefaultCacheBehavior, ...config.CacheBehaviors]) {
      expect(behavior.FunctionAssociations).toHaveLength(1);
      expect(behavior.FunctionAssociations[0].EventType).toBe('viewer-request');
      expect(behavior.LambdaFunctionAssociations).toBeUndefined();
    }
    expect(config.Logging).toBeDefined();
  });

  it('checks the secret in its function, resolved at deployment, never written into the template', () => {
    const functions = Object.values(template.findResources('AWS::CloudFront::Function')) as Resource[];
    const check = functions.find((f) => String(f.Properties.FunctionConfig.Comment).startsWith('Shared Origin Shield'))!;
    expect(check.Properties.FunctionConfig.Runtime).toBe('cloudfront-js-2.0');
    const code = JSON.stringify(check.Properties.FunctionCode);
    expect(code).toContain(`{{resolve:secretsmanager:`);
    expect(code).toContain(secretId);
    expect(code).toContain('x-origin-verify');
  });

  it('is every pathway’s origin through an origin group that fails over to S3 directly on 403, 404 and 5xx', () => {
    expect(pathways).toHaveLength(3);
    for (const [, pathway] of pathways) {
      const config = pathway.Properties.DistributionConfig;
      expect(config.OriginGroups.Quantity).toBe(1);
      const group = config.OriginGroups.Items[0];
      expect(group.FailoverCriteria.StatusCodes.Items.sort()).toEqual([403, 404, 500, 502, 503, 504]);
      const [primaryId, fallbackId] = group.Members.Items.map((m: any) => m.OriginId);
      const primary = config.Origins.find((o: any) => o.Id === primaryId);
      const fallback = config.Origins.find((o: any) => o.Id === fallbackId);
      expect(primary.DomainName).toEqual({ 'Fn::GetAtt': [shieldId, 'DomainName'] });
      expect(primary.CustomOriginConfig).toMatchObject({ OriginProtocolPolicy: 'https-only', OriginSSLProtocols: ['TLSv1.2'] });
      expect(JSON.stringify(primary.OriginCustomHeaders)).toContain('{{resolve:secretsmanager:');
      expect(primary.OriginCustomHeaders[0].HeaderName).toBe('x-origin-verify');
      expect(fallback.S3OriginConfig).toBeDefined();
      expect(fallback.OriginShield).toEqual({ Enabled: true, OriginShieldRegion: 'eu-west-2' });
      for (const behavior of [config.DefaultCacheBehavior, ...config.CacheBehaviors]) expect(behavior.TargetOriginId).toBe(group.Id);
    }
  });

  it('lets each distribution read the bucket only for itself (OAC, s3:GetObject, SourceArn of that distribution)', () => {
    const statements = (Object.values(template.findResources('AWS::S3::BucketPolicy')) as Resource[]).flatMap((p) => p.Properties.PolicyDocument.Statement);
    const cloudFrontReads = statements.filter((s: any) => s.Principal?.Service === 'cloudfront.amazonaws.com');
    const readers = cloudFrontReads.map((s: any) => JSON.stringify(s.Condition));
    for (const id of [shieldId, ...pathways.map(([id]) => id)]) expect(readers.some((c) => c.includes(id))).toBe(true);
    for (const statement of cloudFrontReads) expect(statement.Action).toBe('s3:GetObject');
  });

  it('is invalidated by a takedown, before the pathways', () => {
    const worker = Object.values(template.findResources('AWS::Lambda::Function')).find((f: any) => f.Properties.Environment?.Variables?.DISTRIBUTION_IDS) as Resource;
    const ids = JSON.stringify(worker.Properties.Environment.Variables.DISTRIBUTION_IDS);
    expect(ids.indexOf(shieldId)).toBeGreaterThan(-1);
    for (const [id] of pathways) expect(ids.indexOf(shieldId)).toBeLessThan(ids.indexOf(id));
  });

  it('tells an external CDN where to fill from: the domain and the secret’s ARN, never its value', () => {
    const outputs = template.findOutputs('*');
    expect(outputs.OriginShieldDomain!.Value).toEqual({ 'Fn::GetAtt': [shieldId, 'DomainName'] });
    expect(outputs.OriginShieldSecretArn!.Value).toEqual({ Ref: secretId });
  });

  it('is absent in mode "per-pathway"', () => {
    const perPathway = synthPlatform({ originShield: { mode: 'per-pathway' } });
    results.push(perPathway);
    const comments = Object.values(perPathway.template.findResources('AWS::CloudFront::Distribution')).map((d: any) => String(d.Properties.DistributionConfig.Comment));
    expect(comments.some((c) => c.startsWith('Shared Origin Shield'))).toBe(false);
  });
});
