import { randomBytes } from 'node:crypto';

/**
 * The playback-token keyring (docs/token.md "Keys"; ADR 0031): every HMAC key that may have
 * signed a still-valid token, the one new tokens are signed with, and when each key was created.
 *
 * Wire format (the Secrets Manager secret string):
 *   {"current":"<kid>","keys":{"<kid>":"<standard base64, >= 32 bytes>"},"createdAt":{"<kid>":<epoch s>}}
 */
export interface Keyring {
  readonly current: string;
  readonly keys: ReadonlyMap<string, Buffer>;
  readonly createdAt: ReadonlyMap<string, number>;
}

/** The secret string is not a usable keyring. The message names the problem, never key material. */
export class KeyringFormatError extends Error {
  constructor(message: string) {
    super(`invalid keyring: ${message}`);
    this.name = 'KeyringFormatError';
  }
}

/**
 * The secret still holds the deploy-time placeholder (`"current": null`, no keys) that the first rotation
 * replaces (lib/constructs/playback-keyring.ts). Consumers treat it like any other unusable keyring;
 * the rotation Lambda uses it to know it must create the first key rather than rotate.
 */
export class KeyringNotInitialisedError extends KeyringFormatError {
  constructor() {
    super('not initialised yet (the first rotation writes the first key)');
    this.name = 'KeyringNotInitialisedError';
  }
}

/** Key ids travel inside every token and are matched before JSON parsing (ADR 0030): keep them plain. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
/** RFC 2104 §3: keys shorter than the hash output (32 bytes for SHA-256) weaken the MAC. */
export const MIN_KEY_BYTES = 32;
/** More keys than this means retirement is broken; refuse rather than verify against a growing set. */
export const MAX_KEYS = 16;
/**
 * Extra time a superseded key is kept beyond the longest token lifetime: covers signers that cached the
 * previous keyring (the playback API refreshes at least hourly) and clock leeway (ADR 0031).
 */
export const DEFAULT_RETIREMENT_GRACE_SECONDS = 3600;

const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function parseKeyring(secretString: string): Keyring {
  let raw: unknown;
  try {
    raw = JSON.parse(secretString);
  } catch {
    throw new KeyringFormatError('not JSON');
  }
  if (!isPlainObject(raw)) throw new KeyringFormatError('not a JSON object');
  const { current, keys, createdAt } = raw;
  if (current === null && isPlainObject(keys) && Object.keys(keys).length === 0) throw new KeyringNotInitialisedError();
  if (typeof current !== 'string' || !KEY_ID_PATTERN.test(current)) throw new KeyringFormatError('"current" must be a key id');
  if (!isPlainObject(keys)) throw new KeyringFormatError('"keys" must be an object');
  if (!isPlainObject(createdAt)) throw new KeyringFormatError('"createdAt" must be an object');

  const kids = Object.keys(keys);
  if (kids.length > MAX_KEYS) throw new KeyringFormatError(`more than ${MAX_KEYS} keys (${kids.length})`);
  const keyMap = new Map<string, Buffer>();
  const createdMap = new Map<string, number>();
  for (const kid of kids) {
    if (!KEY_ID_PATTERN.test(kid)) throw new KeyringFormatError(`key id "${kid.slice(0, 40)}" must match ${KEY_ID_PATTERN}`);
    const encoded = keys[kid];
    if (typeof encoded !== 'string' || !STANDARD_BASE64.test(encoded)) throw new KeyringFormatError(`key "${kid}" must be standard base64`);
    const key = Buffer.from(encoded, 'base64');
    if (key.length < MIN_KEY_BYTES) throw new KeyringFormatError(`key "${kid}" is ${key.length} bytes, needs at least ${MIN_KEY_BYTES}`);
    const created = createdAt[kid];
    if (typeof created !== 'number' || !Number.isSafeInteger(created) || created < 0) {
      throw new KeyringFormatError(`createdAt of "${kid}" must be epoch seconds`);
    }
    keyMap.set(kid, key);
    createdMap.set(kid, created);
  }
  if (!keyMap.has(current)) throw new KeyringFormatError(`current key "${current}" is not in "keys"`);
  return { current, keys: keyMap, createdAt: createdMap };
}

export function serializeKeyring(k: Keyring): string {
  const keys: Record<string, string> = {};
  const createdAt: Record<string, number> = {};
  for (const [kid, key] of k.keys) {
    keys[kid] = key.toString('base64');
    createdAt[kid] = k.createdAt.get(kid) ?? 0;
  }
  return JSON.stringify({ current: k.current, keys, createdAt });
}

/**
 * Adds `newKid`, makes it current and retires superseded keys no token can still need.
 *
 * A key stops signing when the next key is created (rotation makes the new key current at once), so a
 * token signed with it lives at most until `supersededAt + maxTokenLifetime`. Retirement is measured from
 * that moment, not from the key's own creation: a key that signed for 30 days must outlive its last token
 * (ADR 0031). The current key is never retired.
 */
export function rotateKeyring(
  k: Keyring,
  opts: { nowSeconds: number; maxTokenLifetimeSeconds: number; newKid: string; newKey: Buffer; graceSeconds?: number },
): Keyring {
  if (!KEY_ID_PATTERN.test(opts.newKid)) throw new KeyringFormatError(`new key id "${opts.newKid}" must match ${KEY_ID_PATTERN}`);
  if (k.keys.has(opts.newKid)) throw new KeyringFormatError(`key id "${opts.newKid}" is already in the keyring`);
  if (opts.newKey.length < MIN_KEY_BYTES) throw new KeyringFormatError(`new key is ${opts.newKey.length} bytes, needs at least ${MIN_KEY_BYTES}`);
  const keepFor = opts.maxTokenLifetimeSeconds + (opts.graceSeconds ?? DEFAULT_RETIREMENT_GRACE_SECONDS);

  const keys = new Map<string, Buffer>();
  const createdAt = new Map<string, number>();
  for (const [kid, key] of k.keys) {
    const created = k.createdAt.get(kid) ?? 0;
    const supersededAt = kid === k.current ? opts.nowSeconds : supersessionTime(k, created);
    if (kid !== k.current && opts.nowSeconds - supersededAt > keepFor) continue;
    keys.set(kid, key);
    createdAt.set(kid, created);
  }
  keys.set(opts.newKid, Buffer.from(opts.newKey));
  createdAt.set(opts.newKid, opts.nowSeconds);
  if (keys.size > MAX_KEYS) throw new KeyringFormatError(`rotation would keep ${keys.size} keys (max ${MAX_KEYS}); rotate less often`);
  return { current: opts.newKid, keys, createdAt };
}

/** Creation time of the next-newer key: when a key stopped being current. Missing intermediates only make it later (safe). */
function supersessionTime(k: Keyring, created: number): number {
  let next = Number.POSITIVE_INFINITY;
  for (const other of k.createdAt.values()) if (other > created && other < next) next = other;
  return next === Number.POSITIVE_INFINITY ? created : next;
}

/** A fresh random HMAC-SHA256 key of the recommended length (RFC 2104 §3). */
export function generateKeyMaterial(): Buffer {
  return randomBytes(MIN_KEY_BYTES);
}

/** Short, sortable, unique key id: "k" + creation time in base 36 + 4 random hex digits. */
export function newKeyId(nowSeconds: number): string {
  return `k${nowSeconds.toString(36)}${randomBytes(2).toString('hex')}`;
}

/** The first keyring of a deployment (or of the local twin): one random key, current. */
export function generateInitialKeyring(opts: { nowSeconds?: number; kid?: string; key?: Buffer } = {}): Keyring {
  const nowSeconds = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
  const kid = opts.kid ?? newKeyId(nowSeconds);
  const key = opts.key ?? generateKeyMaterial();
  if (!KEY_ID_PATTERN.test(kid)) throw new KeyringFormatError(`key id "${kid}" must match ${KEY_ID_PATTERN}`);
  if (key.length < MIN_KEY_BYTES) throw new KeyringFormatError(`key is ${key.length} bytes, needs at least ${MIN_KEY_BYTES}`);
  return { current: kid, keys: new Map([[kid, Buffer.from(key)]]), createdAt: new Map([[kid, nowSeconds]]) };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The keyring a rotation writes as the next secret version: the first real keyring when the secret still
 * holds the deploy-time placeholder, otherwise `rotateKeyring` of the current one.
 */
export function nextKeyringVersion(
  currentSecretString: string,
  opts: { nowSeconds: number; maxTokenLifetimeSeconds: number; newKid?: string; newKey?: Buffer },
): Keyring {
  let current: Keyring;
  try {
    current = parseKeyring(currentSecretString);
  } catch (error) {
    if (error instanceof KeyringNotInitialisedError) return generateInitialKeyring({ nowSeconds: opts.nowSeconds, kid: opts.newKid, key: opts.newKey });
    throw error;
  }
  return rotateKeyring(current, {
    nowSeconds: opts.nowSeconds,
    maxTokenLifetimeSeconds: opts.maxTokenLifetimeSeconds,
    newKid: opts.newKid ?? newKeyId(opts.nowSeconds),
    newKey: opts.newKey ?? generateKeyMaterial(),
  });
}
