import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IConstruct } from 'constructs';
import { NAG_ACK_METADATA } from '../../lib/nag';
import { cleanup, synthPlatform, type SynthResult } from './synth';

let synth: SynthResult;
beforeAll(() => {
  // app.synth() inside throws when cdk-nag reports an unacknowledged finding.
  synth = synthPlatform();
});
afterAll(() => cleanup(synth));

function acknowledgements(root: IConstruct): Array<{ path: string; id: string; reason: string }> {
  return root.node
    .findAll()
    .flatMap((c) => c.node.metadata.filter((m) => m.type === NAG_ACK_METADATA).map((m) => ({ path: c.node.path, ...(m.data as { id: string; reason: string }) })));
}

describe('cdk-nag AwsSolutions', () => {
  it('synthesises with zero unacknowledged findings', () => {
    expect(synth.platform.stack.stackName).toBe('Streaming');
  });

  it('keeps acknowledgements few, each with a real reason, and none for SSL enforcement', () => {
    const acks = acknowledgements(synth.app);
    // One decision may cover several constructs of a kind (each edge role's log groups, each platform
    // function's X-Ray grant): what must stay small is the number of decisions.
    expect(new Set(acks.map((ack) => ack.reason)).size).toBeLessThanOrEqual(17);
    for (const ack of acks) {
      expect(ack.reason.length).toBeGreaterThan(40);
      expect(ack.id).not.toMatch(/AwsSolutions-(S10|SNS3|SQS4)/);
    }
  });

  it('lists every acknowledgement in docs/cdk-nag.md', () => {
    const doc = fs.readFileSync(new URL('../../docs/cdk-nag.md', import.meta.url), 'utf8');
    for (const ack of acknowledgements(synth.app)) expect(doc).toContain(`| \`${ack.path}\` | \`${ack.id}\` |`);
  });
});
