import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { bundleEdgeFunction } from '../../lib/bundling/edge-bundle';
import { BakedConfigError, readBakedConfig } from '../../edge-functions/shared/baked-config';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const VIEWER_AUTH = path.join(REPO, 'edge-functions', 'viewer-auth', 'index.ts');
const STEERING = path.join(REPO, 'edge-functions', 'steering', 'index.ts');
const work = mkdtempSync(path.join(tmpdir(), 'edge-bundle-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const config = (pathwayId: string) => ({
  pathwayId,
  keyring: { secretId: 'playback-keyring', regions: ['us-east-1', 'eu-west-1'], timeoutMs: 1500, refreshSeconds: 300 },
});

const steeringConfig = {
  keyring: config('gateway').keyring,
  routingTable: { name: 'Routing', region: 'eu-west-1' },
  steeringTtlSeconds: 300,
  routingCacheSeconds: 5,
};

/**
 * The copies of each npm package in a bundle's inputs: one per package directory and module format, so
 * `node_modules/a` and `node_modules/b/node_modules/a` are two copies, and so are `dist-cjs` and `dist-es`.
 */
function packageCopies(inputs: Readonly<Record<string, number>>): Map<string, Set<string>> {
  const copies = new Map<string, Set<string>>();
  for (const [file, bytes] of Object.entries(inputs)) {
    const match = /^(.*node_modules\/((?:@[^/]+\/)?[^/]+))\/(?:(dist-cjs|dist-es|lib\/cjs|lib\/esm)\/)?/.exec(file);
    // A package.json read for its version is data, not a second copy of the code.
    if (match === null || bytes === 0 || file.endsWith('/package.json')) continue;
    const [, dir, pkg, format] = match as unknown as [string, string, string, string | undefined];
    if (!copies.has(pkg)) copies.set(pkg, new Set());
    copies.get(pkg)!.add(format === undefined ? dir : `${dir}/${format}`);
  }
  return copies;
}

/** A tiny entry that exposes what the bundler baked in, so the define can be observed by running it. */
function probeEntry(): string {
  const entry = path.join(work, 'probe.ts');
  writeFileSync(entry, `import { readBakedConfig } from '${path.join(REPO, 'edge-functions', 'shared', 'baked-config')}';\nexport const baked = readBakedConfig((raw) => raw);\n`);
  return entry;
}

describe('bundleEdgeFunction', () => {
  it('writes one CommonJS index.js and reports its size and sha256', () => {
    const out = path.join(work, 'a');
    const bundle = bundleEdgeFunction({ entry: VIEWER_AUTH, outDir: out, config: config('cf-a') });
    const bytes = readFileSync(path.join(out, 'index.js'));
    expect(bundle.outFile).toBe(path.join(out, 'index.js'));
    expect(bundle.bytes).toBe(bytes.length);
    expect(bundle.hash).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(bytes.toString()).toMatch(/module\.exports/);
  });

  it('leaves the runtime-provided AWS SDK out of the bundle', () => {
    const bundle = bundleEdgeFunction({ entry: VIEWER_AUTH, outDir: path.join(work, 'sdk'), config: config('cf-a') });
    const text = readFileSync(bundle.outFile, 'utf8');
    expect(text).toContain('require("@aws-sdk/client-secrets-manager")');
    expect(bundle.bytes).toBeLessThan(20 * 1024);
  });

  it('bakes the configuration in through the __EDGE_CONFIG__ define', () => {
    const bundle = bundleEdgeFunction({ entry: probeEntry(), outDir: path.join(work, 'probe'), config: { answer: 42, pathwayId: 'cf-b' } });
    // Load the CommonJS output with require, as the Lambda runtime loads index.js.
    const loaded = createRequire(import.meta.url)(bundle.outFile) as { baked?: unknown };
    expect(loaded.baked).toEqual({ answer: 42, pathwayId: 'cf-b' });
  });

  it('gives different hashes for different configs and for different entries', () => {
    const a = bundleEdgeFunction({ entry: VIEWER_AUTH, outDir: path.join(work, 'h1'), config: config('cf-a') });
    const b = bundleEdgeFunction({ entry: VIEWER_AUTH, outDir: path.join(work, 'h2'), config: config('cf-b') });
    const again = bundleEdgeFunction({ entry: VIEWER_AUTH, outDir: path.join(work, 'h3'), config: config('cf-a') });
    const other = bundleEdgeFunction({ entry: probeEntry(), outDir: path.join(work, 'h4'), config: config('cf-a') });
    expect(a.hash).not.toBe(b.hash);
    expect(a.hash).not.toBe(other.hash);
    expect(again.hash).toBe(a.hash);
  });

  it('keeps the steering bundle under 128 KB', () => {
    const bundle = bundleEdgeFunction({ entry: STEERING, outDir: path.join(work, 'steering-size'), config: steeringConfig });
    // 110,891 B measured (docs/benchmarks.md); 238,743 B while it carried its own @smithy/core.
    expect(bundle.bytes).toBeLessThan(128 * 1024);
  });

  it.each([
    ['viewer-auth', VIEWER_AUTH, config('cf-a')],
    ['steering', STEERING, steeringConfig],
  ])('%s: carries one copy of each module and none of the SDK, so @smithy/core is the runtime SDK’s only', (name, entry, baked) => {
    // Prepare
    const bundle = bundleEdgeFunction({ entry, outDir: path.join(work, `copies-${name}`), config: baked });

    // Act
    const copies = packageCopies(bundle.inputs);

    // Assess
    expect([...copies.keys()].filter((pkg) => pkg.startsWith('@smithy/') || pkg.startsWith('@aws-sdk/'))).toEqual([]);
    expect([...copies].filter(([, where]) => where.size > 1).map(([pkg, where]) => `${pkg}: ${[...where].join(' and ')}`)).toEqual([]);
  });

  it('refuses a configuration that cannot be serialised', () => {
    expect(() => bundleEdgeFunction({ entry: VIEWER_AUTH, outDir: path.join(work, 'bad'), config: undefined })).toThrow(/JSON-serialisable/);
  });
});

describe('readBakedConfig', () => {
  afterEach(() => {
    delete (globalThis as { __EDGE_CONFIG__?: unknown }).__EDGE_CONFIG__;
  });

  it('reads globalThis.__EDGE_CONFIG__ outside a bundle and validates it', () => {
    (globalThis as { __EDGE_CONFIG__?: unknown }).__EDGE_CONFIG__ = JSON.stringify({ n: 1 });
    expect(readBakedConfig((raw) => raw as { n: number })).toEqual({ n: 1 });
  });

  it('turns validation failures and bad JSON into BakedConfigError', () => {
    (globalThis as { __EDGE_CONFIG__?: unknown }).__EDGE_CONFIG__ = '{"n":';
    expect(() => readBakedConfig((raw) => raw)).toThrow(BakedConfigError);
    (globalThis as { __EDGE_CONFIG__?: unknown }).__EDGE_CONFIG__ = '{}';
    expect(() =>
      readBakedConfig(() => {
        throw new TypeError('pathwayId: missing');
      }),
    ).toThrow(/edge function configuration: pathwayId: missing/);
  });
});
