/**
 * The SQLite `Store`: better-sqlite3 in WAL mode with `synchronous=FULL`, made affordable by
 * group commit of every write (enqueues, claims, outcomes, links, kv): one transaction per
 * event-loop turn. One process owns the file (single instance); scale-out is PostgreSQL's job.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { ParleyError } from '../../errors.js';
import { silentLogger } from '../../logger.js';
import type { EnqueueResult, Job, JobInput, JobQueue, QueueName, Store } from '../types.js';
import { createQueueWorker, type ManagedQueueWorker } from '../worker.js';
import { prepareJobTable, type InsertOutcome } from './jobs.js';
import { createKeyValueTable } from './kv.js';
import { createMessageLinks } from './links.js';
import { migrate } from './schema.js';
import { createWriteBatcher, type Write } from './write-batch.js';

/** Options of `createSqliteStore`. */
export interface SqliteStoreOptions {
  /** Database file; parent directories are created. `:memory:` for a throwaway store. */
  path: string;
  logger?: Logger;
  /** Clock in ms since epoch (run times, retention, TTLs); injectable for tests. */
  now?: () => number;
  /** How long done jobs are kept so late duplicates are still recognised. Default 24 h. */
  doneRetentionMs?: number;
  /** How often expired done jobs and kv keys are deleted. Default 60 s. */
  pruneIntervalMs?: number;
  /** How long a statement waits for another connection's write lock. Default 5 s. */
  busyTimeoutMs?: number;
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
  /** Deletes done jobs older than the retention and expired kv keys now; returns how many rows. */
  prune(): number;
  /** The underlying connection, for diagnostics and tests. Writing through it bypasses the store. */
  readonly database: Database.Database;
}

const DEFAULT_DONE_RETENTION_MS = 24 * 60 * 60_000;
const DEFAULT_PRUNE_INTERVAL_MS = 60_000;
const DEFAULT_BUSY_TIMEOUT_MS = 5_000;
const DEFAULT_DEAD_LIST_LIMIT = 100;

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

  const db = openDatabase(options.path, options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
  let closed = false;
  const closedError = () => new ParleyError('STORE', 'The store is closed');
  const guard = (): void => {
    if (closed) throw closedError();
  };

  const batcher = createWriteBatcher(db, logger);
  // Every write of the store goes through here, so it is refused once the store is closed.
  const write: Write = (op, writeOptions) => {
    if (closed) return Promise.reject(closedError());
    return batcher.run(op, writeOptions);
  };

  const { jobs, kv, links, recoveredJobs } = closeOnFailure(db, () => {
    const tables = {
      jobs: prepareJobTable(db),
      kv: createKeyValueTable(db, now, guard, write),
      links: createMessageLinks(db, now, guard, write),
    };
    const at = now();
    tables.jobs.pruneDone(at - doneRetentionMs);
    tables.kv.pruneExpired(at);
    return { ...tables, recoveredJobs: tables.jobs.recoverInterrupted(at) };
  });
  if (recoveredJobs > 0) logger.warn({ recoveredJobs }, 'Resuming jobs interrupted by a previous shutdown');

  const activeWorkers = new Map<QueueName, Set<ManagedQueueWorker>>();
  const allWorkers = new Set<ManagedQueueWorker>();
  const wakeWorkers = (queue: QueueName): void => {
    for (const worker of activeWorkers.get(queue) ?? []) worker.wake();
  };
  const enqueueStats = { jobsEnqueued: 0, duplicatesSkipped: 0 };

  // Housekeeping stays outside the write batch: bounded autocommit deletes, run between turns (so
  // never inside an open batch) and rarely, where a lost prune only means it runs again later.
  function prune(): number {
    guard();
    const at = now();
    return jobs.pruneDone(at - doneRetentionMs) + kv.pruneExpired(at);
  }
  const pruneTimer = setInterval(() => {
    try {
      const pruned = prune();
      if (pruned > 0) logger.debug({ pruned }, 'Pruned expired rows');
    } catch (error) {
      logger.error({ err: error }, 'Could not prune expired rows');
    }
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
        const job = {
          queue: name,
          connectorId: requireText(input.connectorId, 'connectorId'),
          conversationKey: requireText(input.conversationKey, 'conversationKey'),
          dedupeKey: requireText(input.dedupeKey, 'dedupeKey'),
          kind: requireText(input.kind, 'kind'),
          payload: serializePayload(input.payload),
        };
        const at = now();
        return write(() => jobs.insert(job, at), {
          label: 'enqueue',
          onCommitted(outcome: InsertOutcome) {
            if (outcome.duplicate) {
              enqueueStats.duplicatesSkipped += 1;
              return;
            }
            enqueueStats.jobsEnqueued += 1;
            wakeWorkers(name);
          },
        });
      },
      work(handler, workerOptions, hooks) {
        guard();
        // false from the table: the job was not running any more, so a second store on the same
        // file recovered it (against the single-instance rule); the outcome is not recorded.
        const recorded = (job: Job, wasRunning: boolean): void => {
          if (!wasRunning) queueLogger.warn({ jobId: job.id }, 'Job was no longer running; its outcome was not recorded');
        };
        const worker = createQueueWorker({
          ledger: {
            // Last in its batch: it sees the jobs this turn's writes completed (their conversations
            // move on) and enqueued, and asks for the free slots only then.
            claim: (capacity) =>
              write(
                () => {
                  const limit = capacity();
                  return limit > 0 ? jobs.claim(name, limit, now()) : [];
                },
                { runLast: true },
              ),
            async complete(job) {
              recorded(job, await write(() => jobs.complete(name, job, now())));
            },
            async retry(job, runAt, lastError) {
              recorded(job, await write(() => jobs.retry(name, job, runAt, lastError, now())));
            },
            async bury(job, lastError) {
              recorded(job, await write(() => jobs.bury(name, job, lastError, now())));
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
        return jobs.counts(name);
      },
      async get(id) {
        guard();
        return jobs.get(name, id);
      },
      async listDead(limit = DEFAULT_DEAD_LIST_LIMIT) {
        guard();
        return jobs.listDead(name, limit);
      },
      async replayDead(id) {
        return write(() => jobs.replayDead(name, id, now()), {
          onCommitted(replayed: number) {
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
      // Everything below is synchronous, so no write can slip in between flush and close. Workers
      // halt first: a claim still waiting in the batch then takes no job it could not record.
      for (const worker of allWorkers) worker.halt();
      batcher.flush();
      closed = true;
      clearInterval(pruneTimer);
      if (!db.open) return;
      try {
        // SQLite's advice for long-lived connections: refresh planner statistics on the way out.
        db.pragma('optimize');
      } catch (error) {
        logger.debug({ err: error }, 'PRAGMA optimize failed');
      }
      db.close();
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
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    db.pragma('foreign_keys = ON');
    migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
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
