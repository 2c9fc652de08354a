import { createServer, type Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { startLocalAws, TWIN_CREDENTIALS, type LocalAws } from '../../local/aws-servers';
import { closeServer, listenOnLoopback, readBody, sendJson } from '../../local/http-server';
import { createOperatorApi, type BreaksView, type OperatorApi } from '../../local/operator-api';
import { cellPartitionKey } from '../../tables/rollups-table';
import { CATALOG_TABLE_SCHEMA, ROLLUPS_TABLE_SCHEMA, ROUTING_TABLE_SCHEMA } from '../../tables/table-schema';

const TABLES = { assets: 'tl-assets', routing: 'tl-routing', rollups: 'tl-rollups' };
const MINUTE = Date.UTC(2026, 11, 2, 10, 0);

/** A distribution's `/__twin/faults` control API (merge on POST, clear on DELETE) that records what it was sent. */
async function startControl(): Promise<{ endpoint: string; server: Server; faults: () => Record<string, unknown>; posts: Record<string, unknown>[] }> {
  let faults: Record<string, unknown> = {};
  const posts: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const body = (await readBody(req)).toString();
      if (req.method === 'POST') {
        posts.push(JSON.parse(body) as Record<string, unknown>);
        faults = { ...faults, ...(JSON.parse(body) as Record<string, unknown>) };
      }
      if (req.method === 'DELETE') faults = {};
      sendJson(res, 200, faults);
    })();
  });
  return { endpoint: await listenOnLoopback(server), server, faults: () => faults, posts };
}

describe('operator API: CDN breaks and their timeline', () => {
  let aws: LocalAws;
  let documents: DynamoDBDocumentClient;
  let cfA: Awaited<ReturnType<typeof startControl>>;
  let cfB: Awaited<ReturnType<typeof startControl>>;
  let http: Server;
  let base: string;
  let operator: OperatorApi;
  let clock = MINUTE;
  /** Running request totals per cell, as the aggregator's ADDs grow them. */
  const totals: Record<string, number> = {};

  beforeAll(async () => {
    aws = await startLocalAws();
    await aws.createTables([
      { tableName: TABLES.assets, ...CATALOG_TABLE_SCHEMA },
      { tableName: TABLES.routing, ...ROUTING_TABLE_SCHEMA },
      { tableName: TABLES.rollups, ...ROLLUPS_TABLE_SCHEMA },
    ]);
    documents = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: aws.endpoints.dynamodb, region: aws.region, credentials: TWIN_CREDENTIALS }));
    [cfA, cfB] = await Promise.all([startControl(), startControl()]);
    operator = createOperatorApi({
      documents,
      tables: TABLES,
      distributions: [
        { id: 'cf-a', controlEndpoint: cfA.endpoint },
        { id: 'cf-b', controlEndpoint: cfB.endpoint },
      ],
      now: () => clock,
    });
    http = createServer((req, res) => void operator.handle(req, res));
    base = await listenOnLoopback(http);
  });

  afterAll(async () => {
    operator?.stop();
    await Promise.all([http, cfA?.server, cfB?.server].filter(Boolean).map((server) => closeServer(server!)));
    documents?.destroy();
    await aws?.stop();
  });

  afterEach(async () => {
    // Each test starts healthy: nothing carried over on either CDN.
    for (const control of [cfA, cfB]) {
      await fetch(`${control.endpoint}/__twin/faults`, { method: 'DELETE' });
      control.posts.splice(0);
    }
  });

  /** `seconds` of traffic (cf-a / cf-b requests per 5 s) and the US weights the controller wrote, sampled every 5 s. */
  async function play(seconds: number, requests: { 'cf-a': number; 'cf-b': number }, usWeights: { 'cf-a': number; 'cf-b': number }) {
    for (let t = 0; t < seconds; t += 5) {
      clock += 5000;
      const minute = Math.floor(clock / 60_000) * 60_000;
      for (const [pathway, n] of Object.entries(requests)) {
        const key = `${minute}/${pathway}#US`;
        totals[key] = (totals[key] ?? 0) + n;
        await documents.send(new PutCommand({ TableName: TABLES.rollups, Item: { pk: cellPartitionKey(minute, `${pathway}#US`), cell: `${pathway}#US`, requests: totals[key], errors: 0 } }));
      }
      await documents.send(new PutCommand({ TableName: TABLES.routing, Item: { pk: 'weights#US', scope: 'US', weights: usWeights, version: 1, reason: 'test' } }));
      await operator.sample();
    }
  }

  const post = (path: string, body: unknown) => fetch(`${base}/operator/api/${path}`, { method: 'POST', body: JSON.stringify(body) });
  const timeline = async () => (await (await fetch(`${base}/operator/api/breaks`)).json()) as BreaksView;

  it('breaks a CDN for 60 s, heals it, and shows when players left, the weights moved and the CDN was re-admitted', async () => {
    // Prepare: a minute of even traffic and weights (the first sample is only the baseline).
    await operator.sample();
    await play(60, { 'cf-a': 20, 'cf-b': 20 }, { 'cf-a': 0.5, 'cf-b': 0.5 });

    // Act: break cf-b; players move within 10 s, the controller demotes it; after 60 s it heals and comes back.
    const started = await post('breaks', { pathway: 'cf-b' });
    const startedAt = clock;
    await play(5, { 'cf-a': 30, 'cf-b': 12 }, { 'cf-a': 0.5, 'cf-b': 0.5 });
    await play(55, { 'cf-a': 40, 'cf-b': 0 }, { 'cf-a': 0.97, 'cf-b': 0.03 });
    await play(20, { 'cf-a': 40, 'cf-b': 0 }, { 'cf-a': 0.97, 'cf-b': 0.03 });
    await play(15, { 'cf-a': 25, 'cf-b': 15 }, { 'cf-a': 0.8, 'cf-b': 0.2 });
    const view = await timeline();

    // Assess
    expect(started.status).toBe(201);
    expect(cfB.posts).toEqual([{ down: '503' }, { down: false }]);
    const [cdnBreak] = view.breaks;
    expect(cdnBreak).toMatchObject({ pathway: 'cf-b', startedAt, endsAt: startedAt + 60_000, healedAt: startedAt + 60_000 });
    expect(cdnBreak!.events.map((e) => [e.kind, (e.at - startedAt) / 1000])).toEqual([
      ['break-started', 0],
      ['traffic-left', 10],
      ['weights-moved', 10],
      ['demoted', 10],
      ['break-ended', 60],
      ['traffic-returned', 85],
      ['readmitted', 85],
    ]);
    expect(view.traffic.at(-1)).toMatchObject({ spanMs: 5000, pathways: { 'cf-a': { requests: 25 }, 'cf-b': { requests: 15 } } });
    expect(view.weights.at(-1)).toMatchObject({ scope: 'US', weights: { 'cf-b': 0.2 } });
  });

  it('puts back a fault set before the break (e.g. with curl) instead of healing it away', async () => {
    // Prepare
    await fetch(`${base}/operator/api/faults/cf-a`, { method: 'POST', body: JSON.stringify({ latencyMs: 800, down: '503' }) });

    // Act
    const started = (await (await post('breaks', { pathway: 'cf-a', seconds: 30, faults: { down: true } })).json()) as { id: string };
    const during = { ...cfA.faults() };
    const ended = await fetch(`${base}/operator/api/breaks/${started.id}`, { method: 'DELETE' });

    // Assess
    expect(during).toEqual({ latencyMs: 800, down: true });
    expect(ended.status).toBe(200);
    expect(cfA.faults()).toEqual({ latencyMs: 800, down: '503' });
  });

  it('refuses a second break of a CDN that is broken already, and bad requests, without touching the CDN', async () => {
    // Prepare
    const first = (await (await post('breaks', { pathway: 'cf-b', seconds: 60 })).json()) as { id: string };
    const sent = cfB.posts.length;

    // Act
    const responses = await Promise.all([
      post('breaks', { pathway: 'cf-b' }),
      post('breaks', { pathway: 'cf-z' }),
      post('breaks', { pathway: 'cf-a', seconds: 0 }),
      post('breaks', { pathway: 'cf-a', faults: { purge: true } }),
      post('breaks', { pathway: 'cf-a', forever: true }),
    ]);
    await fetch(`${base}/operator/api/breaks/${first.id}`, { method: 'DELETE' });

    // Assess
    expect(responses.map((r) => r.status)).toEqual([409, 400, 400, 400, 400]);
    expect(cfB.posts.length).toBe(sent + 1); // only the heal
    expect(cfA.posts).toEqual([]);
  });

  it('heals a break on its own when its time is up', async () => {
    // Prepare
    const started = (await (await post('breaks', { pathway: 'cf-a', seconds: 1 })).json()) as { id: string };

    // Act: the break's timer, not a request, ends it.
    const healed = await new Promise<BreaksView['breaks'][number]>((resolve) => {
      const poll = setInterval(() => {
        void timeline().then((view) => {
          const found = view.breaks.find((b) => b.id === started.id);
          if (found?.healedAt !== undefined) {
            clearInterval(poll);
            resolve(found);
          }
        });
      }, 100);
    });

    // Assess
    expect(healed.events.map((e) => e.kind)).toEqual(['break-started', 'break-ended']);
    expect(cfA.posts).toEqual([{ down: '503' }, { down: false }]);
  });
});
