/**
 * A new title behind the twin's CloudFront stand-ins, with and without Origin Shield (ADR 0038) and the
 * pre-warm (ADR 0039): the integration test and `bench/origin-shield.bench.ts` run the same world.
 *
 * Each pathway has `edgesPerPathway` edge locations: distributions that share the pathway's domain name
 * (CloudFront's cache key scope) but keep their own edge cache, as a pathway's edge locations in different
 * places do. Viewers are spread over them; the pre-warm reaches each pathway by its first edge location, as
 * the Lambda reaches the one near its Region. S3 GETs are counted per key at the S3 client.
 */
import { randomBytes } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { CloudFrontRequestEvent, CloudFrontRequestResult } from 'aws-lambda';
import { generateInitialKeyring, type Keyring } from '../../core/keyring';
import { mediaBaseUrl } from '../../core/playback-paths';
import { signToken, verifyToken } from '../../core/token';
import { assetIdOfPath, splitTokenPath } from '../../core/token-path';
import { startLocalAws, type LocalAws } from '../../local/aws-servers';
import { startDistribution, type Distribution } from '../../local/edge/cloudfront-server';
import { createOriginShield, type OriginShield } from '../../local/edge/origin-shield';
import { createPrewarmHandler, type PrewarmResult } from '../../lambdas/prewarm/index';

export const SCENARIO_ASSET = 'premiere';
export const SCENARIO_REVISION = '20261202-120000-0123456789abcdef01234567';
const BUCKET = 'origin';
const SEGMENT_SECONDS = 6;
/** Three minutes of 6 s segments. */
const SEGMENTS = 30;

/** The title's ladder as the origin serves it: three video rungs and one audio rendition (CMAF, HLS). */
const RUNGS = [
  { name: 'v1080', bandwidth: 5_000_000, resolution: '1920x1080' },
  { name: 'v720', bandwidth: 3_000_000, resolution: '1280x720' },
  { name: 'v360', bandwidth: 800_000, resolution: '640x360' },
] as const;
const AUDIO = 'a128';

function titleObjects(): Record<string, { body: string; contentType: string }> {
  const objects: Record<string, { body: string; contentType: string }> = {};
  const playlist = 'application/vnd.apple.mpegurl';
  objects['main.m3u8'] = {
    contentType: playlist,
    body: [
      '#EXTM3U',
      '#EXT-X-VERSION:7',
      `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="en",DEFAULT=YES,URI="${AUDIO}.m3u8"`,
      ...RUNGS.flatMap((r) => [`#EXT-X-STREAM-INF:BANDWIDTH=${r.bandwidth},RESOLUTION=${r.resolution},CODECS="avc1.640028,mp4a.40.2",AUDIO="aud"`, `${r.name}.m3u8`]),
      '',
    ].join('\n'),
  };
  for (const name of [...RUNGS.map((r) => r.name), AUDIO]) {
    objects[`${name}.m3u8`] = {
      contentType: playlist,
      body: [
        '#EXTM3U',
        '#EXT-X-VERSION:7',
        `#EXT-X-TARGETDURATION:${SEGMENT_SECONDS}`,
        '#EXT-X-PLAYLIST-TYPE:VOD',
        `#EXT-X-MAP:URI="${name}_init.mp4"`,
        ...Array.from({ length: SEGMENTS }, (_, i) => [`#EXTINF:${SEGMENT_SECONDS}.000,`, `${name}_${String(i + 1).padStart(5, '0')}.m4s`]).flat(),
        '#EXT-X-ENDLIST',
        '',
      ].join('\n'),
    };
    objects[`${name}_init.mp4`] = { contentType: 'video/mp4', body: `init ${name}` };
    for (let i = 1; i <= SEGMENTS; i++) objects[`${name}_${String(i).padStart(5, '0')}.m4s`] = { contentType: 'video/iso.segment', body: `${name} segment ${i} `.repeat(64) };
  }
  return objects;
}

/** Media segments (`*.m4s`) a viewer of `rung` fetches to play its first `seconds`. */
function viewerObjects(rung: string, seconds: number): string[] {
  const count = Math.ceil(seconds / SEGMENT_SECONDS);
  const segments = (name: string) => [`${name}_init.mp4`, ...Array.from({ length: count }, (_, i) => `${name}_${String(i + 1).padStart(5, '0')}.m4s`)];
  return [`${rung}.m3u8`, `${AUDIO}.m3u8`, ...segments(rung), ...segments(AUDIO)];
}

export interface ScenarioOptions {
  readonly pathways: readonly string[];
  readonly edgesPerPathway: number;
  /** `true`: Origin Shield on each pathway's origin (ADR 0038); "shared": one inner shield distribution (ADR 0098). */
  readonly originShield: boolean | 'shared';
  /** Mode "shared": pathways that send no origin-verify header (a misconfiguration the inner check refuses). */
  readonly withoutShieldSecret?: readonly string[];
}

export interface ViewerOutcome {
  /** Media segments answered from the edge cache / in all. */
  readonly edgeHits: number;
  readonly segments: number;
}

export interface ShieldScenario {
  readonly keyring: Keyring;
  /** Every edge location, by pathway. */
  readonly edges: ReadonlyMap<string, readonly Distribution[]>;
  /** The Origin Shield stand-in, when there is one. */
  readonly shield: OriginShield | undefined;
  /** S3 GETs of media segments (`*.m4s`) so far, by key. */
  segmentGets(): ReadonlyMap<string, number>;
  /** Runs the real pre-warm handler on `Asset Ready` for the scenario's title. */
  prewarm(settings?: { warmSeconds?: number; topRungs?: number; concurrency?: number }): Promise<PrewarmResult>;
  /** One viewer on `edge` plays the first `seconds` of `rung` (playlist, init and segments of video and audio, in order). */
  watch(edge: Distribution, options: { readonly rung: string; readonly seconds: number }): Promise<ViewerOutcome>;
  stop(): Promise<void>;
}

/** A viewer-request check like viewer-auth's (docs/token.md): the token must be valid for the path's asset; it is stripped. */
function tokenCheck(keyring: Keyring) {
  return async (event: CloudFrontRequestEvent): Promise<CloudFrontRequestResult> => {
    const request = event.Records[0]!.cf.request;
    const split = splitTokenPath(request.uri);
    const assetId = split ? assetIdOfPath(split.rest) : null;
    const verdict = split && assetId ? verifyToken(split.token, keyring, { nowSeconds: Math.floor(Date.now() / 1000), assetId }) : undefined;
    if (!split || !verdict?.ok) return { status: '403', statusDescription: 'Forbidden', headers: {} };
    return { ...request, uri: split.rest };
  };
}

/** The S3 client the distributions read through, counting GetObject per key. */
function countingS3(s3: S3Client, gets: Map<string, number>): S3Client {
  return {
    send: (command: unknown) => {
      if (command instanceof GetObjectCommand) {
        const key = command.input.Key ?? '';
        gets.set(key, (gets.get(key) ?? 0) + 1);
      }
      return s3.send(command as GetObjectCommand);
    },
  } as unknown as S3Client;
}

export async function startShieldScenario(options: ScenarioOptions): Promise<ShieldScenario> {
  const aws: LocalAws = await startLocalAws();
  const edges = new Map<string, Distribution[]>();
  try {
    await aws.createBuckets([BUCKET]);
    const prefix = `media/${SCENARIO_ASSET}/${SCENARIO_REVISION}/`;
    for (const [name, object] of Object.entries(titleObjects())) {
      await aws.clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}${name}`, Body: object.body, ContentType: object.contentType }));
    }
    const keyring = generateInitialKeyring();
    const gets = new Map<string, number>();
    const s3 = countingS3(aws.clients.s3, gets);
    const shieldOriginSecret = randomBytes(24).toString('base64url');
    const shield =
      options.originShield === 'shared'
        ? createOriginShield({ region: aws.region, shared: { domainName: 'origin-shield.cloudfront.twin', originSecret: shieldOriginSecret } })
        : options.originShield
          ? createOriginShield({ region: aws.region })
          : undefined;
    for (const pathway of options.pathways) {
      const locations: Distribution[] = [];
      for (let i = 0; i < options.edgesPerPathway; i++) {
        locations.push(
          await startDistribution({
            id: `${pathway}-edge${i + 1}`,
            domainName: `${pathway}.cloudfront.twin`,
            origin: { s3, bucket: BUCKET, region: aws.region },
            viewerRequest: tokenCheck(keyring),
            ...(shield ? { originShield: shield } : {}),
            ...(options.originShield === 'shared' && !options.withoutShieldSecret?.includes(pathway) ? { shieldOriginSecret } : {}),
          }),
        );
      }
      edges.set(pathway, locations);
    }

    const token = signToken({ sid: 'scenario-viewers', aid: SCENARIO_ASSET, exp: Math.floor(Date.now() / 1000) + 3600 }, keyring);
    return {
      keyring,
      edges,
      shield,
      segmentGets: () => new Map([...gets].filter(([key]) => key.endsWith('.m4s'))),
      prewarm(settings = {}) {
        const handler = createPrewarmHandler({
          keyring: { get: async () => keyring },
          pathwayIds: [...edges.keys()],
          pathwayOrigins: [...edges.values()].map((locations) => locations[0]!.endpoint),
          warmSeconds: settings.warmSeconds ?? 120,
          topRungs: settings.topRungs ?? 1,
          concurrency: settings.concurrency ?? 8,
        });
        return handler({ 'detail-type': 'Asset Ready', detail: { assetId: SCENARIO_ASSET, revision: SCENARIO_REVISION, current: true, status: 'READY' } });
      },
      async watch(edge, { rung, seconds }) {
        const base = mediaBaseUrl(new URL(edge.endpoint).host, token, SCENARIO_ASSET, SCENARIO_REVISION, 'http');
        let edgeHits = 0;
        let segments = 0;
        for (const name of viewerObjects(rung, seconds)) {
          const response = await fetch(`${base}${name}`);
          await response.arrayBuffer();
          if (response.status !== 200) throw new Error(`${name} answered ${response.status} at ${edge.id}`);
          if (!name.endsWith('.m4s')) continue;
          segments += 1;
          if (response.headers.get('x-cache') === 'Hit from cloudfront') edgeHits += 1;
        }
        return { edgeHits, segments };
      },
      async stop() {
        for (const location of [...edges.values()].flat()) await location.stop();
        await aws.stop();
      },
    };
  } catch (error) {
    for (const location of [...edges.values()].flat()) await location.stop().catch(() => undefined);
    await aws.stop();
    throw error;
  }
}
