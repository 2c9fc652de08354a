/**
 * Serves the twin's pages on 127.0.0.1: the reference player at `/`, the operator page at
 * `/operator.html` (both from local/public/), the player libraries under `/vendor/` straight from
 * node_modules (no CDN: the twin runs offline), the operator API, and `/api/*` proxied to the twin's
 * API Gateway so the player page calls `POST /sessions` without CORS.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { closeServer, listenOnLoopback, readBody, sendJson } from '../http-server';

export type PageRequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

export interface PageServerOptions {
  readonly root: string;
  readonly port?: number;
  /** The twin's HTTP API (playback + ingest), proxied under `/api/`. */
  readonly apiEndpoint: string;
  /** Served as `/twin/config.json` for the pages. */
  readonly config: Record<string, unknown>;
  /** Handlers tried before static files (the operator API); true = handled. */
  readonly handlers?: readonly PageRequestHandler[];
}

export interface PageServer {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Player libraries as their packages ship them (checked paths: hls.js 1.7, dash.js 5, Shaka Player 5.2, chart.js 4). */
export const VENDOR_FILES: Readonly<Record<string, string>> = {
  'hls.min.js': 'node_modules/hls.js/dist/hls.min.js',
  'dash.all.min.js': 'node_modules/dashjs/dist/modern/umd/dash.all.min.js',
  // The full build (DASH and HLS), compiled to ES5: the one the Shaka docs load with a script tag.
  'shaka-player.compiled.js': 'node_modules/shaka-player/dist/shaka-player.compiled.js',
  'chart.umd.js': 'node_modules/chart.js/dist/chart.umd.js',
};

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

async function sendFile(res: ServerResponse, file: string): Promise<void> {
  try {
    const body = await readFile(file);
    res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
    res.end(body);
  } catch {
    sendJson(res, 404, { message: 'not found' });
  }
}

async function proxyToApi(req: IncomingMessage, res: ServerResponse, apiEndpoint: string, path: string): Promise<void> {
  const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await readBody(req);
  const answer = await fetch(`${apiEndpoint}${path}`, {
    method: req.method ?? 'GET',
    headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
    ...(body ? { body: new Uint8Array(body) } : {}),
  });
  res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json', 'cache-control': 'no-store' });
  res.end(Buffer.from(await answer.arrayBuffer()));
}

export async function startPageServer(options: PageServerOptions): Promise<PageServer> {
  const publicDir = join(options.root, 'local', 'public');
  const server: Server = createServer((req, res) => {
    void (async () => {
      for (const handler of options.handlers ?? []) if (await handler(req, res)) return;
      const url = new URL(req.url ?? '/', 'http://localhost');
      const path = decodeURIComponent(url.pathname);
      if (path.startsWith('/api/')) return proxyToApi(req, res, options.apiEndpoint, `${path.slice(4)}${url.search}`);
      if (path === '/twin/config.json') return sendJson(res, 200, options.config, { 'cache-control': 'no-store' });
      if (path.startsWith('/vendor/')) {
        const vendored = VENDOR_FILES[path.slice('/vendor/'.length)];
        return vendored ? sendFile(res, join(options.root, vendored)) : sendJson(res, 404, { message: 'not found' });
      }
      const file = normalize(join(publicDir, path === '/' ? 'player.html' : path));
      if (!file.startsWith(publicDir + sep)) return sendJson(res, 404, { message: 'not found' });
      return sendFile(res, file);
    })().catch((error: unknown) => {
      console.warn('[twin pages] request failed', error);
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
  });
  const endpoint = await listenOnLoopback(server, options.port ?? 0);
  return { endpoint, stop: () => closeServer(server) };
}
