/**
 * A token bucket that queues callers instead of failing them. Genesys allows about 300 Platform
 * API requests per minute per client-credentials token (research/perf-reliability.md §1.4): the
 * tightest limit of the whole chain, so every request waits here for its turn.
 */

export interface RateBudgetOptions {
  /** Sustained rate. */
  requestsPerMinute: number;
  /** Bucket size: how many requests may go at once after a quiet period (at least 1). */
  burst: number;
  /** Clock, for tests. */
  now?: () => number;
}

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

// Refills are fractional; this keeps 0.9999999 from counting as "not yet one token".
const EPSILON = 1e-9;

/**
 * FIFO token bucket. At most one timer is armed at any time, however many callers wait, and it
 * fires when the head of the queue can go.
 */
export class RateBudget {
  private readonly perMs: number;
  private readonly burst: number;
  private readonly now: () => number;
  private tokens: number;
  private refilledAt: number;
  private pausedUntil = 0;
  private readonly waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closedWith: unknown;

  constructor(options: RateBudgetOptions) {
    if (!(options.requestsPerMinute > 0)) throw new RangeError('requestsPerMinute must be > 0');
    if (!(options.burst >= 1)) throw new RangeError('burst must be >= 1');
    this.perMs = options.requestsPerMinute / 60_000;
    this.burst = options.burst;
    this.now = options.now ?? Date.now;
    this.tokens = options.burst;
    this.refilledAt = this.now();
  }

  /** Callers waiting for budget. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Resolves when one request may be sent; callers are served in call order. */
  acquire(): Promise<void> {
    if (this.closedWith !== undefined) return Promise.reject(this.closedWith);
    if (this.waiters.length === 0 && this.take()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.arm();
    });
  }

  /** Holds every caller back for `ms` (a 429's Retry-After): the server says the budget is spent. */
  pause(ms: number): void {
    if (!(ms > 0)) return;
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms);
  }

  /** Rejects every waiting and future caller with `error`. */
  close(error: unknown): void {
    this.closedWith = error;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }

  private refill(): number {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + (now - this.refilledAt) * this.perMs);
    this.refilledAt = now;
    return now;
  }

  private take(): boolean {
    const now = this.refill();
    if (now < this.pausedUntil || this.tokens < 1 - EPSILON) return false;
    this.tokens -= 1;
    return true;
  }

  private arm(): void {
    if (this.timer || this.waiters.length === 0 || this.closedWith !== undefined) return;
    const now = this.refill();
    const untilToken = this.tokens >= 1 - EPSILON ? 0 : (1 - this.tokens) / this.perMs;
    const wait = Math.max(this.pausedUntil - now, untilToken, 0);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain();
    }, Math.ceil(wait));
  }

  private drain(): void {
    while (this.waiters.length > 0 && this.take()) this.waiters.shift()?.resolve();
    this.arm();
  }
}
