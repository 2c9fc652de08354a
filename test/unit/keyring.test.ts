import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RETIREMENT_GRACE_SECONDS,
  generateInitialKeyring,
  KeyringFormatError,
  KeyringNotInitialisedError,
  nextKeyringVersion,
  parseKeyring,
  rotateKeyring,
  serializeKeyring,
  type Keyring,
} from '../../core/keyring';

const NOW = 1_750_000_000;
const DAY = 86_400;
const LIFETIME = 6 * 3600;
const key = (byte: number) => Buffer.alloc(32, byte);
const b64 = (byte: number) => key(byte).toString('base64');

describe('parseKeyring / serializeKeyring', () => {
  it('reads the documented secret format and writes it back unchanged', () => {
    // Prepare
    const text = JSON.stringify({ current: 'kb', keys: { ka: b64(1), kb: b64(2) }, createdAt: { ka: NOW - DAY, kb: NOW } });
    // Act
    const keyring = parseKeyring(text);
    // Assess
    expect(keyring.current).toBe('kb');
    expect(keyring.keys.get('ka')).toEqual(key(1));
    expect(keyring.createdAt.get('kb')).toBe(NOW);
    expect(serializeKeyring(keyring)).toBe(text);
  });

  it('recognises the deploy-time placeholder as not initialised', () => {
    const placeholder = JSON.stringify({ current: null, keys: {}, createdAt: {}, placeholder: 'x7Yq' });
    expect(() => parseKeyring(placeholder)).toThrow(KeyringNotInitialisedError);
  });

  it.each([
    ['not JSON', '{'],
    ['an array', '[]'],
    ['current not in keys', JSON.stringify({ current: 'kz', keys: { ka: b64(1) }, createdAt: { ka: NOW } })],
    ['a short key', JSON.stringify({ current: 'ka', keys: { ka: Buffer.alloc(16).toString('base64') }, createdAt: { ka: NOW } })],
    ['base64url instead of base64', JSON.stringify({ current: 'ka', keys: { ka: Buffer.alloc(32, 0xfb).toString('base64url') }, createdAt: { ka: NOW } })],
    ['a missing createdAt', JSON.stringify({ current: 'ka', keys: { ka: b64(1) }, createdAt: {} })],
    ['a kid with a quote', JSON.stringify({ current: 'k"a', keys: { 'k"a': b64(1) }, createdAt: { 'k"a': NOW } })],
    ['too many keys', JSON.stringify({ current: 'k0', keys: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, b64(i)])), createdAt: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, NOW])) })],
  ])('rejects a keyring with %s', (_name, text) => {
    expect(() => parseKeyring(text)).toThrow(KeyringFormatError);
  });

  it('never puts key material into error messages', () => {
    const secret = Buffer.alloc(16, 0x42).toString('base64');
    try {
      parseKeyring(JSON.stringify({ current: 'ka', keys: { ka: secret }, createdAt: { ka: NOW } }));
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain(secret);
    }
  });
});

describe('rotateKeyring', () => {
  const start = (): Keyring => generateInitialKeyring({ nowSeconds: NOW, kid: 'ka', key: key(1) });

  it('adds the new key and makes it current, keeping the outgoing key for its tokens', () => {
    const rotated = rotateKeyring(start(), { nowSeconds: NOW + 30 * DAY, maxTokenLifetimeSeconds: LIFETIME, newKid: 'kb', newKey: key(2) });
    expect(rotated.current).toBe('kb');
    expect([...rotated.keys.keys()]).toEqual(['ka', 'kb']);
    expect(rotated.createdAt.get('kb')).toBe(NOW + 30 * DAY);
  });

  it('retires a superseded key once the longest token lifetime (plus grace) has passed since it stopped signing', () => {
    const second = rotateKeyring(start(), { nowSeconds: NOW + DAY, maxTokenLifetimeSeconds: LIFETIME, newKid: 'kb', newKey: key(2) });
    const keepUntil = NOW + DAY + LIFETIME + DEFAULT_RETIREMENT_GRACE_SECONDS;
    const early = rotateKeyring(second, { nowSeconds: keepUntil, maxTokenLifetimeSeconds: LIFETIME, newKid: 'kc', newKey: key(3) });
    const late = rotateKeyring(second, { nowSeconds: keepUntil + 1, maxTokenLifetimeSeconds: LIFETIME, newKid: 'kc', newKey: key(3) });
    expect([...early.keys.keys()]).toEqual(['ka', 'kb', 'kc']);
    expect([...late.keys.keys()]).toEqual(['kb', 'kc']);
  });

  it('measures retirement from when a key stopped signing, not from its creation', () => {
    // ka was created long ago but signed until kb arrived an hour ago: tokens it signed are still live.
    const old = generateInitialKeyring({ nowSeconds: NOW - 365 * DAY, kid: 'ka', key: key(1) });
    const second = rotateKeyring(old, { nowSeconds: NOW - 3600, maxTokenLifetimeSeconds: LIFETIME, newKid: 'kb', newKey: key(2) });
    const third = rotateKeyring(second, { nowSeconds: NOW, maxTokenLifetimeSeconds: LIFETIME, newKid: 'kc', newKey: key(3) });
    expect(third.keys.has('ka')).toBe(true);
  });

  it('never retires the current key, however old', () => {
    const ancient = generateInitialKeyring({ nowSeconds: 0, kid: 'ka', key: key(1) });
    const rotated = rotateKeyring(ancient, { nowSeconds: NOW, maxTokenLifetimeSeconds: 60, newKid: 'kb', newKey: key(2), graceSeconds: 0 });
    expect(rotated.keys.has('ka')).toBe(true);
  });

  it('refuses a duplicate key id, a short key and a malformed key id', () => {
    const base = start();
    expect(() => rotateKeyring(base, { nowSeconds: NOW, maxTokenLifetimeSeconds: LIFETIME, newKid: 'ka', newKey: key(2) })).toThrow(KeyringFormatError);
    expect(() => rotateKeyring(base, { nowSeconds: NOW, maxTokenLifetimeSeconds: LIFETIME, newKid: 'kb', newKey: Buffer.alloc(8) })).toThrow(KeyringFormatError);
    expect(() => rotateKeyring(base, { nowSeconds: NOW, maxTokenLifetimeSeconds: LIFETIME, newKid: 'k b', newKey: key(2) })).toThrow(KeyringFormatError);
  });

  it('does not modify the keyring it rotates', () => {
    const base = start();
    rotateKeyring(base, { nowSeconds: NOW, maxTokenLifetimeSeconds: LIFETIME, newKid: 'kb', newKey: key(2) });
    expect([...base.keys.keys()]).toEqual(['ka']);
  });
});

describe('generateInitialKeyring / nextKeyringVersion', () => {
  it('creates one random 32-byte current key with a plain key id', () => {
    const keyring = generateInitialKeyring({ nowSeconds: NOW });
    expect(keyring.keys.size).toBe(1);
    expect(keyring.keys.get(keyring.current)).toHaveLength(32);
    expect(keyring.current).toMatch(/^[A-Za-z0-9_-]{1,32}$/);
    expect(parseKeyring(serializeKeyring(keyring))).toEqual(keyring);
    expect(generateInitialKeyring({ nowSeconds: NOW }).keys.get(generateInitialKeyring().current)).toBeUndefined();
  });

  it('turns the placeholder into a first keyring and a real keyring into its rotation', () => {
    const placeholder = JSON.stringify({ current: null, keys: {}, createdAt: {}, placeholder: 'x' });
    const first = nextKeyringVersion(placeholder, { nowSeconds: NOW, maxTokenLifetimeSeconds: LIFETIME, newKid: 'ka', newKey: key(1) });
    expect([...first.keys.keys()]).toEqual(['ka']);
    const second = nextKeyringVersion(serializeKeyring(first), { nowSeconds: NOW + DAY, maxTokenLifetimeSeconds: LIFETIME });
    expect(second.keys.size).toBe(2);
    expect(second.current).not.toBe('ka');
  });

  it('refuses to rotate a corrupted keyring rather than silently replacing it', () => {
    expect(() => nextKeyringVersion('{"current":"ka"}', { nowSeconds: NOW, maxTokenLifetimeSeconds: LIFETIME })).toThrow(KeyringFormatError);
  });
});
