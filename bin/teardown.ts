#!/usr/bin/env node
import { renderTeardownReport, teardownExitCode } from '../core/teardown-plan';
import { awsTeardownClients, runTeardown } from '../lib/teardown/run-teardown';
import { parseFlags, readPlatformConfig } from './command-line';

// `npm run teardown -- [--stack <prefix>] [--region <region>]`: deletes the regional stack and waits, then the
// edge stack in us-east-1, and lists what was retained on purpose with the commands that delete it (ADR 0014).
// Exit code 0 when both stacks are gone, 3 when only CloudFront's Lambda@Edge replicas are left to wait for
// (run the same command again in a few hours), 1 on any other failure.
const USAGE = 'usage: npm run teardown -- [--stack <prefix>] [--region <region>]   (default: stackPrefix and region of cdk.json)';

async function main(): Promise<number> {
  const parsed = parseFlags({ stack: { type: 'string' }, region: { type: 'string' } }, USAGE);
  if ('exitCode' in parsed) return parsed.exitCode;
  const flags = parsed.values;
  let stackPrefix = flags.stack;
  let region = flags.region;
  if (stackPrefix === undefined || region === undefined) {
    const config = readPlatformConfig();
    stackPrefix ??= config.stackPrefix;
    region ??= config.region;
  }
  console.log(`teardown: the "${stackPrefix}" copy in ${region}, with the current AWS credentials (buckets, tables and the keyring secret are kept)\n`);
  const report = await runTeardown({ stackPrefix, region }, awsTeardownClients(), { onProgress: (line) => console.log(`…     ${line}`) });
  console.log(`\n${renderTeardownReport(report)}`);
  return teardownExitCode(report);
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error));
  process.exitCode = 1;
}
