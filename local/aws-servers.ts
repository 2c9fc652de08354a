/**
 * The twin's AWS-compatible servers (docs/architecture.md#the-local-twin): s3rver (S3), dynalite (DynamoDB) and kinesalite
 * (Kinesis), all in-process and bound to 127.0.0.1. Handlers reach them unmodified through the
 * SDK's standard `AWS_ENDPOINT_URL_<SERVICE>` variables (see `twinEnvironment`).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { RequestListener, Server } from 'node:http';
import { createServer as createHttp2Server } from 'node:http2';
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateTableCommand,
  DynamoDBClient,
  waitUntilTableExists,
  type AttributeDefinition,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, KinesisClient, waitUntilStreamExists } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import S3rver from 's3rver';
import dynalite from 'dynalite';
import kinesalite from 'kinesalite';
import { createAwsMeters, type AwsUsage } from './aws-meters';
import { closeServer, LISTEN_BACKLOG, listenOnLoopback, LOOPBACK } from './http-server';
import { startHelperProcess } from './twin/helper-process';

export const TWIN_HOST = LOOPBACK;

/**
 * s3rver checks SigV4 signatures against its one built-in account, whose key pair is S3RVER/S3RVER;
 * dynalite and kinesalite accept any credentials, so one dummy pair serves all three.
 */
export const TWIN_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface LocalAwsOptions {
  /** Fixed ports; 0 or absent = a random free port. */
  readonly ports?: { readonly s3?: number; readonly dynamodb?: number; readonly kinesis?: number };
  /** @default 'us-east-1' */
  readonly region?: string;
  /** Where s3rver keeps objects. @default a fresh temporary directory, removed on stop */
  readonly s3Directory?: string;
  /**
   * Where dynalite and kinesalite run: in this process, or in a child process of their own with its own event
   * loop (ADR 0100), as DynamoDB and Kinesis are services apart from the functions that call them.
   * @default 'in-process'
   */
  readonly dataStandIns?: 'in-process' | 'own-process';
}

export interface LocalAwsEndpoints {
  readonly s3: string;
  readonly dynamodb: string;
  readonly kinesis: string;
}

/** Endpoints of the twin's other stand-ins, started separately (MediaConvert, Secrets Manager, EventBridge, CloudFront's API). */
export interface ExtraEndpoints {
  readonly mediaconvert?: string;
  readonly secretsManager?: string;
  readonly eventbridge?: string;
  readonly cloudfront?: string;
}

export interface KeyAttribute {
  readonly name: string;
  readonly type: 'S' | 'N' | 'B';
}

/** A DynamoDB table declared as data, the way the CDK constructs declare it. */
export interface TableSpec {
  readonly tableName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly globalSecondaryIndexes?: readonly {
    readonly indexName: string;
    readonly partitionKey: KeyAttribute;
    readonly sortKey?: KeyAttribute;
  }[];
}

export interface LocalAws {
  readonly region: string;
  readonly endpoints: LocalAwsEndpoints;
  /** The s3rver instance; its `event` emitter stands in for S3 → EventBridge notifications. */
  readonly s3rver: S3rver;
  readonly clients: { readonly s3: S3Client; readonly dynamodb: DynamoDBClient; readonly kinesis: KinesisClient };
  /** Environment variables that point unmodified SDK clients at the twin. */
  environment(extra?: ExtraEndpoints): Record<string, string>;
  /** Writes `environment(extra)` into `process.env`; returns a function restoring the previous values. */
  applyEnvironment(extra?: ExtraEndpoints): () => void;
  createBuckets(names: readonly string[]): Promise<void>;
  createTables(specs: readonly TableSpec[]): Promise<void>;
  createStream(streamName: string, shardCount?: number): Promise<void>;
  /**
   * What was asked of the three services so far, metered as AWS meters it (local/aws-meters.ts, ADR 0077).
   * Throws when dynalite and kinesalite run in their own process: use {@link readUsage}.
   */
  usage(): AwsUsage;
  /** The same, wherever the stand-ins run, with the CPU time of their own process (0 when in this one), ms. */
  readUsage(): Promise<{ readonly usage: AwsUsage; readonly standInsCpuMs: number }>;
  stop(): Promise<void>;
}

/** SDK client configuration for s3rver: path-style URLs and no aws-chunked bodies (docs/architecture.md#toolchain-and-stand-in-quirks). */
export function s3ClientConfig(endpoint: string, region: string) {
  return {
    endpoint,
    region,
    credentials: TWIN_CREDENTIALS,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED' as const,
    responseChecksumValidation: 'WHEN_REQUIRED' as const,
  };
}

/** HTTP/1.1 straight to kinesalite (the endpoint also accepts the client's default HTTP/2). */
export function kinesisClientConfig(endpoint: string, region: string) {
  return { endpoint, region, credentials: TWIN_CREDENTIALS, requestHandler: new NodeHttpHandler() };
}

export function twinEnvironment(
  endpoints: LocalAwsEndpoints,
  region: string,
  extra: ExtraEndpoints = {},
): Record<string, string> {
  const env: Record<string, string> = {
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: TWIN_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TWIN_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_KINESIS: endpoints.kinesis,
    // Handlers cannot be told `forcePathStyle`, but the S3 endpoint rules use path-style for an IP
    // host anyway; the checksum settings have environment equivalents in the SDK's shared config.
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
  };
  if (extra.mediaconvert) env.AWS_ENDPOINT_URL_MEDIACONVERT = extra.mediaconvert;
  if (extra.secretsManager) env.AWS_ENDPOINT_URL_SECRETS_MANAGER = extra.secretsManager;
  if (extra.eventbridge) env.AWS_ENDPOINT_URL_EVENTBRIDGE = extra.eventbridge;
  if (extra.cloudfront) env.AWS_ENDPOINT_URL_CLOUDFRONT = extra.cloudfront;
  return env;
}

/** Applies environment variables to `process.env`; the returned function restores the previous state. */
export function applyToProcessEnv(vars: Record<string, string>): () => void {
  const previous = new Map<string, string | undefined>();
  for (const [name, value] of Object.entries(vars)) {
    previous.set(name, process.env[name]);
    process.env[name] = value;
  }
  return () => {
    for (const [name, value] of previous) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

/**
 * kinesalite speaks HTTP/1.1 only, but the Kinesis client's default handler is HTTP/2 (prior
 * knowledge, cleartext). So that handlers need no twin-specific `requestHandler`, the twin's Kinesis
 * endpoint is a TCP front that looks at the first bytes: the HTTP/2 connection preface goes to an
 * h2c server running kinesalite's request handler (through Node's HTTP/2 compatibility API),
 * anything else straight to kinesalite.
 */
async function startDualProtocolFront(
  http1: Server,
  port: number,
  meter: (handler: RequestListener) => RequestListener,
): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const kinesaliteHandler = meter(http1.listeners('request')[0] as RequestListener);
  http1.removeAllListeners('request');
  http1.on('request', kinesaliteHandler);
  const http2 = createHttp2Server();
  http2.on('request', (req, res) => kinesaliteHandler(req as never, res as never));
  const http1Url = await listenOnLoopback(http1, 0);
  const http2Url = await listenOnLoopback(http2 as unknown as Server, 0);
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  const front = createTcpServer((socket) => {
    track(socket);
    socket.once('data', (chunk) => {
      const isHttp2 = chunk.subarray(0, 14).toString('latin1') === 'PRI * HTTP/2.0';
      const upstream = connect(Number(new URL(isHttp2 ? http2Url : http1Url).port), LOOPBACK);
      track(upstream);
      upstream.write(chunk);
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    });
  });
  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.listen({ port, host: LOOPBACK, backlog: LISTEN_BACKLOG }, () => resolve());
  });
  return {
    endpoint: `http://${LOOPBACK}:${(front.address() as AddressInfo).port}`,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => front.close(() => resolve()));
      await new Promise<void>((resolve) => http2.close(() => resolve()));
      await closeServer(http1);
    },
  };
}

/** dynalite and kinesalite, metered, listening on 127.0.0.1; run in the twin's process or in their own (local/aws-process.ts). */
export interface DataStandIns {
  readonly dynamodb: string;
  readonly kinesis: string;
  usage(): AwsUsage;
  stop(): Promise<void>;
}

export async function startDataStandIns(ports: { readonly dynamodb?: number; readonly kinesis?: number } = {}): Promise<DataStandIns> {
  const meters = createAwsMeters();
  // Table/stream status transitions are instant: the twin has no provisioning to wait for.
  const dynamoServer = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const dynaliteHandler = dynamoServer.listeners('request')[0] as RequestListener;
  dynamoServer.removeAllListeners('request');
  dynamoServer.on('request', meters.meterDynamoDb(dynaliteHandler));
  const kinesisServer = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0 });
  const kinesisFront = await startDualProtocolFront(kinesisServer, ports.kinesis ?? 0, meters.meterKinesis);
  const dynamodb = await listenOnLoopback(dynamoServer, ports.dynamodb ?? 0);
  return {
    dynamodb,
    kinesis: kinesisFront.endpoint,
    usage: () => meters.usage(),
    async stop() {
      await closeServer(dynamoServer);
      await kinesisFront.stop();
    },
  };
}

/** The S3 part of the usage (s3rver stays in the twin's process: its events are the bucket notifications). */
function withS3(usage: AwsUsage, s3: AwsUsage['s3']): AwsUsage {
  return { ...usage, s3 };
}

export async function startLocalAws(options: LocalAwsOptions = {}): Promise<LocalAws> {
  const region = options.region ?? 'us-east-1';
  const ownDirectory = options.s3Directory === undefined;
  const directory = options.s3Directory ?? (await mkdtemp(join(tmpdir(), 'twin-s3-')));

  const s3rver = new S3rver({
    address: TWIN_HOST,
    port: options.ports?.s3 ?? 0,
    silent: true,
    directory,
    vhostBuckets: false,
  });
  const s3Address = await s3rver.run();
  const s3Meters = createAwsMeters();
  s3rver.httpServer?.on('request', s3Meters.observeS3);
  const ports = { ...(options.ports?.dynamodb !== undefined ? { dynamodb: options.ports.dynamodb } : {}), ...(options.ports?.kinesis !== undefined ? { kinesis: options.ports.kinesis } : {}) };
  const data: DataStandIns | RemoteDataStandIns =
    options.dataStandIns === 'own-process' ? await startDataStandInsProcess(ports) : await startDataStandIns(ports);
  const endpoints: LocalAwsEndpoints = {
    s3: `http://${TWIN_HOST}:${s3Address.port}`,
    dynamodb: data.dynamodb,
    kinesis: data.kinesis,
  };

  const clients = {
    s3: new S3Client(s3ClientConfig(endpoints.s3, region)),
    dynamodb: new DynamoDBClient({ endpoint: endpoints.dynamodb, region, credentials: TWIN_CREDENTIALS }),
    kinesis: new KinesisClient(kinesisClientConfig(endpoints.kinesis, region)),
  };

  return {
    region,
    endpoints,
    s3rver,
    clients,
    environment: (extra) => twinEnvironment(endpoints, region, extra),
    applyEnvironment: (extra) => applyToProcessEnv(twinEnvironment(endpoints, region, extra)),
    async createBuckets(names) {
      for (const Bucket of names) await clients.s3.send(new CreateBucketCommand({ Bucket }));
    },
    async createTables(specs) {
      for (const spec of specs) {
        await clients.dynamodb.send(new CreateTableCommand(createTableInput(spec)));
        await waitUntilTableExists(
          { client: clients.dynamodb, maxWaitTime: 10, minDelay: 0.05, maxDelay: 0.2 },
          { TableName: spec.tableName },
        );
      }
    },
    async createStream(StreamName, ShardCount = 1) {
      await clients.kinesis.send(new CreateStreamCommand({ StreamName, ShardCount }));
      await waitUntilStreamExists(
        { client: clients.kinesis, maxWaitTime: 10, minDelay: 0.05, maxDelay: 0.2 },
        { StreamName },
      );
    },
    usage: () => {
      if ('remoteUsage' in data) throw new Error('the data stand-ins run in their own process: read their usage with readUsage()');
      return withS3(data.usage(), s3Meters.usage().s3);
    },
    async readUsage() {
      const remote = 'remoteUsage' in data ? await data.remoteUsage() : { usage: data.usage(), cpuMs: 0 };
      return { usage: withS3(remote.usage, s3Meters.usage().s3), standInsCpuMs: remote.cpuMs };
    },
    async stop() {
      clients.s3.destroy();
      clients.dynamodb.destroy();
      clients.kinesis.destroy();
      s3rver.httpServer?.closeAllConnections?.();
      await s3rver.close();
      await data.stop();
      if (ownDirectory) await rm(directory, { recursive: true, force: true });
    },
  };
}

/** The data stand-ins in a child process: endpoints, usage and CPU time by message (local/aws-process.ts). */
interface RemoteDataStandIns {
  readonly dynamodb: string;
  readonly kinesis: string;
  remoteUsage(): Promise<{ readonly usage: AwsUsage; readonly cpuMs: number }>;
  stop(): Promise<void>;
}

/** The environment variable local/aws-process.ts takes its ports from. */
export const DATA_STAND_INS_ENV = 'TWIN_DATA_STAND_INS';

async function startDataStandInsProcess(ports: { readonly dynamodb?: number; readonly kinesis?: number }): Promise<RemoteDataStandIns> {
  const helper = await startHelperProcess<{ dynamodb: string; kinesis: string }, AwsUsage>(new URL('./aws-process.ts', import.meta.url), DATA_STAND_INS_ENV, ports);
  return { ...helper.ready, remoteUsage: () => helper.usage(), stop: () => helper.stop() };
}

function keySchema(partitionKey: KeyAttribute, sortKey?: KeyAttribute): KeySchemaElement[] {
  const schema: KeySchemaElement[] = [{ AttributeName: partitionKey.name, KeyType: 'HASH' }];
  if (sortKey) schema.push({ AttributeName: sortKey.name, KeyType: 'RANGE' });
  return schema;
}

export function createTableInput(spec: TableSpec) {
  const attributes = new Map<string, KeyAttribute['type']>();
  const note = (key?: KeyAttribute) => key && attributes.set(key.name, key.type);
  note(spec.partitionKey);
  note(spec.sortKey);
  for (const gsi of spec.globalSecondaryIndexes ?? []) {
    note(gsi.partitionKey);
    note(gsi.sortKey);
  }
  const definitions: AttributeDefinition[] = [...attributes].map(([AttributeName, AttributeType]) => ({
    AttributeName,
    AttributeType,
  }));
  const gsis = spec.globalSecondaryIndexes ?? [];
  return {
    TableName: spec.tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: definitions,
    KeySchema: keySchema(spec.partitionKey, spec.sortKey),
    ...(gsis.length > 0 && {
      GlobalSecondaryIndexes: gsis.map((gsi) => ({
        IndexName: gsi.indexName,
        KeySchema: keySchema(gsi.partitionKey, gsi.sortKey),
        Projection: { ProjectionType: 'ALL' as const },
      })),
    }),
  };
}
