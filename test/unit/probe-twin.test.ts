import { describe, expect, it } from 'vitest';
import { sourceInfoFromProbe } from '../../core/probe';
import { probeResultFromFfprobe } from '../../local/mediaconvert/probe';

/** ffprobe's JSON for one video stream (and a container), as `-show_format -show_streams` writes it. */
const ffprobeOf = (video: Record<string, unknown>) => ({
  format: { format_name: 'mov,mp4,m4a,3gp,3g2,mj2', duration: '10.0' },
  streams: [{ index: 0, codec_type: 'video', codec_name: 'h264', width: 720, height: 576, avg_frame_rate: '25/1', ...video }],
});
const videoProperties = (video: Record<string, unknown>) =>
  probeResultFromFfprobe(ffprobeOf(video), {}).Container!.Tracks![0]!.VideoProperties!;

describe('the twin\'s Probe answers what MediaConvert\'s reports', () => {
  it('reports the aspect ratios ffprobe finds where the container\'s go, and none for 0:1', () => {
    expect(videoProperties({ sample_aspect_ratio: '64:45', display_aspect_ratio: '16:9' })).toMatchObject({
      SampleAspectRatio: { Numerator: 64, Denominator: 45 },
      DisplayAspectRatio: { Numerator: 16, Denominator: 9 },
    });
    expect(videoProperties({ sample_aspect_ratio: '0:1', display_aspect_ratio: 'N/A' }).SampleAspectRatio).toBeUndefined();
  });

  it.each([
    ['tt', 'TopFieldFirst'],
    ['bt', 'TopFieldFirst'],
    ['bb', 'BottomFieldFirst'],
    ['tb', 'BottomFieldFirst'],
  ])('names ffprobe field order %s as the displayed order %s', (fieldOrder, expected) => {
    expect(videoProperties({ field_order: fieldOrder }).CodecMetadata).toMatchObject({ ScanType: 'interlaced', FieldOrder: expected });
  });

  it('reports progressive video without a field order, and unknown video without a scan type', () => {
    expect(videoProperties({ field_order: 'progressive' }).CodecMetadata).toEqual({ Width: 720, Height: 576, ScanType: 'progressive' });
    expect(videoProperties({ field_order: 'unknown' }).CodecMetadata).toEqual({ Width: 720, Height: 576 });
  });

  it('turns the display matrix\'s counter-clockwise angle, or an old rotate tag, into clockwise degrees', () => {
    expect(videoProperties({ side_data_list: [{ side_data_type: 'Display Matrix', rotation: -90 }] }).Rotation).toBe(90);
    expect(videoProperties({ side_data_list: [{ side_data_type: 'Display Matrix', rotation: 90 }] }).Rotation).toBe(270);
    expect(videoProperties({ tags: { rotate: '180' } }).Rotation).toBe(180);
    expect(videoProperties({}).Rotation).toBeUndefined();
  });

  it('gives the planner an anamorphic interlaced phone-rotated source it can read', () => {
    const probe = probeResultFromFfprobe(
      ffprobeOf({ sample_aspect_ratio: '64:45', field_order: 'tt', side_data_list: [{ side_data_type: 'Display Matrix', rotation: -90 }] }),
      {},
    );

    expect(sourceInfoFromProbe(probe)).toMatchObject({
      width: 720,
      height: 576,
      rotation: 90,
      sampleAspectRatio: { numerator: 64, denominator: 45 },
      scan: { type: 'interlaced', fieldOrder: 'top-first' },
    });
  });
});
