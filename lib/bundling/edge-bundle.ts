import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildSync } from 'esbuild';

export interface EdgeBundleOptions {
  /** The function's `index.ts`. */
  readonly entry: string;
  /** Directory that receives `index.js` (the asset directory of the function). */
  readonly outDir: string;
  /** JSON-serialisable configuration baked in as `__EDGE_CONFIG__` (edge-functions/shared/baked-config.ts). */
  readonly config: unknown;
  /** @default true */
  readonly minify?: boolean;
}

export interface EdgeBundle {
  readonly outFile: string;
  readonly bytes: number;
  /** sha256 (hex) of the bundle bytes: use as the asset hash, so function + config give a distinct asset. */
  readonly hash: string;
  /**
   * Every source file in the bundle, as esbuild's metafile names it (relative to the working directory),
   * with the bytes it contributes: what `test/unit/edge-bundle.test.ts` checks for duplicate modules.
   */
  readonly inputs: Readonly<Record<string, number>>;
}

/**
 * Bundles a Lambda@Edge function with its configuration baked in. Lambda@Edge has no environment
 * variables, and `cloudfront.experimental.EdgeFunction` takes plain `lambda.Code`, so the bundling and the
 * asset hash are ours: the hash covers the bytes, which include the config, so two distributions whose
 * functions differ only in config never share an S3 asset key (ADR 0032; docs/architecture.md#toolchain-and-stand-in-quirks).
 *
 * CommonJS for node22: the Lambda handler resolver loads `index.handler` from a CJS `index.js` without a
 * package.json; `@aws-sdk/*` stays external because the Node.js runtimes ship SDK v3 and the viewer-request
 * package limit is 1 MB (CloudFront Developer Guide, "Quotas on Lambda@Edge"). Edge code imports only
 * `@aws-sdk/*` packages of the SDK, never a `@smithy/*` one: that would bundle a second copy of the SDK's
 * core next to the runtime's (ADR 0008).
 */
export function bundleEdgeFunction(opts: EdgeBundleOptions): EdgeBundle {
  const configJson = JSON.stringify(opts.config);
  if (configJson === undefined) throw new Error(`edge bundle ${opts.entry}: config must be JSON-serialisable, got ${String(opts.config)}`);
  const outFile = path.join(opts.outDir, 'index.js');
  const result = buildSync({
    entryPoints: [opts.entry],
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    outfile: outFile,
    external: ['@aws-sdk/*'],
    // The identifier becomes a string literal holding the JSON text; readBakedConfig parses it once at init.
    define: { __EDGE_CONFIG__: JSON.stringify(configJson) },
    minify: opts.minify ?? true,
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
    metafile: true,
  });
  const output = result.outputFiles.find((file) => file.path === path.resolve(outFile));
  if (output === undefined) throw new Error(`edge bundle ${opts.entry}: esbuild produced no ${outFile}`);
  mkdirSync(opts.outDir, { recursive: true });
  writeFileSync(outFile, output.contents);
  // One entry point and no source map: the metafile has exactly one output.
  const [meta] = Object.values(result.metafile.outputs);
  const inputs = Object.fromEntries(Object.entries(meta?.inputs ?? {}).map(([file, { bytesInOutput }]) => [file, bytesInOutput]));
  return { outFile, bytes: output.contents.byteLength, hash: createHash('sha256').update(output.contents).digest('hex'), inputs };
}
