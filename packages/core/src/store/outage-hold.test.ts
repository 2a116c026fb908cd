import { describe, expect, it } from 'vitest';
import { OutageHolds } from './outage-hold.js';

function holdsAt(clock: { now: number }, random = () => 0.5) {
  return new OutageHolds({ minFailedJobs: 2, baseMs: 1_000, maxMs: 300_000, now: () => clock.now, random });
}

describe('OutageHolds', () => {
  it('never holds for one job failing again and again: that job spends its own budget', () => {
    const clock = { now: 0 };
    const holds = holdsAt(clock);
    for (let attempt = 0; attempt < 10; attempt++) {
      clock.now += 60_000;
      expect(holds.failed('telegram', 7)).toEqual({ held: false, began: false, retryDelayMs: 0 });
    }
    expect(holds.held()).toEqual([]);
  });

  it('holds a connector once different jobs fail in a row, and reports the beginning once', () => {
    const clock = { now: 0 };
    const holds = holdsAt(clock);
    expect(holds.failed('telegram', 1).held).toBe(false);
    expect(holds.failed('telegram', 2)).toMatchObject({ held: true, began: true });
    expect(holds.failed('telegram', 3)).toMatchObject({ held: true, began: false });
    expect(holds.failed('telegram', 1)).toMatchObject({ held: true, began: false });
    expect(holds.held()).toEqual(['telegram']);
  });

  it('keeps connectors apart: one held, the other not', () => {
    const holds = holdsAt({ now: 0 });
    holds.failed('telegram', 1);
    holds.failed('telegram', 2);
    expect(holds.failed('slack', 3).held).toBe(false);
    expect(holds.held()).toEqual(['telegram']);
  });

  it('starts over after a success: failures on both sides of it are not a streak', () => {
    const holds = holdsAt({ now: 0 });
    holds.failed('telegram', 1);
    expect(holds.succeeded('telegram')).toBeUndefined();
    expect(holds.failed('telegram', 2).held).toBe(false);
  });

  it('ends the hold on a success and says how long it lasted', () => {
    const clock = { now: 10_000 };
    const holds = holdsAt(clock);
    holds.failed('telegram', 1);
    holds.failed('telegram', 2);
    clock.now += 95_000;
    expect(holds.succeeded('telegram')).toBe(95_000);
    expect(holds.held()).toEqual([]);
    expect(holds.failed('telegram', 3).held).toBe(false);
  });

  it('waits about as long as the outage has lasted, between the backoff bounds, with jitter', () => {
    const clock = { now: 0 };
    let random = 0;
    const holds = holdsAt(clock, () => random);
    holds.failed('telegram', 1);
    // At the start of the hold: the base delay.
    expect(holds.failed('telegram', 2).retryDelayMs).toBe(1_000);
    clock.now += 40_000;
    random = 0;
    expect(holds.failed('telegram', 3).retryDelayMs).toBe(20_000);
    random = 0.999;
    expect(holds.failed('telegram', 3).retryDelayMs).toBeGreaterThan(39_000);
    expect(holds.failed('telegram', 3).retryDelayMs).toBeLessThanOrEqual(40_000);
    // A long outage: capped.
    clock.now += 3_600_000;
    expect(holds.failed('telegram', 3).retryDelayMs).toBeLessThanOrEqual(300_000);
    expect(holds.failed('telegram', 3).retryDelayMs).toBeGreaterThanOrEqual(150_000);
  });
});
