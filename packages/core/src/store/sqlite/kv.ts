/**
 * The connectors' key-value store: one table, keys scoped by namespace, optional expiry.
 * Expired keys read as missing at once and are deleted by the store's periodic prune.
 */
import type { Database } from 'better-sqlite3';
import type { KeyValueStore } from '../../connector.js';
import type { Write } from './write-batch.js';

export interface KeyValueTable {
  /** The store for one namespace. */
  namespace(namespace: string): KeyValueStore;
  /** Deletes keys expired at `now`; returns how many. */
  pruneExpired(now: number): number;
}

/**
 * Builds the kv API on `db`. `guard` runs first in every call (throws once the store is closed);
 * `set` and `delete` go through the store's write batch, `get` is a plain statement.
 */
export function createKeyValueTable(db: Database, now: () => number, guard: () => void, write: Write): KeyValueTable {
  const read = db.prepare(
    `SELECT value FROM kv WHERE namespace = ? AND key = ? AND (expires_at IS NULL OR expires_at > ?)`,
  );
  const upsert = db.prepare(
    `INSERT INTO kv (namespace, key, value, expires_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
  );
  const remove = db.prepare(`DELETE FROM kv WHERE namespace = ? AND key = ?`);
  const pruneExpired = db.prepare(`DELETE FROM kv WHERE expires_at IS NOT NULL AND expires_at <= ?`);

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
          await write(() => void upsert.run(namespace, key, value, expiresAt));
        },
        async delete(key) {
          guard();
          await write(() => void remove.run(namespace, key));
        },
      };
    },
    pruneExpired: (at) => pruneExpired.run(at).changes,
  };
}
