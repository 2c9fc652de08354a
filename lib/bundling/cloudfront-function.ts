import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformSync } from 'esbuild';
import { corsPreflightHeaders, corsResponseHeaders, DELIVERY_CORS } from '../../core/identifiers';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const VIEWER_AUTH_SOURCE = path.join(REPO_ROOT, 'edge-functions', 'viewer-auth-cf', 'function.js');

/** Largest function code CloudFront Functions accepts (CloudFront Developer Guide, "Quotas on CloudFront Functions"). */
export const CLOUDFRONT_FUNCTION_MAX_BYTES = 10 * 1024;
/** The only modules the cloudfront-js-2.0 runtime provides. */
export const CLOUDFRONT_FUNCTION_MODULES: ReadonlySet<string> = new Set(['crypto', 'cloudfront']);

/** The code cannot run as a CloudFront Function; the message says which rule it breaks. */
export class CloudFrontFunctionCodeError extends Error {
  constructor(message: string) {
    super(`CloudFront Function code: ${message}`);
    this.name = 'CloudFrontFunctionCodeError';
  }
}

/** CloudFront Functions header form: `{ name: { value } }`. */
function functionHeaders(entries: Record<string, string>): Record<string, { value: string }> {
  return Object.fromEntries(Object.entries(entries).map(([name, value]) => [name.toLowerCase(), { value }]));
}

/**
 * The viewer-auth CloudFront Function (cloudfront-js-2.0) ready to upload: the hand-written source of
 * edge-functions/viewer-auth-cf/function.js with the delivery CORS headers of core/identifiers.ts filled
 * in and comments and white space removed (esbuild, whitespace only: no syntax the runtime may lack is
 * introduced). Throws at synth, not at deploy, when the result breaks a runtime rule (checkCloudFrontFunctionCode).
 */
export function buildViewerAuthFunctionCode(): string {
  const source = readFileSync(VIEWER_AUTH_SOURCE, 'utf8')
    .replace('__PREFLIGHT_HEADERS__', JSON.stringify(functionHeaders({ ...corsPreflightHeaders(DELIVERY_CORS), 'cache-control': 'no-store' })))
    .replace('__REFUSAL_CORS_HEADERS__', JSON.stringify(functionHeaders(corsResponseHeaders(DELIVERY_CORS))));
  const { code } = transformSync(source, { loader: 'js', format: 'esm', minifyWhitespace: true, legalComments: 'none', logLevel: 'silent' });
  checkCloudFrontFunctionCode(code);
  return code;
}

/**
 * What the runtime enforces that Node does not: the code size limit and the module list. The test harness
 * (test/unit/token-vectors.test.ts) runs the same code in Node, so these checks keep it honest.
 */
export function checkCloudFrontFunctionCode(code: string): void {
  const bytes = Buffer.byteLength(code, 'utf8');
  if (bytes > CLOUDFRONT_FUNCTION_MAX_BYTES) throw new CloudFrontFunctionCodeError(`${bytes} bytes, the limit is ${CLOUDFRONT_FUNCTION_MAX_BYTES}`);
  if (/\brequire\s*\(/.test(code)) throw new CloudFrontFunctionCodeError('uses require(); import the runtime modules instead');
  if (/\bimport\s*\(/.test(code)) throw new CloudFrontFunctionCodeError('uses dynamic import()');
  for (const match of code.matchAll(/\bimport\s*[\w${}\s,*]*?\s*from\s*["']([^"']+)["']/g)) {
    if (!CLOUDFRONT_FUNCTION_MODULES.has(match[1]!)) throw new CloudFrontFunctionCodeError(`imports "${match[1]}"; the runtime has only ${[...CLOUDFRONT_FUNCTION_MODULES].join(', ')}`);
  }
  if (/__[A-Z_]+__/.test(code)) throw new CloudFrontFunctionCodeError('a build placeholder was left unfilled');
}
