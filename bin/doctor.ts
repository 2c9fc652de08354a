#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_BOOTSTRAP_QUALIFIER, exitCodeOf, renderReport } from '../core/doctor-checks';
import { parsePlatformConfig } from '../core/platform-config';
import { awsDoctorClients, runDoctor } from '../lib/doctor/read-account';
import { runTwinDoctor } from '../lib/doctor/read-twin';
import { parseFlags } from './command-line';

// `npm run doctor`: read-only checks of the account the current AWS credentials belong to, against the platform
// configuration in cdk.json, before `npx cdk deploy --all` (ADR 0009). Exit code 1 when any check FAILs.
// `npm run doctor -- --twin [--twin-outputs <file>]`: the checks the local twin stands in for, against a running
// `npm run dev`; the others print SKIP.
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const USAGE = 'usage: npm run doctor [-- --twin [--twin-outputs <file>]]';

async function main(): Promise<number> {
  const parsed = parseFlags({ twin: { type: 'boolean', default: false }, 'twin-outputs': { type: 'string' } }, USAGE);
  if ('exitCode' in parsed) return parsed.exitCode;
  if (parsed.values.twin || parsed.values['twin-outputs'] !== undefined) {
    const outputsFile = parsed.values['twin-outputs'] ?? join(ROOT, '.twin', 'outputs.json');
    console.log(`doctor: the local twin (${outputsFile}), read-only, with the twin's credentials\n`);
    const results = await runTwinDoctor(outputsFile);
    console.log(renderReport(results, { twin: true }));
    return exitCodeOf(results);
  }
  const cdkJson = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  const config = parsePlatformConfig(cdkJson.context?.['platform']);
  const qualifier = cdkJson.context?.['@aws-cdk/core:bootstrapQualifier'];
  const bootstrapQualifier = typeof qualifier === 'string' ? qualifier : DEFAULT_BOOTSTRAP_QUALIFIER;
  console.log(`doctor: "${config.stackPrefix}" in ${config.region} (cdk.json), read-only, with the current AWS credentials\n`);
  const results = await runDoctor(config, awsDoctorClients(config.region), { bootstrapQualifier });
  console.log(renderReport(results));
  return exitCodeOf(results);
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
