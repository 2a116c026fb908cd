/**
 * Tells an outage from a job's own failure, per connector. A job that fails alone spends its retry
 * budget and is dead-lettered when the budget runs out: the job is the problem. When different
 * jobs of one connector fail one after the other with no success between them, the dependency is
 * the problem (the platform, or Genesys: down, rejecting the credentials, missing a permission),
 * and spending every job's budget would dead-letter all the work queued during an outage that
 * outlasts it (eight attempts are over in about a minute). Such a connector is held: its failing
 * jobs wait without counting an attempt, at intervals that grow with the outage up to the backoff
 * cap, until one of its jobs succeeds.
 */

export interface OutageHoldOptions {
  /** Different jobs that must fail in a row, with no success between them, to begin a hold. */
  minFailedJobs: number;
  /** Bounds of the wait between a held job's attempts (the queue's backoff settings). */
  baseMs: number;
  maxMs: number;
  now: () => number;
  /** A source of numbers in [0, 1), injectable for tests. */
  random?: () => number;
}

/** What a retryable failure means for its connector. */
export interface FailureVerdict {
  /** The connector is held: the failure should not count as an attempt. */
  held: boolean;
  /** This failure began the hold (report it once). */
  began: boolean;
  /** When held: how long the job waits before its next attempt. */
  retryDelayMs: number;
}

interface FailureStreak {
  /** Jobs that failed since the connector's last success; only kept until the hold begins. */
  failedJobs: Set<number>;
  heldSince?: number;
}

export class OutageHolds {
  private readonly streaks = new Map<string, FailureStreak>();
  private readonly random: () => number;

  constructor(private readonly options: OutageHoldOptions) {
    this.random = options.random ?? Math.random;
  }

  /** Records a retryable failure of `jobId`. */
  failed(connectorId: string, jobId: number): FailureVerdict {
    const streak = this.streaks.get(connectorId) ?? { failedJobs: new Set<number>() };
    this.streaks.set(connectorId, streak);
    let began = false;
    if (streak.heldSince === undefined) {
      streak.failedJobs.add(jobId);
      if (streak.failedJobs.size < this.options.minFailedJobs) return { held: false, began: false, retryDelayMs: 0 };
      streak.heldSince = this.options.now();
      streak.failedJobs.clear();
      began = true;
    }
    return { held: true, began, retryDelayMs: this.retryDelay(this.options.now() - streak.heldSince) };
  }

  /** A job of the connector succeeded: ends its streak; returns how long it was held, if it was. */
  succeeded(connectorId: string): number | undefined {
    const streak = this.streaks.get(connectorId);
    if (!streak) return undefined;
    this.streaks.delete(connectorId);
    return streak.heldSince === undefined ? undefined : this.options.now() - streak.heldSince;
  }

  /** Connectors held now. */
  held(): string[] {
    return [...this.streaks].filter(([, streak]) => streak.heldSince !== undefined).map(([connectorId]) => connectorId);
  }

  /**
   * About as long as the outage has lasted, between the bounds, with jitter so held jobs do not
   * all try together: a blip is retried within seconds, a long outage every few minutes.
   */
  private retryDelay(heldForMs: number): number {
    const { baseMs, maxMs } = this.options;
    const ceiling = Math.min(maxMs, Math.max(baseMs, heldForMs));
    return Math.max(Math.min(baseMs, maxMs), Math.floor(ceiling / 2 + (this.random() * ceiling) / 2));
  }
}
