import { describe, expect, it } from 'vitest';
import { mediaBaseUrl, originKey, parsePlaybackPath, playUrl, steeringUrl } from '../../core/playback-paths';

describe('parsePlaybackPath', () => {
  it('reads a gateway HLS and DASH manifest path', () => {
    expect(parsePlaybackPath('/play/big-buck/r2/main.m3u8')).toEqual({ kind: 'play', assetId: 'big-buck', revision: 'r2', format: 'hls' });
    expect(parsePlaybackPath('/play/big-buck/r2/main.mpd')).toEqual({ kind: 'play', assetId: 'big-buck', revision: 'r2', format: 'dash' });
  });

  it('reads a steering path', () => {
    expect(parsePlaybackPath('/steer/big-buck')).toEqual({ kind: 'steer', assetId: 'big-buck' });
  });

  it('reads a media path with sub-folders', () => {
    expect(parsePlaybackPath('/media/big-buck/r2/audio/seg_1.cmfa')).toEqual({ kind: 'media', assetId: 'big-buck', revision: 'r2', file: 'audio/seg_1.cmfa' });
  });

  it.each([
    '/play/big-buck/main.m3u8',
    '/play/big-buck/r2/other.m3u8',
    '/play/big-buck/r2/main.m3u8/extra',
    '/steer/',
    '/steer/big-buck/extra',
    '/media/big-buck/r2/../../x/r1/a.cmfv',
    '/media/big-buck/r2/',
    '/play/../r2/main.m3u8',
    'play/big-buck/r2/main.m3u8',
    '/other/big-buck',
  ])('rejects %s', (rest) => {
    expect(parsePlaybackPath(rest)).toBeNull();
  });
});

describe('URL builders', () => {
  it('build the URL contract shapes', () => {
    expect(playUrl('gw.net', 'T.S', 'a', 'r1', 'dash')).toBe('https://gw.net/T.S/play/a/r1/main.mpd');
    expect(steeringUrl('gw.net', 'T.S', 'a')).toBe('https://gw.net/T.S/steer/a');
    expect(mediaBaseUrl('cdn.net', 'T.S', 'a', 'r1')).toBe('https://cdn.net/T.S/media/a/r1/');
    expect(originKey('a', 'r1', 'main.m3u8')).toBe('media/a/r1/main.m3u8');
  });

  it('round-trips: a built play URL parses back to its parts', () => {
    const url = new URL(playUrl('gw.net', 'T.S', 'big-buck', 'r7', 'hls'));
    expect(parsePlaybackPath(url.pathname.slice('/T.S'.length))).toEqual({ kind: 'play', assetId: 'big-buck', revision: 'r7', format: 'hls' });
  });
});
