import { describe, expect, it } from 'vitest';
import { buildMultivariantPlaylist, parseOriginMultivariant } from '../../core/hls-multivariant';
import {
  DEFAULT_PATHWAY,
  parseAttributes,
  parseMediaPlaylist,
  parseMultivariant,
  pickVariant,
  PlaylistError,
  rungsInFailoverOrder,
  sameVariantOn,
} from '../../core/steered-hls-playlists';
import { ORIGIN_RUNGS, originMultivariant } from '../support/origin-manifests';

const GATEWAY = 'http://127.0.0.1:4580/tok/play/a1/rev/main.m3u8';

/** What the gateway serves: core's multi-pathway rewrite of an origin playlist. */
function gatewayMultivariant(): string {
  return buildMultivariantPlaylist(parseOriginMultivariant(originMultivariant()), {
    pathways: [
      { id: 'cf-b', host: '127.0.0.1:4582' },
      { id: 'cf-a', host: '127.0.0.1:4581' },
    ],
    token: 'tok',
    assetId: 'a1',
    revision: 'rev',
    steeringServerUri: 'http://127.0.0.1:4580/tok/steer/a1',
    scheme: 'http',
  });
}

describe('parseMultivariant', () => {
  it('reads the gateway playlist: steering server, initial pathway, every rung per pathway, audio per pathway', () => {
    // Act
    const playlist = parseMultivariant(gatewayMultivariant(), GATEWAY);
    // Assess
    expect(playlist.steering).toEqual({ serverUri: 'http://127.0.0.1:4580/tok/steer/a1', initialPathway: 'cf-b' });
    expect(playlist.pathways).toEqual(['cf-b', 'cf-a']);
    expect(playlist.variants.filter((v) => v.pathway === 'cf-a')).toHaveLength(ORIGIN_RUNGS.length);
    const top = pickVariant(playlist, 'cf-a', Infinity);
    expect(new URL(top.uri).host).toBe('127.0.0.1:4581');
    expect(new URL(playlist.audioByGroup.get(top.audioGroup!)!).host).toBe('127.0.0.1:4581');
  });

  it('puts variants without PATHWAY-ID on the default pathway', () => {
    const playlist = parseMultivariant('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000\nlow.m3u8\n', GATEWAY);
    expect(playlist.pathways).toEqual([DEFAULT_PATHWAY]);
    expect(playlist.variants[0]!.uri).toBe('http://127.0.0.1:4580/tok/play/a1/rev/low.m3u8');
    expect(playlist.steering).toBeUndefined();
  });

  it('refuses what is not a multivariant playlist', () => {
    expect(() => parseMultivariant('<Error/>', GATEWAY)).toThrow(PlaylistError);
    expect(() => parseMultivariant('#EXTM3U\n#EXT-X-VERSION:6\n', GATEWAY)).toThrow(PlaylistError);
  });
});

describe('pickVariant and sameVariantOn', () => {
  const playlist = parseMultivariant(gatewayMultivariant(), GATEWAY);

  it('picks the highest rung within the budget, else the lowest', () => {
    expect(pickVariant(playlist, 'cf-a', 2_500_000).bandwidth).toBe(2_200_000);
    expect(pickVariant(playlist, 'cf-a', 100).bandwidth).toBe(420_000);
  });

  it('leaves out rungs that failed, unless nothing else is left', () => {
    const onA = playlist.variants.filter((v) => v.pathway === 'cf-a');
    const failed = new Set([pickVariant(playlist, 'cf-a', 2_500_000).uri]);
    expect(pickVariant(playlist, 'cf-a', 2_500_000, failed).bandwidth).toBe(1_300_000);
    expect(pickVariant(playlist, 'cf-a', 2_500_000, new Set(onA.map((v) => v.uri))).bandwidth).toBe(2_200_000);
  });

  it('finds the same rendition on another pathway', () => {
    const onB = pickVariant(playlist, 'cf-b', 4_000_000);
    const onA = sameVariantOn(playlist, onB, 'cf-a')!;
    expect(onA.bandwidth).toBe(onB.bandwidth);
    expect(onA.pathway).toBe('cf-a');
  });
});

describe('rungsInFailoverOrder', () => {
  it('tries the failed rung, then the next lower ones, then wraps to the highest (hls.js getLevelSwitchAction)', () => {
    const playlist = parseMultivariant(gatewayMultivariant(), GATEWAY);
    const start = pickVariant(playlist, 'cf-b', 2_500_000);
    const order = rungsInFailoverOrder(playlist, start);
    expect(order.map((v) => v.bandwidth)).toEqual([2_200_000, 1_300_000, 800_000, 420_000, 6_500_000, 3_600_000]);
    expect(order.every((v) => v.pathway === 'cf-b')).toBe(true);
  });
});

describe('parseMediaPlaylist', () => {
  it('reads the init segment, segment durations and URIs relative to the playlist', () => {
    // Prepare: the shape the MediaConvert stand-in writes (a short trailing audio segment included)
    const text = [
      '#EXTM3U', '#EXT-X-VERSION:6', '#EXT-X-TARGETDURATION:6', '#EXT-X-MEDIA-SEQUENCE:1', '#EXT-X-MAP:URI="init-3.m4s"',
      '#EXTINF:5.930667,', '#EXT-X-PROGRAM-DATE-TIME:2026-12-02T06:01:02.000+0000', 'seg-3-00001.m4s',
      '#EXTINF:0.021333,', 'seg-3-00002.m4s', '#EXT-X-ENDLIST', '',
    ].join('\n');
    // Act
    const playlist = parseMediaPlaylist(text, 'http://127.0.0.1:4581/tok/media/a1/rev/media_3.m3u8');
    // Assess
    expect(playlist.initUri).toBe('http://127.0.0.1:4581/tok/media/a1/rev/init-3.m4s');
    expect(playlist.segments.map((s) => s.durationSeconds)).toEqual([5.930667, 0.021333]);
    expect(playlist.segments[1]!.uri).toBe('http://127.0.0.1:4581/tok/media/a1/rev/seg-3-00002.m4s');
    expect(playlist.endList).toBe(true);
  });

  it('refuses a playlist without segments', () => {
    expect(() => parseMediaPlaylist('#EXTM3U\n#EXT-X-ENDLIST\n', GATEWAY)).toThrow(PlaylistError);
  });
});

describe('parseAttributes', () => {
  it('keeps commas inside quoted strings', () => {
    const attributes = parseAttributes('BANDWIDTH=800000,CODECS="avc1.640028,mp4a.40.2",AUDIO="aud"');
    expect(attributes.get('CODECS')).toBe('avc1.640028,mp4a.40.2');
    expect(attributes.get('AUDIO')).toBe('aud');
  });
});
