/**
 * The step runner of `npm run smoke` (ADR 0013): steps run in order, each prints one PASS or FAIL line with
 * how long it took, and the first FAIL stops the run, because every later step needs what the failed one
 * should have produced (no asset, no session, no manifest). Pure apart from the clock and the printer it is
 * given, so it is tested with literals.
 */

export interface SmokeStep<S> {
  /** Short name, e.g. `upload`, `segments`. */
  readonly name: string;
  /** Does the step's work on the shared state; returns one line of what was proven, throws to fail. */
  run(state: S): Promise<string>;
}

export interface StepResult {
  readonly name: string;
  readonly status: 'PASS' | 'FAIL';
  readonly ms: number;
  /** What was proven, or why the step failed. */
  readonly detail: string;
}

/** A step failed for a reason the operator can act on; `hint` says what to look at. */
export class SmokeStepError extends Error {
  override readonly name = 'SmokeStepError';
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export interface RunnerOptions {
  /** Milliseconds since some origin (performance.now in the CLI). */
  readonly now: () => number;
  /** Called with each result as soon as its step ends, so a long wait shows progress. */
  readonly onResult?: (result: StepResult) => void;
}

/** Width of the step name column: the longest step name the smoke test has. */
const NAME_WIDTH = 20;

function describeFailure(error: unknown): string {
  if (error instanceof SmokeStepError) return error.hint ? `${error.message} (${error.hint})` : error.message;
  if (error instanceof Error) return `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}`;
  return String(error);
}

/** Runs the steps in order and stops at the first failure; returns the results of the steps that ran. */
export async function runSteps<S>(steps: readonly SmokeStep<S>[], state: S, options: RunnerOptions): Promise<StepResult[]> {
  const results: StepResult[] = [];
  for (const step of steps) {
    const started = options.now();
    let result: StepResult;
    try {
      const detail = await step.run(state);
      result = { name: step.name, status: 'PASS', ms: options.now() - started, detail };
    } catch (error) {
      result = { name: step.name, status: 'FAIL', ms: options.now() - started, detail: describeFailure(error) };
    }
    results.push(result);
    options.onResult?.(result);
    if (result.status === 'FAIL') break;
  }
  return results;
}

/** `0.4 s`, `12.3 s`, `2 min 05 s`. */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
}

/** `PASS  upload                 1.2 s  …` */
export function renderStepLine(result: StepResult): string {
  return `${result.status}  ${result.name.padEnd(NAME_WIDTH)} ${formatDuration(result.ms).padStart(9)}  ${result.detail}`;
}

/** The closing line: which step failed, or that all passed, with the total time. */
export function renderSummary(results: readonly StepResult[], plannedSteps: number): string {
  const total = formatDuration(results.reduce((sum, r) => sum + r.ms, 0));
  const failed = results.find((r) => r.status === 'FAIL');
  if (failed) {
    const skipped = plannedSteps - results.length;
    return `smoke FAILED at "${failed.name}" after ${total}${skipped > 0 ? ` (${skipped} later step${skipped === 1 ? '' : 's'} not run)` : ''}`;
  }
  return `smoke passed: ${results.length} steps in ${total}`;
}

export function smokeExitCode(results: readonly StepResult[]): number {
  return results.length > 0 && results.every((r) => r.status === 'PASS') ? 0 : 1;
}
