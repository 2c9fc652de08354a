/**
 * Which objects of a title the cache pre-warm fetches through every pathway (ADR 0039): the start of
 * the renditions viewers will actually ask for first, so the first viewers of a new title are served
 * from the edge instead of all missing at once.
 *
 * "Most watched" is decided from the ladder: the QoE rollups count requests per pathway × country ×
 * minute and carry neither the title nor the rung, so they cannot rank rungs. On a good network a
 * player's ABR climbs to the highest rung its device may play (the gateway caps each device class,
 * core/device-class.ts), so the `topRungs` highest rungs under each device class's cap are the ones a
 * premiere's audience fetches; their audio renditions go with them.
 */
import { DEVICE_CAPS, fitsCap } from './device-class';
import type { MediaPlaylist, MultivariantPlaylist, VariantStream } from './steered-hls-playlists';

export interface PrewarmSettings {
  /** How much of each chosen rendition to warm, from its start. */
  readonly seconds: number;
  /** Highest rungs per device class. */
  readonly topRungs: number;
}

/**
 * The media playlist URLs to warm: for every device class, its `topRungs` highest variants that fit its
 * cap, then the audio of the chosen variants' groups; each URL once, video first.
 */
export function chooseWarmRenditions(playlist: MultivariantPlaylist, topRungs: number): string[] {
  if (!Number.isInteger(topRungs) || topRungs < 1) throw new RangeError(`topRungs must be a positive integer, got ${topRungs}`);
  const chosen: VariantStream[] = [];
  for (const cap of Object.values(DEVICE_CAPS)) {
    const fitting = playlist.variants
      .filter((v) => fitsCap(cap, v.resolution?.width, v.resolution?.height, v.bandwidth))
      .sort((a, b) => b.bandwidth - a.bandwidth)
      .slice(0, topRungs);
    for (const variant of fitting) if (!chosen.includes(variant)) chosen.push(variant);
  }
  const audio = chosen.flatMap((v) => (v.audioGroup !== undefined ? [playlist.audioByGroup.get(v.audioGroup)] : [])).filter((uri) => uri !== undefined);
  return [...new Set([...chosen.map((v) => v.uri), ...audio])];
}

/**
 * The objects a player fetches to play the first `seconds` of one rendition: the init segment, then
 * every media segment that starts before `seconds`.
 */
export function warmupObjects(media: MediaPlaylist, seconds: number): string[] {
  const objects = media.initUri !== undefined ? [media.initUri] : [];
  let start = 0;
  for (const segment of media.segments) {
    if (start >= seconds) break;
    objects.push(segment.uri);
    start += segment.durationSeconds;
  }
  return objects;
}

/** The same URL on another pathway: the path (token included) stays, the scheme and host are the pathway's. */
export function onPathway(url: string, pathwayOrigin: string): string {
  const source = new URL(url);
  return new URL(`${source.pathname}${source.search}`, pathwayOrigin).href;
}
