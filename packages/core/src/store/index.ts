// The contract types are exported from the package root through ./types.js.
// Aliased: the Genesys client exports its own `backoffDelay` (0-based jitter) from the root too.
export { backoffDelay as queueBackoffDelay } from './backoff.js';
export { openStore, sqlitePathFromUrl, type OpenStoreOptions } from './open.js';
export {
  createSqliteStore,
  type SqliteStore,
  type SqliteStoreOptions,
  type SqliteStoreStats,
} from './sqlite/store.js';
export type { CommittedBatch } from './sqlite/write-batch.js';
