import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Proof that a request to the report ingest came through the gateway distribution (ADR 0055): CloudFront
 * adds this header with a secret value to every request it sends to the ingest API origin (an origin
 * custom header; a viewer's own header of the same name is overwritten), and the handler refuses requests
 * without the value. The API's default endpoint stays reachable on the internet — CloudFront needs it as
 * its origin — but answers nothing useful to a direct caller.
 */
export const ORIGIN_VERIFY_HEADER = 'x-origin-verify';

/** Constant-time comparison; hashing first makes the lengths equal, so the length leaks nothing either. */
export function originSecretMatches(presented: string, secret: string): boolean {
  if (secret === '') return false;
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(presented), digest(secret));
}
