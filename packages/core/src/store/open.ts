/**
 * Opens the store named by `store.url` in the configuration.
 */
import { ConfigError } from '../errors.js';
import { createSqliteStore, type SqliteStoreOptions } from './sqlite/store.js';
import type { Store } from './types.js';

/** Everything `createSqliteStore` takes except the path, which comes from the URL. */
export type OpenStoreOptions = Omit<SqliteStoreOptions, 'path'>;

const CONFIG_PATH = 'store.url';

/**
 * Opens a store from its URL: `sqlite:./data/parley.db` (relative to the working directory),
 * `sqlite:/abs/path.db`, `sqlite:///abs/path.db` or `sqlite::memory:`. `postgres://…` is reserved
 * for the scale-out store and rejected for now. Throws `ConfigError` naming `store.url`.
 *
 * @example const store = await openStore(config.store.url, { logger });
 */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  return createSqliteStore({ ...options, path: sqlitePathFromUrl(url) });
}

/** The file path in a `sqlite:` URL (`:memory:` for the in-memory form). */
export function sqlitePathFromUrl(url: string): string {
  if (/^postgres(ql)?:\/\//i.test(url)) {
    throw new ConfigError([
      { path: CONFIG_PATH, message: 'PostgreSQL support is not implemented yet; use sqlite:…' },
    ]);
  }
  if (!url.startsWith('sqlite:')) {
    throw new ConfigError([
      { path: CONFIG_PATH, message: `Unsupported store URL "${url}"; use sqlite:./data/parley.db` },
    ]);
  }
  let path = url.slice('sqlite:'.length);
  // `sqlite:///abs/path` and `sqlite://rel/path` are common spellings of the same thing.
  if (path.startsWith('//')) path = path.slice(2);
  if (path === '') {
    throw new ConfigError([{ path: CONFIG_PATH, message: 'The sqlite: URL names no file, e.g. sqlite:./data/parley.db' }]);
  }
  return path;
}
