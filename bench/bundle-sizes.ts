/**
 * Bundle sizes (run: `npx tsx bench/bundle-sizes.ts`).
 *
 * Builds every function lib/topology.ts lists, so a new one is measured without being added here: each
 * Lambda@Edge bundle of `EDGE_FUNCTIONS` with `lib/bundling/edge-bundle.ts`, as deployed, and each regional
 * bundle of `PLATFORM_FUNCTIONS` with the esbuild options `lib/constructs/platform-function.ts` gives
 * `NodejsFunction` (ESM, node24, minified, nothing external); plus the viewer-auth CloudFront Function as
 * `lib/bundling/cloudfront-function.ts` builds it. Prints for each: minified and gzipped size, the bytes that
 * come from the AWS SDK (`@aws-sdk/*`, `@smithy/*`), and every npm package the bundle holds more than one copy
 * of (a second directory, or both the CommonJS and the ES module build). Prints one JSON line (prefix "RESULT ").
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { buildSync } from 'esbuild';
import type { EdgeFunctionDefinition } from '../edge-functions/shared/baked-config';
import { buildViewerAuthFunctionCode } from '../lib/bundling/cloudfront-function';
import { bundleEdgeFunction } from '../lib/bundling/edge-bundle';
import { EDGE_FUNCTIONS, PLATFORM_FUNCTIONS } from '../lib/topology';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

type EdgeConfigOf<K extends keyof typeof EDGE_FUNCTIONS> = (typeof EDGE_FUNCTIONS)[K] extends EdgeFunctionDefinition<infer C> ? C : never;
const keyring = { secretId: 'playback-keyring', regions: ['us-east-1', 'eu-west-1'], timeoutMs: 1500, refreshSeconds: 300 };
/**
 * A representative baked config per edge function (the size barely depends on it). Typed by the topology,
 * so adding an edge function there fails the type check here until it has one.
 */
const EDGE_SAMPLE_CONFIGS: { readonly [K in keyof typeof EDGE_FUNCTIONS]: EdgeConfigOf<K> } = {
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
  for (const [name, definition] of Object.entries(EDGE_FUNCTIONS) as [keyof typeof EDGE_FUNCTIONS, EdgeFunctionDefinition<unknown>][]) {
    // Validated as EdgeHandler does at synth, so the bundle measured is one that would deploy.
    const config = EDGE_SAMPLE_CONFIGS[name];
    definition.validateConfig(config);
    const bundle = bundleEdgeFunction({ entry: path.join(REPO, 'edge-functions', definition.handlerDir, 'index.ts'), outDir: path.join(work, name), config });
    rows.push(figures(`edge ${name}`, readFileSync(bundle.outFile), bundle.inputs));
  }
  rows.push(figures('cloudfront-function viewer-auth-cf', Buffer.from(buildViewerAuthFunctionCode(), 'utf8'), {}));
  // A regional function's name is its folder under lambdas/ (lib/topology.ts).
  for (const name of Object.keys(PLATFORM_FUNCTIONS)) {
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
