/**
 * Which AWS Region runs CloudFront Origin Shield for the delivery pathways' S3 origin (ADR 0038).
 *
 * Source: Amazon CloudFront Developer Guide, "Choosing the AWS Region for Origin Shield"
 * (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/origin-shield.html#choose-origin-shield-region;
 * the guide's source at github.com/awsdocs/amazon-cloudfront-developer-guide, doc_source/origin-shield.md).
 * The rule there: an origin in a Region that offers Origin Shield gets its shield in that same Region; an
 * origin elsewhere gets the Region the guide's table names. A Region in neither list has no recommendation
 * here, and synth asks for `platform.originShield.region` (or mode "off") instead of guessing.
 */

/** Regions in which CloudFront offers Origin Shield (the guide's list). */
export const ORIGIN_SHIELD_REGIONS: readonly string[] = [
  'us-east-2',
  'us-east-1',
  'us-west-2',
  'ap-south-1',
  'ap-northeast-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-northeast-1',
  'eu-central-1',
  'eu-west-1',
  'eu-west-2',
  'sa-east-1',
];

/** The guide's table for origins in a Region without Origin Shield: origin Region → shield Region. */
export const NEAREST_ORIGIN_SHIELD_REGION: Readonly<Record<string, string>> = {
  'us-west-1': 'us-west-2',
  'af-south-1': 'eu-west-1',
  'ap-east-1': 'ap-southeast-1',
  'ca-central-1': 'us-east-1',
  'eu-south-1': 'eu-central-1',
  'eu-west-3': 'eu-west-2',
  'eu-north-1': 'eu-west-2',
  'me-south-1': 'ap-south-1',
};

/** The recommended Origin Shield Region for an origin bucket in `originRegion`; undefined when the guide names none. */
export function recommendedOriginShieldRegion(originRegion: string): string | undefined {
  if (ORIGIN_SHIELD_REGIONS.includes(originRegion)) return originRegion;
  return NEAREST_ORIGIN_SHIELD_REGION[originRegion];
}

/**
 * Where Origin Shield sits (ADR 0098): on each pathway's S3 origin ("per-pathway": a segment leaves S3 once per
 * pathway, CloudFront's cache key holding the distribution), on one inner distribution every pathway fetches
 * through ("shared": once in all), or nowhere ("off").
 */
export const ORIGIN_SHIELD_MODES = ['per-pathway', 'shared', 'off'] as const;
export type OriginShieldMode = (typeof ORIGIN_SHIELD_MODES)[number];

/**
 * Per pathway by default (ADR 0098): the shared distribution saves S3 GETs that cost $0.0004 per thousand, and
 * pays for them with a second CloudFront request and its data transfer on every pathway miss, added latency on
 * a miss and a dependency every CloudFront pathway shares.
 */
export const DEFAULT_ORIGIN_SHIELD_MODE: OriginShieldMode = 'per-pathway';

/** An Origin Shield in use: its mode and AWS Region. */
export interface OriginShieldPlacement {
  readonly mode: Exclude<OriginShieldMode, 'off'>;
  readonly region: string;
}

/**
 * What a pathway's origin group fails over on, from the shared shield distribution to S3 directly (ADR 0098):
 * the inner tier's 5xx, and 403/404, which S3 (through OAC) and the inner check answer. A missing object then
 * costs one lookup more. The twin's stand-in (local/edge/origin-shield.ts) fails over on the same list.
 */
export const SHIELD_FAILOVER_STATUS_CODES = [403, 404, 500, 502, 503, 504] as const;
