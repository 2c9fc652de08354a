import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeNagFinding } from '../nag';
import { TABLES } from '../topology';
import { tableKeyProps } from './topology-cdk';

export interface ContentStorageProps {
  /** What happens to the buckets and the catalog when the stack is deleted. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The stateful heart of ingest and delivery: the upload bucket content teams drop masters into, the
 * private origin bucket the CDNs read through Origin Access Control, and the Assets catalog.
 * Physical names are left to CloudFormation; logical ids are pinned by `test/infra`.
 */
export class ContentStorage extends Construct {
  readonly uploadBucket: s3.Bucket;
  readonly originBucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;
  readonly assetsTable: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: ContentStorageProps) {
    super(scope, id);
    const destroy = props.removalPolicy === RemovalPolicy.DESTROY;

    // Server access logs need SSE-S3 on the target bucket (the log delivery service cannot use KMS keys).
    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogsBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: destroy,
    });
    acknowledgeNagFinding(
      this.accessLogsBucket,
      'AwsSolutions-S1',
      'This is the server access log bucket of the other buckets; logging it into itself would loop.',
    );

    this.uploadBucket = new s3.Bucket(this, 'UploadBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      // S3 -> EventBridge "Object Created" drives ingest (docs/catalog.md "What starts an encode"); multipart completions included.
      eventBridgeEnabled: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'upload-bucket/',
      lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(3) }],
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: destroy,
    });

    this.originBucket = new s3.Bucket(this, 'OriginBucket', {
      // SSE-S3 keeps Origin Access Control simple: SSE-KMS would need the key policy to trust every distribution.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'origin-bucket/',
      lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: destroy,
    });

    this.assetsTable = new dynamodb.TableV2(this, 'AssetsTable', {
      ...tableKeyProps(TABLES.assets),
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: props.removalPolicy,
    });
  }
}
