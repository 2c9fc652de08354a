/**
 * Small HTTP plumbing the twin's stand-in servers share: 127.0.0.1 listening, `*.localhost` host names
 * resolved to it on the Node side, bodies, JSON replies.
 */
import dns from 'node:dns';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, LookupFunction } from 'node:net';

export const LOOPBACK = '127.0.0.1';

/**
 * `localhost` and every name under it (`cf-a.localhost`): loopback names by RFC 6761 §6.3, case-insensitive,
 * with or without the DNS root dot.
 */
export function isLocalhostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

const systemLookup = dns.lookup;

/** A name under `localhost` (`cf-a.localhost`), which, unlike `localhost` itself, no hosts file lists. */
function isNameUnderLocalhost(hostname: string): boolean {
  return isLocalhostName(hostname) && hostname.toLowerCase().replace(/\.$/, '') !== 'localhost';
}

/**
 * A `dns.lookup` that answers names under `localhost` with 127.0.0.1 and asks the system for every other
 * name (`localhost` itself included: /etc/hosts has it).
 * The twin gives every distribution its own host name (`cf-a.localhost:4581`, `gateway.localhost:4580`), as
 * CloudFront does; Chromium and curl resolve such names to loopback themselves (RFC 6761 §6.3 asks resolvers
 * to), glibc's resolver behind Node's `dns.lookup` does not (ENOTFOUND). The answer is the IPv4 loopback
 * only, whatever family is asked for, because that is the one address the twin's servers listen on.
 */
export const lookupLocalhostNames = ((hostname: string, options: unknown, callback?: unknown) => {
  const [opts, done] = (typeof options === 'function' ? [{}, options] : [options ?? {}, callback]) as [
    dns.LookupOptions | number,
    (error: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void,
  ];
  if (!isNameUnderLocalhost(hostname)) return systemLookup(hostname, opts as dns.LookupAllOptions, done as never);
  const all = typeof opts === 'object' && opts.all === true;
  // Asynchronous like the real lookup: callers (net.connect) may rely on the callback coming later.
  process.nextTick(() => (all ? done(null, [{ address: LOOPBACK, family: 4 }]) : done(null, LOOPBACK, 4)));
}) as typeof dns.lookup & LookupFunction;

/**
 * Makes every client in this process resolve `*.localhost` (see {@link lookupLocalhostNames}): node:http
 * agents, `fetch` and the AWS SDK all connect through `net`, which calls `dns.lookup` at connect time. An
 * agent option would not do: the twin runs the real handlers and edge functions, which call the global
 * `fetch` (the steering function reads origin manifests through `http://cf-a.localhost:4581/…`) and take no
 * agent. Only names the system resolver cannot answer change, so nothing else in the process sees a
 * difference. Idempotent.
 */
export function resolveLocalhostNames(): void {
  if (dns.lookup !== lookupLocalhostNames) dns.lookup = lookupLocalhostNames;
}

/**
 * Connections a twin server's kernel accept queue holds before it drops new SYNs (ADR 0100). Node's default,
 * 511, overflowed at 2,000 simulated viewers: a dropped SYN is retried by the client's kernel after 1 s, then 3 s,
 * which a player sees as its 5 s first-byte timeout, and a retried session start adds to the queue. CloudFront
 * and API Gateway take connections at any rate; 4,096 is Linux's default `net.core.somaxconn`, the kernel's cap.
 */
export const LISTEN_BACKLOG = 4_096;

/** Listens on 127.0.0.1 (port 0 = random) and resolves to the server's `http://127.0.0.1:<port>` base URL. */
export function listenOnLoopback(server: Server, port = 0): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: LOOPBACK, backlog: LISTEN_BACKLOG }, () => {
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
