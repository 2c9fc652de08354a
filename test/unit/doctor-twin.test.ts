import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueCommand, ListQueuesCommand, MediaConvertClient, NotFoundException } from '@aws-sdk/client-mediaconvert';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CheckResult,
  exitCodeOf,
  judgeTwinMediaConvert,
  judgeTwinOutputs,
  judgeTwinResource,
  renderReport,
  twinSkippedChecks,
} from '../../core/doctor-checks';
import { STACK_OUTPUT_KEYS } from '../../core/stack-outputs';
import { runTwinDoctor } from '../../lib/doctor/read-twin';
import { startMediaConvertServer, type MediaConvertServer } from '../../local/mediaconvert/server';

const MC = 'http://127.0.0.1:4563';
const refused = { ok: false, error: { name: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:4563', code: 'ECONNREFUSED' } } as const;

describe('what `npm run doctor -- --twin` says of the twin', () => {
  it('passes a MediaConvert stand-in with an ACTIVE Default queue and fails one without', () => {
    expect(judgeTwinMediaConvert(MC, { ok: true, value: [{ name: 'Default', status: 'ACTIVE' }] })).toEqual({
      check: 'mediaconvert',
      status: 'PASS',
      detail: `${MC}: Default queue ACTIVE`,
    });
    expect(judgeTwinMediaConvert(MC, { ok: true, value: [] })).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('lists no Default queue') });
    expect(judgeTwinMediaConvert(MC, { ok: true, value: [{ name: 'Default', status: 'PAUSED' }] })).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('PAUSED') });
  });

  it('tells a refused connection as a twin that is not running, with `npm run dev` as the fix', () => {
    const result = judgeTwinMediaConvert(MC, refused);
    expect(result.status).toBe('FAIL');
    expect(result.detail).toBe(`nothing answers at ${MC} (ListQueues): the twin is not running`);
    expect(result.fix?.[0]).toContain('`npm run dev`');
    // Any other error is told as it is.
    const other = judgeTwinResource({ kind: 'table', role: 'catalog', name: 'twin-assets' }, 'http://127.0.0.1:4561', {
      ok: false,
      error: { name: 'UnrecognizedClientException', message: 'bad key' },
    });
    expect(other).toMatchObject({ check: 'table catalog', status: 'FAIL', detail: 'DescribeTable twin-assets at http://127.0.0.1:4561 failed (UnrecognizedClientException: bad key)' });
  });

  it('fails a table, bucket or secret the outputs name that the twin does not have', () => {
    const bucket = { kind: 'bucket', role: 'uploads', name: 'twin-no-such-bucket' } as const;
    expect(judgeTwinResource(bucket, 'http://127.0.0.1:4560', { ok: true, value: true })).toEqual({
      check: 'bucket uploads',
      status: 'PASS',
      detail: 'twin-no-such-bucket exists at http://127.0.0.1:4560',
    });
    expect(judgeTwinResource(bucket, 'http://127.0.0.1:4560', { ok: true, value: false })).toMatchObject({
      status: 'FAIL',
      detail: 'bucket twin-no-such-bucket does not exist at http://127.0.0.1:4560: the outputs file names something this twin does not have',
    });
    expect(judgeTwinResource({ kind: 'secret', role: 'keyring', name: 'twin/playback-keyring' }, 'http://127.0.0.1:4564', { ok: true, value: true }).detail).toBe(
      'twin/playback-keyring readable at http://127.0.0.1:4564',
    );
  });

  it('says to start the twin when its outputs file cannot be read', () => {
    const result = judgeTwinOutputs('/x/outputs.json', { ok: false, error: { name: 'StackOutputsError', message: '/x/outputs.json does not exist' } });
    expect(result).toMatchObject({ check: 'twin outputs', status: 'FAIL', detail: '/x/outputs.json does not exist' });
    expect(result.fix?.[0]).toMatch(/^start the twin: `npm run dev`/);
  });

  it('prints one SKIP line per check the twin has no service for, counts them, and does not fail on them', () => {
    const skipped = twinSkippedChecks();
    expect(skipped.map((r) => r.check)).toEqual(['credentials', 'bootstrap', 'cloudfront', 'lambda concurrency', 'lambda@edge quota', 'stacks', 'leftovers']);
    expect(skipped.every((r) => r.status === 'SKIP' && r.detail.startsWith('does not apply to the twin: '))).toBe(true);
    const results: CheckResult[] = [judgeTwinMediaConvert(MC, { ok: true, value: [{ name: 'Default', status: 'ACTIVE' }] }), ...skipped];
    expect(exitCodeOf(results)).toBe(0);
    expect(renderReport(results, { twin: true }).split('\n').at(-1)).toBe('0 FAIL, 0 WARN, 1 PASS, 7 SKIP: the twin answers as the handlers expect.');
    expect(renderReport([judgeTwinMediaConvert(MC, refused), ...skipped], { twin: true }).split('\n').at(-1)).toBe(
      '1 FAIL, 0 WARN, 0 PASS, 7 SKIP: fix the FAIL lines; the twin is not what the handlers expect.',
    );
  });
});

describe('the MediaConvert stand-in answers ListQueues and GetQueue as the real SDK parses them', () => {
  let server: MediaConvertServer;
  let client: MediaConvertClient;

  beforeAll(async () => {
    // No job runs here: the S3 client is never used.
    server = await startMediaConvertServer({ s3: new S3Client({ region: 'us-east-1' }), region: 'eu-west-1', account: '123456789012' });
    client = new MediaConvertClient({ region: 'eu-west-1', endpoint: server.endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  });
  afterAll(async () => {
    client?.destroy();
    await server?.stop();
  });

  it('lists the ACTIVE on-demand Default queue', async () => {
    const { Queues } = await client.send(new ListQueuesCommand({ MaxResults: 20 }));
    expect(Queues).toEqual([
      expect.objectContaining({
        Arn: 'arn:aws:mediaconvert:eu-west-1:123456789012:queues/Default',
        Name: 'Default',
        Status: 'ACTIVE',
        Type: 'SYSTEM',
        PricingPlan: 'ON_DEMAND',
        SubmittedJobsCount: 0,
        ProgressingJobsCount: 0,
        CreatedAt: expect.any(Date),
      }),
    ]);
  });

  it('gets the Default queue by name and answers NotFoundException for any other', async () => {
    const { Queue } = await client.send(new GetQueueCommand({ Name: 'Default' }));
    expect(Queue).toMatchObject({ Name: 'Default', Status: 'ACTIVE' });
    await expect(client.send(new GetQueueCommand({ Name: 'Priority' }))).rejects.toBeInstanceOf(NotFoundException);
  });
});

describe('runTwinDoctor without a running twin', () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'doctor-twin-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('fails on the outputs file alone when there is none', async () => {
    const results = await runTwinDoctor(join(work, 'absent.json'));
    expect(results).toEqual([expect.objectContaining({ check: 'twin outputs', status: 'FAIL', detail: expect.stringContaining('absent.json does not exist: is the twin running?') })]);
    expect(exitCodeOf(results)).toBe(1);
  });

  it('fails every live check with "not running" when its endpoints refuse connections, and still SKIPs the rest', async () => {
    // A port that was free a moment ago: bound, then closed, so nothing listens on it.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const endpoint = `http://127.0.0.1:${port}`;
    const file = join(work, 'stale.json');
    writeFileSync(
      file,
      JSON.stringify({
        stackName: 'twin',
        region: 'us-east-1',
        scheme: 'http',
        outputs: {
          [STACK_OUTPUT_KEYS.uploadBucket]: 'twin-uploads',
          [STACK_OUTPUT_KEYS.playbackApiUrl]: endpoint,
          [STACK_OUTPUT_KEYS.gatewayDomain]: `gateway.localhost:${port}`,
          [STACK_OUTPUT_KEYS.assetsTable]: 'twin-assets',
          [STACK_OUTPUT_KEYS.rollupsTable]: 'twin-qoe-rollups',
          [STACK_OUTPUT_KEYS.pathways]: JSON.stringify({ 'cf-a': `cf-a.localhost:${port}` }),
        },
        endpoints: { s3: endpoint, dynamodb: endpoint, mediaconvert: endpoint, secretsManager: endpoint },
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      }),
    );
    const results = await runTwinDoctor(file);
    const live = results.filter((r) => r.status !== 'SKIP');
    expect(live.map((r) => `${r.status} ${r.check}`)).toEqual([
      'PASS twin outputs', 'FAIL mediaconvert', 'FAIL table catalog', 'FAIL table rollups', 'FAIL table routing', 'FAIL bucket uploads', 'FAIL secret keyring',
    ]);
    for (const result of live.slice(1)) {
      expect(result.detail, result.detail).toMatch(new RegExp(`^nothing answers at ${endpoint} \\(.+\\): the twin is not running$`));
      expect(result.fix?.[0]).toContain('`npm run dev`');
    }
    expect(results.filter((r) => r.status === 'SKIP')).toHaveLength(7);
    expect(exitCodeOf(results)).toBe(1);
  });

  it('fails an outputs file written by a twin older than the doctor, which names no MediaConvert endpoint', async () => {
    const file = join(work, 'old.json');
    writeFileSync(
      file,
      JSON.stringify({
        stackName: 'twin', region: 'us-east-1', scheme: 'http',
        outputs: {
          [STACK_OUTPUT_KEYS.uploadBucket]: 'twin-uploads', [STACK_OUTPUT_KEYS.playbackApiUrl]: 'http://127.0.0.1:1', [STACK_OUTPUT_KEYS.gatewayDomain]: 'gateway.localhost:1',
          [STACK_OUTPUT_KEYS.assetsTable]: 'twin-assets', [STACK_OUTPUT_KEYS.rollupsTable]: 'twin-qoe-rollups', [STACK_OUTPUT_KEYS.pathways]: '{"cf-a":"cf-a.localhost:1"}',
        },
        endpoints: { s3: 'http://127.0.0.1:1', dynamodb: 'http://127.0.0.1:1' },
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      }),
    );
    const results = await runTwinDoctor(file);
    expect(results).toEqual([expect.objectContaining({ check: 'twin outputs', status: 'FAIL', detail: expect.stringContaining('written by a twin older than this checkout') })]);
  });
});
