import {
  CloudFormationClient,
  DeleteStackCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  GetTemplateCommand,
  ListStackResourcesCommand,
  type StackEvent,
  type StackStatus,
} from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { isReplicaFailure, renderTeardownReport, retainedResources, stackOutcomeOfFailure, teardownExitCode } from '../../core/teardown-plan';
import { awsTeardownClients, runTeardown } from '../../lib/teardown/run-teardown';

const REGION = 'eu-west-1';
const ACCOUNT = '111122223333';
const SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:Streaming/playback-keyring-AbCdEf`;
const cloudFormation = mockClient(CloudFormationClient);

/** The regional template as CDK synthesises it, reduced to what teardown reads: types and deletion policies. */
const REGIONAL_TEMPLATE = {
  Resources: {
    StorageUploadBucket27F6648B: { Type: 'AWS::S3::Bucket', DeletionPolicy: 'RetainExceptOnCreate' },
    StorageAssetsTable7E0C4A24: { Type: 'AWS::DynamoDB::GlobalTable', DeletionPolicy: 'RetainExceptOnCreate' },
    RoutingTable1A2B3C4D: { Type: 'AWS::DynamoDB::GlobalTable', DeletionPolicy: 'RetainExceptOnCreate' },
    TelemetryRateLimits5E6F7A8B: { Type: 'AWS::DynamoDB::GlobalTable', DeletionPolicy: 'Delete' },
    KeyringSecret9C0D1E2F: {
      Type: 'AWS::SecretsManager::Secret',
      DeletionPolicy: 'RetainExceptOnCreate',
      Properties: { Name: 'Streaming/playback-keyring', ReplicaRegions: [{ Region: 'us-east-1' }, { Region: 'us-west-2' }] },
    },
    TelemetryStream3A4B5C6D: { Type: 'AWS::Kinesis::Stream' },
  },
};
const REGIONAL_RESOURCES = [
  ['StorageUploadBucket27F6648B', 'streaming-storageuploadbucket27f6648b-abcdefgh1234', 'AWS::S3::Bucket'],
  ['StorageAssetsTable7E0C4A24', 'Streaming-StorageAssetsTable7E0C4A24-1Q2W3E4R', 'AWS::DynamoDB::GlobalTable'],
  ['RoutingTable1A2B3C4D', 'Streaming-routing', 'AWS::DynamoDB::GlobalTable'],
  ['TelemetryRateLimits5E6F7A8B', 'Streaming-TelemetryRateLimits-9O8I7U', 'AWS::DynamoDB::GlobalTable'],
  ['KeyringSecret9C0D1E2F', SECRET_ARN, 'AWS::SecretsManager::Secret'],
  ['TelemetryStream3A4B5C6D', 'Streaming-TelemetryStream3A4B5C6D-QwErTy', 'AWS::Kinesis::Stream'],
].map(([LogicalResourceId, PhysicalResourceId, ResourceType]) => ({ LogicalResourceId, PhysicalResourceId, ResourceType, ResourceStatus: 'CREATE_COMPLETE' as const, LastUpdatedTimestamp: new Date() }));
const EDGE_TEMPLATE = {
  Resources: {
    ViewerAuthFunction: { Type: 'AWS::Lambda::Function' },
    ViewerAuthVersion1: { Type: 'AWS::Lambda::Version', DeletionPolicy: 'Retain' },
  },
};
const EDGE_RESOURCES = [
  { LogicalResourceId: 'ViewerAuthFunction', PhysicalResourceId: 'Streaming-viewer-auth', ResourceType: 'AWS::Lambda::Function', ResourceStatus: 'CREATE_COMPLETE' as const, LastUpdatedTimestamp: new Date() },
  { LogicalResourceId: 'ViewerAuthVersion1', PhysicalResourceId: 'arn:aws:lambda:us-east-1:111122223333:function:Streaming-viewer-auth:1', ResourceType: 'AWS::Lambda::Version', ResourceStatus: 'CREATE_COMPLETE' as const, LastUpdatedTimestamp: new Date() },
];

/** How CloudFormation ends a deletion in these tests. */
type DeleteEnding = 'complete' | 'replicas' | 'bucket-policy';

interface FakeStack {
  readonly name: string;
  readonly id: string;
  status: StackStatus;
  readonly ending: DeleteEnding;
  readonly template: object;
  readonly resources: typeof REGIONAL_RESOURCES;
  events: StackEvent[];
  deleteRequests: number;
}

/**
 * A small CloudFormation: stacks by name and id, a deletion that is in progress on the first read after
 * DeleteStack and ends on the second, and the DELETE_FAILED events the ending calls for.
 */
function fakeCloudFormation(stacks: FakeStack[]): void {
  const find = (nameOrId: string) => stacks.find((s) => s.name === nameOrId || s.id === nameOrId);
  const missing = (name: string) => Object.assign(new Error(`Stack with id ${name} does not exist`), { name: 'ValidationError' });
  cloudFormation.on(DescribeStacksCommand).callsFake(async ({ StackName }: { StackName: string }) => {
    const stack = find(StackName);
    // After deletion the name no longer resolves; the id does.
    if (!stack || (stack.status === 'DELETE_COMPLETE' && StackName === stack.name)) throw missing(StackName);
    if (stack.status === 'DELETE_IN_PROGRESS') {
      stack.status = stack.ending === 'complete' ? 'DELETE_COMPLETE' : 'DELETE_FAILED';
      if (stack.status === 'DELETE_FAILED') stack.events = failureEvents(stack);
      return { Stacks: [{ StackName: stack.name, StackId: stack.id, StackStatus: 'DELETE_IN_PROGRESS', CreationTime: new Date() }] };
    }
    return { Stacks: [{ StackName: stack.name, StackId: stack.id, StackStatus: stack.status, CreationTime: new Date() }] };
  });
  cloudFormation.on(DeleteStackCommand).callsFake(async ({ StackName }: { StackName: string }) => {
    const stack = find(StackName)!;
    stack.deleteRequests += 1;
    stack.status = 'DELETE_IN_PROGRESS';
    return {};
  });
  cloudFormation.on(GetTemplateCommand).callsFake(async ({ StackName }: { StackName: string }) => ({ TemplateBody: JSON.stringify(find(StackName)!.template) }));
  cloudFormation.on(ListStackResourcesCommand).callsFake(async ({ StackName }: { StackName: string }) => ({ StackResourceSummaries: find(StackName)!.resources }));
  cloudFormation.on(DescribeStackEventsCommand).callsFake(async ({ StackName }: { StackName: string }) => ({ StackEvents: find(StackName)!.events }));
}

function failureEvents(stack: FakeStack): StackEvent[] {
  const at = new Date();
  const event = (LogicalResourceId: string, ResourceType: string, PhysicalResourceId: string, ResourceStatusReason: string): StackEvent => ({
    StackId: stack.id, StackName: stack.name, EventId: `${LogicalResourceId}-failed`, Timestamp: at,
    LogicalResourceId, ResourceType, PhysicalResourceId, ResourceStatus: 'DELETE_FAILED', ResourceStatusReason,
  });
  const stackEvent = event(stack.name, 'AWS::CloudFormation::Stack', stack.id, 'The following resource(s) failed to delete: [ViewerAuthFunction].');
  if (stack.ending === 'replicas') {
    return [
      stackEvent,
      event('ViewerAuthFunction', 'AWS::Lambda::Function', 'Streaming-viewer-auth',
        'Resource handler returned message: "Lambda was unable to delete arn:aws:lambda:us-east-1:111122223333:function:Streaming-viewer-auth:1 because it is a replicated function. Please see our documentation for Deleting Lambda@Edge Functions and Replicas."'),
      event('SteeringFunction', 'AWS::Lambda::Function', 'Streaming-steering', 'Lambda was unable to delete arn:aws:lambda:us-east-1:111122223333:function:Streaming-steering:3 because it is a replicated function.'),
    ];
  }
  return [stackEvent, event('StorageUploadBucketPolicy', 'AWS::S3::BucketPolicy', 'streaming-storageuploadbucket27f6648b-abcdefgh1234', 'Access Denied')];
}

const stackOf = (name: string, region: string, ending: DeleteEnding, template: object, resources: typeof REGIONAL_RESOURCES, status: StackStatus = 'UPDATE_COMPLETE'): FakeStack => ({
  name, id: `arn:aws:cloudformation:${region}:${ACCOUNT}:stack/${name}/0f1e2d3c`, status, ending, template, resources, events: [], deleteRequests: 0,
});

const teardown = (region = REGION) => runTeardown({ stackPrefix: 'Streaming', region }, awsTeardownClients(), { sleep: async () => undefined, pollMs: 1 });

beforeEach(() => cloudFormation.reset());

describe('npm run teardown', () => {
  it('deletes the regional stack, then the edge stack, and lists what was retained with the command that deletes each', async () => {
    // Prepare
    const regional = stackOf('Streaming', REGION, 'complete', REGIONAL_TEMPLATE, REGIONAL_RESOURCES);
    const edge = stackOf('Streaming-Edge', 'us-east-1', 'complete', EDGE_TEMPLATE, EDGE_RESOURCES);
    fakeCloudFormation([regional, edge]);
    // Act
    const report = await teardown();
    // Assess
    expect(report.steps.map((s) => `${s.stackName} ${s.region} ${s.outcome.kind}`)).toEqual(['Streaming eu-west-1 deleted', 'Streaming-Edge us-east-1 deleted']);
    expect([regional.deleteRequests, edge.deleteRequests]).toEqual([1, 1]);
    expect(teardownExitCode(report)).toBe(0);
    expect(report.retained!.map((r) => r.what)).toEqual([
      'bucket streaming-storageuploadbucket27f6648b-abcdefgh1234',
      'table Streaming-StorageAssetsTable7E0C4A24-1Q2W3E4R',
      'table Streaming-routing',
      'secret Streaming/playback-keyring and its replicas in us-east-1, us-west-2',
    ]);
    const printed = renderTeardownReport(report);
    expect(printed).toContain('aws s3 rb s3://streaming-storageuploadbucket27f6648b-abcdefgh1234 --force');
    expect(printed).toContain('aws dynamodb delete-table --region eu-west-1 --table-name Streaming-routing');
    expect(printed).toContain(`aws secretsmanager remove-regions-from-replication --region eu-west-1 --secret-id Streaming/playback-keyring --remove-replica-regions us-east-1 us-west-2`);
    expect(printed).toContain(`aws secretsmanager delete-secret --region eu-west-1 --secret-id Streaming/playback-keyring --force-delete-without-recovery`);
    expect(printed).not.toMatch(/RateLimits|TelemetryStream/);
  });

  it('explains the Lambda@Edge replicas when the edge stack cannot be deleted yet, and prints the command that finishes later', async () => {
    // Prepare
    fakeCloudFormation([
      stackOf('Streaming', REGION, 'complete', REGIONAL_TEMPLATE, REGIONAL_RESOURCES),
      stackOf('Streaming-Edge', 'us-east-1', 'replicas', EDGE_TEMPLATE, EDGE_RESOURCES),
    ]);
    // Act
    const report = await teardown();
    // Assess
    expect(report.steps[1]!.outcome).toEqual({ kind: 'waiting-for-replicas', functions: ['Streaming-viewer-auth', 'Streaming-steering'] });
    expect(teardownExitCode(report)).toBe(3);
    const printed = renderTeardownReport(report);
    expect(printed).toContain('WAIT  stack Streaming-Edge  DELETE_FAILED in us-east-1: CloudFront still has replicas of Streaming-viewer-auth, Streaming-steering');
    expect(printed).toContain('CloudFront removes Lambda@Edge replicas a few hours after the last distribution using them is deleted');
    expect(printed).toContain('finish later (it skips what is gone and retries the rest): npm run teardown -- --stack Streaming --region eu-west-1');
    expect(printed).toContain('table Streaming-routing');
  });

  it('finishes on a later run: the regional stack is gone, the DELETE_FAILED edge stack is deleted again', async () => {
    // Prepare
    const edge = stackOf('Streaming-Edge', 'us-east-1', 'complete', EDGE_TEMPLATE, EDGE_RESOURCES, 'DELETE_FAILED');
    fakeCloudFormation([edge]);
    // Act
    const report = await teardown();
    // Assess
    expect(report.steps.map((s) => `${s.stackName} ${s.outcome.kind}`)).toEqual(['Streaming absent', 'Streaming-Edge deleted']);
    expect(edge.deleteRequests).toBe(1);
    expect(teardownExitCode(report)).toBe(0);
    expect(renderTeardownReport(report)).toContain('`npm run doctor` lists what is left of this prefix');
  });

  it('stops before the edge stack when the regional stack fails to delete for another reason, and exits 1', async () => {
    // Prepare
    const edge = stackOf('Streaming-Edge', 'us-east-1', 'complete', EDGE_TEMPLATE, EDGE_RESOURCES);
    fakeCloudFormation([stackOf('Streaming', REGION, 'bucket-policy', REGIONAL_TEMPLATE, REGIONAL_RESOURCES), edge]);
    // Act
    const report = await teardown();
    // Assess
    expect(report.steps).toHaveLength(1);
    expect(edge.deleteRequests).toBe(0);
    expect(teardownExitCode(report)).toBe(1);
    const printed = renderTeardownReport(report);
    expect(printed).toContain('FAIL  stack Streaming  DELETE_FAILED in eu-west-1');
    expect(printed).toContain('StorageUploadBucketPolicy (AWS::S3::BucketPolicy): Access Denied');
  });

  it('with the platform in us-east-1 waits for the replicas on the one stack', async () => {
    fakeCloudFormation([stackOf('Streaming', 'us-east-1', 'replicas', REGIONAL_TEMPLATE, REGIONAL_RESOURCES)]);
    const report = await teardown('us-east-1');
    expect(report.steps.map((s) => `${s.stackName} ${s.outcome.kind}`)).toEqual(['Streaming waiting-for-replicas']);
    expect(renderTeardownReport(report)).toContain('npm run teardown -- --stack Streaming --region us-east-1');
  });

  it('reports nothing retained when the copy was deployed with removalPolicy "destroy"', async () => {
    const destroyed = { Resources: Object.fromEntries(Object.entries(REGIONAL_TEMPLATE.Resources).map(([id, r]) => [id, { ...r, DeletionPolicy: 'Delete' }])) };
    fakeCloudFormation([stackOf('Streaming', REGION, 'complete', destroyed, REGIONAL_RESOURCES), stackOf('Streaming-Edge', 'us-east-1', 'complete', EDGE_TEMPLATE, EDGE_RESOURCES)]);
    const report = await teardown();
    expect(report.retained).toEqual([]);
    expect(renderTeardownReport(report)).toContain('Nothing was retained');
  });
});

describe('what a failed deletion means', () => {
  const replica = { logicalId: 'ViewerAuthFunction', type: 'AWS::Lambda::Function', physicalId: 'Streaming-viewer-auth', reason: 'Lambda was unable to delete arn:…:1 because it is a replicated function.' };
  it('waits only when every failure is a Lambda@Edge replica', () => {
    expect(stackOutcomeOfFailure('DELETE_FAILED', [replica])).toEqual({ kind: 'waiting-for-replicas', functions: ['Streaming-viewer-auth'] });
  });
  it('is a failure when anything else failed too, or nothing says why', () => {
    const other = { logicalId: 'Bucket', type: 'AWS::S3::Bucket', reason: 'The bucket you tried to delete is not empty' };
    expect(stackOutcomeOfFailure('DELETE_FAILED', [replica, other]).kind).toBe('failed');
    expect(stackOutcomeOfFailure('DELETE_FAILED', []).kind).toBe('failed');
    expect(isReplicaFailure({ ...replica, type: 'AWS::Lambda::Version' })).toBe(false);
  });
});

describe('which resources a stack keeps', () => {
  it('keeps Retain and RetainExceptOnCreate resources, but not edge versions, which go with their function', () => {
    const retained = retainedResources(
      { Resources: { A: { Type: 'AWS::Logs::LogGroup', DeletionPolicy: 'Retain' }, V: { Type: 'AWS::Lambda::Version', DeletionPolicy: 'Retain' }, D: { Type: 'AWS::S3::Bucket' } } },
      [{ logicalId: 'A', physicalId: '/aws/x', type: 'AWS::Logs::LogGroup' }, { logicalId: 'V', physicalId: 'arn:v:1', type: 'AWS::Lambda::Version' }, { logicalId: 'D', physicalId: 'b', type: 'AWS::S3::Bucket' }],
      REGION,
    );
    expect(retained.map((r) => r.commands)).toEqual([['aws cloudcontrol delete-resource --region eu-west-1 --type-name AWS::Logs::LogGroup --identifier /aws/x']]);
  });
});
