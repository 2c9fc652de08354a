import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledgeNagFinding } from '../nag';
import { PlatformFunction } from './platform-function';

export interface PlaybackKeyringProps {
  /** Physical secret name; edge functions bake it in, so it must be known at synth time. */
  readonly secretName: string;
  /** Regions that receive a read replica (us-east-1 for Lambda@Edge, plus any near regional edge caches). */
  readonly replicaRegions: readonly string[];
  /** Longest lifetime of a playback token: retired keys are kept at least this long. */
  readonly maxTokenLifetime: Duration;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The HMAC keyring that signs playback tokens (docs/token.md): one Secrets Manager secret holding
 * `{current, keys, createdAt}`, replicated to the edge regions, rotated by a Lambda that adds a key, makes it
 * current and retires keys older than the longest token lifetime. The first rotation runs at deploy time and
 * writes the first real key, so no key material ever appears in the template.
 */
export class PlaybackKeyring extends Construct {
  readonly secret: secretsmanager.Secret;
  readonly secretName: string;
  /** Every region holding a copy, primary first. */
  readonly regions: readonly string[];

  constructor(scope: Construct, id: string, props: PlaybackKeyringProps) {
    super(scope, id);
    this.secretName = props.secretName;
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      secretName: props.secretName,
      description: 'Playback token signing keyring (HMAC-SHA256); written only by the rotation Lambda',
      // Placeholder until the deploy-time rotation writes the first key; edge and API reject it.
      generateSecretString: { secretStringTemplate: '{"current":null,"keys":{},"createdAt":{}}', generateStringKey: 'placeholder' },
      replicaRegions: props.replicaRegions.map((region) => ({ region })),
      removalPolicy: props.removalPolicy,
    });

    const rotation = new PlatformFunction(this, 'Rotation', {
      handlerDir: 'keyring-rotation',
      serviceName: 'keyring-rotation',
      environment: { MAX_TOKEN_LIFETIME_SECONDS: String(props.maxTokenLifetime.toSeconds()) },
    });
    // Rotation must be able to act on the secret; the generated grant also lets Secrets Manager invoke it.
    this.secret.addRotationSchedule('Schedule', {
      rotationLambda: rotation,
      automaticallyAfter: Duration.days(30),
      rotateImmediatelyOnUpdate: true,
    });
    acknowledgeNagFinding(
      rotation.role!,
      'AwsSolutions-IAM5[Resource::*]',
      'CDK grants rotation Lambdas secretsmanager:GetRandomPassword, an action IAM cannot scope to a resource; the rotation itself uses node:crypto.',
    );
    this.regions = [...new Set([Stack.of(this).region, ...props.replicaRegions])];
  }
}
