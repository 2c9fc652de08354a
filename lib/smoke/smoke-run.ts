import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AssetHead } from '../../core/asset-status';
import {
  dashPathways,
  ingestOutcome,
  isRefusal,
  reportMinutes,
  reportsCounted,
  SMOKE_ASSET_ID,
  SMOKE_MASTER_KEY,
  smokeCmcdReport,
  tamperedUrl,
} from '../../core/smoke-checks';
import { type SmokeStep, SmokeStepError } from '../../core/smoke-steps';
import type { SmokeTarget } from '../../core/stack-outputs';
import { splitTokenPath } from '../../core/token-path';
// The twin audience's parser, pure and made for the gateway's multi-pathway playlists: hls-parser 0.16 reads a
// variant's PATHWAY-ID from STABLE-PATHWAY-ID and content steering from a misspelt tag, so it sees neither.
import { parseMediaPlaylist, parseMultivariant, PlaylistError } from '../../core/steered-hls-playlists';
import { CatalogTable } from '../../tables/catalog-table';
import { RollupsTable } from '../../tables/rollups-table';
import type { SignedFetch } from './signed-fetch';
import type { PlaybackSession } from '../../lambdas/playback-api/sessions';

/**
 * The steps of `npm run smoke` (ADR 0013) with their I/O: each proves one promise of the platform through
 * its public surfaces (the upload bucket, the catalog, the IAM-authenticated playback API, the gateway and
 * every CDN pathway, the report endpoint and the QoE rollups), against a deployment or the twin alike.
 * The verdicts are core/smoke-checks.ts's; the runner is core/smoke-steps.ts.
 */

/** What the first step connects to: the deployment's outputs and clients for its data plane. */
export interface SmokeConnection {
  readonly target: SmokeTarget;
  readonly s3: S3Client;
  readonly documents: DynamoDBDocumentClient;
  /** SigV4-signed requests to the playback API. */
  readonly playbackApi: SignedFetch;
}

export interface SmokeTimeouts {
  /** Upload to READY: MediaConvert queues and encodes; the twin's ffmpeg takes seconds. */
  readonly readyMs: number;
  /** Report to rollup: Kinesis, the aggregator's batching window and its write. */
  readonly reportMs: number;
  /** DELETE to TAKEN_DOWN: job cancellation, origin deletion and the CloudFront invalidations. */
  readonly takedownMs: number;
  /** TAKEN_DOWN to every pathway refusing. */
  readonly refusalMs: number;
  /** Between two reads of something being waited for. */
  readonly pollMs: number;
}

/** A live deployment: MediaConvert and CloudFront invalidations take minutes, not seconds. */
export const CLOUD_TIMEOUTS: SmokeTimeouts = { readyMs: 15 * 60_000, reportMs: 5 * 60_000, takedownMs: 15 * 60_000, refusalMs: 10 * 60_000, pollMs: 3_000 };
/** The twin: failure detectors several times what a busy 2-core machine needs, polled quickly. */
export const TWIN_TIMEOUTS: SmokeTimeouts = { readyMs: 3 * 60_000, reportMs: 60_000, takedownMs: 60_000, refusalMs: 30_000, pollMs: 250 };

export interface SmokeOptions {
  /** Reads the outputs and builds the clients (the `outputs` step). */
  readonly connect: () => Promise<SmokeConnection>;
  /** Writes a short H.264/AAC master to the path (ffmpeg). */
  readonly generateMaster: (path: string) => Promise<void>;
  /** Take the asset down at the end and check every pathway refuses it. */
  readonly takedown: boolean;
  readonly timeouts: SmokeTimeouts;
  /** @default globalThis.fetch — for the gateway and CDNs, which are not signed. */
  readonly fetch?: typeof fetch;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What the steps hand on to each other. */
export interface SmokeState {
  connection?: SmokeConnection;
  /** The head before the upload: the upload must produce a newer revision. */
  headBefore?: AssetHead;
  uploadedAt?: number;
  revision?: string;
  /** The playback API's answer. */
  session?: PlaybackSession;
  /** Pathways the HLS manifest offers, in its order. */
  pathways?: readonly string[];
  /** The variant URL per pathway (from the multivariant playlist). */
  variants?: ReadonlyMap<string, string>;
  /** The first media segment fetched per pathway, and its time to first byte. */
  segments?: ReadonlyMap<string, { readonly url: string; readonly ttfbMs: number }>;
}

/** A playlist parse failure as a step failure naming the URL. */
function parsed<T>(url: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof PlaylistError) throw new SmokeStepError(`${withoutToken(url)}: ${error.message}`);
    throw error;
  }
}

/** Sessions the smoke asks for before giving up on a sampled one: a miss is 0.9^64 ≈ 0.1 % at 10 % sampling. */
const SESSION_ATTEMPTS = 64;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const kilobytes = (bytes: number) => `${Math.max(1, Math.round(bytes / 1024))} KB`;

/** A URL without its token, for messages: tokens are credentials, and long. */
export function withoutToken(url: string): string {
  const target = new URL(url);
  const split = splitTokenPath(target.pathname);
  // A token is `<claims>.<signature>`; `/assets/…` and other API paths have no dot in their first segment.
  return split?.token.includes('.') ? `${target.origin}/<token>${split.rest}` : url;
}

export function smokeSteps(options: SmokeOptions): SmokeStep<SmokeState>[] {
  const get = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const { timeouts } = options;

  /** Probes until it returns a value; the bound is a failure detector, not an expectation. */
  async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, describeLast?: () => string): Promise<T> {
    const deadline = now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (now() >= deadline) throw new SmokeStepError(`timed out after ${seconds(timeoutMs)} waiting for ${what}${describeLast ? `; last seen: ${describeLast()}` : ''}`);
      await sleep(timeouts.pollMs);
    }
  }

  /** GET, body read in full; a network failure becomes a step failure naming the URL. */
  async function fetchBody(url: string, init?: RequestInit): Promise<{ status: number; body: Buffer; ttfbMs: number }> {
    const started = now();
    let response: Response;
    try {
      response = await get(url, init);
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new SmokeStepError(`${init?.method ?? 'GET'} ${withoutToken(url)} failed: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
    }
    const ttfbMs = now() - started;
    return { status: response.status, body: Buffer.from(await response.arrayBuffer()), ttfbMs };
  }

  const connection = (state: SmokeState): SmokeConnection => state.connection!;
  const catalogOf = (state: SmokeState) => new CatalogTable(connection(state).documents, connection(state).target.assetsTable);

  const steps: SmokeStep<SmokeState>[] = [
    {
      name: 'outputs',
      async run(state) {
        state.connection = await options.connect();
        const { target } = state.connection;
        return `${target.stackName} in ${target.region}: bucket ${target.uploadBucket}, API ${target.playbackApiUrl}, gateway ${target.gatewayOrigin}, pathways ${target.pathways.map((p) => p.id).join(', ')}`;
      },
    },
    {
      name: 'upload',
      async run(state) {
        const { target, s3 } = connection(state);
        const work = await mkdtemp(join(tmpdir(), 'smoke-'));
        try {
          const file = join(work, 'master.mp4');
          await options.generateMaster(file);
          const body = await readFile(file);
          state.headBefore = await catalogOf(state).getHead(SMOKE_ASSET_ID, { consistent: true });
          state.uploadedAt = now();
          await s3.send(new PutObjectCommand({ Bucket: target.uploadBucket, Key: SMOKE_MASTER_KEY, Body: body, ContentType: 'video/mp4' }));
          return `s3://${target.uploadBucket}/${SMOKE_MASTER_KEY} (${kilobytes(body.length)} generated master)`;
        } finally {
          await rm(work, { recursive: true, force: true });
        }
      },
    },
    {
      name: 'ready',
      async run(state) {
        const catalog = catalogOf(state);
        let last: AssetHead | undefined;
        const outcome = await waitFor(
          `asset ${SMOKE_ASSET_ID} READY in ${connection(state).target.assetsTable} (its asset id by core/asset-id.ts)`,
          timeouts.readyMs,
          async () => {
            last = await catalog.getHead(SMOKE_ASSET_ID, { consistent: true });
            const failed = last?.latestRevision && (last.status === 'FAILED' || last.status === 'CANCELED');
            const reason = failed ? (await catalog.getRevision({ assetId: SMOKE_ASSET_ID, revision: last!.latestRevision! }))?.errorReason : undefined;
            return ingestOutcome(state.headBefore, last, reason);
          },
          () => (last === undefined || last.latestRevision === state.headBefore?.latestRevision ? 'no new revision (did the upload start an ingest?)' : `${last.latestRevision} ${last.status}`),
        );
        state.revision = outcome.revision;
        return `asset ${SMOKE_ASSET_ID} revision ${outcome.revision} READY ${seconds(now() - state.uploadedAt!)} after the upload`;
      },
    },
    {
      name: 'session',
      async run(state) {
        const { target, playbackApi } = connection(state);
        const url = `${target.playbackApiUrl}/sessions`;
        // Only sampled sessions get a reportUrl (ADR 0058); the report step needs one, so ask again until one is.
        let session: SmokeState['session'];
        let text = '';
        for (let attempt = 0; attempt < SESSION_ATTEMPTS && session?.reportUrl === undefined; attempt++) {
          const response = await playbackApi(url, { method: 'POST', body: JSON.stringify({ assetId: SMOKE_ASSET_ID }) });
          text = await response.text();
          if (response.status === 403) {
            throw new SmokeStepError(`POST ${url} → 403 ${text.slice(0, 200)}`, 'the credentials need execute-api:Invoke on the playback API');
          }
          if (response.status !== 201) throw new SmokeStepError(`POST ${url} → ${response.status} ${text.slice(0, 200)}`);
          session = JSON.parse(text) as SmokeState['session'];
          if (!session?.hls || !session.dash || !session.sessionId) throw new SmokeStepError(`POST ${url} answered without hls, dash or sessionId: ${text.slice(0, 200)}`);
        }
        if (session?.reportUrl === undefined) {
          throw new SmokeStepError(`POST ${url}: none of ${SESSION_ATTEMPTS} sessions was sampled for reports: ${text.slice(0, 200)}`, 'raise platform.reportSamplingRate');
        }
        if (session.revision !== state.revision) throw new SmokeStepError(`the session serves revision ${session.revision}, not the new ${state.revision}`);
        state.session = session;
        return `SigV4 POST /sessions → 201, session ${session.sessionId}, expires ${session.expiresAt}`;
      },
    },
    {
      name: 'manifests',
      async run(state) {
        const session = state.session!;
        const { target } = connection(state);
        const hls = await fetchBody(session.hls);
        if (hls.status !== 200) throw new SmokeStepError(`HLS ${withoutToken(session.hls)} → ${hls.status} ${hls.body.toString('utf8').slice(0, 200)}`);
        const multivariant = parsed(session.hls, () => parseMultivariant(hls.body.toString('utf8'), session.hls));
        const dash = await fetchBody(session.dash);
        if (dash.status !== 200) throw new SmokeStepError(`DASH ${withoutToken(session.dash)} → ${dash.status} ${dash.body.toString('utf8').slice(0, 200)}`);
        const mpd = dashPathways(dash.body.toString('utf8'));
        const hlsPathways = multivariant.pathways;
        const dashOnly = [...mpd.baseUrls.keys()].filter((id) => !hlsPathways.includes(id));
        const hlsOnly = hlsPathways.filter((id) => !mpd.baseUrls.has(id));
        if (dashOnly.length + hlsOnly.length > 0) throw new SmokeStepError(`HLS and DASH offer different pathways: HLS ${hlsPathways.join(', ')}; DASH ${[...mpd.baseUrls.keys()].join(', ')}`);
        if (!multivariant.steering || !mpd.steering) throw new SmokeStepError('a manifest has no content steering server (EXT-X-CONTENT-STEERING / ContentSteering)');
        const unknown = hlsPathways.filter((id) => !target.pathways.some((p) => p.id === id));
        const notOffered = target.pathways.map((p) => p.id).filter((id) => !hlsPathways.includes(id));
        state.pathways = hlsPathways.filter((id) => !unknown.includes(id));
        state.variants = new Map(state.pathways.map((id) => [id, multivariant.variants.find((v) => v.pathway === id)!.uri]));
        return (
          `HLS ${hls.status} and DASH ${dash.status} through the gateway, both steered, pathways ${hlsPathways.join(', ')}` +
          (notOffered.length > 0 ? `; not offered (disabled in the routing registry?): ${notOffered.join(', ')}` : '') +
          (unknown.length > 0 ? `; external: ${unknown.join(', ')}` : '')
        );
      },
    },
    {
      name: 'segments',
      async run(state) {
        if (state.pathways!.length === 0) throw new SmokeStepError('the manifests offer none of the deployment’s pathways');
        const segments = new Map<string, { url: string; ttfbMs: number }>();
        const lines: string[] = [];
        // One pathway after another: a failure then names the first broken one, not a race between them.
        for (const pathway of state.pathways!) {
          const variantUrl = state.variants!.get(pathway)!;
          const playlist = await fetchBody(variantUrl);
          if (playlist.status !== 200) throw new SmokeStepError(`${pathway}: media playlist ${withoutToken(variantUrl)} → ${playlist.status}`);
          const media = parsed(variantUrl, () => parseMediaPlaylist(playlist.body.toString('utf8'), variantUrl));
          const segmentUrl = media.segments[0]!.uri;
          let bytes = 0;
          for (const url of [...(media.initUri ? [media.initUri] : []), segmentUrl]) {
            const object = await fetchBody(url);
            if (object.status !== 200 || object.body.length === 0) throw new SmokeStepError(`${pathway}: ${withoutToken(url)} → ${object.status} (${object.body.length} bytes)`);
            bytes += object.body.length;
            if (url === segmentUrl) segments.set(pathway, { url, ttfbMs: object.ttfbMs });
          }
          lines.push(`${pathway} ${kilobytes(bytes)} in ${segments.get(pathway)!.ttfbMs} ms`);
        }
        state.segments = segments;
        return `playlist, init and first segment through every pathway: ${lines.join(', ')}`;
      },
    },
    {
      name: 'tampered token',
      async run(state) {
        const [pathway, segment] = [...state.segments!][0]!;
        const checks = [
          { what: 'gateway manifest', url: tamperedUrl(state.session!.hls) },
          { what: `${pathway} segment`, url: tamperedUrl(segment.url) },
        ];
        const answers: string[] = [];
        for (const check of checks) {
          const { status } = await fetchBody(check.url);
          if (status !== 403) throw new SmokeStepError(`${check.what} with a tampered token → ${status}, expected 403`);
          answers.push(`${check.what} 403`);
        }
        return answers.join(', ');
      },
    },
    {
      name: 'cmcd report',
      async run(state) {
        const { documents, target } = connection(state);
        const session = state.session!;
        const responses = [...state.segments!].map(([pathway, segment]) => ({ pathway, url: segment.url, ttfbMs: segment.ttfbMs }));
        const rollups = new RollupsTable(documents, target.rollupsTable);
        const at = now();
        const minutes = reportMinutes(at);
        const counted = async () => {
          const items = (await Promise.all(minutes.map((m) => rollups.readMinute(m)))).flat();
          return responses.map(({ pathway }) => reportsCounted(items, pathway));
        };
        const before = await counted();
        const body = smokeCmcdReport({ sessionId: session.sessionId, assetId: session.assetId, responses, at });
        const reportUrl = session.reportUrl!;
        const posted = await fetchBody(reportUrl, { method: 'POST', headers: { 'content-type': 'application/cmcd' }, body });
        if (posted.status < 200 || posted.status >= 300) throw new SmokeStepError(`POST ${withoutToken(reportUrl)} → ${posted.status} ${posted.body.toString('utf8').slice(0, 200)}`);
        const postedAt = now();
        let seen = before;
        const missing = () => responses.filter((_, i) => seen[i]! <= before[i]!).map((r) => r.pathway);
        await waitFor(
          `the report in the ${target.rollupsTable} rollups of every pathway`,
          timeouts.reportMs,
          async () => {
            seen = await counted();
            return missing().length === 0 ? true : undefined;
          },
          () => `nothing counted yet for ${missing().join(', ')}`,
        );
        return `${responses.length} CMCD v2 lines through the gateway → ${posted.status}; counted in the rollups of ${responses.map((r) => r.pathway).join(', ')} ${seconds(now() - postedAt)} later`;
      },
    },
  ];

  if (!options.takedown) return steps;
  return [
    ...steps,
    {
      name: 'takedown',
      async run(state) {
        const { target, playbackApi } = connection(state);
        const url = `${target.playbackApiUrl}/assets/${SMOKE_ASSET_ID}`;
        const response = await playbackApi(url, { method: 'DELETE' });
        const text = await response.text();
        if (response.status !== 202) throw new SmokeStepError(`DELETE ${url} → ${response.status} ${text.slice(0, 200)}`);
        const body = (text ? JSON.parse(text) : {}) as { statusUrl?: string };
        const statusUrl = new URL(body.statusUrl ?? response.headers.get('location') ?? url, `${target.playbackApiUrl}/`).href;
        const requestedAt = now();
        let last = '';
        await waitFor(`GET ${statusUrl} to say TAKEN_DOWN`, timeouts.takedownMs, async () => {
          const answer = await playbackApi(statusUrl);
          const answerText = await answer.text();
          last = `${answer.status} ${answerText.slice(0, 300)}`;
          if (answer.status !== 200) return undefined;
          const progress = JSON.parse(answerText) as { status?: string; takedown?: { status?: string } };
          return progress.status === 'TAKEN_DOWN' || progress.takedown?.status === 'TAKEN_DOWN' ? true : undefined;
        }, () => last);
        return `DELETE → 202, TAKEN_DOWN ${seconds(now() - requestedAt)} later (${withoutToken(statusUrl)})`;
      },
    },
    {
      name: 'refused everywhere',
      async run(state) {
        const { target, playbackApi } = connection(state);
        // Every pathway, not the gateway: warm steering functions may still generate a taken-down asset's
        // manifests for a few minutes (ADR 0005), but nothing they point at is delivered any more.
        const probes = [...state.segments!].map(([pathway, segment]) => ({ what: pathway, url: segment.url }));
        const answers: string[] = [];
        for (const probe of probes) {
          let status = 0;
          // A CloudFront invalidation may still be finishing at an edge location: wait for the refusal.
          await waitFor(`${probe.what} to refuse ${withoutToken(probe.url)}`, timeouts.refusalMs, async () => {
            status = (await fetchBody(probe.url)).status;
            return isRefusal(status) ? status : undefined;
          }, () => String(status));
          answers.push(`${probe.what} ${status}`);
        }
        const session = await playbackApi(`${target.playbackApiUrl}/sessions`, { method: 'POST', body: JSON.stringify({ assetId: SMOKE_ASSET_ID }) });
        await session.text();
        if (session.status !== 404) throw new SmokeStepError(`a new session for the taken-down asset → ${session.status}, expected 404`);
        return `${answers.join(', ')}; new session 404`;
      },
    },
  ];
}
