import { Duration, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { jobStateChangePattern, toCdkEventPattern, uploadCreatedPattern } from '../../core/event-patterns';
import { MEDIA_PREFIX, UPLOAD_PREFIX } from '../../core/identifiers';
import type { LadderChoice } from '../../core/platform-config';
import { acknowledgeNagFinding } from '../nag';
import { PlatformFunction } from './platform-function';
import { jobStatusConfig } from '../../lambdas/job-status/config';
import { MEDIACONVERT_QUEUE_NAME, submitJobConfig } from '../../lambdas/submit-job/config';

export interface IngestPipelineProps {
  readonly uploadBucket: s3.IBucket;
  readonly originBucket: s3.IBucket;
  readonly assetsTable: dynamodb.ITableV2;
  /** Bus that receives `Asset Ready` / `Asset Failed` for downstream systems. */
  readonly catalogBus: events.IEventBus;
  /** Dead-letter queue for events the handlers could not process after their retries. */
  readonly failureQueue: sqs.IQueue;
  readonly ladder: LadderChoice;
  readonly perTitleEncoding: boolean;
  /** Platform config `surroundAudio` (ADR 0017). */
  readonly surroundAudio: boolean;
}

/** Runs of submit-job per upload event: the first and Lambda's two asynchronous retries (its maximum). */
const SUBMIT_JOB_INVOCATION_ATTEMPTS = 3;

/**
 * Upload -> probe -> ladder plan -> MediaConvert CMAF job -> catalog. Two thin handlers driven by
 * EventBridge: `submit-job` on S3 "Object Created" under `uploads/`, `job-status` on this stack's
 * "MediaConvert Job State Change" events.
 */
export class IngestPipeline extends Construct {
  readonly mediaConvertRole: iam.Role;
  readonly submitJob: PlatformFunction;
  readonly jobStatus: PlatformFunction;
  readonly deadLetterQueue: sqs.IQueue;

  constructor(scope: Construct, id: string, props: IngestPipelineProps) {
    super(scope, id);
    const stack = Stack.of(this);

    // The role MediaConvert assumes: it may read masters and write renditions, nothing else.
    this.mediaConvertRole = new iam.Role(this, 'MediaConvertRole', {
      assumedBy: new iam.ServicePrincipal('mediaconvert.amazonaws.com'),
      description: 'Read uploads/ and write media/ for the platform encodes',
    });
    this.mediaConvertRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [props.uploadBucket.arnForObjects(`${UPLOAD_PREFIX}*`)] }),
    );
    this.mediaConvertRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [props.originBucket.arnForObjects(`${MEDIA_PREFIX}*`)] }),
    );
    acknowledgeNagFinding(
      this.mediaConvertRole,
      `AwsSolutions-IAM5[Resource::<${logicalIdOf(props.uploadBucket)}.Arn>/${UPLOAD_PREFIX}*]`,
      'Master keys are chosen by content teams at upload time; the grant is limited to the uploads/ prefix and GetObject.',
    );
    acknowledgeNagFinding(
      this.mediaConvertRole,
      `AwsSolutions-IAM5[Resource::<${logicalIdOf(props.originBucket)}.Arn>/${MEDIA_PREFIX}*]`,
      'Rendition keys are generated per asset and revision at encode time; the grant is limited to the media/ prefix and PutObject.',
    );

    this.deadLetterQueue = props.failureQueue;

    const common = { stackName: stack.stackName, assetsTableName: props.assetsTable.tableName, eventBusName: props.catalogBus.eventBusName };

    this.submitJob = new PlatformFunction(this, 'SubmitJob', {
      handlerDir: 'submit-job',
      serviceName: 'submit-job',
      timeout: Duration.seconds(60),
      deadLetterQueue: this.deadLetterQueue,
      // Function errors are retried by Lambda's asynchronous invocation (the rule's retry policy only
      // covers delivering the event to Lambda); the handler is told how many runs there are, so the
      // last one fails the revision instead of leaving it RECEIVED (ADR 0025).
      retryAttempts: SUBMIT_JOB_INVOCATION_ATTEMPTS - 1,
      environment: submitJobConfig.encode({
        ...common,
        originBucketName: props.originBucket.bucketName,
        mediaConvertRoleArn: this.mediaConvertRole.roleArn,
        ladder: props.ladder,
        perTitle: props.perTitleEncoding,
        surroundAudio: props.surroundAudio,
        invocationAttempts: SUBMIT_JOB_INVOCATION_ATTEMPTS,
      }),
    });
    props.assetsTable.grantReadWriteData(this.submitJob);
    props.catalogBus.grantPutEventsTo(this.submitJob);
    this.mediaConvertRole.grantPassRole(this.submitJob.grantPrincipal);
    // CreateJob is scoped to the account's Default queue; Probe has no resource type, so IAM requires "*".
    // ListJobs finds the job an earlier attempt created past ClientRequestToken's minute (ADR 0024); it is
    // read-only and granted on "*" too, as a list action it is not scoped to one job.
    this.submitJob.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['mediaconvert:CreateJob'],
        resources: [stack.formatArn({ service: 'mediaconvert', resource: 'queues', resourceName: MEDIACONVERT_QUEUE_NAME })],
      }),
    );
    this.submitJob.addToRolePolicy(new iam.PolicyStatement({ actions: ['mediaconvert:Probe', 'mediaconvert:ListJobs'], resources: ['*'] }));
    // HeadObject finds which reading of the event's URL-encoded key exists (ADR 0023). Without
    // s3:ListBucket, S3 answers 403 instead of 404 for a key that does not exist.
    this.submitJob.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [props.uploadBucket.bucketArn] }));
    // Probe reads the master with the caller's credentials (unlike CreateJob, which uses the role above).
    this.submitJob.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [props.uploadBucket.arnForObjects(`${UPLOAD_PREFIX}*`)] }),
    );
    acknowledgeNagFinding(
      this.submitJob.role!,
      `AwsSolutions-IAM5[Resource::<${logicalIdOf(props.uploadBucket)}.Arn>/${UPLOAD_PREFIX}*]`,
      'MediaConvert Probe reads the master with the caller’s credentials; masters are named by content teams, so the grant is the uploads/ prefix with GetObject only.',
    );
    acknowledgeNagFinding(
      this.submitJob.role!,
      'AwsSolutions-IAM5[Resource::*]',
      'mediaconvert:Probe has no resource type in the IAM service authorization reference, so it can only be granted on "*"; mediaconvert:ListJobs (read-only) lists jobs across the account and is granted with it.',
    );

    this.jobStatus = new PlatformFunction(this, 'JobStatus', {
      handlerDir: 'job-status',
      serviceName: 'job-status',
      deadLetterQueue: this.deadLetterQueue,
      environment: jobStatusConfig.encode(common),
    });
    props.assetsTable.grantReadWriteData(this.jobStatus);
    props.catalogBus.grantPutEventsTo(this.jobStatus);

    // Both rules live on the default bus: S3 and MediaConvert publish there.
    new events.Rule(this, 'UploadCreatedRule', {
      description: 'Masters dropped under uploads/ start an encode',
      eventPattern: toCdkEventPattern(uploadCreatedPattern(props.uploadBucket.bucketName)),
      targets: [new targets.LambdaFunction(this.submitJob, { deadLetterQueue: this.deadLetterQueue, retryAttempts: 4 })],
    });
    new events.Rule(this, 'JobStateChangeRule', {
      description: "This stack's MediaConvert job state changes update the catalog",
      eventPattern: toCdkEventPattern(jobStateChangePattern(stack.stackName)),
      targets: [new targets.LambdaFunction(this.jobStatus, { deadLetterQueue: this.deadLetterQueue, retryAttempts: 4 })],
    });
  }
}

function logicalIdOf(bucket: s3.IBucket): string {
  return Stack.of(bucket).getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
}
