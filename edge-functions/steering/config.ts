import type { UrlScheme } from '../../core/playback-paths';
import { DEFAULT_SESSION_STEERING_POLICY, type SessionSteeringPolicy } from '../../core/session-steering';
import type { EdgeFunctionDefinition } from '../shared/baked-config';
import { isPathwayHost, isPathwayId } from '../../core/identifiers';
import type { PathwayEntry } from '../../core/routing-types';
import { parseKeyringSourceConfig, type KeyringSourceConfig } from '../shared/keyring-source';

/**
 * Build-time configuration of the steering function. Lambda@Edge has no environment variables
 * (ADR 0032), so the CDK bakes this object into the bundle (edge-functions/shared/baked-config.ts)
 * and the function validates it once at init. Hand-written validation keeps the edge bundle small.
 * Origin manifests are read through the delivery pathways (ADR 0003), so no origin bucket is
 * needed; unknown keys (e.g. an `origin` block) are ignored.
 */
export interface SteeringEdgeConfig {
  readonly keyring: KeyringSourceConfig;
  /** The routing table (registry item `pathways`, items `weights#<scope>`; core/routing-types.ts). */
  readonly routingTable: { readonly name: string; readonly region: string };
  /** TTL of every steering manifest; players reload steering this often. */
  readonly steeringTtlSeconds: number;
  /**
   * Refresh period of the routing snapshot (ADR 0048): each container reads one snapshot item at most
   * once per this many seconds (5 → ≤ 12 reads per container per minute).
   */
  readonly routingCacheSeconds: number;
  /**
   * Static weights for a container that has no routing snapshot yet (cold start before its first read
   * succeeds, or before routing-weights' first tick): the registry's enabled pathways with their
   * configured weights. `host` is absent where it is unknown at build time (a CloudFront pathway's
   * domain is a deploy-time token): such a pathway can be steered to by id (steering manifests) but not
   * listed in a playback manifest. @default [] (no snapshot → 503)
   */
  readonly staticPathways?: readonly StaticPathwayConfig[];
  /**
   * Scheme of every URL the function builds (media base URLs, steering URI, origin fetch). Only the
   * local twin, which has no TLS, bakes `http`. @default 'https'
   */
  readonly publicScheme?: UrlScheme;
  /**
   * Per-session steering thresholds (core/session-steering.ts, ADRs 0045–0047); each key may be given
   * alone. @default DEFAULT_SESSION_STEERING_POLICY: hold a left pathway ≥ 300 s, remember 1800 s,
   * healthy again at ≥ 0.8 × its share when left, collapse below 0.5 × the session's best report and
   * below 1 Mbit/s.
   */
  readonly sessionSteering?: Partial<SessionSteeringPolicy>;
}

export class InvalidSteeringConfigError extends Error {
  constructor(path: string, value: unknown) {
    super(`invalid steering edge config: ${path} = ${JSON.stringify(value)}`);
    this.name = 'InvalidSteeringConfigError';
  }
}

const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;

function field(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);
}

function str(raw: unknown, path: string, pattern?: RegExp): string {
  const v = field(raw, path);
  if (typeof v !== 'string' || v === '' || (pattern !== undefined && !pattern.test(v))) throw new InvalidSteeringConfigError(path, v);
  return v;
}

function int(raw: unknown, path: string, min: number, max: number): number {
  const v = field(raw, path);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new InvalidSteeringConfigError(path, v);
  return v;
}

function scheme(raw: unknown, path: string): UrlScheme {
  const v = field(raw, path);
  if (v === undefined) return 'https';
  if (v !== 'https' && v !== 'http') throw new InvalidSteeringConfigError(path, v);
  return v;
}

/** A number within [min, max] (`exclusiveMin`: above min), or the default when the key is absent. */
function numberOr(raw: unknown, path: string, fallback: number, min: number, max: number, exclusiveMin = false): number {
  const v = field(raw, path);
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (exclusiveMin && v === min) || v > max) throw new InvalidSteeringConfigError(path, v);
  return v;
}

/** Thresholds of per-session steering; every key optional, each checked against what makes sense. */
function sessionSteering(raw: unknown): SessionSteeringPolicy {
  const block = field(raw, 'sessionSteering');
  if (block !== undefined && (block === null || typeof block !== 'object' || Array.isArray(block))) throw new InvalidSteeringConfigError('sessionSteering', block);
  const d = DEFAULT_SESSION_STEERING_POLICY;
  const policy: SessionSteeringPolicy = {
    minAvoidSeconds: numberOr(raw, 'sessionSteering.minAvoidSeconds', d.minAvoidSeconds, 10, 3600),
    memorySeconds: numberOr(raw, 'sessionSteering.memorySeconds', d.memorySeconds, 60, 86_400),
    recoveryShareRatio: numberOr(raw, 'sessionSteering.recoveryShareRatio', d.recoveryShareRatio, 0, 1, true),
    // Up to 1 Gbit/s: a floor above any access link would move every session on every reload.
    throughputFloorBps: numberOr(raw, 'sessionSteering.throughputFloorBps', d.throughputFloorBps, 0, 1_000_000_000),
    collapseRatio: numberOr(raw, 'sessionSteering.collapseRatio', d.collapseRatio, 0, 1, true),
  };
  // A hold longer than the memory would be cut short by forgetting the departure.
  if (policy.memorySeconds < policy.minAvoidSeconds) throw new InvalidSteeringConfigError('sessionSteering.memorySeconds', policy.memorySeconds);
  return policy;
}

/** A pathway of the static routing; `weight` in [0, 1] (the shares need not sum to 1). */
export interface StaticPathwayConfig {
  readonly id: string;
  readonly host?: string;
  readonly weight: number;
}

/**
 * The static weights baked from the registry's pathways: equal shares over the enabled ones, with the
 * host only where `hostKnown` says it is a real value at build time (not a deploy-time token).
 */
export function staticPathwaysOf(pathways: readonly PathwayEntry[], hostKnown: (host: string) => boolean = () => true): StaticPathwayConfig[] {
  const enabled = pathways.filter((p) => p.enabled);
  const weight = enabled.length > 0 ? Math.round(1e6 / enabled.length) / 1e6 : 0;
  return enabled.map((p) => (hostKnown(p.host) ? { id: p.id, host: p.host, weight } : { id: p.id, weight }));
}

/** At most this many static pathways (the platform allows 10 CloudFront pathways plus external ones). */
const MAX_STATIC_PATHWAYS = 32;

function staticPathways(raw: unknown): StaticPathwayConfig[] {
  const list = field(raw, 'staticPathways');
  if (list === undefined) return [];
  if (!Array.isArray(list) || list.length > MAX_STATIC_PATHWAYS) throw new InvalidSteeringConfigError('staticPathways', list);
  const seen = new Set<string>();
  return list.map((entry: unknown, i) => {
    const id = field(entry, 'id');
    if (!isPathwayId(id) || seen.has(id)) throw new InvalidSteeringConfigError(`staticPathways.${i}.id`, id);
    seen.add(id);
    const host = field(entry, 'host');
    if (host !== undefined && !isPathwayHost(host)) throw new InvalidSteeringConfigError(`staticPathways.${i}.host`, host);
    const weight = field(entry, 'weight');
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0 || weight > 1) throw new InvalidSteeringConfigError(`staticPathways.${i}.weight`, weight);
    return host === undefined ? { id, weight } : { id, host, weight };
  });
}

export function validateSteeringConfig(raw: unknown): SteeringEdgeConfig {
  return {
    // Same rules as every edge function that verifies tokens (edge-functions/shared/keyring-source.ts).
    keyring: parseKeyringSourceConfig(field(raw, 'keyring')),
    routingTable: { name: str(raw, 'routingTable.name', /^[A-Za-z0-9_.-]{3,255}$/), region: str(raw, 'routingTable.region', REGION) },
    steeringTtlSeconds: int(raw, 'steeringTtlSeconds', 1, 3600),
    routingCacheSeconds: int(raw, 'routingCacheSeconds', 1, 300),
    publicScheme: scheme(raw, 'publicScheme'),
    sessionSteering: sessionSteering(raw),
    staticPathways: staticPathways(raw),
  };
}

export const steeringEdgeFunction: EdgeFunctionDefinition<SteeringEdgeConfig> = { handlerDir: 'steering', validateConfig: validateSteeringConfig };
