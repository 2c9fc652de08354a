import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { Keyring } from './keyring';
import { ASSET_ID_RULE, isAssetId } from './identifiers';

/**
 * Playback token v1 (docs/token.md "Format"):
 *
 *   token = b64url(claimsJson) "." b64url(HMAC-SHA256(keys[kid], b64url(claimsJson)))
 *
 * claimsJson is canonical: members in the order v, kid, sid, aid, exp, nbf?, ip?, no white space, so
 * it always begins with `{"v":1,"kid":"`. The verifier reads the kid from that prefix, checks the MAC,
 * and only then parses JSON (ADR 0030): a forged token costs one HMAC and never reaches JSON.parse.
 */
export interface TokenClaims {
  v: 1;
  kid: string;
  sid: string;
  aid: string;
  exp: number;
  nbf?: number;
  ip?: string;
}

export type TokenFailureReason =
  | 'malformed'
  | 'too-long'
  | 'unknown-kid'
  | 'bad-signature'
  | 'expired'
  | 'not-yet-valid'
  | 'asset-mismatch'
  | 'ip-mismatch';

export type VerifyResult = { ok: true; claims: TokenClaims } | { ok: false; reason: TokenFailureReason };

/** Upper bound of a token's length; the largest legal claims (64-character sid and asset id, 32-character kid, IPv6) encode to 411 characters. */
export const MAX_TOKEN_LENGTH = 512;
/** Clock skew tolerated on `exp` and `nbf`: signer and edge clocks are NTP-synchronised, so seconds suffice. */
export const DEFAULT_LEEWAY_SECONDS = 10;
/** Session ids: UUIDs or similar opaque ids. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const KID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
/** Largest epoch second accepted in `exp`/`nbf` (year 2286); keeps claims short and arithmetic exact. */
const MAX_EPOCH_SECONDS = 9_999_999_999;

/** b64url of a 32-byte HMAC-SHA256 is always 43 characters without padding (RFC 4648 §5). */
const MAC_LENGTH = 43;
/** Whole-token shape: unpadded base64url, exactly one ".", a 43-character MAC. Rejects padding and foreign characters. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/;
const CLAIMS_PREFIX = '{"v":1,"kid":"';
const CLAIM_NAMES: ReadonlySet<string> = new Set(['v', 'kid', 'sid', 'aid', 'exp', 'nbf', 'ip']);

/** The claims given to `signToken` break the format; the message says which one. */
export class TokenClaimsError extends Error {
  constructor(message: string) {
    super(`cannot sign token: ${message}`);
    this.name = 'TokenClaimsError';
  }
}

export function signToken(claims: { sid: string; aid: string; exp: number; nbf?: number; ip?: string }, keyring: Keyring): string {
  const kid = keyring.current;
  const key = prepare(keyring).keys.get(kid);
  if (key === undefined) throw new TokenClaimsError(`current key "${kid}" is missing from the keyring`);
  if (!KID_PATTERN.test(kid)) throw new TokenClaimsError(`key id "${kid}" is not a plain key id`);
  if (!SESSION_ID_PATTERN.test(claims.sid)) throw new TokenClaimsError(`sid must match ${SESSION_ID_PATTERN}`);
  if (!isAssetId(claims.aid)) throw new TokenClaimsError(`aid "${claims.aid}" must be an asset id: ${ASSET_ID_RULE}`);
  if (!isEpochSeconds(claims.exp)) throw new TokenClaimsError(`exp must be integer epoch seconds, got ${claims.exp}`);
  if (claims.nbf !== undefined && (!isEpochSeconds(claims.nbf) || claims.nbf > claims.exp)) {
    throw new TokenClaimsError(`nbf must be integer epoch seconds not after exp, got ${claims.nbf}`);
  }
  let ip: string | undefined;
  if (claims.ip !== undefined) {
    ip = normalizeIp(claims.ip) ?? undefined;
    if (ip === undefined) throw new TokenClaimsError(`ip "${claims.ip}" is not an IPv4 or IPv6 address`);
  }
  // Insertion order is serialisation order: this literal is the canonical member order.
  const canonical: TokenClaims = { v: 1, kid, sid: claims.sid, aid: claims.aid, exp: claims.exp };
  if (claims.nbf !== undefined) canonical.nbf = claims.nbf;
  if (ip !== undefined) canonical.ip = ip;
  const payload = Buffer.from(JSON.stringify(canonical), 'utf8').toString('base64url');
  const token = `${payload}.${createHmac('sha256', key).update(payload, 'latin1').digest('base64url')}`;
  if (token.length > MAX_TOKEN_LENGTH) throw new TokenClaimsError(`token would be ${token.length} characters (max ${MAX_TOKEN_LENGTH})`);
  return token;
}

export function verifyToken(
  token: string,
  keyring: Keyring,
  opts: { nowSeconds: number; assetId?: string; ip?: string; leewaySeconds?: number },
): VerifyResult {
  if (typeof token !== 'string') return FAILURES.malformed;
  if (token.length > MAX_TOKEN_LENGTH) return FAILURES['too-long'];
  if (!TOKEN_SHAPE.test(token)) return FAILURES.malformed;
  const dot = token.length - MAC_LENGTH - 1;
  const payload = token.slice(0, dot);
  const prepared = prepare(keyring);

  let entry = prepared.verified.get(payload);
  if (entry === undefined) {
    entry = prepared.previous.get(payload);
    if (entry !== undefined) remember(prepared, payload, entry);
  }
  if (entry === undefined) {
    const json = Buffer.from(payload, 'base64url').toString('utf8');
    if (!json.startsWith(CLAIMS_PREFIX)) return FAILURES.malformed;
    const kidEnd = json.indexOf('"', CLAIMS_PREFIX.length);
    if (kidEnd === -1) return FAILURES.malformed;
    const kid = json.slice(CLAIMS_PREFIX.length, kidEnd);
    const key = prepared.keys.get(kid);
    if (key === undefined) return FAILURES['unknown-kid'];
    const expectedMac = Buffer.from(createHmac('sha256', key).update(payload, 'latin1').digest('base64url'), 'latin1');
    if (!macMatches(token.slice(dot + 1), expectedMac)) return FAILURES['bad-signature'];
    const claims = parseClaims(json, kid);
    if (claims === null) return FAILURES.malformed;
    entry = { expectedMac, result: Object.freeze({ ok: true as const, claims }) };
    remember(prepared, payload, entry);
  } else if (!macMatches(token.slice(dot + 1), entry.expectedMac)) {
    return FAILURES['bad-signature'];
  }

  const claims = entry.result.claims;
  const leeway = opts.leewaySeconds ?? DEFAULT_LEEWAY_SECONDS;
  if (opts.nowSeconds >= claims.exp + leeway) return FAILURES.expired;
  if (claims.nbf !== undefined && opts.nowSeconds + leeway < claims.nbf) return FAILURES['not-yet-valid'];
  if (opts.assetId !== undefined && opts.assetId !== claims.aid) return FAILURES['asset-mismatch'];
  // A bound token with no client address to compare is refused: binding must fail closed.
  if (claims.ip !== undefined && (opts.ip === undefined || normalizeIp(opts.ip) !== claims.ip)) return FAILURES['ip-mismatch'];
  return entry.result;
}

/**
 * Canonical text of an IP address so that one address has one spelling: dotted-quad IPv4 without
 * leading zeros; IPv6 as the WHATWG URL host parser serialises it (RFC 5952 compression, lower case),
 * with IPv4-mapped IPv6 reduced to IPv4. Null when the text is neither.
 */
export function normalizeIp(text: string): string | null {
  if (isCanonicalIpv4(text)) return text;
  if (text.indexOf(':') === -1) return null;
  let host: string;
  try {
    host = new URL(`http://[${text}]/`).hostname;
  } catch {
    return null;
  }
  const v6 = host.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v6);
  if (mapped === null) return v6;
  const high = Number.parseInt(mapped[1]!, 16);
  const low = Number.parseInt(mapped[2]!, 16);
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

interface VerifiedEntry {
  /** Expected MAC as the 43 ASCII bytes of its base64url text. */
  readonly expectedMac: Buffer;
  readonly result: { readonly ok: true; readonly claims: TokenClaims };
}

interface PreparedKeyring {
  readonly keys: ReadonlyMap<string, KeyObject>;
  /** Claims already authenticated under this keyring, keyed by their b64url text: this generation… */
  verified: Map<string, VerifiedEntry>;
  /** …and the one before, so recently used sessions survive a generation change. */
  previous: Map<string, VerifiedEntry>;
}

/**
 * A player fetches hundreds of segments with one token, so the verifier remembers, per keyring object,
 * the expected MAC and parsed claims of each authenticated claims text. Only MAC-verified claims enter,
 * so the cache cannot be filled by forgeries; the presented MAC is still compared in constant time on
 * every request, and expiry, asset and IP are re-checked every time (ADR 0030).
 */
const VERIFIED_CACHE_SIZE = 4096;
const preparedKeyrings = new WeakMap<Keyring, PreparedKeyring>();

/** Key decoding happens once per keyring object (at init or after a refresh), never per request. */
function prepare(keyring: Keyring): PreparedKeyring {
  let prepared = preparedKeyrings.get(keyring);
  if (prepared === undefined) {
    const keys = new Map<string, KeyObject>();
    for (const [kid, key] of keyring.keys) keys.set(kid, createSecretKey(key));
    prepared = { keys, verified: new Map(), previous: new Map() };
    preparedKeyrings.set(keyring, prepared);
  }
  return prepared;
}

/**
 * Two generations instead of a true LRU: when the current generation is full it becomes the previous one
 * and a fresh Map starts. Evicting single entries from a large Map measured slower on the miss path
 * (deleted slots are skipped by every iteration until V8 rehashes), and a hit in the previous generation
 * is promoted, so active sessions stay cached.
 */
function remember(prepared: PreparedKeyring, payload: string, entry: VerifiedEntry): void {
  if (prepared.verified.size >= VERIFIED_CACHE_SIZE) {
    prepared.previous = prepared.verified;
    prepared.verified = new Map();
  }
  prepared.verified.set(payload, entry);
}

/** Module-scope scratch: handlers run one request at a time, and nothing awaits between write and compare. */
const presentedMac = Buffer.alloc(MAC_LENGTH);

/** The shape check guarantees 43 base64url (ASCII) characters, so their latin1 bytes are the characters. */
function macMatches(presented: string, expected: Buffer): boolean {
  presentedMac.write(presented, 0, MAC_LENGTH, 'latin1');
  return timingSafeEqual(presentedMac, expected);
}

function parseClaims(json: string, kid: string): TokenClaims | null {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const r = raw as Record<string, unknown>;
  for (const name in r) if (!CLAIM_NAMES.has(name)) return null;
  if (r.v !== 1 || r.kid !== kid) return null;
  if (typeof r.sid !== 'string' || !SESSION_ID_PATTERN.test(r.sid)) return null;
  if (!isAssetId(r.aid)) return null;
  if (!isEpochSeconds(r.exp)) return null;
  const claims: TokenClaims = { v: 1, kid, sid: r.sid, aid: r.aid, exp: r.exp };
  if (r.nbf !== undefined) {
    if (!isEpochSeconds(r.nbf)) return null;
    claims.nbf = r.nbf;
  }
  if (r.ip !== undefined) {
    if (typeof r.ip !== 'string' || normalizeIp(r.ip) !== r.ip) return null;
    claims.ip = r.ip;
  }
  return Object.freeze(claims);
}

function isEpochSeconds(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_EPOCH_SECONDS;
}

function isCanonicalIpv4(text: string): boolean {
  const parts = text.split('.');
  if (parts.length !== 4) return false;
  for (const part of parts) {
    if (part.length === 0 || part.length > 3 || (part.length > 1 && part.charCodeAt(0) === 0x30)) return false;
    for (let i = 0; i < part.length; i++) {
      const c = part.charCodeAt(i);
      if (c < 0x30 || c > 0x39) return false;
    }
    if (Number(part) > 255) return false;
  }
  return true;
}

const FAILURES: { readonly [R in TokenFailureReason]: { readonly ok: false; readonly reason: R } } = Object.freeze({
  malformed: Object.freeze({ ok: false, reason: 'malformed' }),
  'too-long': Object.freeze({ ok: false, reason: 'too-long' }),
  'unknown-kid': Object.freeze({ ok: false, reason: 'unknown-kid' }),
  'bad-signature': Object.freeze({ ok: false, reason: 'bad-signature' }),
  expired: Object.freeze({ ok: false, reason: 'expired' }),
  'not-yet-valid': Object.freeze({ ok: false, reason: 'not-yet-valid' }),
  'asset-mismatch': Object.freeze({ ok: false, reason: 'asset-mismatch' }),
  'ip-mismatch': Object.freeze({ ok: false, reason: 'ip-mismatch' }),
} as const);

/**
 * The session id a token claims, read WITHOUT checking its MAC. Only for a token the edge has already
 * verified: a real-time log line of a request the edge served (not refused with 403) carries such a token
 * in its path, and the aggregator has no keyring (docs/telemetry.md "Which CDN log lines count").
 */
export function sessionIdOfVerifiedToken(token: string): string | undefined {
  if (token.length > MAX_TOKEN_LENGTH || !TOKEN_SHAPE.test(token)) return undefined;
  const json = Buffer.from(token.slice(0, token.length - MAC_LENGTH - 1), 'base64url').toString('utf8');
  if (!json.startsWith(CLAIMS_PREFIX)) return undefined;
  const kidEnd = json.indexOf('"', CLAIMS_PREFIX.length);
  return kidEnd === -1 ? undefined : (parseClaims(json, json.slice(CLAIMS_PREFIX.length, kidEnd))?.sid ?? undefined);
}
