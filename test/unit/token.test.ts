import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateInitialKeyring, rotateKeyring, type Keyring } from '../../core/keyring';
import { MAX_ASSET_ID_LENGTH } from '../../core/identifiers';
import { MAX_TOKEN_LENGTH, normalizeIp, signToken, TokenClaimsError, verifyToken } from '../../core/token';

const NOW = 1_750_000_000;
const KEY_A = Buffer.alloc(32, 0xa1);
const KEY_B = Buffer.alloc(32, 0xb2);

function keyringA(): Keyring {
  return generateInitialKeyring({ nowSeconds: NOW - 86_400, kid: 'ka', key: KEY_A });
}

function validClaims(overrides: Partial<{ sid: string; aid: string; exp: number; nbf: number; ip: string }> = {}) {
  return { sid: '3f1c1e7a-4a8b-4c55-9d2e-0a1b2c3d4e5f', aid: 'big-buck', exp: NOW + 3600, ...overrides };
}

/** A token with a correct MAC over arbitrary claims text: isolates the claim checks from the MAC check. */
function signRaw(claimsJson: string, key: Buffer): string {
  const payload = Buffer.from(claimsJson, 'utf8').toString('base64url');
  return `${payload}.${createHmac('sha256', key).update(payload).digest('base64url')}`;
}

describe('signToken / verifyToken', () => {
  it('accepts a fresh token for the asset it names', () => {
    // Prepare
    const keyring = keyringA();
    const token = signToken(validClaims(), keyring);
    // Act
    const result = verifyToken(token, keyring, { nowSeconds: NOW, assetId: 'big-buck' });
    // Assess
    expect(result).toEqual({ ok: true, claims: { v: 1, kid: 'ka', sid: validClaims().sid, aid: 'big-buck', exp: NOW + 3600 } });
  });

  it('produces the documented format: base64url claims in canonical order, a dot, a 43-character MAC', () => {
    const token = signToken(validClaims({ nbf: NOW - 5, ip: '203.0.113.178' }), keyringA());
    const [payload, mac] = token.split('.');
    expect(mac).toHaveLength(43);
    expect(token).not.toMatch(/[=+/]/);
    expect(Buffer.from(payload!, 'base64url').toString()).toBe(
      `{"v":1,"kid":"ka","sid":"${validClaims().sid}","aid":"big-buck","exp":${NOW + 3600},"nbf":${NOW - 5},"ip":"203.0.113.178"}`,
    );
    expect(mac).toBe(createHmac('sha256', KEY_A).update(payload!).digest('base64url'));
  });

  it('rejects an expired token, allowing the leeway', () => {
    const keyring = keyringA();
    const token = signToken(validClaims({ exp: NOW - 5 }), keyring);
    expect(verifyToken(token, keyring, { nowSeconds: NOW, leewaySeconds: 10 }).ok).toBe(true);
    expect(verifyToken(token, keyring, { nowSeconds: NOW + 5, leewaySeconds: 10 })).toEqual({ ok: false, reason: 'expired' });
    expect(verifyToken(token, keyring, { nowSeconds: NOW, leewaySeconds: 0 })).toEqual({ ok: false, reason: 'expired' });
  });

  it('rejects a token that is not yet valid, allowing the leeway', () => {
    const keyring = keyringA();
    const token = signToken(validClaims({ nbf: NOW + 60 }), keyring);
    expect(verifyToken(token, keyring, { nowSeconds: NOW })).toEqual({ ok: false, reason: 'not-yet-valid' });
    expect(verifyToken(token, keyring, { nowSeconds: NOW + 55, leewaySeconds: 10 }).ok).toBe(true);
  });

  it('rejects a token whose asset differs from the path', () => {
    const keyring = keyringA();
    const token = signToken(validClaims({ aid: 'big-buck' }), keyring);
    expect(verifyToken(token, keyring, { nowSeconds: NOW, assetId: 'sintel' })).toEqual({ ok: false, reason: 'asset-mismatch' });
  });

  it('rejects a token signed with a key id the keyring does not know', () => {
    const signer = generateInitialKeyring({ nowSeconds: NOW, kid: 'kother', key: KEY_B });
    const token = signToken(validClaims(), signer);
    expect(verifyToken(token, keyringA(), { nowSeconds: NOW })).toEqual({ ok: false, reason: 'unknown-kid' });
  });

  it('rejects a token signed with a different key under a known key id', () => {
    const impostor = generateInitialKeyring({ nowSeconds: NOW, kid: 'ka', key: KEY_B });
    const token = signToken(validClaims(), impostor);
    expect(verifyToken(token, keyringA(), { nowSeconds: NOW })).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('rejects tampered claims (another asset, later expiry) under the original MAC', () => {
    const keyring = keyringA();
    const [, mac] = signToken(validClaims(), keyring).split('.');
    for (const forged of [validClaims({ aid: 'sintel' }), validClaims({ exp: NOW + 86_400 * 365 })]) {
      const json = `{"v":1,"kid":"ka","sid":"${forged.sid}","aid":"${forged.aid}","exp":${forged.exp}}`;
      const token = `${Buffer.from(json).toString('base64url')}.${mac}`;
      expect(verifyToken(token, keyring, { nowSeconds: NOW })).toEqual({ ok: false, reason: 'bad-signature' });
    }
  });

  it('rejects a tampered MAC, also once the claims are cached from an earlier valid request', () => {
    const keyring = keyringA();
    const token = signToken(validClaims(), keyring);
    const last = token.at(-1) === 'A' ? 'B' : 'A';
    const tampered = token.slice(0, -1) + last;
    expect(verifyToken(tampered, keyring, { nowSeconds: NOW })).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifyToken(token, keyring, { nowSeconds: NOW }).ok).toBe(true);
    expect(verifyToken(tampered, keyring, { nowSeconds: NOW })).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('rejects truncated tokens', () => {
    const keyring = keyringA();
    const token = signToken(validClaims(), keyring);
    for (const cut of [0, 1, 10, token.indexOf('.'), token.indexOf('.') + 1, token.length - 1]) {
      expect(verifyToken(token.slice(0, cut), keyring, { nowSeconds: NOW }).ok).toBe(false);
    }
    expect(verifyToken(token.slice(0, -1), keyring, { nowSeconds: NOW })).toEqual({ ok: false, reason: 'malformed' });
  });

  it('rejects an oversize token before any decoding', () => {
    const keyring = keyringA();
    const token = signToken(validClaims(), keyring);
    const oversize = 'A'.repeat(MAX_TOKEN_LENGTH + 1 - token.length) + token;
    expect(verifyToken(oversize, keyring, { nowSeconds: NOW })).toEqual({ ok: false, reason: 'too-long' });
  });

  it('rejects padding, standard-base64 characters and other non-base64url text', () => {
    const keyring = keyringA();
    const token = signToken(validClaims(), keyring);
    const [payload, mac] = token.split('.') as [string, string];
    const variants = [
      `${payload}=.${mac}`,
      `${payload}.${mac}=`,
      `${payload}.${mac.slice(0, -1)}+`,
      `${payload.slice(0, -1)}/.${mac}`,
      `${payload}.${mac.slice(0, -1)}\u0141`, // latin1 truncation of U+0141 would be "A"
      `${payload} .${mac}`,
      `${payload}..${mac}`,
      `${payload}.${mac}.${mac}`,
      `.${mac}`,
      '',
      '%7B%7D.abc',
    ];
    for (const variant of variants) expect(verifyToken(variant, keyring, { nowSeconds: NOW })).toEqual({ ok: false, reason: 'malformed' });
  });

  it('accepts a token signed with the previous key while that key is inside its retention window', () => {
    // Prepare: the keyring rotated after the token was issued
    const before = keyringA();
    const token = signToken(validClaims({ exp: NOW + 6 * 3600 }), before);
    const after = rotateKeyring(before, { nowSeconds: NOW, maxTokenLifetimeSeconds: 6 * 3600, newKid: 'kb', newKey: KEY_B });
    // Act + Assess
    expect(after.current).toBe('kb');
    expect(verifyToken(token, after, { nowSeconds: NOW + 3600 })).toMatchObject({ ok: true, claims: { kid: 'ka' } });
    expect(verifyToken(signToken(validClaims(), after), after, { nowSeconds: NOW })).toMatchObject({ ok: true, claims: { kid: 'kb' } });
  });

  it('rejects a token of a retired key as unknown-kid', () => {
    const first = keyringA();
    const token = signToken(validClaims(), first);
    const second = rotateKeyring(first, { nowSeconds: NOW, maxTokenLifetimeSeconds: 3600, newKid: 'kb', newKey: KEY_B });
    const third = rotateKeyring(second, { nowSeconds: NOW + 30 * 86_400, maxTokenLifetimeSeconds: 3600, newKid: 'kc', newKey: Buffer.alloc(32, 3) });
    expect([...third.keys.keys()]).toEqual(['kb', 'kc']);
    expect(verifyToken(token, third, { nowSeconds: NOW })).toEqual({ ok: false, reason: 'unknown-kid' });
  });

  it('binds a token to the client IP when it carries one', () => {
    const keyring = keyringA();
    const v4 = signToken(validClaims({ ip: '203.0.113.178' }), keyring);
    expect(verifyToken(v4, keyring, { nowSeconds: NOW, ip: '203.0.113.178' }).ok).toBe(true);
    expect(verifyToken(v4, keyring, { nowSeconds: NOW, ip: '203.0.113.179' })).toEqual({ ok: false, reason: 'ip-mismatch' });
    expect(verifyToken(v4, keyring, { nowSeconds: NOW })).toEqual({ ok: false, reason: 'ip-mismatch' });
    expect(verifyToken(v4, keyring, { nowSeconds: NOW, ip: '::ffff:203.0.113.178' }).ok).toBe(true);
  });

  it('compares IPv6 addresses in canonical form, whatever spelling CloudFront and the API use', () => {
    const keyring = keyringA();
    const token = signToken(validClaims({ ip: '2001:DB8:85A3::8A2E:370:7334' }), keyring);
    expect(verifyToken(token, keyring, { nowSeconds: NOW, ip: '2001:0db8:85a3:0:0:8a2e:0370:7334' }).ok).toBe(true);
    expect(verifyToken(token, keyring, { nowSeconds: NOW, ip: '2001:db8:85a3::8a2e:370:7335' })).toEqual({ ok: false, reason: 'ip-mismatch' });
  });

  it('ignores the client IP for tokens without IP binding', () => {
    const keyring = keyringA();
    const token = signToken(validClaims(), keyring);
    expect(verifyToken(token, keyring, { nowSeconds: NOW, ip: '198.51.100.7' }).ok).toBe(true);
  });

  it('rejects correctly signed claims with wrong types, extra members or a non-canonical prefix', () => {
    const keyring = keyringA();
    const sid = validClaims().sid;
    const bad = [
      `{"v":1,"kid":"ka","sid":"${sid}","aid":"big-buck","exp":"${NOW + 60}"}`,
      `{"v":1,"kid":"ka","sid":"${sid}","aid":"big-buck","exp":${NOW + 60}.5}`,
      `{"v":1,"kid":"ka","sid":"${sid}","aid":"big-buck","exp":${NOW + 60},"admin":true}`,
      `{"v":1,"kid":"ka","sid":"${sid}","aid":"big-buck"}`,
      `{"v":1,"kid":"ka","sid":"${sid}","aid":"big/buck","exp":${NOW + 60}}`,
      `{"v":1,"kid":"ka","sid":"${sid}","aid":"big-buck","exp":${NOW + 60},"ip":"not-an-ip"}`,
      `{"v":1,"kid":"ka","sid":"${sid}","aid":"big-buck","exp":${NOW + 60},"kid":"kb"}`,
      `{"v":2,"kid":"ka","sid":"${sid}","aid":"big-buck","exp":${NOW + 60}}`,
      `{"kid":"ka","v":1,"sid":"${sid}","aid":"big-buck","exp":${NOW + 60}}`,
      `{"v":1,"kid":"ka","sid":"${sid}","aid":"big-buck","exp":${NOW + 60}`,
    ];
    for (const json of bad) expect(verifyToken(signRaw(json, KEY_A), keyring, { nowSeconds: NOW }), json).toEqual({ ok: false, reason: 'malformed' });
  });

  it('returns frozen claims so a caller cannot alter what later requests see', () => {
    const keyring = keyringA();
    const result = verifyToken(signToken(validClaims(), keyring), keyring, { nowSeconds: NOW });
    expect(result.ok && Object.isFrozen(result.claims)).toBe(true);
  });

  it('keeps verifying correctly after the verified-claims cache has turned over several times', () => {
    // Prepare: far more sessions than the cache holds
    const keyring = keyringA();
    const first = signToken(validClaims({ sid: 'first' }), keyring);
    expect(verifyToken(first, keyring, { nowSeconds: NOW }).ok).toBe(true);
    for (let i = 0; i < 9000; i++) verifyToken(signToken(validClaims({ sid: `s${i}` }), keyring), keyring, { nowSeconds: NOW });
    // Act + Assess
    expect(verifyToken(first, keyring, { nowSeconds: NOW })).toMatchObject({ ok: true, claims: { sid: 'first' } });
    expect(verifyToken(first.slice(0, -1) + (first.endsWith('A') ? 'B' : 'A'), keyring, { nowSeconds: NOW })).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifyToken(first, keyring, { nowSeconds: NOW, assetId: 'sintel' })).toEqual({ ok: false, reason: 'asset-mismatch' });
  });

  it('keeps the largest legal claims under the length cap', () => {
    const keyring = generateInitialKeyring({ nowSeconds: NOW, kid: 'k'.repeat(32), key: KEY_A });
    const token = signToken(
      { sid: 's'.repeat(64), aid: 'a'.repeat(MAX_ASSET_ID_LENGTH), exp: 9_999_999_999, nbf: 9_999_999_998, ip: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe' },
      keyring,
    );
    expect(token.length).toBeLessThanOrEqual(MAX_TOKEN_LENGTH);
    expect(verifyToken(token, keyring, { nowSeconds: 9_999_999_998, ip: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe' }).ok).toBe(true);
  });

  it('refuses to sign claims that break the format', () => {
    const keyring = keyringA();
    expect(() => signToken(validClaims({ aid: 'a/b' }), keyring)).toThrow(TokenClaimsError);
    expect(() => signToken(validClaims({ sid: '' }), keyring)).toThrow(TokenClaimsError);
    expect(() => signToken(validClaims({ exp: NOW + 0.5 }), keyring)).toThrow(TokenClaimsError);
    expect(() => signToken(validClaims({ nbf: NOW + 7200 }), keyring)).toThrow(TokenClaimsError);
    expect(() => signToken(validClaims({ ip: '10.0.0.256' }), keyring)).toThrow(TokenClaimsError);
  });
});

describe('normalizeIp', () => {
  it('gives one spelling per address and null for non-addresses', () => {
    expect(normalizeIp('192.0.2.1')).toBe('192.0.2.1');
    expect(normalizeIp('192.0.2.01')).toBeNull();
    expect(normalizeIp('2001:0DB8::0001')).toBe('2001:db8::1');
    expect(normalizeIp('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(normalizeIp('example.com')).toBeNull();
    expect(normalizeIp('1.2.3')).toBeNull();
  });
});
