#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { parsePlatformConfig } from '../core/platform-config';
import { buildPlatform } from '../lib/platform';

// The only place that reads context: everything below receives a validated, typed PlatformConfig.
const app = new App();
try {
  const config = parsePlatformConfig(app.node.tryGetContext('platform'));
  buildPlatform(app, config);
} catch (error) {
  // A bad configuration is a user error, not a crash: print the problems and fail synth.
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
