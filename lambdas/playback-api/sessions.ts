import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Keyring } from '../../core/keyring';
import { playUrl, type UrlScheme } from '../../core/playback-paths';
import { isReportSampled } from '../../core/report-sampling';
import { signToken } from '../../core/token';
import { ASSET_ID_RULE, isAssetId } from '../../core/identifiers';

/** Body of `POST /sessions`. Device classes mirror the ones the gateway derives from CloudFront headers. */
export const sessionRequestSchema = z
  .object({
    assetId: z.string().refine(isAssetId, `must be an asset id: ${ASSET_ID_RULE}`),
    device: z.enum(['mobile', 'tablet', 'tv', 'desktop']).optional(),
  })
  .strict();
export type SessionRequest = z.infer<typeof sessionRequestSchema>;

export interface PlaybackSession {
  readonly sessionId: string;
  readonly assetId: string;
  readonly revision: string;
  readonly hls: string;
  readonly dash: string;
  /**
   * Where players post CMCD v2 event reports (through the gateway, ADR 0004); absent when the session is
   * sampled out (ADR 0058): the player then sends no reports, and the ingest would refuse them.
   */
  readonly reportUrl?: string;
  /** Whether this session is one of the sampled sessions that report (ADR 0058). */
  readonly reportSampled: boolean;
  readonly expiresAt: string;
}

/**
 * Signs one playback session: a fresh session id, a token bound to the asset, and gateway URLs for the
 * revision the catalog currently serves (ADR 0003). The device hint, when given, travels as a query
 * parameter the gateway may use to cap the ladder further than CloudFront's device headers do.
 */
export function createSession(
  request: SessionRequest,
  revision: string,
  keyring: Keyring,
  opts: {
    gatewayDomain: string;
    lifetimeSeconds: number;
    nowSeconds: number;
    sessionId?: string;
    scheme?: UrlScheme;
    /** Percent of sessions that report (core/report-sampling.ts); @default 100 */
    reportSamplingPercent?: number;
  },
): PlaybackSession {
  const scheme = opts.scheme ?? 'https';
  const sessionId = opts.sessionId ?? randomUUID();
  const exp = opts.nowSeconds + opts.lifetimeSeconds;
  const token = signToken({ sid: sessionId, aid: request.assetId, exp }, keyring);
  const device = request.device ? `?device=${request.device}` : '';
  const reportSampled = isReportSampled(sessionId, opts.reportSamplingPercent ?? 100);
  return {
    sessionId,
    assetId: request.assetId,
    revision,
    hls: playUrl(opts.gatewayDomain, token, request.assetId, revision, 'hls', scheme) + device,
    dash: playUrl(opts.gatewayDomain, token, request.assetId, revision, 'dash', scheme) + device,
    ...(reportSampled ? { reportUrl: `${scheme}://${opts.gatewayDomain}/v1/cmcd/${token}` } : {}),
    reportSampled,
    expiresAt: new Date(exp * 1000).toISOString(),
  };
}
