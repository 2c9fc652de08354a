import { describe, expect, it } from 'vitest';
import { generateInitialKeyring, rotateKeyring, type Keyring } from '../../core/keyring';
import { signToken, verifyToken } from '../../core/token';
import { seededRandom } from '../support/seeded-random';

const NOW = 1_750_000_000;
const MUTATIONS = 12_000;


const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const EXTRA = '.=+/% \u0000\u00e9\u0141';

function mutate(token: string, random: () => number): { kind: string; value: string } {
  const pick = (n: number) => Math.floor(random() * n);
  const anyChar = () => (random() < 0.85 ? ALPHABET[pick(ALPHABET.length)]! : EXTRA[pick(EXTRA.length)]!);
  const at = pick(token.length);
  switch (pick(6)) {
    case 0:
      return { kind: 'flip', value: token.slice(0, at) + anyChar() + token.slice(at + 1) };
    case 1:
      return { kind: 'truncate', value: random() < 0.5 ? token.slice(0, at) : token.slice(at + 1) };
    case 2:
      return { kind: 'insert', value: token.slice(0, at) + anyChar() + token.slice(at) };
    case 3: {
      const other = pick(token.length);
      const chars = [...token];
      [chars[at], chars[other]] = [chars[other]!, chars[at]!];
      return { kind: 'swap', value: chars.join('') };
    }
    case 4:
      return { kind: 'delete', value: token.slice(0, at) + token.slice(at + 1) };
    default: {
      // Bit flip inside one base64url character's 6-bit value: the subtlest single-character change.
      const index = ALPHABET.indexOf(token[at]!);
      if (index === -1) return { kind: 'bitflip', value: token.slice(0, at) + 'A' + token.slice(at + 1) };
      return { kind: 'bitflip', value: token.slice(0, at) + ALPHABET[index ^ (1 << pick(6))]! + token.slice(at + 1) };
    }
  }
}

describe('token fuzzing', () => {
  it(`accepts none of ${MUTATIONS} random mutations of valid tokens (byte flips, truncations, insertions, swaps)`, () => {
    // Prepare: two keys (a rotation happened) and tokens from both, with and without optional claims
    const old = generateInitialKeyring({ nowSeconds: NOW - 86_400, kid: 'kold', key: Buffer.alloc(32, 7) });
    const keyring: Keyring = rotateKeyring(old, { nowSeconds: NOW - 60, maxTokenLifetimeSeconds: 3600, newKid: 'knew', newKey: Buffer.alloc(32, 9) });
    const originals = [
      signToken({ sid: 'session-1', aid: 'big-buck', exp: NOW + 3600 }, old),
      signToken({ sid: 'session-2', aid: 'big-buck', exp: NOW + 3600, nbf: NOW - 10, ip: '203.0.113.178' }, keyring),
      signToken({ sid: '3f1c1e7a-4a8b-4c55-9d2e-0a1b2c3d4e5f', aid: 'sintel', exp: NOW + 60 }, keyring),
    ];
    // A second keyring object with the same keys starts with an empty verified-claims cache: fuzz both paths.
    const coldKeyring: Keyring = { current: keyring.current, keys: new Map(keyring.keys), createdAt: new Map(keyring.createdAt) };
    const opts = { nowSeconds: NOW, ip: '203.0.113.178' };
    for (const token of originals) expect(verifyToken(token, keyring, opts).ok).toBe(true);
    const random = seededRandom(0x5eed);
    const accepted: string[] = [];
    const kinds = new Map<string, number>();

    // Act
    let tried = 0;
    while (tried < MUTATIONS) {
      const original = originals[tried % originals.length]!;
      const { kind, value } = mutate(original, random);
      if (value === original) continue;
      tried++;
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      const target = tried % 2 === 0 ? keyring : coldKeyring;
      if (verifyToken(value, target, opts).ok) accepted.push(`${kind}: ${value}`);
    }

    // Assess
    expect(accepted).toEqual([]);
    expect([...kinds.keys()].sort()).toEqual(['bitflip', 'delete', 'flip', 'insert', 'swap', 'truncate']);
  });
});
