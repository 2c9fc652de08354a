import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand, type StackStatus } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { smokeTargetFromOutputs, STACK_OUTPUT_KEYS, StackOutputsError } from '../../core/stack-outputs';
import { readStackTarget, readTwinOutputs } from '../../lib/smoke/read-outputs';

const cloudFormation = mockClient(CloudFormationClient);
const REGION = 'eu-west-1';
const OUTPUTS = {
  [STACK_OUTPUT_KEYS.uploadBucket]: 'streaming-storageuploadbucket27f6648b-abcdefgh1234',
  [STACK_OUTPUT_KEYS.playbackApiUrl]: 'https://abc123.execute-api.eu-west-1.amazonaws.com/',
  [STACK_OUTPUT_KEYS.gatewayDomain]: 'd1gateway.cloudfront.net',
  [STACK_OUTPUT_KEYS.assetsTable]: 'Streaming-StorageAssetsTable7E0C4A24-1Q2W3E4R',
  [STACK_OUTPUT_KEYS.rollupsTable]: 'Streaming-TelemetryQoeRollups1234-5T6Y7U8I',
  [STACK_OUTPUT_KEYS.pathways]: '{"cf-a":"d1a.cloudfront.net","cf-b":"d1b.cloudfront.net"}',
  CdnDomaincfa: 'd1a.cloudfront.net',
};
const stackWith = (outputs: Record<string, string>, status: StackStatus = 'UPDATE_COMPLETE') => ({
  Stacks: [{ StackName: 'Streaming', StackStatus: status, CreationTime: new Date(), Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })) }],
});
const client = () => new CloudFormationClient({ region: REGION });

beforeEach(() => cloudFormation.reset());

describe('smoke reads a deployment from its stack outputs', () => {
  it('finds the bucket, tables, API, gateway and every pathway', async () => {
    cloudFormation.on(DescribeStacksCommand, { StackName: 'Streaming' }).resolves(stackWith(OUTPUTS));
    const target = await readStackTarget(client(), 'Streaming', REGION);
    expect(target).toEqual({
      stackName: 'Streaming',
      region: REGION,
      uploadBucket: OUTPUTS.UploadBucketName,
      assetsTable: OUTPUTS.AssetsTableName,
      rollupsTable: OUTPUTS.QoeRollupsTableName,
      playbackApiUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com',
      gatewayOrigin: 'https://d1gateway.cloudfront.net',
      pathways: [
        { id: 'cf-a', origin: 'https://d1a.cloudfront.net' },
        { id: 'cf-b', origin: 'https://d1b.cloudfront.net' },
      ],
    });
  });

  it('says how to deploy when the stack does not exist', async () => {
    cloudFormation.on(DescribeStacksCommand).rejects(Object.assign(new Error('Stack with id Streaming does not exist'), { name: 'ValidationError' }));
    await expect(readStackTarget(client(), 'Streaming', REGION)).rejects.toThrow(/no stack Streaming in eu-west-1: deploy it first \(`npx cdk deploy --all`\)/);
  });

  it('refuses a stack that is not a finished deployment, pointing at the doctor', async () => {
    cloudFormation.on(DescribeStacksCommand).resolves(stackWith(OUTPUTS, 'ROLLBACK_COMPLETE'));
    await expect(readStackTarget(client(), 'Streaming', REGION)).rejects.toThrow('stack Streaming is ROLLBACK_COMPLETE, not a finished deployment: `npm run doctor` says what to do');
  });

  it('names every output a stack deployed from an older version lacks', async () => {
    const { AssetsTableName: _a, PathwayDomains: _p, ...older } = OUTPUTS;
    cloudFormation.on(DescribeStacksCommand).resolves(stackWith(older));
    await expect(readStackTarget(client(), 'Streaming', REGION)).rejects.toThrow(
      'stack Streaming in eu-west-1 has no output AssetsTableName, PathwayDomains: deployed from an older version? run `npx cdk deploy --all` again',
    );
  });

  it('passes on an error it cannot explain (no credentials, no permission) unchanged', async () => {
    cloudFormation.on(DescribeStacksCommand).rejects(Object.assign(new Error('User is not authorized to perform: cloudformation:DescribeStacks'), { name: 'AccessDenied' }));
    await expect(readStackTarget(client(), 'Streaming', REGION)).rejects.toThrow(/not authorized/);
  });

  it('refuses a pathway map that is not JSON or names a bad pathway id', () => {
    const stack = { stackName: 'Streaming', region: REGION };
    expect(() => smokeTargetFromOutputs(stack, { ...OUTPUTS, PathwayDomains: 'cf-a=d1a' })).toThrow(StackOutputsError);
    expect(() => smokeTargetFromOutputs(stack, { ...OUTPUTS, PathwayDomains: '{"CF A":"d1a.cloudfront.net"}' })).toThrow(/bad entry "CF A"/);
    expect(() => smokeTargetFromOutputs(stack, { ...OUTPUTS, PathwayDomains: '{}' })).toThrow(/lists no pathway/);
  });
});

describe('smoke reads the twin from the file it writes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'smoke-outputs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the outputs over plain http, with the stand-ins’ endpoints and keys', async () => {
    const path = join(dir, 'outputs.json');
    const file = {
      stackName: 'twin',
      region: 'us-east-1',
      scheme: 'http',
      outputs: { ...OUTPUTS, PlaybackApiUrl: 'http://127.0.0.1:4570', GatewayDomain: 'gateway.localhost:4580', PathwayDomains: '{"cf-a":"cf-a.localhost:4581"}' },
      endpoints: { s3: 'http://127.0.0.1:4560', dynamodb: 'http://127.0.0.1:4561' },
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    };
    writeFileSync(path, JSON.stringify(file));
    const { target, file: read } = await readTwinOutputs(path);
    expect(target.gatewayOrigin).toBe('http://gateway.localhost:4580');
    expect(target.pathways).toEqual([{ id: 'cf-a', origin: 'http://cf-a.localhost:4581' }]);
    expect(read.endpoints.s3).toBe('http://127.0.0.1:4560');
  });

  it('says to start the twin when the file is missing', async () => {
    await expect(readTwinOutputs(join(dir, 'absent.json'))).rejects.toThrow(/does not exist: is the twin running\? Start it with `npm run dev`/);
  });

  it('refuses a file that is not a twin outputs file', async () => {
    const path = join(dir, 'other.json');
    writeFileSync(path, JSON.stringify({ stackName: 'twin', outputs: {} }));
    await expect(readTwinOutputs(path)).rejects.toThrow(/is not a twin outputs file/);
  });
});
