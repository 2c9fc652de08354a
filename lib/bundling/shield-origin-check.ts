import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformSync } from 'esbuild';
import { ORIGIN_VERIFY_HEADER } from '../../core/origin-verify';
import { checkCloudFrontFunctionCode } from './cloudfront-function';

const SOURCE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'edge-functions', 'shield-origin-check-cf', 'function.js');

/**
 * The shared shield distribution's viewer-request function (ADR 0098) with the header name and the secret
 * filled in. At synth `secret` is the secret's dynamic reference, which CloudFormation resolves at deployment
 * (the value never sits in the template); the secret is generated without punctuation, so it is a plain string
 * literal. Comments and white space are removed (esbuild, whitespace only), and the runtime's rules checked.
 */
export function buildShieldOriginCheckCode(secret: string): string {
  const source = readFileSync(SOURCE, 'utf8')
    .replace('__ORIGIN_VERIFY_HEADER__', JSON.stringify(ORIGIN_VERIFY_HEADER))
    .replace('__ORIGIN_SECRET__', JSON.stringify(secret));
  const { code } = transformSync(source, { loader: 'js', format: 'esm', minifyWhitespace: true, legalComments: 'none', logLevel: 'silent' });
  checkCloudFrontFunctionCode(code);
  return code;
}
