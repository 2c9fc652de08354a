import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IConstruct } from 'constructs';
import type { PlatformConfigInput } from '../../core/platform-config';
import { NAG_ACK_METADATA } from '../../lib/nag';
import { cleanup, synthPlatform, type SynthResult } from './synth';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const NAG_DOC = path.join(REPO, 'docs', 'cdk-nag.md');

/**
 * The options that add or swap constructs, all away from their defaults, so acknowledgements that only such
 * a deployment needs are checked and listed too: a CloudFront Function pathway next to a Lambda@Edge one, an
 * external CDN, a provisioned stream, buckets emptied on delete and the shared Origin Shield distribution. An option added later whose non-default
 * value adds constructs belongs here too.
 */
const NON_DEFAULT_CONSTRUCTS: Partial<PlatformConfigInput> = {
  pathways: [{ id: 'cf-a' }, { id: 'cf-b', tokenCheck: 'cloudfront-function' }],
  externalPathways: [{ id: 'ext-a', host: 'cdn.example.net' }],
  telemetryStream: { mode: 'provisioned', shards: 16 },
  removalPolicy: 'destroy',
  originShield: { mode: 'shared' },
};

let synth: SynthResult;
let variant: SynthResult;
beforeAll(() => {
  // app.synth() inside throws when cdk-nag reports an unacknowledged finding.
  synth = synthPlatform();
  variant = synthPlatform(NON_DEFAULT_CONSTRUCTS);
});
afterAll(() => {
  cleanup(synth);
  cleanup(variant);
});

interface Acknowledgement {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

function acknowledgements(root: IConstruct): Acknowledgement[] {
  return root.node
    .findAll()
    .flatMap((c) => c.node.metadata.filter((m) => m.type === NAG_ACK_METADATA).map((m) => ({ path: c.node.path, ...(m.data as { id: string; reason: string }) })));
}

/** The row docs/cdk-nag.md holds for an acknowledgement: construct path, finding id, the reason verbatim. */
function docRowOf(ack: Acknowledgement): string {
  return `| \`${ack.path}\` | \`${ack.id}\` | ${ack.reason.replace(/\|/g, '\\|')} |`;
}

/** The acknowledgement rows of docs/cdk-nag.md: every table line that starts with a code-formatted construct path. */
function documentedRows(): string[] {
  return fs
    .readFileSync(NAG_DOC, 'utf8')
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line.startsWith('| `'));
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts')).map((file) => path.join(dir, file));
}

describe('cdk-nag AwsSolutions', () => {
  it('synthesises with zero unacknowledged findings, with the default options and with every construct-changing one', () => {
    expect(synth.platform.stack.stackName).toBe('Streaming');
    expect(variant.platform.stack.stackName).toBe('Streaming');
  });

  it('gives every acknowledgement a real reason, and acknowledges nothing about SSL enforcement', () => {
    for (const ack of [...acknowledgements(synth.app), ...acknowledgements(variant.app)]) {
      expect(ack.reason.length, docRowOf(ack)).toBeGreaterThan(40);
      expect(ack.id).not.toMatch(/AwsSolutions-(S10|SNS3|SQS4)/);
    }
  });

  // The reviewed list: a new acknowledgement fails here until its row, with the reason the code gives, is in
  // docs/cdk-nag.md, so every acknowledged finding is read by a reviewer in that file's diff. This replaces a
  // cap on the number of acknowledgements, which only ever got raised.
  it('lists exactly the synthesised acknowledgements in docs/cdk-nag.md, with their reasons verbatim', () => {
    const expected = [...acknowledgements(synth.app), ...acknowledgements(variant.app)].map(docRowOf);
    const documented = documentedRows();
    const missing = [...new Set(expected.filter((row) => !documented.includes(row)))];
    const stale = documented.filter((row) => !expected.includes(row));
    const repeated = documented.filter((row, index) => documented.indexOf(row) !== index);
    const instructions = [
      'docs/cdk-nag.md must list every acknowledgement the app synthesises, one table row each (construct path, finding, the reason exactly as passed to acknowledgeNagFinding), and nothing else.',
      ...(missing.length > 0 ? ['Add these rows to the table:', ...missing] : []),
      ...(stale.length > 0 ? ['Remove (or correct to the new reason) these rows; nothing synthesises them:', ...stale] : []),
      ...(repeated.length > 0 ? ['These rows stand more than once; keep one:', ...repeated] : []),
    ].join('\n') + '\n';
    expect(missing.length + stale.length + repeated.length, instructions).toBe(0);
  });

  it('acknowledges findings only through lib/nag.ts, so the list above is complete', () => {
    const bypassing = [...sourceFiles(path.join(REPO, 'lib')), ...sourceFiles(path.join(REPO, 'bin'))]
      .filter((file) => file !== path.join(REPO, 'lib', 'nag.ts'))
      .filter((file) => /NagSuppressions|\.acknowledge\s*\(/.test(fs.readFileSync(file, 'utf8')))
      .map((file) => path.relative(REPO, file));
    expect(bypassing, 'acknowledge cdk-nag findings with acknowledgeNagFinding (lib/nag.ts)').toEqual([]);
  });
});
