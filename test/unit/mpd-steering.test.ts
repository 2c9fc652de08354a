import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { DEVICE_CAPS } from '../../core/device-class';
import type { ManifestRewriteInput } from '../../core/hls-multivariant';
import { buildSteeredMpd, InvalidOriginMpdError, parseOriginMpd } from '../../core/mpd-steering';

/** The shape MediaConvert's CMAF output group writes as main.mpd (one Period, video + audio AdaptationSets). */
const RUNGS = [
  [1920, 1080, 6_000_000],
  [1280, 720, 3_500_000],
  [960, 540, 2_000_000],
  [640, 360, 800_000],
] as const;
const ORIGIN_MPD = `<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:cenc="urn:mpeg:cenc:2013" xsi:schemaLocation="urn:mpeg:dash:schema:mpd:2011 http://standards.iso.org/ittf/PubliclyAvailableStandards/MPEG-DASH_schema_files/DASH-MPD.xsd" type="static" minBufferTime="PT12S" profiles="urn:mpeg:dash:profile:cmaf:2019" mediaPresentationDuration="PT1M0.000S">
  <!-- Created with AWS Elemental MediaConvert -->
  <ProgramInformation><Title>Big &amp; Buck</Title></ProgramInformation>
  <Period start="PT0S" duration="PT1M0.000S" id="1">
    <AdaptationSet mimeType="video/mp4" frameRate="30/1" segmentAlignment="true" subsegmentAlignment="true" startWithSAP="1" subsegmentStartsWithSAP="1" bitstreamSwitching="false">
${RUNGS.map(
  ([w, h, bw], i) => `      <Representation id="${i + 1}" width="${w}" height="${h}" bandwidth="${bw}" codecs="avc1.640028">
        <SegmentTemplate timescale="30000" media="main_${h}p_$Number%09d$.cmfv" initialization="main_${h}p_init.cmfv" duration="180000" startNumber="1"/>
      </Representation>`,
).join('\n')}
    </AdaptationSet>
    <AdaptationSet mimeType="audio/mp4" lang="eng" segmentAlignment="0">
      <Label>English</Label>
      <Representation id="9" bandwidth="96000" audioSamplingRate="48000" codecs="mp4a.40.2">
        <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="2"/>
        <SegmentTemplate timescale="48000" media="main_audio_$Number%09d$.cmfa" initialization="main_audio_init.cmfa" duration="288000" startNumber="1"/>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>
`;

const PATHWAYS = [
  { id: 'cf-c', host: 'd3333.cloudfront.net' },
  { id: 'cf-a', host: 'd1111.cloudfront.net' },
  { id: 'cf-b', host: 'd2222.cloudfront.net' },
];
const TOKEN = 'eyJ2IjoxfQ.c2ln';
const INPUT: ManifestRewriteInput = {
  pathways: PATHWAYS,
  token: TOKEN,
  assetId: 'big-buck',
  revision: 'r2',
  steeringServerUri: `https://gw.example.net/${TOKEN}/steer/big-buck?x=1&y=2`,
};

const reparse = (xml: string) =>
  new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => ['BaseURL', 'Representation', 'AdaptationSet', 'Period'].includes(name) }).parse(xml);

describe('buildSteeredMpd', () => {
  const origin = parseOriginMpd(ORIGIN_MPD);

  it('produces well-formed XML', () => {
    expect(XMLValidator.validate(buildSteeredMpd(origin, INPUT))).toBe(true);
  });

  it('adds one MPD-level BaseURL per pathway with the token path, in priority order', () => {
    const mpd = reparse(buildSteeredMpd(origin, INPUT)).MPD;
    expect(mpd.BaseURL).toEqual(
      PATHWAYS.map((p) => ({ '#text': `https://${p.host}/${TOKEN}/media/big-buck/r2/`, '@serviceLocation': p.id })),
    );
  });

  it('adds ContentSteering with the first pathway as default and the absolute steering URL', () => {
    const mpd = reparse(buildSteeredMpd(origin, INPUT)).MPD;
    expect(mpd.ContentSteering).toEqual({
      '#text': INPUT.steeringServerUri,
      '@defaultServiceLocation': 'cf-c',
      '@queryBeforeStart': 'true',
    });
  });

  it('places BaseURL after ProgramInformation and ContentSteering last, as the MPD schema orders them', () => {
    const xml = buildSteeredMpd(origin, INPUT);
    const order = [...xml.matchAll(/<(ProgramInformation|BaseURL|Period|ContentSteering)[\s>]/g)].map((m) => m[1]);
    expect(order).toEqual(['ProgramInformation', 'BaseURL', 'BaseURL', 'BaseURL', 'Period', 'ContentSteering']);
  });

  it('keeps the rest of the MPD intact: attributes, escaped text, segment templates', () => {
    const xml = buildSteeredMpd(origin, INPUT);
    const mpd = reparse(xml).MPD;
    expect(mpd['@profiles']).toBe('urn:mpeg:dash:profile:cmaf:2019');
    expect(xml).toContain('<Title>Big &amp; Buck</Title>');
    expect(xml).toContain(`big-buck?x=1&amp;y=2</ContentSteering>`);
    const video = mpd.Period[0].AdaptationSet[0];
    expect(video.Representation).toHaveLength(RUNGS.length);
    expect(video.Representation[0].SegmentTemplate['@media']).toBe('main_1080p_$Number%09d$.cmfv');
    expect(mpd.Period[0].AdaptationSet[1].Label).toBe('English');
  });

  it('removes Representations above a mobile cap and leaves audio alone', () => {
    const mpd = reparse(buildSteeredMpd(origin, { ...INPUT, cap: DEVICE_CAPS.mobile })).MPD;
    const heights = mpd.Period[0].AdaptationSet[0].Representation.map((r: Record<string, string>) => r['@height']);
    expect(heights).toEqual(['720', '540', '360']);
    expect(mpd.Period[0].AdaptationSet[1].Representation).toHaveLength(1);
  });

  it('keeps the smallest Representation when none fits the cap', () => {
    const mpd = reparse(buildSteeredMpd(origin, { ...INPUT, cap: { maxShortSide: 100, maxBandwidth: Infinity } })).MPD;
    expect(mpd.Period[0].AdaptationSet[0].Representation.map((r: Record<string, string>) => r['@height'])).toEqual(['360']);
  });

  it('replaces an origin ContentSteering and folds a relative origin BaseURL into each pathway URL', () => {
    const withExtras = ORIGIN_MPD.replace(
      '<Period ',
      '<BaseURL>dash/</BaseURL><ContentSteering defaultServiceLocation="old">https://old.example/steer</ContentSteering><Period ',
    );
    const mpd = reparse(buildSteeredMpd(parseOriginMpd(withExtras), INPUT)).MPD;
    expect(mpd.BaseURL.map((b: Record<string, string>) => b['#text'])).toEqual(
      PATHWAYS.map((p) => `https://${p.host}/${TOKEN}/media/big-buck/r2/dash/`),
    );
    expect(mpd.ContentSteering['@defaultServiceLocation']).toBe('cf-c');
  });

  it('gives the same bytes for the same input (templates are reused, not mutated)', () => {
    const a = buildSteeredMpd(origin, { ...INPUT, cap: DEVICE_CAPS.mobile });
    buildSteeredMpd(origin, INPUT);
    expect(buildSteeredMpd(origin, { ...INPUT, cap: DEVICE_CAPS.mobile })).toBe(a);
  });

  it('rejects text that is not an MPD', () => {
    expect(() => parseOriginMpd('<html><body/></html>')).toThrow(InvalidOriginMpdError);
    expect(() => parseOriginMpd('<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"></MPD>')).toThrow(/no Period/);
  });
});

describe('buildSteeredMpd with audio languages and text tracks (ADRs 0017, 0018)', () => {
  // Two audio languages and a WebVTT captions set, as MediaConvert's CMAF group writes them.
  const MULTI = ORIGIN_MPD.replace(
    '  </Period>',
    `    <AdaptationSet mimeType="audio/mp4" lang="deu" segmentAlignment="0">
      <Label>German</Label>
      <Representation id="10" bandwidth="128000" audioSamplingRate="48000" codecs="mp4a.40.2">
        <SegmentTemplate timescale="48000" media="main_aac-stereo-128k-deu_$Number%09d$.cmfa" initialization="main_aac-stereo-128k-deu_init.cmfa" duration="288000" startNumber="1"/>
      </Representation>
    </AdaptationSet>
    <AdaptationSet mimeType="text/vtt" lang="eng" contentType="text">
      <Role schemeIdUri="urn:mpeg:dash:role:2011" value="caption"/>
      <Accessibility schemeIdUri="urn:tva:metadata:cs:AudioPurposeCS:2007" value="2"/>
      <Representation id="11" bandwidth="256">
        <BaseURL>main_captions-eng.vtt</BaseURL>
      </Representation>
    </AdaptationSet>
  </Period>`,
  );

  it('keeps every audio and text adaptation set with its lang and role, under a cap too, resolved against each pathway', () => {
    // Act
    const mpd = reparse(buildSteeredMpd(parseOriginMpd(MULTI), { ...INPUT, cap: DEVICE_CAPS.mobile })).MPD;
    // Assess
    const sets = mpd.Period[0].AdaptationSet as Record<string, unknown>[];
    expect(sets.map((set) => [set['@mimeType'], set['@lang']])).toEqual([
      ['video/mp4', undefined],
      ['audio/mp4', 'eng'],
      ['audio/mp4', 'deu'],
      ['text/vtt', 'eng'],
    ]);
    expect((sets[3]!.Role as Record<string, string>)['@value']).toBe('caption');
    expect((sets[3]!.Representation as Record<string, unknown>[])[0]!.BaseURL).toEqual(['main_captions-eng.vtt']);
    // Relative segment and text URLs resolve against the MPD-level BaseURL of each pathway.
    expect(mpd.BaseURL.map((base: Record<string, string>) => base['@serviceLocation'])).toEqual(PATHWAYS.map((pathway) => pathway.id));
  });
});
