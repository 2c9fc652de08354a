import { describe, expect, it } from 'vitest';
import { portInUse, portInUseMessage } from '../../local/twin/port-in-use';

const SERVICES = { s3: 4560, dynamodb: 4561, 'cf-a': 4581, pages: 4590 };

describe('twin port in use', () => {
  it('finds the port of a listen EADDRINUSE error', () => {
    const error = Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:4561'), {
      code: 'EADDRINUSE',
      syscall: 'listen',
      address: '127.0.0.1',
      port: 4561,
    });
    expect(portInUse(error)).toBe(4561);
  });

  it('reads the port from the message when a server rethrows without the port field', () => {
    const error = Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:4560'), { code: 'EADDRINUSE' });
    expect(portInUse(error)).toBe(4560);
  });

  it('ignores every other error', () => {
    expect(portInUse(Object.assign(new Error('permission denied'), { code: 'EACCES', port: 80 }))).toBeUndefined();
    expect(portInUse('EADDRINUSE')).toBeUndefined();
    expect(portInUse(undefined)).toBeUndefined();
  });

  it('names the port, the twin service that wanted it and TWIN_PORT_BASE in one line', () => {
    const message = portInUseMessage(4581, SERVICES, 4560);
    expect(message).toBe(
      '[twin] port 4581 (cf-a) is already in use, probably by another `npm run dev`: stop it, or move every port with TWIN_PORT_BASE (now 4560), e.g. TWIN_PORT_BASE=5560 npm run dev',
    );
    expect(message).not.toContain('\n');
  });

  it('still names the port and TWIN_PORT_BASE for a port outside the layout', () => {
    expect(portInUseMessage(4599, SERVICES, 4560)).toMatch(/^\[twin\] port 4599 is already in use.*TWIN_PORT_BASE/);
  });
});
