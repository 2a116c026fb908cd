import { afterEach, describe, expect, it, vi } from 'vitest';
import { RateBudget } from './rate-budget.js';

/** A clock the test moves by hand: budget only appears when the test says time has passed. */
function manualClock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

/** Takes budget; a rejection when the test closes the budget is expected, not unhandled. */
function take(budget: RateBudget, onGranted: () => void): Promise<void> {
  return budget.acquire().then(onGranted, () => undefined);
}

/** Lets every promise callback and due immediate run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('RateBudget', () => {
  const budgets: RateBudget[] = [];
  afterEach(() => {
    for (const budget of budgets.splice(0)) budget.close(new Error('test over'));
  });

  function track(budget: RateBudget): RateBudget {
    budgets.push(budget);
    return budget;
  }

  it('lets a burst through, queues the rest and serves it in call order as budget accrues', async () => {
    const clock = manualClock();
    // 600/min = one request per 100 ms.
    const budget = track(new RateBudget({ requestsPerMinute: 600, burst: 2, now: clock.now }));
    const order: number[] = [];
    const calls = [0, 1, 2, 3, 4].map((index) => take(budget, () => order.push(index)));

    await settle();
    expect(order).toEqual([0, 1]);
    expect(budget.waiting).toBe(3);

    clock.advance(100);
    await vi.waitFor(() => expect(order).toEqual([0, 1, 2]));
    clock.advance(200);
    await vi.waitFor(() => expect(order).toEqual([0, 1, 2, 3, 4]));
    await Promise.all(calls);
    expect(budget.waiting).toBe(0);
  });

  it('serves customer messages (high) before receipts (low) that were waiting longer', async () => {
    const clock = manualClock();
    const budget = track(new RateBudget({ requestsPerMinute: 600, burst: 1, now: clock.now }));
    const order: string[] = [];
    const grant = (label: string, priority: 'high' | 'low') =>
      budget.acquire(priority).then(() => order.push(label), () => undefined);
    void grant('receipt-1', 'low'); // takes the only token at once
    void grant('receipt-2', 'low');
    void grant('receipt-3', 'low');
    void grant('message-1', 'high');
    await settle();
    expect(order).toEqual(['receipt-1']);
    clock.advance(100);
    await vi.waitFor(() => expect(order).toEqual(['receipt-1', 'message-1']));
    clock.advance(100);
    await vi.waitFor(() => expect(order).toEqual(['receipt-1', 'message-1', 'receipt-2']));
    clock.advance(100);
    await vi.waitFor(() => expect(order).toEqual(['receipt-1', 'message-1', 'receipt-2', 'receipt-3']));
  });

  it('does not let a newcomer overtake callers already waiting', async () => {
    const clock = manualClock();
    const budget = track(new RateBudget({ requestsPerMinute: 600, burst: 1, now: clock.now }));
    const order: string[] = [];
    void take(budget, () => order.push('first'));
    void take(budget, () => order.push('second'));
    await settle();
    expect(order).toEqual(['first']);

    clock.advance(100);
    // A token is available now, but 'second' was first in line.
    const third = take(budget, () => order.push('third'));
    await vi.waitFor(() => expect(order).toEqual(['first', 'second']));
    expect(budget.waiting).toBe(1);

    clock.advance(100);
    await third;
    expect(order).toEqual(['first', 'second', 'third']);
  });

  it('never stores more than the burst during a quiet period', async () => {
    const clock = manualClock();
    const budget = track(new RateBudget({ requestsPerMinute: 600, burst: 3, now: clock.now }));
    clock.advance(60_000);
    let granted = 0;
    for (let i = 0; i < 5; i += 1) void take(budget, () => (granted += 1));
    await settle();
    expect(granted).toBe(3);
  });

  it('holds everyone back while paused (a 429 Retry-After)', async () => {
    const clock = manualClock();
    const budget = track(new RateBudget({ requestsPerMinute: 600, burst: 5, now: clock.now }));
    budget.pause(200);
    let granted = 0;
    void take(budget, () => (granted += 1));
    void take(budget, () => (granted += 1));
    await settle();
    expect(granted).toBe(0);

    clock.advance(199);
    await settle();
    expect(granted).toBe(0);

    clock.advance(1);
    await vi.waitFor(() => expect(granted).toBe(2));
  });

  it('rejects waiting and later callers once closed', async () => {
    const budget = new RateBudget({ requestsPerMinute: 1, burst: 1 });
    await budget.acquire();
    const waiting = budget.acquire();
    const closed = new Error('closed');
    budget.close(closed);
    await expect(waiting).rejects.toBe(closed);
    await expect(budget.acquire()).rejects.toBe(closed);
  });

  it('rejects nonsensical settings', () => {
    expect(() => new RateBudget({ requestsPerMinute: 0, burst: 1 })).toThrow(RangeError);
    expect(() => new RateBudget({ requestsPerMinute: 60, burst: 0 })).toThrow(RangeError);
  });
});
