/**
 * Every statement on the `jobs` and `queue_heads` tables, prepared once per store.
 *
 * Invariant: a conversation has a `queue_heads` row exactly when it has a pending or running job,
 * and that row points at its oldest one. Only a head is ever claimed, and a running head is never
 * claimed again, which gives per-conversation FIFO with parallelism across conversations.
 *
 * The writes open no transaction of their own: the store runs each inside its write batch (one
 * transaction per event-loop turn, a savepoint per write), which keeps their statements atomic.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { Job, JobInput, JobState, QueueCounts, QueueName } from '../types.js';

/** All job SQL, exported so a test can check that each query plan uses the intended index. */
export const JOB_SQL = {
  insert: `INSERT INTO jobs (queue, connector_id, conversation_key, dedupe_key, kind, payload, state, attempts, created_at, run_at, updated_at)
    VALUES (@queue, @connectorId, @conversationKey, @dedupeKey, @kind, @payload, 'pending', 0, @now, @now, @now)
    ON CONFLICT (queue, dedupe_key) DO NOTHING RETURNING id`,
  idByDedupeKey: `SELECT id FROM jobs WHERE queue = ? AND dedupe_key = ?`,
  insertHead: `INSERT INTO queue_heads (queue, conversation_key, job_id, run_at, running) VALUES (?, ?, ?, ?, 0)
    ON CONFLICT (queue, conversation_key) DO NOTHING`,
  dueHeads: `SELECT conversation_key, job_id FROM queue_heads
    WHERE queue = ? AND running = 0 AND run_at <= ? ORDER BY run_at, job_id LIMIT ?`,
  markHeadRunning: `UPDATE queue_heads SET running = 1 WHERE queue = ? AND conversation_key = ?`,
  markJobRunning: `UPDATE jobs SET state = 'running', updated_at = ? WHERE id = ? AND state = 'pending' RETURNING *`,
  head: `SELECT running FROM queue_heads WHERE queue = ? AND conversation_key = ?`,
  // INDEXED BY: with equal-looking costs the planner may pick jobs_by_state, which walks every
  // pending job of the queue; this index goes straight to the conversation's oldest one.
  nextPending: `SELECT id, run_at FROM jobs INDEXED BY jobs_pending_by_conversation
    WHERE queue = ? AND conversation_key = ? AND state = 'pending' ORDER BY id LIMIT 1`,
  upsertHead: `INSERT INTO queue_heads (queue, conversation_key, job_id, run_at, running) VALUES (?, ?, ?, ?, 0)
    ON CONFLICT (queue, conversation_key) DO UPDATE SET job_id = excluded.job_id, run_at = excluded.run_at, running = 0`,
  deleteHead: `DELETE FROM queue_heads WHERE queue = ? AND conversation_key = ?`,
  complete: `UPDATE jobs SET state = 'done', updated_at = ? WHERE id = ? AND state = 'running'`,
  retry: `UPDATE jobs SET state = 'pending', attempts = attempts + 1, run_at = ?, last_error = ?, updated_at = ?
    WHERE id = ? AND state = 'running'`,
  bury: `UPDATE jobs SET state = 'dead', attempts = attempts + 1, last_error = ?, updated_at = ?
    WHERE id = ? AND state = 'running'`,
  counts: `SELECT state, count(*) AS n FROM jobs WHERE queue = ? GROUP BY state`,
  get: `SELECT * FROM jobs WHERE queue = ? AND id = ?`,
  listDead: `SELECT * FROM jobs WHERE queue = ? AND state = 'dead' ORDER BY id LIMIT ?`,
  replayOne: `UPDATE jobs SET state = 'pending', attempts = 0, run_at = ?, updated_at = ?
    WHERE queue = ? AND id = ? AND state = 'dead' RETURNING conversation_key`,
  replayAll: `UPDATE jobs SET state = 'pending', attempts = 0, run_at = ?, updated_at = ?
    WHERE queue = ? AND state = 'dead' RETURNING conversation_key`,
  recoverJobs: `UPDATE jobs SET state = 'pending', updated_at = ? WHERE queue = ? AND state = 'running'`,
  recoverHeads: `UPDATE queue_heads SET running = 0 WHERE queue = ? AND running = 1`,
  pruneDone: `DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE state = 'done' AND updated_at < ? LIMIT ?)`,
} as const;

const QUEUES: readonly QueueName[] = ['to-genesys', 'to-platform'];
const PRUNE_BATCH = 1_000;

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

/** The prepared statements and the multi-statement operations built on them. */
export type JobTable = ReturnType<typeof prepareJobTable>;

/** Prepares every job statement on `db` once; the store calls this at open. */
export function prepareJobTable(db: Database) {
  const s = Object.fromEntries(
    Object.entries(JOB_SQL).map(([name, sql]) => [name, db.prepare(sql)]),
  ) as { [Name in keyof typeof JOB_SQL]: Statement<unknown[], unknown> };

  /** Re-points a conversation's head at its oldest pending job (or drops it) unless it is running. */
  function refreshHead(queue: QueueName, conversationKey: string, ranJustNow: boolean): void {
    if (!ranJustNow) {
      const head = s.head.get(queue, conversationKey) as { running: number } | undefined;
      if (head?.running) return;
    }
    const next = s.nextPending.get(queue, conversationKey) as { id: number; run_at: number } | undefined;
    if (next) s.upsertHead.run(queue, conversationKey, next.id, next.run_at);
    else s.deleteHead.run(queue, conversationKey);
  }

  /**
   * After a run ends the conversation moves on. `changes` is 0 when the job was not running any
   * more (another store recovered it): then its head is not ours to touch.
   */
  function afterRun(queue: QueueName, job: Job, changes: number): boolean {
    if (changes === 0) return false;
    refreshHead(queue, job.conversationKey, true);
    return true;
  }

  return {
    /**
     * Inserts a job; a duplicate (also one inserted earlier in the same transaction) reports the
     * first job's id.
     */
    insert(job: SerializedJobInput, now: number): InsertOutcome {
      const inserted = s.insert.get({ ...job, now }) as { id: number } | undefined;
      if (!inserted) {
        const existing = s.idByDedupeKey.get(job.queue, job.dedupeKey) as { id: number };
        return { id: existing.id, duplicate: true };
      }
      s.insertHead.run(job.queue, job.conversationKey, inserted.id, now);
      return { id: inserted.id, duplicate: false };
    },

    /** Marks up to `limit` due heads running and returns their jobs. */
    claim(queue: QueueName, limit: number, now: number): Job[] {
      const heads = s.dueHeads.all(queue, now, limit) as { conversation_key: string; job_id: number }[];
      const claimed: Job[] = [];
      for (const head of heads) {
        const row = s.markJobRunning.get(now, head.job_id) as JobRow | undefined;
        if (row) {
          s.markHeadRunning.run(queue, head.conversation_key);
          claimed.push(toJob(row));
        } else {
          // The head pointed at a job that is no longer pending: repair rather than stall.
          refreshHead(queue, head.conversation_key, true);
        }
      }
      return claimed;
    },

    /** The job succeeded; false when it was not running any more (its outcome is not recorded). */
    complete(queue: QueueName, job: Job, now: number): boolean {
      return afterRun(queue, job, s.complete.run(now, job.id).changes);
    },

    /** Counts the attempt and makes the job due at `runAt`; false as for `complete`. */
    retry(queue: QueueName, job: Job, runAt: number, lastError: string, now: number): boolean {
      return afterRun(queue, job, s.retry.run(runAt, lastError, now, job.id).changes);
    },

    /** Counts the attempt and dead-letters the job; false as for `complete`. */
    bury(queue: QueueName, job: Job, lastError: string, now: number): boolean {
      return afterRun(queue, job, s.bury.run(lastError, now, job.id).changes);
    },

    counts(queue: QueueName): QueueCounts {
      const counts: QueueCounts = { pending: 0, running: 0, done: 0, dead: 0 };
      for (const row of s.counts.all(queue) as { state: JobState; n: number }[]) counts[row.state] = row.n;
      return counts;
    },

    get(queue: QueueName, id: number): Job | undefined {
      const row = s.get.get(queue, id) as JobRow | undefined;
      return row && toJob(row);
    },

    listDead(queue: QueueName, limit: number): Job[] {
      return (s.listDead.all(queue, limit) as JobRow[]).map(toJob);
    },

    /** Moves dead jobs (one, or all when `id` is undefined) back to pending; returns how many. */
    replayDead(queue: QueueName, id: number | undefined, now: number): number {
      const rows = (
        id === undefined ? s.replayAll.all(now, now, queue) : s.replayOne.all(now, now, queue, id)
      ) as { conversation_key: string }[];
      for (const key of new Set(rows.map((row) => row.conversation_key))) refreshHead(queue, key, false);
      return rows.length;
    },

    /**
     * Jobs left running by a process that died are pending again, still heading their
     * conversations, so they run first and in order. Single-instance SQLite only. Runs at open,
     * before the write batch exists, so it is its own transaction: IMMEDIATE takes the write lock
     * up front, and busy_timeout covers the wait when another connection holds it.
     */
    recoverInterrupted: db.transaction((now: number): number => {
      let recovered = 0;
      for (const queue of QUEUES) {
        recovered += s.recoverJobs.run(now, queue).changes;
        s.recoverHeads.run(queue);
      }
      return recovered;
    }).immediate,

    /** Deletes done jobs last touched before `cutoff`, in batches so no lock is held for long. */
    pruneDone(cutoff: number): number {
      let pruned = 0;
      for (;;) {
        const { changes } = s.pruneDone.run(cutoff, PRUNE_BATCH);
        pruned += changes;
        if (changes < PRUNE_BATCH) return pruned;
      }
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
