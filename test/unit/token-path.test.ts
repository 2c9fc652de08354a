import { describe, expect, it } from 'vitest';
import { assetIdOfPath, splitTokenPath } from '../../core/token-path';

describe('splitTokenPath', () => {
  it('splits the first segment off as the token and keeps the leading slash on the rest', () => {
    expect(splitTokenPath('/abc.def/media/big-buck/r1/main.m3u8')).toEqual({ token: 'abc.def', rest: '/media/big-buck/r1/main.m3u8' });
  });

  it('returns null when there is no token segment or nothing after it', () => {
    for (const uri of ['', '/', 'abc/media/x', '//media/x/y', '/abc', '/abc/']) expect(splitTokenPath(uri), uri).toBeNull();
  });
});

describe('assetIdOfPath', () => {
  it('finds the asset of media, playback and steering paths', () => {
    expect(assetIdOfPath('/media/big-buck/r2/video_1080p/seg_00001.m4s')).toBe('big-buck');
    expect(assetIdOfPath('/play/big-buck/main.mpd')).toBe('big-buck');
    expect(assetIdOfPath('/steer/big-buck')).toBe('big-buck');
  });

  it('returns null for other shapes', () => {
    for (const path of ['/media/big-buck', '/media/big-buck/', '/media//r1/x', '/play/big-buck', '/steer/', '/steer/big-buck/more', '/other/big-buck/x', '/']) {
      expect(assetIdOfPath(path), path).toBeNull();
    }
  });

  it('returns null for paths a normaliser could move into another asset', () => {
    for (const path of [
      '/media/big-buck/../sintel/r1/main.m3u8',
      '/media/big-buck/./r1/main.m3u8',
      '/media/big-buck/r1/..',
      '/media/big-buck/%2e%2e/sintel/r1/x',
      '/media/big-buck%2Fsintel/r1/x',
      '/media/big-buck\\..\\sintel/r1/x',
    ]) {
      expect(assetIdOfPath(path), path).toBeNull();
    }
  });

  it('accepts file names that merely contain dots', () => {
    expect(assetIdOfPath('/media/big-buck/r1/..hidden.m4s')).toBe('big-buck');
  });
});
