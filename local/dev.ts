/**
 * `npm run dev` (DESIGN.md §8): the whole platform on one machine, offline, on 127.0.0.1. Wires the
 * twin's building blocks to the real handlers and edge functions, which reach the stand-ins only
 * through the SDK's `AWS_ENDPOINT_URL_<SERVICE>` variables and the environment their CDK constructs
 * give them. Handlers that do not exist yet are skipped with a warning. Ports: docs/local-twin.md.
 *
 * Run: `npm run dev` (TWIN_PORT_BASE moves every port, default 4560; LADDER picks the ladder, default compact).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { jobStateChangePattern, uploadCreatedPattern } from '../core/event-patterns';
import { DELIVERY_CORS } from '../core/identifiers';
import { generateInitialKeyring, serializeKeyring } from '../core/keyring';
import type { LadderName } from '../core/ladder';
import type { ScoringParams } from '../core/routing-score';
import { GLOBAL_SCOPE, PATHWAYS_KEY, weightsKey, type PathwayRegistryItem, type WeightsItem } from '../core/routing-types';
import { startHttpApi, type HttpApiHandler, type HttpApiRoute } from './apigw';
import { startLocalAws, type TableSpec } from './aws-servers';
import { startDistribution, type Distribution, type EdgeRequestHandler } from './edge/cloudfront-server';
import { LocalEventBus, type BusTarget } from './event-bus';
import { KinesisPoller, type KinesisHandler } from './kinesis-poller';
import { startMediaConvertServer } from './mediaconvert/server';
import { startSecretsManagerServer } from './secrets-manager';
import { watchDropFolder } from './twin/drop-folder';
import { assertFfmpegInstalled, FfmpegMissingError, FFMPEG_PATH, FFPROBE_PATH, generateTestMaster } from './twin/media-tools';
import { startPageServer, type PageRequestHandler } from './twin/page-server';

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
  keyringSecret: 'twin/playback-keyring',
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
    api: base + 10,
    gateway: base + 20,
    cdns: TWIN_NAMES.pathways.map((_, i) => base + 21 + i),
    pages: base + 30,
  };
}

/** The tables the CDK constructs declare, as data (keys from lib/constructs/*). */
export const TWIN_TABLES: readonly TableSpec[] = [
  { tableName: TWIN_NAMES.assetsTable, partitionKey: { name: 'assetId', type: 'S' }, sortKey: { name: 'sk', type: 'S' } },
  { tableName: TWIN_NAMES.routingTable, partitionKey: { name: 'pk', type: 'S' } },
  { tableName: TWIN_NAMES.rollupsTable, partitionKey: { name: 'minute', type: 'N' }, sortKey: { name: 'cell', type: 'S' } },
  { tableName: TWIN_NAMES.rateLimitTable, partitionKey: { name: 'pk', type: 'S' } },
];

/** Imports `<module>.<exportName>` if the module exists yet; other engineers are still writing some. */
async function loadExport<T>(modulePath: string, exportName = 'handler'): Promise<T | undefined> {
  const file = join(ROOT, `${modulePath}.ts`);
  if (!existsSync(file)) {
    console.warn(`[twin] ${modulePath}.ts does not exist yet; skipped`);
    return undefined;
  }
  try {
    const loaded = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    return loaded[exportName] as T | undefined;
  } catch (error) {
    // A module mid-edit by its owner must not take the whole twin down; its part is simply absent.
    console.warn(`[twin] ${modulePath}.ts failed to load; skipped: ${(error as Error).message}`);
    return undefined;
  }
}

/**
 * Edge functions run as the artefact CloudFront would get: bundled by lib/bundling/edge-bundle.ts
 * with their config baked in, then loaded as CommonJS (so `@aws-sdk/*` resolves from node_modules).
 */
async function loadEdgeFunction(fn: string, id: string, config: unknown): Promise<EdgeRequestHandler | undefined> {
  const bundle = await loadExport<(o: { entry: string; outDir: string; config: unknown; minify?: boolean }) => { outFile: string }>(
    'lib/bundling/edge-bundle',
    'bundleEdgeFunction',
  );
  const entry = join(ROOT, 'edge-functions', fn, 'index.ts');
  if (!bundle || !existsSync(entry)) return undefined;
  const outDir = join(BUILD_DIR, `${fn}-${id}`);
  mkdirSync(outDir, { recursive: true });
  // The repo is "type": "module"; the bundle is CommonJS like the artefact Lambda@Edge runs.
  writeFileSync(join(BUILD_DIR, 'package.json'), '{ "type": "commonjs" }\n');
  const { outFile } = bundle({ entry, outDir, config, minify: false });
  const require = createRequire(outFile);
  delete require.cache[outFile];
  return (require(outFile) as { handler: EdgeRequestHandler }).handler;
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
}

/**
 * The twin's routing controller runs on short clocks so a failover is visible within a minute or two
 * (operator page, e2e test); the cloud keeps DEFAULT_SCORING_PARAMS (docs/routing.md). A one-minute
 * window lets a healed CDN's errors leave the window at the next minute instead of after two; a 20 s
 * reversal hold (cloud: 300 s) and a 10 s promotion half-life (cloud: 60 s) let it climb back at once;
 * 30 samples per cell (cloud: 100) because a handful of local viewers is all the traffic there is.
 */
export const TWIN_SCORING_PARAMS: Partial<ScoringParams> = {
  windowMinutes: 1,
  minSamples: 30,
  reversalHoldSeconds: 20,
  promotionHalfLifeSeconds: 10,
};

export interface Twin {
  readonly urls: Record<string, string>;
  /** The delivery distributions, for fault injection. */
  readonly cdns: readonly Distribution[];
  readonly s3: S3Client;
  readonly documents: DynamoDBDocumentClient;
  /** Uploads a master to `uploads/<name>` in the upload bucket (starts an ingest). */
  upload(name: string, body: Buffer | Uint8Array | string): Promise<void>;
  stop(): Promise<void>;
}

export { FfmpegMissingError };

const SAMPLE_NAME = 'twin-sample.mp4';

export async function startTwin(options: TwinOptions = {}): Promise<Twin> {
  assertFfmpegInstalled();
  const ports = twinPorts(options.portBase ?? Number(process.env.TWIN_PORT_BASE ?? 4560));
  const ladder = options.ladder ?? ((process.env.LADDER as LadderName | undefined) || 'compact');
  const dataDir = options.dataDir ?? join(ROOT, '.twin');
  const aws = await startLocalAws({ ports });
  const region = aws.region;
  const stoppers: (() => Promise<void>)[] = [() => aws.stop()];
  try {
    await aws.createBuckets([TWIN_NAMES.uploadBucket, TWIN_NAMES.originBucket]);
    await aws.createTables(TWIN_TABLES);
    await aws.createStream(TWIN_NAMES.telemetryStream, 2);
    const documents = DynamoDBDocumentClient.from(aws.clients.dynamodb);

    const secrets = await startSecretsManagerServer({ region, port: ports.secretsManager });
    stoppers.push(() => secrets.stop());
    secrets.putSecret(TWIN_NAMES.keyringSecret, serializeKeyring(generateInitialKeyring()));

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

    const cdnHosts = ports.cdns.map((port) => `127.0.0.1:${port}`);
    const gatewayHost = `127.0.0.1:${ports.gateway}`;
    const apiEndpoint = `http://127.0.0.1:${ports.api}`;
    // The environment the CDK constructs give the handlers (lib/constructs/*), pointed at the twin.
    aws.applyEnvironment({ mediaconvert: mediaconvert.endpoint, secretsManager: secrets.endpoint, eventbridge: busEndpoint });
    Object.assign(process.env, {
      STACK_NAME: TWIN_NAMES.stackName,
      ASSETS_TABLE_NAME: TWIN_NAMES.assetsTable,
      ORIGIN_BUCKET_NAME: TWIN_NAMES.originBucket,
      EVENT_BUS_NAME: 'default',
      MEDIACONVERT_ROLE_ARN: 'arn:aws:iam::000000000000:role/twin-mediaconvert',
      LADDER: ladder,
      KEYRING_SECRET_ARN: TWIN_NAMES.keyringSecret,
      GATEWAY_DOMAIN: gatewayHost,
      // The twin has no TLS: signed URLs point at the plain-http gateway.
      GATEWAY_ORIGIN: `http://${gatewayHost}`,
      TOKEN_LIFETIME_SECONDS: '3600',
      TELEMETRY_STREAM_NAME: TWIN_NAMES.telemetryStream,
      RATE_LIMIT_TABLE_NAME: TWIN_NAMES.rateLimitTable,
      ROLLUPS_TABLE_NAME: TWIN_NAMES.rollupsTable,
      ROUTING_TABLE_NAME: TWIN_NAMES.routingTable,
      DISTRIBUTION_IDS: TWIN_NAMES.pathways.join(','),
      // One evaluation per invocation; the twin's own timer is the schedule (every routingTickMs).
      TICKS: '1',
      TICK_SECONDS: String((options.routingTickMs ?? 10_000) / 1000),
      SCORING_PARAMS_JSON: options.scoringParams
        ? JSON.stringify(options.scoringParams)
        : (process.env.SCORING_PARAMS_JSON ?? JSON.stringify(TWIN_SCORING_PARAMS)),
      POWERTOOLS_METRICS_DISABLED: 'true',
    });

    // The registry the deploy-time custom resource writes, and equal starting weights.
    const now = new Date().toISOString();
    const registry: PathwayRegistryItem = {
      pk: PATHWAYS_KEY,
      updatedAt: now,
      pathways: TWIN_NAMES.pathways.map((id, i) => ({ id, host: cdnHosts[i]!, enabled: true, cap: 1 })),
    };
    const equal: WeightsItem = {
      pk: weightsKey(GLOBAL_SCOPE),
      scope: GLOBAL_SCOPE,
      weights: Object.fromEntries(TWIN_NAMES.pathways.map((id) => [id, 1 / TWIN_NAMES.pathways.length])),
      version: 1,
      updatedAt: now,
      reason: 'twin start: equal weights',
    };
    await documents.send(new PutCommand({ TableName: TWIN_NAMES.routingTable, Item: registry }));
    await documents.send(new PutCommand({ TableName: TWIN_NAMES.routingTable, Item: equal }));

    // Ingest: upload → submit-job; job state → job-status.
    const submitJob = await loadExport<BusTarget>('lambdas/submit-job/index');
    if (submitJob) bus.addRule('SubmitJob', uploadCreatedPattern(TWIN_NAMES.uploadBucket), submitJob);
    const jobStatus = await loadExport<BusTarget>('lambdas/job-status/index');
    if (jobStatus) bus.addRule('JobStatus', jobStateChangePattern(TWIN_NAMES.stackName), jobStatus);

    // Delivery: one distribution per pathway, viewer-auth on viewer-request, logs to the stream.
    const keyringConfig = { secretId: TWIN_NAMES.keyringSecret, regions: [region], timeoutMs: 1000, refreshSeconds: 60 };
    const cdns: Distribution[] = [];
    for (const [i, id] of TWIN_NAMES.pathways.entries()) {
      const cdn = await startDistribution({
        id,
        domainName: cdnHosts[i],
        port: ports.cdns[i],
        origin: { s3: aws.clients.s3, bucket: TWIN_NAMES.originBucket, region },
        viewerRequest: await loadEdgeFunction('viewer-auth', id, { pathwayId: id, keyring: keyringConfig }),
        cors: DELIVERY_CORS,
        realtimeLog: { kinesis: aws.clients.kinesis, streamName: TWIN_NAMES.telemetryStream },
      });
      cdns.push(cdn);
      stoppers.push(() => cdn.stop());
    }

    // Gateway: steering on origin-request, caching disabled; `/v1/cmcd/*` goes to the ingest API (ADR 0004).
    const gateway = await startDistribution({
      id: 'gateway',
      domainName: gatewayHost,
      port: ports.gateway,
      caching: false,
      origin: { s3: aws.clients.s3, bucket: TWIN_NAMES.originBucket, region },
      customOrigins: [{ pathPrefix: '/v1/cmcd/', origin: apiEndpoint }],
      originRequest: await loadEdgeFunction('steering', 'gateway', {
        keyring: keyringConfig,
        routingTable: { name: TWIN_NAMES.routingTable, region },
        steeringTtlSeconds: 10,
        routingCacheSeconds: 5,
        publicScheme: 'http',
      }),
    });
    stoppers.push(() => gateway.stop());

    // APIs: playback sessions and CMCD report ingest.
    const routes: HttpApiRoute[] = [];
    const playback = await loadExport<HttpApiHandler>('lambdas/playback-api/index');
    if (playback) routes.push({ routeKey: 'POST /sessions', handler: playback, functionName: 'playback-api' });
    const ingest = await loadExport<HttpApiHandler>('lambdas/cmcd-ingest/index');
    if (ingest) {
      // The same two routes as the CDK HttpApi (lib/constructs/telemetry-pipeline.ts): browsers preflight a
      // POST with `Content-Type: application/cmcd` (not CORS-safelisted), and the handler answers OPTIONS.
      routes.push({ routeKey: 'POST /v1/cmcd/{token}', handler: ingest, functionName: 'cmcd-ingest' });
      routes.push({ routeKey: 'OPTIONS /v1/cmcd/{token}', handler: ingest, functionName: 'cmcd-ingest' });
    }
    const api = await startHttpApi(routes, { port: ports.api });
    stoppers.push(() => api.stop());

    // Telemetry: stream → qoe-aggregator; a schedule → routing-weights.
    const aggregator = await loadExport<KinesisHandler>('lambdas/qoe-aggregator/index');
    if (aggregator) {
      const poller = new KinesisPoller({
        client: aws.clients.kinesis,
        streamName: TWIN_NAMES.telemetryStream,
        handler: (event) => (aggregator as unknown as (e: unknown, c: unknown) => ReturnType<KinesisHandler>)(event, {}),
        batchSize: 500,
        maximumBatchingWindowMs: 2000,
        onFailure: (failure) => console.error('[twin] aggregator gave up on records', failure),
      });
      await poller.start();
      stoppers.push(() => poller.stop());
    }
    const routingWeights = await loadExport<(event: unknown) => Promise<unknown>>('lambdas/routing-weights/index');
    if (routingWeights) {
      let running = false;
      const timer = setInterval(() => {
        if (running) return;
        running = true;
        routingWeights({ source: 'aws.scheduler' })
          .catch((error: unknown) => console.error('[twin] routing-weights failed', error))
          .finally(() => (running = false));
      }, options.routingTickMs ?? 10_000);
      stoppers.push(async () => clearInterval(timer));
    }

    // Pages: player, operator (with its API when that module exists), vendored player libraries.
    const handlers: PageRequestHandler[] = [];
    const createOperatorApi = await loadExport<(deps: unknown) => PageRequestHandler>('local/operator-api', 'createOperatorApi');
    if (createOperatorApi) {
      handlers.push(
        createOperatorApi({
          documents,
          tables: { assets: TWIN_NAMES.assetsTable, routing: TWIN_NAMES.routingTable, rollups: TWIN_NAMES.rollupsTable },
          distributions: cdns.map((cdn) => ({ id: cdn.id, controlEndpoint: cdn.endpoint })),
        }),
      );
    }
    const pages = await startPageServer({
      root: ROOT,
      port: ports.pages,
      apiEndpoint: api.endpoint,
      handlers,
      config: {
        gateway: gateway.endpoint,
        cdns: cdns.map((cdn) => ({ id: cdn.id, endpoint: cdn.endpoint })),
      },
    });
    stoppers.push(() => pages.stop());

    const upload = async (name: string, body: Buffer | Uint8Array | string): Promise<void> => {
      await aws.clients.s3.send(new PutObjectCommand({ Bucket: TWIN_NAMES.uploadBucket, Key: `uploads/${name}`, Body: body }));
    };

    if (options.watchFolder) {
      const drop = watchDropFolder({
        directory: join(dataDir, 'drop'),
        s3: aws.clients.s3,
        bucket: TWIN_NAMES.uploadBucket,
        onUploaded: (key) => console.log(`[twin] dropped file uploaded to s3://${TWIN_NAMES.uploadBucket}/${key}`),
        onError: (file, error) => console.error(`[twin] could not upload dropped ${file}`, error),
      });
      stoppers.push(async () => drop.stop());
    }
    if (options.sampleMaster) {
      // Catalog and buckets are in memory, so the sample is ingested on every start; only the master is kept.
      const sample = join(dataDir, SAMPLE_NAME);
      mkdirSync(dataDir, { recursive: true });
      if (!existsSync(sample)) await generateTestMaster(sample, { seconds: 12, width: 1280, height: 720 });
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
      api: api.endpoint,
      gateway: gateway.endpoint,
      ...Object.fromEntries(cdns.map((cdn) => [cdn.id, cdn.endpoint])),
    };
    return {
      urls,
      cdns,
      s3: aws.clients.s3,
      documents,
      upload,
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
  try {
    twin = await startTwin({ sampleMaster: true, watchFolder: true });
  } catch (error) {
    if (error instanceof FfmpegMissingError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const dataDir = join(ROOT, '.twin');
  console.log('[twin] running on 127.0.0.1 (Ctrl-C stops everything):');
  for (const [name, url] of Object.entries(twin.urls)) console.log(`  ${name.padEnd(15)} ${url}`);
  console.log(`  sample asset    twin-sample (ingest started; READY in about a minute) → ${twin.urls.player}?asset=twin-sample`);
  console.log(`  ingest a master: copy it into ${join(dataDir, 'drop')}/, or PUT it to s3://${TWIN_NAMES.uploadBucket}/uploads/<name>.mp4 (AWS_ENDPOINT_URL_S3=${twin.urls.s3}, keys S3RVER/S3RVER)`);
  console.log(`  break a CDN:     curl -X POST ${twin.urls['cf-a']}/__twin/faults -d '{"down":"503"}'   (DELETE heals)`);
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
