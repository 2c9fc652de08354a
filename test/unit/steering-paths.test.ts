import { describe, expect, it } from 'vitest';
import { legacySteeringUrl, mediaBaseUrl, originKey, parsePlaybackPath, playUrl, steeringUrl } from '../../core/playback-paths';

describe('parsePlaybackPath', () => {
  it('reads a gateway HLS and DASH manifest path', () => {
    expect(parsePlaybackPath('/play/big-buck/20260101-000002-000000000000000000000002/main.m3u8')).toEqual({ kind: 'play', assetId: 'big-buck', revision: '20260101-000002-000000000000000000000002', format: 'hls' });
    expect(parsePlaybackPath('/play/big-buck/20260101-000002-000000000000000000000002/main.mpd')).toEqual({ kind: 'play', assetId: 'big-buck', revision: '20260101-000002-000000000000000000000002', format: 'dash' });
  });

  it('reads a steering path', () => {
    expect(parsePlaybackPath('/steer/big-buck')).toEqual({ kind: 'steer', assetId: 'big-buck' });
    // The steering file next to the manifests (ADR 0036).
    expect(parsePlaybackPath('/play/big-buck/20260101-000001-000000000000000000000001/steering')).toEqual({
      kind: 'steer',
      assetId: 'big-buck',
      revision: '20260101-000001-000000000000000000000001',
    });
  });

  it('reads a media path with sub-folders', () => {
    expect(parsePlaybackPath('/media/big-buck/20260101-000002-000000000000000000000002/audio/seg_1.cmfa')).toEqual({ kind: 'media', assetId: 'big-buck', revision: '20260101-000002-000000000000000000000002', file: 'audio/seg_1.cmfa' });
  });

  it.each([
    '/play/big-buck/main.m3u8',
    '/play/big-buck/20260101-000002-000000000000000000000002/other.m3u8',
    '/play/big-buck/20260101-000002-000000000000000000000002/main.m3u8/extra',
    '/steer/',
    '/steer/big-buck/extra',
    '/media/big-buck/20260101-000002-000000000000000000000002/../../x/20260101-000001-000000000000000000000001/a.cmfv',
    '/media/big-buck/20260101-000002-000000000000000000000002/',
    '/play/../20260101-000002-000000000000000000000002/main.m3u8',
    'play/big-buck/20260101-000002-000000000000000000000002/main.m3u8',
    '/other/big-buck',
    // Only ids and revisions the platform produces (core/identifiers.ts) reach the origin.
    '/steer/Big_Buck',
    '/steer/big--buck',
    `/steer/${'a'.repeat(65)}`,
    '/play/big-buck/r2/main.m3u8',
    '/media/big-buck/20260101-000002-00000000000000000000000G/a.cmfv',
  ])('rejects %s', (rest) => {
    expect(parsePlaybackPath(rest)).toBeNull();
  });
});

describe('URL builders', () => {
  it('build the URL contract shapes', () => {
    expect(playUrl('gw.net', 'T.S', 'a', '20260101-000001-000000000000000000000001', 'dash')).toBe('https://gw.net/T.S/play/a/20260101-000001-000000000000000000000001/main.mpd');
    expect(steeringUrl('gw.net', 'T.S', 'a', '20260101-000001-000000000000000000000001')).toBe('https://gw.net/T.S/play/a/20260101-000001-000000000000000000000001/steering');
    expect(legacySteeringUrl('gw.net', 'T.S', 'a')).toBe('https://gw.net/T.S/steer/a');
    expect(mediaBaseUrl('cdn.net', 'T.S', 'a', '20260101-000001-000000000000000000000001')).toBe('https://cdn.net/T.S/media/a/20260101-000001-000000000000000000000001/');
    expect(originKey('a', '20260101-000001-000000000000000000000001', 'main.m3u8')).toBe('media/a/20260101-000001-000000000000000000000001/main.m3u8');
  });

  it('round-trips: a built play URL parses back to its parts', () => {
    const url = new URL(playUrl('gw.net', 'T.S', 'big-buck', '20260101-000007-000000000000000000000007', 'hls'));
    expect(parsePlaybackPath(url.pathname.slice('/T.S'.length))).toEqual({ kind: 'play', assetId: 'big-buck', revision: '20260101-000007-000000000000000000000007', format: 'hls' });
  });
});
