import { describe, expect, it } from 'vitest';
import type { LadderPlan } from '../../core/media-types';
import {
  DOWNMIX_PAN_FILTER,
  ffmpegArgsForPlan,
  ffmpegTextTrackArgs,
  webVttMediaPlaylist,
  withAudioAndTextRenditions,
  withDashTextTracks,
} from '../../local/mediaconvert/ffmpeg-ladder';
import { TINY_PLAN } from '../integration/twin-media-fixtures';

const plan: LadderPlan = {
  ...TINY_PLAN,
  audio: [
    { name: 'aac-stereo-64k', bitrate: 64_000, channels: 2, sampleRate: 48000, codec: 'AAC', language: 'en', sourceTrack: 1, isDefault: true },
    { name: 'aac-stereo-64k-de', bitrate: 64_000, channels: 2, sampleRate: 48000, codec: 'AAC', language: 'de', sourceTrack: 2, sourceChannels: 6, isDefault: false },
    { name: 'eac3-5.1-384k-de', bitrate: 384_000, channels: 6, sampleRate: 48000, codec: 'EAC3', language: 'de', sourceTrack: 2, sourceChannels: 6, isDefault: true },
  ],
};
const valueAfter = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

describe('the twin encodes audio renditions like the job (ADR 0017)', () => {
  it('maps each rendition from its own track with its language, codec and downmix', () => {
    // Act
    const args = ffmpegArgsForPlan(plan, 'in.mp4', '/out');
    // Assess
    const maps = args.flatMap((arg, index) => (arg === '-map' ? [args[index + 1]] : []));
    expect(maps).toEqual(['0:v:0', '0:v:0', '0:a:0', '0:a:1', '0:a:1']);
    expect(valueAfter(args, '-metadata:s:a:1')).toBe('language=de');
    expect(valueAfter(args, '-filter:a:1')).toBe(DOWNMIX_PAN_FILTER);
    expect(args).not.toContain('-filter:a:0');
    expect(valueAfter(args, '-c:a:2')).toBe('eac3');
    expect(valueAfter(args, '-adaptation_sets')).toBe('id=0,streams=0 id=1,streams=1 id=2,streams=2 id=3,streams=3 id=4,streams=4');
  });

  it('downmixes with the BS.775 matrix as linear gains', () => {
    expect(DOWNMIX_PAN_FILTER).toBe('pan=stereo|c0=1*c0+0.708*c2+0.708*c4|c1=1*c1+0.708*c2+0.708*c5');
  });

  it('rewrites ffmpeg\'s audio group into MediaConvert\'s groups with languages, and adds subtitles to every variant', () => {
    // Prepare: what ffmpeg 5.1's dash muxer writes for two video and three audio streams.
    const ffmpegHls = [
      '#EXTM3U',
      '#EXT-X-VERSION:7',
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="group_A1",NAME="audio_2",DEFAULT=YES,URI="media_2.m3u8"',
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="group_A1",NAME="audio_3",DEFAULT=NO,URI="media_3.m3u8"',
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="group_A1",NAME="audio_4",DEFAULT=NO,URI="media_4.m3u8"',
      '#EXT-X-STREAM-INF:BANDWIDTH=500000,RESOLUTION=320x180,CODECS="avc1.64000d,mp4a.40.2,ec-3",AUDIO="group_A1"',
      'media_0.m3u8',
      '',
    ].join('\n');
    // Act
    const hls = withAudioAndTextRenditions(ffmpegHls, plan, [{ name: 'captions-en', language: 'en', kind: 'captions' }], 'main');
    // Assess
    expect(hls).toContain('#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",LANGUAGE="en",NAME="English",AUTOSELECT=YES,DEFAULT=YES,CHANNELS="2",URI="media_2.m3u8"');
    expect(hls).toContain('#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",LANGUAGE="de",NAME="German",AUTOSELECT=YES,DEFAULT=NO,CHANNELS="2",URI="media_3.m3u8"');
    expect(hls).toContain('#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio-ec3",LANGUAGE="de",NAME="German surround",AUTOSELECT=YES,DEFAULT=YES,CHANNELS="6",URI="media_4.m3u8"');
    expect(hls).toContain('CHARACTERISTICS="public.accessibility.transcribes-spoken-dialog,public.accessibility.describes-music-and-sound",URI="main_captions-en.m3u8"');
    expect(hls.match(/^#EXT-X-STREAM-INF:.*$/gm)).toEqual([
      '#EXT-X-STREAM-INF:BANDWIDTH=500000,RESOLUTION=320x180,CODECS="avc1.64000d,mp4a.40.2",AUDIO="audio",SUBTITLES="subs"',
      '#EXT-X-STREAM-INF:BANDWIDTH=500000,RESOLUTION=320x180,CODECS="avc1.64000d,ec-3",AUDIO="audio-ec3",SUBTITLES="subs"',
    ]);
    expect(hls).not.toContain('group_A1');
  });

  it('writes a one-segment WebVTT playlist and a DASH text set per track', () => {
    expect(webVttMediaPlaylist('main_subtitles-de.vtt', 12.5)).toContain('#EXTINF:12.500,\nmain_subtitles-de.vtt\n#EXT-X-ENDLIST');
    const mpd = withDashTextTracks('<MPD><Period></Period></MPD>', [{ name: 'subtitles-de', language: 'de', kind: 'subtitles' }], 'main', 7);
    expect(mpd).toContain('<AdaptationSet id="7" contentType="text" mimeType="text/vtt" lang="de"><Role schemeIdUri="urn:mpeg:dash:role:2011" value="subtitle"/>');
    expect(mpd).toContain('<BaseURL>main_subtitles-de.vtt</BaseURL>');
  });

  it('reads a sidecar, a c608 track, or the captions inside the video', () => {
    expect(ffmpegTextTrackArgs({ type: 'sidecar', path: '/w/s.srt' }, '/o/x.vtt').slice(-4)).toEqual(['/w/s.srt', '-f', 'webvtt', '/o/x.vtt']);
    expect(ffmpegTextTrackArgs({ type: 'embedded', path: '/w/in.mov', embeddedStream: 0 }, '/o/x.vtt')).toContain('0:s:0');
    expect(ffmpegTextTrackArgs({ type: 'embedded', path: "/w/it's:here.mp4" }, '/o/x.vtt')).toContain("movie='/w/it\\'s\\:here.mp4'[out0+subcc]");
  });
});
