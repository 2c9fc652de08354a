#!/usr/bin/env node
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SMOKE_MASTER_SPEC } from '../core/smoke-checks';
import { renderStepLine, renderSummary, runSteps, smokeExitCode } from '../core/smoke-steps';
import { readStackTarget, readTwinOutputs } from '../lib/smoke/read-outputs';
import { signedFetch } from '../lib/smoke/signed-fetch';
import { CLOUD_TIMEOUTS, type SmokeConnection, type SmokeState, smokeSteps, TWIN_TIMEOUTS } from '../lib/smoke/smoke-run';
import { assertFfmpegInstalled, generateTestMaster } from '../local/twin/media-tools';
import { parseFlags, readPlatformConfig } from './command-line';

// `npm run smoke -- --stack <prefix> [--region r] [--takedown]`: proves a live deployment end to end from its
// stack outputs, one PASS/FAIL line per step, exit code 1 at the first FAIL (ADR 0013).
// `npm run smoke -- --twin [--twin-outputs <file>]`: the same steps against a running `npm run dev`.
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const USAGE = 'usage: npm run smoke -- [--stack <prefix>] [--region <region>] [--takedown] | --twin [--twin-outputs <file>] [--takedown]';

async function main(): Promise<number> {
  const parsed = parseFlags(
    {
      stack: { type: 'string' },
      region: { type: 'string' },
      takedown: { type: 'boolean', default: false },
      twin: { type: 'boolean', default: false },
      'twin-outputs': { type: 'string' },
    },
    USAGE,
  );
  if ('exitCode' in parsed) return parsed.exitCode;
  const flags = parsed.values;
  const twin = flags.twin || flags['twin-outputs'] !== undefined;
  if (twin && (flags.stack !== undefined || flags.region !== undefined)) {
    console.error(`--twin reads the twin's outputs file; --stack and --region are for a deployment\n${USAGE}`);
    return 2;
  }
  assertFfmpegInstalled();

  let connect: () => Promise<SmokeConnection>;
  if (twin) {
    const outputsFile = flags['twin-outputs'] ?? join(ROOT, '.twin', 'outputs.json');
    console.log(`smoke: the local twin (${outputsFile})${flags.takedown ? ', with takedown' : ''}\n`);
    connect = async () => {
      const { file, target } = await readTwinOutputs(outputsFile);
      // s3rver needs path-style URLs and no aws-chunked bodies; its stand-ins accept the file's fake keys.
      const { s3ClientConfig } = await import('../local/aws-servers');
      // The twin's distributions are `cf-a.localhost:<port>`, which glibc's resolver does not answer.
      (await import('../local/http-server')).resolveLocalhostNames();
      const s3 = new S3Client({ ...s3ClientConfig(file.endpoints.s3, file.region), credentials: file.credentials });
      const dynamoDb = new DynamoDBClient({ region: file.region, endpoint: file.endpoints.dynamodb, credentials: file.credentials });
      return { target, s3, documents: DynamoDBDocumentClient.from(dynamoDb), playbackApi: signedFetch({ region: file.region, credentials: file.credentials }) };
    };
  } else {
    // Without --stack/--region, the copy cdk.json describes.
    const config = flags.stack && flags.region ? undefined : readPlatformConfig();
    const stackName = flags.stack ?? config!.stackPrefix;
    const region = flags.region ?? config!.region;
    console.log(`smoke: stack ${stackName} in ${region}, with the current AWS credentials${flags.takedown ? ', with takedown' : ''}\n`);
    connect = async () => {
      const s3 = new S3Client({ region });
      const target = await readStackTarget(new CloudFormationClient({ region }), stackName, region);
      return {
        target,
        s3,
        documents: DynamoDBDocumentClient.from(new DynamoDBClient({ region })),
        // The credentials the SDK resolves (AWS_PROFILE, SSO, a role), shared with the clients above.
        playbackApi: signedFetch({ region, credentials: s3.config.credentials }),
      };
    };
  }

  const steps = smokeSteps({
    connect,
    generateMaster: (path) => generateTestMaster(path, SMOKE_MASTER_SPEC),
    takedown: flags.takedown,
    timeouts: twin ? TWIN_TIMEOUTS : CLOUD_TIMEOUTS,
  });
  const state: SmokeState = {};
  const results = await runSteps(steps, state, { now: () => performance.now(), onResult: (result) => console.log(renderStepLine(result)) });
  console.log(`\n${renderSummary(results, steps.length)}`);
  state.connection?.s3.destroy();
  return smokeExitCode(results);
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
