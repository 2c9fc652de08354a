/**
 * What MediaConvert's CMAF output group writes as `main.m3u8` for a 6-rung ladder: one audio group and,
 * optionally, I-frame playlists. Shared by the steering unit tests and `bench/steering.bench.ts`, so the
 * benchmark measures the input the tests check.
 */
export const ORIGIN_RUNGS = [
  [1920, 1080, 6_500_000],
  [1280, 720, 3_600_000],
  [960, 540, 2_200_000],
  [768, 432, 1_300_000],
  [640, 360, 800_000],
  [512, 288, 420_000],
] as const;

export function originMultivariant(opts: { iFrames: boolean } = { iFrames: true }): string {
  return [
    '#EXTM3U',
    '#EXT-X-VERSION:6',
    '#EXT-X-INDEPENDENT-SEGMENTS',
    ...ORIGIN_RUNGS.flatMap(([w, h, bw]) => [
      `#EXT-X-STREAM-INF:BANDWIDTH=${bw},AVERAGE-BANDWIDTH=${Math.round(bw * 0.8)},CODECS="avc1.640028,mp4a.40.2",RESOLUTION=${w}x${h},FRAME-RATE=30.000,AUDIO="program_audio"`,
      `main_${h}p.m3u8`,
    ]),
    '#EXT-X-MEDIA:TYPE=AUDIO,URI="main_audio_aac.m3u8",GROUP-ID="program_audio",LANGUAGE="eng",NAME="English",AUTOSELECT=YES,DEFAULT=YES,CHANNELS="2"',
    ...(opts.iFrames
      ? ORIGIN_RUNGS.map(([w, h, bw]) => `#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=${Math.round(bw / 10)},CODECS="avc1.640028",RESOLUTION=${w}x${h},URI="main_${h}p_iframe.m3u8"`)
      : []),
    '',
  ].join('\n');
}
