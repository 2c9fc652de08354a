import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { bundleEdgeFunction } from '../bundling/edge-bundle';
import type { EdgeFunctionDefinition } from '../../edge-functions/shared/baked-config';
import { acknowledgeNagFinding } from '../nag';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface EdgeHandlerProps<C> {
  /** The function: its folder under `edge-functions/` and its configuration's validator. */
  readonly edgeFunction: EdgeFunctionDefinition<C>;
  /** Physical function name; Lambda@Edge log groups are named after it in every region. */
  readonly functionName: string;
  /** Configuration baked into the bundle (Lambda@Edge has no environment variables); validated at synth. */
  readonly config: C;
  /** Stack (in us-east-1) that holds the function and its role. */
  readonly edgeStack: Stack;
  /** @default 128 */
  readonly memorySize?: number;
  /**
   * Lambda@Edge limits: viewer triggers 5 s, origin triggers 30 s (CloudFront Developer Guide, Quotas).
   * Without it Lambda's 3 s default would cut a cold-start keyring read short.
   */
  readonly timeout: Duration;
}

/**
 * A Lambda@Edge function built the way the platform needs: bundled with esbuild with its configuration
 * baked in (a distinct asset hash per function *and* config), its own role with no managed policy, trusted by
 * both `lambda` and `edgelambda`, created in us-east-1 (`cloudfront.experimental.EdgeFunction`).
 */
export class EdgeHandler<C = unknown> extends Construct {
  readonly function: cloudfront.experimental.EdgeFunction;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: EdgeHandlerProps<C>) {
    super(scope, id);
    const { handlerDir } = props.edgeFunction;
    // The bundle runs the same validation at init; running it here fails synth instead of every request.
    props.edgeFunction.validateConfig(props.config);
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), `edge-${handlerDir}-`));
    const bundle = bundleEdgeFunction({
      entry: path.join(REPO_ROOT, 'edge-functions', handlerDir, 'index.ts'),
      outDir,
      config: props.config,
      minify: true,
    });

    // The role lives beside the function in us-east-1; a role in another region could not be referenced.
    this.role = new iam.Role(props.edgeStack, `${id}EdgeRole`, {
      assumedBy: new iam.CompositePrincipal(
        new iam.ServicePrincipal('lambda.amazonaws.com'),
        new iam.ServicePrincipal('edgelambda.amazonaws.com'),
      ),
      description: `Lambda@Edge ${props.functionName}`,
    });
    // Lambda@Edge writes logs in whichever region served the viewer, to /aws/lambda/us-east-1.<name>.
    const logGroups = props.edgeStack.formatArn({
      service: 'logs',
      region: '*',
      resource: 'log-group',
      resourceName: `/aws/lambda/us-east-1.${props.functionName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroups] }),
    );
    acknowledgeNagFinding(
      this.role,
      `AwsSolutions-IAM5[Resource::${logGroupFinding(props.functionName)}]`,
      'Lambda@Edge replicas log in the region that served the viewer, which is unknown in advance; the grant is limited to this function’s own log groups.',
    );

    this.function = new cloudfront.experimental.EdgeFunction(this, `${id}Function`, {
      functionName: props.functionName,
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(path.dirname(bundle.outFile), { assetHash: bundle.hash }),
      memorySize: props.memorySize ?? 128,
      timeout: props.timeout,
      role: this.role,
      // A version a distribution used cannot be deleted until CloudFront has removed its replicas, hours later, so
      // deleting the previous version on every code change fails the update's cleanup. Retained versions are
      // removed with the function at teardown. Plain RETAIN, not retain-except-on-create: a rolled-back update
      // must not try to delete a version the distributions may already have been replicating (ADR 0009).
      currentVersionOptions: { removalPolicy: RemovalPolicy.RETAIN },
      stackId: props.edgeStack.stackName === Stack.of(this).stackName ? undefined : props.edgeStack.node.id,
    });
  }
}

function logGroupFinding(functionName: string): string {
  return `arn:<AWS::Partition>:logs:*:<AWS::AccountId>:log-group:/aws/lambda/us-east-1.${functionName}:*`;
}
