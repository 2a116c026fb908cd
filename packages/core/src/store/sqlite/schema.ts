/**
 * The SQLite schema and its migrations. `PRAGMA user_version` records how many migrations ran, so
 * a later release appends a migration instead of editing one.
 */
import type { Database } from 'better-sqlite3';
import { ParleyError } from '../../errors.js';

/**
 * Each entry moves the schema from version `index` to `index + 1`.
 *
 * `queue_heads` holds one row per conversation with unfinished jobs: its oldest unfinished job,
 * when that job may run, and whether it is running. Claiming reads only due, idle heads through
 * `queue_heads_due`, so a conversation with 100k jobs queued behind a retry costs one row, not a
 * scan, and per-conversation FIFO follows from the table's shape.
 */
const MIGRATIONS: readonly string[] = [
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
