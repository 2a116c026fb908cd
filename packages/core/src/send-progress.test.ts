import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadSendProgress } from './send-progress.js';
import { createSqliteStore, type SqliteStore } from './store/sqlite/store.js';

let dir: string;
let store: SqliteStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'parley-progress-'));
  store = createSqliteStore({ path: join(dir, 'parley.db') });
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('loadSendProgress', () => {
  it('resumes a message of several parts after the parts a failed attempt sent', async () => {
    const kv = store.kv('connector:tg');
    const first = await loadSendProgress(kv, 'g-1', 3);
    expect(first.sent).toEqual([]);
    await first.record('p-1');
    await first.record('p-2');
    // The third part failed; the queue retries the delivery.
    const retry = await loadSendProgress(kv, 'g-1', 3);
    expect(retry.sent).toEqual(['p-1', 'p-2']);
    await retry.record('p-3');
    expect(retry.result()).toEqual({ platformMessageId: 'p-1', platformMessageIds: ['p-1', 'p-2', 'p-3'] });
    // Other messages start from nothing.
    expect((await loadSendProgress(kv, 'g-2', 2)).sent).toEqual([]);
  });

  it('keeps nothing for a one-part message', async () => {
    const kv = store.kv('connector:tg');
    const single = await loadSendProgress(kv, 'g-1', 1);
    await single.record('p-1');
    expect(single.result()).toEqual({ platformMessageId: 'p-1', platformMessageIds: ['p-1'] });
    expect(await kv.get('send-progress:g-1')).toBeUndefined();
  });

  it('reads unreadable progress as nothing sent, and has no result before a part went out', async () => {
    const kv = store.kv('connector:tg');
    await kv.set('send-progress:g-1', 'not json');
    const progress = await loadSendProgress(kv, 'g-1', 2);
    expect(progress.sent).toEqual([]);
    expect(() => progress.result()).toThrow('No part of message g-1 was sent');
  });
});
