/**
 * qoe-aggregator benchmark (run: `npx tsx bench/aggregator.bench.ts [records]`, default 10,000).
 *
 * Measures, on one Kinesis-sized batch of telemetry records (80% CloudFront real-time log lines, 20%
 * ingest records of 3 hls.js CMCD lines; 3 pathways × 8 countries × 2 minutes = 48 cells):
 *  - core only: normalise + aggregate, records/s;
 *  - the whole handler (base64 decode, normalise, aggregate, idempotent writes, Powertools partial
 *    batch response) against a DynamoDB stand-in that answers every call at once, records/s;
 *  - DynamoDB UpdateItem calls per batch, which must equal the number of cells (O(cells), not O(records));
 *  - a baseline in the same process: JSON.parse of the same number of small objects, so runs on
 *    different machines compare as ratios.
 * Prints a table and one machine-readable JSON line (prefix "RESULT ").
 */
import type { KinesisStreamEvent } from 'aws-lambda';
import { encodeIngestRecord } from '../core/cmcd-report';
import { buildPathwayHosts } from '../core/pathway-hosts';
import { aggregateSamples, samplesOfStreamRecord } from '../core/qoe-aggregate';
import { formatRealtimeLogLine } from '../core/realtime-log';
import { createAggregatorHandler } from '../lambdas/qoe-aggregator/index';

const RECORDS = Number(process.argv[2] ?? 10_000);
const ROUNDS = 5;
const PATHWAYS = [
  { id: 'cf-a', host: 'd111111abcdef8.cloudfront.net', enabled: true, cap: 1 },
  { id: 'cf-b', host: 'd222222abcdef8.cloudfront.net', enabled: true, cap: 1 },
  { id: 'cf-c', host: 'd333333abcdef8.cloudfront.net', enabled: true, cap: 1 },
];
const COUNTRIES = ['DE', 'US', 'FR', 'GB', 'BR', 'IN', 'JP', 'XX'];
const T0 = 1_700_000_040_000;
const hosts = buildPathwayHosts(PATHWAYS);

function recordText(i: number): string {
  const pathway = PATHWAYS[i % PATHWAYS.length]!;
  const country = COUNTRIES[Math.floor(i / PATHWAYS.length) % COUNTRIES.length]!;
  const ts = T0 + (Math.floor(i / 24) % 2) * 60_000 + (i % 50_000);
  if (i % 5 === 4) {
    return encodeIngestRecord({
      rt: ts,
      country,
      asn: 3320,
      sid: `s${i}`,
      aid: 'big-buck',
      lines: [
        `bl=(8000),br=(3000),cid="big-buck",d=6000,e=rr,mtp=(5000),ot=v,rc=200,sf=h,sid="s${i}",sn=4,st=v,sta=p,ts=${ts},ttfb=45,ttlb=300,url="https://${pathway.host}/T/media/big-buck/r1/v720/seg_00003.m4s",v=2`,
        `bl=(8000),br=(3000),cid="big-buck",e=t,mtp=(5000),sf=h,sid="s${i}",sn=5,st=v,sta=p,ts=${ts},v=2`,
        `bl=(8000),br=(3000),cid="big-buck",e=ps,mtp=(5000),sf=h,sid="s${i}",sn=6,st=v,sta=r,ts=${ts},v=2`,
      ],
      // as the ingest writes it: every line's verified host, the default interval, a whole session-minute budget
      vh: [pathway.host, pathway.host, pathway.host],
      iv: 30_000,
      gms: 60_000,
      gn: 60,
    });
  }
  return formatRealtimeLogLine({
    timestamp: (ts / 1000).toFixed(3),
    'time-to-first-byte': '0.012',
    'sc-status': i % 97 === 0 ? 503 : 200,
    'sc-bytes': 1_843_200,
    'cs-method': 'GET',
    'cs-host': pathway.host,
    'cs-uri-stem': '/eyJ2IjoxfQ.AAAA/media/big-buck/r1/v720/seg_00003.m4s',
    'x-edge-location': 'FRA56-P3',
    'x-edge-request-id': `req-${i}`,
    'x-host-header': pathway.host,
    'time-taken': '0.215',
    'x-edge-result-type': 'Hit',
    'c-country': country,
    asn: 3320,
    'cmcd-encoded-bitrate': 3000,
    'cmcd-buffer-length': 12_400,
    'cmcd-measured-throughput': 8200,
    'cmcd-session-id': `s${i}`,
    'cmcd-version': 2,
  });
}

const texts = Array.from({ length: RECORDS }, (_, i) => recordText(i));
const event: KinesisStreamEvent = {
  Records: texts.map((text, i) => ({
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: `p${i}`,
      sequenceNumber: `4962${String(i + 1).padStart(52, '0')}`,
      data: Buffer.from(`${text}\n`).toString('base64'),
      approximateArrivalTimestamp: T0 / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `shardId-000000000000:4962${String(i + 1).padStart(52, '0')}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::123456789012:role/bench',
    awsRegion: 'eu-west-1',
    eventSourceARN: 'arn:aws:kinesis:eu-west-1:123456789012:stream/bench',
  })),
};

function best(fn: () => void): number {
  let fastest = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    fn();
    fastest = Math.min(fastest, Number(process.hrtime.bigint() - start) / 1e9);
  }
  return fastest;
}

async function bestAsync(fn: () => Promise<void>): Promise<number> {
  let fastest = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    await fn();
    fastest = Math.min(fastest, Number(process.hrtime.bigint() - start) / 1e9);
  }
  return fastest;
}

const baselineJson = texts.map((_, i) => JSON.stringify({ i, s: `s${i}`, v: [1, 2, 3] }));
const baselineSeconds = best(() => {
  for (const text of baselineJson) JSON.parse(text);
});

let cells = 0;
const coreSeconds = best(() => {
  const rollups = new Map();
  for (const text of texts) aggregateSamples(samplesOfStreamRecord(text, hosts).samples, rollups);
  cells = rollups.size;
});

let updateCalls = 0;
const ddbStandIn = {
  send: async (command: { constructor: { name: string } }) => {
    if (command.constructor.name === 'GetCommand') return { Item: { pk: 'pathways', pathways: PATHWAYS } };
    updateCalls += 1;
    return {};
  },
};
const handler = createAggregatorHandler({
  ddb: ddbStandIn as never,
  config: { rollupsTableName: 'rollups', routingTableName: 'routing', rollupTtlDays: 7 },
  logger: { info: () => {}, warn: () => {}, error: () => {} },
  metrics: { addMetric: () => {}, singleMetric: () => ({ addDimension: () => {}, addMetric: () => {} }) },
});
await handler(event); // warm-up and registry load
updateCalls = 0;
await handler(event);
const writesPerBatch = updateCalls;
const handlerSeconds = await bestAsync(async () => {
  await handler(event);
});

const result = {
  records: RECORDS,
  cells,
  coreRecordsPerSecond: Math.round(RECORDS / coreSeconds),
  handlerRecordsPerSecond: Math.round(RECORDS / handlerSeconds),
  updateItemCallsPerBatch: writesPerBatch,
  baselineJsonParsePerSecond: Math.round(RECORDS / baselineSeconds),
  coreVsBaseline: Number((baselineSeconds / coreSeconds).toFixed(3)),
  handlerVsBaseline: Number((baselineSeconds / handlerSeconds).toFixed(3)),
};
console.table({
  'core normalise+aggregate': { 'records/s': result.coreRecordsPerSecond, 'vs JSON.parse baseline': result.coreVsBaseline },
  'handler (DynamoDB stand-in)': { 'records/s': result.handlerRecordsPerSecond, 'vs JSON.parse baseline': result.handlerVsBaseline },
  'baseline JSON.parse': { 'records/s': result.baselineJsonParsePerSecond, 'vs JSON.parse baseline': 1 },
});
console.log(`UpdateItem calls per ${RECORDS}-record batch: ${writesPerBatch} (cells: ${cells})`);
console.log(`RESULT ${JSON.stringify(result)}`);
if (writesPerBatch !== cells) process.exitCode = 1;
