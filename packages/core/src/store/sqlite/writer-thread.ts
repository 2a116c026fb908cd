/**
 * The store's writer thread: a worker thread with its own SQLite connection that runs batches of
 * writes, each batch in one `BEGIN IMMEDIATE … COMMIT`.
 *
 * Why a thread: with `synchronous=FULL`, COMMIT waits for fsync. On the event loop that wait
 * stopped everything else (webhooks, deliveries) for 0.2 ms on a quiet disk and 3–8 ms on a busy
 * one, once per batch. Here the event loop keeps parsing webhooks and running handlers while the
 * disk syncs, and what arrives meanwhile forms the next batch: group commit without the stall.
 * Durability is unchanged: a write's promise settles only after its COMMIT returned.
 *
 * The thread knows no store logic. A write is a short program of named statements (`Step`s); the
 * statement table is handed over at start, and the logic that used to run between statements
 * (queue heads) lives in SQL triggers (schema.ts). So the thread is this file's small, generic
 * script, run with `eval` (it must run the same from `dist/` and from the TypeScript sources
 * under vitest, where a worker could not load a `.ts` file).
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

/**
 * The writer connection's page cache, in KiB. better-sqlite3's default is 16 MiB per connection;
 * 4 MiB measured ~15 % less CPU per relayed message (SQLite walks the cache's hash table at every
 * commit) and holds the pages the hot writes touch; the OS page cache serves the rest.
 */
const WRITER_CACHE_KIB = 4096;

/** One statement of a write. */
export interface Step {
  /** The statement's name in the table given to `startWriterThread`. */
  sql: string;
  mode: 'run' | 'get' | 'all';
  /** Positional or named parameters. */
  params?: readonly unknown[] | Readonly<Record<string, unknown>>;
  /**
   * Runs the statement once per row that step `step` of the same write returned (`all`), binding
   * the row's `columns` after `params` (positional). Its result is the changes of each run.
   */
  eachRow?: { step: number; columns: readonly string[] };
  /** Runs only when step `unlessChanged` of the same write changed no row; its result is null otherwise. */
  unlessChanged?: number;
}

/** What a `run` step returns. */
export interface RunResult {
  changes: number;
  lastInsertRowid: number;
}

/** A step's result: `run` → RunResult, `get` → a row or undefined, `all` → rows, `eachRow` → changes per row. */
export type StepResult = RunResult | Record<string, unknown> | Record<string, unknown>[] | number[] | null | undefined;

/** An error as it crosses the thread boundary. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

export type WriteOutcome = { ok: true; results: StepResult[] } | { ok: false; error: SerializedError };

/** The writer's answer to one batch. */
export interface BatchReply {
  id: number;
  /** Per write, in order. Writes after a failure of the whole transaction have no outcome. */
  outcomes: (WriteOutcome | undefined)[];
  /** Set when the transaction could not commit: every write without an outcome failed with it. */
  failed?: SerializedError;
}

export interface WriterThreadOptions {
  path: string;
  busyTimeoutMs: number;
  /** Every statement a step may name, by name. */
  statements: Readonly<Record<string, string>>;
}

/** The main thread's handle on a writer thread. */
export interface WriterThread {
  /** Runs `writes` (one program each) in one transaction. */
  run(writes: readonly (readonly Step[])[]): Promise<BatchReply>;
  /** Optimizes and closes the connection, then ends the thread. */
  close(): Promise<void>;
  /** Ends the thread at once, like a crash: batches in flight fail, and `onExit` is called. */
  terminate(): Promise<void>;
  /** Called once when the thread ends without `close` (a crash, `terminate`), with why. */
  onExit(listener: (error: Error) => void): void;
}

// Runs batches of step programs on a connection. Plain JavaScript on purpose (see the file
// comment), kept generic so that every rule of the store stays in TypeScript and SQL. The writer
// thread evaluates it with its own connection; an in-memory store, whose database exists only in
// its one connection, evaluates it on the main thread (`startInlineWriter`).
const EXECUTOR_SOURCE = String.raw`
function createExecutor(db, statementTable) {
  const statements = new Map();
  for (const [name, sql] of Object.entries(statementTable)) statements.set(name, db.prepare(sql));

  function bind(statement, method, params, extra) {
    if (params === undefined) return extra.length ? statement[method](...extra) : statement[method]();
    if (Array.isArray(params)) return statement[method](...params, ...extra);
    return statement[method](params);
  }

  function runStep(step, results) {
    const statement = statements.get(step.sql);
    if (!statement) throw new Error('Unknown statement ' + step.sql);
    if (step.unlessChanged !== undefined && results[step.unlessChanged].changes > 0) return null;
    if (step.eachRow) {
      return results[step.eachRow.step].map((row) => {
        const extra = step.eachRow.columns.map((column) => row[column]);
        return bind(statement, 'run', step.params, extra).changes;
      });
    }
    if (step.mode === 'run') {
      const info = bind(statement, 'run', step.params, []);
      return { changes: info.changes, lastInsertRowid: Number(info.lastInsertRowid) };
    }
    return bind(statement, step.mode, step.params, []);
  }

  class WriteFailed extends Error {
    constructor(index, error) {
      super('A write of the batch failed');
      this.index = index;
      this.error = error;
    }
  }

  class TransactionLost extends Error {
    constructor(error) {
      super('The write batch was rolled back by SQLite');
      this.error = error;
    }
  }

  const runBatch = db.transaction((writes) =>
    writes.map((steps, index) => {
      try {
        const results = [];
        for (const step of steps) results.push(runStep(step, results));
        return results;
      } catch (error) {
        // Some failures (disk full, I/O error) make SQLite roll back the whole transaction itself.
        if (!db.inTransaction) throw new TransactionLost(error);
        throw new WriteFailed(index, error);
      }
    }),
  ).immediate;

  function serialize(error) {
    if (error instanceof Error) return { name: error.name, message: error.message, code: error.code, stack: error.stack };
    return { name: 'Error', message: String(error) };
  }

  // A write that throws rolls back only itself: the transaction is rolled back, that write gets
  // its error, and the others run again without it (plain SQL, so running one again is safe).
  function handleBatch(id, writes) {
    const outcomes = new Array(writes.length);
    let remaining = writes.map((_, index) => index);
    while (remaining.length > 0) {
      try {
        const results = runBatch(remaining.map((index) => writes[index]));
        remaining.forEach((index, position) => (outcomes[index] = { ok: true, results: results[position] }));
        break;
      } catch (caught) {
        if (!(caught instanceof WriteFailed)) {
          return { id, outcomes, failed: serialize(caught instanceof TransactionLost ? caught.error : caught) };
        }
        const index = remaining[caught.index];
        outcomes[index] = { ok: false, error: serialize(caught.error) };
        remaining = remaining.filter((other) => other !== index);
      }
    }
    return { id, outcomes };
  }

  return { handleBatch };
}
`;

// The writer thread: its own connection, the executor, and the message loop.
const WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
` + EXECUTOR_SOURCE + String.raw`
const db = new Database(workerData.path);
db.pragma('journal_mode = WAL');
// FULL: a commit survives power loss too; batching keeps its cost down.
db.pragma('synchronous = FULL');
db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
db.pragma('foreign_keys = ON');
db.pragma('cache_size = ' + workerData.cacheSizeKib);
const executor = createExecutor(db, workerData.statements);

parentPort.on('message', (message) => {
  if (message.type === 'batch') {
    parentPort.postMessage({ type: 'batch', reply: executor.handleBatch(message.id, message.writes) });
  } else if (message.type === 'close') {
    try {
      // SQLite's advice for long-lived connections: refresh planner statistics on the way out.
      db.pragma('optimize');
    } catch {}
    db.close();
    parentPort.postMessage({ type: 'closed' });
    parentPort.close();
  }
});
`;

type Executor = { handleBatch(id: number, writes: readonly (readonly Step[])[]): BatchReply };

/**
 * The same executor on the main thread, on `db` itself: for an in-memory database, which exists
 * only in its one connection (no fsync to wait for either). Batches run on a later turn, like the
 * thread's.
 */
export function startInlineWriter(db: Database.Database, statements: Readonly<Record<string, string>>): WriterThread {
  // Our own constant source, evaluated once: the same code the writer thread runs.
  const createExecutor = new Function(`${EXECUTOR_SOURCE}\nreturn createExecutor;`)() as (
    db: Database.Database,
    statements: Readonly<Record<string, string>>,
  ) => Executor;
  const executor = createExecutor(db, statements);
  let nextId = 0;
  return {
    run: (writes) => new Promise((resolve) => setImmediate(() => resolve(executor.handleBatch(++nextId, writes)))),
    close: async () => {},
    terminate: async () => {},
    onExit: () => {},
  };
}

/**
 * Starts a writer thread on the database at `options.path` (already created and migrated by the
 * caller). It keeps the process alive only while a batch or the close is in flight.
 */
export function startWriterThread(options: WriterThreadOptions): WriterThread {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      driver,
      path: options.path,
      busyTimeoutMs: options.busyTimeoutMs,
      // Negative: a size in KiB (SQLite's convention for cache_size).
      cacheSizeKib: -WRITER_CACHE_KIB,
      statements: options.statements,
    },
  });
  worker.unref();

  let nextId = 0;
  const pending = new Map<number, { resolve(reply: BatchReply): void; reject(error: Error): void }>();
  let closing: { resolve(): void } | undefined;
  let exited = false;
  let exitListener: ((error: Error) => void) | undefined;
  let threadError: Error | undefined;

  const busy = (): void => {
    if (pending.size > 0 || closing) worker.ref();
    else worker.unref();
  };

  worker.on('message', (message: { type: 'batch'; reply: BatchReply } | { type: 'closed' }) => {
    if (message.type === 'closed') return closing?.resolve();
    const waiter = pending.get(message.reply.id);
    pending.delete(message.reply.id);
    busy();
    waiter?.resolve(message.reply);
  });
  worker.on('error', (error) => {
    threadError = error;
  });
  worker.on('exit', (code) => {
    exited = true;
    const error =
      threadError ?? new Error(`The store's writer thread ended unexpectedly (exit code ${code})`);
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
    if (closing) closing.resolve();
    else exitListener?.(error);
  });

  return {
    run(writes) {
      if (exited) return Promise.reject(threadError ?? new Error("The store's writer thread is not running"));
      const id = ++nextId;
      return new Promise<BatchReply>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        busy();
        worker.postMessage({ type: 'batch', id, writes });
      });
    },
    close() {
      if (exited) return Promise.resolve();
      return new Promise<void>((resolve) => {
        closing = { resolve };
        busy();
        worker.postMessage({ type: 'close' });
      });
    },
    async terminate() {
      await worker.terminate();
    },
    onExit(listener) {
      exitListener = listener;
    },
  };
}
