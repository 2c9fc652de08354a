import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENERATED_NAME_STEMS, platformNames } from '../../core/physical-names';
import { cleanup, synthPlatform, type SynthResult } from './synth';

type Resource = { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string };
type Template = { Resources: Record<string, Resource> };

// Two copies in one account and Region, as a platform team runs production and staging side by side. The second
// prefix starts with the first on purpose, and the second copy is the `destroy` configuration.
let production: SynthResult;
let staging: SynthResult;
beforeAll(() => {
  production = synthPlatform({ stackPrefix: 'Streaming' });
  staging = synthPlatform({ stackPrefix: 'Streaming-Staging', removalPolicy: 'destroy' });
});
afterAll(() => {
  cleanup(production);
  cleanup(staging);
});

const templatesOf = (synth: SynthResult): Template[] =>
  [...new Set([synth.template, synth.edgeTemplate])].map((template) => template.toJSON() as Template);
const resourcesOf = (synth: SynthResult) => templatesOf(synth).flatMap((t) => Object.entries(t.Resources));
const policiesOf = (resource: Resource) => ({ deletion: resource.DeletionPolicy, updateReplace: resource.UpdateReplacePolicy });

/**
 * `…Name` properties whose value is not an identifier in the account: API Gateway API names may repeat, the
 * parameter reader names the edge stack's parameter it reads, and the others name things inside their own resource
 * (stage, inline policy, metric dimension, key attribute).
 */
const NOT_ACCOUNT_NAMES = new Set([
  'Custom::CrossRegionStringParameterReader ParameterName',
  'AWS::ApiGatewayV2::Api Name',
  'AWS::ApiGatewayV2::Stage StageName',
  'AWS::IAM::Policy PolicyName',
  'AWS::IAM::Role Policies[].PolicyName',
  'AWS::CloudWatch::Alarm Dimensions[].Name',
  'AWS::CloudWatch::Alarm Metrics[].MetricStat.Metric.Dimensions[].Name',
  'AWS::CloudWatch::Alarm Metrics[].MetricStat.Metric.MetricName',
  'AWS::CloudWatch::Alarm MetricName',
  'AWS::DynamoDB::GlobalTable AttributeDefinitions[].AttributeName',
  'AWS::DynamoDB::GlobalTable KeySchema[].AttributeName',
  'AWS::DynamoDB::GlobalTable TimeToLiveSpecification.AttributeName',
  // An HTTP header the gateway adds on its way to the report API (ADR 0055), not a name in the account.
  'AWS::CloudFront::Distribution DistributionConfig.Origins[].OriginCustomHeaders[].HeaderName',
]);

interface PhysicalName {
  readonly type: string;
  readonly property: string;
  readonly name: string;
}

/** Every literal string under a `…Name` key of every resource (intrinsics such as Ref and GetAtt are not names we fix). */
function literalNames(synth: SynthResult): PhysicalName[] {
  const found: PhysicalName[] = [];
  const walk = (type: string, path: string, node: unknown): void => {
    if (Array.isArray(node)) node.forEach((item) => walk(type, `${path}[]`, item));
    else if (node !== null && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        const property = path === '' ? key : `${path}.${key}`;
        if (/Name$/.test(key) && typeof value === 'string') found.push({ type, property, name: value });
        else walk(type, property, value);
      }
    }
  };
  for (const [, resource] of resourcesOf(synth)) walk(resource.Type, '', resource.Properties ?? {});
  return found.filter(({ type, property }) => !NOT_ACCOUNT_NAMES.has(`${type} ${property}`));
}

/** What CloudFormation and the services see as names in one account and Region: stacks and fixed resource names. */
function accountNames(synth: SynthResult): string[] {
  const stacks = [...new Set([synth.platform.stack, synth.platform.edgeStack])].map((stack) => `AWS::CloudFormation::Stack ${stack.stackName}`);
  return [...stacks, ...literalNames(synth).map(({ type, name }) => `${type} ${name}`)];
}

describe('stateful resources outlive the stack, except a create that rolls back', () => {
  // CDK 2.276 renders RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE as these two attributes.
  const RETAIN_EXCEPT_ON_CREATE = { deletion: 'RetainExceptOnCreate', updateReplace: 'Retain' };
  const DESTROY = { deletion: 'Delete', updateReplace: 'Delete' };

  const statefulOf = (synth: SynthResult) => {
    const template = synth.template.toJSON() as Template;
    const byStem = (stem: string) => {
      const match = Object.entries(template.Resources).find(([id]) => id.startsWith(stem));
      if (match === undefined) throw new Error(`no resource ${stem}* in ${synth.platform.stack.stackName}`);
      return match[1];
    };
    return {
      buckets: GENERATED_NAME_STEMS.buckets.map(byStem),
      catalogAndRollups: GENERATED_NAME_STEMS.tables.map(byStem),
      routingTable: byStem('RoutingTable'),
      keyringSecret: byStem('KeyringSecret'),
      rateLimits: byStem('TelemetryReportRateLimits'),
      telemetryStream: byStem('TelemetryTelemetryStream'),
    };
  };

  it('retains the buckets, the catalog, rollups and routing tables and the keyring secret with `removalPolicy: retain`', () => {
    const stateful = statefulOf(production);
    for (const resource of [...stateful.buckets, ...stateful.catalogAndRollups, stateful.routingTable, stateful.keyringSecret]) {
      expect(policiesOf(resource), resource.Type).toEqual(RETAIN_EXCEPT_ON_CREATE);
    }
  });

  it('never retains the rate-limit counters or the telemetry stream (transient data, billed while left behind)', () => {
    for (const synth of [production, staging]) {
      const stateful = statefulOf(synth);
      expect(policiesOf(stateful.rateLimits)).toEqual(DESTROY);
      expect(policiesOf(stateful.telemetryStream)).toEqual(DESTROY);
    }
  });

  it('deletes everything with the stack under `removalPolicy: destroy`, emptying the buckets first', () => {
    const stateful = statefulOf(staging);
    for (const resource of [...stateful.buckets, ...stateful.catalogAndRollups, stateful.routingTable, stateful.keyringSecret]) {
      expect(policiesOf(resource), resource.Type).toEqual(DESTROY);
    }
    expect(Object.keys(staging.template.findResources('Custom::S3AutoDeleteObjects'))).toHaveLength(3);
  });

  it('retains nothing that `npm run doctor` would not find again by name', () => {
    const names = platformNames('Streaming');
    const retained = resourcesOf(production).filter(([, r]) => r.DeletionPolicy === 'RetainExceptOnCreate');
    for (const [logicalId, resource] of retained) {
      const fixedName = resource.Properties?.['TableName'] ?? resource.Properties?.['Name'];
      const stems = resource.Type === 'AWS::S3::Bucket' ? GENERATED_NAME_STEMS.buckets : GENERATED_NAME_STEMS.tables;
      const found = fixedName === names.routingTable || fixedName === names.keyringSecret || stems.some((stem) => logicalId.startsWith(stem));
      expect(found, `${logicalId} (${resource.Type})`).toBe(true);
    }
    expect(retained).toHaveLength(3 + 2 + 2);
  });
});

describe('account-wide names', () => {
  it('derives every fixed physical name from the prefix, in core/physical-names.ts', () => {
    const names = platformNames('Streaming');
    const declared = new Set([
      names.routingTable,
      names.keyringSecret,
      names.catalogBus,
      names.dashboard,
      ...Object.values(names.edgeFunctions),
      ...Object.values(names.cloudFront),
    ]);
    // The one name CDK makes: the SSM parameter through which the regional stack finds an edge function's version.
    const isEdgeArnParameter = ({ type, name }: PhysicalName) => type === 'AWS::SSM::Parameter' && name.startsWith('/cdk/EdgeFunctionArn/eu-west-1/Streaming/');
    const fixed = literalNames(production);
    expect(fixed.filter(isEdgeArnParameter)).toHaveLength(2);
    expect(new Set(fixed.filter((name) => !isEdgeArnParameter(name)).map(({ name }) => name))).toEqual(declared);
    for (const name of declared) expect(name, name).toMatch(/^Streaming[-/]/);
    expect([production.platform.stack.stackName, production.platform.edgeStack.stackName]).toEqual([names.regionalStack, names.edgeStack]);
  });

  it('lets two copies with different prefixes live in one account and Region: no name in common', () => {
    const productionNames = accountNames(production);
    const stagingNames = new Set(accountNames(staging));
    // Sanity: both copies fix the same kinds of names, the edge stack and the Lambda@Edge functions included.
    expect(productionNames.length).toBe(stagingNames.size);
    expect(productionNames).toEqual(
      expect.arrayContaining([
        'AWS::CloudFormation::Stack Streaming-Edge',
        'AWS::Lambda::Function Streaming-viewer-auth',
        'AWS::Lambda::Function Streaming-steering',
        'AWS::CloudFront::OriginAccessControl Streaming-delivery-origin',
        'AWS::CloudFront::RealtimeLogConfig Streaming-delivery-logs',
        'AWS::SecretsManager::Secret Streaming/playback-keyring',
        'AWS::DynamoDB::GlobalTable Streaming-routing',
      ]),
    );
    expect(productionNames.filter((name) => stagingNames.has(name))).toEqual([]);
  });
});

describe('Lambda@Edge versions', () => {
  it('keeps every published version when an update replaces it, and deletes the functions themselves with the stack', () => {
    const edge = production.edgeTemplate.toJSON() as Template;
    const versions = Object.values(edge.Resources).filter((r) => r.Type === 'AWS::Lambda::Version');
    expect(versions).toHaveLength(2);
    for (const version of versions) expect(policiesOf(version)).toEqual({ deletion: 'Retain', updateReplace: 'Retain' });
    const functions = Object.values(edge.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions.map((f) => f.Properties?.['FunctionName']).sort()).toEqual(['Streaming-steering', 'Streaming-viewer-auth']);
    for (const fn of functions) expect(policiesOf(fn)).toEqual({ deletion: undefined, updateReplace: undefined });
  });
});
