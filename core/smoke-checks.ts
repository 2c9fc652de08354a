/**
 * What `npm run smoke` expects at each step (ADR 0013), as pure functions: the master's name and the asset
 * id the platform's own rule gives it, when an ingest counts as done, how a token is tampered with, which
 * pathways the manifests offer, the CMCD report it posts and how its arrival in the rollups is recognised.
 * lib/smoke/ does the I/O.
 */
import { CMCD_EVENT_MODE, type Cmcd, encodeCmcd } from '@svta/cml-cmcd';
import { XMLParser } from 'fast-xml-parser';
import { assetIdFromKey } from './asset-id';
import type { AssetHead } from './asset-status';
import { UPLOAD_PREFIX } from './identifiers';
import { splitTokenPath } from './token-path';
import { SmokeStepError } from './smoke-steps';

/**
 * The master's name has a space, a `+` and non-ASCII letters on purpose: S3 event notifications URL-encode
 * keys (a space arrives as `+`, a `+` as `%2B`), so this name breaks any handler that decodes a key wrongly.
 */
export const SMOKE_MASTER_NAME = 'smoke test + été ✓.mp4';
export const SMOKE_MASTER_KEY = `${UPLOAD_PREFIX}${SMOKE_MASTER_NAME}`;
/** The asset id by the platform's rule (core/asset-id.ts): `smoke-test-ete`. */
export const SMOKE_ASSET_ID = assetIdFromKey(SMOKE_MASTER_KEY);
/** A few seconds: one segment per rendition is enough to prove every path, and MediaConvert bills per minute. */
export const SMOKE_MASTER_SPEC = { seconds: 4, width: 640, height: 360, fps: 25 } as const;

/**
 * Whether the upload made `before` (the head read just before it) has finished: a new latest revision that
 * is READY and served. Undefined while it is on its way; throws when it FAILED, with the catalog's reason.
 * Comparing with `before` matters: a previous smoke run left the same asset READY on an older revision.
 */
export function ingestOutcome(before: AssetHead | undefined, now: AssetHead | undefined, failureReason?: string): { readonly revision: string } | undefined {
  if (now?.latestRevision === undefined || now.latestRevision === before?.latestRevision) return undefined;
  if (now.status === 'FAILED' || now.status === 'CANCELED') {
    throw new SmokeStepError(`revision ${now.latestRevision} is ${now.status}${failureReason ? `: ${failureReason}` : ''}`);
  }
  if (now.status === 'READY' && now.currentRevision === now.latestRevision) return { revision: now.latestRevision };
  return undefined;
}

/**
 * The same URL with the first character of the token's signature changed. The first, not the last: the
 * last base64url character of a 32-byte MAC carries two padding bits, so changing it may not change the MAC.
 */
export function tamperedUrl(url: string): string {
  const parsed = new URL(url);
  const split = splitTokenPath(parsed.pathname);
  const dot = split?.token.indexOf('.') ?? -1;
  if (split === null || dot < 0 || dot === split.token.length - 1) throw new SmokeStepError(`no signed token in ${url}`);
  const signature = split.token.slice(dot + 1);
  const flipped = `${split.token.slice(0, dot)}.${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`;
  parsed.pathname = `/${flipped}${split.rest}`;
  return parsed.href;
}

/** The pathways a DASH manifest offers: its `BaseURL`s by `serviceLocation`, and the steering server. */
export function dashPathways(mpd: string): { readonly baseUrls: ReadonlyMap<string, string>; readonly steering?: string } {
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => name === 'BaseURL' });
  let document: { MPD?: { BaseURL?: ({ '#text'?: string; '@serviceLocation'?: string } | string)[]; ContentSteering?: { '#text'?: string } | string } };
  try {
    document = parser.parse(mpd);
  } catch (error) {
    throw new SmokeStepError(`the DASH manifest is not XML: ${(error as Error).message}`);
  }
  if (!document.MPD) throw new SmokeStepError('the DASH manifest has no MPD element');
  const baseUrls = new Map<string, string>();
  for (const base of document.MPD.BaseURL ?? []) {
    if (typeof base === 'object' && base['@serviceLocation'] && base['#text']) baseUrls.set(base['@serviceLocation'], base['#text']);
  }
  const steering = typeof document.MPD.ContentSteering === 'object' ? document.MPD.ContentSteering['#text'] : document.MPD.ContentSteering;
  return { baseUrls, ...(steering ? { steering } : {}) };
}

/**
 * The CMCD v2 event-mode report smoke posts (CTA-5004-B "Event mode"; core/cmcd-report.ts reads it): one
 * response-received (`rr`) line per segment it fetched, one per pathway, newline-separated as @svta/cml-cmcd's
 * reporter sends them. Each line carries the segment's `url`, whose host and path token are what the platform
 * attributes a line to a pathway by (the token must name this session), so each pathway's rollup counts one.
 */
export function smokeCmcdReport(input: {
  readonly sessionId: string;
  readonly assetId: string;
  readonly responses: readonly { readonly pathway: string; readonly url: string; readonly ttfbMs: number }[];
  readonly at: number;
}): string {
  return input.responses
    .map((response, sequence) =>
      encodeCmcd(
        {
          v: 2, e: 'rr', ts: input.at, sn: sequence, sid: input.sessionId, cid: input.assetId, sf: 'h', st: 'v', sta: 'p',
          cdn: response.pathway, url: response.url, rc: 200, ot: 'v', ttfb: Math.max(0, Math.round(response.ttfbMs)),
        } as Cmcd,
        { version: 2, reportingMode: CMCD_EVENT_MODE },
      ),
    )
    .join('\n');
}

/** The minutes (epoch ms) a report received at `at` can be counted in: the aggregator buckets by event time. */
export function reportMinutes(at: number): number[] {
  const minute = Math.floor(at / 60_000) * 60_000;
  return [minute - 60_000, minute, minute + 60_000];
}

/** CMCD lines counted for `pathway` over rollup items (any country: the viewer's country is the edge's to say). */
export function reportsCounted(items: readonly { readonly pathway: string; readonly reports: number }[], pathway: string): number {
  return items.filter((item) => item.pathway === pathway).reduce((sum, item) => sum + item.reports, 0);
}

/** A delivery that refuses a taken-down asset: the token no longer verifies, or the object is gone. */
export const isRefusal = (status: number): boolean => status === 403 || status === 404;
