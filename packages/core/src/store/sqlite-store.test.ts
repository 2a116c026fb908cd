import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, ParleyError, RetryableError } from '../errors.js';
import { openStore, sqlitePathFromUrl } from './open.js';
import { JOB_SQL } from './sqlite/jobs.js';
import { MIGRATIONS, oldestPendingSql } from './sqlite/schema.js';
import { LINK_SQL } from './sqlite/links.js';
import { createSqliteStore, type SqliteStore, type SqliteStoreOptions } from './sqlite/store.js';
import type { JobInput, Store } from './types.js';

let dir: string;
const opened: Store[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'parley-store-'));
});

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function openAt(path: string, options: Omit<SqliteStoreOptions, 'path'> = {}): SqliteStore {
  const store = createSqliteStore({ path, ...options });
  opened.push(store);
  return store;
}

const dbPath = () => join(dir, 'parley.db');

function message(dedupeKey: string, conversationKey = 'tg:42', payload: unknown = { text: dedupeKey }): JobInput {
  return { connectorId: 'support-telegram', conversationKey, dedupeKey, kind: 'message', payload };
}

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('Condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('enqueue', () => {
  it('keeps jobs across close and reopen', async () => {
    const store = openAt(dbPath());
    const queue = store.queue('to-genesys');
    const first = await queue.enqueue(message('m1', 'tg:1', { text: 'hello', n: [1, 2] }));
    const second = await queue.enqueue(message('m2', 'tg:2'));
    await store.close();

    const reopened = openAt(dbPath());
    const again = reopened.queue('to-genesys');
    expect(await again.counts()).toEqual({ pending: 2, running: 0, done: 0, dead: 0 });
    expect(await again.get(first.id)).toMatchObject({
      id: first.id,
      state: 'pending',
      attempts: 0,
      connectorId: 'support-telegram',
      conversationKey: 'tg:1',
      dedupeKey: 'm1',
      kind: 'message',
      payload: { text: 'hello', n: [1, 2] },
    });
    expect((await again.get(second.id))?.dedupeKey).toBe('m2');
    expect(await reopened.queue('to-platform').counts()).toEqual({ pending: 0, running: 0, done: 0, dead: 0 });
  });

  it('writes enqueues of one event-loop turn in one transaction, visible when they resolve', async () => {
    const store = openAt(dbPath());
    const queue = store.queue('to-platform');
    const before = store.stats().enqueueCommits;

    // A second connection sees what is committed, so it proves each promise waits for the commit.
    const observer = new Database(dbPath(), { readonly: true });
    const committedRows = () => (observer.prepare('SELECT count(*) AS n FROM jobs').get() as { n: number }).n;
    const seenOnResolve: number[] = [];
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        queue.enqueue(message(`m${index}`, `conv-${index % 5}`)).then((result) => {
          seenOnResolve.push(committedRows());
          return result;
        }),
      ),
    );
    observer.close();

    expect(store.stats().enqueueCommits - before).toBe(1);
    expect(seenOnResolve.every((rows) => rows === 50)).toBe(true);
    expect(new Set(results.map((result) => result.id)).size).toBe(50);
    expect(results.every((result) => !result.duplicate)).toBe(true);

    await queue.enqueue(message('later-1'));
    await queue.enqueue(message('later-2'));
    expect(store.stats().enqueueCommits - before).toBe(3);
    expect(store.stats().jobsEnqueued).toBe(52);
  });

  it('assigns ids in call order', async () => {
    const queue = openAt(dbPath()).queue('to-genesys');
    const results = await Promise.all(['a', 'b', 'c', 'd'].map((key) => queue.enqueue(message(key))));
    const ids = results.map((result) => result.id);
    expect(ids).toEqual([...ids].sort((left, right) => left - right));
  });

  it('rejects an invalid job alone, without failing the rest of its batch', async () => {
    const queue = openAt(dbPath()).queue('to-genesys');
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const outcomes = await Promise.allSettled([
      queue.enqueue(message('good-1')),
      queue.enqueue(message('')),
      queue.enqueue(message('bad-payload', 'tg:1', circular)),
      queue.enqueue(message('good-2')),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    const reasons = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason] : []));
    for (const reason of reasons) expect(reason).toMatchObject({ code: 'PAYLOAD_INVALID' });
    expect((await queue.counts()).pending).toBe(2);
  });

  it('close() commits enqueues still waiting for their turn to end', async () => {
    const store = openAt(dbPath());
    const pending = store.queue('to-genesys').enqueue(message('last-words'));
    await store.close();
    const { id } = await pending;

    const reopened = openAt(dbPath());
    expect((await reopened.queue('to-genesys').get(id))?.dedupeKey).toBe('last-words');
  });

  it('refuses work once closed, and close is idempotent', async () => {
    const store = openAt(dbPath());
    await store.close();
    await store.close();
    await expect(store.queue('to-genesys').enqueue(message('x'))).rejects.toMatchObject({ code: 'STORE' });
    await expect(store.ping()).rejects.toBeInstanceOf(ParleyError);
    await expect(store.kv('ns').get('k')).rejects.toMatchObject({ code: 'STORE' });
  });
});

describe('write batching', () => {
  const link = (platformMessageId: string, genesysMessageId: string) =>
    ({ connectorId: 'tg', platformMessageId, genesysMessageId, direction: 'outbound' }) as const;

  it('commits every kind of write requested in one event-loop turn in one transaction', async () => {
    const store = openAt(dbPath());
    const queue = store.queue('to-genesys');
    await store.kv('ns').set('old', 'x');
    await store.links.record(link('p-0', 'g-0'));
    const before = store.stats();

    await Promise.all([
      queue.enqueue(message('m1')),
      store.links.record(link('p-1', 'g-1')),
      store.links.setStatus('tg', 'g-0', 'Delivered'),
      store.kv('ns').set('k', 'v'),
      store.kv('ns').delete('old'),
      queue.enqueue(message('m2')),
      queue.replayDead(),
    ]);

    const after = store.stats();
    expect(after.commits - before.commits).toBe(1);
    expect(after.writes - before.writes).toBe(7);
    expect(after.enqueueCommits - before.enqueueCommits).toBe(1);
    expect((await queue.counts()).pending).toBe(2);
    expect(await store.links.byGenesysId('tg', 'g-1')).toMatchObject({ platformMessageId: 'p-1' });
    expect((await store.links.byGenesysId('tg', 'g-0'))?.status).toBe('Delivered');
    expect(await store.kv('ns').get('k')).toBe('v');
    expect(await store.kv('ns').get('old')).toBeUndefined();

    // A turn without enqueues is a commit, but not an enqueue commit.
    await store.kv('ns').set('k', 'w');
    expect(store.stats().commits - after.commits).toBe(1);
    expect(store.stats().enqueueCommits).toBe(after.enqueueCommits);
  });

  it('rolls back a failing write alone: it rejects, the rest of its batch commits', async () => {
    const store = openAt(dbPath());
    await store.links.record(link('p-1', 'g-1'));
    const before = store.stats();

    const outcomes = await Promise.allSettled([
      store.queue('to-genesys').enqueue(message('m1')),
      // Claims p-1 (which replaces the p-1 ⇄ g-1 link), but breaks the direction CHECK.
      store.links.record({ ...link('p-1', 'g-9'), direction: 'sideways' as 'outbound' }),
      store.kv('ns').set('k', 'v'),
      store.links.record(link('p-2', 'g-2')),
    ]);

    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'SQLITE_CONSTRAINT_CHECK' });
    // The writes before the failing one ran again after the rollback: the enqueue is not its own duplicate.
    expect((outcomes[0] as PromiseFulfilledResult<unknown>).value).toMatchObject({ duplicate: false });
    const after = store.stats();
    expect(after.commits - before.commits).toBe(1);
    expect(after.writes - before.writes).toBe(3);
    expect(after.failedWrites - before.failedWrites).toBe(1);
    // The rollback took its delete back with it.
    expect(await store.links.byGenesysId('tg', 'g-1')).toMatchObject({ platformMessageId: 'p-1' });
    expect(await store.links.byGenesysId('tg', 'g-9')).toBeUndefined();
    expect((await store.queue('to-genesys').counts()).pending).toBe(1);
    expect(await store.kv('ns').get('k')).toBe('v');
    expect(await store.links.byPlatformId('tg', 'p-2')).toBeDefined();
  });

  it('settles each write only after its commit: another connection already sees it', async () => {
    const store = openAt(dbPath());
    const observer = new Database(dbPath(), { readonly: true });
    const count = (table: string) => (observer.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    try {
      const seen = await Promise.all([
        store.kv('ns').set('k', 'v').then(() => count('kv')),
        store.links.record(link('p-1', 'g-1')).then(() => count('message_links')),
        store.queue('to-platform').enqueue(message('m1')).then(() => count('jobs')),
        store.links.setStatus('tg', 'g-1', 'Read').then(
          () => (observer.prepare(`SELECT status FROM message_links`).get() as { status: string }).status,
        ),
      ]);
      expect(seen).toEqual([1, 1, 1, 'Read']);
    } finally {
      observer.close();
    }
  });

  it('rejects every write of a batch it cannot commit with a retryable STORE error, then recovers', async () => {
    const store = openAt(dbPath(), { busyTimeoutMs: 10 });
    // Another connection holds the write lock past the busy timeout.
    const other = new Database(dbPath());
    other.exec('BEGIN IMMEDIATE');
    const before = store.stats();
    let outcomes: PromiseSettledResult<unknown>[];
    try {
      outcomes = await Promise.allSettled([
        store.queue('to-genesys').enqueue(message('m1')),
        store.kv('ns').set('k', 'v'),
        store.links.record(link('p-1', 'g-1')),
      ]);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }

    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const outcome of outcomes) {
      const reason = (outcome as PromiseRejectedResult).reason as unknown;
      expect(reason).toBeInstanceOf(RetryableError);
      expect(reason).toMatchObject({ code: 'STORE' });
    }
    expect(store.stats().commits).toBe(before.commits);
    expect(store.stats().failedWrites - before.failedWrites).toBe(3);
    expect(await store.kv('ns').get('k')).toBeUndefined();

    const retried = await store.queue('to-genesys').enqueue(message('m1'));
    expect(retried.duplicate).toBe(false);
    await store.kv('ns').set('k', 'v');
    expect(await store.kv('ns').get('k')).toBe('v');
  });

  it('keeps the event loop free while a commit waits, and commits once it can', async () => {
    const store = openAt(dbPath(), { busyTimeoutMs: 5_000 });
    const other = new Database(dbPath());
    other.exec('BEGIN IMMEDIATE');
    const enqueued = store.queue('to-genesys').enqueue(message('m1'));
    try {
      // These run only if the waiting commit does not hold the event loop: on it, the lock would
      // never be released and the write would fail after the busy timeout.
      await sleep(20);
      expect((await store.queue('to-genesys').counts()).pending).toBe(0);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect(await enqueued).toMatchObject({ duplicate: false });
    expect((await store.queue('to-genesys').counts()).pending).toBe(1);
  });

  it('makes the writes requested while a batch commits the next batch', async () => {
    const store = openAt(dbPath(), { busyTimeoutMs: 5_000 });
    const queue = store.queue('to-genesys');
    await store.kv('ns').set('warm', 'up');
    const before = store.stats();
    const other = new Database(dbPath());
    other.exec('BEGIN IMMEDIATE');
    let writes: Promise<unknown>[];
    try {
      const first = queue.enqueue(message('m1'));
      await sleep(10);
      // Three more turns while the first batch waits for the lock.
      const second = queue.enqueue(message('m2'));
      await sleep(1);
      const third = store.kv('ns').set('k', 'v');
      await sleep(1);
      const fourth = store.links.record({ connectorId: 'tg', platformMessageId: 'p-1', genesysMessageId: 'g-1', direction: 'outbound' });
      writes = [first, second, third, fourth];
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    await Promise.all(writes);
    expect(store.stats().commits - before.commits).toBe(2);
    expect(store.stats().writes - before.writes).toBe(4);
  });

  it('rolls back each failing write alone, however many fail in one batch', async () => {
    const store = openAt(dbPath());
    const sideways = (id: string) =>
      store.links.record({ connectorId: 'tg', platformMessageId: id, genesysMessageId: id, direction: 'sideways' as 'outbound' });
    const outcomes = await Promise.allSettled([
      sideways('x-1'),
      store.queue('to-genesys').enqueue(message('m1')),
      sideways('x-2'),
      store.kv('ns').set('k', 'v'),
      sideways('x-3'),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'fulfilled', 'rejected', 'fulfilled', 'rejected']);
    expect(store.stats()).toMatchObject({ commits: 1, writes: 2, failedWrites: 3 });
    expect((await store.queue('to-genesys').counts()).pending).toBe(1);
    expect(await store.kv('ns').get('k')).toBe('v');
  });

  it('close() commits every kind of write still waiting for its turn to end', async () => {
    const store = openAt(dbPath());
    const pending = Promise.all([store.kv('ns').set('k', 'v'), store.links.record(link('p-1', 'g-1'))]);
    await store.close();
    await pending;

    const reopened = openAt(dbPath());
    expect(await reopened.kv('ns').get('k')).toBe('v');
    expect(await reopened.links.byPlatformId('tg', 'p-1')).toBeDefined();
  });
});

describe('dedupe', () => {
  it('reports a sequential duplicate with the first job id', async () => {
    const queue = openAt(dbPath()).queue('to-genesys');
    const first = await queue.enqueue(message('tg-100'));
    const second = await queue.enqueue(message('tg-100', 'tg:other', { text: 'changed' }));
    expect(second).toEqual({ id: first.id, duplicate: true });
    expect((await queue.get(first.id))?.payload).toEqual({ text: 'tg-100' });
    expect((await queue.counts()).pending).toBe(1);
  });

  it('reports a duplicate arriving in the same batch', async () => {
    const store = openAt(dbPath());
    const queue = store.queue('to-genesys');
    const [first, second, third] = await Promise.all([
      queue.enqueue(message('same')),
      queue.enqueue(message('same')),
      queue.enqueue(message('other')),
    ]);
    expect(first?.duplicate).toBe(false);
    expect(second).toEqual({ id: first?.id, duplicate: true });
    expect(third?.duplicate).toBe(false);
    expect(store.stats().duplicatesSkipped).toBe(1);
    expect((await queue.counts()).pending).toBe(2);
  });

  it('scopes dedupe keys to their queue', async () => {
    const store = openAt(dbPath());
    const inbound = await store.queue('to-genesys').enqueue(message('id-1'));
    const outbound = await store.queue('to-platform').enqueue(message('id-1'));
    expect(outbound.duplicate).toBe(false);
    expect(outbound.id).not.toBe(inbound.id);
  });

  it('catches a late duplicate of a done job within the retention, and forgets it after', async () => {
    let clock = 1_700_000_000_000;
    const store = openAt(dbPath(), { now: () => clock, doneRetentionMs: 60_000 });
    const queue = store.queue('to-platform');
    const { id } = await queue.enqueue(message('agent-msg-1'));
    const worker = queue.work(async () => {}, { pollIntervalMs: 5 });
    worker.start();
    await waitFor(async () => (await queue.get(id))?.state === 'done');
    await worker.stop();

    clock += 59_000;
    expect(await store.prune()).toBe(0);
    expect(await queue.enqueue(message('agent-msg-1'))).toEqual({ id, duplicate: true });

    clock += 2_000;
    expect(await store.prune()).toBe(1);
    expect(await queue.get(id)).toBeUndefined();
    const fresh = await queue.enqueue(message('agent-msg-1'));
    expect(fresh.duplicate).toBe(false);
    expect(fresh.id).toBeGreaterThan(id);
  });
});

describe('onBatch', () => {
  it('reports each write batch once its commit answered: writes, duration, committed', async () => {
    const batches: { durationMs: number; writes: number; committed: boolean }[] = [];
    const store = openAt(dbPath(), { onBatch: (batch) => batches.push(batch) });
    const queue = store.queue('to-platform');
    // One event-loop turn: one batch.
    await Promise.all(['a', 'b', 'c'].map((key) => queue.enqueue(message(key))));
    expect(batches).toHaveLength(1);
    expect(batches[0]).toMatchObject({ writes: 3, committed: true });
    expect(batches[0]!.durationMs).toBeGreaterThanOrEqual(0);
  });
});

describe('queue counts', () => {
  it('keeps the count of done jobs per queue through completions, prunes and a reopen', async () => {
    let clock = 1_700_000_000_000;
    const options = { now: () => clock, doneRetentionMs: 60_000 };
    let store = openAt(dbPath(), options);
    const toPlatform = store.queue('to-platform');
    await Promise.all(['a', 'b', 'c'].map((key) => toPlatform.enqueue(message(key))));
    await store.queue('to-genesys').enqueue(message('d'));
    const worker = toPlatform.work(async () => {}, { pollIntervalMs: 5 });
    worker.start();
    await waitFor(async () => (await toPlatform.counts()).done === 3);
    await worker.stop();
    expect(await toPlatform.counts()).toEqual({ pending: 0, running: 0, done: 3, dead: 0 });
    expect(await store.queue('to-genesys').counts()).toEqual({ pending: 1, running: 0, done: 0, dead: 0 });

    await store.close();
    store = openAt(dbPath(), options);
    expect((await store.queue('to-platform').counts()).done).toBe(3);

    clock += 61_000;
    expect(await store.prune()).toBe(3);
    expect((await store.queue('to-platform').counts()).done).toBe(0);
    await store.close();
    // The count read at open agrees with the one kept since.
    expect((await openAt(dbPath(), options).queue('to-platform').counts()).done).toBe(0);
  });
});

describe('kv', () => {
  it('stores values per namespace and expires keys with a TTL', async () => {
    let clock = 1_000_000;
    const store = openAt(dbPath(), { now: () => clock });
    const telegram = store.kv('connector:tg');
    const slack = store.kv('connector:slack');

    await telegram.set('offset', '42');
    await telegram.set('session', 'abc', { ttlMs: 1_000 });
    expect(await telegram.get('offset')).toBe('42');
    expect(await telegram.get('session')).toBe('abc');
    expect(await slack.get('offset')).toBeUndefined();

    clock += 999;
    expect(await telegram.get('session')).toBe('abc');
    clock += 1;
    expect(await telegram.get('session')).toBeUndefined();
    expect(await telegram.get('offset')).toBe('42');
    expect(await store.prune()).toBe(1);

    await telegram.set('offset', '43', { ttlMs: 10 });
    await telegram.set('offset', '44');
    clock += 1_000;
    expect(await telegram.get('offset')).toBe('44');

    await telegram.delete('offset');
    expect(await telegram.get('offset')).toBeUndefined();
  });

  it('keeps values across reopen', async () => {
    const store = openAt(dbPath());
    await store.kv('ns').set('cursor', 'c-1');
    await store.close();
    expect(await openAt(dbPath()).kv('ns').get('cursor')).toBe('c-1');
  });
});

describe('links', () => {
  it('finds a link by either id, scoped to the connector', async () => {
    const store = openAt(dbPath(), { now: () => 5_000 });
    await store.links.record({
      connectorId: 'tg',
      platformMessageId: 'p-1',
      genesysMessageId: 'g-1',
      direction: 'outbound',
    });
    const expected = { connectorId: 'tg', platformMessageId: 'p-1', genesysMessageId: 'g-1', direction: 'outbound', createdAt: 5_000 };
    expect(await store.links.byPlatformId('tg', 'p-1')).toEqual(expected);
    expect(await store.links.byGenesysId('tg', 'g-1')).toEqual(expected);
    expect(await store.links.byPlatformId('slack', 'p-1')).toBeUndefined();
    expect(await store.links.byGenesysId('tg', 'p-1')).toBeUndefined();
  });

  it('records status and upserts without losing it', async () => {
    let clock = 1_000;
    const store = openAt(dbPath(), { now: () => clock });
    const link = { connectorId: 'tg', platformMessageId: 'p-1', genesysMessageId: 'g-1', direction: 'inbound' } as const;
    await store.links.record(link);
    await store.links.setStatus('tg', 'g-1', 'Delivered');
    clock = 2_000;
    await store.links.record(link);
    expect(await store.links.byPlatformId('tg', 'p-1')).toMatchObject({ status: 'Delivered', createdAt: 1_000 });
    await store.links.record({ ...link, status: 'Read' });
    expect((await store.links.byGenesysId('tg', 'g-1'))?.status).toBe('Read');
    await store.links.setStatus('tg', 'unknown', 'Failed');
  });

  it('keeps both ids unique when a pairing changes', async () => {
    const store = openAt(dbPath());
    await store.links.record({ connectorId: 'tg', platformMessageId: 'p-1', genesysMessageId: 'g-1', direction: 'outbound' });
    await store.links.record({ connectorId: 'tg', platformMessageId: 'p-2', genesysMessageId: 'g-2', direction: 'outbound' });
    // p-1 now pairs with g-2: both old links held one of the two ids.
    await store.links.record({ connectorId: 'tg', platformMessageId: 'p-1', genesysMessageId: 'g-2', direction: 'outbound' });
    expect((await store.links.byPlatformId('tg', 'p-1'))?.genesysMessageId).toBe('g-2');
    expect((await store.links.byGenesysId('tg', 'g-2'))?.platformMessageId).toBe('p-1');
    expect(await store.links.byGenesysId('tg', 'g-1')).toBeUndefined();
    expect(await store.links.byPlatformId('tg', 'p-2')).toBeUndefined();
  });
});

describe('link retention and schema upgrade', () => {
  it('forgets links after the retention', async () => {
    let clock = 1_700_000_000_000;
    const store = openAt(dbPath(), { now: () => clock, linkRetentionMs: 60_000 });
    await store.links.record({ connectorId: 'tg', platformMessageId: 'p-old', genesysMessageId: 'g-old', direction: 'inbound' });
    clock += 30_000;
    await store.links.record({ connectorId: 'tg', platformMessageId: 'p-new', genesysMessageId: 'g-new', direction: 'outbound' });
    clock += 30_001;
    expect(await store.prune()).toBe(1);
    expect(await store.links.byGenesysId('tg', 'g-old')).toBeUndefined();
    expect((await store.links.byPlatformId('tg', 'p-new'))?.genesysMessageId).toBe('g-new');
  });

  it('keeps the links of a version 2 database through the upgrade, ids still unique', async () => {
    // A database as the release before link retention left it.
    const old = new Database(dbPath());
    old.pragma('journal_mode = WAL');
    for (const [version, sql] of MIGRATIONS.slice(0, 2).entries()) {
      old.exec(sql);
      old.pragma(`user_version = ${version + 1}`);
    }
    const insert = old.prepare(
      `INSERT INTO message_links (connector_id, platform_message_id, genesys_message_id, direction, status, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
    );
    insert.run('tg', 'p-1', 'g-1', 'inbound', 'Delivered', 1_000);
    insert.run('tg', 'p-2', 'g-2', 'outbound', null, 2_000);
    old.close();

    const store = openAt(dbPath(), { now: () => 3_000 });
    expect(store.database.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(await store.links.byPlatformId('tg', 'p-1')).toEqual({
      connectorId: 'tg',
      platformMessageId: 'p-1',
      genesysMessageId: 'g-1',
      direction: 'inbound',
      status: 'Delivered',
      createdAt: 1_000,
    });
    expect((await store.links.byGenesysId('tg', 'g-2'))?.platformMessageId).toBe('p-2');
    // The unique keys survived the copy: a new pairing replaces both old links.
    await store.links.record({ connectorId: 'tg', platformMessageId: 'p-1', genesysMessageId: 'g-2', direction: 'outbound' });
    expect(await store.links.byPlatformId('tg', 'p-2')).toBeUndefined();
    expect(await store.links.byGenesysId('tg', 'g-1')).toBeUndefined();
    expect((await store.links.byGenesysId('tg', 'g-2'))?.platformMessageId).toBe('p-1');
  });
});

describe('openStore', () => {
  it('opens an in-memory SQLite store', async () => {
    const store = await openStore('sqlite::memory:');
    opened.push(store);
    expect(store.kind).toBe('sqlite');
    await store.ping();
    const { id } = await store.queue('to-genesys').enqueue(message('m'));
    expect((await store.queue('to-genesys').get(id))?.state).toBe('pending');
  });

  it('creates parent directories for a file path', async () => {
    const path = join(dir, 'nested', 'deeper', 'parley.db');
    const store = await openStore(`sqlite:${path}`);
    opened.push(store);
    await store.kv('ns').set('k', 'v');
    await store.close();
    const reopened = await openStore(`sqlite://${path}`);
    opened.push(reopened);
    expect(await reopened.kv('ns').get('k')).toBe('v');
  });

  it('reads relative and absolute sqlite URLs', () => {
    expect(sqlitePathFromUrl('sqlite:./data/parley.db')).toBe('./data/parley.db');
    expect(sqlitePathFromUrl('sqlite:/var/lib/parley.db')).toBe('/var/lib/parley.db');
    expect(sqlitePathFromUrl('sqlite:///var/lib/parley.db')).toBe('/var/lib/parley.db');
    expect(sqlitePathFromUrl('sqlite::memory:')).toBe(':memory:');
  });

  it('rejects PostgreSQL for now, naming store.url', async () => {
    for (const url of ['postgres://user:pw@db/parley', 'postgresql://db/parley']) {
      const error = await openStore(url).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).issues).toEqual([
        { path: 'store.url', message: 'PostgreSQL support is not implemented yet; use sqlite:…' },
      ]);
    }
  });

  it('rejects other schemes and an empty sqlite path', async () => {
    await expect(openStore('mysql://db/parley')).rejects.toMatchObject({ issues: [{ path: 'store.url' }] });
    await expect(openStore('sqlite:')).rejects.toBeInstanceOf(ConfigError);
  });
});

describe('the SQLite file', () => {
  it('uses WAL, synchronous FULL and a schema version', () => {
    const store = openAt(dbPath());
    expect(store.database.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.database.pragma('synchronous', { simple: true })).toBe(2);
    expect(store.database.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(store.database.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(1);
  });

  it('refuses a database written by a newer schema', async () => {
    const store = openAt(dbPath());
    store.database.pragma('user_version = 999');
    await store.close();
    expect(() => createSqliteStore({ path: dbPath() })).toThrow(/newer than this release supports/);
  });

  it('answers the hot-path queries through the intended indexes', () => {
    const store = openAt(dbPath());
    // Each statement with the index it must use: none may walk a whole queue (think 100k pending).
    const expectations: [string, RegExp][] = [
      [JOB_SQL.idByDedupeKey, /sqlite_autoindex_jobs_1 \(queue=\? AND dedupe_key=\?\)/],
      [JOB_SQL.dueJobs, /queue_heads_due \(queue=\? AND running=\? AND run_at<\?\)[^]*jobs USING INTEGER PRIMARY KEY/],
      // What the triggers ask when a run ends or a dead job is replayed.
      [oldestPendingSql('?', '?'), /jobs_pending_by_conversation \(queue=\? AND conversation_key=\?\)/],
      [JOB_SQL.markRunning, /INTEGER PRIMARY KEY/],
      [JOB_SQL.complete, /INTEGER PRIMARY KEY/],
      // Not the done jobs: only the ranges of the three other states.
      [JOB_SQL.counts, /COVERING INDEX jobs_by_state \(queue=\? AND state=\?\)/],
      [JOB_SQL.countDone, /COVERING INDEX jobs_by_state \(queue=\? AND state=\?\)/],
      [JOB_SQL.listDead, /jobs_by_state \(queue=\? AND state=\?\)/],
      [JOB_SQL.pruneDone, /jobs_done_age \(updated_at<\?\)/],
      [JOB_SQL.recoverJobs, /jobs_by_state \(queue=\? AND state=\?\)/],
      // Both reads of the pair before the replace: either unique key finds it.
      [LINK_SQL.record, /SEARCH message_links USING INDEX sqlite_autoindex_message_links_2 \(connector_id=\? AND genesys_message_id=\?\)/],
      [LINK_SQL.byPlatformId, /message_links USING PRIMARY KEY \(connector_id=\? AND platform_message_id=\?\)/],
      [LINK_SQL.byGenesysId, /sqlite_autoindex_message_links_2 \(connector_id=\? AND genesys_message_id=\?\)/],
      [LINK_SQL.setStatus, /sqlite_autoindex_message_links_2 \(connector_id=\? AND genesys_message_id=\?\)/],
      [LINK_SQL.pruneOld, /message_links USING (COVERING )?INDEX links_by_age \(created_at<\?\)/],
    ];
    for (const [sql, index] of expectations) {
      const names = [...new Set([...sql.matchAll(/@(\w+)/g)].map((match) => match[1] as string))];
      const parameters = names.length > 0
        ? [Object.fromEntries(names.map((name) => [name, 1]))]
        : Array.from({ length: (sql.match(/\?/g) ?? []).length }, () => 1);
      const plan = (store.database.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...parameters) as { detail: string }[])
        .map((step) => step.detail)
        .join('\n');
      expect(plan, sql).toMatch(index);
      expect(plan, sql).not.toMatch(/^SCAN (jobs|queue_heads|message_links)$|TEMP B-TREE/m);
    }
  });
});
