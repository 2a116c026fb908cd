/**
 * Losing nothing on a push platform. Discord does not redeliver gateway events a bot missed: a
 * dropped connection is RESUMEd (Discord replays the events in between), but after a restart or a
 * lost session they are gone. The channel history is not, so for every channel where customers
 * write Parley keeps the id of the last message it forwarded, and fetches what came `after` it:
 *
 * - when a new gateway session starts (start-up, or the session could not be resumed), for every
 *   tracked channel;
 * - before the next live message of a channel that is not caught up yet in this session;
 * - after a failed hand-off to core, for that channel, with backoff.
 *
 * Each channel's work runs in order (a chain per channel, or per group of channels that share
 * conversations), so messages reach core in the order the customer wrote them, and a live message
 * already forwarded by the catch-up is skipped by id.
 * The pointer advances only after `handle()` resolved, i.e. after the message is durably queued;
 * forwarding one twice after a crash is harmless (core dedupes by the Discord message id).
 */
import type { KeyValueStore, Logger } from '@parley/core';
import { PermanentError } from '@parley/core';
import type { Message } from 'discord.js';
import { compareSnowflakes } from './addresses.js';
import { HISTORY_PAGE_SIZE } from './api-client.js';

const INDEX_KEY = 'tracked-channels';
const pointerKey = (channelId: string) => `last-seen:${channelId}`;

export interface ChannelTrackerOptions {
  store: KeyValueStore;
  logger: Logger;
  /** One page of the channel history after `afterId`, oldest first. */
  fetchAfter(channelId: string, afterId: string): Promise<Message[]>;
  /**
   * Forwards one message (or decides to ignore it); resolves once it is safe to move past it, with
   * false when the message's place is not served (so its channel needs no tracking).
   */
  handle(message: Message): Promise<boolean>;
  /** How long a channel stays tracked after its last forwarded message. */
  trackingMs: number;
  /**
   * Whether a channel's pointer is kept for good instead: a configured channel is caught up after
   * any downtime, however long it was quiet before, since without a pointer its history would be
   * read only from its newest message on, past everything written while Parley was down.
   */
  keepsPointer(channelId: string): boolean;
  /**
   * Which chain a channel's work runs in: the channel itself, or a channel whose messages share
   * conversations with it (a support channel and its customers' threads), so that they stay in order.
   */
  orderKeyOf(channelId: string): string;
  /** How many channels fetch their history at the same time. */
  concurrency: number;
  retryMinMs: number;
  retryMaxMs: number;
}

export interface ChannelTracker {
  /** Loads the tracked channels; call before the first session starts. */
  load(): Promise<void>;
  /** A live message of a served place: forwarded in channel order, after the channel's catch-up. */
  live(message: Message): void;
  /** Runs `task` in `channelId`'s order (for edits and button presses); errors are logged. */
  serialize(channelId: string, task: () => Promise<void>): void;
  /** A new gateway session: every channel needs a catch-up again. */
  newSession(): void;
  /** Starts the catch-up of every tracked channel. */
  catchUpAll(): void;
  /** Tracks a configured channel (one `keepsPointer` keeps) from `fromId` on, unless it is tracked already. */
  track(channelId: string, fromId: string): void;
  /** Stops scheduling work and waits for the work in flight. */
  stop(): Promise<void>;
}

export function createChannelTracker(options: ChannelTrackerOptions): ChannelTracker {
  const { store, logger } = options;
  const chains = new Map<string, Promise<void>>();
  const pointers = new Map<string, string | null>();
  const caughtUp = new Map<string, number>();
  const failures = new Map<string, number>();
  const retries = new Map<string, NodeJS.Timeout>();
  const writes = new Map<string, { again: boolean; done: Promise<void> }>();
  let tracked = new Set<string>();
  let indexWrite: Promise<void> = Promise.resolve();
  let session = 0;
  let stopped = false;
  const slots = createSemaphore(options.concurrency);

  function run(channelId: string, task: () => Promise<void>): void {
    if (stopped) return;
    const key = options.orderKeyOf(channelId);
    const previous = chains.get(key) ?? Promise.resolve();
    const next = previous.then(task).catch((error: unknown) => {
      logger.error({ err: error, channelId }, 'Could not handle a Discord channel event');
    });
    chains.set(key, next);
    // Forget finished chains so a quiet channel holds no memory.
    void next.then(() => {
      if (chains.get(key) === next) chains.delete(key);
    });
  }

  async function pointerOf(channelId: string): Promise<string | undefined> {
    if (!pointers.has(channelId)) pointers.set(channelId, (await store.get(pointerKey(channelId))) ?? null);
    return pointers.get(channelId) ?? undefined;
  }

  /**
   * Moves a channel's pointer forward. The store write runs behind (one at a time per channel,
   * always the latest id) unless `wait`: a pointer that lags after a crash only makes the next
   * catch-up forward a message again, which core drops as a duplicate.
   */
  async function advance(channelId: string, messageId: string, wait = false): Promise<void> {
    const current = await pointerOf(channelId);
    if (current !== undefined && compareSnowflakes(messageId, current) <= 0) return;
    pointers.set(channelId, messageId);
    const persisted = persist(channelId);
    if (!tracked.has(channelId)) await updateIndex((index) => index.add(channelId));
    if (wait) await persisted;
  }

  function persist(channelId: string): Promise<void> {
    const running = writes.get(channelId);
    if (running) {
      running.again = true;
      return running.done;
    }
    const write: { again: boolean; done: Promise<void> } = { again: false, done: Promise.resolve() };
    write.done = (async () => {
      do {
        write.again = false;
        const id = pointers.get(channelId);
        if (id) await store.set(pointerKey(channelId), id, options.keepsPointer(channelId) ? {} : { ttlMs: options.trackingMs });
      } while (write.again);
    })()
      .catch((error: unknown) => logger.warn({ err: error, channelId }, 'Could not store how far a Discord channel was read'))
      .finally(() => writes.delete(channelId));
    writes.set(channelId, write);
    return write.done;
  }

  function updateIndex(change: (index: Set<string>) => void): Promise<void> {
    // Serialised: each write stores the whole index, so two at once could drop a channel. A failed
    // write fails its caller only, not the writes queued after it.
    indexWrite = indexWrite.catch(() => undefined).then(async () => {
      const next = new Set(tracked);
      change(next);
      await store.set(INDEX_KEY, JSON.stringify([...next]));
      tracked = next;
    });
    return indexWrite;
  }

  /** Fetches and forwards what the channel received after its pointer, page by page. */
  async function catchUp(channelId: string): Promise<void> {
    if (caughtUp.get(channelId) === session) return;
    const startedIn = session;
    let after = await pointerOf(channelId);
    if (after === undefined) {
      // Not tracked (never written in, or its tracking expired): nothing to fetch.
      if (tracked.has(channelId)) await updateIndex((index) => index.delete(channelId));
      caughtUp.set(channelId, startedIn);
      return;
    }
    let forwarded = 0;
    await slots.use(async () => {
      for (;;) {
        const page = await options.fetchAfter(channelId, after!);
        for (const message of page) {
          if (stopped) return;
          await forward(message);
          forwarded += 1;
        }
        const last = page.at(-1);
        if (last) {
          await advance(channelId, last.id);
          after = last.id;
        }
        if (page.length < HISTORY_PAGE_SIZE) break;
      }
    });
    caughtUp.set(channelId, startedIn);
    if (forwarded > 0) logger.info({ channelId, messages: forwarded }, 'Caught up on Discord messages from the channel history');
  }

  /** Hands one message on; a message no retry can fix is skipped, anything else propagates. */
  async function forward(message: Message): Promise<boolean> {
    try {
      return await options.handle(message);
    } catch (error) {
      if (!(error instanceof PermanentError)) throw error;
      logger.warn({ err: error, messageId: message.id }, 'Skipped a Discord message that cannot be forwarded');
      return true;
    }
  }

  /**
   * A channel that is gone or closed to the bot is no use fetching again: it stops being tracked.
   * Anything else (Discord unreachable, rate limited) is tried again later.
   */
  async function catchUpFailed(channelId: string, error: unknown): Promise<void> {
    if (error instanceof PermanentError && (error.reasonCode === 'InvalidDestination' || error.reasonCode === 'MessageNotAllowed')) {
      logger.warn({ err: error, channelId }, 'Stopped tracking a Discord channel the bot cannot read any more');
      pointers.set(channelId, null);
      caughtUp.set(channelId, session);
      await store.delete(pointerKey(channelId));
      if (tracked.has(channelId)) await updateIndex((index) => index.delete(channelId));
      return;
    }
    logger.warn({ err: error, channelId }, 'Catching up on a Discord channel failed');
    scheduleRetry(channelId);
  }

  function scheduleRetry(channelId: string, fromId?: string): void {
    if (stopped || retries.has(channelId)) return;
    const count = (failures.get(channelId) ?? 0) + 1;
    failures.set(channelId, count);
    const delayMs = Math.min(options.retryMaxMs, options.retryMinMs * 2 ** (count - 1));
    caughtUp.delete(channelId);
    const timer = setTimeout(() => {
      retries.delete(channelId);
      run(channelId, () => catchUpOrRetry(channelId));
    }, delayMs);
    retries.set(channelId, timer);
    logger.warn({ channelId, delayMs, fromId }, 'Will fetch the Discord channel history again after a failure');
  }

  async function catchUpOrRetry(channelId: string): Promise<void> {
    try {
      await catchUp(channelId);
      failures.delete(channelId);
    } catch (error) {
      await catchUpFailed(channelId, error);
    }
  }

  return {
    async load() {
      const raw = await store.get(INDEX_KEY);
      try {
        const value: unknown = raw ? JSON.parse(raw) : [];
        tracked = new Set(Array.isArray(value) ? value.filter((id): id is string => typeof id === 'string') : []);
      } catch {
        tracked = new Set();
      }
      stopped = false;
    },

    live(message) {
      const channelId = message.channelId;
      run(channelId, async () => {
        try {
          await catchUp(channelId);
        } catch (error) {
          // The catch-up retry will fetch this message too: it is in the history.
          await catchUpFailed(channelId, error);
          return;
        }
        const pointer = await pointerOf(channelId);
        if (pointer !== undefined && compareSnowflakes(message.id, pointer) <= 0) return;
        let served: boolean;
        try {
          served = await forward(message);
        } catch (error) {
          logger.warn({ err: error, channelId, messageId: message.id }, 'Could not hand a Discord message to Parley');
          // Fetch it again from the history: the pointer must sit just before it.
          if (pointer === undefined) await advance(channelId, String(BigInt(message.id) - 1n), true);
          scheduleRetry(channelId, message.id);
          return;
        }
        if (served || pointer !== undefined) await advance(channelId, message.id);
      });
    },

    serialize: run,

    newSession() {
      session += 1;
    },

    catchUpAll() {
      for (const channelId of tracked) run(channelId, () => catchUpOrRetry(channelId));
    },

    track(channelId, fromId) {
      run(channelId, async () => {
        if ((await pointerOf(channelId)) === undefined) await advance(channelId, fromId, true);
        // Stored again without a time limit: a pointer written while the channel was not configured
        // (or by a version that let it expire) would otherwise still expire.
        else await persist(channelId);
      });
    },

    async stop() {
      stopped = true;
      for (const timer of retries.values()) clearTimeout(timer);
      retries.clear();
      await Promise.all([...chains.values()]);
      await Promise.all([...writes.values()].map((write) => write.done));
      await indexWrite.catch(() => undefined);
    },
  };
}

/** At most `limit` tasks at once; the others wait their turn. */
function createSemaphore(limit: number): { use<T>(task: () => Promise<T>): Promise<T> } {
  let active = 0;
  const waiting: Array<() => void> = [];
  return {
    async use(task) {
      // A finishing task hands its slot straight to the next waiter, so no newcomer slips in between.
      if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
      else active += 1;
      try {
        return await task();
      } finally {
        const next = waiting.shift();
        if (next) next();
        else active -= 1;
      }
    },
  };
}
