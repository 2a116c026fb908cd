/**
 * Group commit for every write of the store. Writes requested in the same event-loop turn run in
 * ONE `BEGIN IMMEDIATE` transaction on the next `setImmediate`, and each promise settles only after
 * that COMMIT: durability before acknowledgement. One fsync then covers the whole turn, which
 * makes `synchronous=FULL` affordable under load (research/perf-reliability.md §4.4: FULL costs
 * the same as NORMAL once a commit carries a turn's worth of rows).
 *
 * Each write runs in its own savepoint (better-sqlite3 nests `db.transaction()` as SAVEPOINTs), so
 * a write that throws rolls back only itself and rejects only its own promise.
 */
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import { RetryableError } from '../../errors.js';

/** How one write takes part in its batch. */
export interface WriteOptions<Result> {
  /** Counted in `commitsWith[label]`: commits that contained at least one write with this label. */
  label?: string;
  /**
   * Runs after the commit that made this write durable, just before its promise resolves (e.g. to
   * wake workers). Not called when the write or the commit failed.
   */
  onCommitted?: (result: Result) => void;
  /**
   * Runs after the writes of its batch requested without this flag, whatever the call order. A
   * worker's claim uses it to see every job that the same transaction completes or adds.
   */
  runLast?: boolean;
}

/**
 * Queues `op` (synchronous SQL, no awaiting inside) for this turn's transaction; resolves with its
 * result once that transaction has committed.
 */
export type Write = <Result>(op: () => Result, options?: WriteOptions<Result>) => Promise<Result>;

/** Counters since the batcher was created. */
export interface WriteBatchStats {
  /** Transactions committed (at most one per event-loop turn). */
  commits: number;
  /** Writes committed. */
  writes: number;
  /** Writes rejected: rolled back alone, or with a batch whose transaction failed. */
  failedWrites: number;
  /** Per label: commits that contained at least one committed write with that label. */
  commitsWith: Record<string, number>;
}

/** The write path of one store. */
export interface WriteBatcher {
  run: Write;
  /** Commits whatever is waiting now, synchronously (used by close). */
  flush(): void;
  stats(): WriteBatchStats;
}

interface Waiting {
  op: () => unknown;
  options: WriteOptions<unknown> | undefined;
  resolve(result: unknown): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; result: unknown } | { ok: false; error: unknown };

/** Thrown out of the batch when a failing write took the whole transaction down with it. */
class TransactionLost extends Error {}

/**
 * Creates the batcher of `db`. Only writes go through it; reads stay plain statements, which see
 * committed data because a batch never stays open across turns.
 */
export function createWriteBatcher(db: Database, logger: Logger): WriteBatcher {
  let waiting: Waiting[] = [];
  let waitingLast: Waiting[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  const stats = { commits: 0, writes: 0, failedWrites: 0 };
  const commitsWith = new Map<string, number>();

  // Called inside the batch's transaction, better-sqlite3 makes this a SAVEPOINT … RELEASE, with
  // ROLLBACK TO when `op` throws.
  const inSavepoint = db.transaction((op: () => unknown) => op());
  const inTransaction = db.transaction((batch: readonly Waiting[]): Outcome[] =>
    batch.map((entry) => {
      try {
        return { ok: true, result: inSavepoint(entry.op) };
      } catch (error) {
        // Some failures (disk full, I/O error) make SQLite roll back the whole transaction: the
        // writes before this one are gone, and the ones after must not run in autocommit mode.
        if (!db.inTransaction) throw new TransactionLost('The write batch was rolled back by SQLite', { cause: error });
        return { ok: false, error };
      }
    }),
  ).immediate;

  function flush(): void {
    if (scheduled) clearImmediate(scheduled);
    scheduled = undefined;
    const batch = waiting.concat(waitingLast);
    waiting = [];
    waitingLast = [];
    if (batch.length === 0) return;

    let outcomes: Outcome[];
    try {
      outcomes = inTransaction(batch);
    } catch (caught) {
      const cause = caught instanceof TransactionLost ? caught.cause : caught;
      const error = new RetryableError('STORE', 'Could not commit a batch of store writes', { cause });
      logger.error({ err: cause, writes: batch.length }, 'Could not commit a batch of store writes');
      stats.failedWrites += batch.length;
      for (const entry of batch) entry.reject(error);
      return;
    }

    stats.commits += 1;
    const labels = new Set<string>();
    batch.forEach((entry, index) => {
      const outcome = outcomes[index] as Outcome;
      if (!outcome.ok) {
        stats.failedWrites += 1;
        entry.reject(outcome.error);
        return;
      }
      stats.writes += 1;
      if (entry.options?.label !== undefined) labels.add(entry.options.label);
      try {
        entry.options?.onCommitted?.(outcome.result);
      } catch (error) {
        // The write is durable whatever the follow-up does: its caller still gets the result.
        logger.error({ err: error }, 'A follow-up of a committed store write failed');
      }
      entry.resolve(outcome.result);
    });
    for (const label of labels) commitsWith.set(label, (commitsWith.get(label) ?? 0) + 1);
  }

  return {
    run<Result>(op: () => Result, options?: WriteOptions<Result>): Promise<Result> {
      return new Promise<Result>((resolve, reject) => {
        const entry = { op, options, resolve, reject } as Waiting;
        (options?.runLast ? waitingLast : waiting).push(entry);
        scheduled ??= setImmediate(flush);
      });
    },
    flush,
    stats: () => ({ ...stats, commitsWith: Object.fromEntries(commitsWith) }),
  };
}
