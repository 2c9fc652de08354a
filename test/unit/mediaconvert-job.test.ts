import { describe, it, expect } from 'vitest';
import type { Output, OutputGroup } from '@aws-sdk/client-mediaconvert';
import { planLadder } from '../../core/ladder';
import {
  buildCreateJobRequest,
  InvalidJobContextError,
  POSTER_PATH,
  type JobContext,
} from '../../core/mediaconvert-job';
import { planFromJobSettings, UnrecognisedJobSettingsError } from '../../core/job-settings-plan';
import { SAMPLE_SOURCES } from '../contract/sample-sources';

const ctx: JobContext = {
  inputS3Uri: 's3://uploads-bucket/uploads/Big Buck.mov',
  outputS3Prefix: 's3://origin-bucket/media/big-buck/r1/',
  roleArn: 'arn:aws:iam::123456789012:role/MediaConvertRole',
  assetId: 'big-buck',
  revision: 'r1',
  stackName: 'Streaming-Ingest',
  clientRequestToken: 'big-buck-r1',
  perTitle: false,
};

const groups = (request: ReturnType<typeof buildCreateJobRequest>): OutputGroup[] => request.Settings!.OutputGroups!;
const cmafGroup = (request: ReturnType<typeof buildCreateJobRequest>) =>
  groups(request).find((group) => group.OutputGroupSettings?.Type === 'CMAF_GROUP_SETTINGS')!;
const videoOutputs = (group: OutputGroup): Output[] => group.Outputs!.filter((output) => output.VideoDescription);
const audioOutputs = (group: OutputGroup): Output[] => group.Outputs!.filter((output) => output.AudioDescriptions);

describe('buildCreateJobRequest', () => {
  it('writes one CMAF group with HLS and DASH manifests named main under the revision prefix', () => {
    const request = buildCreateJobRequest(planLadder(SAMPLE_SOURCES.hd1080p30Stereo), ctx);

    const cmaf = cmafGroup(request).OutputGroupSettings!.CmafGroupSettings!;
    expect(groups(request).filter((group) => group.OutputGroupSettings?.Type === 'CMAF_GROUP_SETTINGS')).toHaveLength(1);
    expect(cmaf).toMatchObject({
      Destination: 's3://origin-bucket/media/big-buck/r1/main',
      WriteHlsManifest: 'ENABLED',
      WriteDashManifest: 'ENABLED',
      SegmentLength: 6,
      FragmentLength: 2,
      SegmentLengthControl: 'GOP_MULTIPLE',
    });
  });

  it('gives every rung its own CMFC output named after the rung, with QVBR H.264 High and a closed 2 s GOP', () => {
    const plan = planLadder(SAMPLE_SOURCES.ntsc2997);

    const outputs = videoOutputs(cmafGroup(buildCreateJobRequest(plan, ctx)));

    expect(outputs.map((output) => output.NameModifier)).toEqual(['_1080p', '_720p', '_540p', '_432p', '_360p', '_288p']);
    expect(outputs[0]!.VideoDescription).toMatchObject({ Width: 1920, Height: 1080 });
    expect(outputs[0]!.VideoDescription!.CodecSettings!.H264Settings).toMatchObject({
      CodecProfile: 'HIGH',
      RateControlMode: 'QVBR',
      MaxBitrate: 6_000_000,
      QvbrSettings: { QvbrQualityLevel: 9 },
      FramerateControl: 'SPECIFIED',
      FramerateNumerator: 30000,
      FramerateDenominator: 1001,
      GopSize: 60,
      GopSizeUnits: 'FRAMES',
      GopClosedCadence: 1,
    });
    expect(outputs.every((output) => output.ContainerSettings?.Container === 'CMFC')).toBe(true);
  });

  it('adds an AAC audio output and an audio selector only when the plan has audio', () => {
    const withAudio = buildCreateJobRequest(planLadder(SAMPLE_SOURCES.hd1080p30Stereo), ctx);
    const withoutAudio = buildCreateJobRequest(planLadder(SAMPLE_SOURCES.noAudio), ctx);

    expect(audioOutputs(cmafGroup(withAudio)).map((output) => output.NameModifier)).toEqual(['_aac-stereo-128k']);
    expect(audioOutputs(cmafGroup(withAudio))[0]!.AudioDescriptions![0]!.CodecSettings!.AacSettings).toMatchObject({
      Bitrate: 128_000,
      CodingMode: 'CODING_MODE_2_0',
      SampleRate: 48000,
    });
    expect(withAudio.Settings!.Inputs![0]!.AudioSelectors).toBeDefined();
    expect(audioOutputs(cmafGroup(withoutAudio))).toEqual([]);
    expect(withoutAudio.Settings!.Inputs![0]!.AudioSelectors).toBeUndefined();
  });

  it('tags the job with stack, asset and revision and passes the idempotency token through', () => {
    const request = buildCreateJobRequest(planLadder(SAMPLE_SOURCES.hd720p), { ...ctx, queueArn: 'arn:aws:mediaconvert:eu-west-1:1:queues/Default' });

    expect(request).toMatchObject({
      Role: ctx.roleArn,
      Queue: 'arn:aws:mediaconvert:eu-west-1:1:queues/Default',
      ClientRequestToken: 'big-buck-r1',
      StatusUpdateInterval: 'SECONDS_10',
      UserMetadata: { stack: 'Streaming-Ingest', assetId: 'big-buck', revision: 'r1' },
    });
    expect(request.Settings!.Inputs![0]).toMatchObject({ FileInput: ctx.inputS3Uri, VideoSelector: { Rotate: 'AUTO' } });
  });

  it('captures a poster and preview thumbnails under thumbs/, no larger than the top rung', () => {
    const request = buildCreateJobRequest(planLadder(SAMPLE_SOURCES.portrait1080x1920), ctx);

    const thumbs = groups(request).find((group) => group.OutputGroupSettings?.Type === 'FILE_GROUP_SETTINGS')!;
    expect(thumbs.OutputGroupSettings!.FileGroupSettings!.Destination).toBe('s3://origin-bucket/media/big-buck/r1/thumbs/frame');
    const [poster, preview] = thumbs.Outputs!;
    expect(POSTER_PATH).toBe(`thumbs/frame${poster!.NameModifier}.0000000.jpg`);
    expect(poster!.VideoDescription).toMatchObject({ Width: 720, Height: 1280, CodecSettings: { Codec: 'FRAME_CAPTURE' } });
    expect(preview!.VideoDescription).toMatchObject({ Width: 180, Height: 320 });
    expect(preview!.VideoDescription!.CodecSettings!.FrameCaptureSettings).toMatchObject({ FramerateNumerator: 1, FramerateDenominator: 10 });
  });

  it('asks for Automated ABR bounded by the plan when per-title is on', () => {
    const plan = planLadder(SAMPLE_SOURCES.hd1080p30Stereo);

    const group = cmafGroup(buildCreateJobRequest(plan, { ...ctx, perTitle: true }));

    expect(group.AutomatedEncodingSettings!.AbrSettings).toMatchObject({
      MaxRenditions: 6,
      MaxAbrBitrate: 6_000_000,
      MinAbrBitrate: 350_000,
      Rules: [{ Type: 'ALLOWED_RENDITIONS', AllowedRenditions: plan.video.map((rung) => expect.objectContaining({ Width: rung.width, Height: rung.height })) }],
    });
    const video = videoOutputs(group);
    expect(video).toHaveLength(1);
    expect(video[0]!.VideoDescription!.Width).toBeUndefined();
    expect(video[0]!.VideoDescription!.CodecSettings!.H264Settings).toMatchObject({ RateControlMode: 'QVBR', QualityTuningLevel: 'MULTI_PASS_HQ' });
    expect(video[0]!.VideoDescription!.ScalingBehavior).not.toBe('FIT_NO_UPSCALE');
  });

  it('writes square pixels, the rung\'s own rate, GOP and level, and stretches the whole picture onto the rung', () => {
    const plan = planLadder(SAMPLE_SOURCES.pal576i16x9);

    const [top, , , bottom] = videoOutputs(cmafGroup(buildCreateJobRequest(plan, ctx)));

    expect(top!.VideoDescription).toMatchObject({ Width: 960, Height: 540, ScalingBehavior: 'STRETCH_TO_OUTPUT' });
    expect(top!.VideoDescription!.CodecSettings!.H264Settings).toMatchObject({
      ParControl: 'SPECIFIED',
      ParNumerator: 1,
      ParDenominator: 1,
      InterlaceMode: 'PROGRESSIVE',
      CodecLevel: 'LEVEL_3_1',
      FramerateNumerator: 25,
      GopSize: 50,
    });
    expect(bottom!.VideoDescription).toMatchObject({ Width: 512, Height: 288 });
  });

  it('deinterlaces every output of an interlaced source, frame captures included, and no output of a progressive one', () => {
    const interlaced = buildCreateJobRequest(planLadder(SAMPLE_SOURCES.hd1080i2997), ctx);
    const progressive = buildCreateJobRequest(planLadder(SAMPLE_SOURCES.hd1080p30Stereo), ctx);

    const outputs = groups(interlaced).flatMap((group) => group.Outputs!).filter((output) => output.VideoDescription);
    expect(outputs.length).toBeGreaterThan(6);
    for (const output of outputs) {
      expect(output.VideoDescription!.VideoPreprocessors!.Deinterlacer).toEqual({ Mode: 'DEINTERLACE', Algorithm: 'INTERPOLATE', Control: 'NORMAL' });
    }
    const progressiveOutputs = groups(progressive).flatMap((group) => group.Outputs!);
    expect(progressiveOutputs.some((output) => output.VideoDescription?.VideoPreprocessors)).toBe(false);
  });

  it('encodes rungs above 1080p in HEVC (hvc1, Main, the rung\'s level) and the small rungs of 60 fps at 30', () => {
    const outputs = videoOutputs(cmafGroup(buildCreateJobRequest(planLadder(SAMPLE_SOURCES.uhd4k60), ctx)));

    expect(outputs.map((output) => output.VideoDescription!.CodecSettings!.Codec)).toEqual(['H_265', 'H_265', 'H_264', 'H_264', 'H_264', 'H_264', 'H_264', 'H_264']);
    expect(outputs[0]!.VideoDescription!.CodecSettings!.H265Settings).toMatchObject({
      CodecProfile: 'MAIN_MAIN',
      CodecLevel: 'LEVEL_5_1',
      WriteMp4PackagingType: 'HVC1',
      RateControlMode: 'QVBR',
      MaxBitrate: 16_000_000,
      FramerateNumerator: 60,
      GopSize: 120,
      GopSizeUnits: 'FRAMES',
      ParControl: 'SPECIFIED',
    });
    expect(outputs.at(-1)!.VideoDescription!.CodecSettings!.H264Settings).toMatchObject({ FramerateNumerator: 30, FramerateDenominator: 1, GopSize: 60 });
  });

  it.each([
    [{ inputS3Uri: 'https://example.com/a.mov' }, /inputS3Uri/],
    [{ outputS3Prefix: 's3://origin/media/a/r1' }, /outputS3Prefix/],
    [{ clientRequestToken: '' }, /clientRequestToken/],
  ])('rejects a malformed job context %o', (overrides, message) => {
    const act = () => buildCreateJobRequest(planLadder(SAMPLE_SOURCES.hd720p), { ...ctx, ...overrides });

    expect(act).toThrow(InvalidJobContextError);
    expect(act).toThrow(message);
  });
});

describe('planFromJobSettings', () => {
  it.each(Object.entries(SAMPLE_SOURCES))('recovers the exact plan of %s from the request it produced', (_name, source) => {
    const plan = planLadder(source);

    const recovered = planFromJobSettings(buildCreateJobRequest(plan, ctx).Settings!);

    expect(recovered).toEqual(plan);
  });

  it('recovers a native-size rung by its name', () => {
    const plan = planLadder({ ...SAMPLE_SOURCES.hd1080p30Stereo, width: 1920, height: 800 });

    expect(planFromJobSettings(buildCreateJobRequest(plan, ctx).Settings!)).toEqual(plan);
  });

  it('recovers sizes, frame rate, GOP and audio of a per-title job, with bitrates spread within its range', () => {
    const plan = planLadder(SAMPLE_SOURCES.hd1080p30Stereo);

    const recovered = planFromJobSettings(buildCreateJobRequest(plan, { ...ctx, perTitle: true }).Settings!);

    expect(recovered.video.map(({ name, width, height, frameRate, gopFrames }) => ({ name, width, height, frameRate, gopFrames }))).toEqual(
      plan.video.map(({ name, width, height, frameRate, gopFrames }) => ({ name, width, height, frameRate, gopFrames })),
    );
    expect(recovered.video[0]!.maxBitrate).toBe(plan.video[0]!.maxBitrate);
    expect(recovered.video.at(-1)!.maxBitrate).toBe(plan.video.at(-1)!.maxBitrate);
    const bitrates = recovered.video.map((rung) => rung.maxBitrate);
    expect(bitrates).toEqual([...bitrates].sort((a, b) => b - a));
    expect({ ...recovered, video: plan.video }).toEqual(plan);
  });

  it('keeps a per-title job of a 4K60 source to the H.264 ladder at the full rate (one base output, one codec)', () => {
    const plan = planLadder(SAMPLE_SOURCES.uhd4k60);

    const request = buildCreateJobRequest(plan, { ...ctx, perTitle: true });

    const abr = cmafGroup(request).AutomatedEncodingSettings!.AbrSettings!;
    expect(abr.Rules![0]!.AllowedRenditions!.map(({ Width, Height }) => `${Width}x${Height}`)).toEqual(
      plan.video.filter((rung) => rung.codec === 'H_264').map((rung) => `${rung.width}x${rung.height}`),
    );
    expect(videoOutputs(cmafGroup(request))[0]!.VideoDescription!.CodecSettings!.H264Settings).toMatchObject({
      CodecLevel: 'AUTO',
      FramerateNumerator: 60,
      GopSize: 120,
    });
  });

  it('refuses settings without a CMAF output group', () => {
    expect(() => planFromJobSettings({ OutputGroups: [] })).toThrow(UnrecognisedJobSettingsError);
  });

  it('refuses a CMAF group whose H.264 output follows the source frame rate', () => {
    const settings = buildCreateJobRequest(planLadder(SAMPLE_SOURCES.hd720p), ctx).Settings!;
    const h264 = cmafGroup({ Settings: settings } as never).Outputs![0]!.VideoDescription!.CodecSettings!.H264Settings!;
    h264.FramerateControl = 'INITIALIZE_FROM_SOURCE';

    expect(() => planFromJobSettings(settings)).toThrow(/frame rate/);
  });
});
