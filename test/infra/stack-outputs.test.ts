import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STACK_OUTPUT_KEYS } from '../../core/stack-outputs';
import { cleanup, synthPlatform, type SynthResult } from './synth';

type Output = { Value: unknown; Description?: string };

let synth: SynthResult;
beforeAll(() => {
  synth = synthPlatform();
});
afterAll(() => cleanup(synth));

const outputs = () => (synth.template.toJSON() as { Outputs: Record<string, Output> }).Outputs;
/** A `Ref`/`Fn::GetAtt` to a logical id, or a `Fn::Join` of such pieces: every logical id it names. */
const referencedIds = (value: unknown): string[] => JSON.stringify(value).match(/"(?:Ref|Fn::GetAtt)":\[?"([A-Za-z0-9]+)"/g)?.map((m) => m.replace(/.*"([A-Za-z0-9]+)"$/, '$1')) ?? [];

describe('the regional stack outputs what npm run smoke proves a deployment from (core/stack-outputs.ts)', () => {
  it('has every output smoke reads, under its fixed key', () => {
    expect(Object.keys(outputs())).toEqual(expect.arrayContaining(Object.values(STACK_OUTPUT_KEYS)));
  });

  it('names the catalog and rollups tables by the resources that are those tables', () => {
    const [assets] = referencedIds(outputs()[STACK_OUTPUT_KEYS.assetsTable]!.Value);
    const [rollups] = referencedIds(outputs()[STACK_OUTPUT_KEYS.rollupsTable]!.Value);
    expect(assets).toMatch(/^StorageAssetsTable/);
    expect(rollups).toMatch(/^TelemetryQoeRollups/);
  });

  it('maps every pathway id, dash kept, to its own distribution as one JSON value', () => {
    const value = outputs()[STACK_OUTPUT_KEYS.pathways]!.Value as { 'Fn::Join': [string, unknown[]] };
    const text = JSON.stringify(value);
    for (const id of ['cf-a', 'cf-b', 'cf-c']) expect(text).toContain(`\\"${id}\\":\\"`);
    const distributions = referencedIds(value);
    expect(distributions).toHaveLength(3);
    expect(new Set(distributions).size).toBe(3);
    expect(distributions.every((id) => id.startsWith('Delivery'))).toBe(true);
  });
});
