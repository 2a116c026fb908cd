/**
 * The SQLite schema and its migrations. `PRAGMA user_version` records how many migrations ran, so
 * a later release appends a migration instead of editing one.
 */
import type { Database } from 'better-sqlite3';
import { ParleyError } from '../../errors.js';

/**
 * The oldest pending job of a conversation, as a query over `queue` and `key` expressions (the
 * triggers below pass `NEW.queue`…; the index test passes `?`). INDEXED BY: with equal-looking
 * costs the planner may pick jobs_by_state, which walks every pending job of the queue; this
 * index goes straight to the conversation's oldest one.
 */
export function oldestPendingSql(queue: string, key: string): string {
  return `SELECT queue, conversation_key, id, run_at, 0 FROM jobs INDEXED BY jobs_pending_by_conversation
      WHERE queue = ${queue} AND conversation_key = ${key} AND state = 'pending' ORDER BY id LIMIT 1`;
}

/**
 * Each entry moves the schema from version `index` to `index + 1`.
 *
 * `queue_heads` holds one row per conversation with unfinished jobs: its oldest unfinished job,
 * when that job may run, and whether it is running. Claiming reads only due, idle heads through
 * `queue_heads_due`, so a conversation with 100k jobs queued behind a retry costs one row, not a
 * scan, and per-conversation FIFO follows from the table's shape.
 *
 * Version 2 keeps `queue_heads` right with triggers on `jobs`: every change of a job's state
 * updates its conversation's head in the same statement, so no caller can forget it, and the
 * store's writes are single statements that its writer thread runs as they come (store.ts).
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    connector_id TEXT NOT NULL,
    conversation_key TEXT NOT NULL,
    dedupe_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    run_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    last_error TEXT,
    UNIQUE (queue, dedupe_key)
  );
  CREATE INDEX jobs_pending_by_conversation ON jobs (queue, conversation_key, id) WHERE state = 'pending';
  CREATE INDEX jobs_by_state ON jobs (queue, state, id);
  CREATE INDEX jobs_done_age ON jobs (updated_at) WHERE state = 'done';

  CREATE TABLE queue_heads (
    queue TEXT NOT NULL,
    conversation_key TEXT NOT NULL,
    job_id INTEGER NOT NULL,
    run_at INTEGER NOT NULL,
    running INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (queue, conversation_key)
  ) WITHOUT ROWID;
  CREATE INDEX queue_heads_due ON queue_heads (queue, running, run_at, job_id);

  CREATE TABLE message_links (
    connector_id TEXT NOT NULL,
    platform_message_id TEXT NOT NULL,
    genesys_message_id TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    status TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (connector_id, platform_message_id),
    UNIQUE (connector_id, genesys_message_id)
  ) WITHOUT ROWID;

  CREATE TABLE kv (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    expires_at INTEGER,
    PRIMARY KEY (namespace, key)
  ) WITHOUT ROWID;
  CREATE INDEX kv_expiry ON kv (expires_at) WHERE expires_at IS NOT NULL;
  `,
  `
  -- A new job heads its conversation unless an older unfinished one already does.
  CREATE TRIGGER jobs_head_on_insert AFTER INSERT ON jobs WHEN NEW.state = 'pending'
  BEGIN
    INSERT OR IGNORE INTO queue_heads (queue, conversation_key, job_id, run_at, running)
      VALUES (NEW.queue, NEW.conversation_key, NEW.id, NEW.run_at, 0);
  END;

  -- Claimed: its conversation is running and claims nothing else until the run ends.
  CREATE TRIGGER jobs_head_on_claim AFTER UPDATE OF state ON jobs
    WHEN OLD.state = 'pending' AND NEW.state = 'running'
  BEGIN
    UPDATE queue_heads SET running = 1 WHERE queue = NEW.queue AND conversation_key = NEW.conversation_key;
  END;

  -- A run ended (done, retry, dead, or resumed after a crash): the conversation moves on to its
  -- oldest pending job, which is this one again after a retry or a crash, or it has no head.
  CREATE TRIGGER jobs_head_after_run AFTER UPDATE OF state ON jobs WHEN OLD.state = 'running'
  BEGIN
    DELETE FROM queue_heads WHERE queue = NEW.queue AND conversation_key = NEW.conversation_key;
    INSERT INTO queue_heads (queue, conversation_key, job_id, run_at, running)
      ${oldestPendingSql('NEW.queue', 'NEW.conversation_key')};
  END;

  -- A dead job replayed may be older than its conversation's head, or the conversation has none;
  -- a running head stays until its run ends, which then picks the oldest.
  CREATE TRIGGER jobs_head_on_replay AFTER UPDATE OF state ON jobs
    WHEN OLD.state = 'dead' AND NEW.state = 'pending'
  BEGIN
    INSERT INTO queue_heads (queue, conversation_key, job_id, run_at, running)
      ${oldestPendingSql('NEW.queue', 'NEW.conversation_key')}
      ON CONFLICT (queue, conversation_key) DO UPDATE SET job_id = excluded.job_id, run_at = excluded.run_at
      WHERE queue_heads.running = 0;
  END;
  `,
  // Version 3: an age index on message_links, for its retention (links were kept forever).
  `
  CREATE INDEX links_by_age ON message_links (created_at);
  `,
];

/** The schema version this code reads and writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the database up to `SCHEMA_VERSION`; refuses a database written by a newer release. */
export function migrate(db: Database): void {
  const upgrade = db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > SCHEMA_VERSION) {
      throw new ParleyError(
        'STORE',
        `The database schema is version ${current}, newer than this release supports (${SCHEMA_VERSION}); upgrade Parley`,
      );
    }
    for (let version = current; version < SCHEMA_VERSION; version += 1) {
      db.exec(MIGRATIONS[version] ?? '');
      db.pragma(`user_version = ${version + 1}`);
    }
  });
  // IMMEDIATE takes the write lock first, so two processes opening at once do not both migrate.
  upgrade.immediate();
}
