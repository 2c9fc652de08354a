import HLS from 'hls-parser';
import { describe, expect, it } from 'vitest';
import { DEVICE_CAPS } from '../../core/device-class';
import {
  buildMultivariantPlaylist,
  InvalidOriginPlaylistError,
  InvalidRewriteInputError,
  parseOriginMultivariant,
  type ManifestRewriteInput,
} from '../../core/hls-multivariant';
import { ORIGIN_RUNGS, originMultivariant } from '../support/origin-manifests';

const RUNGS = ORIGIN_RUNGS;
const ORIGIN_M3U8 = originMultivariant();

const PATHWAYS = [
  { id: 'cf-b', host: 'd2222.cloudfront.net' },
  { id: 'cf-a', host: 'd1111.cloudfront.net' },
  { id: 'cf-c', host: 'd3333.cloudfront.net' },
];
const TOKEN = 'eyJ2IjoxLCJraWQiOiJrMSJ9.c2lnbmF0dXJl';
const INPUT: ManifestRewriteInput = {
  pathways: PATHWAYS,
  token: TOKEN,
  assetId: 'big-buck',
  revision: 'r2',
  steeringServerUri: `https://gw.example.net/${TOKEN}/steer/big-buck`,
};

/** The structural rules hls.js applies to a steered multivariant playlist, checked independently of the code under test. */
function readLikeHlsJs(text: string) {
  const attrs = (list: string): Record<string, string> =>
    Object.fromEntries([...list.matchAll(/([A-Z0-9-]+)=("[^"]*"|[^,]*)/g)].map((m) => [m[1], m[2].replace(/^"|"$/g, '')]));
  const lines = text.split('\n');
  const variants: { attrs: Record<string, string>; uri: string }[] = [];
  const iframes: Record<string, string>[] = [];
  const media: Record<string, string>[] = [];
  let steering: Record<string, string> | undefined;
  lines.forEach((line, i) => {
    if (line.startsWith('#EXT-X-STREAM-INF:')) variants.push({ attrs: attrs(line.slice(18)), uri: lines[i + 1] });
    else if (line.startsWith('#EXT-X-I-FRAME-STREAM-INF:')) iframes.push(attrs(line.slice(26)));
    else if (line.startsWith('#EXT-X-MEDIA:')) media.push(attrs(line.slice(13)));
    else if (line.startsWith('#EXT-X-CONTENT-STEERING:')) steering = attrs(line.slice(24));
  });
  return { variants, iframes, media, steering };
}

describe('buildMultivariantPlaylist', () => {
  const origin = parseOriginMultivariant(ORIGIN_M3U8);

  it('lists every variant once per pathway, in pathway priority order', () => {
    // Act
    const { variants } = readLikeHlsJs(buildMultivariantPlaylist(origin, INPUT));
    // Assess
    expect(variants).toHaveLength(RUNGS.length * PATHWAYS.length);
    for (const p of PATHWAYS) {
      const mine = variants.filter((v) => v.attrs['PATHWAY-ID'] === p.id);
      expect(mine.map((v) => v.attrs.RESOLUTION)).toEqual(RUNGS.map(([w, h]) => `${w}x${h}`));
    }
    expect(variants[0].attrs['PATHWAY-ID']).toBe('cf-b');
  });

  it('writes absolute per-CDN URIs that carry the token and the revision path', () => {
    const { variants, iframes, media } = readLikeHlsJs(buildMultivariantPlaylist(origin, INPUT));
    for (const v of variants) {
      const host = PATHWAYS.find((p) => p.id === v.attrs['PATHWAY-ID'])?.host;
      expect(v.uri).toMatch(new RegExp(`^https://${host}/${TOKEN.replace('.', '\\.')}/media/big-buck/r2/main_\\d+p\\.m3u8$`));
    }
    for (const i of iframes) expect(i.URI).toMatch(/^https:\/\/d\d{4}\.cloudfront\.net\/.+\/media\/big-buck\/r2\/main_\d+p_iframe\.m3u8$/);
    for (const m of media) expect(m.URI.startsWith('https://')).toBe(true);
  });

  it('gives each pathway its own audio GROUP-ID and points its variants at it', () => {
    const { variants, media } = readLikeHlsJs(buildMultivariantPlaylist(origin, INPUT));
    const groupIds = media.map((m) => m['GROUP-ID']);
    expect(new Set(groupIds).size).toBe(PATHWAYS.length);
    for (const p of PATHWAYS) {
      const group = media.find((m) => m['GROUP-ID'] === `program_audio-${p.id}`);
      expect(group?.URI).toBe(`https://${p.host}/${TOKEN}/media/big-buck/r2/main_audio_aac.m3u8`);
      for (const v of variants.filter((x) => x.attrs['PATHWAY-ID'] === p.id)) expect(v.attrs.AUDIO).toBe(`program_audio-${p.id}`);
    }
  });

  it('announces the steering server with the session\'s first pathway', () => {
    const { steering } = readLikeHlsJs(buildMultivariantPlaylist(origin, INPUT));
    expect(steering).toEqual({ 'SERVER-URI': INPUT.steeringServerUri, 'PATHWAY-ID': 'cf-b' });
  });

  it('keeps the same STABLE-VARIANT-ID for a rung on every pathway', () => {
    const { variants } = readLikeHlsJs(buildMultivariantPlaylist(origin, INPUT));
    const ids = (p: string) => variants.filter((v) => v.attrs['PATHWAY-ID'] === p).map((v) => v.attrs['STABLE-VARIANT-ID']);
    expect(new Set(ids('cf-a')).size).toBe(RUNGS.length);
    expect(ids('cf-a')).toEqual(ids('cf-b'));
  });

  it('is read by hls-parser as a multivariant playlist with every variant and its audio', () => {
    const parsed = HLS.parse(buildMultivariantPlaylist(origin, INPUT)) as HLS.types.MasterPlaylist;
    expect(parsed.isMasterPlaylist).toBe(true);
    const normal = parsed.variants.filter((v) => !v.isIFrameOnly);
    expect(normal).toHaveLength(18);
    for (const v of normal) expect(v.audio).toHaveLength(1);
  });

  it('leaves out rungs above a mobile cap but keeps the rest and their audio', () => {
    const { variants, iframes, media } = readLikeHlsJs(buildMultivariantPlaylist(origin, { ...INPUT, cap: DEVICE_CAPS.mobile }));
    expect(variants).toHaveLength(5 * PATHWAYS.length);
    expect(variants.some((v) => v.attrs.RESOLUTION === '1920x1080')).toBe(false);
    expect(iframes.some((v) => v.RESOLUTION === '1920x1080')).toBe(false);
    expect(media).toHaveLength(PATHWAYS.length);
  });

  it('caps portrait ladders by their short side', () => {
    const portrait = ORIGIN_M3U8.replace(/RESOLUTION=(\d+)x(\d+)/g, 'RESOLUTION=$2x$1');
    const { variants } = readLikeHlsJs(buildMultivariantPlaylist(parseOriginMultivariant(portrait), { ...INPUT, cap: DEVICE_CAPS.mobile }));
    expect(variants.map((v) => v.attrs.RESOLUTION)).toContain('720x1280');
    expect(variants.map((v) => v.attrs.RESOLUTION)).not.toContain('1080x1920');
  });

  it('keeps the smallest rung when every rung is above the cap', () => {
    const { variants } = readLikeHlsJs(buildMultivariantPlaylist(origin, { ...INPUT, cap: { maxShortSide: 100, maxBandwidth: Infinity } }));
    expect(variants.map((v) => v.attrs.RESOLUTION)).toEqual(['512x288', '512x288', '512x288']);
  });

  it('drops rungs above a bitrate cap', () => {
    const { variants } = readLikeHlsJs(buildMultivariantPlaylist(origin, { ...INPUT, pathways: PATHWAYS.slice(0, 1), cap: { maxShortSide: Infinity, maxBandwidth: 2_500_000 } }));
    expect(variants.map((v) => Number(v.attrs.BANDWIDTH))).toEqual([2_200_000, 1_300_000, 800_000, 420_000]);
  });

  it('replaces an origin steering tag and origin PATHWAY-IDs instead of duplicating them', () => {
    const withSteering = ORIGIN_M3U8.replace('#EXT-X-INDEPENDENT-SEGMENTS', '#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-CONTENT-STEERING:SERVER-URI="old"').replace(
      'AUDIO="program_audio"',
      'AUDIO="program_audio",PATHWAY-ID="old"',
    );
    const out = buildMultivariantPlaylist(parseOriginMultivariant(withSteering), INPUT);
    expect(out.match(/#EXT-X-CONTENT-STEERING/g)).toHaveLength(1);
    expect(out).not.toContain('"old"');
  });

  it('keeps global tags once, at the top', () => {
    const out = buildMultivariantPlaylist(origin, INPUT);
    expect(out.startsWith('#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-CONTENT-STEERING:')).toBe(true);
    expect(out.match(/#EXT-X-VERSION/g)).toHaveLength(1);
  });

  it('handles variants with muxed audio and CRLF line endings', () => {
    const muxed = '#EXTM3U\r\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\r\nlow/index.m3u8\r\n';
    const { variants, media } = readLikeHlsJs(buildMultivariantPlaylist(parseOriginMultivariant(muxed), INPUT));
    expect(variants.map((v) => v.uri)).toEqual(PATHWAYS.map((p) => `https://${p.host}/${TOKEN}/media/big-buck/r2/low/index.m3u8`));
    expect(media).toEqual([]);
  });

  it('rejects a media playlist, a playlist without variants and a URI that leaves the revision folder', () => {
    expect(() => parseOriginMultivariant('#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6,\na.cmfv\n')).toThrow(InvalidOriginPlaylistError);
    expect(() => parseOriginMultivariant('#EXTM3U\n#EXT-X-VERSION:6\n')).toThrow(InvalidOriginPlaylistError);
    expect(() => parseOriginMultivariant('not a playlist')).toThrow(InvalidOriginPlaylistError);
    expect(() => parseOriginMultivariant('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n../other-asset/r1/main_720p.m3u8\n')).toThrow(/leaves the revision folder/);
  });

  it('refuses pathway ids, hosts or tokens that could break out of a quoted-string', () => {
    expect(() => buildMultivariantPlaylist(origin, { ...INPUT, pathways: [{ id: 'cf-a"\n#EXT', host: 'h.example' }] })).toThrow(InvalidRewriteInputError);
    expect(() => buildMultivariantPlaylist(origin, { ...INPUT, pathways: [{ id: 'cf-a', host: 'evil.example/x' }] })).toThrow(InvalidRewriteInputError);
    expect(() => buildMultivariantPlaylist(origin, { ...INPUT, token: 'a"b' })).toThrow(InvalidRewriteInputError);
    expect(() => buildMultivariantPlaylist(origin, { ...INPUT, pathways: [] })).toThrow(InvalidRewriteInputError);
  });
});

describe('buildMultivariantPlaylist with audio languages and subtitles (ADRs 0017, 0018)', () => {
  // The shape MediaConvert's CMAF group writes for two audio languages and WebVTT captions.
  const ORIGIN = [
    '#EXTM3U',
    '#EXT-X-VERSION:6',
    '#EXT-X-INDEPENDENT-SEGMENTS',
    '#EXT-X-MEDIA:TYPE=AUDIO,LANGUAGE="eng",NAME="English",AUTOSELECT=YES,DEFAULT=YES,CHANNELS="2",GROUP-ID="audio",URI="main_aac-stereo-128k.m3u8"',
    '#EXT-X-MEDIA:TYPE=AUDIO,LANGUAGE="deu",NAME="German",AUTOSELECT=YES,DEFAULT=NO,CHANNELS="2",GROUP-ID="audio",URI="main_aac-stereo-128k-deu.m3u8"',
    '#EXT-X-MEDIA:TYPE=SUBTITLES,LANGUAGE="eng",NAME="English CC",AUTOSELECT=YES,DEFAULT=NO,FORCED=NO,CHARACTERISTICS="public.accessibility.transcribes-spoken-dialog,public.accessibility.describes-music-and-sound",GROUP-ID="subs",URI="main_captions-eng.m3u8"',
    '#EXT-X-MEDIA:TYPE=SUBTITLES,LANGUAGE="de",NAME="German",AUTOSELECT=YES,DEFAULT=NO,FORCED=NO,GROUP-ID="subs",URI="main_subtitles-de.m3u8"',
    '#EXT-X-STREAM-INF:BANDWIDTH=6500000,AVERAGE-BANDWIDTH=5000000,CODECS="avc1.640028,mp4a.40.2",RESOLUTION=1920x1080,FRAME-RATE=24.000,AUDIO="audio",SUBTITLES="subs"',
    'main_1080p.m3u8',
    '#EXT-X-STREAM-INF:BANDWIDTH=900000,AVERAGE-BANDWIDTH=700000,CODECS="avc1.640015,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=24.000,AUDIO="audio",SUBTITLES="subs"',
    'main_360p.m3u8',
    '',
  ].join('\n');

  it('clones every audio and subtitle rendition per pathway with its language, name and characteristics', () => {
    // Act
    const { media, variants } = readLikeHlsJs(buildMultivariantPlaylist(parseOriginMultivariant(ORIGIN), INPUT));
    // Assess: EXT-X-MEDIA has no PATHWAY-ID, so each pathway gets its own groups (HLS content steering).
    expect(media).toHaveLength(4 * PATHWAYS.length);
    for (const pathway of PATHWAYS) {
      const mine = media.filter((rendition) => rendition['GROUP-ID'] === `audio-${pathway.id}` || rendition['GROUP-ID'] === `subs-${pathway.id}`);
      expect(mine.map((rendition) => [rendition.TYPE, rendition.LANGUAGE, rendition.NAME, rendition.DEFAULT])).toEqual([
        ['AUDIO', 'eng', 'English', 'YES'],
        ['AUDIO', 'deu', 'German', 'NO'],
        ['SUBTITLES', 'eng', 'English CC', 'NO'],
        ['SUBTITLES', 'de', 'German', 'NO'],
      ]);
      expect(mine[2]!.CHARACTERISTICS).toBe('public.accessibility.transcribes-spoken-dialog,public.accessibility.describes-music-and-sound');
      expect(mine.every((rendition) => rendition.URI!.startsWith(`https://${pathway.host}/${TOKEN}/media/big-buck/r2/`))).toBe(true);
      const theirs = variants.filter((variant) => variant.attrs['PATHWAY-ID'] === pathway.id);
      expect(theirs.every((variant) => variant.attrs.AUDIO === `audio-${pathway.id}` && variant.attrs.SUBTITLES === `subs-${pathway.id}`)).toBe(true);
    }
    // The same rendition has the same STABLE-RENDITION-ID on every pathway, so a player keeps its choice across a switch.
    const germanIds = new Set(media.filter((rendition) => rendition.LANGUAGE === 'deu').map((rendition) => rendition['STABLE-RENDITION-ID']));
    expect(germanIds.size).toBe(1);
  });

  it('parses as a valid playlist with hls-parser', () => {
    const text = buildMultivariantPlaylist(parseOriginMultivariant(ORIGIN), INPUT);
    const parsed = HLS.parse(text) as HLS.types.MasterPlaylist;
    expect(parsed.variants).toHaveLength(2 * PATHWAYS.length);
    expect(parsed.variants[0]!.audio.map((rendition) => rendition.language)).toEqual(['eng', 'deu']);
    expect(parsed.variants[0]!.subtitles.map((rendition) => rendition.language)).toEqual(['eng', 'de']);
  });
});
