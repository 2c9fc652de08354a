import { describe, expect, it } from 'vitest';
import { assertLoopback, NonLoopbackUrlError } from '../../local/audience/http-client';
import { isLocalhostName, lookupLocalhostNames } from '../../local/http-server';

const lookup = (hostname: string, options: { all?: boolean; family?: number } = {}) =>
  new Promise<unknown>((resolve, reject) =>
    lookupLocalhostNames(hostname, options as never, (error: Error | null, address: unknown, family?: number) =>
      error ? reject(error) : resolve(options.all ? address : { address, family }),
    ),
  );

describe('simulated viewers talk to the twin only', () => {
  it("accepts the twin's distribution host names under localhost", () => {
    expect(assertLoopback('http://cf-a.localhost:4581/tok/media/a/r/seg.m4s').host).toBe('cf-a.localhost:4581');
    expect(assertLoopback('http://GATEWAY.localhost.:4580/x').hostname).toBe('gateway.localhost.');
    expect(assertLoopback('http://127.0.0.1:4581/x').port).toBe('4581');
  });

  it('refuses a name that only looks like localhost, and any other host', () => {
    expect(() => assertLoopback('http://cf-a.localhost.example.com/x')).toThrow(NonLoopbackUrlError);
    expect(() => assertLoopback('http://notlocalhost:4581/x')).toThrow(NonLoopbackUrlError);
    expect(() => assertLoopback('http://cdn.example.com/x')).toThrow(NonLoopbackUrlError);
    expect(() => assertLoopback('https://cf-a.localhost:4581/x')).toThrow(NonLoopbackUrlError);
  });
});

describe('*.localhost names resolve to the address the twin listens on', () => {
  it('tells localhost names from others (RFC 6761 §6.3)', () => {
    expect(['localhost', 'cf-a.localhost', 'Gateway.LOCALHOST', 'cf-a.localhost.'].map(isLocalhostName)).toEqual([true, true, true, true]);
    expect(['localhost.example.com', 'mylocalhost', '127.0.0.1', ''].map(isLocalhostName)).toEqual([false, false, false, false]);
  });

  it('answers a name under localhost with 127.0.0.1, in the single and the all-addresses form', async () => {
    expect(await lookup('cf-b.localhost')).toEqual({ address: '127.0.0.1', family: 4 });
    expect(await lookup('gateway.localhost', { all: true })).toEqual([{ address: '127.0.0.1', family: 4 }]);
    // The twin listens on IPv4 loopback only, so that is the answer even when IPv6 is asked for.
    expect(await lookup('cf-c.localhost', { family: 6 })).toEqual({ address: '127.0.0.1', family: 4 });
  });
});
