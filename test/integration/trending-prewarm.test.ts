import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateInitialKeyring } from '../../core/keyring';
import { createPrewarmHandler, SCHEDULED_EVENT } from '../../lambdas/prewarm/index';
import { type LocalAws, startLocalAws } from '../../local/aws-servers';
import { CatalogTable } from '../../tables/catalog-table';
import { TitleDemandTable } from '../../tables/title-demand-table';
import { TABLE_SPECS } from '../support/local-dynamodb';
import { putPathwayRegistry, routingTableSpecs } from '../support/routing-tables';
import { type RollupStages, startRollupStages } from '../support/rollup-stages';
import { FIXTURE_PATHWAYS, ingestRecordText } from '../support/telemetry';

// Trending pre-warm (ADR 0102) through the real pipeline on kinesalite and dynalite: player reports on the
// telemetry stream -> qoe-aggregator (stage 1, demand written as the minute ends) -> demand items in the rollups
// table -> the pre-warm's scheduled run reads them, claims the title and warms it through every pathway.
const ROUTING = 'Routing';
const ROLLUPS = 'Rollups';
const ASSETS = 'Assets';
const TELEMETRY = 'telemetry-trending';
const REVISION = '20261202-120000-0123456789abcdef01234567';
/** A minute well in the past: it has ended, so the aggregator writes its demand in the batch that carries it. */
const MINUTE = Math.floor((Date.now() - 10 * 60_000) / 60_000) * 60_000;
const keyring = generateInitialKeyring();

describe('trending pre-warm through the aggregator and the rollups table (ADR 0102)', () => {
  let aws: LocalAws;
  let ddb: DynamoDBDocumentClient;
  let stages: RollupStages | undefined;

  beforeAll(async () => {
    aws = await startLocalAws({ region: 'eu-west-1' });
    ddb = DynamoDBDocumentClient.from(aws.clients.dynamodb);
    await aws.createTables([...routingTableSpecs({ routingTableName: ROUTING, rollupsTableName: ROLLUPS }), TABLE_SPECS.catalog(ASSETS)]);
    await putPathwayRegistry(ddb, ROUTING, FIXTURE_PATHWAYS);
    await aws.createStream(TELEMETRY, 1);
    stages = await startRollupStages({ aws, ddb, telemetryStream: TELEMETRY, routingTableName: ROUTING, rollupsTableName: ROLLUPS, aggregator: { demandTopK: 10 } });
  });

  afterAll(async () => {
    await stages?.stop();
    await aws?.stop();
  });

  it('warms the title 30 sessions started watching, once per cooldown, and not the one 2 sessions watch', async () => {
    // Prepare: 30 sessions report on `premiere`, 2 on `quiet`, all in MINUTE; the catalog serves a revision of each
    const reports = [
      ...Array.from({ length: 30 }, (_, i) => ({ sid: `viewer-${i}`, aid: 'premiere' })),
      ...Array.from({ length: 2 }, (_, i) => ({ sid: `other-${i}`, aid: 'quiet' })),
    ].map(({ sid, aid }) =>
      ingestRecordText({ rt: MINUTE + 20_000, country: 'DE', sid, aid, lines: [`e=t,sta=p,sid="${sid}",ts=${MINUTE + 19_000}`] }),
    );
    await aws.clients.kinesis.send(
      new PutRecordsCommand({ StreamName: TELEMETRY, Records: reports.map((text, i) => ({ Data: Buffer.from(text), PartitionKey: `viewer-${i}` })) }),
    );
    for (const assetId of ['premiere', 'quiet']) {
      await ddb.send(new PutCommand({ TableName: ASSETS, Item: { assetId, sk: 'asset', status: 'READY', currentRevision: REVISION } }));
    }
    await stages!.drain();
    const fetched: string[] = [];
    const fetchFake = (async (input: string | URL | Request) => {
      const url = new URL(String(input));
      fetched.push(`${url.host}${url.pathname.replace(/^\/[^/]+/, '')}`);
      if (url.pathname.endsWith('main.m3u8')) {
        return new Response('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000000,RESOLUTION=640x360\nv360.m3u8\n', { status: 200 });
      }
      if (url.pathname.endsWith('v360.m3u8')) return new Response('#EXTM3U\n#EXTINF:6,\nv360_1.m4s\n#EXT-X-ENDLIST\n', { status: 200 });
      return new Response('bytes', { status: 200, headers: { 'x-cache': 'Miss from cloudfront' } });
    }) as typeof fetch;
    const prewarm = createPrewarmHandler({
      keyring: { get: async () => keyring },
      pathwayIds: ['cf-a', 'cf-b'],
      pathwayOrigins: ['https://a.cdn.test', 'https://b.cdn.test'],
      warmSeconds: 6,
      topRungs: 1,
      concurrency: 2,
      fetch: fetchFake,
      // The run two minutes after MINUTE: MINUTE is its last complete minute.
      now: () => MINUTE + 2 * 60_000 + 5_000,
      trendingTopK: 3,
      trendingMinSessions: 10,
      trendingRisePercent: 200,
      trendingBaselineMinutes: 5,
      trendingCooldownMinutes: 30,
      demand: new TitleDemandTable(ddb, ROLLUPS),
      catalog: new CatalogTable(ddb, ASSETS),
    });

    // Act
    const first = await prewarm({ 'detail-type': SCHEDULED_EVENT, detail: {} });
    const again = await prewarm({ 'detail-type': SCHEDULED_EVENT, detail: {} });

    // Assess: 30 distinct sessions estimated within the bitmap's error; the second run finds the claim
    expect(first.trending).toEqual([{ assetId: 'premiere', sessions: expect.any(Number), baseline: 0, revision: REVISION, outcome: 'warmed' }]);
    expect(first.trending![0]!.sessions).toBeGreaterThanOrEqual(29);
    expect(first.pathways).toEqual({ 'cf-a': { warmed: 2, alreadyCached: 0, failed: 0 }, 'cf-b': { warmed: 2, alreadyCached: 0, failed: 0 } });
    expect(fetched.filter((f) => f.startsWith('b.cdn.test')).sort()).toEqual([`b.cdn.test/media/premiere/${REVISION}/v360.m3u8`, `b.cdn.test/media/premiere/${REVISION}/v360_1.m4s`]);
    expect(again.trending).toEqual([expect.objectContaining({ assetId: 'premiere', outcome: 'cooling-down' })]);
    expect(fetched.some((f) => f.includes('/quiet/'))).toBe(false);
  });
});
