/**
 * The decisions of `npm run teardown` (ADR 0014), as pure functions: which resources a stack keeps on
 * purpose when it is deleted and the command that deletes each, and what a failed stack deletion means —
 * above all the one every Lambda@Edge teardown meets: CloudFront removes a function's replicas only hours
 * after the last distribution using it is gone, and until then Lambda refuses to delete the function
 * (CloudFront Developer Guide, "Delete Lambda@Edge functions and replicas"). lib/teardown/ does the I/O.
 */

/** DeletionPolicy values under which CloudFormation leaves a resource in place when the stack is deleted. */
const KEPT_ON_STACK_DELETE = new Set(['Retain', 'RetainExceptOnCreate']);

/**
 * Retained resource types that go with something else and need no command: an edge function's published
 * versions are retained so an update never fails deleting one CloudFront still replicates (ADR 0009), and
 * they are deleted with their function.
 */
const GONE_WITH_THEIR_PARENT = new Set(['AWS::Lambda::Version']);

export interface TemplateResource {
  readonly Type: string;
  readonly DeletionPolicy?: string;
  readonly Properties?: Readonly<Record<string, unknown>>;
}

export interface StackResourceSummary {
  readonly logicalId: string;
  readonly physicalId: string;
  readonly type: string;
}

export interface RetainedResource {
  readonly type: string;
  readonly logicalId: string;
  readonly physicalId: string;
  /** What it is, for a person deciding whether to keep it. */
  readonly what: string;
  /** The AWS CLI commands that delete it, in order. */
  readonly commands: readonly string[];
}

function describeRetained(type: string, physicalId: string, region: string, properties: Readonly<Record<string, unknown>>): Pick<RetainedResource, 'what' | 'commands'> {
  switch (type) {
    case 'AWS::S3::Bucket':
      // The buckets are not versioned (lib/constructs/content-storage.ts), so `rb --force` empties and removes them.
      return { what: `bucket ${physicalId}`, commands: [`aws s3 rb s3://${physicalId} --force`] };
    case 'AWS::DynamoDB::GlobalTable':
    case 'AWS::DynamoDB::Table':
      return { what: `table ${physicalId}`, commands: [`aws dynamodb delete-table --region ${region} --table-name ${physicalId}`] };
    case 'AWS::SecretsManager::Secret': {
      // A replicated secret can only be deleted once its replicas are removed.
      const replicas = ((properties.ReplicaRegions as { Region?: unknown }[] | undefined) ?? []).flatMap((r) => (typeof r.Region === 'string' ? [r.Region] : []));
      const id = `--region ${region} --secret-id ${secretName(physicalId)}`;
      return {
        what: `secret ${secretName(physicalId)}${replicas.length > 0 ? ` and its replicas in ${replicas.join(', ')}` : ''}`,
        commands: [
          ...(replicas.length > 0 ? [`aws secretsmanager remove-regions-from-replication ${id} --remove-replica-regions ${replicas.join(' ')}`] : []),
          `aws secretsmanager delete-secret ${id} --force-delete-without-recovery`,
        ],
      };
    }
    default:
      return { what: `${type} ${physicalId}`, commands: [`aws cloudcontrol delete-resource --region ${region} --type-name ${type} --identifier ${physicalId}`] };
  }
}

/** `arn:aws:secretsmanager:…:secret:Streaming/playback-keyring-AbCdEf` → `Streaming/playback-keyring`. */
function secretName(arn: string): string {
  const match = /:secret:(.+)-[A-Za-z0-9]{6}$/.exec(arn);
  return match ? match[1]! : arn;
}

/**
 * What stays when the stack is deleted: resources whose DeletionPolicy keeps them, as the live stack names
 * them. Read before the deletion, because afterwards the stack no longer says what it had.
 */
export function retainedResources(
  template: { readonly Resources?: Readonly<Record<string, TemplateResource>> },
  resources: readonly StackResourceSummary[],
  region: string,
): RetainedResource[] {
  const declared = template.Resources ?? {};
  return resources.flatMap((resource) => {
    const declaration = declared[resource.logicalId];
    if (!declaration || !KEPT_ON_STACK_DELETE.has(declaration.DeletionPolicy ?? 'Delete') || GONE_WITH_THEIR_PARENT.has(resource.type)) return [];
    return [{ type: resource.type, logicalId: resource.logicalId, physicalId: resource.physicalId, ...describeRetained(resource.type, resource.physicalId, region, declaration.Properties ?? {}) }];
  });
}

export interface DeleteFailure {
  readonly logicalId: string;
  readonly type: string;
  readonly physicalId?: string;
  readonly reason: string;
}

/**
 * Lambda refuses to delete a function CloudFront still has replicas of: "Lambda was unable to delete
 * <arn> because it is a replicated function".
 */
export function isReplicaFailure(failure: DeleteFailure): boolean {
  return failure.type === 'AWS::Lambda::Function' && /replicated function/i.test(failure.reason);
}

export type StackOutcome =
  | { readonly kind: 'deleted'; readonly ms: number }
  | { readonly kind: 'absent' }
  /** Only Lambda@Edge replicas stand in the way: run the teardown again in a few hours. */
  | { readonly kind: 'waiting-for-replicas'; readonly functions: readonly string[] }
  | { readonly kind: 'failed'; readonly status: string; readonly failures: readonly DeleteFailure[] };

export function stackOutcomeOfFailure(status: string, failures: readonly DeleteFailure[]): StackOutcome {
  if (failures.length > 0 && failures.every(isReplicaFailure)) {
    return { kind: 'waiting-for-replicas', functions: failures.map((f) => f.physicalId ?? f.logicalId) };
  }
  return { kind: 'failed', status, failures };
}

export interface StackStep {
  readonly stackName: string;
  readonly region: string;
  readonly outcome: StackOutcome;
}

/** The command that finishes an interrupted teardown: it skips what is gone and retries the rest. */
export function finishCommand(stackPrefix: string, region: string): string {
  return `npm run teardown -- --stack ${stackPrefix} --region ${region}`;
}

export interface TeardownReport {
  readonly stackPrefix: string;
  readonly region: string;
  readonly steps: readonly StackStep[];
  /** Undefined when the regional stack was gone before this run: nothing could be read from it. */
  readonly retained?: readonly RetainedResource[];
}

const formatMinutes = (ms: number) => {
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
};

/** 0: everything deleted; 3: only the Lambda@Edge replicas are left to wait for; 1: a deletion failed. */
export function teardownExitCode(report: TeardownReport): number {
  if (report.steps.some((s) => s.outcome.kind === 'failed')) return 1;
  if (report.steps.some((s) => s.outcome.kind === 'waiting-for-replicas')) return 3;
  return 0;
}

export function renderTeardownReport(report: TeardownReport): string {
  const width = Math.max(...report.steps.map((s) => `stack ${s.stackName}`.length));
  const indent = ' '.repeat(width + 8);
  const lines: string[] = [];
  for (const step of report.steps) {
    const label = `stack ${step.stackName}`.padEnd(width);
    const { outcome } = step;
    switch (outcome.kind) {
      case 'deleted':
        lines.push(`DONE  ${label}  deleted in ${step.region} (${formatMinutes(outcome.ms)})`);
        break;
      case 'absent':
        lines.push(`DONE  ${label}  none in ${step.region} (already deleted)`);
        break;
      case 'waiting-for-replicas':
        lines.push(
          `WAIT  ${label}  DELETE_FAILED in ${step.region}: CloudFront still has replicas of ${outcome.functions.join(', ')}`,
          `${indent}CloudFront removes Lambda@Edge replicas a few hours after the last distribution using them is deleted`,
          `${indent}(CloudFront Developer Guide, "Delete Lambda@Edge functions and replicas"); they cannot be removed by hand.`,
          `${indent}finish later (it skips what is gone and retries the rest): ${finishCommand(report.stackPrefix, report.region)}`,
        );
        break;
      case 'failed':
        lines.push(`FAIL  ${label}  ${outcome.status} in ${step.region}`);
        for (const failure of outcome.failures) lines.push(`${indent}${failure.logicalId} (${failure.type}): ${failure.reason}`);
        lines.push(
          `${indent}see: aws cloudformation describe-stack-events --region ${step.region} --stack-name ${step.stackName} --query "StackEvents[?ResourceStatus=='DELETE_FAILED']"`,
          `${indent}fix the cause, then: ${finishCommand(report.stackPrefix, report.region)}`,
        );
        break;
    }
  }
  lines.push('');
  if (report.retained === undefined) {
    lines.push('The regional stack was already gone, so this run cannot list what it retained: `npm run doctor` lists what is left of this prefix.');
  } else if (report.retained.length === 0) {
    lines.push('Nothing was retained (removalPolicy "destroy").');
  } else {
    lines.push(
      'Retained on purpose (removalPolicy "retain", ADR 0009): your data outlives the stacks. Delete each once it is not needed;',
      'the routing table and the keyring secret have fixed names and block a new copy with the same prefix until deleted.',
    );
    for (const resource of report.retained) {
      lines.push(`  ${resource.what}`);
      for (const command of resource.commands) lines.push(`      ${command}`);
    }
  }
  return lines.join('\n');
}
