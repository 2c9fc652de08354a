import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * ADR 0007: each DynamoDB table has one repository in tables/, and nothing else sends item commands.
 * These scans fail when a handler, the edge, core/ or the operator page talks to a table directly again.
 */
const ROOT = join(import.meta.dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Names imported from the DynamoDB SDK packages, per file. */
function dynamoImports(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const imports = text.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'@aws-sdk\/(?:lib|client)-dynamodb'/g);
  return [...imports].flatMap((match) => match[1]!.split(',').map((name) => name.replace(/^\s*type\s+/, '').trim()).filter(Boolean));
}

describe('one repository per table', () => {
  // The handlers, the edge, the rules and the twin's operator page. local/dev.ts still seeds the registry
  // itself, standing in for the deploy-time custom resource (lib/constructs/routing-table.ts).
  const readers = [...['core', 'lambdas', 'edge-functions'].flatMap(sourceFiles), 'local/operator-api.ts'];

  it.each(readers)('%s sends no DynamoDB item command itself', (file) => {
    expect(dynamoImports(file).filter((name) => /Command$/.test(name))).toEqual([]);
  });

  it('keeps core/ free of DynamoDB and of the repositories', () => {
    const offenders = sourceFiles('core').filter((file) => {
      const text = readFileSync(join(ROOT, file), 'utf8');
      return /from '@aws-sdk\/(lib|client)-dynamodb'/.test(text) || /from '\.\.\/(\.\.\/)?tables\//.test(text);
    });
    expect(offenders).toEqual([]);
  });

  it('builds tables/ on core/ only: no handler, edge or twin code below the repositories', () => {
    const imports = sourceFiles('tables').flatMap((file) =>
      [...readFileSync(join(ROOT, file), 'utf8').matchAll(/from '(\.[^']+)'/g)].map((m) => ({ file, target: m[1]! })),
    );
    expect(imports.filter(({ target }) => !target.startsWith('../core/') && !target.startsWith('./'))).toEqual([]);
  });
});
