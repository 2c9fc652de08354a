import { INGEST_API_ROUTES, PLAYBACK_API_ROUTES, type PlatformFunctionName, routeKeyOf } from '../../lib/topology';
import type { HttpApiRoute } from '../apigw';
import type { InvocationCounter } from './invocation-counter';

type Handler = HttpApiRoute['handler'];

/**
 * The HTTP API's routes with the real handlers behind them, each invocation counted as Lambda meters it. One
 * definition for the twin's in-process API and its API helper process (ADR 0100).
 */
export function twinApiRoutes(
  invocations: InvocationCounter,
  handlers: { readonly playbackApi: Handler; readonly takedown: Handler; readonly cmcdIngest: Handler },
): HttpApiRoute[] {
  const routeHandlers: Partial<Record<PlatformFunctionName, Handler>> = {
    'playback-api': invocations.count('playback-api', handlers.playbackApi),
    takedown: invocations.count('takedown', handlers.takedown),
    'cmcd-ingest': invocations.count('cmcd-ingest', handlers.cmcdIngest),
  };
  return [...PLAYBACK_API_ROUTES, ...INGEST_API_ROUTES].flatMap((route) => {
    const handler = routeHandlers[route.handledBy];
    return handler ? [{ routeKey: routeKeyOf(route), handler, functionName: route.handledBy }] : [];
  });
}
