import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformSync } from 'esbuild';
import { corsPreflightHeaders, corsResponseHeaders, COUNTRY_SHAPE, DELIVERY_CORS, PATHWAY_ID_PATTERN, STEERING_CORS, type CorsPolicy } from '../../core/identifiers';
import { CANONICAL_STEERING_URI, THROUGHPUT_CLASSES_PER_OCTAVE, topThroughputClass } from '../../core/steering-cache-key';
import { DEFAULT_SESSION_STEERING_POLICY, type SessionSteeringPolicy } from '../../core/session-steering';
import { GLOBAL_ROUTING_GENERATION_KEY, ROUTING_GENERATION_KEY_PREFIX, ROUTING_GENERATION_PATTERN } from '../../core/routing-generation';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const VIEWER_AUTH_SOURCE = path.join(REPO_ROOT, 'edge-functions', 'viewer-auth-cf', 'function.js');
const STEERING_KEY_SOURCE = path.join(REPO_ROOT, 'edge-functions', 'steering-key-cf', 'function.js');

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
  return minifyChecked(tokenCheckSource(DELIVERY_CORS));
}

/** The token check's source with a CORS policy's headers filled in. */
function tokenCheckSource(cors: CorsPolicy): string {
  return readFileSync(VIEWER_AUTH_SOURCE, 'utf8')
    .replace('__PREFLIGHT_HEADERS__', JSON.stringify(functionHeaders({ ...corsPreflightHeaders(cors), 'cache-control': 'no-store' })))
    .replace('__REFUSAL_CORS_HEADERS__', JSON.stringify(functionHeaders(corsResponseHeaders(cors))));
}

function minifyChecked(source: string): string {
  const { code } = transformSync(source, { loader: 'js', format: 'esm', minifyWhitespace: true, legalComments: 'none', logLevel: 'silent' });
  checkCloudFrontFunctionCode(code);
  return code;
}

const TOKEN_CHECK_HANDLER = 'async function handler(event)';

/**
 * The gateway's steering key function (ADR 0036): the same token check as viewer-auth, with the gateway's CORS
 * headers and its handler renamed `checkViewerToken`, followed by edge-functions/steering-key-cf/function.js, which
 * turns a checked request into the steering cache key. The throughput classes and the canonical path are
 * core/steering-cache-key.ts's; the top class follows the steering function's collapse policy, so both
 * sides judge a collapse on the same classes; the routing generation's key names and shape are
 * core/routing-generation.ts's.
 */
export function buildSteeringKeyFunctionCode(policy: Pick<SessionSteeringPolicy, 'throughputFloorBps' | 'collapseRatio'> = DEFAULT_SESSION_STEERING_POLICY): string {
  const tokenCheck = tokenCheckSource(STEERING_CORS);
  if (!tokenCheck.includes(TOKEN_CHECK_HANDLER)) throw new CloudFrontFunctionCodeError(`the token check no longer defines "${TOKEN_CHECK_HANDLER}"`);
  const keyFunction = readFileSync(STEERING_KEY_SOURCE, 'utf8')
    .replace('__PATHWAY_ID__', JSON.stringify(PATHWAY_ID_PATTERN.source.replace(/^\^/, '').replace(/\$$/, '')))
    .replace('__THROUGHPUT_TOP_CLASS__', String(topThroughputClass(policy)))
    .replace('__THROUGHPUT_CLASSES_PER_OCTAVE__', String(THROUGHPUT_CLASSES_PER_OCTAVE))
    .replace('__CANONICAL_STEERING_URI__', JSON.stringify(CANONICAL_STEERING_URI))
    .replace('__ROUTING_GENERATION_KEY_PREFIX__', JSON.stringify(ROUTING_GENERATION_KEY_PREFIX))
    .replace('__GLOBAL_ROUTING_GENERATION_KEY__', JSON.stringify(GLOBAL_ROUTING_GENERATION_KEY))
    .replace('__ROUTING_GENERATION_PATTERN__', ROUTING_GENERATION_PATTERN.toString())
    .replace('__COUNTRY_SHAPE__', COUNTRY_SHAPE.toString());
  return minifyChecked(`${tokenCheck.replace(TOKEN_CHECK_HANDLER, 'async function checkViewerToken(event)')}\n${keyFunction}`);
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
