import { describe, expect, it } from 'vitest';
import { buildPathwayHosts, normalizeHost, pathwayOfCdnValue, pathwayOfHost, pathwayOfUrl } from '../../core/pathway-hosts';

const hosts = buildPathwayHosts([
  { id: 'cf-a', host: 'D111.cloudfront.net', enabled: true, cap: 1 },
  { id: 'cf-b', host: 'd222.cloudfront.net', enabled: false, cap: 1 },
  { id: 'twin-a', host: '127.0.0.1:4581', enabled: true, cap: 1 },
  { id: 'twin-b', host: '127.0.0.1:4582', enabled: true, cap: 1 },
]);

describe('pathway identification from hosts', () => {
  it('matches host names case-insensitively, without the root dot or a default port', () => {
    expect(pathwayOfHost(hosts, 'd111.CLOUDFRONT.net.')).toBe('cf-a');
    expect(pathwayOfHost(hosts, 'd111.cloudfront.net:443')).toBe('cf-a');
    expect(normalizeHost('Example.com:80')).toBe('example.com');
  });

  it('tells apart two CDNs on one address by port', () => {
    expect(pathwayOfHost(hosts, '127.0.0.1:4581')).toBe('twin-a');
    expect(pathwayOfHost(hosts, '127.0.0.1:4582')).toBe('twin-b');
    expect(pathwayOfHost(hosts, '127.0.0.1')).toBeUndefined();
  });

  it('keeps disabled pathways identifiable, so their recovery is seen', () => {
    expect(pathwayOfHost(hosts, 'd222.cloudfront.net')).toBe('cf-b');
  });

  it('identifies a pathway from a response URL or a CMCD cdn value', () => {
    expect(pathwayOfUrl(hosts, 'http://127.0.0.1:4582/tok/media/a/r/seg.m4s')).toBe('twin-b');
    expect(pathwayOfUrl(hosts, 'https://d111.cloudfront.net/tok/media/a/r/seg.m4s')).toBe('cf-a');
    expect(pathwayOfCdnValue(hosts, 'cf-b')).toBe('cf-b');
    expect(pathwayOfCdnValue(hosts, 'not a url')).toBeUndefined();
  });

  it('keeps IPv6 literals with their brackets and port', () => {
    expect(normalizeHost('[::1]:8080')).toBe('[::1]:8080');
    expect(normalizeHost('[::1]')).toBe('[::1]');
  });
});
