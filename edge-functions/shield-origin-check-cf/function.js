// Viewer-request check of the shared Origin Shield distribution, runtime cloudfront-js-2.0 (ADR 0098). Only the
// delivery pathways may fetch through it: they send the secret in an origin custom header (the ADR 0055
// approach, core/origin-verify.ts), which CloudFront sets over any viewer header of that name. Anything
// without it gets 403, so the inner distribution serves nothing to the public. It runs on pathway cache
// misses only, before the inner cache. The secret is filled in by lib/bundling/shield-origin-check.ts.
const HEADER = __ORIGIN_VERIFY_HEADER__;
const SECRET = __ORIGIN_SECRET__;

function handler(event) {
  const request = event.request;
  const presented = request.headers[HEADER];
  const value = presented ? presented.value : '';
  // Every character is compared whatever the first difference, so timing tells nothing about a prefix.
  let difference = value.length ^ SECRET.length;
  for (let i = 0; i < SECRET.length; i++) difference |= (value.charCodeAt(i) | 0) ^ SECRET.charCodeAt(i);
  if (difference !== 0) return { statusCode: 403, statusDescription: 'Forbidden' };
  // S3 needs no proof; the header goes no further than this function.
  delete request.headers[HEADER];
  return request;
}
