/**
 * The twin's HTTP APIs (playback sessions, takedowns, CMCD report ingest) with their real handlers, in a process
 * of their own (ADR 0100): forked by local/dev.ts when `apiHandlers: 'own-process'`, after the handlers'
 * environment is set, so the child inherits exactly the variables the CDK constructs give the functions. A
 * Lambda function runs in containers apart from CloudFront and from DynamoDB; here its module instance runs
 * apart from the distributions and the data stand-ins, with an event loop of its own. It counts invocations
 * where it hands a handler its event (ADR 0077) and answers the twin's `usage` with them.
 */
import { startHttpApi } from '../apigw';
import { twinApiRoutes } from './api-routes';
import { resolveLocalhostNames } from '../http-server';
import { API_PROCESS_ENV, serveHelperProcess, type ApiProcessPayload } from './helper-process';
import { InvocationCounter } from './invocation-counter';

await serveHelperProcess(API_PROCESS_ENV, async ({ port }: ApiProcessPayload) => {
  resolveLocalhostNames();
  // Imported only now: each module builds its SDK clients and Powertools instances when it loads, from the
  // environment the parent set before forking (as a Lambda container does at its cold start).
  const [playbackApi, takedown, cmcdIngest] = await Promise.all([
    import('../../lambdas/playback-api/index'),
    import('../../lambdas/takedown/index'),
    import('../../lambdas/cmcd-ingest/index'),
  ]);
  const invocations = new InvocationCounter();
  const routes = twinApiRoutes(invocations, { playbackApi: playbackApi.handler, takedown: takedown.handler, cmcdIngest: cmcdIngest.handler });
  const api = await startHttpApi(routes, { port });
  return { ready: { endpoint: api.endpoint }, usage: () => invocations.snapshot(), stop: () => api.stop() };
});
