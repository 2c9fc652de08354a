/**
 * `npm run dev` (docs/local-twin.md; docs/architecture.md#the-local-twin): the whole platform on one machine, offline, on 127.0.0.1
 * (the gateway and the CDNs by `*.localhost` host names, as CloudFront gives each distribution its own). Wires the
 * twin's building blocks to the real handlers and edge functions, which reach the stand-ins only
 * through the SDK's `AWS_ENDPOINT_URL_<SERVICE>` variables and the environment their CDK constructs
 * give them. Handlers that do not exist yet are skipped with a warning. Ports: docs/local-twin.md.
 *
 * Run: `npm run dev` (TWIN_PORT_BASE moves every port, default 4560; LADDER picks the ladder, default compact).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { randomBytes, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { currentRevisionReadyPattern, jobStateChangePattern, takedownRequestedPattern, uploadCreatedPattern } from '../core/event-patterns';
import { DELIVERY_CORS } from '../core/identifiers';
import { ORIGIN_VERIFY_HEADER } from '../core/origin-verify';
import type { EdgeFunctionDefinition } from '../edge-functions/shared/baked-config';
import { staticPathwaysOf, steeringEdgeFunction } from '../edge-functions/steering/config';
import { viewerAuthEdgeFunction } from '../edge-functions/viewer-auth/config';
import { bundleEdgeFunction } from '../lib/bundling/edge-bundle';
import { RoutingTable, seedWeightsItemOf } from '../tables/routing-table';
import { TABLES } from '../lib/topology';
import { generateInitialKeyring, serializeKeyring } from '../core/keyring';
import type { LadderName } from '../core/ladder';
import type { ScoringParams } from '../core/routing/scoring-params';
import { lambdaContext, startHttpApi } from './apigw';
import { readyAssetsInCatalog } from './audience/catalog-assets';
import { AudienceFlagError, parseAudienceFlags } from './audience/cli-flags';
import { startAudience, type Audience, type AudienceSettings } from './audience/fleet';
import type { AwsUsage } from './aws-meters';
import { startLocalAws, TWIN_CREDENTIALS, type TableSpec } from './aws-servers';
import { STACK_OUTPUT_KEYS, type TwinOutputsFile } from '../core/stack-outputs';
import { startDistribution, type Distribution, type EdgeRequestHandler } from './edge/cloudfront-server';
import { startCloudFrontApi } from './edge/cloudfront-api';
import { createOriginShield } from './edge/origin-shield';
import { twinSteeringKeyFunction, twinViewerAuthFunction } from './edge/cloudfront-function';
import { steeringCacheBehavior } from './edge/steering-behavior';
import { DEFAULT_TOKEN_CHECK, originShieldOf, TOKEN_CHECKS, type TokenCheck } from '../core/platform-config';
import { DEFAULT_ORIGIN_SHIELD_MODE, ORIGIN_SHIELD_MODES, type OriginShieldMode } from '../core/origin-shield';
import { LocalEventBus } from './event-bus';
import { createOperatorApi } from './operator-api';
import { startRollupPollers } from './twin/rollup-pollers';
import { startMediaConvertServer } from './mediaconvert/server';
import { resolveLocalhostNames } from './http-server';
import { startSecretsManagerServer } from './secrets-manager';
import { watchDropFolder } from './twin/drop-folder';
import {
  assertFfmpegInstalled,
  FfmpegMissingError,
  FFMPEG_PATH,
  FFPROBE_PATH,
  generateTestMaster,
  testMasterFileName,
  type TestMasterSpec,
} from './twin/media-tools';
import { startPageServer, type PageRequestHandler } from './twin/page-server';
import { firstPortInUse, portInUse, portInUseMessage } from './twin/port-in-use';
import { describeUpload } from './twin/upload-announcement';
import { decodeNotificationKey } from '../core/upload-key';
import { routingWeightsConfig } from '../lambdas/routing-weights/config';
import { publishRoutingGenerations } from '../lambdas/routing-weights/generations';
import { TWIN_KVS_ARN, TwinKeyValueStore } from './edge/key-value-store';
import { twinFunctionEnvironments } from './twin/function-environments';
import { twinApiRoutes } from './twin/api-routes';
import { InvocationCounter } from './twin/invocation-counter';
import { API_PROCESS_ENV, startHelperProcess, type ApiProcessPayload, type HelperProcess } from './twin/helper-process';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const BUILD_DIR = join(ROOT, 'local', '.build');

export const TWIN_NAMES = {
  stackName: 'twin',
  uploadBucket: 'twin-uploads',
  originBucket: 'twin-origin',
  assetsTable: 'twin-assets',
  routingTable: 'twin-routing',
  rollupsTable: 'twin-qoe-rollups',
  rateLimitTable: 'twin-report-rate-limits',
  telemetryStream: 'twin-telemetry',
  partialsStream: 'twin-rollup-partials',
  keyringSecret: 'twin/playback-keyring',
  ingestOriginSecret: 'twin/ingest-origin-secret',
  pathways: ['cf-a', 'cf-b', 'cf-c'],
} as const;

/** Port layout relative to a base (default 4560); see docs/local-twin.md. */
export function twinPorts(base = 4560) {
  return {
    s3: base,
    dynamodb: base + 1,
    kinesis: base + 2,
    mediaconvert: base + 3,
    secretsManager: base + 4,
    eventbridge: base + 5,
    cloudfront: base + 6,
    api: base + 10,
    gateway: base + 20,
    cdns: TWIN_NAMES.pathways.map((_, i) => base + 21 + i),
    pages: base + 30,
  };
}

/**
 * The host names viewers reach the twin's distributions by: `<pathway>.localhost:<port>` and
 * `gateway.localhost:<port>`. Browsers and curl resolve `*.localhost` to loopback (RFC 6761 §6.3); the
 * twin's own Node clients do through resolveLocalhostNames (local/http-server.ts).
 */
export function twinHosts(ports: ReturnType<typeof twinPorts>) {
  return {
    gateway: `gateway.localhost:${ports.gateway}`,
    cdns: TWIN_NAMES.pathways.map((id, i) => `${id}.localhost:${ports.cdns[i]}`),
  };
}

/** The twin's resource names in the shape local/twin/function-environments.ts encodes them. */
export const twinEnvironmentNames = {
  stackName: TWIN_NAMES.stackName,
  assetsTable: TWIN_NAMES.assetsTable,
  originBucket: TWIN_NAMES.originBucket,
  routingTable: TWIN_NAMES.routingTable,
  rollupsTable: TWIN_NAMES.rollupsTable,
  rateLimitTable: TWIN_NAMES.rateLimitTable,
  telemetryStream: TWIN_NAMES.telemetryStream,
  partialsStream: TWIN_NAMES.partialsStream,
  keyringSecret: TWIN_NAMES.keyringSecret,
  ingestOriginSecret: TWIN_NAMES.ingestOriginSecret,
  pathways: TWIN_NAMES.pathways,
};

/** The tables the CDK constructs declare, as data (keys from lib/constructs/*). */
export const TWIN_TABLES: readonly TableSpec[] = [
  { tableName: TWIN_NAMES.assetsTable, ...TABLES.assets },
  { tableName: TWIN_NAMES.routingTable, ...TABLES.routing },
  { tableName: TWIN_NAMES.rollupsTable, ...TABLES.rollups },
  { tableName: TWIN_NAMES.rateLimitTable, ...TABLES.rateLimits },
];

/**
 * Edge functions run as the artefact CloudFront would get: bundled by lib/bundling/edge-bundle.ts with
 * their configuration baked in (validated first, as synth does), then loaded as CommonJS (so `@aws-sdk/*`
 * resolves from node_modules).
 */
function loadEdgeFunction<C>(edgeFunction: EdgeFunctionDefinition<C>, id: string, config: C): EdgeRequestHandler {
  edgeFunction.validateConfig(config);
  const entry = join(ROOT, 'edge-functions', edgeFunction.handlerDir, 'index.ts');
  const outDir = join(BUILD_DIR, `${edgeFunction.handlerDir}-${id}`);
  mkdirSync(outDir, { recursive: true });
  // The repo is "type": "module"; the bundle is CommonJS like the artefact Lambda@Edge runs.
  writeFileSync(join(BUILD_DIR, 'package.json'), '{ "type": "commonjs" }\n');
  const { outFile } = bundleEdgeFunction({ entry, outDir, config, minify: false });
  const require = createRequire(outFile);
  delete require.cache[outFile];
  return (require(outFile) as { handler: EdgeRequestHandler }).handler;
}

function twinTokenCheck(text: string | undefined): TokenCheck {
  if (text === undefined || text === '') return DEFAULT_TOKEN_CHECK;
  if (!(TOKEN_CHECKS as readonly string[]).includes(text)) throw new Error(`TOKEN_CHECK must be one of ${TOKEN_CHECKS.join(', ')}, got "${text}"`);
  return text as TokenCheck;
}

/** The twin's Origin Shield mode from an option or env ORIGIN_SHIELD (a mode, or on/off); a typo fails the start. */
function twinOriginShieldMode(value: boolean | string | undefined): OriginShieldMode {
  if (value === undefined || value === '' || value === true || value === 'on') return DEFAULT_ORIGIN_SHIELD_MODE;
  if (value === false) return 'off';
  if (!(ORIGIN_SHIELD_MODES as readonly string[]).includes(value)) throw new Error(`ORIGIN_SHIELD must be one of ${ORIGIN_SHIELD_MODES.join(', ')}, got "${value}"`);
  return value as OriginShieldMode;
}

export interface TwinOptions {
  /** @default env TWIN_PORT_BASE, else 4560 */
  readonly portBase?: number;
  /** Ladder the submit-job handler plans with. @default env LADDER, else 'compact' (fast on 2 cores) */
  readonly ladder?: LadderName;
  /** Where the sample master, the drop folder and figures live. @default <repo>/.twin */
  readonly dataDir?: string;
  /** Generate (once) and ingest a short sample master at start. @default false */
  readonly sampleMaster?: boolean;
  /** Watch `<dataDir>/drop/` and upload what appears there. @default false */
  readonly watchFolder?: boolean;
  /** Cadence of the routing-weights schedule. @default 10000 */
  readonly routingTickMs?: number;
  /**
   * Overrides of the routing controller's tunables, handed to routing-weights as `SCORING_PARAMS_JSON`.
   * @default env SCORING_PARAMS_JSON if set, else {@link TWIN_SCORING_PARAMS}
   */
  readonly scoringParams?: Partial<ScoringParams>;
  /**
   * A simulated audience (local/audience/): viewers that watch the READY assets through the gateway and
   * the CDNs and send CMCD reports, so routing weights have traffic to follow (docs/local-twin.md).
   * @default false (the CLI turns it on: 24 sessions in US, DE, BR)
   */
  readonly audience?: AudienceSettings | false;
  /**
   * Which token check the delivery CDNs run, as `platform.pathways[].tokenCheck` in the cloud (ADR 0033).
   * @default env TOKEN_CHECK, else DEFAULT_TOKEN_CHECK
   */
  readonly tokenCheck?: TokenCheck;
  /**
   * How the delivery CDNs fetch S3 through the Origin Shield stand-in, as `platform.originShield.mode` in the
   * cloud: "per-pathway" (ADR 0038), "shared" (one inner shield distribution every pathway fetches through, ADR
   * 0098) or "off"; `true`/`false` mean the default mode / "off". @default env ORIGIN_SHIELD, else the cloud's default
   */
  readonly originShield?: boolean | OriginShieldMode;
  /**
   * The return path's sampling, as `telemetrySamplingRate` (percent of delivery requests in the real-time
   * log) and `reportSamplingRate` (percent of sessions that report) in the cloud. The load harness runs the
   * platform's defaults (docs/scale.md). @default 100 and 100: every request and session of a small audience
   */
  readonly returnPathSampling?: { readonly telemetrySamplingRate: number; readonly reportSamplingRate: number };
  /**
   * Where dynalite and kinesalite run (local/aws-servers.ts): in the twin's process, or in one of their own so
   * that thousands of viewers' DynamoDB and Kinesis calls are not queued behind the distributions' and handlers'
   * work on one event loop (ADR 0100). The load harness runs them apart. @default 'in-process'
   */
  readonly dataStandIns?: 'in-process' | 'own-process';
  /**
   * Where the HTTP APIs and their handlers (playback-api, takedown, cmcd-ingest) run: in the twin's process, or
   * in one of their own (local/twin/api-process.ts, ADR 0100), as Lambda runs functions apart from CloudFront.
   * @default 'in-process'
   */
  readonly apiHandlers?: 'in-process' | 'own-process';
}

/**
 * The twin's routing controller runs on short clocks so a failover is visible within a minute or two
 * (operator page, e2e test); the cloud keeps DEFAULT_SCORING_PARAMS (docs/routing.md). A one-minute
 * window lets a healed CDN's errors leave the window at the next minute instead of after four; a 20 s
 * reversal hold (cloud: 300 s) and a 10 s promotion half-life (cloud: 60 s) let it climb back at once.
 * Two dozen local viewers make cells of two or three sessions: a quorum of 2 sessions (cloud: 8) or 30
 * requests (cloud: 100), and confidence bounds at z = 2 (cloud: 3), or a CDN failing every one of its
 * three sessions could never be told from one failing none; its simulated viewers are trusted, so no error
 * sessions are set aside (cloud: 5 per minute of a window). An unmeasured cost fades with a 10 s half-life
 * (cloud: 300 s), and a CDN demoted on its country's evidence may climb back to 25 % of new sessions as
 * probe traffic before that evidence clears it (cloud: 8 %): the floor's 3 % of eight viewers is no viewer
 * at all, so without a larger probe a healed CDN would never be measured again (ADR 0065).
 */
export const TWIN_SCORING_PARAMS: Partial<ScoringParams> = {
  windowMinutes: 1,
  minSamples: 30,
  minSessions: 2,
  confidenceZ: 2,
  untrustedSessionsPerMinute: 0,
  reversalHoldSeconds: 20,
  promotionHalfLifeSeconds: 10,
  unmeasuredCostHalfLifeSeconds: 10,
  probeShare: 0.25,
};

export interface Twin {
  readonly urls: Record<string, string>;
  /** The delivery distributions, for fault injection. */
  readonly cdns: readonly Distribution[];
  readonly s3: S3Client;
  readonly documents: DynamoDBDocumentClient;
  /** The gateway's KeyValueStore: the routing generations routing-weights announces (ADR 0097). */
  readonly edgeKeys: TwinKeyValueStore;
  /** Uploads a master to `uploads/<name>` in the upload bucket (starts an ingest). */
  upload(name: string, body: Buffer | Uint8Array | string): Promise<void>;
  /**
   * `<dataDir>/outputs.json`: the twin's stack outputs, written once everything is up and removed on stop;
   * `npm run smoke -- --twin` reads it (core/stack-outputs.ts, ADR 0013).
   */
  readonly outputsFile: string;
  /** The simulated audience, when `audience` was asked for. */
  readonly audience?: Audience;
  /**
   * What the platform's functions and services did so far (ADR 0077); the load harness reads it around a run.
   * Asynchronous: the data stand-ins may run in their own process (ADR 0100).
   */
  usage(): Promise<TwinUsage>;
  /** Which token check the delivery CDNs run. */
  readonly tokenCheck: TokenCheck;
  stop(): Promise<void>;
}

export interface TwinUsage {
  /** Invocations by function: `viewer-auth` (Lambda@Edge) or `viewer-auth-cf` (CloudFront Function), `steering`, the regional Lambdas. */
  readonly functions: Readonly<Record<string, number>>;
  /** Which token check the delivery CDNs run. */
  readonly tokenCheck: TokenCheck;
  readonly aws: AwsUsage;
  /** CPU time of the twin's helper processes (the data stand-ins' and the APIs' when apart, ADR 0100) since they started, ms. */
  readonly helperCpuMs: number;
}

export { FfmpegMissingError };

/**
 * The sample master: three minutes, long enough to watch a 60 s CDN break and the re-admission after
 * it; 640x360 at 15 fps keeps its encode cheap on two cores (timings in docs/local-twin.md).
 */
const SAMPLE_MASTER: TestMasterSpec = { seconds: 180, width: 640, height: 360, fps: 15 };
/** Uploaded under this name on every start, so the sample's asset id stays `twin-sample`. */
const SAMPLE_NAME = 'twin-sample.mp4';

export async function startTwin(options: TwinOptions = {}): Promise<Twin> {
  assertFfmpegInstalled();
  const ports = twinPorts(options.portBase ?? Number(process.env.TWIN_PORT_BASE ?? 4560));
  const ladder = options.ladder ?? ((process.env.LADDER as LadderName | undefined) || 'compact');
  const dataDir = options.dataDir ?? join(ROOT, '.twin');
  const aws = await startLocalAws({ ports, ...(options.dataStandIns ? { dataStandIns: options.dataStandIns } : {}) });
  const region = aws.region;
  const stoppers: (() => Promise<void>)[] = [() => aws.stop()];
  try {
    await aws.createBuckets([TWIN_NAMES.uploadBucket, TWIN_NAMES.originBucket]);
    await aws.createTables(TWIN_TABLES);
    await aws.createStream(TWIN_NAMES.telemetryStream, 2);
    await aws.createStream(TWIN_NAMES.partialsStream, 1);
    const documents = DynamoDBDocumentClient.from(aws.clients.dynamodb);

    const secrets = await startSecretsManagerServer({ region, port: ports.secretsManager });
    stoppers.push(() => secrets.stop());
    secrets.putSecret(TWIN_NAMES.keyringSecret, serializeKeyring(generateInitialKeyring()));
    // Only the gateway knows it, as the CloudFront origin custom header does (ADR 0055).
    const ingestOriginSecret = randomBytes(24).toString('base64url');
    secrets.putSecret(TWIN_NAMES.ingestOriginSecret, ingestOriginSecret);

    const bus = new LocalEventBus({
      region,
      onTargetError: ({ rule, error }) => console.error(`[twin] rule ${rule} target failed`, error),
    });
    const busEndpoint = await bus.listen(ports.eventbridge);
    stoppers.push(() => bus.close());
    bus.attachS3rver(aws.s3rver);

    const mediaconvert = await startMediaConvertServer({
      s3: aws.clients.s3,
      region,
      port: ports.mediaconvert,
      ffmpegPath: FFMPEG_PATH,
      ffprobePath: FFPROBE_PATH,
      onJobStateChange: (event) => void bus.publish(event),
    });
    stoppers.push(() => mediaconvert.stop());
    // CloudFront's API for the takedown worker's invalidations; it learns the distributions as they start.
    const distributionsById = new Map<string, Distribution>();
    const cloudfrontApi = await startCloudFrontApi({ distributions: distributionsById, port: ports.cloudfront });
    stoppers.push(() => cloudfrontApi.stop());

    // Every distribution has its own host name, as on CloudFront (`d111.cloudfront.net`): players key what
    // they learn about a CDN by host (Shaka Player bans a failed host), so pathways sharing 127.0.0.1 would
    // fail together. The servers listen on 127.0.0.1; `*.localhost` resolves there (twinHosts).
    const { cdns: cdnHosts, gateway: gatewayHost } = twinHosts(ports);
    resolveLocalhostNames();
    const apiEndpoint = `http://127.0.0.1:${ports.api}`;
    // The environment the CDK constructs give the handlers (lib/constructs/*), pointed at the twin.
    aws.applyEnvironment({ mediaconvert: mediaconvert.endpoint, secretsManager: secrets.endpoint, eventbridge: busEndpoint, cloudfront: cloudfrontApi.endpoint });
    // The handlers' configuration, encoded with the schemas the CDK constructs use (local/twin/function-environments.ts).
    const functionEnvironments = twinFunctionEnvironments({
      ...twinEnvironmentNames,
      gatewayHost,
      ladder,
      routingTickSeconds: (options.routingTickMs ?? 10_000) / 1000,
      scoringParams: options.scoringParams ?? routingWeightsConfig.fields.params.decode(process.env.SCORING_PARAMS_JSON) ?? TWIN_SCORING_PARAMS,
      tokenLifetimeSeconds: 3600,
      cdnHosts,
      ...(options.returnPathSampling ? { reportSamplingPercent: options.returnPathSampling.reportSamplingRate } : {}),
    });
    // No EMF metrics (no CloudWatch here) and, unless asked for, no per-request info lines: the audience
    // alone would print one per session. POWERTOOLS_LOG_LEVEL=INFO npm run dev shows them.
    Object.assign(process.env, ...Object.values(functionEnvironments), {
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
    });

    // The registry and the equal starting weights the deploy writes (tables/routing-table.ts).
    const routingTable = new RoutingTable(documents, TWIN_NAMES.routingTable);
    const pathways = TWIN_NAMES.pathways.map((id, i) => ({ id, host: cdnHosts[i]!, enabled: true, cap: 1 }));
    await routingTable.putRegistry(pathways);
    await routingTable.seedWeights(seedWeightsItemOf(pathways, 'twin start: equal weights', new Date().toISOString()));
    // The snapshot the steering function reads (ADR 0048), before routing-weights' first tick.
    await routingTable.publishSnapshot(Date.now());
    // The gateway's KeyValueStore (the keyring's copy in the cloud); routing-weights announces each country's routing
    // generation there after every snapshot (ADR 0097), as it does here for the starting one.
    const edgeKeys = new TwinKeyValueStore(TWIN_KVS_ARN);
    await publishRoutingGenerations(documents, TWIN_NAMES.routingTable, { client: edgeKeys.client, arn: edgeKeys.arn });

    // The real handlers. Imported here, after the environment above is set, because each module builds its
    // SDK clients and Powertools instances when it loads (as a Lambda container does); the specifiers are
    // literal, so tsc checks every handler the twin runs, and one that fails to load stops the twin.
    const [submitJob, jobStatus, playbackApi, takedown, takedownWorker, cmcdIngest, qoeAggregator, rollupMerger, routingWeights] = await Promise.all([
      import('../lambdas/submit-job/index'),
      import('../lambdas/job-status/index'),
      import('../lambdas/playback-api/index'),
      import('../lambdas/takedown/index'),
      import('../lambdas/takedown-worker/index'),
      import('../lambdas/cmcd-ingest/index'),
      import('../lambdas/qoe-aggregator/index'),
      import('../lambdas/rollup-merger/index'),
      import('../lambdas/routing-weights/index'),
    ]);

    // Ingest: upload → submit-job; job state → job-status.
    // Lambda hands every invocation a context; so does the twin (Powertools reads it), with the functions' timeouts.
    bus.addRule('SubmitJob', uploadCreatedPattern(TWIN_NAMES.uploadBucket), (event) =>
      submitJob.handler(event, lambdaContext('submit-job', randomUUID(), 60_000)),
    );
    bus.addRule('JobStatus', jobStateChangePattern(TWIN_NAMES.stackName), (event) =>
      jobStatus.handler(event, lambdaContext('job-status', randomUUID(), 30_000)),
    );
    // Cache pre-warm on the revision playback now serves (ADR 0039); it reaches the CDNs by host name, as viewers do.
    const prewarm = await import('../lambdas/prewarm/index');
    bus.addRule('Prewarm', currentRevisionReadyPattern(), (event) => prewarm.handler(event, lambdaContext('prewarm', randomUUID(), 300_000)).then(() => undefined));

    // Delivery: one distribution per pathway, viewer-auth on viewer-request, logs to the stream.
    const keyringConfig = { secretId: TWIN_NAMES.keyringSecret, regions: [region], timeoutMs: 1000, refreshSeconds: 60 };
    const tokenCheck = options.tokenCheck ?? twinTokenCheck(process.env.TOKEN_CHECK);
    const invocations = new InvocationCounter();
    const cdns: Distribution[] = [];
    // One shield Region for every pathway, as in the cloud: entries per distribution (ADR 0038), or one inner
    // distribution's (ADR 0098) that the pathways reach with a secret header.
    const shieldMode = twinOriginShieldMode(options.originShield ?? process.env.ORIGIN_SHIELD);
    const shieldPlacement = shieldMode === 'off' ? undefined : originShieldOf({ region, originShield: { mode: shieldMode } });
    const shieldOriginSecret = shieldPlacement?.mode === 'shared' ? randomBytes(24).toString('base64url') : undefined;
    const originShield = shieldPlacement
      ? createOriginShield({
          region: shieldPlacement.region,
          ...(shieldOriginSecret !== undefined ? { shared: { domainName: 'origin-shield.cloudfront.twin', originSecret: shieldOriginSecret } } : {}),
        })
      : undefined;
    for (const [i, id] of TWIN_NAMES.pathways.entries()) {
      const cdn = await startDistribution({
        id,
        ...(originShield ? { originShield } : {}),
        ...(shieldOriginSecret !== undefined ? { shieldOriginSecret } : {}),
        domainName: cdnHosts[i],
        port: ports.cdns[i],
        origin: { s3: aws.clients.s3, bucket: TWIN_NAMES.originBucket, region },
        viewerRequest:
          tokenCheck === 'cloudfront-function'
            ? invocations.count('viewer-auth-cf', twinViewerAuthFunction(keyringConfig))
            : invocations.count('viewer-auth', loadEdgeFunction(viewerAuthEdgeFunction, id, { pathwayId: id, keyring: keyringConfig })),
        cors: DELIVERY_CORS,
        realtimeLog: {
          kinesis: aws.clients.kinesis,
          streamName: TWIN_NAMES.telemetryStream,
          ...(options.returnPathSampling ? { samplingRate: options.returnPathSampling.telemetrySamplingRate } : {}),
        },
      });
      cdns.push(cdn);
      stoppers.push(() => cdn.stop());
    }

    // Gateway: steering on origin-request; manifests uncached, steering reloads through the key function and a
    // cache keyed like the cloud's (ADR 0036); `/v1/cmcd/*` goes to the ingest API (ADR 0004).
    const steeringTtlSeconds = 10;
    const steering = invocations.count(
      'steering',
      loadEdgeFunction(steeringEdgeFunction, 'gateway', {
        keyring: keyringConfig,
        routingTable: { name: TWIN_NAMES.routingTable, region },
        steeringTtlSeconds,
        routingCacheSeconds: 5,
        staticPathways: staticPathwaysOf(pathways),
        publicScheme: 'http',
      }),
    );
    const gateway = await startDistribution({
      id: 'gateway',
      domainName: gatewayHost,
      port: ports.gateway,
      caching: false,
      origin: { s3: aws.clients.s3, bucket: TWIN_NAMES.originBucket, region },
      customOrigins: [{ pathPrefix: '/v1/cmcd/', origin: apiEndpoint, headers: { [ORIGIN_VERIFY_HEADER]: ingestOriginSecret } }],
      originRequest: steering,
      behaviors: [steeringCacheBehavior(invocations.count('steering-key-cf', twinSteeringKeyFunction(keyringConfig, undefined, edgeKeys)), steering, steeringTtlSeconds)],
    });
    stoppers.push(() => gateway.stop());

    // Takedown: the API hands accepted takedowns to the worker over the bus (ADR 0011); the worker cancels
    // jobs at the MediaConvert stand-in, deletes from s3rver and invalidates these distributions' caches.
    for (const cdn of cdns) distributionsById.set(cdn.id, cdn);
    bus.addRule('TakedownWorker', takedownRequestedPattern(), (event) =>
      takedownWorker.handler(event, lambdaContext('takedown-worker', randomUUID(), 300_000)),
    );

    // APIs: playback sessions, takedowns and CMCD report ingest: the routes of the CDK HttpApis
    // (lib/topology.ts), on one local API.
    let apiHelper: HelperProcess<{ endpoint: string }, Record<string, number>> | undefined;
    let api: { endpoint: string; stop(): Promise<void> };
    if (options.apiHandlers === 'own-process') {
      // Forked now, after the handlers' environment is set above: the child inherits it (ADR 0100).
      apiHelper = await startHelperProcess<{ endpoint: string }, Record<string, number>>(
        new URL('./twin/api-process.ts', import.meta.url),
        API_PROCESS_ENV,
        { port: ports.api } satisfies ApiProcessPayload,
      );
      api = { endpoint: apiHelper.ready.endpoint, stop: () => apiHelper!.stop() };
    } else {
      const routes = twinApiRoutes(invocations, { playbackApi: playbackApi.handler, takedown: takedown.handler, cmcdIngest: cmcdIngest.handler });
      api = await startHttpApi(routes, { port: ports.api });
    }
    stoppers.push(() => api.stop());

    // Telemetry: stream → qoe-aggregator → partials stream → rollup-merger (ADR 0057); a schedule → routing-weights.
    {
      const pollers = await startRollupPollers({
        client: aws.clients.kinesis,
        telemetryStream: TWIN_NAMES.telemetryStream,
        partialsStream: TWIN_NAMES.partialsStream,
        aggregate: invocations.count('qoe-aggregator', (event) => qoeAggregator.handler(event, lambdaContext('qoe-aggregator', randomUUID(), 60_000))),
        merge: invocations.count('rollup-merger', (event) => rollupMerger.handler(event, lambdaContext('rollup-merger', randomUUID(), 120_000))),
        onFailure: (stage, failure) => console.error(`[twin] ${stage} gave up on records`, failure),
      });
      stoppers.push(() => pollers.stop());
    }
    {
      const countedRoutingWeights = invocations.count('routing-weights', routingWeights.routingWeightsHandlerWith(() => edgeKeys.client));
      let running = false;
      const timer = setInterval(() => {
        if (running) return;
        running = true;
        countedRoutingWeights({ source: 'aws.scheduler' }, lambdaContext('routing-weights', randomUUID(), 70_000))
          .catch((error: unknown) => console.error('[twin] routing-weights failed', error))
          .finally(() => (running = false));
      }, options.routingTickMs ?? 10_000);
      stoppers.push(async () => clearInterval(timer));
    }

    // Pages: player, operator (with its API when that module exists), vendored player libraries.
    const handlers: PageRequestHandler[] = [];
    {
      const operatorApi = createOperatorApi({
        documents,
        tables: { assets: TWIN_NAMES.assetsTable, routing: TWIN_NAMES.routingTable, rollups: TWIN_NAMES.rollupsTable },
        distributions: cdns.map((cdn) => ({ id: cdn.id, controlEndpoint: cdn.endpoint })),
        // The break timeline's resolution: weights and request counters read every 5 s (ADR 0083).
        sampleEveryMs: 5_000,
      });
      handlers.push(operatorApi.handle);
      stoppers.push(async () => operatorApi.stop());
    }
    const pages = await startPageServer({
      root: ROOT,
      port: ports.pages,
      apiEndpoint: api.endpoint,
      handlers,
      config: {
        gateway: `http://${gateway.domainName}`,
        cdns: cdns.map((cdn) => ({ id: cdn.id, endpoint: `http://${cdn.domainName}` })),
      },
    });
    stoppers.push(() => pages.stop());

    // Started after every server it uses, so it is stopped before them.
    let audience: Audience | undefined;
    if (options.audience && options.audience.sessions > 0) {
      const started = startAudience({
        ...options.audience,
        playbackApi: api.endpoint,
        assets: readyAssetsInCatalog(documents, TWIN_NAMES.assetsTable),
        log: (message) => console.log(`[twin] ${message}`),
      });
      audience = started;
      stoppers.push(() => started.stop());
    }

    const upload = async (name: string, body: Buffer | Uint8Array | string): Promise<void> => {
      await aws.clients.s3.send(new PutObjectCommand({ Bucket: TWIN_NAMES.uploadBucket, Key: `uploads/${name}`, Body: body }));
    };

    if (options.watchFolder) {
      // Every upload (a dropped file, an S3 PUT, the sample) is announced with the asset id submit-job
      // gives it and where to play it: `uploads/My Film.mp4 → asset my-film → http://…/?asset=my-film`.
      bus.addRule('TwinAnnounceUpload', uploadCreatedPattern(TWIN_NAMES.uploadBucket), (event) => {
        const key = (event.detail as { object?: { key?: string } }).object?.key;
        // The event carries the key URL-encoded, as S3 writes it (ADR 0023).
        if (key) console.log(`[twin] ${describeUpload(decodeNotificationKey(key), `${pages.endpoint}/`)}`);
      });
      // Files already in the folder are uploaded at start (the catalog does not survive a restart).
      const drop = watchDropFolder({
        directory: join(dataDir, 'drop'),
        s3: aws.clients.s3,
        bucket: TWIN_NAMES.uploadBucket,
        onError: (file, error) => console.error(`[twin] could not upload dropped ${file}: ${(error as Error)?.message ?? error}`),
      });
      stoppers.push(async () => drop.stop());
    }
    if (options.sampleMaster) {
      // Catalog and buckets are in memory, so the sample is ingested on every start; only the master is kept.
      // Its spec is in the cached file's name: a changed spec (the 12 s sample of old) is never reused.
      const sample = join(dataDir, testMasterFileName('twin-sample', SAMPLE_MASTER));
      mkdirSync(dataDir, { recursive: true });
      if (!existsSync(sample)) {
        // Written aside and renamed, so a start interrupted mid-generation leaves no truncated master behind.
        await generateTestMaster(`${sample}.part`, SAMPLE_MASTER);
        renameSync(`${sample}.part`, sample);
      }
      await upload(SAMPLE_NAME, await readFile(sample));
    }

    const urls = {
      player: `${pages.endpoint}/`,
      operator: `${pages.endpoint}/operator.html`,
      s3: aws.endpoints.s3,
      dynamodb: aws.endpoints.dynamodb,
      kinesis: aws.endpoints.kinesis,
      mediaconvert: mediaconvert.endpoint,
      secretsManager: secrets.endpoint,
      eventbridge: busEndpoint,
      cloudfrontApi: cloudfrontApi.endpoint,
      api: api.endpoint,
      // What viewers use: the distributions by host name (their control API answers there too).
      gateway: `http://${gateway.domainName}`,
      ...Object.fromEntries(cdns.map((cdn) => [cdn.id, `http://${cdn.domainName}`])),
    };
    // Last, so the file exists only once everything it names answers: the same outputs a deployed stack has.
    const outputs: TwinOutputsFile = {
      stackName: TWIN_NAMES.stackName,
      region,
      scheme: 'http',
      outputs: {
        [STACK_OUTPUT_KEYS.uploadBucket]: TWIN_NAMES.uploadBucket,
        [STACK_OUTPUT_KEYS.playbackApiUrl]: api.endpoint,
        [STACK_OUTPUT_KEYS.gatewayDomain]: gateway.domainName,
        [STACK_OUTPUT_KEYS.assetsTable]: TWIN_NAMES.assetsTable,
        [STACK_OUTPUT_KEYS.rollupsTable]: TWIN_NAMES.rollupsTable,
        [STACK_OUTPUT_KEYS.pathways]: JSON.stringify(Object.fromEntries(cdns.map((cdn) => [cdn.id, cdn.domainName]))),
      },
      endpoints: { s3: aws.endpoints.s3, dynamodb: aws.endpoints.dynamodb, mediaconvert: mediaconvert.endpoint, secretsManager: secrets.endpoint },
      // Copied: the SDK marks a credentials object it used (`$source`), and the file is read by another process.
      credentials: { accessKeyId: TWIN_CREDENTIALS.accessKeyId, secretAccessKey: TWIN_CREDENTIALS.secretAccessKey },
    };
    const outputsFile = join(dataDir, 'outputs.json');
    const outputsText = `${JSON.stringify(outputs, null, 2)}\n`;
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(`${outputsFile}.part`, outputsText);
    renameSync(`${outputsFile}.part`, outputsFile);
    // Removed first on stop, and only while it is still this twin's (another twin may have written its own since).
    stoppers.push(async () => {
      if (existsSync(outputsFile) && readFileSync(outputsFile, 'utf8') === outputsText) unlinkSync(outputsFile);
    });

    return {
      urls,
      cdns,
      outputsFile,
      s3: aws.clients.s3,
      documents,
      edgeKeys,
      upload,
      ...(audience ? { audience } : {}),
      tokenCheck,
      async usage() {
        const [{ usage, standInsCpuMs }, apiUsage] = await Promise.all([aws.readUsage(), apiHelper?.usage()]);
        const functions = { ...invocations.snapshot(), ...apiUsage?.usage };
        return { functions, tokenCheck, aws: usage, helperCpuMs: standInsCpuMs + (apiUsage?.cpuMs ?? 0) };
      },
      async stop() {
        for (const stop of stoppers.reverse()) await stop().catch((error: unknown) => console.error('[twin] stop failed', error));
      },
    };
  } catch (error) {
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
    throw error;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let twin: Twin;
  let audience: ReturnType<typeof parseAudienceFlags>;
  try {
    audience = parseAudienceFlags(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof AudienceFlagError)) throw error;
    console.error(error.message);
    process.exit(2);
  }
  // Every port is checked before anything starts: a second `npm run dev` gets one line, not a stack trace.
  const portBase = Number(process.env.TWIN_PORT_BASE ?? 4560);
  const { cdns: cdnPorts, ...servicePorts } = twinPorts(portBase);
  const twinServices: Record<string, number> = { ...servicePorts, ...Object.fromEntries(TWIN_NAMES.pathways.map((id, i) => [id, cdnPorts[i]!])) };
  const taken = await firstPortInUse(Object.values(twinServices));
  if (taken !== undefined) {
    console.error(portInUseMessage(taken, twinServices, portBase));
    process.exit(1);
  }
  try {
    twin = await startTwin({ sampleMaster: true, watchFolder: true, audience });
  } catch (error) {
    if (error instanceof FfmpegMissingError) {
      console.error(error.message);
      process.exit(1);
    }
    // A port taken between the check above and the listen.
    const port = portInUse(error);
    if (port !== undefined) {
      console.error(portInUseMessage(port, twinServices, portBase));
      process.exit(1);
    }
    throw error;
  }
  const dataDir = join(ROOT, '.twin');
  console.log('[twin] running on 127.0.0.1; the gateway and each CDN on its own *.localhost name (Ctrl-C stops everything):');
  for (const [name, url] of Object.entries(twin.urls)) console.log(`  ${name.padEnd(15)} ${url}`);
  console.log(`  sample asset    twin-sample, 3 minutes (ingest started; READY in about 40 s; the player waits for it) → ${twin.urls.player}?asset=twin-sample`);
  console.log(`  ingest a master: copy it into ${join(dataDir, 'drop')}/ (files there are also uploaded at start), or PUT it to s3://${TWIN_NAMES.uploadBucket}/uploads/<name>.mp4 (AWS_ENDPOINT_URL_S3=${twin.urls.s3}, keys S3RVER/S3RVER); each upload prints the asset id it becomes`);
  console.log(`  break a CDN:     "Break cf-a for 60 s" on the operator page, or curl -X POST ${twin.urls['cf-a']}/__twin/faults -d '{"down":"503"}'   (DELETE heals)`);
  console.log(
    audience
      ? `  audience        ${audience.sessions} simulated viewers in ${audience.countries.join(', ')} watch READY assets (--audience N, --countries US,DE; --audience 0 turns it off)`
      : '  audience        off (--audience 24 turns it on)',
  );
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    console.log('\n[twin] stopping…');
    void twin.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}
