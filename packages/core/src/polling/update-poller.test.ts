import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KeyValueStore } from '../connector.js';
import { PermanentError, RetryableError } from '../errors.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import { createUpdatePoller, DEFAULT_OFFSET_KEY, type UpdatePoller, type UpdatePollerOptions } from './update-poller.js';

/** An update of the test platform: ids grow by one, like Telegram's. */
interface TestUpdate {
  id: number;
  chat: string;
  text: string;
}

/**
 * A tiny long-polling platform: `fetchUpdates(offset)` confirms (drops) every update below
 * `offset` and answers the rest, or waits for one to arrive (or for the poll to be aborted).
 */
function testPlatform() {
  let pending: TestUpdate[] = [];
  let nextId = 1;
  let wake: (() => void) | undefined;
  const failures: Error[] = [];
  const offsets: number[] = [];
  let aborted = 0;
  return {
    send(chat: string, text: string): TestUpdate {
      const update = { id: nextId++, chat, text };
      pending.push(update);
      wake?.();
      return update;
    },
    failNext(error: Error) {
      failures.push(error);
    },
    /** Every offset polled with, in order. */
    offsets,
    pending: () => pending.map((update) => update.id),
    aborted: () => aborted,
    async fetchUpdates(offset: number, signal: AbortSignal): Promise<TestUpdate[]> {
      offsets.push(offset);
      const failure = failures.shift();
      if (failure) throw failure;
      pending = pending.filter((update) => update.id >= offset);
      while (pending.length === 0) {
        await new Promise<void>((resolve, reject) => {
          const onAbort = () => {
            aborted += 1;
            reject(new Error('poll aborted'));
          };
          if (signal.aborted) return onAbort();
          signal.addEventListener('abort', onAbort, { once: true });
          wake = () => {
            signal.removeEventListener('abort', onAbort);
            resolve();
          };
        });
      }
      return [...pending];
    },
  };
}

/** A promise to resolve from outside: makes one handler slow until the test says so. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

async function eventually(probe: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('Condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

let dir: string;
let store: Store;
let kv: KeyValueStore;
/** Every value the poller wrote to the key-value store, in order. */
let writes: Array<{ key: string; value: string }>;
let platform: ReturnType<typeof testPlatform>;
const pollers: UpdatePoller[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-poller-'));
  store = await openStore(`sqlite:${join(dir, 'parley.db')}`);
  const real = store.kv('connector:test');
  writes = [];
  // The real SQLite store, recording what goes through it.
  kv = {
    get: (key) => real.get(key),
    set: async (key, value, options) => {
      writes.push({ key, value });
      await real.set(key, value, options);
    },
    delete: (key) => real.delete(key),
  };
  platform = testPlatform();
});

afterEach(async () => {
  for (const poller of pollers.splice(0)) await poller.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function startPoller(
  handle: (update: TestUpdate) => Promise<void>,
  overrides: Partial<UpdatePollerOptions<TestUpdate>> = {},
): UpdatePoller {
  const poller = createUpdatePoller<TestUpdate>({
    fetchUpdates: (offset, signal) => platform.fetchUpdates(offset, signal),
    handle,
    updateId: (update) => update.id,
    orderKey: (update) => update.chat,
    offsetStore: { store: kv },
    retryMinMs: 2,
    retryMaxMs: 10,
    platformName: 'TestChat',
    ...overrides,
  });
  pollers.push(poller);
  poller.start();
  return poller;
}

describe('createUpdatePoller', () => {
  it('handles a poll together and stores the offset once for it', async () => {
    for (let i = 1; i <= 10; i += 1) platform.send(i % 2 ? 'a' : 'b', `m${i}`);
    const handled: number[] = [];
    startPoller(async (update) => void handled.push(update.id));

    await eventually(() => handled.length === 10);
    await eventually(() => platform.pending().length === 0 && platform.offsets.includes(11));
    expect(writes).toEqual([{ key: DEFAULT_OFFSET_KEY, value: '11' }]);
    expect(await kv.get(DEFAULT_OFFSET_KEY)).toBe('11');

    platform.send('a', 'later');
    platform.send('c', 'later too');
    await eventually(() => handled.length === 12);
    await eventually(() => writes.length === 2);
    expect(writes[1]).toEqual({ key: DEFAULT_OFFSET_KEY, value: '13' });
  });

  it('handles different keys concurrently and the same key in poll order', async () => {
    const a1 = platform.send('a', 'slow');
    const a2 = platform.send('a', 'after slow');
    const b1 = platform.send('b', 'quick');
    const b2 = platform.send('b', 'quick again');
    const slow = gate();
    const log: string[] = [];
    startPoller(async (update) => {
      log.push(`start ${update.id}`);
      if (update.id === a1.id) await slow.opened;
      log.push(`end ${update.id}`);
    });

    // Chat b gets through while chat a's first update is still being handled.
    await eventually(() => log.includes(`end ${b2.id}`));
    expect(log).not.toContain(`end ${a1.id}`);
    expect(log).not.toContain(`start ${a2.id}`);
    expect(writes).toEqual([]);
    slow.open();

    await eventually(() => log.includes(`end ${a2.id}`));
    expect(log.indexOf(`start ${a2.id}`)).toBeGreaterThan(log.indexOf(`end ${a1.id}`));
    expect(log.indexOf(`end ${b1.id}`)).toBeLessThan(log.indexOf(`start ${b2.id}`));
    await eventually(() => writes.length === 1);
    expect(writes[0]?.value).toBe(String(b2.id + 1));
  });

  it('skips an update that fails permanently and confirms past it', async () => {
    platform.send('a', 'fine');
    const poison = platform.send('a', 'poison');
    platform.send('a', 'fine again');
    const attempts = new Map<number, number>();
    const handled: string[] = [];
    startPoller(async (update) => {
      attempts.set(update.id, (attempts.get(update.id) ?? 0) + 1);
      if (update.text === 'poison') throw new PermanentError('PAYLOAD_INVALID', 'cannot take it');
      handled.push(update.text);
    });

    await eventually(() => writes.length === 1);
    expect(handled).toEqual(['fine', 'fine again']);
    expect(writes[0]?.value).toBe('4');
    platform.send('b', 'next');
    await eventually(() => handled.length === 3);
    expect(attempts.get(poison.id)).toBe(1);
  });

  it('confirms only what came before the first failure, then handles the rest again', async () => {
    // Poll order 1..6; chats a (1, 3, 5) and b (2, 4, 6); update 4 fails once.
    for (let i = 1; i <= 6; i += 1) platform.send(i % 2 ? 'a' : 'b', `m${i}`);
    let failOnce = true;
    const done: number[] = [];
    const poller = startPoller(async (update) => {
      if (update.id === 4 && failOnce) {
        failOnce = false;
        throw new RetryableError('STORE', 'the queue is briefly unavailable');
      }
      done.push(update.id);
    });

    await eventually(() => writes.length === 2);
    // The failed poll confirmed 1..3 only; the next poll asked from 4 and handled the rest.
    expect(writes.map((write) => write.value)).toEqual(['4', '7']);
    expect(platform.offsets.slice(0, 2)).toEqual([0, 4]);
    for (const id of [1, 2, 3, 4, 5, 6]) expect(done).toContain(id);
    // Chat b's order held: 6 never ran before 4 succeeded.
    expect(done.indexOf(6)).toBeGreaterThan(done.indexOf(4));
    await eventually(() => poller.status().ready);
  });

  it('stops at the first failure in poll order, not the first to fail in time', async () => {
    const a1 = platform.send('a', 'fails late');
    const b2 = platform.send('b', 'fails early');
    platform.send('b', 'after the early failure');
    const bFailed = gate();
    let round = 1;
    const done: number[] = [];
    startPoller(async (update) => {
      if (round === 1 && update.id === a1.id) {
        await bFailed.opened;
        round = 2;
        throw new Error('connection reset');
      }
      if (round === 1 && update.id === b2.id) {
        bFailed.open();
        throw new Error('timed out');
      }
      done.push(update.id);
    });

    await eventually(() => done.length === 3);
    expect(done).toEqual([1, 2, 3]);
    // The failed poll confirmed nothing, although update 2 had failed first.
    await eventually(() => writes.length === 1);
    expect(writes.map((write) => write.value)).toEqual(['4']);
    expect(platform.offsets.slice(0, 2)).toEqual([0, 0]);
  });

  it('resumes from the stored offset after a restart, under the key the caller chose', async () => {
    platform.send('a', 'before');
    const handled: string[] = [];
    const first = startPoller(async (update) => void handled.push(update.text), { offsetStore: { store: kv, key: 'my-offset' } });
    await eventually(() => writes.length === 1);
    await first.stop();
    expect(await kv.get('my-offset')).toBe('2');

    platform.send('a', 'after');
    const polledBefore = platform.offsets.length;
    startPoller(async (update) => void handled.push(update.text), { offsetStore: { store: kv, key: 'my-offset' } });
    await eventually(() => handled.length === 2);
    expect(handled).toEqual(['before', 'after']);
    expect(platform.offsets[polledBefore]).toBe(2);
  });

  it('keeps the offset in memory only when given no store, polling from 0 on each start', async () => {
    platform.send('a', 'one');
    const handled: string[] = [];
    const poller = startPoller(async (update) => void handled.push(update.text), { offsetStore: undefined });
    await eventually(() => handled.length === 1 && platform.offsets.includes(2));
    await poller.stop();
    poller.start();
    await eventually(() => platform.offsets.filter((offset) => offset === 0).length === 2);
    expect(writes).toEqual([]);
  });

  it('polls from 0 when the stored offset is not a number', async () => {
    await kv.set(DEFAULT_OFFSET_KEY, 'garbage');
    platform.send('a', 'hello');
    const handled: string[] = [];
    startPoller(async (update) => void handled.push(update.text));
    await eventually(() => handled.length === 1);
    expect(platform.offsets[0]).toBe(0);
  });

  it('stop() aborts the long poll in flight and resolves once the loop exited', async () => {
    const poller = startPoller(async () => undefined);
    await eventually(() => platform.offsets.length === 1);
    await poller.stop();
    expect(platform.aborted()).toBe(1);
    platform.send('a', 'while stopped');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(platform.offsets).toHaveLength(1);
    expect(poller.status()).toEqual({ ready: true });
    await poller.stop();
  });

  it('stop() lets the updates in hand finish and confirms them', async () => {
    platform.send('a', 'in hand');
    const slow = gate();
    const started = gate();
    const poller = startPoller(async () => {
      started.open();
      await slow.opened;
    });
    await started.opened;
    const stopped = poller.stop();
    slow.open();
    await stopped;
    expect(writes).toEqual([{ key: DEFAULT_OFFSET_KEY, value: '2' }]);
    expect(platform.offsets).toEqual([0]);
  });

  it('reports failed polls in status until a poll succeeds again', async () => {
    for (let i = 0; i < 3; i += 1) platform.failNext(new RetryableError('PLATFORM_UNAVAILABLE', 'HTTP 503'));
    const handled: string[] = [];
    const slow = gate();
    const poller = startPoller(async (update) => {
      await slow.opened;
      handled.push(update.text);
    });
    await eventually(() => !poller.status().ready);
    expect(poller.status()).toEqual({ ready: false, detail: 'Polling TestChat failed: HTTP 503' });

    platform.send('a', 'back again');
    await eventually(() => platform.offsets.length === 4);
    // Still in hand, so this poll has not succeeded yet.
    expect(poller.status().ready).toBe(false);
    slow.open();
    await eventually(() => poller.status().ready);
    expect(handled).toEqual(['back again']);
  });

  it('reports a failed update in status, naming the handling, not the poll', async () => {
    let broken = true;
    const poller = startPoller(async () => {
      if (broken) throw new Error('the queue is briefly unavailable');
    });
    platform.send('a', 'hello');
    await eventually(() => !poller.status().ready);
    expect(poller.status().detail).toBe('Handling an update from TestChat failed: the queue is briefly unavailable');
    broken = false;
    await eventually(() => poller.status().ready);
    expect(writes.map((write) => write.value)).toEqual(['2']);
  });
});
