/**
 * The SQLite `Store`: better-sqlite3 in WAL mode with `synchronous=FULL`, made affordable by
 * group commit of every write (enqueues, claims, outcomes, links, kv) on a writer thread: one
 * transaction per batch, and the event loop never waits for fsync (write-batch.ts). Reads are
 * plain statements on the main connection, which sees every committed write. One process owns
 * the file (single instance); scale-out is PostgreSQL's job.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { ParleyError } from '../../errors.js';
import { silentLogger } from '../../logger.js';
import type { EnqueueResult, Job, JobFollowUp, JobInput, JobQueue, QueueName, Store } from '../types.js';
import { createQueueWorker, type ManagedQueueWorker } from '../worker.js';
import { JOB_WRITE_STATEMENTS, jobWrites, prepareJobReads, PRUNE_BATCH, type InsertOutcome, type SerializedJobInput } from './jobs.js';
import { createKeyValueTable, KV_SQL, KV_WRITE_STATEMENTS, pruneExpiredKeys } from './kv.js';
import { createMessageLinks, LINK_WRITE_STATEMENTS, pruneOldLinks, recordLink } from './links.js';
import { migrate } from './schema.js';
import { combineWrites, createWriteBatcher, type CommittedBatch, type Write } from './write-batch.js';
import { startInlineWriter, startWriterThread } from './writer-thread.js';

/** Every statement the writer runs, by the name its steps use. */
const WRITE_STATEMENTS: Readonly<Record<string, string>> = {
  ...JOB_WRITE_STATEMENTS,
  ...LINK_WRITE_STATEMENTS,
  ...KV_WRITE_STATEMENTS,
};

/** Options of `createSqliteStore`. */
export interface SqliteStoreOptions {
  /** Database file; parent directories are created. `:memory:` for a throwaway store. */
  path: string;
  logger?: Logger;
  /** Clock in ms since epoch (run times, retention, TTLs); injectable for tests. */
  now?: () => number;
  /** How long done jobs are kept so late duplicates are still recognised. Default 24 h. */
  doneRetentionMs?: number;
  /**
   * How long a platform ⇄ Genesys message id link is kept (for Genesys receipts about customer
   * messages, replies and edits that refer to earlier messages). Default 30 days.
   */
  linkRetentionMs?: number;
  /** How often expired done jobs, links and kv keys are deleted. Default 60 s. */
  pruneIntervalMs?: number;
  /** How long a statement waits for another connection's write lock. Default 5 s. */
  busyTimeoutMs?: number;
  /**
   * Under load, how long after one write batch went to the writer thread the next one waits, so
   * that batches grow. Default 3 ms; an idle store sends at once.
   */
  minBatchIntervalMs?: number;
  /**
   * Called once per write batch when its writer answered: how long the batch took from being
   * sent to its commit, how many writes it held, whether it committed (e.g. for a metric).
   */
  onBatch?: (batch: CommittedBatch) => void;
}

/** Counters since the store opened. */
export interface SqliteStoreStats {
  /** Write transactions committed: at most one per event-loop turn, whatever it wrote. */
  commits: number;
  /** Writes committed (enqueues, claims, job outcomes, links, kv, replays). */
  writes: number;
  /** Writes rejected: rolled back alone, or with a transaction that could not commit. */
  failedWrites: number;
  /** Commits that contained at least one enqueue. */
  enqueueCommits: number;
  /** Jobs inserted. */
  jobsEnqueued: number;
  /** Enqueues answered with an existing job's id. */
  duplicatesSkipped: number;
  /** Jobs found `running` at open (left by a process that died) and made pending again. */
  recoveredJobs: number;
}

/** The SQLite store, plus diagnostics that are not part of the `Store` interface. */
export interface SqliteStore extends Store {
  readonly kind: 'sqlite';
  /** Counters for tests and diagnostics (e.g. how many write transactions ran). */
  stats(): SqliteStoreStats;
  /** Deletes done jobs and links older than their retention and expired kv keys now; resolves with how many rows. */
  prune(): Promise<number>;
  /**
   * Drops the writer thread and closes the connection at once, committing nothing that waits, like
   * a process that dies (for crash tests). The store is closed afterwards.
   */
  abandon(): Promise<void>;
  /**
   * The main connection (reads), for diagnostics and tests. Writing through it bypasses the store
   * and contends with its writer thread for the write lock.
   */
  readonly database: Database.Database;
}

const DEFAULT_DONE_RETENTION_MS = 24 * 60 * 60_000;
const DEFAULT_LINK_RETENTION_MS = 30 * 24 * 60 * 60_000;
const DEFAULT_PRUNE_INTERVAL_MS = 60_000;
const DEFAULT_BUSY_TIMEOUT_MS = 5_000;
// Measured on the relay: 3 ms cut commits per second ~2.7× and host CPU per message by 3–7 % in
// A/B runs (near this machine's noise); the webhook answer waits at most that much longer, and
// only while batches follow each other.
const DEFAULT_MIN_BATCH_INTERVAL_MS = 3;
const DEFAULT_DEAD_LIST_LIMIT = 100;
const READER_CACHE_KIB = 2048;

/**
 * Opens (creating if needed) a SQLite store, migrates its schema, and makes jobs a crashed process
 * left running pending again.
 *
 * @example
 * const store = createSqliteStore({ path: './data/parley.db', logger });
 * await store.queue('to-genesys').enqueue({ connectorId, conversationKey, dedupeKey, kind: 'message', payload });
 */
export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const logger = (options.logger ?? silentLogger()).child({ component: 'store' });
  const now = options.now ?? Date.now;
  const doneRetentionMs = options.doneRetentionMs ?? DEFAULT_DONE_RETENTION_MS;
  const linkRetentionMs = options.linkRetentionMs ?? DEFAULT_LINK_RETENTION_MS;

  const busyTimeoutMs = Math.max(0, Math.floor(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS));
  const db = openDatabase(options.path, busyTimeoutMs);
  let closed = false;
  const closedError = () => new ParleyError('STORE', 'The store is closed');
  const guard = (): void => {
    if (closed) throw closedError();
  };

  // Before the writer starts: it prepares its statements on the migrated schema, and the jobs a
  // crashed process left running are pending again before any worker claims.
  // `doneJobs`: done jobs per queue. Counted once here, then kept by this store as it completes and
  // prunes jobs (it is their only writer: single instance), so counts() never scans them.
  const { reads, recoveredJobs, doneJobs } = closeOnFailure(db, () => {
    const jobReads = prepareJobReads(db);
    const at = now();
    jobReads.pruneDone(at - doneRetentionMs);
    db.prepare(KV_SQL.pruneExpired).run(at);
    return { reads: jobReads, recoveredJobs: jobReads.recoverInterrupted(at), doneJobs: jobReads.countDone() };
  });
  if (recoveredJobs > 0) logger.warn({ recoveredJobs }, 'Resuming jobs interrupted by a previous shutdown');

  // An in-memory database exists only in this connection, so its writer runs inline on it.
  const inMemory = options.path === ':memory:' || options.path === '';
  const batcher = createWriteBatcher(
    () => (inMemory ? startInlineWriter(db, WRITE_STATEMENTS) : startWriterThread({ path: options.path, busyTimeoutMs, statements: WRITE_STATEMENTS })),
    logger,
    {
      minBatchIntervalMs: options.minBatchIntervalMs ?? DEFAULT_MIN_BATCH_INTERVAL_MS,
      ...(options.onBatch ? { onBatch: options.onBatch } : {}),
    },
  );
  // Every write of the store goes through here, so it is refused once the store is closed.
  const write: Write = (request) => {
    if (closed) return Promise.reject(closedError());
    return batcher.run(request);
  };

  const kv = createKeyValueTable(db, now, guard, write);
  const links = createMessageLinks(db, now, guard, write);

  const activeWorkers = new Map<QueueName, Set<ManagedQueueWorker>>();
  const allWorkers = new Set<ManagedQueueWorker>();
  const wakeWorkers = (queue: QueueName): void => {
    for (const worker of activeWorkers.get(queue) ?? []) worker.wake();
  };
  const enqueueStats = { jobsEnqueued: 0, duplicatesSkipped: 0 };
  /** After the commit of an enqueue: count it, and wake the queue's workers for a new job. */
  const enqueued = (queue: QueueName, outcome: InsertOutcome): void => {
    if (outcome.duplicate) {
      enqueueStats.duplicatesSkipped += 1;
      return;
    }
    enqueueStats.jobsEnqueued += 1;
    wakeWorkers(queue);
  };

  /**
   * A job's completion with its handler's follow-up, as one write: links first, then the new
   * jobs, then the completion. False when the job was not running any more, as for `complete`.
   */
  function completeWithFollowUp(job: Job, followUp: JobFollowUp): Promise<boolean> {
    const at = now();
    const newJobs = (followUp.enqueue ?? []).map(({ queue, job: input }) => serializeJob(queue, input));
    const linkWrites = (followUp.links ?? []).map((link) => recordLink(link, at));
    const parts = [...linkWrites, ...newJobs.map((input) => jobWrites.insert(input, at)), jobWrites.complete(job, at)];
    return write({
      ...combineWrites(parts),
      ...(newJobs.length > 0 ? { label: 'enqueue' } : {}),
      onCommitted(results) {
        newJobs.forEach((input, index) => enqueued(input.queue, results[linkWrites.length + index] as InsertOutcome));
      },
    }).then((results) => results.at(-1) as boolean);
  }

  // Housekeeping goes through the writer like every write, in bounded deletes so that no batch
  // holds the write lock for long; a lost prune only means it runs again later.
  async function prune(): Promise<number> {
    guard();
    const at = now();
    let pruned = 0;
    for (const queue of doneJobs.keys()) {
      for (;;) {
        const deleted = await write(jobWrites.pruneDone(queue, at - doneRetentionMs));
        doneJobs.set(queue, (doneJobs.get(queue) ?? 0) - deleted);
        pruned += deleted;
        if (deleted < PRUNE_BATCH) break;
      }
    }
    for (;;) {
      const deleted = await write(pruneOldLinks(at - linkRetentionMs, PRUNE_BATCH));
      pruned += deleted;
      if (deleted < PRUNE_BATCH) break;
    }
    return pruned + (await write(pruneExpiredKeys(at)));
  }
  const pruneTimer = setInterval(() => {
    prune().then(
      (pruned) => {
        if (pruned > 0) logger.debug({ pruned }, 'Pruned expired rows');
      },
      (error: unknown) => {
        if (!closed) logger.error({ err: error }, 'Could not prune expired rows');
      },
    );
  }, options.pruneIntervalMs ?? DEFAULT_PRUNE_INTERVAL_MS);
  // Housekeeping alone must not keep the process alive.
  pruneTimer.unref();

  const queues = new Map<QueueName, JobQueue>();
  function createQueue(name: QueueName): JobQueue {
    const queueLogger = logger.child({ queue: name });
    return {
      name,
      async enqueue<Payload>(input: JobInput<Payload>): Promise<EnqueueResult> {
        guard();
        return write<InsertOutcome>({
          ...jobWrites.insert(serializeJob(name, input), now()),
          label: 'enqueue',
          onCommitted: (outcome) => enqueued(name, outcome),
        });
      },
      work(handler, workerOptions, hooks) {
        guard();
        // false from the table: the job was not running any more, so a second store on the same
        // file recovered it (against the single-instance rule); the outcome is not recorded.
        const recorded = (job: Job, wasRunning: boolean): void => {
          if (!wasRunning) queueLogger.warn({ jobId: job.id }, 'Job was no longer running; its outcome was not recorded');
        };
        const completed = (job: Job, wasRunning: boolean): void => {
          if (wasRunning) doneJobs.set(name, (doneJobs.get(name) ?? 0) + 1);
          recorded(job, wasRunning);
        };
        const worker = createQueueWorker({
          ledger: {
            // Last in its batch: it sees the jobs this batch's writes complete (their conversations
            // move on) and enqueue, and asks for the free slots only when the batch is sent.
            claim: (capacity) => write(jobWrites.claim(name, capacity, now)),
            async complete(job, followUp) {
              completed(job, await (followUp ? completeWithFollowUp(job, followUp) : write(jobWrites.complete(job, now()))));
            },
            async retry(job, runAt, lastError) {
              recorded(job, await write(jobWrites.retry(job, runAt, lastError, now())));
            },
            async bury(job, lastError) {
              recorded(job, await write(jobWrites.bury(job, lastError, now())));
            },
            async postpone(job, runAt, lastError) {
              recorded(job, await write(jobWrites.postpone(job, runAt, lastError, now())));
            },
            async expedite(connectorId) {
              await write(jobWrites.expedite(name, connectorId, now()));
              // Now due: claim them without waiting for the poll.
              for (const active of activeWorkers.get(name) ?? []) active.wake();
            },
            async release(job) {
              recorded(job, await write(jobWrites.release(job, now())));
            },
          },
          handler,
          ...(workerOptions ? { options: workerOptions } : {}),
          ...(hooks ? { hooks } : {}),
          logger: queueLogger,
          now,
          assertCanStart: guard,
          onActiveChange(changed, active) {
            const set = activeWorkers.get(name) ?? new Set();
            activeWorkers.set(name, set);
            if (active) set.add(changed);
            else set.delete(changed);
          },
        });
        allWorkers.add(worker);
        return worker;
      },
      async counts() {
        guard();
        return { ...reads.counts(name), done: doneJobs.get(name) ?? 0 };
      },
      async get(id) {
        guard();
        return reads.get(name, id);
      },
      async listDead(limit = DEFAULT_DEAD_LIST_LIMIT) {
        guard();
        return reads.listDead(name, limit);
      },
      async replayDead(id) {
        return write<number>({
          ...jobWrites.replayDead(name, id, now()),
          onCommitted(replayed) {
            if (replayed > 0) wakeWorkers(name);
          },
        });
      },
    };
  }

  return {
    kind: 'sqlite',
    database: db,
    queue(name) {
      let queue = queues.get(name);
      if (!queue) {
        queue = createQueue(name);
        queues.set(name, queue);
      }
      return queue;
    },
    links,
    kv: (namespace) => kv.namespace(namespace),
    async ping() {
      guard();
      try {
        db.prepare('SELECT 1').get();
      } catch (cause) {
        throw new ParleyError('STORE', 'The SQLite store does not answer', { cause });
      }
    },
    stats() {
      const { commits, writes, failedWrites, commitsWith } = batcher.stats();
      return { commits, writes, failedWrites, enqueueCommits: commitsWith.enqueue ?? 0, ...enqueueStats, recoveredJobs };
    },
    prune,
    async close() {
      if (closed) return;
      // Workers halt first: a claim still waiting in the batch then takes no job it could not
      // record. Writes requested before this call still commit; later ones are refused.
      for (const worker of allWorkers) worker.halt();
      closed = true;
      clearInterval(pruneTimer);
      try {
        await batcher.close();
      } finally {
        if (db.open) db.close();
      }
    },
    async abandon() {
      for (const worker of allWorkers) worker.halt();
      closed = true;
      clearInterval(pruneTimer);
      await batcher.abandon();
      if (db.open) db.close();
    },
  };
}

/** Runs the rest of the set-up; a failure closes the connection rather than leak it. */
function closeOnFailure<T>(db: Database.Database, setUp: () => T): T {
  try {
    return setUp();
  } catch (error) {
    db.close();
    throw error;
  }
}

function openDatabase(path: string, busyTimeoutMs: number): Database.Database {
  if (path !== ':memory:' && path !== '') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    // FULL: a commit survives power loss too; group commit keeps its cost down.
    db.pragma('synchronous = FULL');
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    db.pragma('foreign_keys = ON');
    // This connection only reads point lookups and counts (the writer thread has its own): a
    // small cache instead of better-sqlite3's 16 MiB. An in-memory database lives in its cache.
    if (path !== ':memory:' && path !== '') db.pragma(`cache_size = -${READER_CACHE_KIB}`);
    migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** A job checked and with its payload serialized, ready for `jobWrites.insert`. */
function serializeJob(queue: QueueName, input: JobInput): SerializedJobInput {
  return {
    queue,
    connectorId: requireText(input.connectorId, 'connectorId'),
    conversationKey: requireText(input.conversationKey, 'conversationKey'),
    dedupeKey: requireText(input.dedupeKey, 'dedupeKey'),
    kind: requireText(input.kind, 'kind'),
    payload: serializePayload(input.payload),
  };
}

function requireText(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new ParleyError('PAYLOAD_INVALID', `A job needs a non-empty string ${field}`);
  }
  return value;
}

function serializePayload(payload: unknown): string {
  try {
    return JSON.stringify(payload) ?? 'null';
  } catch (cause) {
    throw new ParleyError('PAYLOAD_INVALID', 'A job payload must be JSON-serializable', { cause });
  }
}
