/**
 * How an output's dynamic range is carried in its name (ADR 0015): HDR rungs are named after their
 * SDR twin and range (`1080p-pq`, `2160p-hlg`), so the name modifier MediaConvert puts in every
 * playlist and segment URI (`main_1080p-pq.m3u8`) tells the range to readers that only have the
 * manifest — the gateway's multivariant builder labels variants with it. Tiny and dependency-free
 * on purpose: the steering edge function bundles it.
 */
import type { DynamicRange } from './media-types';

export type HdrRange = Exclude<DynamicRange, 'SDR'>;

export function hdrRungName(sdrName: string, range: HdrRange): string {
  return `${sdrName}-${range.toLowerCase()}`;
}

/**
 * The range an output carries, from its rung name, name modifier or playlist URI
 * (`1080p-pq`, `_2160p-hlg`, `main_720p-pq.m3u8`). Anything else is SDR.
 */
export function dynamicRangeOfOutputName(name: string): DynamicRange {
  const suffix = /\dp-(pq|hlg)(?=$|[._/?])/i.exec(name)?.[1]?.toUpperCase();
  return suffix === 'PQ' || suffix === 'HLG' ? suffix : 'SDR';
}
