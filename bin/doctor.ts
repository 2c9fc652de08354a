#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { DEFAULT_BOOTSTRAP_QUALIFIER, exitCodeOf, renderReport } from '../core/doctor-checks';
import { parsePlatformConfig } from '../core/platform-config';
import { awsDoctorClients, runDoctor } from '../lib/doctor/read-account';

// `npm run doctor`: read-only checks of the account the current AWS credentials belong to, against the platform
// configuration in cdk.json, before `npx cdk deploy --all` (ADR 0009). Exit code 1 when any check FAILs.
const cdkJson = JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as { context?: Record<string, unknown> };
try {
  const config = parsePlatformConfig(cdkJson.context?.['platform']);
  const qualifier = cdkJson.context?.['@aws-cdk/core:bootstrapQualifier'];
  const bootstrapQualifier = typeof qualifier === 'string' ? qualifier : DEFAULT_BOOTSTRAP_QUALIFIER;
  console.log(`doctor: "${config.stackPrefix}" in ${config.region} (cdk.json), read-only, with the current AWS credentials\n`);
  const results = await runDoctor(config, awsDoctorClients(config.region), { bootstrapQualifier });
  console.log(renderReport(results));
  process.exitCode = exitCodeOf(results);
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
