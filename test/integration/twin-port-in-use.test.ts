import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { twinPorts } from '../../local/dev';
import { firstPortInUse } from '../../local/twin/port-in-use';

/** Listens on 127.0.0.1:`port` (0 = any) and resolves to the server and its port. */
function occupy(port = 0): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

/** A port base whose whole twin layout is free right now. */
async function freePortBase(): Promise<number> {
  for (;;) {
    const base = 20_000 + 100 * Math.floor(Math.random() * 300);
    const { cdns, ...services } = twinPorts(base);
    if ((await firstPortInUse([...Object.values(services), ...cdns])) === undefined) return base;
  }
}

describe('twin port check', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });

  it('finds the first taken port of a list', async () => {
    const taken = await occupy();
    servers.push(taken.server);
    const free = await occupy();
    await new Promise((resolve) => free.server.close(resolve));

    expect(await firstPortInUse([free.port, taken.port])).toBe(taken.port);
    expect(await firstPortInUse([free.port])).toBeUndefined();
  });

  it('stops `npm run dev` with exit code 1 and one line naming the port, its service and TWIN_PORT_BASE when a port is taken', async () => {
    // Prepare: the twin's DynamoDB port is taken by someone else.
    const base = await freePortBase();
    const taken = await occupy(twinPorts(base).dynamodb);
    servers.push(taken.server);

    // Act
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile('npx', ['tsx', 'local/dev.ts', '--audience', '0'], { env: { ...process.env, TWIN_PORT_BASE: String(base) } }, (error, out, err) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout: out, stderr: err }),
      );
      child.stdin?.end();
    });

    // Assess
    const twinLines = stderr.split('\n').filter((line) => line.startsWith('[twin]'));
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(twinLines).toEqual([
      `[twin] port ${base + 1} (dynamodb) is already in use, probably by another \`npm run dev\`: stop it, or move every port with TWIN_PORT_BASE (now ${base}), e.g. TWIN_PORT_BASE=${base + 1000} npm run dev`,
    ]);
    expect(stderr).not.toMatch(/EADDRINUSE|\n\s+at /);
  });
});
