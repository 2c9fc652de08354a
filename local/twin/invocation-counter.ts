/**
 * Counts invocations of the functions the twin runs (ADR 0077): Lambda and Lambda@Edge bill per request,
 * CloudFront Functions per invocation, so the count is taken where the twin hands the function its event,
 * whatever answered the viewer before (a cache hit runs no origin-request function).
 */

export class InvocationCounter {
  private readonly counts = new Map<string, number>();

  /** `handler`, counting each call under `name` (several handlers may share a name: one function, many distributions). */
  count<A extends unknown[], R>(name: string, handler: (...args: A) => R): (...args: A) => R {
    this.counts.set(name, this.counts.get(name) ?? 0);
    return (...args: A): R => {
      this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
      return handler(...args);
    };
  }

  /** Invocations so far by function name; every counted function appears, with 0 before its first call. */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}
