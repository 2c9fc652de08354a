import { LADDERS } from './ladder';
import { platformNames, type PlatformNames } from './physical-names';
import type { PlatformConfig } from './platform-config';

/**
 * The verdicts of `npm run doctor` (ADR 0009): what an account must look like before `cdk deploy --all`, as pure
 * functions from what was read to one PASS/WARN/FAIL line with a fix. `lib/doctor/read-account.ts` does the
 * reading; this module decides. A read that failed takes the severity of the worst verdict its check can give:
 * a check that can block a deploy fails when it cannot look, a capacity note only warns.
 */

/** SKIP: the check needs a service the target does not have (the local twin runs no STS, SSM, CloudFormation…). */
export type CheckStatus = 'PASS' | 'WARN' | 'FAIL' | 'SKIP';

export interface CheckResult {
  /** Short name of the check, e.g. `bootstrap us-east-1`. */
  readonly check: string;
  readonly status: CheckStatus;
  /** One line: what was found. */
  readonly detail: string;
  /** What to do about a WARN or FAIL: commands or steps, one per entry. */
  readonly fix?: readonly string[];
}

/** What the SDK error was, kept as data so the verdicts stay pure. */
export interface ReadError {
  readonly name: string;
  readonly message: string;
  /** Node's system error code (`ECONNREFUSED`…) when the request never reached a server. */
  readonly code?: string;
}

/** The outcome of one read: a value, or the error the AWS SDK threw. */
export type Reading<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ReadError };

const describeError = (error: ReadError): string => `${error.name}: ${error.message}`;
const pass = (check: string, detail: string): CheckResult => ({ check, status: 'PASS', detail });
const warn = (check: string, detail: string, fix: readonly string[]): CheckResult => ({ check, status: 'WARN', detail, fix });
const fail = (check: string, detail: string, fix: readonly string[]): CheckResult => ({ check, status: 'FAIL', detail, fix });

/** CloudFront and Lambda@Edge are managed from us-east-1; the edge stack and the functions live there. */
export const EDGE_REGION = 'us-east-1';

// --- credentials ---

export interface CallerIdentity {
  readonly account: string;
  readonly arn: string;
}

export function judgeCredentials(config: PlatformConfig, reading: Reading<CallerIdentity>): CheckResult {
  const check = 'credentials';
  if (!reading.ok) {
    return fail(check, `no usable AWS credentials (${describeError(reading.error)})`, [
      'sign in to the target account (e.g. `aws sso login --profile <name>` and `export AWS_PROFILE=<name>`), then `aws sts get-caller-identity`',
    ]);
  }
  const { account, arn } = reading.value;
  if (config.account !== undefined && config.account !== account) {
    return fail(check, `the credentials are for account ${account}, but cdk.json sets platform.account = "${config.account}"`, [
      `use credentials of account ${config.account}, or change platform.account in cdk.json`,
    ]);
  }
  return pass(check, `account ${account} as ${arn}`);
}

// --- bootstrap ---

/** The oldest bootstrap stack the synthesised stacks accept (`requiresBootstrapStackVersion` in cdk.out/manifest.json). */
export const REQUIRED_BOOTSTRAP_VERSION = 6;
/** CDK's default bootstrap qualifier; cdk.json may set another under `@aws-cdk/core:bootstrapQualifier`. */
export const DEFAULT_BOOTSTRAP_QUALIFIER = 'hnb659fds';

export const bootstrapVersionParameter = (qualifier: string): string => `/cdk-bootstrap/${qualifier}/version`;

/** `version` is undefined when the parameter does not exist: that Region was never bootstrapped. */
export function judgeBootstrap(region: string, account: string, qualifier: string, reading: Reading<number | undefined>): CheckResult {
  const check = `bootstrap ${region}`;
  const bootstrap = `npx cdk bootstrap aws://${account}/${region}`;
  const parameter = bootstrapVersionParameter(qualifier);
  if (!reading.ok) {
    return fail(check, `could not read ${parameter} (${describeError(reading.error)})`, [
      `allow ssm:GetParameter on ${parameter} in ${region}, or run \`${bootstrap}\``,
    ]);
  }
  const version = reading.value;
  if (version === undefined) return fail(check, `not bootstrapped (no SSM parameter ${parameter})`, [bootstrap]);
  if (version < REQUIRED_BOOTSTRAP_VERSION) {
    return fail(check, `bootstrap stack version ${version} is older than the ${REQUIRED_BOOTSTRAP_VERSION} these stacks need`, [`${bootstrap} (upgrades it in place)`]);
  }
  return pass(check, `bootstrap stack version ${version}`);
}

// --- CloudFront ---

export function judgeCloudFront(config: PlatformConfig, reading: Reading<{ readonly distributions: number }>): CheckResult {
  const check = 'cloudfront';
  const adding = config.pathways.length + 1;
  if (!reading.ok) {
    return fail(check, `could not list distributions (${describeError(reading.error)})`, [
      'the deploying credentials need CloudFront access (cloudfront:ListDistributions to check, cloudfront:Create* to deploy)',
    ]);
  }
  const { distributions } = reading.value;
  if (distributions === 0) {
    // No read-only call tells whether AWS has verified the account for CloudFront; an account that already
    // runs distributions evidently is. A new one may see CREATE_FAILED on its first distribution.
    return warn(check, `no distribution in this account yet; this deploy adds ${adding}. New accounts may be refused ("Your account must be verified before you can add new CloudFront resources")`, [
      'if the deploy fails with that message: open a case with AWS Support to verify the account for CloudFront, then delete the rolled-back stack and deploy again (nothing else is left behind, ADR 0009)',
    ]);
  }
  return pass(check, `the account already runs ${distributions} distribution(s); this deploy adds ${adding}`);
}

// --- Lambda concurrency ---

/** Lambda serves at most 10 requests per second per execution environment (Lambda Developer Guide, "Lambda scaling behavior"). */
export const REQUESTS_PER_SECOND_PER_ENVIRONMENT = 10;
/** The default "Concurrent executions" quota per Region; new accounts start lower (Lambda Developer Guide, "Lambda quotas"). */
export const DEFAULT_CONCURRENCY_QUOTA = 1000;
/** Service Quotas code of Lambda "Concurrent executions". */
export const CONCURRENCY_QUOTA_CODE = 'L-B99A9384';
/**
 * Regional concurrency the platform holds without any viewer: qoe-aggregator runs one invocation per shard of the
 * on-demand telemetry stream (which starts at 4 shards' write capacity) and rollup-merger one per shard of the
 * on-demand partials stream (4 more, ADR 0057), routing-weights can overlap itself once (70 s runs on a one-minute
 * schedule), and submit-job, job-status, takedown-worker and keyring-rotation one each (the takedown API is
 * counted with the playback API it serves).
 */
export const BACKGROUND_CONCURRENCY = 4 + 4 + 2 + 4;

export interface ApiThrottle {
  /** Steady requests per second the API stage lets through. */
  readonly rateLimit: number;
  readonly burstLimit: number;
}

/**
 * Concurrent executions the regional stack can be asked for: each HTTP API at its stage throttle, served at
 * ≤ 10 requests per second per execution environment, plus the background work.
 */
export function expectedRegionalConcurrency(throttles: { readonly playback: ApiThrottle; readonly ingest: ApiThrottle }): number {
  const environments = (throttle: ApiThrottle) => Math.ceil(throttle.rateLimit / REQUESTS_PER_SECOND_PER_ENVIRONMENT);
  return environments(throttles.playback) + environments(throttles.ingest) + BACKGROUND_CONCURRENCY;
}

const quotaIncrease = (region: string, desired: number) =>
  `aws service-quotas request-service-quota-increase --region ${region} --service-code lambda --quota-code ${CONCURRENCY_QUOTA_CODE} --desired-value ${desired}`;

export interface AccountConcurrency {
  /** `AccountLimit.ConcurrentExecutions` of GetAccountSettings. */
  readonly limit: number;
  readonly unreserved: number;
}

export function judgeRegionalConcurrency(region: string, expected: number, reading: Reading<AccountConcurrency>): CheckResult {
  const check = `lambda concurrency ${region}`;
  if (!reading.ok) {
    return warn(check, `could not read the account's Lambda settings (${describeError(reading.error)})`, [`allow lambda:GetAccountSettings in ${region}`]);
  }
  const { limit, unreserved } = reading.value;
  if (limit < expected) {
    return warn(check, `${limit} concurrent executions < ${expected} the stack can be asked for (both APIs at their throttles, ≤ ${REQUESTS_PER_SECOND_PER_ENVIRONMENT} req/s per execution environment, plus ${BACKGROUND_CONCURRENCY} for the stream and schedules); sessions and player reports would be throttled under load`, [
      quotaIncrease(region, Math.max(expected, DEFAULT_CONCURRENCY_QUOTA)),
    ]);
  }
  return pass(check, `${limit} concurrent executions (${unreserved} unreserved) ≥ ${expected} the stack can be asked for`);
}

// --- Lambda@Edge ---

/** Regions where the edge functions are expected to run: us-east-1 and the keyring replicas near the regional edge caches. */
export function edgeRegions(config: PlatformConfig): string[] {
  return [...new Set([EDGE_REGION, ...config.keyringReplicaRegions])];
}

/**
 * Lambda@Edge invocations per second one viewer causes: `viewer-auth` on every delivery request (a video and an
 * audio segment per segment duration, cache hit or not) and `steering` on every reload of the steering manifest.
 */
export function edgeRequestsPerViewerSecond(config: PlatformConfig): number {
  return 2 / LADDERS[config.ladder].segmentSeconds + 1 / config.steeringTtlSeconds;
}

/**
 * Concurrent viewers one Region's Lambda concurrency quota carries: Lambda@Edge runs on the Lambda quota of the
 * Region of the regional edge cache that serves the viewer, at ≤ 10 requests per second per execution environment.
 */
export function viewersPerEdgeRegion(config: PlatformConfig, concurrencyLimit: number): number {
  return Math.floor((concurrencyLimit * REQUESTS_PER_SECOND_PER_ENVIRONMENT) / edgeRequestsPerViewerSecond(config));
}

export interface RegionReading<T> {
  readonly region: string;
  readonly reading: Reading<T>;
}

export function judgeEdgeConcurrency(config: PlatformConfig, readings: readonly RegionReading<AccountConcurrency>[]): CheckResult {
  const check = 'lambda@edge quota';
  const unreadable = readings.filter((r) => !r.reading.ok);
  if (unreadable.length > 0) {
    const first = unreadable[0]!.reading as { ok: false; error: ReadError };
    return warn(check, `could not read Lambda settings in ${unreadable.map((r) => r.region).join(', ')} (${describeError(first.error)})`, [
      'allow lambda:GetAccountSettings in those Regions',
    ]);
  }
  const limits = readings.map((r) => ({ region: r.region, limit: (r.reading as { ok: true; value: AccountConcurrency }).value.limit }));
  const perViewer = edgeRequestsPerViewerSecond(config).toFixed(2);
  const low = limits.filter((l) => l.limit < DEFAULT_CONCURRENCY_QUOTA);
  if (low.length > 0) {
    const described = low.map((l) => `${l.region} ${l.limit} (≈ ${viewersPerEdgeRegion(config, l.limit).toLocaleString('en-US')} viewers)`).join(', ');
    return warn(check, `reduced concurrency quota where the edge runs: ${described}; each viewer causes ${perViewer} edge invocations/s`, low.map((l) => quotaIncrease(l.region, DEFAULT_CONCURRENCY_QUOTA)));
  }
  const lowest = limits.reduce((a, b) => (b.limit < a.limit ? b : a), limits[0]!);
  return pass(
    check,
    `lowest quota ${lowest.limit} (${lowest.region}) ≈ ${viewersPerEdgeRegion(config, lowest.limit).toLocaleString('en-US')} concurrent viewers per Region at ${perViewer} edge invocations/s each`,
  );
}

// --- MediaConvert ---

export interface MediaConvertQueue {
  readonly name: string;
  readonly status: string;
}

/** submit-job sends every job to the account's `Default` queue (lib/constructs/ingest-pipeline.ts grants only that one). */
export function judgeMediaConvert(region: string, reading: Reading<readonly MediaConvertQueue[]>): CheckResult {
  const check = `mediaconvert ${region}`;
  if (!reading.ok) {
    return fail(check, `MediaConvert not reachable (${describeError(reading.error)})`, [
      `use a Region where AWS Elemental MediaConvert is offered, and allow mediaconvert:ListQueues in ${region}`,
    ]);
  }
  const defaultQueue = reading.value.find((q) => q.name === 'Default');
  if (defaultQueue !== undefined && defaultQueue.status !== 'ACTIVE') {
    return fail(check, `the Default queue is ${defaultQueue.status}: every encode would wait in it`, [
      `aws mediaconvert update-queue --region ${region} --name Default --status ACTIVE`,
    ]);
  }
  return pass(check, defaultQueue ? 'reachable; Default queue ACTIVE' : 'reachable (the Default queue appears with the first job)');
}

// --- stacks ---

/** The status of a stack that exists; undefined when there is none. */
export type StackReading = Reading<string | undefined>;

/** Stack statuses from which `cdk deploy` simply updates the stack. */
const DEPLOYABLE = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE', 'IMPORT_COMPLETE', 'IMPORT_ROLLBACK_COMPLETE']);

export function isDeployableStackStatus(status: string): boolean {
  return DEPLOYABLE.has(status);
}

/** `edge`: the stack holds the Lambda@Edge functions (the edge stack, or the one stack of a us-east-1 platform). */
export function judgeStack(stackName: string, region: string, reading: StackReading, options: { readonly edge: boolean }): CheckResult {
  const check = `stack ${stackName}`;
  const where = `--stack-name ${stackName} --region ${region}`;
  if (!reading.ok) {
    return fail(check, `could not read the stack (${describeError(reading.error)})`, [`allow cloudformation:DescribeStacks in ${region}`]);
  }
  const status = reading.value;
  if (status === undefined) return pass(check, `none yet in ${region}: the deploy creates it`);
  if (isDeployableStackStatus(status)) return pass(check, `${status} in ${region}: the deploy updates it`);
  if (status.endsWith('_IN_PROGRESS')) {
    return fail(check, `${status}: another operation is running`, [`wait for it: aws cloudformation describe-stacks ${where} --query 'Stacks[0].StackStatus'`]);
  }
  if (status === 'ROLLBACK_COMPLETE' || status === 'ROLLBACK_FAILED' || status === 'CREATE_FAILED') {
    return fail(check, `${status}: its first deploy failed, and CloudFormation cannot update such a stack`, [
      `find the first CREATE_FAILED event: aws cloudformation describe-stack-events ${where} --query "StackEvents[?ResourceStatus=='CREATE_FAILED']"`,
      `fix its cause, then: aws cloudformation delete-stack ${where} (a rolled-back create leaves no stateful resource behind, ADR 0009)`,
    ]);
  }
  if (status === 'DELETE_FAILED') {
    return fail(
      check,
      options.edge
        ? 'DELETE_FAILED: a teardown is waiting for CloudFront to remove the Lambda@Edge replicas'
        : 'DELETE_FAILED: a teardown did not finish',
      options.edge
        ? [`CloudFront deletes replicas within a few hours of the last distribution using them; then run \`npx cdk destroy ${stackName}\` again (README "Teardown")`]
        : [`see why: aws cloudformation describe-stack-events ${where} --query "StackEvents[?ResourceStatus=='DELETE_FAILED']"`, `then run \`npx cdk destroy ${stackName}\` again`],
    );
  }
  if (status === 'UPDATE_ROLLBACK_FAILED') {
    return fail(check, `${status}: a failed update could not roll back`, [`aws cloudformation continue-update-rollback ${where}`]);
  }
  return fail(check, `${status}: not a state the deploy can start from`, [`aws cloudformation describe-stack-events ${where}`]);
}

// --- leftovers ---

export interface SecretState {
  readonly arn: string;
  /** Set while the secret waits out its recovery window: its name stays taken until then. */
  readonly scheduledForDeletion: boolean;
  /** Regions holding a replica (a replicated secret can only be deleted after its replicas). */
  readonly replicaRegions: readonly string[];
}

export interface LeftoverReadings {
  /** Physical ids of the resources the live stacks own (empty when there is no stack). */
  readonly owned: Reading<ReadonlySet<string>>;
  /** Whether a table with the routing table's fixed name exists. */
  readonly routingTable: Reading<boolean>;
  readonly keyringSecret: Reading<SecretState | undefined>;
  /** The edge function names that exist in us-east-1. */
  readonly edgeFunctions: Reading<readonly string[]>;
  /** Tables and buckets whose generated names match a retained resource of this prefix. */
  readonly tables: Reading<readonly string[]>;
  readonly buckets: Reading<readonly string[]>;
}

/**
 * Resources of this prefix that no live stack owns. A fixed name (routing table, keyring secret, edge functions)
 * makes the next create fail with "already exists", so it FAILs; retained data with generated names (buckets,
 * catalog and rollups tables) only costs money, so it WARNs with the commands to delete it once it is not needed.
 */
export function judgeLeftovers(config: PlatformConfig, readings: LeftoverReadings): CheckResult {
  const check = 'leftovers';
  const names = platformNames(config.stackPrefix);
  const looked: Record<keyof LeftoverReadings, string> = {
    owned: 'the stacks’ resources',
    routingTable: names.routingTable,
    keyringSecret: names.keyringSecret,
    edgeFunctions: 'the Lambda@Edge functions',
    tables: 'tables',
    buckets: 'buckets',
  };
  const failed = (Object.keys(looked) as (keyof LeftoverReadings)[]).flatMap((key) => {
    const reading = readings[key];
    return reading.ok ? [] : [`${looked[key]} (${describeError(reading.error)})`];
  });
  if (failed.length > 0) {
    return fail(check, `could not look for leftovers of "${config.stackPrefix}": ${failed.join('; ')}`, [
      'the check needs cloudformation:ListStackResources, dynamodb:DescribeTable and ListTables, secretsmanager:DescribeSecret, lambda:GetFunction and s3:ListAllMyBuckets',
    ]);
  }
  const value = <T>(r: Reading<T>) => (r as { ok: true; value: T }).value;
  const owned = value(readings.owned);
  const region = config.region;
  const blocking: { what: string; fix: string[] }[] = [];
  const retained: { what: string; fix: string[] }[] = [];

  if (value(readings.routingTable) && !owned.has(names.routingTable)) {
    blocking.push({ what: `table ${names.routingTable}`, fix: [`aws dynamodb delete-table --region ${region} --table-name ${names.routingTable}`] });
  }
  const secret = value(readings.keyringSecret);
  if (secret !== undefined && !owned.has(secret.arn)) {
    blocking.push({ what: `secret ${names.keyringSecret}${secret.scheduledForDeletion ? ' (scheduled for deletion: its name stays taken until then)' : ''}`, fix: deleteSecret(names, region, secret) });
  }
  for (const fn of value(readings.edgeFunctions).filter((name) => !owned.has(name))) {
    blocking.push({
      what: `Lambda@Edge function ${fn}`,
      fix: [`aws lambda delete-function --region ${EDGE_REGION} --function-name ${fn}   # refused as "replicated function" until CloudFront has removed its replicas (hours)`],
    });
  }
  for (const table of value(readings.tables).filter((name) => !owned.has(name))) {
    retained.push({ what: `table ${table}`, fix: [`aws dynamodb delete-table --region ${region} --table-name ${table}`] });
  }
  for (const bucket of value(readings.buckets).filter((name) => !owned.has(name))) {
    retained.push({ what: `bucket ${bucket}`, fix: [`aws s3 rb s3://${bucket} --force`] });
  }

  if (blocking.length > 0) {
    return fail(check, `${blocking.map((b) => b.what).join(', ')} exist but no stack of "${config.stackPrefix}" owns them: the deploy would fail with "already exists"`, [
      ...blocking.flatMap((b) => b.fix),
      ...(retained.length > 0 ? [`also retained (data, delete only if not needed): ${retained.map((r) => r.what).join(', ')}`] : []),
    ]);
  }
  if (retained.length > 0) {
    return warn(check, `retained on purpose by an earlier "${config.stackPrefix}" deployment: ${retained.map((r) => r.what).join(', ')} (they do not block the deploy)`, [
      'keep them while their data matters; delete them when it does not:',
      ...retained.flatMap((r) => r.fix),
    ]);
  }
  return pass(check, `nothing named for "${config.stackPrefix}" outside its stacks`);
}

function deleteSecret(names: PlatformNames, region: string, secret: SecretState): string[] {
  const id = `--region ${region} --secret-id ${names.keyringSecret}`;
  return [
    ...(secret.replicaRegions.length > 0 ? [`aws secretsmanager remove-regions-from-replication ${id} --remove-replica-regions ${secret.replicaRegions.join(' ')}`] : []),
    `aws secretsmanager delete-secret ${id} --force-delete-without-recovery`,
  ];
}

// --- the local twin (`npm run doctor -- --twin`) ---

const START_TWIN = 'start the twin: `npm run dev` (it writes the outputs file once everything answers), or pass --twin-outputs <file> of the twin that runs';

/** The outputs file of a running twin, read and parsed; the error says why not (absent, not JSON, older format). */
export function judgeTwinOutputs(outputsFile: string, reading: Reading<{ readonly stackName: string; readonly region: string }>): CheckResult {
  const check = 'twin outputs';
  if (!reading.ok) return fail(check, reading.error.message, [START_TWIN]);
  return pass(check, `${outputsFile}: stack "${reading.value.stackName}" in ${reading.value.region}`);
}

/** The twin has no such service: one line saying so, counted as SKIP, rather than a silent omission. */
export function notOnTwin(check: string, why: string): CheckResult {
  return { check, status: 'SKIP', detail: `does not apply to the twin: ${why}` };
}

/** The checks of the AWS run that need a service the twin does not run, one line each. */
export function twinSkippedChecks(): CheckResult[] {
  return [
    notOnTwin('credentials', 'no STS; the twin takes the fixed key pair of its outputs file'),
    notOnTwin('bootstrap', 'no SSM or CloudFormation; `npm run dev` builds from lib/topology.ts, nothing is bootstrapped'),
    notOnTwin('cloudfront', 'its distributions are local servers, with no account quota'),
    notOnTwin('lambda concurrency', 'no Lambda control plane; the handlers run in the twin process'),
    notOnTwin('lambda@edge quota', 'the edge functions run in the twin process'),
    notOnTwin('stacks', 'no CloudFormation stacks'),
    notOnTwin('leftovers', 'nothing outlives the twin but its data directory'),
  ];
}

/** A read that failed on the twin: nothing listening means the twin is not running; anything else is told as is. */
function twinReadFailure(check: string, what: string, endpoint: string, error: ReadError): CheckResult {
  if (error.code === 'ECONNREFUSED') return fail(check, `nothing answers at ${endpoint} (${what}): the twin is not running`, [START_TWIN]);
  return fail(check, `${what} at ${endpoint} failed (${describeError(error)})`, ['restart the twin (`npm run dev`); if it persists, the stand-in answers differently from the service: report it']);
}

/** The twin's MediaConvert stand-in answers ListQueues with the ACTIVE `Default` queue submit-job sends to. */
export function judgeTwinMediaConvert(endpoint: string, reading: Reading<readonly MediaConvertQueue[]>): CheckResult {
  const check = 'mediaconvert';
  if (!reading.ok) return twinReadFailure(check, 'ListQueues', endpoint, reading.error);
  const defaultQueue = reading.value.find((q) => q.name === 'Default');
  if (defaultQueue === undefined) return fail(check, `${endpoint} lists no Default queue: a twin older than this checkout?`, ['stop it and run `npm run dev` again']);
  if (defaultQueue.status !== 'ACTIVE') return fail(check, `the Default queue at ${endpoint} is ${defaultQueue.status}`, ['stop the twin and run `npm run dev` again']);
  return pass(check, `${endpoint}: Default queue ACTIVE`);
}

/** A table or bucket the outputs name; `exists` false when the stand-in answers that there is none. */
export function judgeTwinResource(
  resource: { readonly kind: 'table' | 'bucket' | 'secret'; readonly role: string; readonly name: string },
  endpoint: string,
  reading: Reading<boolean>,
): CheckResult {
  const check = `${resource.kind} ${resource.role}`;
  const call = { table: 'DescribeTable', bucket: 'HeadBucket', secret: 'GetSecretValue' }[resource.kind];
  if (!reading.ok) return twinReadFailure(check, `${call} ${resource.name}`, endpoint, reading.error);
  if (!reading.value) {
    return fail(check, `${resource.kind} ${resource.name} does not exist at ${endpoint}: the outputs file names something this twin does not have`, [
      'read the outputs file of the twin that runs (`--twin-outputs <data dir>/outputs.json`), or restart it with `npm run dev`',
    ]);
  }
  return pass(check, resource.kind === 'secret' ? `${resource.name} readable at ${endpoint}` : `${resource.name} exists at ${endpoint}`);
}

// --- the report ---

export function exitCodeOf(results: readonly CheckResult[]): number {
  return results.some((r) => r.status === 'FAIL') ? 1 : 0;
}

/**
 * One line per check, `fix:` lines under a WARN or FAIL, and a closing count (SKIP counted when there is any).
 * `twin`: the report of `npm run doctor -- --twin`, whose closing line speaks of the twin rather than a deploy.
 */
export function renderReport(results: readonly CheckResult[], options: { readonly twin?: boolean } = {}): string {
  const width = Math.max(...results.map((r) => r.check.length));
  const lines = results.flatMap((r) => [
    `${r.status.padEnd(4)}  ${r.check.padEnd(width)}  ${r.detail}`,
    ...(r.fix ?? []).map((step, i) => `${' '.repeat(width + 8)}${i === 0 ? 'fix: ' : '     '}${step}`),
  ]);
  const count = (status: CheckStatus) => results.filter((r) => r.status === status).length;
  const summary = `${count('FAIL')} FAIL, ${count('WARN')} WARN, ${count('PASS')} PASS${count('SKIP') > 0 ? `, ${count('SKIP')} SKIP` : ''}`;
  const closing = options.twin
    ? count('FAIL') > 0 ? 'fix the FAIL lines; the twin is not what the handlers expect.' : 'the twin answers as the handlers expect.'
    : count('FAIL') > 0 ? 'fix the FAIL lines before `npx cdk deploy --all`.' : 'ready for `npx cdk deploy --all`.';
  lines.push('', `${summary}: ${closing}`);
  return lines.join('\n');
}
