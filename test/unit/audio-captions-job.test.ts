import { describe, expect, it } from 'vitest';
import type { Output, OutputGroup } from '@aws-sdk/client-mediaconvert';
import { planLadder } from '../../core/ladder';
import { buildCreateJobRequest, type JobContext } from '../../core/mediaconvert-job';
import {
  DOWNMIX_5_1_TO_STEREO_GAIN,
  normaliseLanguage,
  planAudioRenditions,
  planSubtitles,
  subtitleSidecarOf,
} from '../../core/renditions';
import { SAMPLE_SOURCES } from '../contract/sample-sources';

const ctx: JobContext = {
  inputS3Uri: 's3://uploads-bucket/uploads/Film.mov',
  outputS3Prefix: 's3://origin-bucket/media/film/r1/',
  roleArn: 'arn:aws:iam::123456789012:role/MediaConvertRole',
  assetId: 'film',
  revision: 'r1',
  stackName: 'Streaming-Ingest',
  clientRequestToken: 'film-r1',
  perTitle: false,
};
const cmafOutputs = (request: ReturnType<typeof buildCreateJobRequest>): Output[] =>
  request.Settings!.OutputGroups!.find((group: OutputGroup) => group.OutputGroupSettings?.Type === 'CMAF_GROUP_SETTINGS')!.Outputs!;

describe('audio renditions (ADR 0017)', () => {
  it('makes every audio track its own AAC rendition with its language, the first one default', () => {
    // Act
    const audio = planAudioRenditions(SAMPLE_SOURCES.multiLanguage51, { surroundAudio: false });
    // Assess
    expect(audio.map(({ name, language, sourceTrack, channels, isDefault }) => ({ name, language, sourceTrack, channels, isDefault }))).toEqual([
      { name: 'aac-stereo-128k', language: 'en', sourceTrack: 1, channels: 2, isDefault: true },
      { name: 'aac-stereo-128k-de', language: 'de', sourceTrack: 2, channels: 2, isDefault: false },
      { name: 'aac-stereo-128k-fr', language: 'fr', sourceTrack: 3, channels: 2, isDefault: false },
    ]);
  });

  it('adds an E-AC-3 5.1 rendition of each 5.1 track only when surround audio is configured', () => {
    const withSurround = planAudioRenditions(SAMPLE_SOURCES.multiLanguage51, { surroundAudio: true });
    expect(withSurround.filter((rung) => rung.codec === 'EAC3')).toEqual([
      { name: 'eac3-5.1-384k-de', bitrate: 384_000, channels: 6, sampleRate: 48000, codec: 'EAC3', language: 'de', sourceTrack: 2, sourceChannels: 6, isDefault: true },
    ]);
    expect(planAudioRenditions(SAMPLE_SOURCES.hd1080p30Stereo, { surroundAudio: true }).some((rung) => rung.codec === 'EAC3')).toBe(false);
  });

  it('tells apart two tracks in one language by track number', () => {
    const source = { ...SAMPLE_SOURCES.hd1080p30Stereo, audioTracks: [{ track: 1, language: 'en', channels: 2 }, { track: 2, language: 'en', channels: 2 }, { track: 3, language: 'en', channels: 1 }] };
    expect(planAudioRenditions(source, { surroundAudio: false }).map((rung) => rung.name)).toEqual([
      'aac-stereo-128k',
      'aac-stereo-128k-en-t2',
      'aac-mono-64k-en-t3',
    ]);
  });

  it('selects each track by number and writes language, name and default flag on each output', () => {
    // Act
    const request = buildCreateJobRequest(planLadder(SAMPLE_SOURCES.multiLanguage51), ctx);
    // Assess
    expect(request.Settings!.Inputs![0]!.AudioSelectors).toEqual({
      'Audio Selector 1': { DefaultSelection: 'DEFAULT' },
      'Audio Selector 2': { DefaultSelection: 'NOT_DEFAULT', SelectorType: 'TRACK', Tracks: [2] },
      'Audio Selector 3': { DefaultSelection: 'NOT_DEFAULT', SelectorType: 'TRACK', Tracks: [3] },
    });
    const audio = cmafOutputs(request).filter((output) => output.AudioDescriptions);
    expect(audio.map((output) => [output.ContainerSettings!.CmfcSettings!.AudioTrackType, output.AudioDescriptions![0]!.AudioSourceName, output.AudioDescriptions![0]!.CustomLanguageCode, output.AudioDescriptions![0]!.StreamName])).toEqual([
      ['ALTERNATE_AUDIO_AUTO_SELECT_DEFAULT', 'Audio Selector 1', 'en', 'English'],
      ['ALTERNATE_AUDIO_AUTO_SELECT', 'Audio Selector 2', 'de', 'German'],
      ['ALTERNATE_AUDIO_AUTO_SELECT', 'Audio Selector 3', 'fr', 'French'],
    ]);
    expect(audio.every((output) => output.AudioDescriptions![0]!.LanguageCodeControl === 'USE_CONFIGURED')).toBe(true);
  });

  it('downmixes a 5.1 track to stereo with the BS.775 matrix and leaves stereo tracks alone', () => {
    const audio = cmafOutputs(buildCreateJobRequest(planLadder(SAMPLE_SOURCES.multiLanguage51), ctx)).filter((output) => output.AudioDescriptions);
    expect(audio[1]!.AudioDescriptions![0]!.RemixSettings).toEqual({
      ChannelsIn: 6,
      ChannelsOut: 2,
      ChannelMapping: { OutputChannels: [{ InputChannels: [0, -60, -3, -60, -3, -60] }, { InputChannels: [-60, 0, -3, -60, -60, -3] }] },
    });
    expect(audio[0]!.AudioDescriptions![0]!.RemixSettings).toBeUndefined();
    // The twin's ffmpeg pan filter uses the same matrix as linear gains.
    expect(DOWNMIX_5_1_TO_STEREO_GAIN).toEqual([[1, 0, 0.708, 0, 0.708, 0], [0, 1, 0.708, 0, 0, 0.708]]);
  });

  it('puts E-AC-3 in its own audio group and offers every video rung with both groups', () => {
    const outputs = cmafOutputs(buildCreateJobRequest(planLadder(SAMPLE_SOURCES.multiLanguage51, undefined, { surroundAudio: true }), ctx));
    const eac3 = outputs.find((output) => output.AudioDescriptions?.[0]?.CodecSettings?.Codec === 'EAC3')!;
    expect(eac3.ContainerSettings!.CmfcSettings).toEqual({ AudioGroupId: 'audio-ec3', AudioTrackType: 'ALTERNATE_AUDIO_AUTO_SELECT_DEFAULT' });
    expect(eac3.AudioDescriptions![0]!.CodecSettings!.Eac3Settings).toMatchObject({ CodingMode: 'CODING_MODE_3_2', Bitrate: 384_000 });
    expect(eac3.AudioDescriptions![0]!.RemixSettings).toBeUndefined();
    const video = outputs.filter((output) => output.VideoDescription);
    expect(video.every((output) => output.ContainerSettings!.CmfcSettings?.AudioRenditionSets === 'audio,audio-ec3')).toBe(true);
  });

  it('normalises declared languages and calls anything else undetermined', () => {
    // ISO 639-2 (terminology and bibliographic) becomes the shortest BCP 47 tag, as HLS LANGUAGE requires.
    expect(['eng', 'ENG', 'ger', 'deu', 'de', 'pt-br', 'yue', 'und'].map(normaliseLanguage)).toEqual(['en', 'en', 'de', 'de', 'de', 'pt-BR', 'yue', 'und']);
    expect(['', undefined, 'english', 'e1', 'en_US'].map(normaliseLanguage)).toEqual(['und', 'und', 'und', 'und', 'und']);
  });
});

describe('captions and subtitles (ADR 0018)', () => {
  it('reads the language, kind and format of sidecars named <master>.<lang>[.cc].<ext>', () => {
    const master = 'uploads/My Film (Final).mov';
    expect(subtitleSidecarOf(master, 'uploads/My Film (Final).de.vtt')).toEqual({ key: 'uploads/My Film (Final).de.vtt', language: 'de', kind: 'subtitles', format: 'vtt' });
    expect(subtitleSidecarOf(master, 'uploads/My Film (Final).en.cc.SRT')).toMatchObject({ language: 'en', kind: 'captions', format: 'srt' });
    expect(subtitleSidecarOf(master, 'uploads/My Film (Final).eng.scc')).toMatchObject({ language: 'en', kind: 'captions', format: 'scc' });
  });

  it('ignores files of other masters, other formats and names without a language', () => {
    const master = 'uploads/Film.mov';
    expect(subtitleSidecarOf(master, 'uploads/Film 2.en.vtt')).toBeUndefined();
    expect(subtitleSidecarOf(master, 'uploads/Film.vtt')).toBeUndefined();
    expect(subtitleSidecarOf(master, 'uploads/Film.en.ttml')).toBeUndefined();
    expect(subtitleSidecarOf(master, 'uploads/Film.english.vtt')).toBeUndefined();
    expect(subtitleSidecarOf(master, 'uploads/Film.mov')).toBeUndefined();
    expect(subtitleSidecarOf(master, 'uploads/Film.mov.en.vtt')).toBeUndefined();
  });

  it('puts embedded captions first in the first audio track\'s language, then sidecars by key', () => {
    const sidecars = [subtitleSidecarOf('uploads/F.mov', 'uploads/F.fr.vtt')!, subtitleSidecarOf('uploads/F.mov', 'uploads/F.de.srt')!];
    const subtitles = planSubtitles(SAMPLE_SOURCES.captions608, sidecars, (key) => `s3://up/${key}`);
    expect(subtitles).toEqual([
      { name: 'captions-en', language: 'en', kind: 'captions', source: { type: 'embedded', channel: 1 } },
      { name: 'subtitles-de', language: 'de', kind: 'subtitles', source: { type: 'sidecar', uri: 's3://up/uploads/F.de.srt', format: 'srt' } },
      { name: 'subtitles-fr', language: 'fr', kind: 'subtitles', source: { type: 'sidecar', uri: 's3://up/uploads/F.fr.vtt', format: 'vtt' } },
    ]);
  });

  it('writes one caption selector per text rendition and WebVTT outputs, with accessibility for captions', () => {
    const sidecars = [subtitleSidecarOf('uploads/Film.mov', 'uploads/Film.de.vtt')!];
    const plan = { ...planLadder(SAMPLE_SOURCES.captions608), subtitles: planSubtitles(SAMPLE_SOURCES.captions608, sidecars, (key) => `s3://uploads-bucket/${key}`) };
    const request = buildCreateJobRequest(plan, ctx);
    expect(request.Settings!.Inputs![0]!.CaptionSelectors).toEqual({
      // The selector's language takes three letters only; the output carries `en`.
      'Captions Selector 1': {
        SourceSettings: { SourceType: 'EMBEDDED', EmbeddedSourceSettings: { Source608ChannelNumber: 1, Convert608To708: 'DISABLED', TerminateCaptions: 'END_OF_INPUT' } },
      },
      'Captions Selector 2': { SourceSettings: { SourceType: 'WEBVTT', FileSourceSettings: { SourceFile: 's3://uploads-bucket/uploads/Film.de.vtt' } } },
    });
    const captions = cmafOutputs(request).filter((output) => output.CaptionDescriptions);
    expect(captions.map((output) => [output.NameModifier, output.CaptionDescriptions![0]!.CustomLanguageCode, output.CaptionDescriptions![0]!.DestinationSettings!.WebvttDestinationSettings!.Accessibility])).toEqual([
      ['_captions-en', 'en', 'ENABLED'],
      ['_subtitles-de', 'de', 'DISABLED'],
    ]);
    expect(captions.every((output) => output.CaptionDescriptions![0]!.DestinationSettings!.DestinationType === 'WEBVTT')).toBe(true);
  });

  it('writes no caption selector or output without text renditions', () => {
    const request = buildCreateJobRequest(planLadder(SAMPLE_SOURCES.hd1080p30Stereo), ctx);
    expect(request.Settings!.Inputs![0]!.CaptionSelectors).toBeUndefined();
    expect(cmafOutputs(request).some((output) => output.CaptionDescriptions)).toBe(false);
  });
});
