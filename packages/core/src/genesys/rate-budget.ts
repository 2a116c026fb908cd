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

/**
 * `high` waiters are always served before `low` ones. Customer messages go first: a receipt or a
 * typing indicator that waits costs little, a customer who waits behind them is the product failing.
 */
export type BudgetPriority = 'high' | 'low';

// Refills are fractional; this keeps 0.9999999 from counting as "not yet one token".
const EPSILON = 1e-9;

/**
 * Token bucket with two FIFO queues (high before low). At most one timer is armed at any time,
 * however many callers wait, and it fires when the head of the queues can go.
 */
export class RateBudget {
  private readonly perMs: number;
  private readonly burst: number;
  private readonly now: () => number;
  private tokens: number;
  private refilledAt: number;
  private pausedUntil = 0;
  private readonly high: Waiter[] = [];
  private readonly low: Waiter[] = [];
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
    return this.high.length + this.low.length;
  }

  /** Resolves when one request may be sent; callers of one priority are served in call order. */
  acquire(priority: BudgetPriority = 'high'): Promise<void> {
    if (this.closedWith !== undefined) return Promise.reject(this.closedWith);
    const ahead = priority === 'high' ? this.high.length : this.waiting;
    if (ahead === 0 && this.take()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      (priority === 'high' ? this.high : this.low).push({ resolve, reject });
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
    for (const waiter of [...this.high.splice(0), ...this.low.splice(0)]) waiter.reject(error);
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
    if (this.timer || this.waiting === 0 || this.closedWith !== undefined) return;
    const now = this.refill();
    const untilToken = this.tokens >= 1 - EPSILON ? 0 : (1 - this.tokens) / this.perMs;
    const wait = Math.max(this.pausedUntil - now, untilToken, 0);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain();
    }, Math.ceil(wait));
  }

  private drain(): void {
    while (this.waiting > 0 && this.take()) (this.high.shift() ?? this.low.shift())?.resolve();
    this.arm();
  }
}
