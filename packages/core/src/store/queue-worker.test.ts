import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../errors.js';
import { createSqliteStore, type SqliteStore, type SqliteStoreOptions } from './sqlite/store.js';
import type { DeadLetter, Job, JobInput, OutageChange, QueueWorker } from './types.js';

let dir: string;
const opened: SqliteStore[] = [];
const workers: QueueWorker[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'parley-worker-'));
});

afterEach(async () => {
  for (const worker of workers.splice(0)) await worker.stop(100);
  for (const store of opened.splice(0)) await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function openStore(options: Omit<SqliteStoreOptions, 'path'> & { file?: string } = {}): SqliteStore {
  const { file = 'parley.db', ...rest } = options;
  const store = createSqliteStore({ path: file === ':memory:' ? file : join(dir, file), ...rest });
  opened.push(store);
  return store;
}

/** Worker options for tests: retries after a few ms instead of seconds. */
const fast = { pollIntervalMs: 5, backoffBaseMs: 1, backoffMaxMs: 5 };

function message<Payload>(dedupeKey: string, conversationKey: string, payload: Payload): JobInput<Payload> {
  return { connectorId: 'support-slack', conversationKey, dedupeKey, kind: 'message', payload };
}

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('Condition not met in time');
    await sleep(5);
  }
}

function track<T extends QueueWorker>(worker: T): T {
  workers.push(worker);
  return worker;
}

describe('per-conversation FIFO', () => {
  it('runs each conversation in enqueue order while conversations run in parallel', async () => {
    // In memory: this is about ordering, and 1,200+ fsyncs would make it slow on a busy disk.
    const store = openStore({ file: ':memory:' });
    const queue = store.queue('to-platform');
    const conversations = 20;
    const perConversation = 30;
    await Promise.all(
      Array.from({ length: perConversation }).flatMap((_, sequence) =>
        Array.from({ length: conversations }, (__, conversation) =>
          queue.enqueue(message(`m-${conversation}-${sequence}`, `conv-${conversation}`, { conversation, sequence })),
        ),
      ),
    );

    const delivered = new Map<number, number[]>();
    const busy = new Set<string>();
    let mostBusy = 0;
    let overlapped = false;
    const failedOnce = new Set<string>();
    const worker = track(
      queue.work<{ conversation: number; sequence: number }>(
        async (job) => {
          if (busy.has(job.conversationKey)) overlapped = true;
          busy.add(job.conversationKey);
          mostBusy = Math.max(mostBusy, busy.size);
          await sleep(Math.random() * 4);
          busy.delete(job.conversationKey);
          // Some jobs fail once: their followers must wait for the retry, not overtake it.
          if (job.payload.sequence % 7 === 3 && !failedOnce.has(job.dedupeKey)) {
            failedOnce.add(job.dedupeKey);
            throw new RetryableError('PLATFORM_RATE_LIMITED', 'Too many requests', { retryAfterMs: 3 });
          }
          const list = delivered.get(job.payload.conversation) ?? [];
          list.push(job.payload.sequence);
          delivered.set(job.payload.conversation, list);
        },
        { ...fast, concurrency: 8 },
      ),
    );
    worker.start();
    await waitFor(async () => (await queue.counts()).done === conversations * perConversation, 15_000);

    const inOrder = Array.from({ length: perConversation }, (_, sequence) => sequence);
    for (let conversation = 0; conversation < conversations; conversation += 1) {
      expect(delivered.get(conversation), `conversation ${conversation}`).toEqual(inOrder);
    }
    expect(overlapped).toBe(false);
    expect(mostBusy).toBeGreaterThan(1);
    expect(mostBusy).toBeLessThanOrEqual(8);
  });

  it('holds a conversation behind a job waiting for its retry, and lets others through', async () => {
    let clock = 1_000_000;
    const store = openStore({ now: () => clock });
    const queue = store.queue('to-genesys');
    const first = await queue.enqueue(message('a-1', 'conv-a', 'a-1'));
    const second = await queue.enqueue(message('a-2', 'conv-a', 'a-2'));
    const ran: string[] = [];
    const worker = track(
      queue.work<string>(
        async (job) => {
          ran.push(job.payload);
          if (job.payload === 'a-1' && job.attempts === 0) {
            throw new RetryableError('GENESYS_RATE_LIMITED', 'HTTP 429', { retryAfterMs: 60_000 });
          }
        },
        fast,
      ),
    );
    worker.start();
    await waitFor(async () => (await queue.get(first.id))?.attempts === 1);

    const other = await queue.enqueue(message('b-1', 'conv-b', 'b-1'));
    await waitFor(async () => (await queue.get(other.id))?.state === 'done');
    expect((await queue.get(second.id))?.state).toBe('pending');

    clock += 60_000;
    await waitFor(async () => (await queue.get(second.id))?.state === 'done');
    expect(ran).toEqual(['a-1', 'b-1', 'a-1', 'a-2']);
  });
});

describe('retries', () => {
  it('honours retryAfterMs when it exceeds the backoff', async () => {
    let clock = 5_000_000;
    const store = openStore({ now: () => clock });
    const queue = store.queue('to-genesys');
    const { id } = await queue.enqueue(message('m', 'conv', null));
    const attempts: number[] = [];
    const worker = track(
      queue.work(
        async (job) => {
          attempts.push(job.attempts);
          if (job.attempts === 0) throw new RetryableError('GENESYS_RATE_LIMITED', 'HTTP 429', { retryAfterMs: 30_000 });
        },
        fast,
      ),
    );
    worker.start();
    await waitFor(async () => (await queue.get(id))?.attempts === 1);

    const waiting = await queue.get(id);
    expect(waiting).toMatchObject({ state: 'pending', runAt: clock + 30_000, lastError: 'GENESYS_RATE_LIMITED: HTTP 429' });
    await sleep(50); // many polls, none of which may run the job early
    expect(attempts).toEqual([0]);

    clock += 29_999;
    await sleep(30);
    expect(attempts).toEqual([0]);

    clock += 1;
    await waitFor(async () => (await queue.get(id))?.state === 'done');
    expect(attempts).toEqual([0, 1]);
  });

  it('waits for the backoff when it exceeds retryAfterMs', async () => {
    const clock = 9_000_000;
    const store = openStore({ now: () => clock });
    const queue = store.queue('to-platform');
    const { id } = await queue.enqueue(message('m', 'conv', null));
    const worker = track(
      queue.work(
        async () => {
          throw new RetryableError('PLATFORM_UNAVAILABLE', 'HTTP 503', { retryAfterMs: 10 });
        },
        { pollIntervalMs: 5, backoffBaseMs: 10_000, backoffMaxMs: 60_000 },
      ),
    );
    worker.start();
    await waitFor(async () => (await queue.get(id))?.attempts === 1);
    const runAt = (await queue.get(id))?.runAt ?? 0;
    // First retry: full jitter between the base and twice the base.
    expect(runAt - clock).toBeGreaterThanOrEqual(10_000);
    expect(runAt - clock).toBeLessThanOrEqual(20_000);
  });

  it('treats an unknown error as retryable and dead-letters it once attempts run out', async () => {
    const store = openStore();
    const queue = store.queue('to-platform');
    const { id } = await queue.enqueue(message('m', 'conv', { text: 'hi' }));
    const seenAttempts: number[] = [];
    const dead: DeadLetter[] = [];
    const worker = track(
      queue.work(
        async (job) => {
          seenAttempts.push(job.attempts);
          throw new Error('socket hang up');
        },
        { ...fast, maxAttempts: 3 },
        { onDeadLetter: async (letter) => void dead.push(letter) },
      ),
    );
    worker.start();
    await waitFor(async () => (await queue.get(id))?.state === 'dead');

    expect(seenAttempts).toEqual([0, 1, 2]);
    expect(dead).toHaveLength(1);
    expect(dead[0]?.cause).toBe('exhausted');
    expect(dead[0]?.job).toMatchObject({ id, attempts: 3, payload: { text: 'hi' }, lastError: 'socket hang up' });
    expect((dead[0]?.error as Error).message).toBe('socket hang up');
    expect(await queue.get(id)).toMatchObject({ attempts: 3, lastError: 'socket hang up' });
  });
});

describe('outage hold', () => {
  function forConnector<Payload>(connectorId: string, dedupeKey: string, payload: Payload): JobInput<Payload> {
    return { ...message(dedupeKey, `conv-${dedupeKey}`, payload), connectorId };
  }

  it('holds the jobs of a connector whose jobs all fail, without spending their attempts, until one succeeds', async () => {
    const store = openStore();
    const queue = store.queue('to-genesys');
    let down = true;
    const tries = new Map<string, number>();
    const changes: OutageChange[] = [];
    const dead: DeadLetter[] = [];
    const worker = track(
      queue.work(
        async (job) => {
          tries.set(job.dedupeKey, (tries.get(job.dedupeKey) ?? 0) + 1);
          if (job.connectorId === 'telegram' && down) throw new RetryableError('GENESYS_UNAVAILABLE', 'HTTP 503');
        },
        { ...fast, maxAttempts: 2 },
        { onDeadLetter: async (letter) => void dead.push(letter), onOutage: (change) => void changes.push(change) },
      ),
    );
    worker.start();
    const ids = await Promise.all(['a', 'b', 'c'].map(async (key) => (await queue.enqueue(forConnector('telegram', key, null))).id));
    // Each job is tried well past its budget of two attempts.
    await waitFor(() => ['a', 'b', 'c'].every((key) => (tries.get(key) ?? 0) >= 5));
    // Another connector's jobs go through meanwhile, and do not end the hold.
    const other = await queue.enqueue(forConnector('slack', 'd', null));
    await waitFor(async () => (await queue.get(other.id))?.state === 'done');

    expect(dead).toEqual([]);
    expect(changes).toEqual([{ connectorId: 'telegram', held: true }]);
    for (const id of ids) {
      const job = await queue.get(id);
      expect(job?.state).not.toBe('dead');
      // At most the failure that came before the hold began was counted.
      expect(job?.attempts).toBeLessThanOrEqual(1);
      expect(job?.lastError).toBe('GENESYS_UNAVAILABLE: HTTP 503');
    }

    down = false;
    await waitFor(async () => (await Promise.all(ids.map((id) => queue.get(id)))).every((job) => job?.state === 'done'));
    expect(changes).toEqual([
      { connectorId: 'telegram', held: true },
      { connectorId: 'telegram', held: false, heldForMs: expect.any(Number) },
    ]);
  });

  it('makes the held jobs due at once when the hold ends, however long their wait was', async () => {
    const store = openStore();
    const queue = store.queue('to-platform');
    let down = true;
    const worker = track(
      queue.work(
        async () => {
          if (down) throw new RetryableError('PLATFORM_UNAVAILABLE', 'HTTP 502');
        },
        // Every wait is at least a minute.
        { pollIntervalMs: 5, backoffBaseMs: 60_000, backoffMaxMs: 120_000 },
      ),
    );
    worker.start();
    const held = await Promise.all(['a', 'b', 'c'].map(async (key) => (await queue.enqueue(forConnector('telegram', key, null))).id));
    await waitFor(async () => (await Promise.all(held.map((id) => queue.get(id)))).every((job) => job?.lastError !== undefined));
    for (const id of held) expect((await queue.get(id))?.runAt).toBeGreaterThan(Date.now() + 30_000);

    down = false;
    // A new message of the connector goes through: the platform is back.
    const fresh = await queue.enqueue(forConnector('telegram', 'e', null));
    await waitFor(async () => (await queue.get(fresh.id))?.state === 'done');
    await waitFor(async () => (await Promise.all(held.map((id) => queue.get(id)))).every((job) => job?.state === 'done'), 2_000);
  });

  /** A worker whose every job fails retryably, like during an outage; collects the dead letters. */
  async function failingEverything(options: { maxAttempts: number; outageHoldMs: number }, keys: string[]) {
    const queue = openStore().queue('to-genesys');
    const dead: DeadLetter[] = [];
    const worker = track(
      queue.work(
        async () => {
          throw new RetryableError('GENESYS_AUTH', 'Genesys rejected the OAuth client credentials');
        },
        { ...fast, ...options },
        { onDeadLetter: async (letter) => void dead.push(letter) },
      ),
    );
    worker.start();
    await Promise.all(keys.map((key) => queue.enqueue(forConnector('telegram', key, null))));
    return dead;
  }

  it('spends attempts again for jobs queued longer than outageHoldMs', async () => {
    const dead = await failingEverything({ maxAttempts: 3, outageHoldMs: 150 }, ['a', 'b']);
    await waitFor(() => dead.length === 2);
    expect(dead.map((letter) => letter.cause)).toEqual(['exhausted', 'exhausted']);
    expect(dead.every((letter) => letter.job.attempts === 3)).toBe(true);
  });

  it('is off with outageHoldMs 0: every failure counts', async () => {
    const dead = await failingEverything({ maxAttempts: 2, outageHoldMs: 0 }, ['a', 'b', 'c']);
    await waitFor(() => dead.length === 3);
    expect(dead.every((letter) => letter.job.attempts === 2)).toBe(true);
  });
});

describe('dead letters', () => {
  it('dead-letters a permanent failure at once and calls the hook with its cause', async () => {
    const store = openStore();
    const queue = store.queue('to-platform');
    const { id } = await queue.enqueue(message('m', 'conv', { text: 'hi' }));
    const failure = new PermanentError('PLATFORM_REJECTED', 'Forbidden: bot was blocked by the user', {
      reasonCode: 'RecipientOptedOut',
    });
    let calls = 0;
    const dead: DeadLetter[] = [];
    const worker = track(
      queue.work(
        async () => {
          calls += 1;
          throw failure;
        },
        fast,
        { onDeadLetter: async (letter) => void dead.push(letter) },
      ),
    );
    worker.start();
    await waitFor(async () => (await queue.get(id))?.state === 'dead');

    expect(calls).toBe(1);
    expect(dead).toHaveLength(1);
    expect(dead[0]?.cause).toBe('permanent');
    expect(dead[0]?.error).toBe(failure);
    expect(dead[0]?.job.id).toBe(id);
    const [listed] = await queue.listDead();
    expect(listed).toMatchObject({ id, state: 'dead', attempts: 1, lastError: 'PLATFORM_REJECTED: Forbidden: bot was blocked by the user' });
    expect(await queue.counts()).toEqual({ pending: 0, running: 0, done: 0, dead: 1 });
  });

  it('retries the job when the dead-letter hook throws, so its work is not lost', async () => {
    const store = openStore();
    const queue = store.queue('to-platform');
    const { id } = await queue.enqueue(message('m', 'conv', null));
    const seen: Job[] = [];
    let hookCalls = 0;
    const worker = track(
      queue.work(
        async (job) => {
          seen.push(job);
          throw new PermanentError('PLATFORM_REJECTED', 'chat not found');
        },
        fast,
        {
          async onDeadLetter() {
            hookCalls += 1;
            if (hookCalls === 1) throw new Error('could not queue the Failed receipt');
          },
        },
      ),
    );
    worker.start();
    await waitFor(async () => (await queue.get(id))?.state === 'dead');

    expect(hookCalls).toBe(2);
    expect(seen.map((job) => job.attempts)).toEqual([0, 1]);
    expect(seen[1]?.lastError).toContain('dead-letter hook failed: could not queue the Failed receipt');
    expect((await queue.get(id))?.attempts).toBe(2);
  });

  it('replays one dead job or all of them, with attempts reset', async () => {
    const store = openStore();
    const queue = store.queue('to-genesys');
    const first = await queue.enqueue(message('a', 'conv-a', 'a'));
    const second = await queue.enqueue(message('b', 'conv-b', 'b'));
    let healthy = false;
    const ran: { payload: string; attempts: number }[] = [];
    const worker = track(
      queue.work<string>(
        async (job) => {
          ran.push({ payload: job.payload, attempts: job.attempts });
          if (!healthy) throw new PermanentError('GENESYS_REJECTED', 'HTTP 400');
        },
        fast,
      ),
    );
    worker.start();
    await waitFor(async () => (await queue.counts()).dead === 2);
    expect((await queue.listDead(1)).map((job) => job.id)).toEqual([first.id]);

    healthy = true;
    expect(await queue.replayDead(first.id)).toBe(1);
    await waitFor(async () => (await queue.get(first.id))?.state === 'done');
    expect((await queue.get(second.id))?.state).toBe('dead');

    expect(await queue.replayDead()).toBe(1);
    await waitFor(async () => (await queue.get(second.id))?.state === 'done');
    expect(await queue.replayDead()).toBe(0);
    expect(ran.slice(2)).toEqual([
      { payload: 'a', attempts: 0 },
      { payload: 'b', attempts: 0 },
    ]);
  });
});

describe('write batching', () => {
  it('records the outcomes of jobs that finish together and claims their successors in one commit', async () => {
    const store = openStore();
    const queue = store.queue('to-platform');
    const conversations = 8;
    // Two jobs per conversation: a second one can only be claimed once its first is complete.
    await Promise.all(
      [0, 1].flatMap((round) =>
        Array.from({ length: conversations }, (_, conversation) =>
          queue.enqueue(message(`m-${conversation}-${round}`, `conv-${conversation}`, round)),
        ),
      ),
    );

    let releaseFirstRound: () => void = () => {};
    const firstRoundGate = new Promise<void>((resolve) => {
      releaseFirstRound = resolve;
    });
    let releaseSecondRound: () => void = () => {};
    const secondRoundGate = new Promise<void>((resolve) => {
      releaseSecondRound = resolve;
    });
    const firstRound: number[] = [];
    const commitsSeenBySecondRound: number[] = [];
    const worker = track(
      queue.work<number>(
        async (job) => {
          if (job.payload === 0) {
            firstRound.push(job.id);
            await firstRoundGate;
          } else {
            commitsSeenBySecondRound.push(store.stats().commits);
            await secondRoundGate;
          }
        },
        { concurrency: conversations, pollIntervalMs: 60_000 },
      ),
    );
    worker.start();
    await waitFor(() => firstRound.length === conversations);
    const commitsBefore = store.stats().commits;

    releaseFirstRound();
    await waitFor(() => commitsSeenBySecondRound.length === conversations);
    releaseSecondRound();

    // All eight completes and the claim of all eight successors: one transaction, one fsync.
    expect(commitsSeenBySecondRound).toEqual(Array.from({ length: conversations }, () => commitsBefore + 1));
    await waitFor(async () => (await queue.counts()).done === 2 * conversations);
  });
});

describe('follow-ups', () => {
  it('records what a handler returns in the same commit as its completion', async () => {
    const store = openStore();
    const toPlatform = store.queue('to-platform');
    const toGenesys = store.queue('to-genesys');
    const { id } = await toPlatform.enqueue(message('m-1', 'conv-1', { text: 'hello' }));
    const commitsWhenHandlerEnded: number[] = [];
    const worker = track(
      toPlatform.work(
        async (job) => {
          commitsWhenHandlerEnded.push(store.stats().commits);
          return {
            links: [{ connectorId: 'support-slack', platformMessageId: 'p-1', genesysMessageId: 'g-1', direction: 'outbound', status: 'Delivered' }],
            enqueue: [{ queue: 'to-genesys', job: message(`receipt:${job.id}`, 'conv-1', { status: 'Delivered' }) }],
          };
        },
        { ...fast, pollIntervalMs: 60_000 },
      ),
    );
    worker.start();
    await waitFor(async () => (await toPlatform.get(id))?.state === 'done');

    // Link, receipt job and completion: committed together, in the one commit that followed.
    expect(store.stats().commits).toBe((commitsWhenHandlerEnded[0] ?? Number.NaN) + 1);
    expect(await store.links.byGenesysId('support-slack', 'g-1')).toMatchObject({ platformMessageId: 'p-1', status: 'Delivered' });
    expect(await toGenesys.counts()).toMatchObject({ pending: 1 });
    expect(store.stats().jobsEnqueued).toBe(2);
  });

  it('wakes the workers of the queue a follow-up adds to, and skips a duplicate follow-up job', async () => {
    const store = openStore();
    const toPlatform = store.queue('to-platform');
    const toGenesys = store.queue('to-genesys');
    await toGenesys.enqueue(message('receipt:shared', 'conv-9', 'first'));
    const received: unknown[] = [];
    track(toGenesys.work(async (job) => void received.push(job.payload), { ...fast, pollIntervalMs: 60_000 })).start();
    await waitFor(() => received.length === 1);
    await Promise.all([
      toPlatform.enqueue(message('m-1', 'conv-1', 'a')),
      toPlatform.enqueue(message('m-2', 'conv-2', 'b')),
    ]);
    track(
      toPlatform.work(
        async (job) => ({
          enqueue: [
            { queue: 'to-genesys', job: message(`receipt:${String(job.payload)}`, job.conversationKey, job.payload) },
            { queue: 'to-genesys', job: message('receipt:shared', 'conv-9', 'again') },
          ],
        }),
        fast,
      ),
    ).start();

    // The poll is a minute away: only the follow-up's commit can have woken the worker.
    await waitFor(() => received.length === 3);
    expect(received.slice(1).sort()).toEqual(['a', 'b']);
    expect(store.stats().duplicatesSkipped).toBe(2);
    expect(await toPlatform.counts()).toMatchObject({ done: 2, pending: 0, running: 0 });
  });

  it('dead-letters a job whose follow-up the store refuses, with nothing of it recorded', async () => {
    const store = openStore();
    const toPlatform = store.queue('to-platform');
    const { id } = await toPlatform.enqueue(message('m-1', 'conv-1', 'x'));
    const dead: DeadLetter[] = [];
    track(
      toPlatform.work(
        async () => ({
          links: [{ connectorId: 'support-slack', platformMessageId: 'p-1', genesysMessageId: 'g-1', direction: 'outbound' }],
          enqueue: [{ queue: 'to-genesys', job: message('', 'conv-1', 'no dedupe key') }],
        }),
        fast,
        { onDeadLetter: async (letter) => void dead.push(letter) },
      ),
    ).start();

    await waitFor(async () => (await toPlatform.get(id))?.state === 'dead');
    expect(dead[0]?.cause).toBe('permanent');
    expect((await toPlatform.get(id))?.lastError).toMatch(/dedupeKey/);
    expect(await store.links.byGenesysId('support-slack', 'g-1')).toBeUndefined();
    expect(await store.queue('to-genesys').counts()).toMatchObject({ pending: 0 });
  });
});

describe('claiming ahead', () => {
  it('starts the next job in a freed slot without waiting for another claim', async () => {
    const store = openStore();
    const queue = store.queue('to-platform');
    await queue.enqueue(message('a-1', 'conv-a', 'a'));
    await queue.enqueue(message('b-1', 'conv-b', 'b'));
    const commitsAt: Record<string, number> = {};
    const worker = track(
      queue.work<string>(
        async (job) => {
          commitsAt[`${job.payload}-start`] = store.stats().commits;
          await sleep(20);
          commitsAt[`${job.payload}-end`] = store.stats().commits;
        },
        { ...fast, concurrency: 1 },
      ),
    );
    worker.start();
    await waitFor(async () => (await queue.counts()).done === 2);
    // b was claimed with a; it started when a's handler returned, before a's outcome committed.
    expect(commitsAt['b-start']).toBe(commitsAt['a-end']);
  });

  it('makes the jobs it claimed ahead pending again when it stops, for the next worker', async () => {
    const store = openStore();
    const queue = store.queue('to-platform');
    const first = await queue.enqueue(message('a-1', 'conv-a', null));
    const second = await queue.enqueue(message('b-1', 'conv-b', null));
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const ran: string[] = [];
    const worker = queue.work(
      async (job) => {
        ran.push(job.dedupeKey);
        await gate;
      },
      { ...fast, concurrency: 1 },
    );
    worker.start();
    await waitFor(async () => (await queue.counts()).running === 2);
    const stopped = worker.stop(5_000);
    release();
    await stopped;

    expect(ran).toEqual(['a-1']);
    expect((await queue.get(first.id))?.state).toBe('done');
    expect(await queue.get(second.id)).toMatchObject({ state: 'pending', attempts: 0 });
    const next = track(queue.work(async (job) => void ran.push(job.dedupeKey), fast));
    next.start();
    await waitFor(async () => (await queue.counts()).done === 2);
    expect(ran).toEqual(['a-1', 'b-1']);
  });
});

describe('lifecycle', () => {
  it('is woken by an enqueue at once rather than by its poll', async () => {
    const store = openStore();
    const queue = store.queue('to-platform');
    const worker = track(queue.work(async () => {}, { pollIntervalMs: 60_000 }));
    worker.start();
    worker.start();
    await sleep(10);
    const { id } = await queue.enqueue(message('m', 'conv', null));
    // The poll would take a minute, far past this wait.
    await waitFor(async () => (await queue.get(id))?.state === 'done', 5_000);
  });

  it('runs workers of the two queues independently', async () => {
    const store = openStore();
    const inbound = store.queue('to-genesys');
    const outbound = store.queue('to-platform');
    const stuck = await inbound.enqueue(message('in-1', 'conv', null));
    const ranInbound: string[] = [];
    const blocked = track(
      inbound.work(
        (job) => {
          ranInbound.push(job.dedupeKey);
          return new Promise<void>(() => {});
        },
        { ...fast, concurrency: 1 },
      ),
    );
    blocked.start();
    await waitFor(async () => (await inbound.get(stuck.id))?.state === 'running');

    const sent: string[] = [];
    const sender = track(outbound.work<null>(async (job) => void sent.push(job.dedupeKey), fast));
    sender.start();
    await outbound.enqueue(message('out-1', 'conv', null));
    await waitFor(() => sent.length === 1);
    const waiting = await inbound.enqueue(message('in-2', 'conv-2', null));
    await outbound.enqueue(message('out-2', 'conv', null));
    await waitFor(() => sent.length === 2);

    expect(sent).toEqual(['out-1', 'out-2']);
    // The inbound worker's one slot is still taken: in-2 waits (claimed ahead, not run).
    expect(ranInbound).toEqual(['in-1']);
    expect((await inbound.get(waiting.id))?.state).not.toBe('done');
  });

  it('stop() lets in-flight jobs finish within the grace period and claims nothing more', async () => {
    const store = openStore();
    const queue = store.queue('to-platform');
    const { id } = await queue.enqueue(message('m1', 'conv', null));
    let release: () => void = () => {};
    const started: number[] = [];
    const worker = track(
      queue.work(
        (job) => {
          started.push(job.id);
          return new Promise<void>((resolve) => {
            release = resolve;
          });
        },
        fast,
      ),
    );
    worker.start();
    await waitFor(() => started.length === 1);

    const stopping = worker.stop(5_000);
    const later = await queue.enqueue(message('m2', 'conv-2', null));
    release();
    await stopping;
    expect((await queue.get(id))?.state).toBe('done');
    await sleep(30);
    expect((await queue.get(later.id))?.state).toBe('pending');
    expect(started).toEqual([id]);
  });

  it('stop() gives up after the grace period and leaves the job to be resumed', async () => {
    const store = openStore();
    const queue = store.queue('to-platform');
    const { id } = await queue.enqueue(message('m1', 'conv', null));
    const worker = track(queue.work(() => new Promise<void>(() => {}), fast));
    worker.start();
    await waitFor(async () => (await queue.get(id))?.state === 'running');
    await worker.stop(20);
    expect((await queue.get(id))?.state).toBe('running');
    await store.close();

    const reopened = openStore();
    expect(reopened.stats().recoveredJobs).toBe(1);
    expect((await reopened.queue('to-platform').get(id))?.state).toBe('pending');
  });

  it('resumes jobs a crashed process left running, first and in order', async () => {
    const crashed = openStore();
    const queue = crashed.queue('to-platform');
    await queue.enqueue(message('a-1', 'conv-a', null));
    await queue.enqueue(message('a-2', 'conv-a', null));
    await queue.enqueue(message('b-1', 'conv-b', null));
    const claimed: string[] = [];
    const hung = queue.work(
      (job) => {
        claimed.push(job.dedupeKey);
        return new Promise<void>(() => {});
      },
      { ...fast, concurrency: 1 },
    );
    hung.start();
    await waitFor(() => claimed.length === 1);
    // a-1 runs; b-1 is claimed ahead for the next free slot; a-2 waits behind a-1.
    await waitFor(async () => (await queue.counts()).running === 2);
    expect(await queue.counts()).toMatchObject({ running: 2, pending: 1 });
    // The process dies: its connections go away without stop() or close().
    await crashed.abandon();

    const restarted = openStore();
    expect(restarted.stats().recoveredJobs).toBe(2);
    const resumed = restarted.queue('to-platform');
    expect(await resumed.counts()).toEqual({ pending: 3, running: 0, done: 0, dead: 0 });
    const order: string[] = [];
    const worker = track(resumed.work(async (job) => void order.push(job.dedupeKey), { ...fast, concurrency: 1 }));
    worker.start();
    await waitFor(async () => (await resumed.counts()).done === 3);

    expect(claimed).toEqual(['a-1']);
    expect(order[0]).toBe('a-1');
    expect(order.filter((key) => key.startsWith('a-'))).toEqual(['a-1', 'a-2']);
  });

  it('refuses to start a worker on a closed store', async () => {
    const store = openStore();
    const worker = store.queue('to-genesys').work(async () => {});
    await store.close();
    expect(() => worker.start()).toThrow(/closed/);
    await worker.stop();
  });
});
