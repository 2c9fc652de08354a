import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListQueuesCommand, MediaConvertClient } from '@aws-sdk/client-mediaconvert';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  type CheckResult,
  judgeTwinMediaConvert,
  judgeTwinOutputs,
  judgeTwinResource,
  type Reading,
  twinSkippedChecks,
} from '../../core/doctor-checks';
import { platformNames } from '../../core/physical-names';
import { STACK_OUTPUT_KEYS } from '../../core/stack-outputs';
import { readTwinOutputs } from '../smoke/read-outputs';

/**
 * The reading half of `npm run doctor -- --twin` (ADR 0009): the checks the twin stands in for, run with the real
 * SDK against the endpoints and fixed credentials of its outputs file; the others are SKIP lines. Read-only.
 */
export async function runTwinDoctor(outputsFile: string): Promise<CheckResult[]> {
  const outputs = await read(async () => (await readTwinOutputs(outputsFile)).file);
  if (!outputs.ok) return [judgeTwinOutputs(outputsFile, outputs)];
  const file = outputs.value;
  const { mediaconvert, secretsManager } = file.endpoints;
  if (mediaconvert === undefined || secretsManager === undefined) {
    return [
      judgeTwinOutputs(outputsFile, {
        ok: false,
        error: { name: 'StackOutputsError', message: `${outputsFile} names no MediaConvert or Secrets Manager endpoint: written by a twin older than this checkout` },
      }),
    ];
  }
  // The stand-ins answer at once or not at all: one retry, not the SDK's three with back-off.
  const common = { region: file.region, credentials: file.credentials, maxAttempts: 2 };
  const { s3ClientConfig } = await import('../../local/aws-servers');
  const s3 = new S3Client({ ...s3ClientConfig(file.endpoints.s3, file.region), credentials: file.credentials, maxAttempts: 2 });
  const dynamoDb = new DynamoDBClient({ ...common, endpoint: file.endpoints.dynamodb });
  const mediaConvert = new MediaConvertClient({ ...common, endpoint: mediaconvert });
  const secrets = new SecretsManagerClient({ ...common, endpoint: secretsManager });
  // The outputs name the catalog, rollups and upload bucket; the routing table and the keyring follow the stack name.
  const names = platformNames(file.stackName);
  const tables = [
    { role: 'catalog', name: file.outputs[STACK_OUTPUT_KEYS.assetsTable]! },
    { role: 'rollups', name: file.outputs[STACK_OUTPUT_KEYS.rollupsTable]! },
    { role: 'routing', name: names.routingTable },
  ];
  const bucket = file.outputs[STACK_OUTPUT_KEYS.uploadBucket]!;
  try {
    const [queues, tableReadings, bucketReading, secretReading] = await Promise.all([
      read(async () => ((await mediaConvert.send(new ListQueuesCommand({ MaxResults: 20 }))).Queues ?? []).map((q) => ({ name: q.Name ?? '', status: q.Status ?? 'UNKNOWN' }))),
      Promise.all(tables.map((table) => read(() => exists(dynamoDb.send(new DescribeTableCommand({ TableName: table.name })), ['ResourceNotFoundException'])))),
      // HeadBucket has no body: a missing bucket comes back as a bare 404, `NotFound`.
      read(() => exists(s3.send(new HeadBucketCommand({ Bucket: bucket })), ['NotFound', 'NoSuchBucket'])),
      read(async () => {
        try {
          const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: names.keyringSecret }));
          return SecretString !== undefined && SecretString !== '';
        } catch (error) {
          if (errorName(error) === 'ResourceNotFoundException') return false;
          throw error;
        }
      }),
    ]);
    return [
      judgeTwinOutputs(outputsFile, outputs),
      judgeTwinMediaConvert(mediaconvert, queues),
      ...tables.map((table, i) => judgeTwinResource({ kind: 'table', ...table }, file.endpoints.dynamodb, tableReadings[i]!)),
      judgeTwinResource({ kind: 'bucket', role: 'uploads', name: bucket }, file.endpoints.s3, bucketReading),
      judgeTwinResource({ kind: 'secret', role: 'keyring', name: names.keyringSecret }, secretsManager, secretReading),
      ...twinSkippedChecks(),
    ];
  } finally {
    for (const client of [s3, dynamoDb, mediaConvert, secrets]) client.destroy();
  }
}

const errorName = (error: unknown): string => (error instanceof Error ? error.name : '');

/** The outcome of a read, with Node's error code: a refused connection (`ECONNREFUSED`) means the twin is not running. */
async function read<T>(fn: () => Promise<T>): Promise<Reading<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    // Connecting to a closed port can throw an AggregateError with an empty message (one error per address tried).
    const failure = error instanceof Error ? (error as Error & { code?: string; errors?: { code?: string }[] }) : undefined;
    const code = failure?.code ?? failure?.errors?.find((e) => e.code)?.code;
    const message = failure?.message || code || String(error);
    return { ok: false, error: { name: failure?.name ?? 'Error', message, ...(code ? { code } : {}) } };
  }
}

/** True when the read succeeds, false when the stand-in answers with one of `missing`. */
async function exists(request: Promise<unknown>, missing: readonly string[]): Promise<boolean> {
  try {
    await request;
    return true;
  } catch (error) {
    if (missing.includes(errorName(error))) return false;
    throw error;
  }
}

