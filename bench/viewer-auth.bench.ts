/**
 * viewer-auth benchmark (run: `npx tsx bench/viewer-auth.bench.ts [calls]`).
 *
 * Measures the *bundled, minified* function exactly as it ships:
 *  - warm verify+rewrite per request, each call with a fresh CloudFront event (built ahead of the timed
 *    loop from JSON text, as the Lambda runtime builds them; never one mutated event reused), for
 *    (a) one session's token on every request (a player fetching segments: the verified-claims cache hits)
 *    (b) a different token on every request (every request from a new session: one HMAC each);
 *  - a baseline in the same process: one bare HMAC-SHA256 of a token payload, so runs on different
 *    machines compare as ratios;
 *  - module init: require() of the bundle and the first (cold) request, which fetches the keyring from a
 *    Secrets Manager stand-in on 127.0.0.1, each in a fresh Node process;
 *  - bundle size, minified and gzipped.
 * Prints a table and one machine-readable JSON line (prefix "RESULT ").
 */
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import type { CloudFrontRequest, CloudFrontRequestEvent } from 'aws-lambda';
import { generateInitialKeyring, serializeKeyring } from '../core/keyring';
import { signToken } from '../core/token';
import { bundleEdgeFunction } from '../lib/bundling/edge-bundle';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CALLS = Number(process.argv[2] ?? 200_000);
const BATCH = 20_000;
const INIT_RUNS = 5;
const NOW = Math.floor(Date.now() / 1000);
const SECRET_ID = 'bench-playback-keyring';

const keyring = generateInitialKeyring({ kid: 'kbench', key: Buffer.alloc(32, 0x42) });
const secretString = serializeKeyring(keyring);

function eventJson(token: string, segment: number): string {
  const event: CloudFrontRequestEvent = {
    Records: [
      {
        cf: {
          config: { distributionDomainName: 'd111111abcdef8.cloudfront.net', distributionId: 'EDFDVBD6EXAMPLE', eventType: 'viewer-request', requestId: `req-${segment}` },
          request: {
            clientIp: '203.0.113.178',
            headers: {
              host: [{ key: 'Host', value: 'd111111abcdef8.cloudfront.net' }],
              'user-agent': [{ key: 'User-Agent', value: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0' }],
              accept: [{ key: 'accept', value: '*/*' }],
            },
            method: 'GET',
            querystring: '',
            uri: `/${token}/media/big-buck/r1/video_720p/seg_${String(segment).padStart(5, '0')}.m4s`,
          },
        },
      },
    ],
  };
  return JSON.stringify(event);
}

/** Secrets Manager stand-in: answers GetSecretValue (AWS JSON 1.1) on 127.0.0.1 only. */
async function startFakeSecretsManager(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const target = req.headers['x-amz-target'];
      const input = JSON.parse(body || '{}') as { SecretId?: string };
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      if (target !== 'secretsmanager.GetSecretValue' || input.SecretId !== SECRET_ID) {
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'not found' }));
        return;
      }
      res.end(JSON.stringify({ ARN: `arn:aws:secretsmanager:us-east-1:111122223333:secret:${SECRET_ID}`, Name: SECRET_ID, SecretString: secretString, VersionId: 'v1' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, url: `http://127.0.0.1:${address.port}` };
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

type Handler = (event: CloudFrontRequestEvent) => Promise<unknown>;

async function timeHandler(handler: Handler, tokenFor: (i: number) => string): Promise<{ median: number; p99: number; mean: number }> {
  const samples = new Float64Array(CALLS);
  for (let start = 0; start < CALLS; start += BATCH) {
    const count = Math.min(BATCH, CALLS - start);
    const events: CloudFrontRequestEvent[] = new Array(count);
    for (let i = 0; i < count; i++) events[i] = JSON.parse(eventJson(tokenFor(start + i), start + i)) as CloudFrontRequestEvent;
    for (let i = 0; i < count; i++) {
      const t0 = process.hrtime.bigint();
      const result = await handler(events[i]!);
      samples[start + i] = Number(process.hrtime.bigint() - t0);
      if ((result as CloudFrontRequest).uri?.startsWith('/media/') !== true) throw new Error(`request ${start + i} was refused: ${JSON.stringify(result)}`);
    }
  }
  const sorted = samples.slice().sort();
  return { median: percentile(sorted, 50) / 1000, p99: percentile(sorted, 99) / 1000, mean: sorted.reduce((a, b) => a + b, 0) / sorted.length / 1000 };
}

function timeBaselineHmac(): { median: number } {
  const payload = signToken({ sid: 'baseline', aid: 'big-buck', exp: NOW + 3600 }, keyring).split('.')[0]!;
  const samples = new Float64Array(CALLS);
  for (let i = 0; i < CALLS; i++) {
    const t0 = process.hrtime.bigint();
    createHmac('sha256', keyring.keys.get('kbench')!).update(payload, 'latin1').digest('base64url');
    samples[i] = Number(process.hrtime.bigint() - t0);
  }
  return { median: percentile(samples.sort(), 50) / 1000 };
}

async function measureInit(bundleFile: string, env: NodeJS.ProcessEnv): Promise<{ requireMs: number; firstRequestMs: number }> {
  const token = signToken({ sid: 'cold', aid: 'big-buck', exp: NOW + 3600 }, keyring);
  const script = `
    const { performance } = require('node:perf_hooks');
    const t0 = performance.now();
    const fn = require(${JSON.stringify(bundleFile)});
    const t1 = performance.now();
    fn.handler(JSON.parse(process.env.BENCH_EVENT), {}, () => {}).then((r) => {
      const t2 = performance.now();
      if (!r.uri || !r.uri.startsWith('/media/')) throw new Error('cold request refused: ' + JSON.stringify(r));
      console.log(JSON.stringify({ requireMs: t1 - t0, firstRequestMs: t2 - t1 }));
    });`;
  const runs: { requireMs: number; firstRequestMs: number }[] = [];
  for (let i = 0; i < INIT_RUNS; i++) {
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], { env: { ...env, BENCH_EVENT: eventJson(token, 0) } });
    runs.push(JSON.parse(stdout.trim()) as { requireMs: number; firstRequestMs: number });
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { requireMs: median(runs.map((r) => r.requireMs)), firstRequestMs: median(runs.map((r) => r.firstRequestMs)) };
}

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(tmpdir(), 'viewer-auth-bench-'));
  const { server, url } = await startFakeSecretsManager();
  try {
    // The bundle keeps @aws-sdk external (the runtime provides it); resolve it from the repo's node_modules.
    symlinkSync(path.join(REPO, 'node_modules'), path.join(work, 'node_modules'), 'dir');
    const config = { pathwayId: 'cf-a', keyring: { secretId: SECRET_ID, regions: ['us-east-1'], timeoutMs: 1500, refreshSeconds: 300 } };
    const bundle = bundleEdgeFunction({ entry: path.join(REPO, 'edge-functions', 'viewer-auth', 'index.ts'), outDir: work, config, minify: true });
    const gzipBytes = gzipSync(readFileSync(bundle.outFile)).length;
    const env = {
      ...process.env,
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: url,
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_EC2_METADATA_DISABLED: 'true',
    };

    const init = await measureInit(bundle.outFile, env);

    Object.assign(process.env, env);
    const fn = createRequire(import.meta.url)(bundle.outFile) as { handler: (e: CloudFrontRequestEvent, c: object, cb: () => void) => Promise<unknown> };
    const handler: Handler = (event) => fn.handler(event, {}, () => undefined);
    const sessionToken = signToken({ sid: 'session-hot', aid: 'big-buck', exp: NOW + 3600 }, keyring);
    // Warm-up: the cold fetch, JIT tiers, and the first verification of the session token.
    for (let i = 0; i < 20_000; i++) await handler(JSON.parse(eventJson(sessionToken, i)) as CloudFrontRequestEvent);

    const baseline = timeBaselineHmac();
    const session = await timeHandler(handler, () => sessionToken);
    const uniqueTokens = Array.from({ length: CALLS }, (_, i) => signToken({ sid: `s${i}`, aid: 'big-buck', exp: NOW + 3600 }, keyring));
    const unique = await timeHandler(handler, (i) => uniqueTokens[i]!);

    const us = (x: number) => `${x.toFixed(2)} µs`;
    const rows: [string, string][] = [
      ['calls per scenario', String(CALLS)],
      ['warm, one session token: median', us(session.median)],
      ['warm, one session token: p99', us(session.p99)],
      ['warm, new token per request: median', us(unique.median)],
      ['warm, new token per request: p99', us(unique.p99)],
      ['baseline bare HMAC-SHA256: median', us(baseline.median)],
      ['session median / HMAC median', (session.median / baseline.median).toFixed(2)],
      ['new-token median / HMAC median', (unique.median / baseline.median).toFixed(2)],
      ['init: require(bundle) (median of 5)', `${init.requireMs.toFixed(1)} ms`],
      ['init: first request incl. keyring fetch', `${init.firstRequestMs.toFixed(1)} ms`],
      ['bundle size (minified)', `${(bundle.bytes / 1024).toFixed(1)} KB`],
      ['bundle size (gzip)', `${(gzipBytes / 1024).toFixed(1)} KB`],
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    console.log(`viewer-auth benchmark (node ${process.version}, ${new Date().toISOString()})`);
    for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`);
    console.log(
      `RESULT ${JSON.stringify({
        bench: 'viewer-auth',
        node: process.version,
        calls: CALLS,
        sessionMedianUs: round(session.median),
        sessionP99Us: round(session.p99),
        uniqueMedianUs: round(unique.median),
        uniqueP99Us: round(unique.p99),
        hmacBaselineMedianUs: round(baseline.median),
        sessionToHmacRatio: round(session.median / baseline.median),
        uniqueToHmacRatio: round(unique.median / baseline.median),
        initRequireMs: round(init.requireMs),
        initFirstRequestMs: round(init.firstRequestMs),
        bundleBytes: bundle.bytes,
        bundleGzipBytes: gzipBytes,
      })}`,
    );
  } finally {
    server.close();
    rmSync(work, { recursive: true, force: true });
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

await main();
