import type { ProbeResult } from '@aws-sdk/client-mediaconvert';
import { describe, expect, it } from 'vitest';
import { dynamicRangeOfOutputName } from '../../core/dynamic-range';
import { buildMultivariantPlaylist, parseOriginMultivariant } from '../../core/hls-multivariant';
import { planFromJobSettings } from '../../core/job-settings-plan';
import { COMPACT_LADDER, planLadder } from '../../core/ladder';
import type { LadderPlan } from '../../core/media-types';
import { buildCreateJobRequest, type JobContext } from '../../core/mediaconvert-job';
import { sourceInfoFromProbe, UnreadableSourceError } from '../../core/probe';
import { ffmpegArgsForPlan, mergeVideoAdaptationSets, videoFilterFor, withVideoRanges } from '../../local/mediaconvert/ffmpeg-ladder';
import { probeResultFromFfprobe } from '../../local/mediaconvert/probe';
import { SAMPLE_SOURCES } from '../contract/sample-sources';
import { proresMaster } from '../support/probe-results';

const ctx: JobContext = {
  inputS3Uri: 's3://uploads-bucket/uploads/feature.mov',
  outputS3Prefix: 's3://origin-bucket/media/feature/r1/',
  roleArn: 'arn:aws:iam::123456789012:role/MediaConvertRole',
  assetId: 'feature',
  revision: 'r1',
  stackName: 'Streaming-Ingest',
  clientRequestToken: 'feature-r1',
  perTitle: false,
};

/** The ProRes master of the other probe tests with the colour description an HDR grade carries. */
function probedWithColour(colour: { ColorPrimaries?: string; TransferCharacteristics?: string; MatrixCoefficients?: string }): ProbeResult {
  const [video, ...others] = proresMaster.Container!.Tracks!;
  return {
    ...proresMaster,
    Container: {
      ...proresMaster.Container,
      Tracks: [{ ...video, VideoProperties: { ...video!.VideoProperties, CodecMetadata: { BitDepth: 10, ...colour } } } as never, ...others],
    },
  };
}

const rangeOf = (rung: LadderPlan['video'][number]) => rung.dynamicRange ?? 'SDR';

describe('the source\'s dynamic range (ADR 0015)', () => {
  it.each([
    [{ ColorPrimaries: 'ITU_2020', TransferCharacteristics: 'SMPTE_2084', MatrixCoefficients: 'ITU_2020_NCL' }, 'PQ'],
    [{ ColorPrimaries: 'ITU_2020', TransferCharacteristics: 'ARIB_B67', MatrixCoefficients: 'ITU_2020_NCL' }, 'HLG'],
    // PQ with its primaries left unspecified is still PQ; BT.2020 primaries with an SDR transfer are SDR.
    [{ TransferCharacteristics: 'SMPTE_2084' }, 'PQ'],
    [{ ColorPrimaries: 'ITU_2020', TransferCharacteristics: 'ITU_2020_10bit', MatrixCoefficients: 'ITU_2020_NCL' }, undefined],
    [{ ColorPrimaries: 'ITU_709', TransferCharacteristics: 'ITU_709', MatrixCoefficients: 'ITU_709' }, undefined],
    [{}, undefined],
  ])('reads %j as %s', (colour, expected) => {
    expect(sourceInfoFromProbe(probedWithColour(colour)).dynamicRange).toBe(expected);
  });

  it('fails an IPT-coded picture (Dolby Vision profile 5) with a reason instead of encoding wrong colours', () => {
    const probe = probedWithColour({ TransferCharacteristics: 'SMPTE_2084', MatrixCoefficients: 'IPT' });

    expect(() => sourceInfoFromProbe(probe)).toThrow(UnreadableSourceError);
    expect(() => sourceInfoFromProbe(probe)).toThrow(/Dolby Vision profile 5/);
  });

  it.each([
    ['smpte2084', 'PQ'],
    ['arib-std-b67', 'HLG'],
    ['bt709', undefined],
  ])('reads the twin\'s ffprobe transfer %s the same way', (transfer, expected) => {
    const probe = probeResultFromFfprobe(
      {
        format: { format_name: 'mov,mp4,m4a,3gp,3g2,mj2', duration: '2.0' },
        streams: [
          {
            index: 0, codec_type: 'video', codec_name: 'hevc', width: 640, height: 360, avg_frame_rate: '25/1', pix_fmt: 'yuv420p10le',
            color_primaries: 'bt2020', color_transfer: transfer, color_space: 'bt2020nc',
          },
        ],
      },
      {},
    );
    expect(sourceInfoFromProbe(probe).dynamicRange).toBe(expected);
  });
});

describe('HDR and SDR ladders (ADR 0015)', () => {
  it.each([
    ['hdr10Uhd2160p', 'PQ', ['2160p', '1440p', '1080p', '720p', '540p', '432p', '360p', '288p']],
    ['hlg1080p50', 'HLG', ['1080p', '720p', '540p', '432p', '360p', '288p']],
    ['iphoneHdrPortrait', 'HLG', ['1080p', '720p', '540p', '432p', '360p', '288p']],
  ] as const)('plans %s as a %s ladder in HEVC Main10 and the same sizes in SDR', (name, range, sdrNames) => {
    const plan = planLadder(SAMPLE_SOURCES[name]);
    const hdr = plan.video.filter((rung) => rangeOf(rung) !== 'SDR');
    const sdr = plan.video.filter((rung) => rangeOf(rung) === 'SDR');

    expect(plan.dynamicRange).toBe(range);
    expect(sdr.map((rung) => rung.name)).toEqual(sdrNames);
    expect(hdr.map((rung) => rung.name)).toEqual(sdrNames.map((sdrName) => `${sdrName}-${range.toLowerCase()}`));
    expect(plan.video.slice(0, hdr.length)).toEqual(hdr); // HDR first
    hdr.forEach((rung, index) => {
      expect(rung).toMatchObject({ codec: 'H_265', profile: 'MAIN10', dynamicRange: range });
      expect([rung.width, rung.height, rung.frameRate, rung.gopFrames]).toEqual([sdr[index]!.width, sdr[index]!.height, sdr[index]!.frameRate, sdr[index]!.gopFrames]);
    });
    expect(sdr.every((rung) => rung.profile !== 'MAIN10')).toBe(true);
  });

  it('keeps an SDR source to one SDR ladder', () => {
    const plan = planLadder(SAMPLE_SOURCES.uhd4k60);

    expect(plan.dynamicRange).toBeUndefined();
    expect(plan.video.every((rung) => rung.dynamicRange === undefined && rung.profile !== 'MAIN10')).toBe(true);
  });
});

describe('the MediaConvert job of an HDR source (ADR 0015)', () => {
  const outputsOf = (plan: LadderPlan, perTitle = false) => {
    const request = buildCreateJobRequest(plan, { ...ctx, perTitle });
    const [cmaf, thumbs] = request.Settings!.OutputGroups!;
    return { video: cmaf!.Outputs!.filter((output) => output.VideoDescription), thumbs: thumbs!.Outputs! };
  };

  it.each(['hdr10Uhd2160p', 'hlg1080p50', 'iphoneHdrPortrait'] as const)(
    'keeps %s\'s colour on the Main10 rungs and tone-maps every SDR output, posters included',
    (name) => {
      const plan = planLadder(SAMPLE_SOURCES[name]);
      const { video, thumbs } = outputsOf(plan);

      for (const output of video) {
        const description = output.VideoDescription!;
        expect(description.ColorMetadata).toBe('INSERT');
        if (output.NameModifier!.endsWith('-pq') || output.NameModifier!.endsWith('-hlg')) {
          expect(description.CodecSettings).toMatchObject({ Codec: 'H_265', H265Settings: { CodecProfile: 'MAIN10_MAIN' } });
          expect(description.VideoPreprocessors?.ColorCorrector).toBeUndefined();
        } else {
          expect(description.VideoPreprocessors?.ColorCorrector).toEqual({ ColorSpaceConversion: 'FORCE_709', HdrToSdrToneMapper: 'PRESERVE_DETAILS' });
        }
      }
      for (const capture of thumbs) {
        expect(capture.VideoDescription!.VideoPreprocessors?.ColorCorrector?.ColorSpaceConversion).toBe('FORCE_709');
      }
    },
  );

  it('tone-maps the per-title base output (Automated ABR makes SDR H.264 renditions only)', () => {
    const { video } = outputsOf(planLadder(SAMPLE_SOURCES.hdr10Uhd2160p), true);

    expect(video).toHaveLength(1);
    expect(video[0]!.VideoDescription!.VideoPreprocessors?.ColorCorrector?.ColorSpaceConversion).toBe('FORCE_709');
  });

  it('leaves SDR sources without colour conversion', () => {
    const { video, thumbs } = outputsOf(planLadder(SAMPLE_SOURCES.uhd4k60));

    expect([...video, ...thumbs].every((output) => output.VideoDescription!.VideoPreprocessors?.ColorCorrector === undefined)).toBe(true);
  });

  it.each(['hdr10Uhd2160p', 'hlg1080p50', 'iphoneHdrPortrait'] as const)('round-trips %s\'s plan through the job settings for the twin', (name) => {
    const plan = planLadder(SAMPLE_SOURCES[name], COMPACT_LADDER);
    const request = buildCreateJobRequest(plan, ctx);

    const recovered = planFromJobSettings(request.Settings!);

    expect(recovered.dynamicRange).toBe(plan.dynamicRange);
    expect(recovered.video).toEqual(plan.video);
  });
});

describe('VIDEO-RANGE on every variant (ADR 0016)', () => {
  it.each([
    ['main_1080p-pq.m3u8', 'PQ'],
    ['main_2160p-hlg.m3u8', 'HLG'],
    ['1080p-pq', 'PQ'],
    ['main_1080p.m3u8', 'SDR'],
    ['main_hdr-pq-notes.m3u8', 'SDR'],
    ['media_3.m3u8', 'SDR'],
  ])('reads %s as %s', (name, range) => {
    expect(dynamicRangeOfOutputName(name)).toBe(range);
  });

  const originPlaylist = (videoRange?: string) =>
    [
      '#EXTM3U',
      '#EXT-X-VERSION:6',
      '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="aac",DEFAULT=YES,AUTOSELECT=YES,URI="main_aac-stereo-128k.m3u8"',
      `#EXT-X-STREAM-INF:BANDWIDTH=7000000,RESOLUTION=1920x1080,CODECS="hvc1.2.4.L123.B0,mp4a.40.2",AUDIO="audio"${videoRange ? `,VIDEO-RANGE=${videoRange}` : ''}`,
      'main_1080p-pq.m3u8',
      '#EXT-X-STREAM-INF:BANDWIDTH=6000000,RESOLUTION=1920x1080,CODECS="avc1.640028,mp4a.40.2",AUDIO="audio"',
      'main_1080p.m3u8',
      '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=900000,RESOLUTION=1920x1080,CODECS="hvc1.2.4.L123.B0",URI="main_1080p-pq_iframe.m3u8"',
      '',
    ].join('\n');
  const input = {
    pathways: [{ id: 'cf-a', host: 'd1111.cloudfront.net' }],
    token: 'eyJ2IjoxfQ.c2ln',
    assetId: 'feature',
    revision: 'r1',
    steeringServerUri: 'https://gw.example.net/eyJ2IjoxfQ.c2ln/steer/feature',
  };

  it('labels every video variant and I-frame stream of the gateway\'s playlist by its rung name when the origin did not', () => {
    const text = buildMultivariantPlaylist(parseOriginMultivariant(originPlaylist()), input);
    const streamInfs = text.split('\n').filter((line) => /^#EXT-X-(I-FRAME-)?STREAM-INF:/.test(line));

    expect(streamInfs.map((line) => /VIDEO-RANGE=([A-Z]+)/.exec(line)?.[1])).toEqual(['PQ', 'SDR', 'PQ']);
  });

  it('keeps the origin\'s own VIDEO-RANGE and never writes a second one', () => {
    const text = buildMultivariantPlaylist(parseOriginMultivariant(originPlaylist('HLG')), input);
    const first = text.split('\n').find((line) => line.includes('1080p-pq.m3u8') || line.startsWith('#EXT-X-STREAM-INF'))!;

    expect(first.match(/VIDEO-RANGE=/g)).toHaveLength(1);
    expect(first).toContain('VIDEO-RANGE=HLG');
  });
});

describe('the twin\'s ffmpeg HDR and SDR rungs (ADR 0015)', () => {
  const plan = planLadder({ ...SAMPLE_SOURCES.hlg1080p50, hasAudio: false }, COMPACT_LADDER);
  const hdrIndex = plan.video.findIndex((rung) => rung.dynamicRange === 'HLG');
  const sdrIndex = plan.video.findIndex((rung) => rung.dynamicRange === undefined);

  it('encodes HDR rungs as 10-bit x265 Main10 tagged BT.2020/HLG and SDR rungs tone-mapped to 8-bit BT.709', () => {
    const args = ffmpegArgsForPlan(plan, 'in.mov', 'out').join(' ');

    expect(videoFilterFor(plan, plan.video[hdrIndex]!)).toMatch(/format=yuv420p10le$/);
    expect(videoFilterFor(plan, plan.video[hdrIndex]!)).not.toContain('tonemap');
    expect(videoFilterFor(plan, plan.video[sdrIndex]!)).toMatch(/zscale=transfer=linear.*tonemap=tonemap=hable.*zscale=transfer=bt709:matrix=bt709.*format=yuv420p$/);
    expect(args).toContain(`-c:v:${hdrIndex} libx265 -profile:v:${hdrIndex} main10`);
    expect(args).toMatch(new RegExp(`colorprim=bt2020:transfer=arib-std-b67:colormatrix=bt2020nc`));
    expect(args).toContain(`-pix_fmt:v:${hdrIndex} yuv420p10le -color_primaries:v:${hdrIndex} bt2020 -color_trc:v:${hdrIndex} arib-std-b67`);
    expect(args).toContain(`-pix_fmt:v:${sdrIndex} yuv420p -color_primaries:v:${sdrIndex} bt709 -color_trc:v:${sdrIndex} bt709`);
  });

  it('writes VIDEO-RANGE on each variant of ffmpeg\'s playlist by the rung it shows', () => {
    const hls = ['#EXTM3U', ...plan.video.flatMap((rung, id) => [`#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=${rung.width}x${rung.height}`, `media_${id}.m3u8`, ''])].join('\n');

    const ranges = [...withVideoRanges(hls, plan).matchAll(/VIDEO-RANGE=(\w+)/g)].map((match) => match[1]);

    expect(ranges).toEqual(plan.video.map(rangeOf));
  });

  it('keeps HDR and SDR HEVC rungs in separate DASH adaptation sets, the HDR one with its colour properties', () => {
    const representation = (id: number) =>
      `<AdaptationSet id="${id}" contentType="video"><Representation id="${id}" codecs="hvc1" width="1920" height="1080" bandwidth="1"/></AdaptationSet>`;
    const mpd = `<?xml version="1.0"?><MPD><Period id="0">${[0, 1, 2, 3].map(representation).join('')}</Period></MPD>`;

    const merged = mergeVideoAdaptationSets(mpd, (id) => (Number(id) < 2 ? 'PQ' : 'SDR'));

    const sets = merged.split('<AdaptationSet').slice(1);
    expect(sets).toHaveLength(2);
    expect(sets[0]).toContain('schemeIdUri="urn:mpeg:mpegB:cicp:TransferCharacteristics" value="16"');
    expect(sets[0]).toContain('schemeIdUri="urn:mpeg:mpegB:cicp:ColourPrimaries" value="9"');
    expect(sets[1]).not.toContain('cicp');
  });
});
