import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RetryableError } from '../../errors.js';
import { silentLogger } from '../../logger.js';
import { KV_WRITE_STATEMENTS } from './kv.js';
import { createSqliteStore } from './store.js';
import { createWriteBatcher, type WriteBatcher } from './write-batch.js';
import { startWriterThread, type WriterThread } from './writer-thread.js';

let dir: string;
let path: string;
let batcher: WriteBatcher | undefined;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-writer-'));
  path = join(dir, 'parley.db');
  // The schema, as the store creates it.
  await createSqliteStore({ path }).close();
});

afterEach(async () => {
  await batcher?.close();
  batcher = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const setKey = (key: string) =>
  ({ steps: [{ sql: 'kv.upsert', mode: 'run', params: ['ns', key, 'v', null] }] }) as const;

function readKeys(): string[] {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare('SELECT key FROM kv ORDER BY key').all() as { key: string }[]).map((row) => row.key);
  } finally {
    db.close();
  }
}

describe('the writer thread', () => {
  it('fails the writes a dying thread held with a retryable STORE error, and starts a new one for the next', async () => {
    const threads: WriterThread[] = [];
    batcher = createWriteBatcher(() => {
      const thread = startWriterThread({ path, busyTimeoutMs: 5_000, statements: KV_WRITE_STATEMENTS });
      threads.push(thread);
      return thread;
    }, silentLogger());
    // Another connection holds the write lock, so the first batch stays in the thread.
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    const held = batcher.run(setKey('lost'));
    try {
      await sleep(20);
      await threads[0]?.terminate();
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }

    const failure = await held.then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(RetryableError);
    expect(failure).toMatchObject({ code: 'STORE' });
    await batcher.run(setKey('kept'));
    expect(threads).toHaveLength(2);
    expect(readKeys()).toEqual(['kept']);
    expect(batcher.stats()).toMatchObject({ commits: 1, writes: 1, failedWrites: 1 });
  });

  it('names an unknown statement in the error of its write alone', async () => {
    batcher = createWriteBatcher(() => startWriterThread({ path, busyTimeoutMs: 5_000, statements: KV_WRITE_STATEMENTS }), silentLogger());
    const outcomes = await Promise.allSettled([
      batcher.run(setKey('a')),
      batcher.run({ steps: [{ sql: 'kv.nothing', mode: 'run' }] }),
      batcher.run(setKey('b')),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ message: 'Unknown statement kv.nothing' });
    expect(readKeys()).toEqual(['a', 'b']);
  });
});

describe('the batch interval', () => {
  it('lets writes that follow a batch closely gather into one, and sends after a quiet spell at once', async () => {
    batcher = createWriteBatcher(
      () => startWriterThread({ path, busyTimeoutMs: 5_000, statements: KV_WRITE_STATEMENTS }),
      silentLogger(),
      { minBatchIntervalMs: 400 },
    );
    // The first write also starts the writer thread and opens the database, which on a busy
    // machine can outlast the interval: warm up, then wait out a quiet spell.
    await batcher.run(setKey('warm'));
    await sleep(450);
    const firstSentAt = performance.now();
    await batcher.run(setKey('first'));
    // Right after a batch: these wait out the interval (counted from when that batch was sent),
    // so writes requested over several turns share one commit.
    const gathered = [batcher.run(setKey('a'))];
    await sleep(20);
    gathered.push(batcher.run(setKey('b')));
    await sleep(20);
    gathered.push(batcher.run(setKey('c')));
    await Promise.all(gathered);
    expect(performance.now() - firstSentAt).toBeGreaterThanOrEqual(390);
    expect(batcher.stats()).toMatchObject({ commits: 3, writes: 5 });

    // Long after the last batch, a write does not wait.
    await sleep(450);
    const quietAt = performance.now();
    await batcher.run(setKey('d'));
    expect(performance.now() - quietAt).toBeLessThan(300);
    expect(readKeys()).toEqual(['a', 'b', 'c', 'd', 'first', 'warm']);
  });
});
