import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { PlatformFunction } from './platform-function';
import { keyringRotationConfig } from '../../lambdas/keyring-rotation/config';

export interface PlaybackKeyringProps {
  /** Physical secret name; edge functions bake it in, so it must be known at synth time. */
  readonly secretName: string;
  /** Regions that receive a read replica (us-east-1 for Lambda@Edge, plus any near regional edge caches). */
  readonly replicaRegions: readonly string[];
  /** Longest lifetime of a playback token: retired keys are kept at least this long. */
  readonly maxTokenLifetime: Duration;
  readonly removalPolicy: RemovalPolicy;
  /** Physical name of the KeyValueStore copy (CloudFront names are account-wide). */
  readonly keyValueStoreName: string;
}

/** Time setSecret allows a KeyValueStore write to reach the edges before the new key can become current (ADR 0034). */
const KEY_VALUE_STORE_PROPAGATION = Duration.seconds(60);

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
  /**
   * The KeyValueStore copy the CloudFront Functions check tokens with: the gateway's steering key function
   * always (ADR 0036), and pathways whose token check is a CloudFront Function (ADRs 0033, 0034).
   */
  readonly keyValueStore: cloudfront.KeyValueStore;

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

    this.keyValueStore = new cloudfront.KeyValueStore(this, 'EdgeKeys', {
      keyValueStoreName: props.keyValueStoreName,
      comment: 'Playback token HMAC keys by kid; written only by the keyring rotation (ADR 0034)',
    });
    const rotation = new PlatformFunction(this, 'Rotation', {
      handlerDir: 'keyring-rotation',
      serviceName: 'keyring-rotation',
      environment: keyringRotationConfig.encode({
        maxTokenLifetimeSeconds: props.maxTokenLifetime.toSeconds(),
        keyringStoreArn: this.keyValueStore.keyValueStoreArn,
        keyringStorePropagationSeconds: KEY_VALUE_STORE_PROPAGATION.toSeconds(),
      }),
      // setSecret waits out the KeyValueStore propagation allowance; the rest takes seconds.
      timeout: KEY_VALUE_STORE_PROPAGATION.plus(Duration.minutes(1)),
    });
    // Wired at L1 on purpose: the L2 `addRotationSchedule` also grants secretsmanager:GetRandomPassword on "*",
    // which this rotation does not use (keys come from node:crypto). These are the four actions it needs.
    rotation.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
        resources: [this.secret.secretArn],
      }),
    );
    // Write and delete keys of this one store; DescribeKeyValueStore supplies the ETag every write must name.
    rotation.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['cloudfront-keyvaluestore:DescribeKeyValueStore', 'cloudfront-keyvaluestore:PutKey', 'cloudfront-keyvaluestore:DeleteKey'],
        resources: [this.keyValueStore.keyValueStoreArn],
      }),
    );
    const invoke = rotation.grantInvoke(new iam.ServicePrincipal('secretsmanager.amazonaws.com'));
    const schedule = new secretsmanager.CfnRotationSchedule(this, 'Schedule', {
      secretId: this.secret.secretArn,
      rotationLambdaArn: rotation.functionArn,
      rotationRules: { scheduleExpression: 'rate(30 days)' },
      // The first rotation at deploy time replaces the placeholder with the first real key.
      rotateImmediatelyOnUpdate: true,
    });
    invoke.applyBefore(schedule);
    schedule.node.addDependency(rotation);
    this.regions = [...new Set([Stack.of(this).region, ...props.replicaRegions])];
  }
}
