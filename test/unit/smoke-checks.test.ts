import { describe, expect, it } from 'vitest';
import { buildPathwayHosts, pathwayOfUrl } from '../../core/pathway-hosts';
import { decodeCmcdReportLines, splitCmcdReportBody } from '../../core/cmcd-report';
import { assetIdFromKey } from '../../core/asset-id';
import { dashPathways, ingestOutcome, isRefusal, reportMinutes, reportsCounted, SMOKE_ASSET_ID, SMOKE_MASTER_KEY, smokeCmcdReport, tamperedUrl } from '../../core/smoke-checks';
import { SmokeStepError } from '../../core/smoke-steps';

const R1 = '20261201-090000-0055aed6dcd90281e5000000';
const R2 = '20261202-100000-0055aed6dcd90281e6000000';

describe('what the smoke test expects', () => {
  it('uploads a name with a space, a plus and unicode, and expects the asset id the platform’s rule gives it', () => {
    expect(SMOKE_MASTER_KEY).toBe('uploads/smoke test + été ✓.mp4');
    expect(SMOKE_ASSET_ID).toBe('smoke-test-ete');
    expect(SMOKE_ASSET_ID).toBe(assetIdFromKey(SMOKE_MASTER_KEY));
  });

  it('waits for a new revision READY and served, not the one an earlier run left READY', () => {
    const before = { assetId: SMOKE_ASSET_ID, status: 'READY' as const, latestRevision: R1, currentRevision: R1 };
    expect(ingestOutcome(before, before)).toBeUndefined();
    expect(ingestOutcome(before, { ...before, latestRevision: R2, status: 'PROGRESSING' })).toBeUndefined();
    expect(ingestOutcome(before, { ...before, latestRevision: R2, status: 'READY', currentRevision: R2 })).toEqual({ revision: R2 });
    expect(ingestOutcome(undefined, { assetId: SMOKE_ASSET_ID, status: 'READY', latestRevision: R1, currentRevision: R1 })).toEqual({ revision: R1 });
  });

  it('fails at once when the new revision FAILED, with the catalog’s reason', () => {
    const failed = { assetId: SMOKE_ASSET_ID, status: 'FAILED' as const, latestRevision: R2 };
    expect(() => ingestOutcome(undefined, failed, 'the probe found no video stream')).toThrow(SmokeStepError);
    expect(() => ingestOutcome(undefined, failed, 'the probe found no video stream')).toThrow(`revision ${R2} is FAILED: the probe found no video stream`);
  });

  it('tampers with the first character of the token signature and keeps the rest of the URL', () => {
    const url = 'https://d1a.cloudfront.net/eyJ2IjoxfQ.AbCdEf/media/a/r/seg-1.m4s?x=1';
    expect(tamperedUrl(url)).toBe('https://d1a.cloudfront.net/eyJ2IjoxfQ.BbCdEf/media/a/r/seg-1.m4s?x=1');
    expect(tamperedUrl('https://d1a.cloudfront.net/eyJ2IjoxfQ.xyz/play/a')).toBe('https://d1a.cloudfront.net/eyJ2IjoxfQ.Ayz/play/a');
    expect(() => tamperedUrl('https://d1a.cloudfront.net/media/a/r/seg-1.m4s')).toThrow(/no signed token/);
  });

  it('reads the pathways and the steering server of a DASH manifest', () => {
    const mpd = `<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011"><BaseURL serviceLocation="cf-a">https://a/t/media/x/r/</BaseURL>
      <BaseURL serviceLocation="cf-b">https://b/t/media/x/r/</BaseURL><Period/><ContentSteering defaultServiceLocation="cf-a" queryBeforeStart="true">https://gw/t/steer/x</ContentSteering></MPD>`;
    const read = dashPathways(mpd);
    expect([...read.baseUrls]).toEqual([['cf-a', 'https://a/t/media/x/r/'], ['cf-b', 'https://b/t/media/x/r/']]);
    expect(read.steering).toBe('https://gw/t/steer/x');
    expect(() => dashPathways('<html/>')).toThrow(/no MPD element/);
  });

  it('posts one CMCD v2 response-received line per pathway, with the segment URL the platform attributes it by', () => {
    const at = Date.UTC(2026, 11, 2, 11, 30, 10);
    const urlA = 'https://d1a.cloudfront.net/t/media/x/r/seg.m4s';
    const urlB = 'https://d1b.cloudfront.net/t/media/x/r/seg.m4s';
    const body = smokeCmcdReport({ sessionId: 'sid-1', assetId: SMOKE_ASSET_ID, at, responses: [{ pathway: 'cf-a', url: urlA, ttfbMs: 42.4 }, { pathway: 'cf-b', url: urlB, ttfbMs: 7 }] });
    const events = decodeCmcdReportLines(splitCmcdReportBody(body));
    const hosts = buildPathwayHosts([{ id: 'cf-a', host: 'd1a.cloudfront.net', enabled: true, cap: 1 }, { id: 'cf-b', host: 'd1b.cloudfront.net', enabled: true, cap: 1 }]);
    expect(events.map((e) => [e.e, e.sid, e.ts, e.sn, pathwayOfUrl(hosts, e.url as string)])).toEqual([['rr', 'sid-1', at, 0, 'cf-a'], ['rr', 'sid-1', at, 1, 'cf-b']]);
    expect(events[0]).toMatchObject({ v: 2, url: urlA, rc: 200, ttfb: 42, cdn: 'cf-a', cid: SMOKE_ASSET_ID });
  });

  it('counts reports for one pathway across countries and the minutes around the post', () => {
    expect(reportMinutes(Date.UTC(2026, 11, 2, 11, 30, 10))).toEqual([Date.UTC(2026, 11, 2, 11, 29), Date.UTC(2026, 11, 2, 11, 30), Date.UTC(2026, 11, 2, 11, 31)]);
    expect(reportsCounted([{ pathway: 'cf-a', reports: 3 }, { pathway: 'cf-b', reports: 5 }, { pathway: 'cf-a', reports: 2 }], 'cf-a')).toBe(5);
  });

  it('accepts 403 and 404 as a refusal, nothing else', () => {
    expect([200, 206, 301, 403, 404, 500, 503].filter(isRefusal)).toEqual([403, 404]);
  });
});
