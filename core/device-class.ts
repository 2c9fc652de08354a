/**
 * Device-aware ladder (docs/steering.md "The flow of one request"): the gateway leaves out renditions a device class cannot
 * make use of, so players never waste bandwidth (or startup time) on them.
 *
 * The class comes from CloudFront's device headers, which CloudFront derives from User-Agent and
 * adds to origin-facing requests when the origin request policy lists them. A device can be in
 * more than one category ("for some tablet devices, CloudFront sets both CloudFront-Is-Mobile-Viewer
 * and CloudFront-Is-Tablet-Viewer to true", CloudFront Developer Guide, "Add CloudFront request
 * headers"), so the more specific class wins: smart TV, then tablet, then mobile, then desktop.
 * Caps are chosen in docs/adr/0043-device-class-caps.md.
 */

export type DeviceClass = 'smarttv' | 'tablet' | 'mobile' | 'desktop' | 'unknown';

/**
 * Largest rendition a device class receives. The resolution cap applies to the *short side*
 * (min of width and height) so that portrait and square ladders are capped like landscape ones:
 * a 1080x1920 portrait rung is "1080p", not "1920p".
 */
export interface RenditionCap {
  readonly maxShortSide: number;
  /** Peak bits per second (HLS BANDWIDTH, DASH @bandwidth); Infinity = no bitrate cap. */
  readonly maxBandwidth: number;
}

export const NO_CAP: RenditionCap = { maxShortSide: Number.POSITIVE_INFINITY, maxBandwidth: Number.POSITIVE_INFINITY };

export const DEVICE_CAPS: Readonly<Record<DeviceClass, RenditionCap>> = {
  smarttv: NO_CAP,
  desktop: NO_CAP,
  // Unknown = no device headers (local twin, curl, a misconfigured policy): never degrade quality.
  unknown: NO_CAP,
  tablet: { maxShortSide: 1080, maxBandwidth: Number.POSITIVE_INFINITY },
  mobile: { maxShortSide: 720, maxBandwidth: Number.POSITIVE_INFINITY },
};

/** Reads one request header by lower-case name; undefined when absent. */
export type HeaderLookup = (lowerCaseName: string) => string | undefined;

const isTrue = (value: string | undefined): boolean => value !== undefined && value.trim().toLowerCase() === 'true';

export function deviceClassFromHeaders(header: HeaderLookup): DeviceClass {
  if (isTrue(header('cloudfront-is-smarttv-viewer'))) return 'smarttv';
  if (isTrue(header('cloudfront-is-tablet-viewer'))) return 'tablet';
  if (isTrue(header('cloudfront-is-mobile-viewer'))) return 'mobile';
  if (isTrue(header('cloudfront-is-desktop-viewer'))) return 'desktop';
  return 'unknown';
}

/** True when a rendition of this size and peak bitrate fits under the cap. Missing size = audio or unknown: fits. */
export function fitsCap(cap: RenditionCap, width: number | undefined, height: number | undefined, bandwidth: number | undefined): boolean {
  if (bandwidth !== undefined && bandwidth > cap.maxBandwidth) return false;
  if (width === undefined || height === undefined) return true;
  return Math.min(width, height) <= cap.maxShortSide;
}

export function capForDevice(deviceClass: DeviceClass): RenditionCap {
  return DEVICE_CAPS[deviceClass];
}
