/**
 * The connectors' key-value store: one table, keys scoped by namespace, optional expiry.
 * Expired keys read as missing at once and are deleted by the store's periodic prune.
 */
import type { Database } from 'better-sqlite3';
import type { KeyValueStore } from '../../connector.js';
import type { Write, WriteRequest } from './write-batch.js';
import type { RunResult } from './writer-thread.js';

export const KV_SQL = {
  read: `SELECT value FROM kv WHERE namespace = ? AND key = ? AND (expires_at IS NULL OR expires_at > ?)`,
  upsert: `INSERT INTO kv (namespace, key, value, expires_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
  remove: `DELETE FROM kv WHERE namespace = ? AND key = ?`,
  pruneExpired: `DELETE FROM kv WHERE expires_at IS NOT NULL AND expires_at <= ?`,
} as const;

/** The statements the writer thread runs for kv, by the name steps use. */
export const KV_WRITE_STATEMENTS = {
  'kv.upsert': KV_SQL.upsert,
  'kv.remove': KV_SQL.remove,
  'kv.pruneExpired': KV_SQL.pruneExpired,
} as const;

export interface KeyValueTable {
  /** The store for one namespace. */
  namespace(namespace: string): KeyValueStore;
}

/** Deletes keys expired at `now`, as a write for the store's write batch; resolves with how many. */
export function pruneExpiredKeys(now: number): WriteRequest<number> {
  return {
    steps: [{ sql: 'kv.pruneExpired', mode: 'run', params: [now] }],
    result: ([pruned]) => (pruned as RunResult).changes,
  };
}

/**
 * Builds the kv API: `set` and `delete` go through the store's write batch, `get` is a plain
 * statement on `db` (the store's main connection). `guard` runs first in every call (throws once
 * the store is closed).
 */
export function createKeyValueTable(db: Database, now: () => number, guard: () => void, write: Write): KeyValueTable {
  const read = db.prepare(KV_SQL.read);

  return {
    namespace(namespace) {
      return {
        async get(key) {
          guard();
          const row = read.get(namespace, key, now()) as { value: string } | undefined;
          return row?.value;
        },
        async set(key, value, options) {
          guard();
          const expiresAt = options?.ttlMs === undefined ? null : now() + options.ttlMs;
          await write({ steps: [{ sql: 'kv.upsert', mode: 'run', params: [namespace, key, value, expiresAt] }] });
        },
        async delete(key) {
          guard();
          await write({ steps: [{ sql: 'kv.remove', mode: 'run', params: [namespace, key] }] });
        },
      };
    },
  };
}
