/**
 * The Powertools instances of a regional function and the one handler shell every `lambdas/<fn>/index.ts`
 * exports its handler through (ADR 0008).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';

/**
 * One pre-configured logger, metrics and tracer instance per function, shared by its modules. Service name
 * and metrics namespace come from the standard Powertools environment variables (POWERTOOLS_SERVICE_NAME,
 * POWERTOOLS_METRICS_NAMESPACE) that lib/constructs/platform-function.ts sets.
 */
export const logger = new Logger();
/**
 * Metrics reports its own diagnostics through the logger at ERROR. At WARN, every invocation of a function
 * that records no application metric (only the cold-start one) would log "No application metrics to
 * publish"; the `logger` option exists for this (powertools-lambda-typescript#2036).
 */
export const metrics = new Metrics({ logger: logger.createChild({ logLevel: 'ERROR' }) });
/**
 * Records X-Ray segments only inside Lambda with active tracing; elsewhere (tests, the local twin) it is
 * inert, because Powertools turns tracing off when AWS_EXECUTION_ENV is unset.
 */
export const tracer = new Tracer();

/** A handler as the Lambda runtime calls it. */
export type LambdaHandler<TEvent, TResult> = (event: TEvent, context: Context) => Promise<TResult>;

/**
 * The handler shell of every regional function: `build` runs once per execution environment, on the first
 * invocation and inside the shell, so a configuration error fails that invocation, is recorded on its trace
 * and still lets the metrics flush (the next invocation builds again). Every invocation runs inside
 * Powertools' middy middlewares, in the order their documentation uses:
 *
 * - Tracer `captureLambdaHandler`: a `## index.handler` subsegment with the ColdStart and Service
 *   annotations and any error. Responses are not recorded: playback-api's carry playback tokens.
 * - Logger `injectLambdaContext`: request id, function name and cold start on every log line; keys a
 *   handler appends are dropped when the invocation ends.
 * - Metrics `logMetrics`: one EMF flush per invocation, on success and on error, plus a ColdStart metric.
 *   Handlers only add metrics; `singleMetric()` ones still flush at once with their own dimensions.
 *
 * Lambda always passes a context, and so does the local twin (local/apigw.ts `lambdaContext`).
 */
export function lambdaHandler<TEvent, TResult>(
  build: () => LambdaHandler<TEvent, TResult>,
): (event: TEvent, context: Context) => Promise<TResult> {
  let handle: LambdaHandler<TEvent, TResult> | undefined;
  const shell = middy<TEvent, TResult>()
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true, throwOnEmptyMetrics: false }))
    .handler((event: TEvent, context: Context) => (handle ??= build())(event, context));
  return (event, context) => shell(event, context);
}

