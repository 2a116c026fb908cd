/**
 * Every statement on the `jobs` table: the writes as `Step` programs for the store's writer thread,
 * the reads as statements prepared on the main connection.
 *
 * Invariant: a conversation has a `queue_heads` row exactly when it has a pending or running job,
 * and that row points at its oldest one. Triggers keep it (schema.ts), in the same statement as
 * each change of a job's state. Only a head is ever claimed, and a running head is never claimed
 * again, which gives per-conversation FIFO with parallelism across conversations.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { Job, JobInput, JobState, QueueCounts, QueueName } from '../types.js';
import type { RunResult, Step, StepResult } from './writer-thread.js';
import type { WriteRequest } from './write-batch.js';

/**
 * All job SQL, exported so a test can check that each query plan uses the intended index.
 *
 * No hot-path statement uses RETURNING: SQLite collects RETURNING rows in an ephemeral table, with
 * a page cache of its own created and destroyed on every run, and that allocation churn showed up
 * in profiles of the relay (malloc trimming the heap, page faults). `changes` and
 * `lastInsertRowid` say the same for free.
 */
export const JOB_SQL = {
  // OR IGNORE, not ON CONFLICT DO NOTHING: with the insert trigger, a statement that may abort
  // makes SQLite keep a statement journal (a copy of every page it touches) to undo a half-done
  // statement; OR IGNORE cannot abort, and measured the insert at a third of the time (7 vs 15–21
  // µs). The only constraint it can meet is the dedupe key: every other column comes from code.
  insert: `INSERT OR IGNORE INTO jobs (queue, connector_id, conversation_key, dedupe_key, kind, payload, state, attempts, created_at, run_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)`,
  idByDedupeKey: `SELECT id FROM jobs WHERE queue = ? AND dedupe_key = ?`,
  // The due heads' jobs, oldest due first. `LIMIT +?`, not `LIMIT ?`: SQLite's planner reads a
  // plain LIMIT parameter, which makes every new value re-prepare the statement (measured: 22 µs
  // instead of 5 for a claim that finds nothing, on every claim); the unary plus hides the value.
  dueJobs: `SELECT jobs.* FROM queue_heads JOIN jobs ON jobs.id = queue_heads.job_id
    WHERE queue_heads.queue = ? AND queue_heads.running = 0 AND queue_heads.run_at <= ?
    ORDER BY queue_heads.run_at, queue_heads.job_id LIMIT +?`,
  markRunning: `UPDATE jobs SET state = 'running', updated_at = ? WHERE id = ? AND state = 'pending'`,
  complete: `UPDATE jobs SET state = 'done', updated_at = ? WHERE id = ? AND state = 'running'`,
  retry: `UPDATE jobs SET state = 'pending', attempts = attempts + 1, run_at = ?, last_error = ?, updated_at = ?
    WHERE id = ? AND state = 'running'`,
  bury: `UPDATE jobs SET state = 'dead', attempts = attempts + 1, last_error = ?, updated_at = ?
    WHERE id = ? AND state = 'running'`,
  postpone: `UPDATE jobs SET state = 'pending', run_at = ?, last_error = ?, updated_at = ? WHERE id = ? AND state = 'running'`,
  // Heads first: they are found through the jobs that still wait (run_at > now) before those move.
  expediteHeads: `UPDATE queue_heads SET run_at = ? WHERE queue = ? AND running = 0 AND run_at > ? AND job_id IN
    (SELECT id FROM jobs WHERE queue = ? AND connector_id = ? AND state = 'pending' AND run_at > ?)`,
  expediteJobs: `UPDATE jobs SET run_at = ?, updated_at = ? WHERE queue = ? AND connector_id = ? AND state = 'pending' AND run_at > ?`,
  release: `UPDATE jobs SET state = 'pending', updated_at = ? WHERE id = ? AND state = 'running'`,
  replayOne: `UPDATE jobs SET state = 'pending', attempts = 0, run_at = ?, updated_at = ?
    WHERE queue = ? AND id = ? AND state = 'dead'`,
  replayAll: `UPDATE jobs SET state = 'pending', attempts = 0, run_at = ?, updated_at = ?
    WHERE queue = ? AND state = 'dead'`,
  // Per queue, so the store can keep its count of done jobs right (see `countDone`). INDEXED BY:
  // the planner prefers jobs_by_state for the queue, which walks every done job of the queue
  // when few are old enough (each prune, once a minute); the age index stops at the cutoff.
  pruneDone: `DELETE FROM jobs WHERE id IN (SELECT id FROM jobs INDEXED BY jobs_done_age
    WHERE state = 'done' AND updated_at < ? AND queue = ? LIMIT ?)`,
  // Unfinished and dead jobs only: they are few, and the index range holds just them. Done jobs
  // are kept 24 h for dedupe and number millions on a busy day; counting them at every metrics
  // scrape measured 80 ms per million, with the event loop blocked.
  counts: `SELECT state, count(*) AS n FROM jobs WHERE queue = ? AND state IN ('pending', 'running', 'dead') GROUP BY state`,
  // Once per queue at open (the range of done jobs in the covering index): afterwards the store
  // counts completions and prunes itself.
  countDone: `SELECT count(*) AS n FROM jobs WHERE queue = ? AND state = 'done'`,
  get: `SELECT * FROM jobs WHERE queue = ? AND id = ?`,
  listDead: `SELECT * FROM jobs WHERE queue = ? AND state = 'dead' ORDER BY id LIMIT ?`,
  recoverJobs: `UPDATE jobs SET state = 'pending', updated_at = ? WHERE queue = ? AND state = 'running'`,
} as const;

/** The statements the writer thread runs for jobs, by the name steps use. */
export const JOB_WRITE_STATEMENTS = {
  'jobs.insert': JOB_SQL.insert,
  'jobs.idByDedupeKey': JOB_SQL.idByDedupeKey,
  'jobs.dueJobs': JOB_SQL.dueJobs,
  'jobs.markRunning': JOB_SQL.markRunning,
  'jobs.complete': JOB_SQL.complete,
  'jobs.retry': JOB_SQL.retry,
  'jobs.bury': JOB_SQL.bury,
  'jobs.postpone': JOB_SQL.postpone,
  'jobs.expediteHeads': JOB_SQL.expediteHeads,
  'jobs.expediteJobs': JOB_SQL.expediteJobs,
  'jobs.release': JOB_SQL.release,
  'jobs.replayOne': JOB_SQL.replayOne,
  'jobs.replayAll': JOB_SQL.replayAll,
  'jobs.pruneDone': JOB_SQL.pruneDone,
} as const;

const QUEUES: readonly QueueName[] = ['to-genesys', 'to-platform'];
/** Rows one prune statement deletes at most, so no transaction holds the lock for long. */
export const PRUNE_BATCH = 1_000;

interface JobRow {
  id: number;
  queue: QueueName;
  connector_id: string;
  conversation_key: string;
  dedupe_key: string;
  kind: string;
  payload: string;
  state: JobState;
  attempts: number;
  created_at: number;
  run_at: number;
  updated_at: number;
  last_error: string | null;
}

/** A job on its way into the table: the input with its payload already serialized. */
export interface SerializedJobInput extends Omit<JobInput, 'payload'> {
  queue: QueueName;
  payload: string;
}

export interface InsertOutcome {
  id: number;
  duplicate: boolean;
}

const changed = (results: readonly StepResult[]): boolean => (results[0] as RunResult).changes === 1;

/** The writes on jobs, as requests for the store's write batch. */
export const jobWrites = {
  /**
   * Inserts a job; a duplicate (also one inserted earlier in the same batch) reports the first
   * job's id. Its conversation's head comes from the insert trigger.
   */
  insert(job: SerializedJobInput, now: number): WriteRequest<InsertOutcome> {
    return {
      steps: [
        // Positional: cheaper to send to the writer thread and to bind than named parameters.
        {
          sql: 'jobs.insert',
          mode: 'run',
          params: [job.queue, job.connectorId, job.conversationKey, job.dedupeKey, job.kind, job.payload, now, now, now],
        },
        { sql: 'jobs.idByDedupeKey', mode: 'get', params: [job.queue, job.dedupeKey], unlessChanged: 0 },
      ],
      result: ([inserted, existing]) => {
        if ((inserted as RunResult).changes > 0) return { id: (inserted as RunResult).lastInsertRowid, duplicate: false };
        // Ignored without a job holding the dedupe key: another constraint refused the row.
        if (!existing) throw new Error(`The job "${job.dedupeKey}" was refused by the jobs table`);
        return { id: (existing as { id: number }).id, duplicate: true };
      },
    };
  },

  /**
   * Marks up to `limit()` due heads running and returns their jobs; `limit` is asked when the
   * batch is sent, after every outcome requested before it.
   */
  claim(queue: QueueName, limit: () => number, now: () => number): WriteRequest<Job[]> {
    return {
      steps: () => {
        const count = limit();
        if (count <= 0) return [];
        const at = now();
        return [
          { sql: 'jobs.dueJobs', mode: 'all', params: [queue, at, count] },
          { sql: 'jobs.markRunning', mode: 'run', params: [at], eachRow: { step: 0, columns: ['id'] } },
        ] satisfies Step[];
      },
      result: (results) => {
        if (results.length === 0) return [];
        const [rows, changes] = results as [JobRow[], number[]];
        return rows.flatMap((row, index) => (changes[index] === 1 ? [toJob({ ...row, state: 'running' })] : []));
      },
      runLast: true,
    };
  },

  /** The job succeeded; false when it was not running any more (its outcome is not recorded). */
  complete(job: Job, now: number): WriteRequest<boolean> {
    return { steps: [{ sql: 'jobs.complete', mode: 'run', params: [now, job.id] }], result: changed };
  },

  /** Counts the attempt and makes the job due at `runAt`; false as for `complete`. */
  retry(job: Job, runAt: number, lastError: string, now: number): WriteRequest<boolean> {
    return { steps: [{ sql: 'jobs.retry', mode: 'run', params: [runAt, lastError, now, job.id] }], result: changed };
  },

  /** Counts the attempt and dead-letters the job; false as for `complete`. */
  bury(job: Job, lastError: string, now: number): WriteRequest<boolean> {
    return { steps: [{ sql: 'jobs.bury', mode: 'run', params: [lastError, now, job.id] }], result: changed };
  },

  /** Makes the job due at `runAt` without counting the attempt; false as for `complete`. */
  postpone(job: Job, runAt: number, lastError: string, now: number): WriteRequest<boolean> {
    return { steps: [{ sql: 'jobs.postpone', mode: 'run', params: [runAt, lastError, now, job.id] }], result: changed };
  },

  /** Makes the connector's pending jobs of `queue` that wait for a later time due now. */
  expedite(queue: QueueName, connectorId: string, now: number): WriteRequest<void> {
    return {
      steps: [
        { sql: 'jobs.expediteHeads', mode: 'run', params: [now, queue, now, queue, connectorId, now] },
        { sql: 'jobs.expediteJobs', mode: 'run', params: [now, now, queue, connectorId, now] },
      ],
    };
  },

  /**
   * A claimed job that never ran is pending again, attempts and run time unchanged; the trigger
   * of a finished run makes it its conversation's head again. False as for `complete`.
   */
  release(job: Job, now: number): WriteRequest<boolean> {
    return { steps: [{ sql: 'jobs.release', mode: 'run', params: [now, job.id] }], result: changed };
  },

  /** Moves dead jobs (one, or all when `id` is undefined) back to pending; returns how many. */
  replayDead(queue: QueueName, id: number | undefined, now: number): WriteRequest<number> {
    const step: Step =
      id === undefined
        ? { sql: 'jobs.replayAll', mode: 'run', params: [now, now, queue] }
        : { sql: 'jobs.replayOne', mode: 'run', params: [now, now, queue, id] };
    return { steps: [step], result: ([replayed]) => (replayed as RunResult).changes };
  },

  /** Deletes up to PRUNE_BATCH done jobs of `queue` last touched before `cutoff`; returns how many. */
  pruneDone(queue: QueueName, cutoff: number): WriteRequest<number> {
    return {
      steps: [{ sql: 'jobs.pruneDone', mode: 'run', params: [cutoff, queue, PRUNE_BATCH] }],
      result: ([pruned]) => (pruned as RunResult).changes,
    };
  },
};

/** The reads, prepared on the main connection, and what runs at open before the writer starts. */
export type JobReads = ReturnType<typeof prepareJobReads>;

/** Prepares the job reads on `db` (the store's main connection) once, at open. */
export function prepareJobReads(db: Database) {
  const prepare = (sql: string): Statement<unknown[], unknown> => db.prepare(sql);
  const s = {
    counts: prepare(JOB_SQL.counts),
    get: prepare(JOB_SQL.get),
    listDead: prepare(JOB_SQL.listDead),
    recoverJobs: prepare(JOB_SQL.recoverJobs),
    pruneDone: prepare(JOB_SQL.pruneDone),
    countDone: prepare(JOB_SQL.countDone),
  };

  return {
    /** The queue's jobs by state, except done ones (0 here): the store counts those itself. */
    counts(queue: QueueName): QueueCounts {
      const counts: QueueCounts = { pending: 0, running: 0, done: 0, dead: 0 };
      for (const row of s.counts.all(queue) as { state: JobState; n: number }[]) counts[row.state] = row.n;
      return counts;
    },

    /** Done jobs per queue, counted in the table (a scan of every done job: at open only). */
    countDone(): Map<QueueName, number> {
      return new Map(QUEUES.map((queue) => [queue, (s.countDone.get(queue) as { n: number }).n]));
    },

    get(queue: QueueName, id: number): Job | undefined {
      const row = s.get.get(queue, id) as JobRow | undefined;
      return row && toJob(row);
    },

    listDead(queue: QueueName, limit: number): Job[] {
      return (s.listDead.all(queue, limit) as JobRow[]).map(toJob);
    },

    /**
     * Jobs left running by a process that died are pending again, still heading their
     * conversations (the trigger of a finished run picks the oldest pending job: them), so they
     * run first and in order. Single-instance SQLite only. Runs at open, before the writer thread
     * starts: IMMEDIATE takes the write lock up front, and busy_timeout covers the wait when
     * another connection holds it.
     */
    recoverInterrupted: db.transaction((now: number): number => {
      let recovered = 0;
      for (const queue of QUEUES) recovered += s.recoverJobs.run(now, queue).changes;
      return recovered;
    }).immediate,

    /** Deletes done jobs last touched before `cutoff`, in batches (at open, on this connection). */
    pruneDone(cutoff: number): number {
      let pruned = 0;
      for (const queue of QUEUES) {
        for (;;) {
          const { changes } = s.pruneDone.run(cutoff, queue, PRUNE_BATCH);
          pruned += changes;
          if (changes < PRUNE_BATCH) break;
        }
      }
      return pruned;
    },
  };
}

function toJob(row: JobRow): Job {
  return {
    id: row.id,
    connectorId: row.connector_id,
    conversationKey: row.conversation_key,
    dedupeKey: row.dedupe_key,
    kind: row.kind,
    payload: JSON.parse(row.payload) as unknown,
    state: row.state,
    attempts: row.attempts,
    createdAt: row.created_at,
    runAt: row.run_at,
    ...(row.last_error === null ? {} : { lastError: row.last_error }),
  };
}
