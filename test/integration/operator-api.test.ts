import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startLocalAws, TWIN_CREDENTIALS, type LocalAws } from '../../local/aws-servers';
import { closeServer, listenOnLoopback, readBody, sendJson } from '../../local/http-server';
import { createOperatorApi } from '../../local/operator-api';
import { cellPartitionKey } from '../../tables/rollups-table';
import { CATALOG_TABLE_SCHEMA, ROLLUPS_TABLE_SCHEMA, ROUTING_TABLE_SCHEMA } from '../../tables/table-schema';

const TABLES = { assets: 'op-assets', routing: 'op-routing', rollups: 'op-rollups' };
// 2026-11-24T10:07:30Z: inside the minute starting at 10:07.
const NOW = Date.UTC(2026, 10, 24, 10, 7, 30);
const MINUTE = 60_000;
const CURRENT_MINUTE = Date.UTC(2026, 10, 24, 10, 7);

function counters(partial: Record<string, number>): Record<string, number> {
  return {
    requests: 0, errors: 0, bytes: 0, edgeTtfbMsSum: 0, edgeTtfbCount: 0, playerTtfbMsSum: 0, playerTtfbCount: 0, throughputKbpsSum: 0, throughputCount: 0,
    playMs: 0, stallMs: 0, stalls: 0, startupMsSum: 0, startupCount: 0, reports: 0, ...partial,
  };
}

function rollup(minute: number, pathway: string, country: string, partial: Record<string, number>) {
  const cell = `${pathway}#${country}`;
  return { pk: cellPartitionKey(minute, cell), cell, ...counters(partial) };
}

/** A stand-in for one distribution's `/__twin/faults` control API that records what it was sent. */
async function startControlServer(): Promise<{ endpoint: string; received: { method: string; body: string }[]; server: Server }> {
  let faults: Record<string, unknown> = {};
  const received: { method: string; body: string }[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    void (async () => {
      const body = (await readBody(req)).toString();
      received.push({ method: req.method ?? '', body });
      if (req.url !== '/__twin/faults') return sendJson(res, 404, { message: 'unknown control path' });
      if (req.method === 'POST') faults = { ...faults, ...(JSON.parse(body || '{}') as Record<string, unknown>) };
      if (req.method === 'DELETE') faults = {};
      sendJson(res, 200, faults);
    })();
  });
  return { endpoint: await listenOnLoopback(server), received, server };
}

describe('operator API', () => {
  let aws: LocalAws;
  let documents: DynamoDBDocumentClient;
  let api: Server;
  let base: string;
  let control: Awaited<ReturnType<typeof startControlServer>>;
  let deadEndpoint: string;

  beforeAll(async () => {
    aws = await startLocalAws();
    await aws.createTables([
      { tableName: TABLES.assets, ...CATALOG_TABLE_SCHEMA },
      { tableName: TABLES.routing, ...ROUTING_TABLE_SCHEMA },
      { tableName: TABLES.rollups, ...ROLLUPS_TABLE_SCHEMA },
    ]);
    documents = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: aws.endpoints.dynamodb, region: aws.region, credentials: TWIN_CREDENTIALS }),
    );
    await documents.send(
      new BatchWriteCommand({
        RequestItems: {
          [TABLES.assets]: [
            { assetId: 'big-buck', sk: 'asset', status: 'FAILED', currentRevision: '20261124-090000-a', latestRevision: '20261124-100000-b', updatedAt: '2026-11-24T10:01:00.000Z', version: 4 },
            { assetId: 'big-buck', sk: 'rev#20261124-090000-a', revision: '20261124-090000-a', status: 'READY', sourceKey: 'uploads/Big Buck.mov', updatedAt: '2026-11-24T09:05:00.000Z', durationMs: 10_000, renditions: [{ type: 'video', width: 640, height: 360 }, { type: 'audio' }] },
            { assetId: 'big-buck', sk: 'rev#20261124-100000-b', revision: '20261124-100000-b', status: 'FAILED', sourceKey: 'uploads/Big Buck.mov', updatedAt: '2026-11-24T10:01:00.000Z', errorReason: 'The file is not a video', errorCode: 'UNSUPPORTED' },
            { assetId: 'trailer', sk: 'rev#20261124-100500-c', revision: '20261124-100500-c', status: 'RECEIVED', sourceKey: 'uploads/Trailer.mp4', updatedAt: '2026-11-24T10:05:00.000Z' },
          ].map((Item) => ({ PutRequest: { Item } })),
          [TABLES.routing]: [
            { pk: 'pathways', pathways: [{ id: 'cf-a', host: 'a.twin', enabled: true, cap: 1 }, { id: 'cf-b', host: 'b.twin', enabled: true, cap: 1 }] },
            { pk: 'weights#DE', scope: 'DE', weights: { 'cf-a': 0.97, 'cf-b': 0.03 }, target: { 'cf-a': 0.97, 'cf-b': 0.03 }, version: 7, updatedAt: '2026-11-24T10:07:10.000Z', reason: 'cf-b error rate 20% over 1,200 requests in DE; demoted 0.5 → 0.03', control: { 'cf-b': { cost: 9 } } },
            { pk: 'weights#*', scope: '*', weights: { 'cf-a': 0.5, 'cf-b': 0.5 }, version: 1, updatedAt: '2026-11-24T10:00:00.000Z', reason: 'no data: equal shares' },
          ].map((Item) => ({ PutRequest: { Item } })),
          [TABLES.rollups]: [
            rollup(CURRENT_MINUTE, 'cf-a', 'DE', { requests: 100, errors: 1, edgeTtfbMsSum: 3_000, edgeTtfbCount: 100, throughputKbpsSum: 50_000, throughputCount: 10, playMs: 9_000, stallMs: 1_000, reports: 20 }),
            rollup(CURRENT_MINUTE, 'cf-a', 'US', { requests: 300, errors: 3, edgeTtfbMsSum: 15_000, edgeTtfbCount: 300 }),
            rollup(CURRENT_MINUTE - MINUTE, 'cf-b', 'DE', { requests: 50, errors: 10, edgeTtfbMsSum: 5_000, edgeTtfbCount: 50 }),
            // Outside a 2-minute window.
            rollup(CURRENT_MINUTE - 5 * MINUTE, 'cf-b', 'DE', { requests: 999, errors: 999 }),
          ].map((Item) => ({ PutRequest: { Item } })),
        },
      }),
    );
    control = await startControlServer();
    // A port that was listening and is now closed: connections are refused.
    const dead = createServer();
    deadEndpoint = await listenOnLoopback(dead);
    await closeServer(dead);

    const { handle } = createOperatorApi({
      documents,
      tables: TABLES,
      distributions: [
        { id: 'cf-a', controlEndpoint: control.endpoint },
        { id: 'cf-c', controlEndpoint: deadEndpoint },
      ],
      now: () => NOW,
    });
    api = createServer((req, res) => {
      void handle(req, res).then((handled) => {
        if (!handled) sendJson(res, 404, { message: 'not an operator path' });
      });
    });
    base = await listenOnLoopback(api);
  });

  afterAll(async () => {
    if (api) await closeServer(api);
    if (control) await closeServer(control.server);
    documents?.destroy();
    await aws?.stop();
  });

  it('leaves paths outside /operator/api/ to the caller', async () => {
    const response = await fetch(`${base}/operator.html`);

    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ message: 'not an operator path' });
  });

  it('lists each asset with its head status, serving revision and the latest revision\'s failure reason', async () => {
    const response = await fetch(`${base}/operator/api/assets`);
    const body = (await response.json()) as { assets: Record<string, unknown>[] };

    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(body.assets.map((a) => a.assetId)).toEqual(['trailer', 'big-buck']);
    expect(body.assets[1]).toMatchObject({
      assetId: 'big-buck',
      status: 'FAILED',
      currentRevision: '20261124-090000-a',
      latestRevision: '20261124-100000-b',
      revisionCount: 2,
      latest: { revision: '20261124-100000-b', status: 'FAILED', errorReason: 'The file is not a video', errorCode: 'UNSUPPORTED' },
    });
  });

  it('reports an asset with no head item yet by its newest revision\'s status', async () => {
    const body = (await (await fetch(`${base}/operator/api/assets`)).json()) as { assets: Record<string, unknown>[] };

    expect(body.assets[0]).toMatchObject({ assetId: 'trailer', status: 'RECEIVED', latestRevision: '20261124-100500-c', revisionCount: 1 });
    expect(body.assets[0]).not.toHaveProperty('currentRevision');
  });

  it('returns the pathway registry and every scope\'s weights with version and reason, global first', async () => {
    const body = (await (await fetch(`${base}/operator/api/routing`)).json()) as Record<string, unknown>;

    expect(body.pathways).toEqual([
      { id: 'cf-a', host: 'a.twin', enabled: true, cap: 1 },
      { id: 'cf-b', host: 'b.twin', enabled: true, cap: 1 },
    ]);
    expect(body.scopes).toEqual([
      { scope: '*', weights: { 'cf-a': 0.5, 'cf-b': 0.5 }, version: 1, updatedAt: '2026-11-24T10:00:00.000Z', reason: 'no data: equal shares' },
      {
        scope: 'DE',
        weights: { 'cf-a': 0.97, 'cf-b': 0.03 },
        target: { 'cf-a': 0.97, 'cf-b': 0.03 },
        version: 7,
        updatedAt: '2026-11-24T10:07:10.000Z',
        reason: 'cf-b error rate 20% over 1,200 requests in DE; demoted 0.5 → 0.03',
      },
    ]);
  });

  it('sums QoE counters over countries per pathway and minute, and derives rates from the sums', async () => {
    const body = (await (await fetch(`${base}/operator/api/qoe?minutes=2`)).json()) as {
      minutes: number[];
      pathways: { pathway: string; total: Record<string, unknown>; points: Record<string, unknown>[] }[];
    };

    expect(body.minutes).toEqual([CURRENT_MINUTE - MINUTE, CURRENT_MINUTE]);
    expect(body.pathways.map((p) => p.pathway)).toEqual(['cf-a', 'cf-b']);
    const cfA = body.pathways[0]!;
    expect(cfA.points[0]).toMatchObject({ requests: 0, errorRate: null, meanTtfbMs: null });
    expect(cfA.points[1]).toMatchObject({
      requests: 400,
      reports: 20,
      errors: 4,
      errorRate: 0.01,
      rebufferingRatio: 0.1,
      // (3,000 + 15,000) ms over 400 samples: weighted by count, not a mean of the two cells' means.
      meanTtfbMs: 45,
      meanThroughputKbps: 5_000,
    });
    expect(body.pathways[1]!.total).toMatchObject({ requests: 50, errors: 10, errorRate: 0.2, meanTtfbMs: 100 });
  });

  it('gives a series per pathway and country', async () => {
    const body = (await (await fetch(`${base}/operator/api/qoe?minutes=2`)).json()) as {
      cells: { pathway: string; country: string; total: Record<string, unknown> }[];
    };

    expect(body.cells.map((c) => `${c.pathway}/${c.country}`)).toEqual(['cf-a/DE', 'cf-a/US', 'cf-b/DE']);
    expect(body.cells[1]!.total).toMatchObject({ requests: 300, errorRate: 0.01, meanTtfbMs: 50 });
  });

  it('reads 15 minutes by default, so older rollups show up', async () => {
    const body = (await (await fetch(`${base}/operator/api/qoe`)).json()) as {
      minutes: number[];
      pathways: { pathway: string; total: Record<string, unknown> }[];
    };

    expect(body.minutes).toHaveLength(15);
    expect(body.minutes.at(-1)).toBe(CURRENT_MINUTE);
    expect(body.pathways.find((p) => p.pathway === 'cf-b')!.total).toMatchObject({ requests: 1_049, errors: 1_009 });
  });

  it('rejects a QoE window outside 1 to 60 minutes', async () => {
    const responses = await Promise.all(['0', '61', 'abc', '1.5'].map((m) => fetch(`${base}/operator/api/qoe?minutes=${m}`)));

    expect(responses.map((r) => r.status)).toEqual([400, 400, 400, 400]);
  });

  it('answers one asset by id, for a player waiting for it to become READY', async () => {
    const response = await fetch(`${base}/operator/api/assets/trailer`);
    const body = (await response.json()) as { asset: Record<string, unknown> };

    expect(response.status).toBe(200);
    expect(body.asset).toMatchObject({ assetId: 'trailer', status: 'RECEIVED', latest: { revision: '20261124-100500-c' } });
  });

  it('answers 404 naming an asset that is not in the catalog yet', async () => {
    const response = await fetch(`${base}/operator/api/assets/${encodeURIComponent('my-film')}`);

    expect(response.status).toBe(404);
    expect(((await response.json()) as { message: string }).message).toBe('asset "my-film" is not in the catalog (yet)');
  });

  it('answers 404 for an unknown operator route and 405 for a write to a read-only one', async () => {
    const unknown = await fetch(`${base}/operator/api/nothing`);
    const write = await fetch(`${base}/operator/api/assets`, { method: 'POST', body: '{}' });

    expect(unknown.status).toBe(404);
    expect(write.status).toBe(405);
    expect(write.headers.get('allow')).toBe('GET, HEAD');
  });

  describe('faults proxy', () => {
    it('forwards a fault change to the distribution\'s control API and returns its faults', async () => {
      const response = await fetch(`${base}/operator/api/faults/cf-a`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ errorRate: 0.3, latencyMs: 800, down: false }),
      });

      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ id: 'cf-a', faults: { errorRate: 0.3, latencyMs: 800, down: false } });
      expect(control.received.at(-1)).toEqual({ method: 'POST', body: JSON.stringify({ latencyMs: 800, errorRate: 0.3, down: false }) });
    });

    it('lists every distribution\'s faults and names one whose control API is unreachable', async () => {
      const body = (await (await fetch(`${base}/operator/api/faults`)).json()) as { distributions: Record<string, unknown>[] };

      expect(body.distributions[0]).toEqual({ id: 'cf-a', faults: { errorRate: 0.3, latencyMs: 800, down: false } });
      expect(body.distributions[1]).toMatchObject({ id: 'cf-c' });
      expect(body.distributions[1]!.error).toMatch(/cf-c control API unavailable/);
    });

    it('heals a distribution with DELETE', async () => {
      const response = await fetch(`${base}/operator/api/faults/cf-a`, { method: 'DELETE' });

      expect(await response.json()).toEqual({ id: 'cf-a', faults: {} });
      expect(control.received.at(-1)?.method).toBe('DELETE');
    });

    it('rejects fields the control API does not know and out-of-range values without forwarding them', async () => {
      const before = control.received.length;

      const responses = await Promise.all(
        [{ errorRate: 1.5 }, { latencyMs: -1 }, { down: 'yes' }, { purge: true }, 'not json'].map((body) =>
          fetch(`${base}/operator/api/faults/cf-a`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) }),
        ),
      );

      expect(responses.map((r) => r.status)).toEqual([400, 400, 400, 400, 400]);
      expect(control.received.length).toBe(before);
    });

    it('answers 404 for a pathway that is not a local distribution', async () => {
      const response = await fetch(`${base}/operator/api/faults/cf-z`, { method: 'POST', body: '{"down":true}' });

      expect(response.status).toBe(404);
    });

    it('answers 502 when the distribution\'s control API is unreachable', async () => {
      const response = await fetch(`${base}/operator/api/faults/cf-c`, { method: 'DELETE' });

      expect(response.status).toBe(502);
      expect(((await response.json()) as { message: string }).message).toMatch(/cf-c/);
    });
  });
});
