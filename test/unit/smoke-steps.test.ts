import { describe, expect, it } from 'vitest';
import {
  formatDuration,
  renderStepLine,
  renderSummary,
  runSteps,
  type SmokeStep,
  SmokeStepError,
  smokeExitCode,
  type StepResult,
} from '../../core/smoke-steps';

/** A clock the steps advance themselves, so durations are exact without measuring anything. */
function fakeClock() {
  let at = 0;
  return { now: () => at, advance: (ms: number) => (at += ms) };
}

describe('the smoke step runner', () => {
  it('runs every step in order, sharing state, and times each one', async () => {
    // Prepare
    const clock = fakeClock();
    const steps: SmokeStep<string[]>[] = [
      { name: 'first', run: async (seen) => (clock.advance(1200), seen.push('first'), 'one') },
      { name: 'second', run: async (seen) => (clock.advance(300), seen.push(`second after ${seen.join()}`), 'two') },
    ];
    const printed: StepResult[] = [];
    // Act
    const seen: string[] = [];
    const results = await runSteps(steps, seen, { now: clock.now, onResult: (r) => printed.push(r) });
    // Assess
    expect(results).toEqual([
      { name: 'first', status: 'PASS', ms: 1200, detail: 'one' },
      { name: 'second', status: 'PASS', ms: 300, detail: 'two' },
    ]);
    expect(seen).toEqual(['first', 'second after first']);
    expect(printed).toEqual(results);
    expect(smokeExitCode(results)).toBe(0);
    expect(renderSummary(results, 2)).toBe('smoke passed: 2 steps in 1.5 s');
  });

  it('stops at the first failing step, reports why, and exits 1', async () => {
    // Prepare
    const clock = fakeClock();
    let thirdRan = false;
    const steps: SmokeStep<object>[] = [
      { name: 'outputs', run: async () => 'ok' },
      { name: 'segments', run: async () => { clock.advance(2500); throw new SmokeStepError('cf-b: /media/x/seg.mp4 → 503', 'is cf-b down?'); } },
      { name: 'report', run: async () => ((thirdRan = true), 'never') },
    ];
    // Act
    const results = await runSteps(steps, {}, { now: clock.now });
    // Assess
    expect(thirdRan).toBe(false);
    expect(results.map((r) => `${r.status} ${r.name}`)).toEqual(['PASS outputs', 'FAIL segments']);
    expect(results[1]!.detail).toBe('cf-b: /media/x/seg.mp4 → 503 (is cf-b down?)');
    expect(smokeExitCode(results)).toBe(1);
    expect(renderSummary(results, steps.length)).toBe('smoke FAILED at "segments" after 2.5 s (1 later step not run)');
  });

  it('turns an unexpected error into a FAIL line naming the error, not a crash', async () => {
    const results = await runSteps([{ name: 'upload', run: async () => { throw Object.assign(new Error('The specified bucket does not exist'), { name: 'NoSuchBucket' }); } }], {}, { now: () => 0 });
    expect(results).toEqual([{ name: 'upload', status: 'FAIL', ms: 0, detail: 'NoSuchBucket: The specified bucket does not exist' }]);
    expect(renderStepLine(results[0]!)).toBe('FAIL  upload                   0.0 s  NoSuchBucket: The specified bucket does not exist');
  });

  it('counts a run that ran nothing as failed', () => {
    expect(smokeExitCode([])).toBe(1);
  });

  it('formats durations in seconds, and in minutes past one', () => {
    expect(formatDuration(49)).toBe('0.0 s');
    expect(formatDuration(12_345)).toBe('12.3 s');
    expect(formatDuration(125_000)).toBe('2 min 05 s');
  });
});
