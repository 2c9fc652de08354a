/**
 * Takedown end to end in the twin (ADR 0011, ADR 0012): the real takedown API and worker handlers, the
 * real ingest handlers, s3rver, dynalite, the event bus, the MediaConvert stand-in, the CloudFront
 * distribution stand-ins and the CloudFront API stand-in. One asset has a READY revision whose segments
 * sit in two CDN caches, and a newer upload whose job is still encoding; DELETE must cancel that job,
 * empty the origin and the caches, and end TAKEN_DOWN.
 *
 * The "ffmpeg" of this MediaConvert stand-in blocks until it is killed, so the job is PROGRESSING for as
 * long as the test needs (no race with a real encode) and cancelling it is seen as its process ending.
 * The distributions run without viewer-auth: the cache key is the token-stripped path either way
 * (ADR 0005), and tokens are test/integration/twin-edge.test.ts's subject.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { CancelJobCommand, ConflictException, CreateJobCommand, GetJobCommand, MediaConvertClient, NotFoundException } from '@aws-sdk/client-mediaconvert';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newRevision, nextHead } from '../../core/asset-status';
import { jobStateChangePattern, takedownRequestedPattern, uploadCreatedPattern } from '../../core/event-patterns';
import type { AssetStatusView } from '../../core/takedown';
import { PLAYBACK_API_ROUTES, routeKeyOf } from '../../lib/topology';
import { lambdaContext, startHttpApi, type HttpApiRoute } from '../../local/apigw';
import { applyToProcessEnv, startLocalAws, TWIN_CREDENTIALS, type LocalAws } from '../../local/aws-servers';
import { startCloudFrontApi, type CloudFrontApi } from '../../local/edge/cloudfront-api';
import { startDistribution, type Distribution } from '../../local/edge/cloudfront-server';
import { type BusEvent, LocalEventBus } from '../../local/event-bus';
import { type MediaConvertServer, startMediaConvertServer } from '../../local/mediaconvert/server';
import { TWIN_NAMES, TWIN_TABLES, twinEnvironmentNames } from '../../local/dev';
import { FFPROBE_PATH, generateTestMaster } from '../../local/twin/media-tools';
import { twinFunctionEnvironments } from '../../local/twin/function-environments';
import { CatalogTable } from '../../tables/catalog-table';

const ASSET = 'trailer';
const OTHER = 'keeper';
/** A READY revision uploaded long before the test; its segments are what viewers fetch. */
const R0 = '20200101-000000-000000000000000000000001';
const R0_KEYS = [`media/${ASSET}/${R0}/main.m3u8`, `media/${ASSET}/${R0}/video_1.m3u8`, `media/${ASSET}/${R0}/video_1_00001.mp4`, `media/${ASSET}/${R0}/video_1_00002.mp4`];
const OTHER_KEY = `media/${OTHER}/${R0}/video_1_00001.mp4`;

/** Polls until `probe` returns a value: the test waits on conditions, never on time. */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 45_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('takedown in the twin', () => {
  let aws: LocalAws;
  let bus: LocalEventBus;
  let mediaconvert: MediaConvertServer;
  let cloudfrontApi: CloudFrontApi;
  let cdns: Distribution[];
  let api: { endpoint: string; stop(): Promise<void> };
  let catalog: CatalogTable;
  let workDir: string;
  const restoreEnvironment: (() => void)[] = [];
  const targetErrors: unknown[] = [];
  /** The job the takedown cancelled (first test), whose settings the MediaConvert test reuses. */
  let canceledByTakedown: string | undefined;

  const pidFile = () => join(workDir, 'encoder.pid');
  /** The pid the blocking encoder wrote once the stand-in started it. */
  const encoderStarted = async (): Promise<number> =>
    Number(
      await waitFor('the encoder to start', async () => {
        try {
          return readFileSync(pidFile(), 'utf8').trim() || undefined;
        } catch {
          return undefined;
        }
      }),
    );
  const call = (method: string, assetId: string) => fetch(`${api.endpoint}/assets/${assetId}`, { method });
  const statusOf = async (assetId: string) => (await (await call('GET', assetId)).json()) as AssetStatusView;
  const fetchSegment = (cdn: Distribution, key: string) => fetch(`${cdn.endpoint}/${key}`);

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'twin-takedown-'));
    // Stands in for ffmpeg: records its pid, then blocks until the stand-in kills it (exec keeps the pid).
    const encoder = join(workDir, 'blocking-ffmpeg.sh');
    writeFileSync(encoder, `#!/bin/sh\necho $$ > '${pidFile()}'\nexec sleep 600\n`);
    chmodSync(encoder, 0o755);

    aws = await startLocalAws();
    await aws.createBuckets([TWIN_NAMES.uploadBucket, TWIN_NAMES.originBucket]);
    await aws.createTables(TWIN_TABLES.filter((t) => t.tableName === TWIN_NAMES.assetsTable));
    bus = new LocalEventBus({ region: aws.region, onTargetError: (failure) => targetErrors.push(failure.error) });
    const busEndpoint = await bus.listen();
    bus.attachS3rver(aws.s3rver);
    mediaconvert = await startMediaConvertServer({
      s3: aws.clients.s3,
      region: aws.region,
      ffmpegPath: encoder,
      ffprobePath: FFPROBE_PATH,
      onJobStateChange: (event) => void bus.publish(event as BusEvent),
    });
    cdns = await Promise.all(
      TWIN_NAMES.pathways.map((id) => startDistribution({ id, origin: { s3: aws.clients.s3, bucket: TWIN_NAMES.originBucket, region: aws.region } })),
    );
    cloudfrontApi = await startCloudFrontApi({ distributions: new Map(cdns.map((cdn) => [cdn.id, cdn])) });

    restoreEnvironment.push(aws.applyEnvironment({ mediaconvert: mediaconvert.endpoint, eventbridge: busEndpoint, cloudfront: cloudfrontApi.endpoint }));
    const environments = twinFunctionEnvironments({
      ...twinEnvironmentNames,
      gatewayHost: '127.0.0.1:1',
      ladder: 'compact',
      routingTickSeconds: 10,
      scoringParams: {},
      tokenLifetimeSeconds: 3600,
    });
    restoreEnvironment.push(
      applyToProcessEnv({ ...environments['submit-job'], ...environments['job-status'], ...environments.takedown, ...environments['takedown-worker'] }),
    );
    // Imported after the environment is set: each module builds its clients when it loads, as in Lambda.
    const [submitJob, jobStatus, takedown, takedownWorker] = await Promise.all([
      import('../../lambdas/submit-job/index'),
      import('../../lambdas/job-status/index'),
      import('../../lambdas/takedown/index'),
      import('../../lambdas/takedown-worker/index'),
    ]);
    bus.addRule('SubmitJob', uploadCreatedPattern(TWIN_NAMES.uploadBucket), (event) => submitJob.handler(event, lambdaContext('submit-job', randomUUID(), 60_000)));
    bus.addRule('JobStatus', jobStateChangePattern(TWIN_NAMES.stackName), (event) => jobStatus.handler(event, lambdaContext('job-status', randomUUID())));
    bus.addRule('TakedownWorker', takedownRequestedPattern(), (event) => takedownWorker.handler(event, lambdaContext('takedown-worker', randomUUID(), 300_000)));
    const routes: HttpApiRoute[] = PLAYBACK_API_ROUTES.filter((route) => route.handledBy === 'takedown').map((route) => ({
      routeKey: routeKeyOf(route),
      handler: takedown.handler,
      functionName: 'takedown',
    }));
    api = await startHttpApi(routes);

    // The READY revision: catalog items and origin objects, as an earlier encode left them.
    catalog = new CatalogTable(DynamoDBDocumentClient.from(aws.clients.dynamodb), TWIN_NAMES.assetsTable);
    const uploadedAt = '2020-01-01T00:00:00.000Z';
    for (const assetId of [ASSET, OTHER]) {
      await catalog.createRevision({
        ...newRevision({ assetId, revision: R0, uploadedAt, sourceBucket: TWIN_NAMES.uploadBucket, sourceKey: `uploads/${assetId}.mp4`, now: uploadedAt }),
        status: 'READY',
      });
      await catalog.writeHead(assetId, undefined, nextHead(undefined, { revision: R0, status: 'READY', uploadedAt, now: uploadedAt })!);
    }
    for (const Key of [...R0_KEYS, OTHER_KEY]) {
      await aws.clients.s3.send(new PutObjectCommand({ Bucket: TWIN_NAMES.originBucket, Key, Body: `bytes of ${Key}`, ContentType: 'video/mp4' }));
    }

    // A newer upload of the same asset, whose job is still encoding when the takedown comes.
    const master = join(workDir, `${ASSET}.mp4`);
    await generateTestMaster(master, { seconds: 2, width: 160, height: 90, fps: 10 });
    await aws.clients.s3.send(new PutObjectCommand({ Bucket: TWIN_NAMES.uploadBucket, Key: `uploads/${ASSET}.mp4`, Body: await readFile(master) }));
  });

  afterAll(async () => {
    await api?.stop();
    await mediaconvert?.stop();
    await bus?.close();
    await cloudfrontApi?.stop();
    for (const cdn of cdns ?? []) await cdn.stop();
    await aws?.stop();
    for (const restore of restoreEnvironment.reverse()) restore();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('takes the asset down: running job cancelled, origin emptied, every cache invalidated, TAKEN_DOWN recorded', async () => {
    // Prepare: the new upload's job is encoding, and two CDNs hold the READY revision's segments.
    const encoding = await waitFor('the new upload to be PROGRESSING with its job', async () => {
      const revisions = (await catalog.getAsset(ASSET))?.revisions ?? [];
      return revisions.find((r) => r.revision !== R0 && r.status === 'PROGRESSING' && r.jobId !== undefined);
    });
    canceledByTakedown = encoding.jobId;
    const encoderPid = await encoderStarted();
    const segment = R0_KEYS[2]!;
    for (const cdn of cdns.slice(0, 2)) {
      expect((await fetchSegment(cdn, segment)).headers.get('x-cache')).toBe('Miss from cloudfront');
      expect((await fetchSegment(cdn, segment)).headers.get('x-cache')).toBe('Hit from cloudfront');
    }

    // Act
    const accepted = await call('DELETE', ASSET);
    const body = (await accepted.json()) as AssetStatusView;
    const done = await waitFor('TAKEN_DOWN', async () => {
      const status = await statusOf(ASSET);
      return status.status === 'TAKEN_DOWN' ? status : undefined;
    });

    // Assess: the answer came before the work and points at the status.
    expect(accepted.status).toBe(202);
    expect(accepted.headers.get('location')).toBe(`/assets/${ASSET}`);
    expect(body).toMatchObject({ status: 'TAKEDOWN_PENDING', statusUrl: `/assets/${ASSET}`, takedown: { status: 'PENDING' } });
    // The catalog's record of what was done.
    expect(done.takedown).toMatchObject({
      status: 'TAKEN_DOWN',
      requestedAt: body.takedown!.requestedAt,
      canceledJobs: [encoding.jobId],
      deletedObjects: R0_KEYS.length,
      completedAt: expect.any(String),
    });
    // The running job was cancelled: its encoder process is gone and the CANCELED state change went out.
    expect(mediaconvert.getJob(encoding.jobId!)?.Status).toBe('CANCELED');
    expect(() => process.kill(encoderPid, 0)).toThrow(/ESRCH/);
    expect(bus.history.some((e) => e.source === 'aws.mediaconvert' && (e.detail as { status?: string }).status === 'CANCELED')).toBe(true);
    // Nothing of the asset is left at the origin; another asset is untouched.
    const left = await aws.clients.s3.send(new ListObjectsV2Command({ Bucket: TWIN_NAMES.originBucket, Prefix: 'media/' }));
    expect((left.Contents ?? []).map((o) => o.Key)).toEqual([OTHER_KEY]);
    // One invalidation per distribution, recorded in the catalog with CloudFront's ids.
    expect(cloudfrontApi.invalidations.map((i) => [i.distributionId, i.paths])).toEqual(TWIN_NAMES.pathways.map((id) => [id, [`/media/${ASSET}/*`]]));
    expect(done.takedown!.invalidations).toEqual(cloudfrontApi.invalidations.map((i) => ({ distributionId: i.distributionId, invalidationId: i.id })));
    // Segments through the CDNs now fail: not from the cache, and the origin refuses.
    for (const cdn of cdns) {
      const after = await fetchSegment(cdn, segment);
      expect(after.status).toBe(403);
      expect(after.headers.get('x-cache')).not.toBe('Hit from cloudfront');
    }
    expect((await fetchSegment(cdns[0]!, OTHER_KEY)).status).toBe(200);
    // The catalog bus announced it.
    const removed = bus.history.filter((e) => e['detail-type'] === 'Asset Removed');
    expect(removed.map((e) => e.detail)).toEqual([expect.objectContaining({ assetId: ASSET, deletedObjects: R0_KEYS.length, canceledJobs: [encoding.jobId] })]);
    expect(targetErrors).toEqual([]);
  });

  it('answers a repeat DELETE with the same status and does no work twice', async () => {
    // Prepare: whatever the takedown set off (job-status on the CANCELED job) has finished.
    await bus.idle();
    const before = await statusOf(ASSET);
    const invalidations = cloudfrontApi.invalidations.length;
    const events = bus.history.length;
    // Act
    const repeat = await call('DELETE', ASSET);
    await bus.idle();
    // Assess
    expect(repeat.status).toBe(202);
    expect(await repeat.json()).toEqual(before);
    expect(cloudfrontApi.invalidations).toHaveLength(invalidations);
    expect(bus.history.slice(events)).toEqual([]);
  });

  it('cancels through the MediaConvert API as the service does: a queued job at once, a running one by stopping it, an ended one refused', async () => {
    // Prepare: two jobs with the settings submit-job made; the first encodes (blocks), the second waits its turn.
    const client = new MediaConvertClient({ endpoint: mediaconvert.endpoint, region: aws.region, credentials: TWIN_CREDENTIALS });
    const canceled = mediaconvert.getJob(canceledByTakedown!)!;
    rmSync(pidFile(), { force: true });
    const create = async () => (await client.send(new CreateJobCommand({ Role: canceled.Role, Settings: canceled.Settings, UserMetadata: { stack: 'other' } }))).Job!.Id!;
    const running = await create();
    const queued = await create();
    await waitFor('the first job to encode', async () => (mediaconvert.getJob(running)?.Status === 'PROGRESSING' ? true : undefined));
    const encoderPid = await encoderStarted();
    const eventsBefore = bus.history.length;

    // Act
    await client.send(new CancelJobCommand({ Id: queued }));
    const queuedAfter = await client.send(new GetJobCommand({ Id: queued }));
    await client.send(new CancelJobCommand({ Id: running }));
    const runningAfter = await client.send(new GetJobCommand({ Id: running }));

    // Assess
    expect([queuedAfter.Job!.Status, runningAfter.Job!.Status]).toEqual(['CANCELED', 'CANCELED']);
    expect(() => process.kill(encoderPid, 0)).toThrow(/ESRCH/);
    const canceledEvents = bus.history.slice(eventsBefore).filter((e) => (e.detail as { status?: string }).status === 'CANCELED');
    expect(canceledEvents.map((e) => (e.detail as { jobId: string }).jobId)).toEqual([queued, running]);
    await expect(client.send(new CancelJobCommand({ Id: running }))).rejects.toBeInstanceOf(ConflictException);
    await expect(client.send(new CancelJobCommand({ Id: 'no-such-job' }))).rejects.toBeInstanceOf(NotFoundException);
    client.destroy();
  });

  it('answers 404 for an unknown asset and 400 for a bad id, on both routes', async () => {
    expect((await call('DELETE', 'never-uploaded')).status).toBe(404);
    expect((await call('GET', 'never-uploaded')).status).toBe(404);
    expect((await call('DELETE', 'Not%20An%20Id')).status).toBe(400);
    expect((await call('GET', 'Not%20An%20Id')).status).toBe(400);
  });
});
