/**
 * The simulated viewers' HTTP: node:http with kept-alive connections (one pool per fleet), timing as a
 * browser's Resource Timing reports it (time to the response headers, time to the last byte), bodies
 * counted and dropped unless asked for, and hls.js's two timeouts per request (first byte, whole load).
 *
 * Loopback only: the fleet is a load generator, so it refuses any URL whose host is not 127.0.0.1,
 * ::1, localhost or a name under it (the twin's `cf-a.localhost`, resolved to 127.0.0.1 by the agent
 * itself) rather than be pointed at someone else's CDN by a stray URL in a manifest.
 */
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { isLocalhostName, lookupLocalhostNames } from '../http-server';

export class NonLoopbackUrlError extends Error {
  constructor(url: string) {
    super(`the simulated audience only talks to 127.0.0.1: refused ${url}`);
    this.name = 'NonLoopbackUrlError';
  }
}

const LOOPBACK_ADDRESSES = new Set(['127.0.0.1', '[::1]']);

export function assertLoopback(url: string): URL {
  const parsed = new URL(url);
  const loopback = LOOPBACK_ADDRESSES.has(parsed.hostname) || isLocalhostName(parsed.hostname);
  if (parsed.protocol !== 'http:' || !loopback) throw new NonLoopbackUrlError(url);
  return parsed;
}

export interface HttpRequestOptions {
  readonly method?: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** No response headers within this long: a timeout (hls.js `maxTimeToFirstByteMs`). */
  readonly firstByteTimeoutMs: number;
  /** Not complete within this long: a timeout (hls.js `maxLoadTimeMs`). */
  readonly loadTimeoutMs: number;
  /** Keep the body (playlists, JSON); segments are only counted. @default false */
  readonly keepBody?: boolean;
  readonly signal?: AbortSignal;
}

export type HttpFailure = 'timeout' | 'reset' | 'refused' | 'aborted' | 'network';

export interface HttpResult {
  /** HTTP status; 0 when no response arrived. */
  readonly status: number;
  /** 2xx and the whole body arrived. */
  readonly ok: boolean;
  readonly failure?: HttpFailure;
  /** Request start to response headers, ms (Resource Timing `responseStart - startTime`). */
  readonly ttfbMs?: number;
  /** Request start to the last byte or the failure, ms. */
  readonly ttlbMs: number;
  readonly bytes: number;
  readonly body?: Buffer;
}

export interface HttpClient {
  request(url: string, options: HttpRequestOptions): Promise<HttpResult>;
  /** Closes idle kept-alive connections. */
  close(): void;
}

function failureOf(error: unknown): HttpFailure {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'reset';
  if (code === 'ECONNREFUSED') return 'refused';
  return 'network';
}

export function createHttpClient(options: { readonly maxSocketsPerOrigin?: number } = {}): HttpClient {
  // Idle sockets are closed after 4 s, before the twin's servers close theirs (Node's default
  // keepAliveTimeout is 5 s): a request written into a socket the server is closing fails with a reset.
  // `lookup`: the twin's distributions are `cf-a.localhost:<port>`, which Node's resolver does not know.
  const agent = new Agent({
    keepAlive: true,
    timeout: 4_000,
    maxSockets: options.maxSocketsPerOrigin ?? 256,
    scheduling: 'lifo',
    lookup: lookupLocalhostNames,
  });

  function once(url: URL, o: HttpRequestOptions, startedAt: number): Promise<HttpResult & { reusedSocket: boolean }> {
    return new Promise((resolve) => {
      let settled = false;
      let ttfbMs: number | undefined;
      let status = 0;
      let bytes = 0;
      const chunks: Buffer[] = [];
      let reusedSocket = false;
      const finish = (result: Omit<HttpResult, 'ttlbMs' | 'bytes'> & { bytes?: number }) => {
        if (settled) return;
        settled = true;
        clearTimeout(firstByteTimer);
        clearTimeout(loadTimer);
        o.signal?.removeEventListener('abort', onAbort);
        resolve({ bytes, ...result, ttlbMs: performance.now() - startedAt, ...(ttfbMs !== undefined ? { ttfbMs } : {}), reusedSocket });
      };
      const fail = (failure: HttpFailure) => {
        finish({ status, ok: false, failure });
        req.destroy();
      };
      const onAbort = () => fail('aborted');
      const req = httpRequest(url, { agent, method: o.method ?? 'GET', headers: { ...o.headers, ...(o.body !== undefined ? { 'content-length': String(Buffer.byteLength(o.body)) } : {}) } });
      const firstByteTimer = setTimeout(() => fail('timeout'), o.firstByteTimeoutMs);
      const loadTimer = setTimeout(() => fail('timeout'), o.loadTimeoutMs);
      o.signal?.addEventListener('abort', onAbort, { once: true });
      req.on('socket', () => (reusedSocket = req.reusedSocket));
      req.on('response', (res: IncomingMessage) => {
        ttfbMs = performance.now() - startedAt;
        status = res.statusCode ?? 0;
        clearTimeout(firstByteTimer);
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (o.keepBody) chunks.push(chunk);
        });
        res.on('end', () =>
          finish({ status, ok: status >= 200 && status < 300, ...(o.keepBody ? { body: Buffer.concat(chunks) } : {}) }),
        );
        res.on('error', (error) => fail(failureOf(error)));
        // The connection closed before the body was complete (a CDN that dies mid-segment).
        res.on('close', () => {
          if (!res.complete) fail('reset');
        });
      });
      req.on('error', (error) => fail(failureOf(error)));
      if (o.signal?.aborted) return fail('aborted');
      req.end(o.body);
    });
  }

  return {
    async request(url, o) {
      const parsed = assertLoopback(url);
      const startedAt = performance.now();
      const first = await once(parsed, o, startedAt);
      // A kept-alive connection the server closed while idle resets the next request before any
      // response; browsers retry such a request on a new connection, and so do we (once).
      if (first.failure === 'reset' && first.reusedSocket && first.status === 0) return once(parsed, o, startedAt);
      return first;
    },
    close: () => agent.destroy(),
  };
}
