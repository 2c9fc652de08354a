import { CloudFormationClient, DescribeStacksCommand, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { CloudFrontClient, ListDistributionsCommand } from '@aws-sdk/client-cloudfront';
import { DescribeTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { GetAccountSettingsCommand, GetFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ListQueuesCommand, MediaConvertClient } from '@aws-sdk/client-mediaconvert';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import {
  type AccountConcurrency,
  bootstrapVersionParameter,
  type CheckResult,
  EDGE_REGION,
  edgeRegions,
  expectedRegionalConcurrency,
  judgeBootstrap,
  judgeCloudFront,
  judgeCredentials,
  judgeEdgeConcurrency,
  judgeLeftovers,
  judgeMediaConvert,
  judgeRegionalConcurrency,
  judgeStack,
  type Reading,
  type SecretState,
  type StackReading,
} from '../../core/doctor-checks';
import { GENERATED_NAME_STEMS, platformNames } from '../../core/physical-names';
import type { PlatformConfig } from '../../core/platform-config';
import { API_THROTTLES } from '../topology';
import { reportApiThrottleFor } from '../../core/return-path-sizing';

/**
 * The reading half of `npm run doctor` (ADR 0009): read-only AWS calls that gather what core/doctor-checks.ts
 * judges. Every call is a Describe/Get/List; nothing here creates, changes or deletes anything.
 */

/** The SDK clients the doctor reads with, one per service and Region (injected, so tests can mock each). */
export interface DoctorClients {
  readonly sts: STSClient;
  readonly cloudFront: CloudFrontClient;
  readonly s3: S3Client;
  ssm(region: string): SSMClient;
  cloudFormation(region: string): CloudFormationClient;
  lambda(region: string): LambdaClient;
  dynamoDb(region: string): DynamoDBClient;
  secretsManager(region: string): SecretsManagerClient;
  mediaConvert(region: string): MediaConvertClient;
}

/** Clients on the default credential chain (AWS_PROFILE, SSO, environment…), built once per Region. */
export function awsDoctorClients(homeRegion: string): DoctorClients {
  const perRegion = <C>(make: (region: string) => C) => {
    const built = new Map<string, C>();
    return (region: string): C => {
      if (!built.has(region)) built.set(region, make(region));
      return built.get(region)!;
    };
  };
  return {
    sts: new STSClient({ region: homeRegion }),
    // CloudFront is global; its API is served from us-east-1.
    cloudFront: new CloudFrontClient({ region: EDGE_REGION }),
    s3: new S3Client({ region: homeRegion }),
    ssm: perRegion((region) => new SSMClient({ region })),
    cloudFormation: perRegion((region) => new CloudFormationClient({ region })),
    lambda: perRegion((region) => new LambdaClient({ region })),
    dynamoDb: perRegion((region) => new DynamoDBClient({ region })),
    secretsManager: perRegion((region) => new SecretsManagerClient({ region })),
    // MediaConvert answers on its regional endpoint; the account-specific endpoint (DescribeEndpoints) is no longer needed.
    mediaConvert: perRegion((region) => new MediaConvertClient({ region })),
  };
}

export interface DoctorOptions {
  /** CDK bootstrap qualifier (`@aws-cdk/core:bootstrapQualifier` in cdk.json, else the default). */
  readonly bootstrapQualifier: string;
}

/** Runs every check against the account the clients' credentials belong to; results in a fixed order. */
export async function runDoctor(config: PlatformConfig, clients: DoctorClients, options: DoctorOptions): Promise<CheckResult[]> {
  const names = platformNames(config.stackPrefix);
  const hasEdgeStack = config.region !== EDGE_REGION;
  const identity = await read(async () => {
    const caller = await clients.sts.send(new GetCallerIdentityCommand({}));
    return { account: caller.Account ?? '', arn: caller.Arn ?? '' };
  });
  // Without credentials every other read fails the same way: one line says so.
  if (!identity.ok) return [judgeCredentials(config, identity)];
  const { account } = identity.value;

  const bootstrapRegions = [...new Set([config.region, EDGE_REGION])];
  const [bootstraps, cloudFront, regionalConcurrency, edgeConcurrency, mediaConvert, regionalStack, edgeStack] = await Promise.all([
    Promise.all(bootstrapRegions.map((region) => readBootstrapVersion(clients.ssm(region), options.bootstrapQualifier))),
    read(async () => ({ distributions: (await clients.cloudFront.send(new ListDistributionsCommand({ MaxItems: 100 }))).DistributionList?.Quantity ?? 0 })),
    readConcurrency(clients.lambda(config.region)),
    Promise.all(edgeRegions(config).map(async (region) => ({ region, reading: await readConcurrency(clients.lambda(region)) }))),
    read(async () => ((await clients.mediaConvert(config.region).send(new ListQueuesCommand({ MaxResults: 20 }))).Queues ?? []).map((q) => ({ name: q.Name ?? '', status: q.Status ?? 'UNKNOWN' }))),
    readStackStatus(clients.cloudFormation(config.region), names.regionalStack),
    hasEdgeStack ? readStackStatus(clients.cloudFormation(EDGE_REGION), names.edgeStack) : undefined,
  ]);

  const liveStacks = [
    { status: regionalStack, client: clients.cloudFormation(config.region), name: names.regionalStack },
    ...(edgeStack ? [{ status: edgeStack, client: clients.cloudFormation(EDGE_REGION), name: names.edgeStack }] : []),
  ].filter((s) => s.status.ok && s.status.value !== undefined);
  const [owned, routingTable, keyringSecret, edgeFunctions, tables, buckets] = await Promise.all([
    read(async () => new Set((await Promise.all(liveStacks.map((s) => listLivePhysicalIds(s.client, s.name)))).flat()) as ReadonlySet<string>),
    read(() => exists(clients.dynamoDb(config.region).send(new DescribeTableCommand({ TableName: names.routingTable })))),
    read(() => readSecret(clients.secretsManager(config.region), names.keyringSecret)),
    read(async () => {
      const lambda = clients.lambda(EDGE_REGION);
      const candidates = Object.values(names.edgeFunctions);
      const found = await Promise.all(candidates.map((name) => exists(lambda.send(new GetFunctionCommand({ FunctionName: name })))));
      return candidates.filter((_, i) => found[i]);
    }),
    read(() => listRetainedTables(clients.dynamoDb(config.region), config.stackPrefix)),
    read(() => listRetainedBuckets(clients.s3, config.stackPrefix)),
  ]);

  return [
    judgeCredentials(config, identity),
    ...bootstrapRegions.map((region, i) => judgeBootstrap(region, account, options.bootstrapQualifier, bootstraps[i]!)),
    judgeCloudFront(config, cloudFront),
    judgeRegionalConcurrency(
      config.region,
      // The report API's throttle follows the configured peak (ADR 0059), as the stack sets it.
      expectedRegionalConcurrency({ ...API_THROTTLES, ingest: reportApiThrottleFor(config.peakConcurrentViewers, config.reportSamplingRate) }),
      regionalConcurrency,
    ),
    judgeEdgeConcurrency(config, edgeConcurrency),
    judgeMediaConvert(config.region, mediaConvert),
    judgeStack(names.regionalStack, config.region, regionalStack, { edge: !hasEdgeStack }),
    ...(edgeStack ? [judgeStack(names.edgeStack, EDGE_REGION, edgeStack, { edge: true })] : []),
    judgeLeftovers(config, { owned, routingTable, keyringSecret, edgeFunctions, tables, buckets }),
  ];
}

async function read<T>(fn: () => Promise<T>): Promise<Reading<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    const { name, message } = error instanceof Error ? error : { name: 'Error', message: String(error) };
    return { ok: false, error: { name, message } };
  }
}

const errorName = (error: unknown): string => (error instanceof Error ? error.name : '');

/** True when the read succeeds, false when the service answers that the resource does not exist. */
async function exists(request: Promise<unknown>): Promise<boolean> {
  try {
    await request;
    return true;
  } catch (error) {
    if (errorName(error) === 'ResourceNotFoundException') return false;
    throw error;
  }
}

function readBootstrapVersion(ssm: SSMClient, qualifier: string): Promise<Reading<number | undefined>> {
  return read(async () => {
    try {
      const { Parameter } = await ssm.send(new GetParameterCommand({ Name: bootstrapVersionParameter(qualifier) }));
      return Number(Parameter?.Value);
    } catch (error) {
      if (errorName(error) === 'ParameterNotFound') return undefined;
      throw error;
    }
  });
}

function readConcurrency(lambda: LambdaClient): Promise<Reading<AccountConcurrency>> {
  return read(async () => {
    const { AccountLimit } = await lambda.send(new GetAccountSettingsCommand({}));
    return { limit: AccountLimit?.ConcurrentExecutions ?? 0, unreserved: AccountLimit?.UnreservedConcurrentExecutions ?? 0 };
  });
}

function readStackStatus(cloudFormation: CloudFormationClient, stackName: string): Promise<StackReading> {
  return read(async () => {
    try {
      const { Stacks } = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
      return Stacks?.[0]?.StackStatus;
    } catch (error) {
      // DescribeStacks answers a missing stack with a ValidationError "Stack with id <name> does not exist".
      if (errorName(error) === 'ValidationError' && /does not exist/.test((error as Error).message)) return undefined;
      throw error;
    }
  });
}

/** Physical ids of the resources a stack still has (not those it deleted or left behind on purpose). */
async function listLivePhysicalIds(cloudFormation: CloudFormationClient, stackName: string): Promise<string[]> {
  const ids: string[] = [];
  let NextToken: string | undefined;
  do {
    const page = await cloudFormation.send(new ListStackResourcesCommand({ StackName: stackName, NextToken }));
    for (const resource of page.StackResourceSummaries ?? []) {
      if (resource.PhysicalResourceId && !['DELETE_COMPLETE', 'DELETE_SKIPPED'].includes(resource.ResourceStatus ?? '')) ids.push(resource.PhysicalResourceId);
    }
    NextToken = page.NextToken;
  } while (NextToken);
  return ids;
}

async function readSecret(secretsManager: SecretsManagerClient, secretId: string): Promise<SecretState | undefined> {
  try {
    const secret = await secretsManager.send(new DescribeSecretCommand({ SecretId: secretId }));
    return {
      arn: secret.ARN ?? secretId,
      scheduledForDeletion: secret.DeletedDate !== undefined,
      replicaRegions: (secret.ReplicationStatus ?? []).flatMap((r) => (r.Region ? [r.Region] : [])),
    };
  } catch (error) {
    if (errorName(error) === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

/** Tables named by CloudFormation `<prefix>-<logical id>-<suffix>` for one of the retained tables. */
async function listRetainedTables(dynamoDb: DynamoDBClient, stackPrefix: string): Promise<string[]> {
  const matches: string[] = [];
  let ExclusiveStartTableName: string | undefined;
  do {
    const page = await dynamoDb.send(new ListTablesCommand({ ExclusiveStartTableName, Limit: 100 }));
    for (const name of page.TableNames ?? []) {
      if (GENERATED_NAME_STEMS.tables.some((stem) => name.startsWith(`${stackPrefix}-${stem}`))) matches.push(name);
    }
    ExclusiveStartTableName = page.LastEvaluatedTableName;
  } while (ExclusiveStartTableName);
  return matches;
}

/**
 * Buckets named by CloudFormation, lower-cased: `<prefix>-<logical id>-<suffix>`. Bucket names stop at 63
 * characters, so with a prefix much longer than the default the stem may be cut short and such a bucket is not found.
 */
async function listRetainedBuckets(s3: S3Client, stackPrefix: string): Promise<string[]> {
  const prefix = `${stackPrefix.toLowerCase()}-`;
  const stems = GENERATED_NAME_STEMS.buckets.map((stem) => `${prefix}${stem.toLowerCase()}`);
  const matches: string[] = [];
  let ContinuationToken: string | undefined;
  do {
    const page = await s3.send(new ListBucketsCommand({ Prefix: prefix, MaxBuckets: 1000, ContinuationToken }));
    for (const bucket of page.Buckets ?? []) {
      if (bucket.Name && stems.some((stem) => bucket.Name!.startsWith(stem))) matches.push(bucket.Name);
    }
    ContinuationToken = page.ContinuationToken;
  } while (ContinuationToken);
  return matches;
}
