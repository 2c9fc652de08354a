import { describe, expect, it } from 'vitest';
import { buildMultivariantPlaylist, parseOriginMultivariant, type ManifestRewriteInput } from '../../core/hls-multivariant';
import { buildSteeredMpd, parseOriginMpd } from '../../core/mpd-steering';

// A mixed ladder as the CMAF group writes it for a 4K scope master (ADR 0027): HEVC above 1080p,
// H.264 below, the small rung at half rate.
const ORIGIN_M3U8 = `#EXTM3U
#EXT-X-VERSION:6
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="aac-stereo-128k",DEFAULT=YES,AUTOSELECT=YES,URI="main_aac-stereo-128k.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=16128000,AVERAGE-BANDWIDTH=9000000,RESOLUTION=3840x1608,FRAME-RATE=60.000,CODECS="hvc1.1.6.L153.90,mp4a.40.2",AUDIO="audio"
main_2160p.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=6128000,RESOLUTION=1920x804,FRAME-RATE=60.000,CODECS="avc1.64002a,mp4a.40.2",AUDIO="audio"
main_1080p.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=478000,RESOLUTION=512x214,FRAME-RATE=30.000,CODECS="avc1.640015,mp4a.40.2",AUDIO="audio"
main_288p.m3u8
`;

const ORIGIN_MPD = `<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" minBufferTime="PT12S" profiles="urn:mpeg:dash:profile:cmaf:2019" mediaPresentationDuration="PT1M0.000S">
  <Period start="PT0S" id="1">
    <AdaptationSet mimeType="video/mp4" segmentAlignment="true" startWithSAP="1" maxFrameRate="60/1">
      <Representation id="1" width="3840" height="1608" bandwidth="16000000" codecs="hvc1.1.6.L153.90" frameRate="60/1" sar="1:1">
        <SegmentTemplate timescale="60000" media="main_2160p_$Number%09d$.cmfv" initialization="main_2160p_init.cmfv" duration="360000" startNumber="1"/>
      </Representation>
    </AdaptationSet>
    <AdaptationSet mimeType="video/mp4" segmentAlignment="true" startWithSAP="1" maxFrameRate="60/1">
      <Representation id="2" width="1920" height="804" bandwidth="6000000" codecs="avc1.64002a" frameRate="60/1" sar="1:1">
        <SegmentTemplate timescale="60000" media="main_1080p_$Number%09d$.cmfv" initialization="main_1080p_init.cmfv" duration="360000" startNumber="1"/>
      </Representation>
      <Representation id="3" width="512" height="214" bandwidth="350000" codecs="avc1.640015" frameRate="30/1" sar="1:1">
        <SegmentTemplate timescale="30000" media="main_288p_$Number%09d$.cmfv" initialization="main_288p_init.cmfv" duration="180000" startNumber="1"/>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>
`;

const INPUT: ManifestRewriteInput = {
  pathways: [
    { id: 'cf-a', host: 'd1111.cloudfront.net' },
    { id: 'cf-b', host: 'd2222.cloudfront.net' },
  ],
  token: 'tok.en',
  assetId: 'scope',
  revision: 'r1',
  steeringServerUri: 'https://gw.example/tok.en/steer/scope',
};

describe('the gateway passes the ladder\'s codecs, sizes and rates through', () => {
  it('keeps every variant\'s CODECS, RESOLUTION and FRAME-RATE on every pathway of the HLS multivariant playlist', () => {
    const playlist = buildMultivariantPlaylist(parseOriginMultivariant(ORIGIN_M3U8), INPUT);

    for (const attributes of ['CODECS="hvc1.1.6.L153.90,mp4a.40.2"', 'CODECS="avc1.64002a,mp4a.40.2"', 'RESOLUTION=512x214,FRAME-RATE=30.000']) {
      expect(playlist.split(attributes).length - 1, attributes).toBe(2);
    }
  });

  it('keeps codecs, frame rates and pixel shape of both video adaptation sets in the steered MPD', () => {
    const mpd = buildSteeredMpd(parseOriginMpd(ORIGIN_MPD), INPUT);

    expect(mpd).toContain('codecs="hvc1.1.6.L153.90"');
    expect(mpd).toMatch(/<Representation id="3"[^>]*codecs="avc1\.640015"[^>]*frameRate="30\/1"[^>]*sar="1:1"/);
    expect(mpd.match(/<AdaptationSet /g)).toHaveLength(2);
  });
});
