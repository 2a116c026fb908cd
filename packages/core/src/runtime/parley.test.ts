import { afterEach, describe, expect, it } from 'vitest';
import { createGenesysClient } from '../genesys/client.js';
import { createSqliteStore, type SqliteStore } from '../store/sqlite/store.js';
import { createParley } from './parley.js';

const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

function parleyOn(store: SqliteStore, closeStoreOnStop?: boolean) {
  return createParley({
    store,
    ...(closeStoreOnStop === undefined ? {} : { closeStoreOnStop }),
    // Never called: nothing starts, no connector sends.
    genesys: createGenesysClient({ apiUrl: 'http://127.0.0.1:9', loginUrl: 'http://127.0.0.1:9', clientId: 'id', clientSecret: 'secret' }),
    connectors: [],
    publicUrl: 'http://127.0.0.1:8080',
    mediaSecret: 'a-media-secret-of-enough-length-0123456789',
  });
}

describe('createParley: the store at stop()', () => {
  it('closes the store by default', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    await parleyOn(store).stop(0);
    await expect(store.ping()).rejects.toThrow();
  });

  it('leaves it open for its opener with closeStoreOnStop: false', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    stores.push(store);
    await parleyOn(store, false).stop(0);
    await expect(store.ping()).resolves.toBeUndefined();
  });
});
