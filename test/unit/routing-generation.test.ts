import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudFrontKeyValueStoreClient, ConflictException, DescribeKeyValueStoreCommand, UpdateKeysCommand, ValidationException } from '@aws-sdk/client-cloudfront-keyvaluestore';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  effectiveShares,
  GLOBAL_ROUTING_GENERATION_KEY,
  generationChanges,
  isMaterialChange,
  MATERIAL_SHARE_CHANGE,
  parseRoutingGeneration,
  routingGenerationKey,
} from '../../core/routing-generation';
import type { PathwayEntry } from '../../core/routing-types';
import { ANNOUNCED_GENERATIONS_KEY, ETAG_CONFLICT_ATTEMPTS, GenerationPublishError, publishRoutingGenerations, UPDATE_KEYS_MAX_KEYS } from '../../lambdas/routing-weights/generations';
import { snapshotItemOf } from '../../tables/routing-table';
import { TwinKeyValueStore } from '../../local/edge/key-value-store';

const pathway = (id: string, enabled = true): PathwayEntry => ({ id, host: `${id}.example.net`, enabled, cap: 1 });
const PATHWAYS = [pathway('cf-a'), pathway('cf-b'), pathway('cf-c')];
const snapshotOf = (generation: number, weights: Record<string, Record<string, number>>, pathways = PATHWAYS) => ({
  generation,
  pathways,
  shares: new Map(Object.entries(weights)),
});

describe('routing generation: the rule for a new generation', () => {
  it('ranks by the same shares as the steering function: own weights, else global, else equal; over enabled pathways, normalised', () => {
    const weights: Record<string, Record<string, number>> = { '*': { 'cf-a': 2, 'cf-b': 2 }, DE: { 'cf-a': 0, 'cf-b': 0, 'cf-c': 0 }, FR: { 'cf-c': 1 } };
    const shares = new Map(Object.entries(weights));
    expect(effectiveShares(PATHWAYS, shares, 'FR')).toEqual({ 'cf-a': 0, 'cf-b': 0, 'cf-c': 1 });
    // DE's own weights total 0: ranked by the global ones.
    expect(effectiveShares(PATHWAYS, shares, 'DE')).toEqual({ 'cf-a': 0.5, 'cf-b': 0.5, 'cf-c': 0 });
    expect(effectiveShares([pathway('cf-a'), pathway('cf-b', false)], new Map(), '*')).toEqual({ 'cf-a': 1 });
    expect(effectiveShares([pathway('cf-a', false)], shares, '*')).toBeUndefined();
  });

  it('is material from the threshold of total variation on, not below', () => {
    const before = { 'cf-a': 0.5, 'cf-b': 0.3, 'cf-c': 0.2 };
    // 4 % of the sessions' first choices could move: the cached answers stand.
    expect(isMaterialChange(before, { 'cf-a': 0.46, 'cf-b': 0.34, 'cf-c': 0.2 })).toBe(false);
    expect(isMaterialChange(before, { 'cf-a': 0.5 - MATERIAL_SHARE_CHANGE, 'cf-b': 0.3 + MATERIAL_SHARE_CHANGE, 'cf-c': 0.2 })).toBe(true);
    expect(isMaterialChange(before, { 'cf-a': 0.3, 'cf-b': 0.3, 'cf-c': 0.4 })).toBe(true);
  });

  it('is material whenever a pathway goes to 0 or comes back, or the pathways differ, however small the shares', () => {
    expect(isMaterialChange({ 'cf-a': 0.99, 'cf-b': 0.01 }, { 'cf-a': 1, 'cf-b': 0 })).toBe(true);
    expect(isMaterialChange({ 'cf-a': 1, 'cf-b': 0 }, { 'cf-a': 0.99, 'cf-b': 0.01 })).toBe(true);
    expect(isMaterialChange({ 'cf-a': 0.5, 'cf-b': 0.5 }, { 'cf-a': 0.5, 'cf-c': 0.5 })).toBe(true);
    expect(isMaterialChange(undefined, { 'cf-a': 1 })).toBe(true);
  });

  it('compares with what was announced, so a slow drift is announced once it adds up', () => {
    const announced = new Map([['*', { generation: 1, shares: { 'cf-a': 0.5, 'cf-b': 0.5, 'cf-c': 0 } }]]);
    // Each tick moves 2 %: nothing for two ticks, then the third (6 % from the announcement) is a generation.
    const tick = (n: number) => snapshotOf(1 + n, { '*': { 'cf-a': 0.5 - 0.02 * n, 'cf-b': 0.5 + 0.02 * n } });
    expect(generationChanges(announced, tick(1))).toEqual([]);
    expect(generationChanges(announced, tick(2))).toEqual([]);
    expect(generationChanges(announced, tick(3)).map((c) => c.scope)).toEqual(['*']);
  });

  it('announces each country with its own weights under its own key, and never backwards', () => {
    const snapshot = snapshotOf(20, { '*': { 'cf-a': 1 }, DE: { 'cf-b': 1 }, XX: { 'cf-c': 1 } });
    const changes = generationChanges(new Map([['DE', { generation: 30, shares: { 'cf-a': 1, 'cf-b': 0, 'cf-c': 0 } }]]), snapshot);
    // DE was announced by a newer snapshot (an overlapping tick): left alone. "XX" is no scope.
    expect(changes.map((c) => c.scope)).toEqual(['*']);
    expect(changes[0]!.announcement.generation).toBe(20);
    expect(routingGenerationKey('*')).toBe(GLOBAL_ROUTING_GENERATION_KEY);
    expect(routingGenerationKey('DE')).toBe('rg.DE');
    expect(() => routingGenerationKey('XX')).toThrow(/not "\*" or a country/);
  });

  it('reads a key\'s g only when it is a generation', () => {
    expect(parseRoutingGeneration('1764675000000')).toBe(1_764_675_000_000);
    for (const bad of ['', '-1', '01', '1e3', '12345678901234567', ' 1', undefined, null]) expect(parseRoutingGeneration(bad)).toBeUndefined();
  });
});

describe('routing generation: publishing to the KeyValueStore', () => {
  const ARN = 'arn:aws:cloudfront::123456789012:key-value-store/abc';
  const kvsMock = mockClient(CloudFrontKeyValueStoreClient);
  const ddbMock = mockClient(DynamoDBDocumentClient);
  const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  const store = { client: new CloudFrontKeyValueStoreClient({ region: 'us-east-1' }), arn: ARN };

  function seed(generation: number, weights: Record<string, Record<string, number>>, announced?: { version: number; scopes: Record<string, unknown> }) {
    ddbMock.on(GetCommand, { Key: { pk: 'routing-snapshot#0' } }).resolves({ Item: snapshotItemOf(0, generation, PATHWAYS, new Map(Object.entries(weights))) });
    ddbMock.on(GetCommand, { Key: { pk: ANNOUNCED_GENERATIONS_KEY } }).resolves(announced ? { Item: { pk: ANNOUNCED_GENERATIONS_KEY, ...announced } } : {});
    ddbMock.on(PutCommand).resolves({});
  }
  const countries = (n: number) => Array.from({ length: n }, (_, i) => String.fromCharCode(65 + Math.floor(i / 26), 65 + (i % 26)));

  beforeEach(() => {
    kvsMock.reset();
    ddbMock.reset();
    let version = 1;
    kvsMock.on(DescribeKeyValueStoreCommand).callsFake(() => ({ ETag: `E${version}` }));
    kvsMock.on(UpdateKeysCommand).callsFake((input: { IfMatch: string }) => {
      if (input.IfMatch !== `E${version}`) throw new ConflictException({ message: 'etag', $metadata: {} });
      version++;
      return { ETag: `E${version}` };
    });
  });

  it('announces changed scopes in batches of at most 50 keys, each naming the ETag the last returned, then records them', async () => {
    const scopes = countries(60);
    seed(1_000, { '*': { 'cf-a': 1 }, ...Object.fromEntries(scopes.map((c) => [c, { 'cf-b': 1 }])) });

    const published = await publishRoutingGenerations(ddb, 'Routing', store);

    const updates = kvsMock.commandCalls(UpdateKeysCommand).map((c) => c.args[0].input);
    expect(updates.map((u) => u.Puts!.length)).toEqual([UPDATE_KEYS_MAX_KEYS, 61 - UPDATE_KEYS_MAX_KEYS]);
    expect(updates.map((u) => u.IfMatch)).toEqual(['E1', 'E2']);
    expect(kvsMock.commandCalls(DescribeKeyValueStoreCommand)).toHaveLength(1);
    expect(updates[0]!.Puts![0]).toEqual({ Key: 'rg.global', Value: '1000' });
    expect(published.announced).toHaveLength(61);
    const record = ddbMock.commandCalls(PutCommand)[0]!.args[0].input;
    expect(record.ConditionExpression).toBe('attribute_not_exists(pk)');
    expect(Object.keys(record.Item!.scopes)).toHaveLength(61);
    expect(record.Item!.scopes.DE ?? record.Item!.scopes[scopes[0]!]).toMatchObject({ generation: 1_000 });
  });

  it('writes nothing when no scope changed materially since its announcement', async () => {
    seed(2_000, { '*': { 'cf-a': 0.51, 'cf-b': 0.49 } }, { version: 3, scopes: { '*': { generation: 1_000, shares: { 'cf-a': 0.5, 'cf-b': 0.5, 'cf-c': 0 } } } });
    const published = await publishRoutingGenerations(ddb, 'Routing', store);
    expect(published.announced).toEqual([]);
    expect(kvsMock.commandCalls(UpdateKeysCommand)).toHaveLength(0);
    expect(ddbMock.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('re-reads the ETag and retries when the keyring rotation wrote the store in between', async () => {
    seed(3_000, { '*': { 'cf-a': 1 } }, { version: 3, scopes: { '*': { generation: 1_000, shares: { 'cf-a': 0, 'cf-b': 1, 'cf-c': 0 } } } });
    let rotated = false;
    kvsMock.on(DescribeKeyValueStoreCommand).callsFake(() => ({ ETag: rotated ? 'E-after-rotation' : 'E-before' }));
    kvsMock.on(UpdateKeysCommand).callsFake((input: { IfMatch: string }) => {
      if (!rotated) {
        rotated = true;
        throw new ConflictException({ message: 'the store changed', $metadata: {} });
      }
      expect(input.IfMatch).toBe('E-after-rotation');
      return { ETag: 'E-next' };
    });

    const published = await publishRoutingGenerations(ddb, 'Routing', store);

    expect(published).toMatchObject({ announced: ['*'], conflicts: 1, requests: 2 });
    const record = ddbMock.commandCalls(PutCommand)[0]!.args[0].input;
    expect(record.ExpressionAttributeValues).toEqual({ ':version': 3 });
    expect(record.Item).toMatchObject({ version: 4, scopes: { '*': { generation: 3_000 } } });
  });

  it('gives up after a bounded number of conflicts and records nothing it did not write', async () => {
    seed(4_000, { '*': { 'cf-a': 1 } });
    kvsMock.on(UpdateKeysCommand).rejects(new ConflictException({ message: 'etag', $metadata: {} }));
    const error = await publishRoutingGenerations(ddb, 'Routing', store).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GenerationPublishError);
    expect((error as GenerationPublishError).announced).toEqual([]);
    expect(kvsMock.commandCalls(UpdateKeysCommand)).toHaveLength(ETAG_CONFLICT_ATTEMPTS);
    expect(ddbMock.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('records the batches the store took when a later batch fails, so the next tick retries only the rest', async () => {
    seed(5_000, { '*': { 'cf-a': 1 }, ...Object.fromEntries(countries(60).map((c) => [c, { 'cf-b': 1 }])) });
    let calls = 0;
    kvsMock.on(UpdateKeysCommand).callsFake(() => {
      calls++;
      if (calls === 2) throw new ValidationException({ message: 'bad', $metadata: {} });
      return { ETag: 'E2' };
    });
    const error = (await publishRoutingGenerations(ddb, 'Routing', store).catch((e: unknown) => e)) as GenerationPublishError;
    expect(error.announced).toHaveLength(UPDATE_KEYS_MAX_KEYS);
    expect(Object.keys(ddbMock.commandCalls(PutCommand)[0]!.args[0].input.Item!.scopes)).toHaveLength(UPDATE_KEYS_MAX_KEYS);
  });

  it('the twin\'s store keeps the API\'s rules: the current ETag or ConflictException, at most 50 keys a request', async () => {
    const twin = new TwinKeyValueStore(ARN);
    const { ETag } = await twin.client.send(new DescribeKeyValueStoreCommand({ KvsARN: ARN }));
    await twin.client.send(new UpdateKeysCommand({ KvsARN: ARN, IfMatch: ETag!, Puts: [{ Key: 'rg.global', Value: '1' }] }));
    expect(twin.get('rg.global')).toBe('1');
    await expect(twin.client.send(new UpdateKeysCommand({ KvsARN: ARN, IfMatch: ETag!, Puts: [{ Key: 'rg.DE', Value: '1' }] }))).rejects.toBeInstanceOf(ConflictException);
    const many = Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    await expect(twin.client.send(new UpdateKeysCommand({ KvsARN: ARN, IfMatch: twin.etag, Puts: many }))).rejects.toBeInstanceOf(ValidationException);
    expect(twin.get('rg.DE')).toBeUndefined();
  });
});
