import { describe, it, expect } from 'vitest';
import type { LadderPlan, SourceInfo } from '../../core/media-types';
import {
  codecLevelFor,
  COMPACT_LADDER,
  displaySize,
  LADDERS,
  MAX_H264_LEVEL,
  planLadder,
  STANDARD_FRAME_RATES,
  STANDARD_LADDER,
  standardFrameRate,
  UnsupportedSourceError,
} from '../../core/ladder';
import { SAMPLE_SOURCES } from '../contract/sample-sources';

const sizes = (plan: LadderPlan) => plan.video.map((rung) => `${rung.width}x${rung.height}`);
const names = (plan: LadderPlan) => plan.video.map((rung) => rung.name);
const rates = (plan: LadderPlan) => plan.video.map((rung) => `${rung.frameRate.numerator}/${rung.frameRate.denominator}`);
const source = (overrides: Partial<SourceInfo>): SourceInfo => ({ ...SAMPLE_SOURCES.hd1080p30Stereo, ...overrides });
const levelRank = (level: string) => Number(level.replace('LEVEL_', '').replace('_', '.'));

const LANDSCAPE_1080_LADDER = ['1920x1080', '1280x720', '960x540', '768x432', '640x360', '512x288'];

describe('planLadder on everyday sources', () => {
  it('plans six 16:9 H.264 rungs from 1080p down to 288p for a 1080p30 stereo source', () => {
    // Act
    const plan = planLadder(SAMPLE_SOURCES.hd1080p30Stereo);

    // Assess
    expect(sizes(plan)).toEqual(LANDSCAPE_1080_LADDER);
    expect(names(plan)).toEqual(['1080p', '720p', '540p', '432p', '360p', '288p']);
    expect(plan.video.every((rung) => rung.codec === 'H_264')).toBe(true);
    expect(plan.video[0]).toMatchObject({ maxBitrate: 6_000_000, qvbrQualityLevel: 9, profile: 'HIGH', level: 'LEVEL_4', gopFrames: 60 });
    expect(plan.video.at(-1)).toMatchObject({ maxBitrate: 350_000 });
    expect(plan.audio).toEqual([
      { name: 'aac-stereo-128k', bitrate: 128_000, channels: 2, sampleRate: 48000, codec: 'AAC', language: 'und', sourceTrack: 1, isDefault: true },
    ]);
    expect(plan.frameRate).toEqual({ numerator: 30, denominator: 1 });
    expect(plan).toMatchObject({ gopSeconds: 2, segmentSeconds: 6, orientation: 'landscape', deinterlace: false });
  });

  it('puts a 4K60 source\'s 2160p and 1440p in HEVC over a complete H.264 ladder, small rungs at 30 fps', () => {
    const plan = planLadder(SAMPLE_SOURCES.uhd4k60);

    expect(sizes(plan)).toEqual(['3840x2160', '2560x1440', ...LANDSCAPE_1080_LADDER]);
    expect(plan.video.map((rung) => rung.codec)).toEqual(['H_265', 'H_265', 'H_264', 'H_264', 'H_264', 'H_264', 'H_264', 'H_264']);
    expect(rates(plan)).toEqual(['60/1', '60/1', '60/1', '60/1', '60/1', '30/1', '30/1', '30/1']);
    expect(plan.video.map((rung) => rung.gopFrames)).toEqual([120, 120, 120, 120, 120, 60, 60, 60]);
    expect(plan.video.slice(0, 2).map((rung) => rung.level)).toEqual(['LEVEL_5_1', 'LEVEL_5']);
    expect(plan.video[2]!.level).toBe('LEVEL_4_2');
  });

  it('never upscales a 720p source: the top rung is the source size', () => {
    expect(sizes(planLadder(SAMPLE_SOURCES.hd720p))).toEqual(['1280x720', '960x540', '768x432', '640x360', '512x288']);
  });

  it('keeps a portrait 1080x1920 source portrait in transposed boxes', () => {
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

  it('uses 50-frame GOPs for a 25 fps source and 60-frame GOPs for 29.97 (segments of three whole GOPs)', () => {
    expect(planLadder(SAMPLE_SOURCES.pal25).video.map((rung) => rung.gopFrames)).toEqual([50, 50, 50, 50, 50, 50]);
    const ntsc = planLadder(SAMPLE_SOURCES.ntsc2997);
    expect(ntsc.frameRate).toEqual({ numerator: 30000, denominator: 1001 });
    expect(ntsc.video[0]!.gopFrames).toBe(60);
    expect(ntsc.segmentSeconds / ntsc.gopSeconds).toBe(3);
  });

  it('swaps width and height of a source rotated by 90 degrees', () => {
    const plan = planLadder(SAMPLE_SOURCES.rotated90);

    expect(displaySize(SAMPLE_SOURCES.rotated90)).toEqual({ width: 1080, height: 1920 });
    expect(sizes(plan)).toEqual(sizes(planLadder(SAMPLE_SOURCES.portrait1080x1920)));
    expect(plan.orientation).toBe('portrait');
  });
});

describe('planLadder by the display geometry (ADR 0026)', () => {
  it('fits a 2.39:1 scope master into each box by its width: 1920x804 in the 1080p box', () => {
    const plan = planLadder(SAMPLE_SOURCES.scope239);

    expect(sizes(plan)).toEqual(['1920x804', '1280x536', '960x402', '768x322', '640x268', '512x214']);
    expect(names(plan)).toEqual(['1080p', '720p', '540p', '432p', '360p', '288p']);
    expect(plan.video[0]!.maxBitrate).toBe(6_000_000);
  });

  it('fits a 1.85:1 flat master as 1920x1038', () => {
    expect(sizes(planLadder(SAMPLE_SOURCES.flat185))[0]).toBe('1920x1038');
  });

  it('shows 720x576 16:9 PAL anamorphic as 16:9 with square pixels', () => {
    const plan = planLadder(SAMPLE_SOURCES.pal576i16x9);

    expect(displaySize(SAMPLE_SOURCES.pal576i16x9)).toEqual({ width: 1024, height: 576 });
    expect(sizes(plan)).toEqual(['960x540', '768x432', '640x360', '512x288']);
  });

  it('shows 720x480 4:3 NTSC as 4:3, with a rung at its own 640x480', () => {
    const plan = planLadder(SAMPLE_SOURCES.ntsc480i4x3);

    expect(sizes(plan)).toEqual(['640x480', '576x432', '480x360', '384x288']);
    expect(plan.video[0]).toMatchObject({ name: '480p', qvbrQualityLevel: 7 });
    // Linear in the "p" number between 432p (1.1 Mb/s) and 540p (2 Mb/s).
    expect(plan.video[0]!.maxBitrate).toBe(1_500_000);
  });

  it('stretches an HDV 1440x1080 master with 4:3 pixels to 1920x1080', () => {
    expect(sizes(planLadder(source({ width: 1440, height: 1080, sampleAspectRatio: { numerator: 4, denominator: 3 } })))).toEqual(LANDSCAPE_1080_LADDER);
  });

  it('adds a rung at the source size when the picture falls clearly between two boxes', () => {
    const plan = planLadder(source({ width: 1600, height: 900 }));

    expect(sizes(plan)).toEqual(['1600x900', '1280x720', '960x540', '768x432', '640x360', '512x288']);
    expect(plan.video[0]).toMatchObject({ name: '900p', qvbrQualityLevel: 9, maxBitrate: 4_750_000 });
  });

  it('adds no extra rung when the source is only slightly above a box', () => {
    const plan = planLadder(source({ width: 1300, height: 740 }));

    expect(names(plan)).toEqual(['720p', '540p', '432p', '360p', '288p']);
    expect(plan.video[0]).toMatchObject({ width: 1264, height: 720 });
  });

  it('keeps a 1920x1078 source at its size as the 1080p rung instead of upscaling', () => {
    const plan = planLadder(source({ width: 1920, height: 1078 }));

    expect(plan.video[0]).toMatchObject({ name: '1080p', width: 1920, height: 1078 });
    expect(names(plan).slice(1)).toEqual(['720p', '540p', '432p', '360p', '288p']);
  });

  it('plans a single source-size rung for a source smaller than the lowest box', () => {
    const plan = planLadder(source({ width: 320, height: 180 }));

    expect(plan.video).toEqual([
      {
        name: '180p', codec: 'H_264', width: 320, height: 180, frameRate: { numerator: 30, denominator: 1 }, gopFrames: 60,
        maxBitrate: 137_000, qvbrQualityLevel: 6, profile: 'HIGH', level: 'LEVEL_1_3',
      },
    ]);
  });

  it('keeps a square source square', () => {
    const plan = planLadder(source({ width: 1080, height: 1080 }));

    expect(sizes(plan)).toEqual(['1080x1080', '720x720', '540x540', '432x432', '360x360', '288x288']);
    expect(plan.orientation).toBe('square');
  });

  it('rounds an odd-sized source down to even dimensions', () => {
    expect(planLadder(source({ width: 1281, height: 721 })).video[0]).toMatchObject({ width: 1280, height: 720 });
  });

  it('stops at an HEVC 2160p for an 8K source, at 59.94 fps', () => {
    const plan = planLadder(SAMPLE_SOURCES.uhd8k);

    expect(plan.video[0]).toMatchObject({ name: '2160p', codec: 'H_265', width: 3840, height: 2160, frameRate: { numerator: 60000, denominator: 1001 } });
  });

  it('plans an iPhone portrait clip with a variable rate at a constant 59.94, small rungs at 29.97', () => {
    const plan = planLadder(SAMPLE_SOURCES.iphonePortraitVfr);

    expect(sizes(plan)).toEqual(['1080x1920', '720x1280', '540x960', '432x768', '360x640', '288x512']);
    expect(rates(plan)).toEqual(['60000/1001', '60000/1001', '60000/1001', '30000/1001', '30000/1001', '30000/1001']);
  });

  it.each(Object.entries(SAMPLE_SOURCES))('gives %s even rungs no larger than the picture, in its display aspect ratio', (_name, sample) => {
    const plan = planLadder(sample);
    const display = displaySize(sample);

    for (const rung of plan.video) {
      expect(rung.width % 2, rung.name).toBe(0);
      expect(rung.height % 2, rung.name).toBe(0);
      expect(rung.width).toBeLessThanOrEqual(Math.ceil(display.width));
      expect(rung.height).toBeLessThanOrEqual(display.height);
      // Within a pixel of the display shape: rounding to even sides, never a squeeze.
      expect(Math.abs(rung.width - (rung.height * display.width) / display.height), rung.name).toBeLessThanOrEqual(2);
    }
    // Largest first within each ladder (an HDR source has an HDR ladder, then the SDR one: ADR 0015).
    for (const range of ['PQ', 'HLG', 'SDR'] as const) {
      const ladder = plan.video.filter((rung) => (rung.dynamicRange ?? 'SDR') === range);
      expect(ladder.map((rung) => rung.width * rung.height)).toEqual(ladder.map((rung) => rung.width * rung.height).sort((a, b) => b - a));
    }
  });

  it.each(Object.entries(SAMPLE_SOURCES))('keeps %s\'s H.264 rungs within High 4.2 and 1920x1080, HEVC only above', (_name, sample) => {
    for (const rung of planLadder(sample).video) {
      if (rung.codec === 'H_264') {
        expect(levelRank(rung.level), rung.name).toBeLessThanOrEqual(levelRank(MAX_H264_LEVEL));
        expect(Math.max(rung.width, rung.height)).toBeLessThanOrEqual(1920);
        expect(Math.min(rung.width, rung.height)).toBeLessThanOrEqual(1080);
      } else if (rung.dynamicRange === undefined) {
        expect(Number(rung.name.replace('p', '')), rung.name).toBeGreaterThan(1080);
      } else {
        // HDR rungs are HEVC Main10 at every size (ADR 0015).
        expect(rung.profile, rung.name).toBe('MAIN10');
      }
    }
  });
});

describe('planLadder frame rates and scan (ADR 0028)', () => {
  it.each([
    [{ numerator: 120, denominator: 1 }, { numerator: 60, denominator: 1 }],
    [{ numerator: 120000, denominator: 1001 }, { numerator: 60000, denominator: 1001 }],
    [{ numerator: 100, denominator: 1 }, { numerator: 50, denominator: 1 }],
    [{ numerator: 240, denominator: 1 }, { numerator: 60, denominator: 1 }],
    [{ numerator: 48, denominator: 1 }, { numerator: 24, denominator: 1 }],
    [{ numerator: 24000, denominator: 1001 }, { numerator: 24000, denominator: 1001 }],
    [{ numerator: 24, denominator: 1 }, { numerator: 24, denominator: 1 }],
    [{ numerator: 2997, denominator: 100 }, { numerator: 30000, denominator: 1001 }],
    [{ numerator: 35280, denominator: 589 }, { numerator: 60000, denominator: 1001 }],
    [{ numerator: 286, denominator: 10 }, { numerator: 30000, denominator: 1001 }],
    [{ numerator: 15, denominator: 1 }, { numerator: 24000, denominator: 1001 }],
  ])('encodes a %o fps source at the standard %o', (input, output) => {
    expect(standardFrameRate(input, 60)).toEqual(output);
  });

  it('only ever chooses one of the standard rates', () => {
    for (let rate = 1; rate <= 1000; rate += 0.37) {
      const chosen = standardFrameRate({ numerator: Math.round(rate * 1000), denominator: 1000 }, 60);
      expect(STANDARD_FRAME_RATES).toContainEqual(chosen);
    }
  });

  it('runs 432p and below at half the rate of a 50 fps source, larger rungs at 50', () => {
    const plan = planLadder({ ...SAMPLE_SOURCES.hlg1080p50, dynamicRange: undefined });

    expect(rates(plan)).toEqual(['50/1', '50/1', '50/1', '25/1', '25/1', '25/1']);
    expect(plan.video.map((rung) => rung.gopFrames)).toEqual([100, 100, 100, 50, 50, 50]);
  });

  it('halves 60 fps to 30 fps on every rung of the compact ladder', () => {
    const plan = planLadder(SAMPLE_SOURCES.uhd4k60, COMPACT_LADDER);

    expect(new Set(rates(plan))).toEqual(new Set(['30/1']));
    expect(names(plan)).toEqual(['1080p', '720p', '432p', '288p']);
    expect(plan.video.every((rung) => rung.codec === 'H_264')).toBe(true);
  });

  it('deinterlaces 1080i29.97 to progressive 29.97 fps', () => {
    const plan = planLadder(SAMPLE_SOURCES.hd1080i2997);

    expect(plan.deinterlace).toBe(true);
    expect(new Set(rates(plan))).toEqual(new Set(['30000/1001']));
  });
});

describe('codec levels', () => {
  it.each([
    ['H_264', 1920, 1080, 30, 6_000_000, 'LEVEL_4'],
    ['H_264', 1920, 1080, 60, 6_000_000, 'LEVEL_4_2'],
    ['H_264', 1280, 720, 60, 3_500_000, 'LEVEL_3_2'],
    ['H_264', 640, 360, 30, 730_000, 'LEVEL_3'],
    ['H_265', 3840, 2160, 30, 16_000_000, 'LEVEL_5'],
    ['H_265', 3840, 2160, 60, 16_000_000, 'LEVEL_5_1'],
  ] as const)('gives %s %ix%i at %i fps level %s', (codec, width, height, rate, bitrate, level) => {
    expect(codecLevelFor(codec, width, height, { numerator: rate, denominator: 1 }, bitrate)).toBe(level);
  });

  it('refuses an H.264 picture above level 4.2', () => {
    expect(() => codecLevelFor('H_264', 2560, 1440, { numerator: 30, denominator: 1 }, 10_000_000)).toThrow(/no H.264 level/);
  });
});

describe('planLadder audio and ladders', () => {
  it('plans a mono AAC rung at half the bitrate for a mono source', () => {
    expect(planLadder(source({ audioChannels: 1 })).audio).toEqual([
      { name: 'aac-mono-64k', bitrate: 64_000, channels: 1, sampleRate: 48000, codec: 'AAC', language: 'und', sourceTrack: 1, isDefault: true },
    ]);
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
    ['a broken pixel aspect ratio', { sampleAspectRatio: { numerator: 100, denominator: 1 } }, /pixel aspect ratio of 100:1/],
    ['a panorama too thin for any rung', { width: 8192, height: 32 }, /leaves no rung/],
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
