import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../../core/identifiers';
import { acknowledgeNagFinding } from '../nag';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface PlatformFunctionProps {
  /** Folder under `lambdas/` holding `index.ts`, e.g. "submit-job". */
  readonly handlerDir: string;
  /** Powertools service name, also used in log group naming. */
  readonly serviceName: string;
  readonly environment?: Record<string, string>;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default - no dead-letter queue */
  readonly deadLetterQueue?: lambda.FunctionProps['deadLetterQueue'];
  /** @default - unreserved */
  readonly reservedConcurrentExecutions?: number;
  /** @default 2 (the Lambda default for asynchronous invocations) */
  readonly retryAttempts?: number;
}

/**
 * A regional Lambda function the way every handler in this platform runs: Node.js 24 on ARM, bundled
 * with esbuild from `lambdas/<dir>/index.ts`, its own role with only the log-group and X-Ray grants (no
 * AWS managed policy, so every permission it has is one a construct granted on purpose), a log group with
 * retention, active X-Ray tracing and the Powertools environment. The handler wraps itself in the
 * Powertools shell of `lambdas/shared/powertools.ts` (ADR 0008).
 */
export class PlatformFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: PlatformFunctionProps) {
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.serviceName}`,
    });
    super(scope, id, {
      entry: path.join(REPO_ROOT, 'lambdas', props.handlerDir, 'index.ts'),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      role,
      logGroup,
      tracing: lambda.Tracing.ACTIVE,
      deadLetterQueue: props.deadLetterQueue,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      retryAttempts: props.retryAttempts,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      projectRoot: REPO_ROOT,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        sourceMap: true,
        minify: true,
        // ESM bundles need a require shim for the CJS dependencies some packages pull in.
        banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
        // Bundle the AWS SDK too: the code runs with the client versions it was tested with (e.g. MediaConvert
        // Probe is newer than some runtime-provided SDKs), not whatever the runtime ships.
        externalModules: [],
      },
    });
    logGroup.grantWrite(role);
    acknowledgeNagFinding(
      role,
      'AwsSolutions-IAM5[Resource::*]',
      'Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords have no resource types in the IAM service authorization reference, so Lambda grants them on "*".',
    );
  }
}
