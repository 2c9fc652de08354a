/** Small HTTP plumbing the twin's stand-in servers share: 127.0.0.1 listening, bodies, JSON replies. */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const LOOPBACK = '127.0.0.1';

/** Listens on 127.0.0.1 (port 0 = random) and resolves to the server's `http://127.0.0.1:<port>` base URL. */
export function listenOnLoopback(server: Server, port = 0): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOOPBACK, () => {
      server.off('error', reject);
      resolve(`http://${LOOPBACK}:${(server.address() as AddressInfo).port}`);
    });
  });
}

/** Closes a server, dropping kept-alive sockets so tests end promptly. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!server.listening) return resolve();
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeAllConnections();
  });
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

/**
 * An AWS JSON 1.1 protocol error: the SDK reads the error code from `__type` (or `x-amzn-errortype`)
 * and maps it to the service's modelled exception class.
 */
export function sendAwsJsonError(res: ServerResponse, status: number, type: string, message: string): void {
  sendJson(res, status, { __type: type, message }, {
    'content-type': 'application/x-amz-json-1.1',
    'x-amzn-errortype': type,
  });
}
