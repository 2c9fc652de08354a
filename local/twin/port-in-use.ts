/**
 * A second `npm run dev` (or anything else on the twin's ports) makes `listen` fail with EADDRINUSE.
 * The twin turns that into one line naming the port, which of its services wanted it and how to move
 * every port, instead of Node's stack trace.
 */

import { createServer } from 'node:net';

/**
 * The first of `ports` that cannot be listened on at `host`, or undefined when all are free. The twin
 * checks its whole layout before starting anything: some stand-ins (s3rver) report a taken port as
 * an unhandled 'error' event, not as a failed start, and half a twin should never come up.
 */
export async function firstPortInUse(ports: readonly number[], host = '127.0.0.1'): Promise<number | undefined> {
  for (const port of ports) {
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, host, () => probe.close(() => resolve(true)));
    });
    if (!free) return port;
  }
  return undefined;
}

/** A `listen` failure as Node reports it (`net.Server` 'error': code, syscall, address, port). */
interface ListenError {
  readonly code?: unknown;
  readonly port?: unknown;
}

/** The port an EADDRINUSE error is about, or undefined for any other error. */
export function portInUse(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, port } = error as ListenError;
  if (code !== 'EADDRINUSE') return undefined;
  if (typeof port === 'number') return port;
  // Some servers (s3rver, kinesalite) rethrow with the port only in the message: "listen EADDRINUSE: address already in use 127.0.0.1:4560".
  const match = /:(\d+)\s*$/.exec(String((error as Error).message ?? ''));
  return match ? Number(match[1]) : undefined;
}

/**
 * The message for a port that is taken, e.g. `port 4561 (dynamodb) is already in use …`.
 * `services` maps each twin service name to its port (`s3`, `dynamodb`, …, `cf-a`, `pages`).
 */
export function portInUseMessage(port: number, services: Readonly<Record<string, number>>, portBase: number): string {
  const owner = Object.entries(services).find(([, value]) => value === port)?.[0];
  return (
    `[twin] port ${port}${owner ? ` (${owner})` : ''} is already in use, probably by another \`npm run dev\`: ` +
    `stop it, or move every port with TWIN_PORT_BASE (now ${portBase}), e.g. TWIN_PORT_BASE=${portBase + 1000} npm run dev`
  );
}
