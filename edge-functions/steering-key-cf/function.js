// Viewer-request key function of the gateway's steering behaviour, runtime cloudfront-js-2.0 (docs/steering.md
// "Cacheable steering", ADR 0036). lib/bundling/cloudfront-function.ts prepends the token check of
// edge-functions/viewer-auth-cf/function.js with its handler renamed checkViewerToken, so the token is checked on
// every request, cache hits included. Then the request becomes the steering cache key: the session's steering
// folder moves from the path to `s`, the player's parameters become a pathway and a throughput class, and only
// well-formed session memory stays (core/steering-cache-key.ts holds the same constants and formulas;
// test/unit/steering-cache-key.test.ts proves the two agree).
const TOP_CLASS = __THROUGHPUT_TOP_CLASS__;
const CLASSES_PER_OCTAVE = __THROUGHPUT_CLASSES_PER_OCTAVE__;
const CANONICAL_URI = __CANONICAL_STEERING_URI__;
const STEERING_PATH = /^\/play\/[^/]+\/[^/]+\/steering$/;
// core/identifiers.ts PATHWAY_ID_PATTERN, without its anchors, filled in at build.
const PATHWAY_ID = __PATHWAY_ID__;
const PATHWAY = new RegExp('^' + PATHWAY_ID + '$');
// The memory the steering function writes (core/session-steering.ts); anything else is not a key.
const DEPARTURE = PATHWAY_ID + '\\.\\d{1,12}\\.\\d{1,4}\\.[1-4]';
const MEMORY = { first: PATHWAY, on: PATHWAY, best: /^\d{1,2}\.[12]$/, left: new RegExp('^' + DEPARTURE + '(?:_' + DEPARTURE + '){0,31}$') };
const MAX_VALUE_LENGTH = 512;
const MAX_REPORTED_PATHWAYS = 16;
// The bound of every player-reported throughput (core/player-value-bounds.ts): 10 Gbit/s.
const MAX_BPS = 1e10;
// The routing generation (core/routing-generation.ts, ADR 0097): a key per country with weights of its own, one
// global key for every other viewer, in the same KeyValueStore as the keyring.
const GENERATION_PREFIX = __ROUTING_GENERATION_KEY_PREFIX__;
const GLOBAL_GENERATION_KEY = __GLOBAL_ROUTING_GENERATION_KEY__;
const GENERATION = __ROUTING_GENERATION_PATTERN__;
// core/identifiers.ts isRoutingCountry: "XX" (unknown) has no weights of its own.
const ROUTING_COUNTRY = __COUNTRY_SHAPE__;

async function handler(event) {
  const request = event.request;
  const viewerUri = request.uri;
  const checked = await checkViewerToken(event);
  if (checked !== request) return checked;
  if (!STEERING_PATH.test(request.uri)) return notFound();
  const q = request.querystring;
  // The folder the answer's RELOAD-URI goes back to: /<token>/play/<asset>/<revision>/
  const key = { s: { value: viewerUri.slice(0, viewerUri.length - 'steering'.length) } };
  const use = reportedUse(q);
  if (use !== null) {
    key.p = { value: use.pathway };
    if (use.bps !== null) key.t = { value: String(throughputClass(use.bps)) };
  }
  for (const name in MEMORY) {
    const v = valueOf(q, name);
    if (v !== null && v.length <= MAX_VALUE_LENGTH && MEMORY[name].test(v)) key[name] = { value: v };
  }
  const generation = await routingGeneration(request.headers['cloudfront-viewer-country']);
  if (generation !== null) key.g = { value: generation };
  request.uri = CANONICAL_URI;
  request.querystring = key;
  return request;
}

// The viewer's country's generation, else the global one; null when the store has neither or cannot be read:
// the key is then what it was before generations (answers reused for the policy's TTL), never a failed request.
async function routingGeneration(header) {
  const country = header && ROUTING_COUNTRY.test(header.value) && header.value !== 'XX' ? header.value : null;
  const names = country === null ? [GLOBAL_GENERATION_KEY] : [GENERATION_PREFIX + country, GLOBAL_GENERATION_KEY];
  for (let i = 0; i < names.length; i++) {
    let value;
    try {
      value = await kvs.get(names[i], { format: 'string' });
    } catch (e) {
      continue;
    }
    return GENERATION.test(value) ? value : null;
  }
  return null;
}

// HLS names the pathway it is on; dash.js lists the locations used since its last request (the last is current),
// Shaka names one. Quoted or not, "." (hls.js before it has one) or empty is none.
function reportedUse(q) {
  const dashPathways = valueOf(q, '_DASH_pathway');
  const dashThroughputs = valueOf(q, '_DASH_throughput');
  if (dashPathways !== null || dashThroughputs !== null) {
    const ids = list(dashPathways).slice(0, MAX_REPORTED_PATHWAYS);
    const bps = list(dashThroughputs);
    for (let i = ids.length - 1; i >= 0; i--) if (PATHWAY.test(ids[i])) return { pathway: ids[i], bps: throughput(bps[i]) };
    return null;
  }
  const id = unquote(valueOf(q, '_HLS_pathway') || '');
  return PATHWAY.test(id) ? { pathway: id, bps: throughput(valueOf(q, '_HLS_throughput')) } : null;
}

function throughput(text) {
  if (text === null || text === undefined) return null;
  const v = unquote(text);
  if (v === '') return null;
  const n = Number(v);
  return isFinite(n) && n >= 0 && n <= MAX_BPS ? n : null;
}

function throughputClass(bps) {
  const kbps = bps / 1000;
  if (kbps < 1) return 0;
  return Math.min(TOP_CLASS, Math.floor(CLASSES_PER_OCTAVE * (Math.log(kbps) / Math.LN2)));
}

function list(text) {
  if (text === null) return [];
  return text.split(',').map(function (item) {
    return item.trim().replace(/^"/, '').replace(/"$/, '').trim();
  });
}

function unquote(text) {
  const v = text.trim();
  return v.length >= 2 && v.charAt(0) === '"' && v.charAt(v.length - 1) === '"' ? v.slice(1, -1).trim() : v;
}

// Query values as the viewer sent them, decoded when they are percent-encoded; the last of repeated names.
function valueOf(q, name) {
  const entry = q[name];
  if (entry === undefined) return null;
  const raw = entry.multiValue && entry.multiValue.length > 0 ? entry.multiValue[entry.multiValue.length - 1].value : entry.value;
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch (e) {
    return raw;
  }
}

function notFound() {
  const headers = { 'cache-control': { value: 'no-store' }, 'content-type': { value: 'text/plain; charset=utf-8' } };
  for (const name in REFUSAL_CORS_HEADERS) headers[name] = REFUSAL_CORS_HEADERS[name];
  return { statusCode: 404, statusDescription: 'Not Found', headers: headers, body: { encoding: 'text', data: 'Not Found\n' } };
}
