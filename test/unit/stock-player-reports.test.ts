import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cmcdEventsToSamples, decodeCmcdReportLines, evidenceClaimOf, SESSION_MINUTE_BUDGET, splitCmcdReportBody, verifiedHostsOf } from '../../core/cmcd-report';
import { buildPathwayHosts } from '../../core/pathway-hosts';
import { aggregateSamples, aggregateSessionEvidence, cellKeyOf } from '../../core/qoe-aggregate';
import type { QoeSample } from '../../core/qoe-types';
import { FIXTURE_PATHWAYS } from '../support/telemetry';

// Reports of hls.js, dash.js and Shaka Player at their defaults (test/fixtures/telemetry/capture-player-reports.ts):
// batch size 1, so every event is its own POST, and only response-received events carry a URL.
const fixture = JSON.parse(readFileSync(new URL('../fixtures/telemetry/player-cmcd-v2-reports.json', import.meta.url), 'utf8')) as {
  sid: string;
  players: Record<string, string[]>;
};
const hosts = buildPathwayHosts(FIXTURE_PATHWAYS);
/** What the ingest accepts: a URL carrying the session's token (TOKEN in the fixture) on a pathway host. */
const hostOfSessionUrl = (url: string) => (url.includes('/TOKEN/') ? new URL(url).host : undefined);

/** The player's POSTs through the ingest's attribution, one after another, with the session state between them. */
function samplesOfSession(bodies: readonly string[]): { samples: QoeSample[]; unattributed: number } {
  let stateHost: string | undefined;
  const samples: QoeSample[] = [];
  let unattributed = 0;
  for (const body of bodies) {
    const events = decodeCmcdReportLines(splitCmcdReportBody(body));
    const verified = verifiedHostsOf(events, hostOfSessionUrl, stateHost);
    stateHost = verified.lastHost;
    const out = cmcdEventsToSamples(events, {
      receivedAt: 1_700_000_030_000,
      country: 'DE',
      hosts,
      verifiedHosts: verified.hosts,
      intervalMs: 30_000,
      grant: evidenceClaimOf(events, 30_000),
    });
    samples.push(...out.samples);
    unattributed += out.unattributed;
  }
  return { samples, unattributed };
}

describe.each(Object.entries(fixture.players))('%s at its defaults (batch size 1)', (player, bodies) => {
  it('attributes every event after the first response to the verified pathway, without an rr in the same POST', () => {
    const { samples, unattributed } = samplesOfSession(bodies);

    // Only the start event, before any response, has no pathway yet.
    expect(unattributed).toBe(1);
    expect(samples).toHaveLength(bodies.length - 1);
    expect(new Set(samples.map((s) => s.pathway))).toEqual(new Set(['cf-a']));
    expect(samples.every((s) => s.sid === fixture.sid)).toBe(true);
  });

  it('counts the session once in its cell and marks its stall', () => {
    const { samples } = samplesOfSession(bodies);
    const bits = aggregateSessionEvidence(samples).get(cellKeyOf(samples[0]!))!;

    expect(bits.sessions.size).toBe(1);
    expect(bits.stallSessions.size).toBe(1);
    // hls.js and Shaka send `rc`, so the 503 marks the session; dash.js's default keys have no `rc`.
    expect(bits.errorSessions.size).toBe(player.startsWith('dash.js') ? 0 : 1);
  });

  it('stays within one session-minute budget', () => {
    const { samples } = samplesOfSession(bodies);
    const rollup = aggregateSamples(samples).get(cellKeyOf(samples[0]!))!;

    expect(rollup.playMs + rollup.stallMs).toBeLessThanOrEqual(SESSION_MINUTE_BUDGET.ms);
    expect(rollup.reports).toBe(bodies.length - 1);
  });
});
