import type { ProbeResult } from '@aws-sdk/client-mediaconvert';

/**
 * MediaConvert Probe's answer, as the SDK returns it, for a 1080p29.97 ProRes QuickTime master with
 * stereo PCM audio and a CEA-608 data track: the upload most tests start from.
 */
export const proresMaster: ProbeResult = {
  Container: {
    Format: 'quicktime',
    Duration: 596.4627,
    Tracks: [
      {
        Index: 1,
        TrackType: 'video',
        Codec: 'PRORES',
        Duration: 596.4627,
        VideoProperties: { Width: 1920, Height: 1080, BitDepth: 10, BitRate: 147_000_000, FrameRate: { Numerator: 30000, Denominator: 1001 } },
      },
      {
        Index: 2,
        TrackType: 'audio',
        Codec: 'PCM',
        Duration: 596.46,
        AudioProperties: { Channels: 2, SampleRate: 48000, BitDepth: 24, BitRate: 2_304_000, LanguageCode: 'eng' },
      },
      { Index: 3, TrackType: 'data', Codec: 'C608', Duration: 596.46, DataProperties: {} },
    ],
  },
  Metadata: { ETag: '6f5902ac237024bdd0c176cb93063dc4-88', FileSize: 734003200, MimeType: 'video/quicktime' },
  TrackMappings: [{ VideoTrackIndexes: [1], AudioTrackIndexes: [2], DataTrackIndexes: [3] }],
};
