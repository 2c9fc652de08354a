import { describe, expect, it } from 'vitest';
import { chooseWarmRenditions, onPathway, warmupObjects } from '../../core/prewarm-plan';
import { parseMediaPlaylist, parseMultivariant } from '../../core/steered-hls-playlists';

const BASE = 'https://d1.cloudfront.net/tok/media/a/r/';

const multivariant = (lines: string[]) => parseMultivariant(['#EXTM3U', ...lines, ''].join('\n'), `${BASE}main.m3u8`);

const LADDER = multivariant([
  '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",NAME="en",DEFAULT=YES,URI="audio_en.m3u8"',
  '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="ec3",NAME="en 5.1",DEFAULT=YES,URI="audio_51.m3u8"',
  '#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,AUDIO="aac"',
  'v360.m3u8',
  '#EXT-X-STREAM-INF:BANDWIDTH=8000000,RESOLUTION=3840x2160,AUDIO="ec3"',
  'v2160.m3u8',
  '#EXT-X-STREAM-INF:BANDWIDTH=3000000,RESOLUTION=1280x720,AUDIO="aac"',
  'v720.m3u8',
  '#EXT-X-STREAM-INF:BANDWIDTH=5000000,RESOLUTION=1920x1080,AUDIO="aac"',
  'v1080.m3u8',
]);

describe('which renditions the pre-warm fetches (ADR 0039)', () => {
  it('takes the highest rung each device class may play, then the audio of the chosen rungs', () => {
    // TV and desktop: 2160p; tablet: 1080p (short side ≤ 1080); mobile: 720p.
    expect(chooseWarmRenditions(LADDER, 1)).toEqual([`${BASE}v2160.m3u8`, `${BASE}v1080.m3u8`, `${BASE}v720.m3u8`, `${BASE}audio_51.m3u8`, `${BASE}audio_en.m3u8`]);
  });

  it('takes the next rungs down as well when asked for more than one per class', () => {
    expect(chooseWarmRenditions(LADDER, 2).filter((uri) => uri.includes('/v'))).toEqual([
      `${BASE}v2160.m3u8`,
      `${BASE}v1080.m3u8`,
      `${BASE}v720.m3u8`,
      `${BASE}v360.m3u8`,
    ]);
  });

  it('keeps a portrait ladder under the short-side caps', () => {
    const portrait = multivariant(['#EXT-X-STREAM-INF:BANDWIDTH=5000000,RESOLUTION=1080x1920', 'p1080.m3u8', '#EXT-X-STREAM-INF:BANDWIDTH=3000000,RESOLUTION=720x1280', 'p720.m3u8']);
    expect(chooseWarmRenditions(portrait, 1)).toEqual([`${BASE}p1080.m3u8`, `${BASE}p720.m3u8`]);
  });

  it('refuses a rung count that is not a positive integer', () => {
    expect(() => chooseWarmRenditions(LADDER, 0)).toThrow(/topRungs must be a positive integer, got 0/);
    expect(() => chooseWarmRenditions(LADDER, 1.5)).toThrow(RangeError);
  });
});

describe('which objects of a rendition the pre-warm fetches', () => {
  const media = parseMediaPlaylist(
    ['#EXTM3U', '#EXT-X-MAP:URI="init.mp4"', ...[1, 2, 3, 4].flatMap((i) => ['#EXTINF:6.0,', `seg_${i}.m4s`]), '#EXT-X-ENDLIST'].join('\n'),
    `${BASE}v720.m3u8`,
  );

  it('takes the init segment and every segment that starts before the warm-up ends', () => {
    expect(warmupObjects(media, 12)).toEqual([`${BASE}init.mp4`, `${BASE}seg_1.m4s`, `${BASE}seg_2.m4s`]);
    expect(warmupObjects(media, 12.5)).toEqual([`${BASE}init.mp4`, `${BASE}seg_1.m4s`, `${BASE}seg_2.m4s`, `${BASE}seg_3.m4s`]);
  });

  it('stops at the end of a rendition shorter than the warm-up', () => {
    expect(warmupObjects(media, 600)).toHaveLength(5);
  });

  it('moves a URL to another pathway keeping the token path', () => {
    expect(onPathway(`${BASE}seg_1.m4s`, 'https://d2.cloudfront.net')).toBe('https://d2.cloudfront.net/tok/media/a/r/seg_1.m4s');
    expect(onPathway(`${BASE}seg_1.m4s`, 'http://cf-b.localhost:4582')).toBe('http://cf-b.localhost:4582/tok/media/a/r/seg_1.m4s');
  });
});
