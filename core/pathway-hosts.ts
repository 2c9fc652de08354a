import type { PathwayEntry } from './routing-types';

/**
 * Host name -> pathway id lookup built from the routing table's `pathways` registry: a real-time log
 * line names its pathway by host (`x-host-header`), a CMCD report line by its `cdn` key, host `h` or
 * response `url` (docs/telemetry.md).
 * Disabled pathways stay in the lookup: their QoE is what tells the scorer they have recovered.
 */
export interface PathwayHosts {
  readonly byHost: ReadonlyMap<string, string>;
  readonly ids: ReadonlySet<string>;
}

/**
 * Host names compare case-insensitively and without the DNS root dot (RFC 3986 §3.2.2). A port is part of
 * the identity unless it is the scheme default (80/443): two CDNs may share one address on different ports
 * (the twin's names all carry one), while `x-host-header` and URLs may or may not spell a default port.
 */
export function normalizeHost(host: string): string {
  const h = host.trim().toLowerCase();
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(h);
  if (match === null) return h;
  const name = match[1]!.endsWith('.') ? match[1]!.slice(0, -1) : match[1]!;
  const port = match[2];
  return port === undefined || port === '80' || port === '443' ? name : `${name}:${port}`;
}

export function buildPathwayHosts(entries: readonly PathwayEntry[]): PathwayHosts {
  const byHost = new Map<string, string>();
  const ids = new Set<string>();
  for (const entry of entries) {
    ids.add(entry.id);
    byHost.set(normalizeHost(entry.host), entry.id);
  }
  return { byHost, ids };
}

export function pathwayOfHost(hosts: PathwayHosts, host: string | undefined): string | undefined {
  if (host === undefined || host === '' || host === '-') return undefined;
  return hosts.byHost.get(normalizeHost(host));
}

export function pathwayOfUrl(hosts: PathwayHosts, url: string | undefined): string | undefined {
  if (url === undefined || url === '') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  return pathwayOfHost(hosts, parsed.host);
}

/**
 * The CMCD `cdn` key is free text (CTA-5004-B "CDN ID", ≤128 chars): players may send the pathway id
 * itself (what content steering calls it), the CDN host name, or a URL. Accept all three.
 */
export function pathwayOfCdnValue(hosts: PathwayHosts, value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (hosts.ids.has(value)) return value;
  if (value.includes('://')) return pathwayOfUrl(hosts, value);
  return pathwayOfHost(hosts, value);
}
