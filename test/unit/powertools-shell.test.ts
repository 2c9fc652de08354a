import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FunctionConfigError } from '../../lambdas/shared/function-config';
import { lambdaHandler, logger, metrics } from '../../lambdas/shared/powertools';

/** What the Lambda runtime passes; only the fields the middlewares read matter here. */
const lambdaContext = (awsRequestId: string): Context =>
  ({ functionName: 'under-test', awsRequestId, invokedFunctionArn: 'arn:aws:lambda:eu-west-1:1:function:under-test', getRemainingTimeInMillis: () => 30_000 }) as Context;

afterEach(() => vi.restoreAllMocks());

describe('lambdaHandler: the Powertools shell of every regional function', () => {
  it('builds the handler once, on the first invocation, and reuses it', async () => {
    // Prepare
    const build = vi.fn(() => async (event: number) => event * 2);
    const handler = lambdaHandler(build);

    // Act
    const beforeFirstCall = build.mock.calls.length;
    const results = [await handler(1, lambdaContext('r1')), await handler(2, lambdaContext('r2'))];

    // Assess
    expect(beforeFirstCall).toBe(0);
    expect(results).toEqual([2, 4]);
    expect(build).toHaveBeenCalledTimes(1);
  });

  it('flushes the stored metrics once per invocation, also when the handler throws', async () => {
    // Prepare
    const publish = vi.spyOn(metrics, 'publishStoredMetrics');
    const handler = lambdaHandler(() => async (fail: boolean) => {
      metrics.addMetric('Probe', 'Count', 1);
      if (fail) throw new Error('boom');
      return 'ok';
    });

    // Act
    await handler(false, lambdaContext('r1'));
    const failure = handler(true, lambdaContext('r2'));

    // Assess
    await expect(failure).rejects.toThrow('boom');
    expect(publish).toHaveBeenCalledTimes(2);
  });

  it('fails an invocation whose configuration does not decode, flushes, and builds again on the next one', async () => {
    // Prepare
    const publish = vi.spyOn(metrics, 'publishStoredMetrics');
    let configured = false;
    const handler = lambdaHandler(() => {
      if (!configured) throw new FunctionConfigError('environment variable TABLE_NAME (unset): is required');
      return async () => 'ok';
    });

    // Act
    const first = handler(undefined, lambdaContext('r1'));
    await expect(first).rejects.toThrow(/TABLE_NAME/);
    configured = true;
    const second = await handler(undefined, lambdaContext('r2'));

    // Assess
    expect(second).toBe('ok');
    expect(publish).toHaveBeenCalledTimes(2);
  });

  it('gives every log line the Lambda context and drops keys a handler appended when the invocation ends', async () => {
    // Prepare
    const addContext = vi.spyOn(logger, 'addContext');
    const resetKeys = vi.spyOn(logger, 'resetKeys');
    const context = lambdaContext('r1');
    const handler = lambdaHandler(() => async () => {
      logger.appendKeys({ step: 'createSecret' });
    });

    // Act
    await handler(undefined, context);

    // Assess
    expect(addContext).toHaveBeenCalledWith(context);
    expect(resetKeys).toHaveBeenCalled();
  });

  it('records the cold-start metric under the function name', async () => {
    // Prepare
    const coldStart = vi.spyOn(metrics, 'captureColdStartMetric');
    const handler = lambdaHandler(() => async () => undefined);

    // Act
    await handler(undefined, lambdaContext('r1'));

    // Assess
    expect(coldStart).toHaveBeenCalledWith('under-test');
  });

});

describe('every regional function exports its handler through the shell', () => {
  const functions = ['submit-job', 'job-status', 'playback-api', 'takedown', 'takedown-worker', 'cmcd-ingest', 'qoe-aggregator', 'rollup-merger', 'routing-weights', 'keyring-rotation'];

  it.each(functions)('%s: an invocation without its configuration fails naming a variable, and its metrics are flushed', async (fn) => {
    // Prepare: the test environment sets none of the functions' variables.
    const module = (await import(`../../lambdas/${fn}/index.ts`)) as { handler: (event: unknown, context?: Context) => Promise<unknown> };
    const publish = vi.spyOn(metrics, 'publishStoredMetrics');

    // Act
    const invocation = module.handler({}, lambdaContext('r1'));

    // Assess
    await expect(invocation).rejects.toThrow(FunctionConfigError);
    await expect(invocation).rejects.toThrow(/environment variable [A-Z_]+/);
    expect(publish).toHaveBeenCalledTimes(1);
  });
});
