import { describe, expect, it } from 'vitest';
import { PlaybackClock } from '../../local/audience/playback-clock';

const T0 = 1_796_000_000_000;

describe('PlaybackClock', () => {
  it('starts playing once enough media is buffered and reports the startup delay', () => {
    // Prepare
    const clock = new PlaybackClock({ startedAt: T0, startSeconds: 1 });
    // Act
    clock.buffered(6, T0 + 800);
    // Assess
    expect(clock.state).toBe('p');
    expect(clock.drainEvents()).toEqual([{ type: 'playing', at: T0 + 800, startupMs: 800 }]);
    expect(clock.startupMs).toBe(800);
  });

  it('advances the playhead with the wall clock while media is buffered', () => {
    const clock = new PlaybackClock({ startedAt: T0 });
    clock.buffered(12, T0);
    expect(clock.position(T0 + 5_000)).toBeCloseTo(5);
    expect(clock.ahead(T0 + 5_000)).toBeCloseTo(7);
    expect(clock.msUntilAheadBelow(4, T0 + 5_000)).toBeCloseTo(3_000);
  });

  it('stalls when the playhead reaches the end of the buffer, stamped with the moment it happened', () => {
    // Prepare
    const clock = new PlaybackClock({ startedAt: T0 });
    clock.buffered(6, T0);
    clock.drainEvents();
    // Act: nothing arrives for 10 s; the clock is only looked at then
    clock.advance(T0 + 10_000);
    // Assess
    expect(clock.state).toBe('r');
    expect(clock.drainEvents()).toEqual([{ type: 'stalled', at: T0 + 6_000 }]);
    expect(clock.position(T0 + 10_000)).toBe(6);
    expect(clock.stalls).toBe(1);
  });

  it('notices a stall even when only the buffer level is read', () => {
    const clock = new PlaybackClock({ startedAt: T0 });
    clock.buffered(6, T0);
    clock.drainEvents();
    expect(clock.ahead(T0 + 7_000)).toBe(0);
    expect(clock.drainEvents()).toEqual([{ type: 'stalled', at: T0 + 6_000 }]);
  });

  it('resumes when media arrives and counts the stalled time', () => {
    // Prepare
    const clock = new PlaybackClock({ startedAt: T0, resumeSeconds: 1 });
    clock.buffered(6, T0);
    clock.advance(T0 + 8_000);
    clock.drainEvents();
    // Act
    clock.buffered(12, T0 + 9_500);
    // Assess
    expect(clock.state).toBe('p');
    expect(clock.drainEvents()).toEqual([{ type: 'resumed', at: T0 + 9_500, stallMs: 3_500 }]);
    expect(clock.stalledMs).toBe(3_500);
    expect(clock.playedMs).toBe(6_000);
  });

  it('does not start before the start threshold is buffered', () => {
    const clock = new PlaybackClock({ startedAt: T0, startSeconds: 4 });
    clock.buffered(2, T0 + 100);
    expect(clock.state).toBe('s');
    expect(clock.drainEvents()).toEqual([]);
    expect(clock.position(T0 + 5_000)).toBe(0);
  });

  it('counts a stall that is still going on when the player gives up', () => {
    const clock = new PlaybackClock({ startedAt: T0 });
    clock.buffered(6, T0);
    clock.end(T0 + 10_000, 'f');
    expect(clock.state).toBe('f');
    expect(clock.stalledMs).toBe(4_000);
  });
});
