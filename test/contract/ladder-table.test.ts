import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LADDER_DOC, withRenderedTable } from './ladder-table';

describe('docs/ladder.md', () => {
  it('shows the ladders the planner makes today (regenerate: npx tsx test/contract/ladder-table.ts --write)', () => {
    const page = readFileSync(LADDER_DOC, 'utf8');

    expect(page).toBe(withRenderedTable(page));
  });
});
