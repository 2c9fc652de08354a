import { App, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { PlatformConfig } from '../core/platform-config';
import { StreamingPlatformStack } from './stacks/streaming-platform-stack';

/** Lambda@Edge functions must be created in us-east-1 (CloudFront replicates them from there). */
export const EDGE_REGION = 'us-east-1';

export interface Platform {
  readonly stack: StreamingPlatformStack;
  readonly edgeStack: Stack;
}

/**
 * Composes the app from a validated config: the regional platform stack and, when that region is not
 * us-east-1, a companion stack there for the Lambda@Edge functions and their roles. cdk-nag's AWS Solutions
 * checks run on everything; findings fail synth unless acknowledged with a reason (lib/nag.ts).
 */
export function buildPlatform(app: App, config: PlatformConfig): Platform {
  const env = { region: config.region, ...(config.account ? { account: config.account } : {}) };
  const edgeStack =
    config.region === EDGE_REGION
      ? undefined
      : new Stack(app, `${config.stackPrefix}-Edge`, {
          env: { ...env, region: EDGE_REGION },
          description: 'Lambda@Edge functions of the streaming platform (must live in us-east-1)',
        });
  const stack = new StreamingPlatformStack(app, config.stackPrefix, {
    env,
    config,
    edgeStack,
    description: 'Adaptive multi-CDN streaming platform: ingest, delivery, steering, telemetry',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { stack, edgeStack: edgeStack ?? stack };
}
