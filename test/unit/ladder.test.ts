import { describe, it, expect } from 'vitest';
import type { LadderPlan, SourceInfo } from '../../core/media-types';
import { COMPACT_LADDER, LADDERS, STANDARD_LADDER, UnsupportedSourceError, displaySize, planLadder } from '../../core/ladder';
import { SAMPLE_SOURCES } from '../contract/sample-sources';

const sizes = (plan: LadderPlan) => plan.video.map((rung) => `${rung.width}x${rung.height}`);
const names = (plan: LadderPlan) => plan.video.map((rung) => rung.name);
const source = (overrides: Partial<SourceInfo>): SourceInfo => ({ ...SAMPLE_SOURCES.hd1080p30Stereo, ...overrides });

const LANDSCAPE_1080_LADDER = ['1920x1080', '1280x720', '960x540', '768x432', '640x360', '512x288'];

describe('planLadder on the sample sources', () => {
  it('plans six 16:9 rungs from 1080p down to 288p for a 1080p30 stereo source', () => {
    // Act
    const plan = planLadder(SAMPLE_SOURCES.hd1080p30Stereo);

    // Assess
    expect(sizes(plan)).toEqual(LANDSCAPE_1080_LADDER);
    expect(names(plan)).toEqual(['1080p', '720p', '540p', '432p', '360p', '288p']);
    expect(plan.video[0]).toMatchObject({ maxBitrate: 6_000_000, qvbrQualityLevel: 9, profile: 'HIGH' });
    expect(plan.video.at(-1)).toMatchObject({ maxBitrate: 350_000 });
    expect(plan.audio).toEqual([{ name: 'aac-stereo-128k', bitrate: 128_000, channels: 2, sampleRate: 48000 }]);
    expect(plan.frameRate).toEqual({ numerator: 30, denominator: 1 });
    expect(plan).toMatchObject({ gopFrames: 60, gopSeconds: 2, segmentSeconds: 6, orientation: 'landscape' });
  });

  it('keeps every rung up to 2160p and a 120-frame GOP for a 4K 60 fps source', () => {
    const plan = planLadder(SAMPLE_SOURCES.uhd4k60);

    expect(sizes(plan)).toEqual(['3840x2160', '2560x1440', ...LANDSCAPE_1080_LADDER]);
    expect(plan.frameRate).toEqual({ numerator: 60, denominator: 1 });
    expect(plan.gopFrames).toBe(120);
  });

  it('never upscales a 720p source: the top rung is the source size', () => {
    const plan = planLadder(SAMPLE_SOURCES.hd720p);

    expect(sizes(plan)).toEqual(['1280x720', '960x540', '768x432', '640x360', '512x288']);
  });

  it('keeps a portrait 1080x1920 source portrait, sizing rungs by the short side', () => {
    const plan = planLadder(SAMPLE_SOURCES.portrait1080x1920);

    expect(sizes(plan)).toEqual(['1080x1920', '720x1280', '540x960', '432x768', '360x640', '288x512']);
    expect(names(plan)[0]).toBe('1080p');
    expect(plan.orientation).toBe('portrait');
  });

  it('plans no audio rung for a source without audio', () => {
    const plan = planLadder(SAMPLE_SOURCES.noAudio);

    expect(plan.audio).toEqual([]);
    expect(sizes(plan)).toEqual(LANDSCAPE_1080_LADDER);
  });

  it('uses a 50-frame GOP for a 25 fps source', () => {
    const plan = planLadder(SAMPLE_SOURCES.pal25);

    expect(plan.frameRate).toEqual({ numerator: 25, denominator: 1 });
    expect(plan.gopFrames).toBe(50);
  });

  it('keeps 29.97 fps as the rational 30000/1001 with a 60-frame GOP (segments of three whole GOPs)', () => {
    const plan = planLadder(SAMPLE_SOURCES.ntsc2997);

    expect(plan.frameRate).toEqual({ numerator: 30000, denominator: 1001 });
    expect(plan.gopFrames).toBe(60);
    expect(plan.segmentSeconds / plan.gopSeconds).toBe(3);
  });

  it('swaps width and height of a source rotated by 90 degrees', () => {
    const plan = planLadder(SAMPLE_SOURCES.rotated90);

    expect(displaySize(SAMPLE_SOURCES.rotated90)).toEqual({ width: 1080, height: 1920 });
    expect(sizes(plan)).toEqual(sizes(planLadder(SAMPLE_SOURCES.portrait1080x1920)));
    expect(plan.orientation).toBe('portrait');
  });

  it.each(Object.entries(SAMPLE_SOURCES))('gives %s even rungs no larger than the source, in its aspect ratio', (_name, sample) => {
    const plan = planLadder(sample);
    const display = displaySize(sample);

    for (const rung of plan.video) {
      expect(rung.width % 2, rung.name).toBe(0);
      expect(rung.height % 2, rung.name).toBe(0);
      expect(rung.width).toBeLessThanOrEqual(display.width);
      expect(rung.height).toBeLessThanOrEqual(display.height);
      expect(Math.abs(rung.width / rung.height - display.width / display.height)).toBeLessThan(0.01);
    }
    expect(plan.video.map((rung) => rung.width * rung.height)).toEqual(
      [...plan.video].map((rung) => rung.width * rung.height).sort((a, b) => b - a),
    );
  });
});

describe('planLadder between rungs and at the edges', () => {
  it('adds a rung at the source size when a 2.4:1 source falls clearly between 720p and 1080p', () => {
    const plan = planLadder(source({ width: 1920, height: 800 }));

    expect(sizes(plan)).toEqual(['1920x800', '1728x720', '1296x540', '1036x432', '864x360', '692x288']);
    expect(plan.video[0]).toMatchObject({ name: '800p', qvbrQualityLevel: 9 });
    // Linear in the short side between 720p (3.5 Mb/s) and 1080p (6 Mb/s).
    expect(plan.video[0]!.maxBitrate).toBe(4_056_000);
  });

  it('adds no extra rung when the source is only slightly above a rung', () => {
    const plan = planLadder(source({ width: 1300, height: 740 }));

    expect(names(plan)).toEqual(['720p', '540p', '432p', '360p', '288p']);
    expect(plan.video[0]).toMatchObject({ width: 1264, height: 720 });
  });

  it('adds a native rung for a 1920x1078 source instead of upscaling to 1080p', () => {
    const plan = planLadder(source({ width: 1920, height: 1078 }));

    expect(plan.video[0]).toMatchObject({ name: '1078p', width: 1920, height: 1078 });
    expect(names(plan).slice(1)).toEqual(['720p', '540p', '432p', '360p', '288p']);
  });

  it('plans a single source-size rung for a source smaller than the lowest rung', () => {
    const plan = planLadder(source({ width: 320, height: 180 }));

    expect(plan.video).toEqual([
      { name: '180p', width: 320, height: 180, maxBitrate: 137_000, qvbrQualityLevel: 6, profile: 'HIGH', level: 'AUTO' },
    ]);
  });

  it('keeps a square source square', () => {
    const plan = planLadder(source({ width: 1080, height: 1080 }));

    expect(sizes(plan)).toEqual(['1080x1080', '720x720', '540x540', '432x432', '360x360', '288x288']);
    expect(plan.orientation).toBe('square');
  });

  it('rounds an odd-sized source down to even dimensions', () => {
    const plan = planLadder(source({ width: 1281, height: 721 }));

    expect(plan.video[0]).toMatchObject({ width: 1280, height: 720 });
  });

  it('stops at 2160p for an 8K source', () => {
    const plan = planLadder(source({ width: 7680, height: 4320 }));

    expect(plan.video[0]).toMatchObject({ name: '2160p', width: 3840, height: 2160 });
  });

  it.each([
    [{ numerator: 120, denominator: 1 }, { numerator: 60, denominator: 1 }, 120],
    [{ numerator: 120000, denominator: 1001 }, { numerator: 60000, denominator: 1001 }, 120],
    [{ numerator: 100, denominator: 1 }, { numerator: 50, denominator: 1 }, 100],
    [{ numerator: 240, denominator: 1 }, { numerator: 60, denominator: 1 }, 120],
    [{ numerator: 24000, denominator: 1001 }, { numerator: 24000, denominator: 1001 }, 48],
    [{ numerator: 24, denominator: 1 }, { numerator: 24, denominator: 1 }, 48],
    [{ numerator: 50, denominator: 1 }, { numerator: 50, denominator: 1 }, 100],
    [{ numerator: 60000, denominator: 1001 }, { numerator: 60000, denominator: 1001 }, 120],
  ])('encodes a %o fps source at %o with a GOP of %i frames', (input, output, gopFrames) => {
    const plan = planLadder(source({ frameRate: input }));

    expect(plan.frameRate).toEqual(output);
    expect(plan.gopFrames).toBe(gopFrames);
  });

  it('halves 60 fps to 30 fps on the compact ladder', () => {
    const plan = planLadder(SAMPLE_SOURCES.uhd4k60, COMPACT_LADDER);

    expect(plan.frameRate).toEqual({ numerator: 30, denominator: 1 });
    expect(names(plan)).toEqual(['1080p', '720p', '432p', '288p']);
  });

  it('plans a mono AAC rung at half the bitrate for a mono source', () => {
    const plan = planLadder(source({ audioChannels: 1 }));

    expect(plan.audio).toEqual([{ name: 'aac-mono-64k', bitrate: 64_000, channels: 1, sampleRate: 48000 }]);
  });

  it('offers the standard and compact ladders by name', () => {
    expect(LADDERS.standard).toBe(STANDARD_LADDER);
    expect(LADDERS.compact.video.length).toBeLessThan(STANDARD_LADDER.video.length);
  });
});

describe('planLadder rejects impossible sources', () => {
  it.each<[string, Partial<SourceInfo>, RegExp]>([
    ['zero width', { width: 0 }, /no usable picture size/],
    ['negative height', { height: -1080 }, /no usable picture size/],
    ['a side above 8192 pixels', { width: 9000 }, /largest supported side is 8192/],
    ['a side below 32 pixels', { width: 16, height: 16 }, /shortest supported side is 32/],
    ['no frame rate', { frameRate: { numerator: 0, denominator: 1 } }, /no frame rate/],
    ['a zero frame-rate denominator', { frameRate: { numerator: 30, denominator: 0 } }, /no frame rate/],
    ['an absurd frame rate', { frameRate: { numerator: 5000, denominator: 1 } }, /outside 1\.\.1000 fps/],
    ['zero duration', { durationMs: 0 }, /no duration/],
    ['a rotation that is not a multiple of 90', { rotation: 45 as never }, /rotation 45/],
  ])('rejects a source with %s', (_label, overrides, reason) => {
    const act = () => planLadder(source(overrides));

    expect(act).toThrow(UnsupportedSourceError);
    expect(act).toThrow(reason);
  });

  it('gives the reason without the error prefix for the catalog', () => {
    try {
      planLadder(source({ durationMs: 0 }));
      expect.unreachable();
    } catch (error) {
      expect((error as UnsupportedSourceError).reason).toBe('the video has no duration');
    }
  });
});
