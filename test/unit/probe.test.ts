import type { ProbeResult } from '@aws-sdk/client-mediaconvert';
import { describe, expect, it } from 'vitest';
import { sourceInfoFromProbe, UnreadableSourceError } from '../../core/probe';
import { proresMaster } from '../support/probe-results';

const withVideo = (patch: Record<string, unknown>): ProbeResult => ({
  ...proresMaster,
  Container: {
    ...proresMaster.Container,
    Tracks: proresMaster.Container!.Tracks!.map((track) =>
      track.TrackType === 'video' ? { ...track, VideoProperties: { ...track.VideoProperties, ...patch } } : track,
    ),
  },
});

describe('sourceInfoFromProbe', () => {
  it('reads size, frame rate, duration, codec and audio from a QuickTime master', () => {
    // Act
    const source = sourceInfoFromProbe(proresMaster);
    // Assess
    expect(source).toEqual({
      width: 1920,
      height: 1080,
      rotation: 0,
      frameRate: { numerator: 30000, denominator: 1001 },
      durationMs: 596463,
      hasAudio: true,
      audioChannels: 2,
      audioTracks: [{ track: 1, language: 'en', channels: 2 }],
      embeddedCaptions: true,
      videoCodec: 'PRORES',
      container: 'quicktime',
    });
  });

  it('keeps the coded size of a phone video and reports its rotation', () => {
    // Prepare: portrait iPhone footage is stored 1920x1080 with a 90° display matrix.
    const phone = withVideo({ Rotation: 90 });
    // Act
    const source = sourceInfoFromProbe(phone);
    // Assess
    expect(source).toMatchObject({ width: 1920, height: 1080, rotation: 90 });
  });

  it('normalises a negative rotation', () => {
    expect(sourceInfoFromProbe(withVideo({ Rotation: -90 })).rotation).toBe(270);
  });

  it('reports a source without audio', () => {
    // Prepare
    const silent: ProbeResult = {
      ...proresMaster,
      Container: { ...proresMaster.Container, Tracks: proresMaster.Container!.Tracks!.filter((t) => t.TrackType !== 'audio') },
      TrackMappings: [{ VideoTrackIndexes: [1] }],
    };
    // Act
    const source = sourceInfoFromProbe(silent);
    // Assess
    expect(source.hasAudio).toBe(false);
    expect(source.audioChannels).toBeUndefined();
  });

  it('falls back to the codec metadata when the track lacks size and frame rate', () => {
    // Prepare
    const mpegTs = withVideo({
      Width: undefined,
      Height: undefined,
      FrameRate: undefined,
      CodecMetadata: { Width: 1280, Height: 720, CodedFrameRate: { Numerator: 50, Denominator: 1 } },
    });
    // Act
    const source = sourceInfoFromProbe(mpegTs);
    // Assess
    expect(source).toMatchObject({ width: 1280, height: 720, frameRate: { numerator: 50, denominator: 1 } });
  });

  it('reads the container\'s pixel aspect ratio of anamorphic PAL, reduced', () => {
    const pal = withVideo({ Width: 720, Height: 576, SampleAspectRatio: { Numerator: 128, Denominator: 90 } });

    expect(sourceInfoFromProbe(pal).sampleAspectRatio).toEqual({ numerator: 64, denominator: 45 });
  });

  it('derives the pixel aspect ratio from a display aspect ratio alone (4:3 on 720x480 is 8:9)', () => {
    const ntsc = withVideo({ Width: 720, Height: 480, DisplayAspectRatio: { Numerator: 4, Denominator: 3 } });

    expect(sourceInfoFromProbe(ntsc).sampleAspectRatio).toEqual({ numerator: 8, denominator: 9 });
  });

  it('prefers the container\'s declaration over the essence\'s and falls back to the essence', () => {
    const both = withVideo({
      Width: 720,
      Height: 576,
      SampleAspectRatio: { Numerator: 16, Denominator: 15 },
      CodecMetadata: { SampleAspectRatio: { Numerator: 64, Denominator: 45 } },
    });
    const essenceOnly = withVideo({ Width: 720, Height: 576, CodecMetadata: { DisplayAspectRatio: { Numerator: 16, Denominator: 9 } } });

    expect(sourceInfoFromProbe(both).sampleAspectRatio).toEqual({ numerator: 16, denominator: 15 });
    expect(sourceInfoFromProbe(essenceOnly).sampleAspectRatio).toEqual({ numerator: 64, denominator: 45 });
  });

  it('treats square, undeclared and 0:1 aspect ratios as square pixels', () => {
    for (const declared of [{ Numerator: 1, Denominator: 1 }, { Numerator: 0, Denominator: 1 }, undefined]) {
      expect(sourceInfoFromProbe(withVideo({ SampleAspectRatio: declared })).sampleAspectRatio).toBeUndefined();
    }
  });

  it('reports interlaced video with its field order, and progressive as no scan at all', () => {
    const tff = withVideo({ CodecMetadata: { ScanType: 'Interlaced', FieldOrder: 'TopFieldFirst' } });
    const bff = withVideo({ CodecMetadata: { FieldOrder: 'BottomFieldFirst' } });
    const unordered = withVideo({ CodecMetadata: { ScanType: 'interlaced' } });
    const progressive = withVideo({ CodecMetadata: { ScanType: 'Progressive' } });

    expect(sourceInfoFromProbe(tff).scan).toEqual({ type: 'interlaced', fieldOrder: 'top-first' });
    expect(sourceInfoFromProbe(bff).scan).toEqual({ type: 'interlaced', fieldOrder: 'bottom-first' });
    expect(sourceInfoFromProbe(unordered).scan).toEqual({ type: 'interlaced' });
    expect(sourceInfoFromProbe(progressive).scan).toBeUndefined();
  });

  it.each<[string, ProbeResult | undefined, RegExp]>([
    ['no result at all', undefined, /does not recognise the file/],
    ['an unrecognised file', { Container: { Tracks: [] }, TrackMappings: [] }, /does not recognise the file/],
    [
      'an audio-only file',
      {
        Container: {
          Format: 'mp4',
          Duration: 180,
          Tracks: [{ Index: 1, TrackType: 'audio', Codec: 'AAC', AudioProperties: { Channels: 2, SampleRate: 44100 } }],
        },
      },
      /audio but no video track/,
    ],
    [
      'a video track in an unknown codec',
      { Container: { Format: 'avi', Duration: 10, Tracks: [{ Index: 1, TrackType: 'video', Codec: 'UNKNOWN', VideoProperties: {} }] } },
      /cannot decode/,
    ],
    ['a video track without a picture size', withVideo({ Width: 0, Height: undefined }), /no picture size/],
    ['a still image', withVideo({ FrameRate: undefined }), /no frame rate/],
    ['an odd rotation', withVideo({ Rotation: 45 }), /rotated by 45 degrees/],
  ])('rejects %s with a readable reason', (_name, result, reason) => {
    // Act
    const attempt = () => sourceInfoFromProbe(result);
    // Assess
    expect(attempt).toThrow(UnreadableSourceError);
    expect(attempt).toThrow(reason);
  });

  it('rejects a file without a duration', () => {
    // Prepare
    const noDuration: ProbeResult = {
      ...proresMaster,
      Container: { ...proresMaster.Container, Duration: undefined, Tracks: proresMaster.Container!.Tracks!.map((t) => ({ ...t, Duration: undefined })) },
    };
    // Act + Assess
    expect(() => sourceInfoFromProbe(noDuration)).toThrow(/no duration/);
  });

  it('puts the human-readable reason on the error', () => {
    try {
      sourceInfoFromProbe(undefined);
      expect.unreachable();
    } catch (error) {
      expect((error as UnreadableSourceError).reason).toBe('MediaConvert does not recognise the file as a media container');
    }
  });
});

describe('sourceInfoFromProbe audio tracks and captions (ADRs 0017, 0018)', () => {
  const video = proresMaster.Container!.Tracks!.find((track) => track.TrackType === 'video')!;
  const withTracks = (tracks: NonNullable<ProbeResult['Container']>['Tracks'], audioOrder?: number[]): ProbeResult => ({
    ...proresMaster,
    Container: { ...proresMaster.Container, Tracks: [video, ...(tracks ?? [])] },
    TrackMappings: [{ VideoTrackIndexes: [1], ...(audioOrder ? { AudioTrackIndexes: audioOrder } : {}) }],
  });

  it('lists every audio track with its number, language and channels', () => {
    // Prepare: English stereo, German 5.1, a commentary track without a declared language.
    const probe = withTracks([
      { Index: 2, TrackType: 'audio', Codec: 'AAC', AudioProperties: { Channels: 2, LanguageCode: 'eng' } },
      { Index: 3, TrackType: 'audio', Codec: 'EAC3', AudioProperties: { Channels: 6, LanguageCode: 'DEU' } },
      { Index: 4, TrackType: 'audio', Codec: 'AAC', AudioProperties: { Channels: 2 } },
    ]);
    // Act
    const source = sourceInfoFromProbe(probe);
    // Assess
    expect(source.audioTracks).toEqual([
      { track: 1, language: 'en', channels: 2 },
      { track: 2, language: 'de', channels: 6 },
      { track: 3, language: 'und', channels: 2 },
    ]);
    expect(source).toMatchObject({ hasAudio: true, audioChannels: 2 });
    expect(source.embeddedCaptions).toBeUndefined();
  });

  it('keeps each track\'s number in the file while ordering tracks as TrackMappings selects them', () => {
    // Prepare: the mapping puts the second audio track first.
    const probe = withTracks(
      [
        { Index: 2, TrackType: 'audio', AudioProperties: { Channels: 2, LanguageCode: 'fra' } },
        { Index: 3, TrackType: 'audio', AudioProperties: { Channels: 2, LanguageCode: 'eng' } },
      ],
      [3, 2],
    );
    // Act + Assess
    expect(sourceInfoFromProbe(probe).audioTracks).toEqual([
      { track: 2, language: 'en', channels: 2 },
      { track: 1, language: 'fr', channels: 2 },
    ]);
  });

  it('treats malformed language codes as undetermined', () => {
    const probe = withTracks([{ Index: 2, TrackType: 'audio', AudioProperties: { Channels: 2, LanguageCode: 'English!' } }]);
    expect(sourceInfoFromProbe(probe).audioTracks).toEqual([{ track: 1, language: 'und', channels: 2 }]);
  });

  it('finds CEA-708 captions in a data track and ignores other data tracks', () => {
    const with708 = withTracks([{ Index: 2, TrackType: 'data', Codec: 'C708' }]);
    const timecodeOnly = withTracks([{ Index: 2, TrackType: 'data', Codec: 'UNKNOWN' }]);
    expect(sourceInfoFromProbe(with708).embeddedCaptions).toBe(true);
    expect(sourceInfoFromProbe(timecodeOnly).embeddedCaptions).toBeUndefined();
  });

  it('rejects an audio-only file with a reason (ADR 0019)', () => {
    const podcast: ProbeResult = {
      Container: { Format: 'mp4', Duration: 1800, Tracks: [{ Index: 1, TrackType: 'audio', Codec: 'AAC', AudioProperties: { Channels: 2, LanguageCode: 'eng' } }] },
      TrackMappings: [{ AudioTrackIndexes: [1] }],
    };
    expect(() => sourceInfoFromProbe(podcast)).toThrow(UnreadableSourceError);
    expect(() => sourceInfoFromProbe(podcast)).toThrow(/audio but no video track/);
  });
});
