import { App, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { platformNames } from '../core/physical-names';
import type { PlatformConfig } from '../core/platform-config';
import { acknowledgeNagFinding } from './nag';
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
  const names = platformNames(config.stackPrefix);
  const edgeStack =
    config.region === EDGE_REGION
      ? undefined
      : new Stack(app, names.edgeStack, {
          env: { ...env, region: EDGE_REGION },
          description: 'Lambda@Edge functions of the streaming platform (must live in us-east-1)',
        });
  const stack = new StreamingPlatformStack(app, names.regionalStack, {
    env,
    config,
    edgeStack,
    description: 'Adaptive multi-CDN streaming platform: ingest, delivery, steering, telemetry',
  });
  acknowledgePlatformWideFindings(stack, edgeStack ?? stack);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { stack, edgeStack: edgeStack ?? stack };
}

/** Findings that apply to the platform as a whole rather than to one construct; each with the reason. */
function acknowledgePlatformWideFindings(stack: Stack, edgeStack: Stack): void {
  acknowledgeNagFinding(
    stack,
    'AwsSolutions-CFR4',
    'Distributions use the default *.cloudfront.net certificate, whose minimum protocol CloudFront fixes; a custom domain with an ACM certificate (TLSv1.2_2021) is the way to raise it.',
  );
  acknowledgeNagFinding(
    stack,
    'AwsSolutions-CFR1',
    'A streaming platform serves every country by default; rights-based geo blocking is per title and belongs in the token/playback API, not a distribution-wide list.',
  );
  acknowledgeNagFinding(
    stack,
    'AwsSolutions-CFR2',
    'Every media and steering request needs a valid HMAC path token checked at the edge; per-request WAF pricing at segment volume is left to platform teams to opt into.',
  );
  acknowledgeNagFinding(
    stack,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'Only the CDK-provided singleton custom-resource handlers (S3 EventBridge notifications, routing registry writer) use this policy; every platform function has its own scoped role.',
  );
  acknowledgeNagFinding(
    edgeStack,
    'AwsSolutions-L1',
    'Lambda@Edge supports Node.js 22 at the latest (CloudFront Developer Guide, Restrictions on Lambda@Edge); regional functions use Node.js 24.',
  );
}
