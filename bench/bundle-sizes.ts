/**
 * Bundle sizes (run: `npx tsx bench/bundle-sizes.ts`).
 *
 * Builds the two Lambda@Edge bundles with `lib/bundling/edge-bundle.ts`, as deployed, and the eight regional
 * bundles with the esbuild options `lib/constructs/platform-function.ts` gives `NodejsFunction` (ESM, node24,
 * minified, nothing external), and prints for each: minified and gzipped size, the bytes that come from the
 * AWS SDK (`@aws-sdk/*`, `@smithy/*`), and every npm package the bundle holds more than one copy of (a
 * second directory, or both the CommonJS and the ES module build). Prints one JSON line (prefix "RESULT ").
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { buildSync } from 'esbuild';
import { bundleEdgeFunction } from '../lib/bundling/edge-bundle';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REGIONAL = ['submit-job', 'job-status', 'playback-api', 'takedown', 'keyring-rotation', 'cmcd-ingest', 'qoe-aggregator', 'routing-weights'];
const keyring = { secretId: 'playback-keyring', regions: ['us-east-1', 'eu-west-1'], timeoutMs: 1500, refreshSeconds: 300 };
const EDGE = {
  'viewer-auth': { pathwayId: 'cf-a', keyring },
  steering: { keyring, routingTable: { name: 'Routing', region: 'eu-west-1' }, steeringTtlSeconds: 300, routingCacheSeconds: 5 },
};

interface Figures {
  readonly name: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly sdkBytes: number;
  readonly duplicates: readonly string[];
}

/** Sizes and duplicate packages from esbuild's metafile inputs (file → bytes in the output). */
function figures(name: string, contents: Uint8Array, inputs: Readonly<Record<string, number>>): Figures {
  const copies = new Map<string, Set<string>>();
  let sdkBytes = 0;
  for (const [file, bytes] of Object.entries(inputs)) {
    const match = /^(.*node_modules\/((?:@[^/]+\/)?[^/]+))\/(?:(dist-cjs|dist-es|lib\/cjs|lib\/esm)\/)?/.exec(file);
    if (match === null || bytes === 0) continue;
    const [, dir, pkg, format] = match as unknown as [string, string, string, string | undefined];
    if (pkg.startsWith('@aws-sdk/') || pkg.startsWith('@smithy/')) sdkBytes += bytes;
    // A package.json read for its version is data, not a second copy of the code.
    if (file.endsWith('/package.json')) continue;
    if (!copies.has(pkg)) copies.set(pkg, new Set());
    copies.get(pkg)!.add(format === undefined ? dir : `${dir}/${format}`);
  }
  const duplicates = [...copies].filter(([, where]) => where.size > 1).map(([pkg, where]) => `${pkg} (${[...where].join(', ')})`);
  return { name, bytes: contents.byteLength, gzipBytes: gzipSync(contents).byteLength, sdkBytes, duplicates };
}

const work = mkdtempSync(path.join(tmpdir(), 'bundle-sizes-'));
const rows: Figures[] = [];
try {
  for (const [name, config] of Object.entries(EDGE)) {
    const bundle = bundleEdgeFunction({ entry: path.join(REPO, 'edge-functions', name, 'index.ts'), outDir: path.join(work, name), config });
    rows.push(figures(`edge ${name}`, readFileSync(bundle.outFile), bundle.inputs));
  }
  for (const name of REGIONAL) {
    const result = buildSync({
      entryPoints: [path.join(REPO, 'lambdas', name, 'index.ts')],
      bundle: true,
      platform: 'node',
      target: 'node24',
      format: 'esm',
      minify: true,
      banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
      outfile: path.join(work, name, 'index.mjs'),
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const [meta] = Object.values(result.metafile.outputs);
    const inputs = Object.fromEntries(Object.entries(meta?.inputs ?? {}).map(([file, { bytesInOutput }]) => [file, bytesInOutput]));
    rows.push(figures(name, result.outputFiles[0]!.contents, inputs));
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
console.table(rows.map((r) => ({ bundle: r.name, minified: kb(r.bytes), gzip: kb(r.gzipBytes), 'AWS SDK': kb(r.sdkBytes), 'packages twice': r.duplicates.join('; ') || 'none' })));
console.log(`RESULT ${JSON.stringify(rows)}`);
