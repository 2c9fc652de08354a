import { describe, expect, it } from 'vitest';
import { createOriginShield, type OriginAnswer } from '../../local/edge/origin-shield';

const ok = (body: string, cacheControl?: string): OriginAnswer => ({ status: 200, headers: cacheControl ? { 'cache-control': cacheControl } : {}, body: Buffer.from(body) });
const ttlOf = (answer: OriginAnswer) => (answer.headers['cache-control'] === 'no-store' ? 0 : 60);

/** A controllable S3: counts loads, resolves them when told. */
function origin(answer: () => OriginAnswer = () => ok('bytes')) {
  let loads = 0;
  const pending: (() => void)[] = [];
  return {
    load: () => {
      loads += 1;
      return new Promise<OriginAnswer>((resolve) => pending.push(() => resolve(answer())));
    },
    release: () => pending.splice(0).forEach((resolve) => resolve()),
    loads: () => loads,
  };
}

describe('the twin’s Origin Shield layer (ADR 0038)', () => {
  it('collapses concurrent misses for one object into one origin GET and counts the rest as hits', async () => {
    const shield = createOriginShield({ region: 'eu-west-1' });
    const s3 = origin();
    const fetches = [1, 2, 3].map(() => shield.fetch({ cacheScope: 'd1', distributionId: 'cf-a', path: '/media/x/seg1.m4s', ttlSeconds: ttlOf, load: s3.load }));
    s3.release();

    expect((await Promise.all(fetches)).map((a) => a.body.toString())).toEqual(['bytes', 'bytes', 'bytes']);
    expect(s3.loads()).toBe(1);
    expect(shield.countersOf('cf-a')).toEqual({ originGets: 1, shieldHits: 2, shieldMisses: 1, shieldFailovers: 0 });
  });

  it('keeps entries per distribution domain: two pathways each fetch an object once', async () => {
    const shield = createOriginShield({ region: 'eu-west-1' });
    const s3 = origin();
    const get = (scope: string, id: string) => {
      const answer = shield.fetch({ cacheScope: scope, distributionId: id, path: '/media/x/seg1.m4s', ttlSeconds: ttlOf, load: s3.load });
      s3.release();
      return answer;
    };
    await get('d1', 'cf-a-edge1');
    await get('d1', 'cf-a-edge2');
    await get('d2', 'cf-b-edge1');

    expect(s3.loads()).toBe(2);
    expect(shield.countersOf('cf-a-edge2')).toEqual({ originGets: 0, shieldHits: 1, shieldMisses: 0, shieldFailovers: 0 });
    expect(shield.size).toBe(2);
  });

  it('keeps nothing uncacheable: no-store and error answers go to the origin every time', async () => {
    const shield = createOriginShield({ region: 'eu-west-1' });
    const noStore = origin(() => ok('live', 'no-store'));
    const missing = origin(() => ({ status: 403, headers: {}, body: Buffer.from('AccessDenied') }));
    for (let i = 0; i < 2; i++) {
      const a = shield.fetch({ cacheScope: 'd1', distributionId: 'cf-a', path: '/live.m3u8', ttlSeconds: ttlOf, load: noStore.load });
      const b = shield.fetch({ cacheScope: 'd1', distributionId: 'cf-a', path: '/missing.m4s', ttlSeconds: ttlOf, load: missing.load });
      noStore.release();
      missing.release();
      await Promise.all([a, b]);
    }

    expect([noStore.loads(), missing.loads()]).toEqual([2, 2]);
    expect(shield.size).toBe(0);
  });

  it('fetches again once an entry has expired', async () => {
    let now = 0;
    const shield = createOriginShield({ region: 'eu-west-1', now: () => now });
    const s3 = origin();
    const get = async () => {
      const answer = shield.fetch({ cacheScope: 'd1', distributionId: 'cf-a', path: '/seg1.m4s', ttlSeconds: ttlOf, load: s3.load });
      s3.release();
      return answer;
    };
    await get();
    now = 59_999;
    await get();
    now = 60_000;
    await get();

    expect(s3.loads()).toBe(2);
  });

  it('invalidates one distribution’s matching entries only', async () => {
    const shield = createOriginShield({ region: 'eu-west-1' });
    const s3 = origin();
    for (const [scope, path] of [['d1', '/media/a/1.m4s'], ['d1', '/media/b/1.m4s'], ['d2', '/media/a/1.m4s']] as const) {
      const answer = shield.fetch({ cacheScope: scope, distributionId: scope, path, ttlSeconds: ttlOf, load: s3.load });
      s3.release();
      await answer;
    }

    expect(shield.invalidate('d1', (path) => path.startsWith('/media/a/'))).toBe(1);
    expect(shield.size).toBe(2);
  });
});

describe('the twin’s shared Origin Shield distribution (ADR 0098)', () => {
  const SECRET = 'pathways-only';
  const shared = () => createOriginShield({ region: 'eu-west-1', shared: { domainName: 'inner.cloudfront.twin', originSecret: SECRET } });
  /** An S3 that answers at once, counting loads. */
  function s3(answers: (() => OriginAnswer)[] = []) {
    let loads = 0;
    return { load: async () => (answers[loads++] ?? (() => ok('bytes')))(), loads: () => loads };
  }
  /** `originVerify` null: the pathway sends no origin-verify header. */
  const request = (pathway: string, load: () => Promise<OriginAnswer>, originVerify: string | null = SECRET) => ({
    cacheScope: `${pathway}.cloudfront.twin`,
    distributionId: pathway,
    path: '/media/x/seg1.m4s',
    ttlSeconds: ttlOf,
    load,
    ...(originVerify !== null ? { originVerify } : {}),
  });

  it('keeps one entry for every pathway: the inner distribution’s domain is the cache key scope', async () => {
    const shield = shared();
    const origin = s3();
    for (const pathway of ['cf-a', 'cf-b', 'cf-c']) expect((await shield.fetch(request(pathway, origin.load))).status).toBe(200);

    expect(origin.loads()).toBe(1);
    expect(shield.mode).toBe('shared');
    expect(shield.countersOf('cf-a')).toEqual({ originGets: 1, shieldHits: 0, shieldMisses: 1, shieldFailovers: 0 });
    expect(shield.countersOf('cf-c')).toEqual({ originGets: 0, shieldHits: 1, shieldMisses: 0, shieldFailovers: 0 });
    // Any pathway's invalidation reaches the one entry (the takedown invalidates the inner distribution too).
    expect(shield.invalidate('cf-b.cloudfront.twin', () => true)).toBe(1);
  });

  it('refuses a request without the secret, or with another, and the origin group reads S3 itself', async () => {
    const shield = shared();
    const origin = s3();
    expect((await shield.fetch(request('cf-a', origin.load, null))).status).toBe(200);
    expect((await shield.fetch(request('cf-a', origin.load, 'guess'))).status).toBe(200);

    expect(origin.loads()).toBe(2);
    expect(shield.size).toBe(0);
    expect(shield.countersOf('cf-a')).toEqual({ originGets: 2, shieldHits: 0, shieldMisses: 0, shieldFailovers: 2 });
  });

  it('fails over on the inner tier’s 5xx, 403 and an S3 error it could not answer, and serves the 403 of a missing object', async () => {
    const shield = shared();
    const unavailable: OriginAnswer = { status: 503, headers: {}, body: Buffer.from('') };
    const denied: OriginAnswer = { status: 403, headers: {}, body: Buffer.from('') };
    const flaky = s3([() => unavailable, () => ok('second try')]);
    expect((await shield.fetch(request('cf-a', flaky.load))).body.toString()).toBe('second try');
    const throwing = s3([
      () => {
        throw new Error('InternalError');
      },
    ]);
    expect((await shield.fetch({ ...request('cf-b', throwing.load), path: '/media/x/seg2.m4s' })).status).toBe(200);
    const missing = s3([() => denied, () => denied]);
    expect((await shield.fetch({ ...request('cf-c', missing.load), path: '/media/x/gone.m4s' })).status).toBe(403);

    expect(missing.loads()).toBe(2);
    expect(['cf-a', 'cf-b', 'cf-c'].map((p) => shield.countersOf(p).shieldFailovers)).toEqual([1, 1, 1]);
  });

  it('sends everything to S3 directly while it is down', async () => {
    const shield = shared();
    const origin = s3();
    shield.setDown(true);
    await shield.fetch(request('cf-a', origin.load));
    await shield.fetch(request('cf-b', origin.load));
    shield.setDown(false);
    await shield.fetch(request('cf-c', origin.load));
    await shield.fetch(request('cf-a', origin.load));

    expect(origin.loads()).toBe(3);
    expect(shield.countersOf('cf-a')).toMatchObject({ originGets: 1, shieldFailovers: 1, shieldHits: 1 });
  });
});
