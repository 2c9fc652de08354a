// Viewer-request token check for CloudFront Functions, runtime cloudfront-js-2.0 (docs/token.md
// "CloudFront Functions check"; ADR 0033). Same token v1 and the same answers as edge-functions/viewer-auth
// (core/token.ts, core/token-path.ts); test/fixtures/token-vectors.json proves the two agree.
// Runtime limits: ES 5.1 plus some later syntax, modules 'crypto' and 'cloudfront' only, 10 KB of code, no
// network: the keyring comes from the associated KeyValueStore (one key per kid, value = standard base64).
import crypto from 'crypto';
import cf from 'cloudfront';

const kvs = cf.kvs();
const MAX_TOKEN_LENGTH = 512;
const LEEWAY_SECONDS = 10;
const MAX_EPOCH_SECONDS = 9999999999;
const MAC_LENGTH = 43;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/;
const KID_SHAPE = /^[A-Za-z0-9_-]{1,32}$/;
const SID_SHAPE = /^[A-Za-z0-9_-]{1,64}$/;
const AID_SHAPE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const CLAIMS_PREFIX = '{"v":1,"kid":"';
const CLAIM_NAMES = { v: 1, kid: 1, sid: 1, aid: 1, exp: 1, nbf: 1, ip: 1 };
// core/identifiers.ts DELIVERY_CORS in CloudFront Functions header form, filled in by lib/bundling/cloudfront-function.ts.
const PREFLIGHT_HEADERS = __PREFLIGHT_HEADERS__;
const REFUSAL_CORS_HEADERS = __REFUSAL_CORS_HEADERS__;

async function handler(event) {
  const request = event.request;
  if (request.method === 'OPTIONS') return preflight();
  const uri = request.uri;
  const end = uri.indexOf('/', 1);
  if (uri.charAt(0) !== '/' || end <= 1 || end === uri.length - 1) return refuse('malformed');
  const token = uri.slice(1, end);
  const rest = uri.slice(end);
  const aid = assetIdOfPath(rest);
  if (aid === null) return refuse('asset-mismatch');
  const reason = await check(token, aid, event.viewer.ip, Math.floor(Date.now() / 1000));
  if (reason !== null) return refuse(reason);
  request.uri = rest;
  return request;
}

async function check(token, aid, viewerIp, now) {
  if (token.length > MAX_TOKEN_LENGTH) return 'too-long';
  if (!TOKEN_SHAPE.test(token)) return 'malformed';
  const dot = token.length - MAC_LENGTH - 1;
  const payload = token.slice(0, dot);
  const json = Buffer.from(payload, 'base64url').toString('utf8');
  if (json.indexOf(CLAIMS_PREFIX) !== 0) return 'malformed';
  const kidEnd = json.indexOf('"', CLAIMS_PREFIX.length);
  if (kidEnd === -1) return 'malformed';
  const kid = json.slice(CLAIMS_PREFIX.length, kidEnd);
  // A kid that is not a plain key id can never be in the keyring; don't ask the store about it.
  if (!KID_SHAPE.test(kid)) return 'unknown-kid';
  let key;
  try {
    key = await kvs.get(kid, { format: 'string' });
  } catch (e) {
    return 'unknown-kid';
  }
  const mac = crypto.createHmac('sha256', Buffer.from(key, 'base64')).update(payload).digest('base64url');
  if (!sameText(token.slice(dot + 1), mac)) return 'bad-signature';
  const c = parseClaims(json, kid);
  if (c === null) return 'malformed';
  if (now >= c.exp + LEEWAY_SECONDS) return 'expired';
  if (c.nbf !== undefined && now + LEEWAY_SECONDS < c.nbf) return 'not-yet-valid';
  if (aid !== c.aid) return 'asset-mismatch';
  // A bound token with no client address to compare is refused: binding fails closed.
  if (c.ip !== undefined && (typeof viewerIp !== 'string' || canonicalIp(viewerIp) !== c.ip)) return 'ip-mismatch';
  return null;
}

// Constant time in the MAC: every character is compared whatever the first difference.
function sameText(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

function parseClaims(json, kid) {
  let r;
  try {
    r = JSON.parse(json);
  } catch (e) {
    return null;
  }
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return null;
  for (const name in r) if (!Object.prototype.hasOwnProperty.call(CLAIM_NAMES, name)) return null;
  if (r.v !== 1 || r.kid !== kid) return null;
  if (typeof r.sid !== 'string' || !SID_SHAPE.test(r.sid)) return null;
  if (typeof r.aid !== 'string' || r.aid.length > 64 || !AID_SHAPE.test(r.aid)) return null;
  if (!isEpoch(r.exp)) return null;
  if (r.nbf !== undefined && !isEpoch(r.nbf)) return null;
  if (r.ip !== undefined && (typeof r.ip !== 'string' || canonicalIp(r.ip) !== r.ip)) return null;
  return r;
}

function isEpoch(n) {
  return typeof n === 'number' && Math.floor(n) === n && n >= 0 && n <= MAX_EPOCH_SECONDS;
}

// core/token-path.ts assetIdOfPath: /media/<aid>/…, /play/<aid>/… or /steer/<aid>; null for paths an
// intermediary could resolve to another asset (dot segments, encoded dots, slashes, backslashes).
function assetIdOfPath(rest) {
  let start;
  let more = true;
  if (rest.indexOf('/media/') === 0) start = 7;
  else if (rest.indexOf('/play/') === 0) start = 6;
  else if (rest.indexOf('/steer/') === 0) {
    start = 7;
    more = false;
  } else return null;
  if (rest.indexOf('\\') !== -1 || /%(2e|2f|5c)/i.test(rest) || /\/\.\.?(?:\/|$)/.test(rest)) return null;
  const end = rest.indexOf('/', start);
  if (end === -1) return more || start === rest.length ? null : rest.slice(start);
  if (end === start || !more || end === rest.length - 1) return null;
  return rest.slice(start, end);
}

// core/token.ts normalizeIp without URL (absent here): canonical dotted quad, or RFC 5952 IPv6 text with
// IPv4-mapped addresses reduced to IPv4. null when the text is neither.
function canonicalIp(text) {
  if (/^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/.test(text)) return text;
  if (text.indexOf(':') === -1 || !/^[0-9A-Fa-f:.]+$/.test(text)) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (head === null || tail === null) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const g = head.slice();
  for (let i = 0; i < missing; i++) g.push(0);
  for (let i = 0; i < tail.length; i++) g.push(tail[i]);
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return [g[6] >> 8, g[6] & 255, g[7] >> 8, g[7] & 255].join('.');
  }
  // Longest run of two or more zero groups (the first of equals) becomes "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  const hex = g.map(function (n) {
    return n.toString(16);
  });
  if (best === -1) return hex.join(':');
  return hex.slice(0, best).join(':') + '::' + hex.slice(best + bestLen).join(':');
}

// Colon-separated hex groups; a trailing dotted quad counts as two groups (RFC 4291 §2.2).
function groups(text) {
  if (text === '') return [];
  const parts = text.split(':');
  const out = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    const quad = i === parts.length - 1 && p.indexOf('.') !== -1 ? canonicalIp(p) : null;
    if (quad !== null && quad.indexOf(':') === -1) {
      const b = quad.split('.');
      out.push(b[0] * 256 + +b[1], b[2] * 256 + +b[3]);
    } else if (/^[0-9A-Fa-f]{1,4}$/.test(p)) out.push(parseInt(p, 16));
    else return null;
  }
  return out;
}

function preflight() {
  return { statusCode: 204, statusDescription: 'No Content', headers: PREFLIGHT_HEADERS };
}

// Same status, reason header and CORS headers as the Lambda@Edge refusal; nothing about keys or claims.
function refuse(reason) {
  const headers = {
    'cache-control': { value: 'no-store' },
    'content-type': { value: 'text/plain; charset=utf-8' },
    'x-token-error': { value: reason },
  };
  for (const name in REFUSAL_CORS_HEADERS) headers[name] = REFUSAL_CORS_HEADERS[name];
  return { statusCode: 403, statusDescription: 'Forbidden', headers: headers, body: { encoding: 'text', data: 'Forbidden\n' } };
}
