/**
 * Build-time configuration of a Lambda@Edge function. Lambda@Edge has no environment variables
 * (CloudFront Developer Guide, "Restrictions on Lambda@Edge"), so lib/bundling/edge-bundle.ts replaces the
 * free identifier `__EDGE_CONFIG__` with a JSON string literal through esbuild `define`. Outside a bundle
 * (unit tests, the local twin) the same value is read from `globalThis.__EDGE_CONFIG__`.
 */
declare const __EDGE_CONFIG__: string | undefined;

/**
 * What the CDK construct (lib/constructs/edge-handler.ts) and the twin need to build an edge function:
 * its folder under `edge-functions/` and the validator its bundle runs at init, typed by its
 * configuration, so a construct can only bake a configuration of the right shape and a bad value fails
 * synth, naming the key, instead of the first viewer request.
 */
export interface EdgeFunctionDefinition<C> {
  readonly handlerDir: string;
  validateConfig(raw: unknown): C;
}

/** The function was built without configuration, or the configuration is not what it expects. */
export class BakedConfigError extends Error {
  constructor(message: string) {
    super(`edge function configuration: ${message}`);
    this.name = 'BakedConfigError';
  }
}

/** Reads and validates the baked configuration; call once at module scope so a bad build fails at init. */
export function readBakedConfig<T>(validate: (raw: unknown) => T): T {
  // `typeof` keeps an undefined identifier from throwing; in a bundle esbuild has replaced it by a literal.
  const baked: unknown = typeof __EDGE_CONFIG__ !== 'undefined' ? __EDGE_CONFIG__ : (globalThis as { __EDGE_CONFIG__?: unknown }).__EDGE_CONFIG__;
  if (baked === undefined) throw new BakedConfigError('__EDGE_CONFIG__ is not defined (bundle with lib/bundling/edge-bundle.ts, or set globalThis.__EDGE_CONFIG__ in tests)');
  let raw: unknown = baked;
  if (typeof baked === 'string') {
    try {
      raw = JSON.parse(baked);
    } catch {
      throw new BakedConfigError('__EDGE_CONFIG__ is not valid JSON');
    }
  }
  try {
    return validate(raw);
  } catch (error) {
    if (error instanceof BakedConfigError) throw error;
    throw new BakedConfigError(error instanceof Error ? error.message : String(error));
  }
}
