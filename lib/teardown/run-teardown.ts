import {
  CloudFormationClient,
  DeleteStackCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  GetTemplateCommand,
  ListStackResourcesCommand,
} from '@aws-sdk/client-cloudformation';
import { EDGE_REGION } from '../../core/doctor-checks';
import { platformNames } from '../../core/physical-names';
import {
  type DeleteFailure,
  type RetainedResource,
  retainedResources,
  type StackOutcome,
  stackOutcomeOfFailure,
  type StackResourceSummary,
  type StackStep,
  type TeardownReport,
  type TemplateResource,
} from '../../core/teardown-plan';

/**
 * The I/O half of `npm run teardown` (ADR 0014): reads what the regional stack retains, deletes it and
 * waits, then the edge stack in us-east-1, through CloudFormation only. The decisions are
 * core/teardown-plan.ts's. It deletes stacks, never the resources they retain: those hold data, and
 * deciding about them is a person's call (the report prints the commands).
 */

export interface TeardownClients {
  cloudFormation(region: string): CloudFormationClient;
}

/** One CloudFormation client per Region on the default credential chain. */
export function awsTeardownClients(): TeardownClients {
  const built = new Map<string, CloudFormationClient>();
  return {
    cloudFormation(region) {
      if (!built.has(region)) built.set(region, new CloudFormationClient({ region }));
      return built.get(region)!;
    },
  };
}

export interface TeardownOptions {
  /** Between two reads of a stack being deleted. @default 15000 */
  readonly pollMs?: number;
  /**
   * Give up waiting after this long (the stack goes on deleting). Deleting the regional stack means
   * CloudFront disabling and then deleting every distribution, which takes a while per distribution.
   * @default 90 minutes
   */
  readonly maxWaitMs?: number;
  /** Progress lines while waiting. */
  readonly onProgress?: (line: string) => void;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

const DONE = new Set(['DELETE_COMPLETE']);

export async function runTeardown(stack: { readonly stackPrefix: string; readonly region: string }, clients: TeardownClients, options: TeardownOptions = {}): Promise<TeardownReport> {
  const names = platformNames(stack.stackPrefix);
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const pollMs = options.pollMs ?? 15_000;
  const maxWaitMs = options.maxWaitMs ?? 90 * 60_000;
  const progress = options.onProgress ?? (() => undefined);

  async function describe(client: CloudFormationClient, stackName: string): Promise<{ id: string; status: string } | undefined> {
    try {
      const found = (await client.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0];
      if (!found?.StackId || found.StackStatus === 'DELETE_COMPLETE') return undefined;
      return { id: found.StackId, status: found.StackStatus ?? 'UNKNOWN' };
    } catch (error) {
      // DescribeStacks answers a missing stack with a ValidationError "Stack with id <name> does not exist".
      if (error instanceof Error && error.name === 'ValidationError' && /does not exist/.test(error.message)) return undefined;
      throw error;
    }
  }

  async function readRetained(client: CloudFormationClient, stackId: string, region: string): Promise<RetainedResource[]> {
    const { TemplateBody } = await client.send(new GetTemplateCommand({ StackName: stackId }));
    const template = JSON.parse(TemplateBody ?? '{}') as { Resources?: Record<string, TemplateResource> };
    const resources: StackResourceSummary[] = [];
    let NextToken: string | undefined;
    do {
      const page = await client.send(new ListStackResourcesCommand({ StackName: stackId, NextToken }));
      for (const r of page.StackResourceSummaries ?? []) {
        if (r.LogicalResourceId && r.PhysicalResourceId && r.ResourceType && r.ResourceStatus !== 'DELETE_COMPLETE') {
          resources.push({ logicalId: r.LogicalResourceId, physicalId: r.PhysicalResourceId, type: r.ResourceType });
        }
      }
      NextToken = page.NextToken;
    } while (NextToken);
    return retainedResources(template, resources, region);
  }

  /** Resources whose deletion failed since `since`, newest event per resource. */
  async function deleteFailures(client: CloudFormationClient, stackId: string, since: Date): Promise<DeleteFailure[]> {
    const failures = new Map<string, DeleteFailure>();
    let NextToken: string | undefined;
    do {
      const page = await client.send(new DescribeStackEventsCommand({ StackName: stackId, NextToken }));
      const events = page.StackEvents ?? [];
      for (const event of events) {
        if (event.ResourceStatus !== 'DELETE_FAILED' || event.ResourceType === 'AWS::CloudFormation::Stack' || !event.LogicalResourceId) continue;
        if (event.Timestamp && event.Timestamp < since) continue;
        if (!failures.has(event.LogicalResourceId)) {
          failures.set(event.LogicalResourceId, {
            logicalId: event.LogicalResourceId,
            type: event.ResourceType ?? 'unknown',
            ...(event.PhysicalResourceId ? { physicalId: event.PhysicalResourceId } : {}),
            reason: event.ResourceStatusReason ?? 'no reason given',
          });
        }
      }
      // Events come newest first: once a page reaches back before this deletion, older pages cannot matter.
      const oldest = events[events.length - 1]?.Timestamp;
      NextToken = oldest && oldest < since ? undefined : page.NextToken;
    } while (NextToken);
    return [...failures.values()];
  }

  async function deleteStack(stackName: string, region: string, found: { id: string; status: string }, why: string): Promise<StackOutcome> {
    const client = clients.cloudFormation(region);
    const started = now();
    // CloudFormation stamps events with its own clock; a minute of slack keeps a skewed local clock from hiding them.
    const since = new Date(started - 60_000);
    progress(`deleting stack ${stackName} in ${region}${found.status === 'DELETE_FAILED' ? ' (again, after DELETE_FAILED)' : ''}: ${why}`);
    // By id: once deleted, the name no longer resolves, the id does (DELETE_COMPLETE).
    await client.send(new DeleteStackCommand({ StackName: found.id }));
    for (;;) {
      await sleep(pollMs);
      const status = (await client.send(new DescribeStacksCommand({ StackName: found.id }))).Stacks?.[0]?.StackStatus ?? 'UNKNOWN';
      if (DONE.has(status)) return { kind: 'deleted', ms: now() - started };
      if (status === 'DELETE_FAILED') return stackOutcomeOfFailure(status, await deleteFailures(client, found.id, since));
      if (now() - started > maxWaitMs) {
        return { kind: 'failed', status: `${status} after ${Math.round(maxWaitMs / 60_000)} min (CloudFormation goes on; this run stopped waiting)`, failures: [] };
      }
    }
  }

  const steps: StackStep[] = [];
  const regionalClient = clients.cloudFormation(stack.region);
  const regional = await describe(regionalClient, names.regionalStack);
  let retained: RetainedResource[] | undefined;
  if (regional === undefined) {
    steps.push({ stackName: names.regionalStack, region: stack.region, outcome: { kind: 'absent' } });
  } else {
    // Read before deleting: afterwards the stack no longer says what it kept.
    retained = await readRetained(regionalClient, regional.id, stack.region);
    const outcome = await deleteStack(names.regionalStack, stack.region, regional, 'CloudFront disables, then deletes every distribution (typically 15–30 minutes)');
    steps.push({ stackName: names.regionalStack, region: stack.region, outcome });
    if (outcome.kind !== 'deleted') return { ...stack, steps, retained };
  }

  if (stack.region !== EDGE_REGION) {
    const edgeClient = clients.cloudFormation(EDGE_REGION);
    const edge = await describe(edgeClient, names.edgeStack);
    if (edge === undefined) {
      steps.push({ stackName: names.edgeStack, region: EDGE_REGION, outcome: { kind: 'absent' } });
    } else {
      const outcome = await deleteStack(names.edgeStack, EDGE_REGION, edge, 'the Lambda@Edge functions, once CloudFront has removed their replicas');
      steps.push({ stackName: names.edgeStack, region: EDGE_REGION, outcome });
    }
  }
  return { ...stack, steps, ...(retained !== undefined ? { retained } : {}) };
}
