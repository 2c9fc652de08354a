import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The repository explains itself: docs/architecture.md is the map, the topic documents in docs/ the
 * details, docs/adr/ the reasons. These scans fail when a file points a reader somewhere the
 * repository does not have: a planning document kept outside it, a doc or ADR that was renamed or
 * never written, an ADR number with no record, or a section anchor that matches no heading.
 */
const ROOT = join(import.meta.dirname, '..', '..');

/** What a reader of the repository reads: sources, tests, benchmarks and docs. */
const SCANNED = ['bin', 'core', 'tables', 'lib', 'lambdas', 'edge-functions', 'local', 'bench', 'test', 'docs', 'README.md'];
/** Generated, downloaded or git-ignored trees (see .gitignore): not written by anyone here. */
const SKIPPED = new Set(['node_modules', 'local/.build', 'local/public/vendor', 'test/fixtures/models', 'test/fixtures/telemetry']);
const TEXT = /\.(ts|js|mjs|cjs|json|md|html|css|sh|ya?ml)$/;

function textFiles(path: string): string[] {
  if (SKIPPED.has(path) || path.split('/').some((part) => part === 'node_modules' || part.startsWith('.'))) return [];
  const absolute = join(ROOT, path);
  if (!existsSync(absolute)) return [];
  if (!statSync(absolute).isDirectory()) return TEXT.test(path) ? [path] : [];
  return readdirSync(absolute).flatMap((name) => textFiles(`${path}/${name}`));
}

interface Mention {
  readonly where: string;
  readonly text: string;
}

/** Every match of `pattern` (global, group 1 = the mention) with `file:line`. */
function mentions(files: readonly string[], pattern: RegExp): Mention[] {
  return files.flatMap((file) =>
    readFileSync(join(ROOT, file), 'utf8')
      .split('\n')
      .flatMap((line, i) => [...line.matchAll(pattern)].map((m) => ({ where: `${file}:${i + 1}`, text: m[1] ?? m[0] }))),
  );
}

/** GitHub's heading anchors: lower case, punctuation dropped, each space a dash. */
function anchorsOf(doc: string): Set<string> {
  const headings = readFileSync(join(ROOT, doc), 'utf8')
    .split('\n')
    .filter((line) => /^#{1,6} /.test(line));
  return new Set(
    headings.map((line) =>
      line
        .replace(/^#+ /, '')
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-'),
    ),
  );
}

const files = SCANNED.flatMap(textFiles);
const adrNumbers = new Set(readdirSync(join(ROOT, 'docs', 'adr')).flatMap((name) => /^(\d{4})-.*\.md$/.exec(name)?.[1] ?? []));

describe('the repository is self-contained', () => {
  it('finds the files it scans', () => {
    expect(files).toContain('docs/architecture.md');
    expect(files).toContain('core/token.ts');
    expect(files.filter((file) => file.startsWith('local/public/vendor/'))).toEqual([]);
  });

  it('mentions no planning document kept outside the repository', () => {
    // Built from parts so this file does not mention them itself.
    const outside = new RegExp(`\\b((?:${['DESIGN', 'TOOLCHAIN', 'STYLE'].join('|')})\\.md)\\b`, 'g');
    expect(mentions(files, outside)).toEqual([]);
  });

  it('names no person or work item outside the repository as the place to look', () => {
    const people = new RegExp(`\\b(the ${'lead'}\\b|other ${'engineers'}\\b|(?:${['brief', 'helper'].join('|')}) [A-Z]\\b)`, 'g');
    expect(mentions(files, people)).toEqual([]);
  });

  it('points only at docs that exist', () => {
    const docPaths = mentions(files, /(?<![\w/.-])((?:\.\.\/)*docs\/[\w./-]*?\.md)(?![\w-])/g);
    expect(docPaths.filter(({ text }) => !existsSync(join(ROOT, text.replace(/^(\.\.\/)+/, ''))))).toEqual([]);
  });

  it('resolves relative Markdown links inside the docs', () => {
    const markdown = files.filter((file) => file.endsWith('.md'));
    const links = markdown.flatMap((file) =>
      mentions([file], /\]\(([^)#\s]+\.md)(?:#[^)]*)?\)/g).map((link) => ({ ...link, file })),
    );
    expect(links.filter(({ file, text }) => !/^[a-z]+:/.test(text) && !existsSync(join(ROOT, dirname(file), text)))).toEqual([]);
  });

  it('cites only ADR numbers that have a record', () => {
    const byPath = mentions(files, /docs\/adr\/(\d{4})(?!\d)/g);
    const byNumber = mentions(files, /\bADRs? ((?:\d{4}(?:\s*[–-]\s*\d{4})?(?:,\s*|\s+and\s+|\s+or\s+|\/)?)+)/g).flatMap(({ where, text }) =>
      (text.match(/\d{4}/g) ?? []).map((n) => ({ where, text: n })),
    );
    expect([...byPath, ...byNumber].filter(({ text }) => !adrNumbers.has(text))).toEqual([]);
  });

  it('links only to headings that exist', () => {
    const anchored = [
      ...mentions(files, /(?<![\w/.-])((?:\.\.\/)*docs\/[\w./-]*?\.md#[\w-]+)/g).map(({ where, text }) => ({ where, text: text.replace(/^(\.\.\/)+/, '') })),
      ...files
        .filter((file) => file.endsWith('.md'))
        .flatMap((file) =>
          mentions([file], /\]\(([^)\s:]*?\.md#[\w-]+)\)/g).map(({ where, text }) => ({ where, text: relative(ROOT, normalize(join(ROOT, dirname(file), text))) })),
        ),
    ];
    expect(anchored.length).toBeGreaterThan(0);
    const broken = anchored.filter(({ text }) => {
      const [doc, anchor] = text.split('#') as [string, string];
      return !existsSync(join(ROOT, doc)) || !anchorsOf(doc).has(anchor);
    });
    expect(broken).toEqual([]);
  });
});
