import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parsePlatformConfig, type PlatformConfigInput } from '../../core/platform-config';
import { buildPlatform, type Platform } from '../../lib/platform';

export const BASE_CONFIG: PlatformConfigInput = {
  stackPrefix: 'Streaming',
  region: 'eu-west-1',
  pathways: [{ id: 'cf-a' }, { id: 'cf-b' }, { id: 'cf-c' }],
};

export interface SynthResult {
  readonly app: App;
  readonly platform: Platform;
  readonly template: Template;
  readonly edgeTemplate: Template;
  readonly outdir: string;
}

/**
 * Synthesises the whole app the way `bin/` does, into a temporary outdir, with Lambda bundling skipped
 * (edge bundles are built: they are tiny and their hashes are part of what the tests check).
 */
export function synthPlatform(overrides: Partial<PlatformConfigInput> = {}): SynthResult {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-test-'));
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
  const platform = buildPlatform(app, parsePlatformConfig({ ...BASE_CONFIG, ...overrides }));
  app.synth();
  const template = Template.fromStack(platform.stack);
  const edgeTemplate = platform.edgeStack === platform.stack ? template : Template.fromStack(platform.edgeStack);
  return { app, platform, template, edgeTemplate, outdir };
}

export function cleanup(result: SynthResult | undefined): void {
  if (result) fs.rmSync(result.outdir, { recursive: true, force: true });
}
