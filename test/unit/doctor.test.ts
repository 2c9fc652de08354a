import { CloudFormationClient, DescribeStacksCommand, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { CloudFrontClient, ListDistributionsCommand } from '@aws-sdk/client-cloudfront';
import { DescribeTableCommand, DynamoDBClient, ListTablesCommand, ResourceNotFoundException as TableNotFound } from '@aws-sdk/client-dynamodb';
import { GetAccountSettingsCommand, GetFunctionCommand, LambdaClient, ResourceNotFoundException as FunctionNotFound } from '@aws-sdk/client-lambda';
import { ListQueuesCommand, MediaConvertClient } from '@aws-sdk/client-mediaconvert';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeSecretCommand, ResourceNotFoundException as SecretNotFound, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { type CheckResult, exitCodeOf, renderReport } from '../../core/doctor-checks';
import { parsePlatformConfig, type PlatformConfigInput } from '../../core/platform-config';
import { awsDoctorClients, runDoctor } from '../../lib/doctor/read-account';

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const BASE: PlatformConfigInput = { stackPrefix: 'Streaming', region: REGION, pathways: [{ id: 'cf-a' }, { id: 'cf-b' }, { id: 'cf-c' }] };
const SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:Streaming/playback-keyring-AbCdEf`;

// Every client class is mocked at the prototype, so the doctor's own client factory is what runs; no request
// leaves the process. Region-specific answers read the client's Region.
const sts = mockClient(STSClient);
const ssm = mockClient(SSMClient);
const cloudFront = mockClient(CloudFrontClient);
const lambda = mockClient(LambdaClient);
const mediaConvert = mockClient(MediaConvertClient);
const cloudFormation = mockClient(CloudFormationClient);
const dynamoDb = mockClient(DynamoDBClient);
const secretsManager = mockClient(SecretsManagerClient);
const s3 = mockClient(S3Client);
const ALL = [sts, ssm, cloudFront, lambda, mediaConvert, cloudFormation, dynamoDb, secretsManager, s3];

type ClientWithRegion = () => { config: { region: () => Promise<string> } };
const regionOf = (getClient: unknown) => (getClient as ClientWithRegion)().config.region();
const stackMissing = (name: string) => Object.assign(new Error(`Stack with id ${name} does not exist`), { name: 'ValidationError' });
const accessDenied = (message: string) => Object.assign(new Error(message), { name: 'AccessDeniedException' });
const $metadata = {};

/** A bootstrapped account with CloudFront in use, default quotas, and nothing of "Streaming" yet. */
function healthyNewAccount(): void {
  for (const mock of ALL) mock.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/platform` });
  ssm.on(GetParameterCommand).resolves({ Parameter: { Name: '/cdk-bootstrap/hnb659fds/version', Value: '27' } });
  cloudFront.on(ListDistributionsCommand).resolves({ DistributionList: { Marker: '', MaxItems: 100, IsTruncated: false, Quantity: 2 } });
  lambda.on(GetAccountSettingsCommand).resolves({ AccountLimit: { ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 1000 } });
  lambda.on(GetFunctionCommand).rejects(new FunctionNotFound({ message: 'Function not found', $metadata }));
  mediaConvert.on(ListQueuesCommand).resolves({ Queues: [{ Name: 'Default', Status: 'ACTIVE' }] });
  cloudFormation.on(DescribeStacksCommand).callsFake((input: { StackName: string }) => Promise.reject(stackMissing(input.StackName)));
  dynamoDb.on(DescribeTableCommand).rejects(new TableNotFound({ message: 'Requested resource not found', $metadata }));
  dynamoDb.on(ListTablesCommand).resolves({ TableNames: ['Orders', 'Streaming-Staging-StorageAssetsTable7E0C4A24-1Q2W3E4R'] });
  secretsManager.on(DescribeSecretCommand).rejects(new SecretNotFound({ message: 'Secrets Manager can’t find the specified secret.', $metadata }));
  s3.on(ListBucketsCommand).resolves({ Buckets: [{ Name: 'streaming-staging-storageuploadbucket27f6648b-abcdefgh1234' }] });
}

async function doctor(overrides: Partial<PlatformConfigInput> = {}): Promise<CheckResult[]> {
  const config = parsePlatformConfig({ ...BASE, ...overrides });
  return runDoctor(config, awsDoctorClients(config.region), { bootstrapQualifier: 'hnb659fds' });
}

const byCheck = (results: CheckResult[], check: string): CheckResult => {
  const result = results.find((r) => r.check === check);
  if (result === undefined) throw new Error(`no check "${check}" in ${results.map((r) => r.check).join(', ')}`);
  return result;
};
const fixOf = (result: CheckResult) => (result.fix ?? []).join('\n');

beforeEach(healthyNewAccount);

describe('npm run doctor against a ready account', () => {
  it('passes every check and exits 0', async () => {
    const results = await doctor();
    expect(results.map((r) => `${r.status} ${r.check}`)).toEqual([
      'PASS credentials',
      'PASS bootstrap eu-west-1',
      'PASS bootstrap us-east-1',
      'PASS cloudfront',
      'PASS lambda concurrency eu-west-1',
      'PASS lambda@edge quota',
      'PASS mediaconvert eu-west-1',
      'PASS stack Streaming',
      'PASS stack Streaming-Edge',
      'PASS leftovers',
    ]);
    expect(exitCodeOf(results)).toBe(0);
  });

  it('only reads: every call it makes is a Describe, Get or List', async () => {
    await doctor();
    const commands = ALL.flatMap((mock) => mock.calls().map((call) => (call.args[0] as object).constructor.name));
    expect(commands.length).toBeGreaterThan(15);
    expect(commands.filter((name) => !/^(Describe|Get|List)\w+Command$/.test(name))).toEqual([]);
  });

  it('checks one Region and no edge stack when the platform itself is in us-east-1', async () => {
    const results = await doctor({ region: 'us-east-1' });
    expect(results.map((r) => r.check)).toEqual(expect.arrayContaining(['bootstrap us-east-1', 'stack Streaming']));
    expect(results.map((r) => r.check)).not.toContain('stack Streaming-Edge');
    expect(results.filter((r) => r.check.startsWith('bootstrap'))).toHaveLength(1);
  });
});

describe('one failing check', () => {
  it('names the Region that is not bootstrapped, prints the command that fixes it and exits 1', async () => {
    ssm.on(GetParameterCommand).callsFake(async (_input, getClient) =>
      (await regionOf(getClient)) === 'us-east-1'
        ? Promise.reject(new ParameterNotFound({ message: 'Parameter not found', $metadata }))
        : { Parameter: { Value: '27' } },
    );
    const results = await doctor();
    expect(results.filter((r) => r.status !== 'PASS').map((r) => r.check)).toEqual(['bootstrap us-east-1']);
    expect(exitCodeOf(results)).toBe(1);
    expect(renderReport(results)).toMatchInlineSnapshot(`
      "PASS  credentials                   account 111122223333 as arn:aws:iam::111122223333:user/platform
      PASS  bootstrap eu-west-1           bootstrap stack version 27
      FAIL  bootstrap us-east-1           not bootstrapped (no SSM parameter /cdk-bootstrap/hnb659fds/version)
                                          fix: npx cdk bootstrap aws://111122223333/us-east-1
      PASS  cloudfront                    the account already runs 2 distribution(s); this deploy adds 4
      PASS  lambda concurrency eu-west-1  1000 concurrent executions (1000 unreserved) ≥ 729 the stack can be asked for
      PASS  lambda@edge quota             lowest quota 1000 (us-east-1) ≈ 23,076 concurrent viewers per Region at 0.43 edge invocations/s each
      PASS  mediaconvert eu-west-1        reachable; Default queue ACTIVE
      PASS  stack Streaming               none yet in eu-west-1: the deploy creates it
      PASS  stack Streaming-Edge          none yet in us-east-1: the deploy creates it
      PASS  leftovers                     nothing named for "Streaming" outside its stacks

      1 FAIL, 0 WARN, 9 PASS: fix the FAIL lines before \`npx cdk deploy --all\`."
    `);
  });

  it('fails a bootstrap stack older than the stacks need', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: '5' } });
    const result = byCheck(await doctor(), 'bootstrap eu-west-1');
    expect(result).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('version 5 is older than the 6') });
    expect(fixOf(result)).toContain(`npx cdk bootstrap aws://${ACCOUNT}/eu-west-1`);
  });

  it('stops at the credentials when there are none, with one FAIL line', async () => {
    sts.on(GetCallerIdentityCommand).rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
    const results = await doctor();
    expect(results).toEqual([expect.objectContaining({ check: 'credentials', status: 'FAIL', detail: expect.stringContaining('Could not load credentials') })]);
    expect(fixOf(results[0]!)).toContain('aws sts get-caller-identity');
    expect(exitCodeOf(results)).toBe(1);
  });

  it('fails credentials of another account than cdk.json names', async () => {
    const result = byCheck(await doctor({ account: '999999999999' }), 'credentials');
    expect(result).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('platform.account = "999999999999"') });
  });

  it('fails when CloudFront cannot be read, and warns an account that has never run a distribution', async () => {
    cloudFront.on(ListDistributionsCommand).rejects(accessDenied('User is not authorized to perform: cloudfront:ListDistributions'));
    expect(byCheck(await doctor(), 'cloudfront').status).toBe('FAIL');

    cloudFront.on(ListDistributionsCommand).resolves({ DistributionList: { Marker: '', MaxItems: 100, IsTruncated: false, Quantity: 0 } });
    const results = await doctor();
    const result = byCheck(results, 'cloudfront');
    expect(result).toMatchObject({ status: 'WARN', detail: expect.stringContaining('Your account must be verified') });
    expect(fixOf(result)).toContain('AWS Support');
    expect(exitCodeOf(results)).toBe(0);
  });

  it('warns about a new account’s reduced Lambda concurrency, with the quota request', async () => {
    lambda.on(GetAccountSettingsCommand).resolves({ AccountLimit: { ConcurrentExecutions: 10, UnreservedConcurrentExecutions: 10 } });
    const results = await doctor();
    const regional = byCheck(results, 'lambda concurrency eu-west-1');
    expect(regional).toMatchObject({ status: 'WARN', detail: expect.stringContaining('10 concurrent executions < 729') });
    expect(fixOf(regional)).toBe('aws service-quotas request-service-quota-increase --region eu-west-1 --service-code lambda --quota-code L-B99A9384 --desired-value 1000');
    const edge = byCheck(results, 'lambda@edge quota');
    expect(edge).toMatchObject({ status: 'WARN', detail: expect.stringContaining('us-east-1 10 (≈ 230 viewers)') });
    expect(edge.fix).toHaveLength(7);
    expect(exitCodeOf(results)).toBe(0);
  });

  it('names only the edge Regions whose quota is reduced', async () => {
    lambda.on(GetAccountSettingsCommand).callsFake(async (_input, getClient) => ({
      AccountLimit: (await regionOf(getClient)) === 'sa-east-1' ? { ConcurrentExecutions: 50, UnreservedConcurrentExecutions: 50 } : { ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 1000 },
    }));
    const edge = byCheck(await doctor(), 'lambda@edge quota');
    expect(edge.detail).toContain('sa-east-1 50 (≈ 1,153 viewers)');
    expect(edge.fix).toEqual(['aws service-quotas request-service-quota-increase --region sa-east-1 --service-code lambda --quota-code L-B99A9384 --desired-value 1000']);
  });

  it('fails when MediaConvert does not answer in the platform Region, or its Default queue is paused', async () => {
    mediaConvert.on(ListQueuesCommand).rejects(Object.assign(new Error('getaddrinfo ENOTFOUND mediaconvert.eu-west-1.amazonaws.com'), { name: 'Error' }));
    expect(byCheck(await doctor(), 'mediaconvert eu-west-1')).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('ENOTFOUND') });

    mediaConvert.on(ListQueuesCommand).resolves({ Queues: [{ Name: 'Default', Status: 'PAUSED' }] });
    const result = byCheck(await doctor(), 'mediaconvert eu-west-1');
    expect(result.status).toBe('FAIL');
    expect(fixOf(result)).toBe('aws mediaconvert update-queue --region eu-west-1 --name Default --status ACTIVE');
  });
});

describe('stacks and leftovers of a failed deploy or a teardown', () => {
  it('fails a regional stack left in ROLLBACK_COMPLETE by a failed first deploy', async () => {
    cloudFormation.on(DescribeStacksCommand, { StackName: 'Streaming' }).resolves({ Stacks: [{ StackName: 'Streaming', StackStatus: 'ROLLBACK_COMPLETE', CreationTime: new Date() }] });
    cloudFormation.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: [] });
    const result = byCheck(await doctor(), 'stack Streaming');
    expect(result.status).toBe('FAIL');
    expect(fixOf(result)).toContain('aws cloudformation delete-stack --stack-name Streaming --region eu-west-1');
  });

  it('fails an edge stack whose teardown waits for Lambda@Edge replicas', async () => {
    cloudFormation.on(DescribeStacksCommand, { StackName: 'Streaming-Edge' }).resolves({ Stacks: [{ StackName: 'Streaming-Edge', StackStatus: 'DELETE_FAILED', CreationTime: new Date() }] });
    cloudFormation.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: [] });
    const result = byCheck(await doctor(), 'stack Streaming-Edge');
    expect(result).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('replicas') });
  });

  it('fails on the fixed names a retained or half-deleted copy still holds, with the commands that free them', async () => {
    dynamoDb.on(DescribeTableCommand, { TableName: 'Streaming-routing' }).resolves({ Table: { TableName: 'Streaming-routing' } });
    secretsManager.on(DescribeSecretCommand).resolves({
      ARN: SECRET_ARN,
      Name: 'Streaming/playback-keyring',
      DeletedDate: new Date('2026-12-01T00:00:00Z'),
      ReplicationStatus: [{ Region: 'us-east-1' }, { Region: 'ap-northeast-1' }],
    });
    lambda.on(GetFunctionCommand, { FunctionName: 'Streaming-steering' }).resolves({ Configuration: { FunctionName: 'Streaming-steering' } });
    const results = await doctor();
    const result = byCheck(results, 'leftovers');
    expect(result.status).toBe('FAIL');
    expect(result.detail).toContain('table Streaming-routing, secret Streaming/playback-keyring (scheduled for deletion');
    expect(result.detail).toContain('Lambda@Edge function Streaming-steering');
    expect(result.fix).toEqual([
      'aws dynamodb delete-table --region eu-west-1 --table-name Streaming-routing',
      'aws secretsmanager remove-regions-from-replication --region eu-west-1 --secret-id Streaming/playback-keyring --remove-replica-regions us-east-1 ap-northeast-1',
      'aws secretsmanager delete-secret --region eu-west-1 --secret-id Streaming/playback-keyring --force-delete-without-recovery',
      expect.stringMatching(/^aws lambda delete-function --region us-east-1 --function-name Streaming-steering .*replicated function/),
    ]);
    expect(exitCodeOf(results)).toBe(1);
  });

  it('passes the same names while the live stacks own them (an update), reading every page of their resources', async () => {
    const live = { Stacks: [{ StackName: 'x', StackStatus: 'UPDATE_COMPLETE' as const, CreationTime: new Date() }] };
    cloudFormation.on(DescribeStacksCommand).resolves(live);
    const summary = (PhysicalResourceId: string) => ({ LogicalResourceId: 'R', ResourceType: 'T', PhysicalResourceId, ResourceStatus: 'UPDATE_COMPLETE' as const, LastUpdatedTimestamp: new Date() });
    cloudFormation
      .on(ListStackResourcesCommand, { StackName: 'Streaming' })
      .resolvesOnce({ StackResourceSummaries: [summary('Streaming-routing')], NextToken: 'page-2' })
      .resolves({ StackResourceSummaries: [summary(SECRET_ARN), summary('streaming-storageuploadbucket27f6648b-abcdefgh1234')] });
    cloudFormation.on(ListStackResourcesCommand, { StackName: 'Streaming-Edge' }).resolves({ StackResourceSummaries: [summary('Streaming-steering'), summary('Streaming-viewer-auth')] });
    dynamoDb.on(DescribeTableCommand).resolves({ Table: { TableName: 'Streaming-routing' } });
    secretsManager.on(DescribeSecretCommand).resolves({ ARN: SECRET_ARN, ReplicationStatus: [{ Region: 'us-east-1' }] });
    lambda.on(GetFunctionCommand).resolves({ Configuration: {} });
    s3.on(ListBucketsCommand).resolves({ Buckets: [{ Name: 'streaming-storageuploadbucket27f6648b-abcdefgh1234' }] });
    const results = await doctor();
    expect(byCheck(results, 'stack Streaming').detail).toContain('the deploy updates it');
    expect(byCheck(results, 'leftovers')).toMatchObject({ status: 'PASS' });
  });

  it('warns about data an earlier copy retained on purpose, with the commands to delete it, without failing', async () => {
    dynamoDb.on(ListTablesCommand).resolvesOnce({ TableNames: ['Streaming-StorageAssetsTable7E0C4A24-1A2B3C4D'], LastEvaluatedTableName: 'Streaming-StorageAssetsTable7E0C4A24-1A2B3C4D' }).resolves({
      TableNames: ['Streaming-TelemetryQoeRollups0BA8C4A2-9Z8Y7X6W', 'Streaming-Staging-TelemetryQoeRollups0BA8C4A2-5T6Y7U8I'],
    });
    s3.on(ListBucketsCommand).resolves({
      Buckets: [{ Name: 'streaming-storageoriginbucketb9b7ae29-q1w2e3r4t5y6' }, { Name: 'streaming-staging-storageoriginbucketb9b7ae29-zzzzzzzzzzzz' }],
    });
    const results = await doctor();
    const result = byCheck(results, 'leftovers');
    expect(result.status).toBe('WARN');
    expect(result.detail).toContain('table Streaming-StorageAssetsTable7E0C4A24-1A2B3C4D, table Streaming-TelemetryQoeRollups0BA8C4A2-9Z8Y7X6W, bucket streaming-storageoriginbucketb9b7ae29-q1w2e3r4t5y6');
    expect(result.detail).not.toContain('Staging');
    expect(result.fix).toContain('aws s3 rb s3://streaming-storageoriginbucketb9b7ae29-q1w2e3r4t5y6 --force');
    expect(exitCodeOf(results)).toBe(0);
    expect(s3.commandCalls(ListBucketsCommand)[0]!.args[0].input).toMatchObject({ Prefix: 'streaming-' });
  });

  it('fails, naming what it could not read, when the leftover search is denied', async () => {
    secretsManager.on(DescribeSecretCommand).rejects(accessDenied('not authorized to perform: secretsmanager:DescribeSecret'));
    const result = byCheck(await doctor(), 'leftovers');
    expect(result).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('Streaming/playback-keyring (AccessDeniedException') });
  });
});
