import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assetIdFromKey, revisionFromUpload } from '../../core/asset-id';
import {
  countryOrUnknown,
  corsPreflightHeaders,
  DELIVERY_CORS,
  isAssetId,
  isCountryCode,
  isPathwayHost,
  isPathwayId,
  isRevision,
  isRoutingCountry,
  MAX_ASSET_ID_LENGTH,
} from '../../core/identifiers';

const ROOT = join(import.meta.dirname, '..', '..');
const SOURCE_DIRS = ['bin', 'core', 'lib', 'lambdas', 'edge-functions', 'local', 'tables'];
const HOME = 'core/identifiers.ts';

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name.startsWith('.') ? [] : sourceFiles(path);
    return /\.(ts|js)$/.test(entry.name) ? [path] : [];
  });
}

describe('one home for each identifier rule', () => {
  const files = SOURCE_DIRS.flatMap(sourceFiles).filter((file) => relative(ROOT, join(ROOT, file)) !== HOME);
  const sources = files.map((file) => ({ file, text: readFileSync(join(ROOT, file), 'utf8') }));

  // Each entry: what a second definition of a shared rule or name looks like in source text.
  const restatements: readonly [string, RegExp][] = [
    ['a country-code regex', /\/\^\[A-Z(a-z)?\]\{2\}\$\//],
    ['an asset-id regex', /\/\^\[a-z0-9\]\[a-z0-9-\]/],
    ['a pathway-id regex', /\/\^\[a-z\]\[a-z0-9-\]\{0,30\}\$\//],
    ['the metric namespace', /['"`]StreamingPlatform['"`]/],
    ['the catalog event source', /['"`]streaming\.catalog['"`]/],
    ['a catalog event name', /['"]Asset (Ready|Failed|Removed)['"]/],
    ['the upload prefix', /=\s*['"`]uploads\/['"`]/],
    ['a CORS allow-headers list', /['"`]CMCD-Request, CMCD-Object/],
  ];

  it.each(restatements)('has no second definition of %s outside core/identifiers.ts', (_what, pattern) => {
    const offenders = sources.filter(({ text }) => pattern.test(text)).map(({ file }) => file);
    expect(offenders).toEqual([]);
  });
});

describe('identifier rules agree with their producers', () => {
  it('accepts every asset id assetIdFromKey produces, including capped long names', () => {
    const keys = ['uploads/Big Buck.mov', 'uploads/a/b/ä.mp4', `uploads/${'word '.repeat(40)}.mov`, 'uploads/1.mp4'];
    for (const id of keys.map(assetIdFromKey)) expect(isAssetId(id), id).toBe(true);
  });

  it.each(['', 'Big-Buck', 'big_buck', '-big', 'big-', 'big--buck', 'a'.repeat(MAX_ASSET_ID_LENGTH + 1), 'big/buck', 42])(
    'refuses %j as an asset id',
    (value) => {
      expect(isAssetId(value)).toBe(false);
    },
  );

  it('accepts the revisions revisionFromUpload produces and nothing shorter', () => {
    const { revision } = revisionFromUpload({ time: '2026-12-02T10:00:00Z', key: 'uploads/a.mp4', sequencer: '0066432B73A1C2D9E4' });
    expect(isRevision(revision)).toBe(true);
    expect(isRevision('r2')).toBe(false);
    expect(isRevision(`${revision}/..`)).toBe(false);
  });

  it('tells known countries, the unknown country and junk apart', () => {
    expect(isCountryCode('DE')).toBe(true);
    expect(isRoutingCountry('DE')).toBe(true);
    expect(isCountryCode('XX')).toBe(true);
    expect(isRoutingCountry('XX')).toBe(false);
    expect(isRoutingCountry('de')).toBe(false);
    expect(countryOrUnknown(' de ')).toBe('DE');
    expect(countryOrUnknown('DEU')).toBe('XX');
    expect(countryOrUnknown(undefined)).toBe('XX');
  });

  it('accepts pathway ids the config accepts and hosts with or without a port', () => {
    expect(isPathwayId('cf-a')).toBe(true);
    expect(isPathwayId('CF-A')).toBe(false);
    expect(isPathwayId('1cdn')).toBe(false);
    expect(isPathwayHost('d111111abcdef8.cloudfront.net')).toBe(true);
    expect(isPathwayHost('127.0.0.1:4581')).toBe(true);
    expect(isPathwayHost('cdn.example.net/path')).toBe(false);
    expect(isPathwayHost('"quoted"')).toBe(false);
  });

  it('answers a preflight with the headers the delivery policy allows', () => {
    expect(corsPreflightHeaders(DELIVERY_CORS)).toMatchObject({
      'access-control-allow-origin': '*',
      'access-control-allow-headers': 'CMCD-Request, CMCD-Object, CMCD-Status, CMCD-Session, Range',
    });
  });
});
