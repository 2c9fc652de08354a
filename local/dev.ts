/**
 * `npm run dev` (DESIGN.md §8): the whole platform on one machine, offline, on 127.0.0.1. Wires the
 * twin's building blocks to the real handlers and edge functions, which reach the stand-ins only
 * through the SDK's `AWS_ENDPOINT_URL_<SERVICE>` variables and the environment their CDK constructs
 * give them. Handlers that do not exist yet are skipped with a warning. Ports: docs/local-twin.md.
 *
 * Run: `npx tsx local/dev.ts` (TWIN_PORT_BASE moves every port; default 4560).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { jobStateChangePattern, uploadCreatedPattern } from '../core/event-patterns';
import { generateInitialKeyring, serializeKeyring } from '../core/keyring';
import { PATHWAYS_KEY } from '../core/routing-types';
import { startHttpApi, type HttpApiHandler, type HttpApiRoute } from './apigw';
import { startLocalAws, type TableSpec } from './aws-servers';
import { startDistribution, type Distribution, type EdgeRequestHandler } from './edge/cloudfront-server';
import { LocalEventBus, type BusTarget } from './event-bus';
import { KinesisPoller, type KinesisHandler } from './kinesis-poller';
import { startMediaConvertServer } from './mediaconvert/server';
import { startSecretsManagerServer } from './secrets-manager';

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
  const loaded = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  return loaded[exportName] as T | undefined;
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
  const { outFile } = bundle({ entry, outDir, config, minify: false });
  const require = createRequire(outFile);
  delete require.cache[outFile];
  return (require(outFile) as { handler: EdgeRequestHandler }).handler;
}

export interface Twin {
  readonly urls: Record<string, string>;
  stop(): Promise<void>;
}

export async function startTwin(portBase = Number(process.env.TWIN_PORT_BASE ?? 4560)): Promise<Twin> {
  const ports = twinPorts(portBase);
  const aws = await startLocalAws({ ports });
  const region = aws.region;
  const stoppers: (() => Promise<void>)[] = [() => aws.stop()];
  try {
    await aws.createBuckets([TWIN_NAMES.uploadBucket, TWIN_NAMES.originBucket]);
    await aws.createTables(TWIN_TABLES);
    await aws.createStream(TWIN_NAMES.telemetryStream, 2);

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
      onJobStateChange: (event) => void bus.publish(event),
    });
    stoppers.push(() => mediaconvert.stop());

    const cdnHosts = ports.cdns.map((port) => `127.0.0.1:${port}`);
    const gatewayHost = `127.0.0.1:${ports.gateway}`;
    // The environment the CDK constructs give the handlers (lib/constructs/*), pointed at the twin.
    aws.applyEnvironment({ mediaconvert: mediaconvert.endpoint, secretsManager: secrets.endpoint, eventbridge: busEndpoint });
    Object.assign(process.env, {
      STACK_NAME: TWIN_NAMES.stackName,
      ASSETS_TABLE_NAME: TWIN_NAMES.assetsTable,
      ORIGIN_BUCKET_NAME: TWIN_NAMES.originBucket,
      EVENT_BUS_NAME: 'default',
      MEDIACONVERT_ROLE_ARN: 'arn:aws:iam::000000000000:role/twin-mediaconvert',
      KEYRING_SECRET_ARN: TWIN_NAMES.keyringSecret,
      GATEWAY_DOMAIN: gatewayHost,
      TOKEN_LIFETIME_SECONDS: '3600',
      TELEMETRY_STREAM_NAME: TWIN_NAMES.telemetryStream,
      RATE_LIMIT_TABLE_NAME: TWIN_NAMES.rateLimitTable,
      ROLLUPS_TABLE_NAME: TWIN_NAMES.rollupsTable,
      ROUTING_TABLE_NAME: TWIN_NAMES.routingTable,
      DISTRIBUTION_IDS: TWIN_NAMES.pathways.join(','),
      POWERTOOLS_METRICS_DISABLED: 'true',
    });

    await aws.clients.dynamodb.send(
      new PutItemCommand({
        TableName: TWIN_NAMES.routingTable,
        Item: {
          pk: { S: PATHWAYS_KEY },
          updatedAt: { S: new Date().toISOString() },
          pathways: {
            L: TWIN_NAMES.pathways.map((id, i) => ({
              M: { id: { S: id }, host: { S: cdnHosts[i]! }, enabled: { BOOL: true }, cap: { N: '1' } },
            })),
          },
        },
      }),
    );

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
        realtimeLog: { kinesis: aws.clients.kinesis, streamName: TWIN_NAMES.telemetryStream },
      });
      cdns.push(cdn);
      stoppers.push(() => cdn.stop());
    }

    // Gateway: steering on origin-request, caching disabled.
    const gateway = await startDistribution({
      id: 'gateway',
      domainName: gatewayHost,
      port: ports.gateway,
      caching: false,
      origin: { s3: aws.clients.s3, bucket: TWIN_NAMES.originBucket, region },
      originRequest: await loadEdgeFunction('steering', 'gateway', {
        keyring: keyringConfig,
        routingTable: { name: TWIN_NAMES.routingTable, region },
        steeringTtlSeconds: 10,
        routingCacheSeconds: 5,
      }),
    });
    stoppers.push(() => gateway.stop());

    // APIs: playback sessions and CMCD report ingest.
    const routes: HttpApiRoute[] = [];
    const playback = await loadExport<HttpApiHandler>('lambdas/playback-api/index');
    if (playback) routes.push({ routeKey: 'POST /sessions', handler: playback, functionName: 'playback-api' });
    const ingest = await loadExport<HttpApiHandler>('lambdas/cmcd-ingest/index');
    if (ingest) routes.push({ routeKey: 'POST /v1/cmcd/{token}', handler: ingest, functionName: 'cmcd-ingest' });
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
      const timer = setInterval(() => {
        routingWeights({ source: 'aws.scheduler' }).catch((error: unknown) => console.error('[twin] routing-weights failed', error));
      }, 10_000);
      stoppers.push(async () => clearInterval(timer));
    }

    const urls = {
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
  const twin = await startTwin();
  console.log('[twin] running on 127.0.0.1:');
  for (const [name, url] of Object.entries(twin.urls)) console.log(`  ${name.padEnd(15)} ${url}`);
  console.log(`  upload a master: s3://${TWIN_NAMES.uploadBucket}/uploads/<name>.mp4 (AWS_ENDPOINT_URL_S3=${twin.urls.s3})`);
  const shutdown = () => void twin.stop().then(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}
