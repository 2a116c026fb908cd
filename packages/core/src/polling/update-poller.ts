/**
 * The long-polling loop that connectors of poll-based platforms (Telegram, the reference platform)
 * share. The rule that makes it lose nothing: the offset that confirms updates to the platform
 * advances only after they were handled, and handling means `context.receive()` resolved, i.e. the
 * event is durably queued for Genesys. A crash in between makes the platform deliver the updates
 * again; core's dedupe (by platform message id) turns that into a no-op.
 *
 * Throughput: each `receive()` waits for a durable commit. Handling a poll's updates one by one
 * would bound inbound traffic by that latency; instead the updates of a poll are handled together
 * (the store groups their enqueues into shared commits), in series only where order matters (the
 * same conversation), and the offset is stored once per poll rather than once per update.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { KeyValueStore } from '../connector.js';
import { PermanentError, RetryableError } from '../errors.js';
import { silentLogger } from '../logger.js';
import { backoffDelay } from '../store/backoff.js';

/** The key-value key the offset is kept under unless the caller names another. */
export const DEFAULT_OFFSET_KEY = 'updates-offset';

/** What the loop polls with, and what it hands each update to. */
export interface UpdatePollerOptions<Update> {
  /** One long poll: updates from `offset` on (which confirms every update below it). */
  fetchUpdates(offset: number, signal: AbortSignal): Promise<readonly Update[]>;
  /**
   * Handles one update; resolves once it is safe to confirm it. A `PermanentError` skips the
   * update; any other error makes the platform deliver it (and the updates after it) again.
   */
  handle(update: Update): Promise<void>;
  /** The platform's id of an update; confirming it means polling from `updateId + 1` on. */
  updateId(update: Update): number;
  /**
   * Updates with the same key (e.g. the chat id) are handled one after another, in poll order;
   * those of different keys concurrently, so a busy chat does not hold up the others.
   */
  orderKey(update: Update): string;
  /**
   * Where the offset survives a restart (written once per poll that advanced it). Without it the
   * offset lives in memory and each start polls from 0: right for a platform that keeps every
   * unconfirmed update and answers offset 0 with the oldest of them (Telegram).
   */
  offsetStore?: { store: KeyValueStore; key?: string };
  /** First pause after a failed poll; pauses double per failure, with jitter, up to `retryMaxMs`. */
  retryMinMs: number;
  retryMaxMs: number;
  /** Names the platform in log lines and readiness, e.g. `Telegram`. Default `the platform`. */
  platformName?: string;
  logger?: Logger;
}

/** A running (or stopped) polling loop. */
export interface UpdatePoller {
  /** Starts polling in the background; a second call while running does nothing. */
  start(): void;
  /**
   * Aborts the poll in flight and resolves once the loop has exited. Updates already in hand are
   * handled first (and their offset stored), so nothing half-done is left behind.
   */
  stop(): Promise<void>;
  /** Not ready from a failed poll until a poll succeeds again; `detail` says why. */
  status(): { ready: boolean; detail?: string };
}

/** The first update of a batch, in poll order, whose failure may pass on a later poll. */
interface BatchFailure {
  index: number;
  error: unknown;
}

/** Why a poll did not go through: the poll itself (or the offset's storage), or an update. */
type Trouble = { stage: 'poll'; error: unknown } | { stage: 'handle'; error: unknown; updateId: number };

/**
 * Creates the polling loop; nothing runs until `start()`.
 *
 * @example
 * const poller = createUpdatePoller({
 *   fetchUpdates: (offset, signal) => api.getUpdates(offset, signal),
 *   handle: (update) => handleUpdate(update),
 *   updateId: (update) => update.update_id,
 *   orderKey: (update) => `chat:${update.message.chat.id}`,
 *   offsetStore: { store: context.store },
 *   retryMinMs: 1_000,
 *   retryMaxMs: 60_000,
 *   logger: context.logger,
 * });
 */
export function createUpdatePoller<Update>(options: UpdatePollerOptions<Update>): UpdatePoller {
  const logger = options.logger ?? silentLogger();
  const platform = options.platformName ?? 'the platform';
  const offsetKey = options.offsetStore?.key ?? DEFAULT_OFFSET_KEY;
  let running: { abort: AbortController; loop: Promise<void> } | undefined;
  let lastError: string | undefined;

  async function loop(signal: AbortSignal): Promise<void> {
    let offset: number | undefined;
    let failures = 0;
    while (!signal.aborted) {
      let trouble: Trouble | undefined;
      try {
        offset ??= await readOffset();
        const updates = await options.fetchUpdates(offset, signal);
        const failure = await handleBatch(updates);
        const next = nextOffset(updates, failure);
        if (next !== undefined && next !== offset) {
          offset = next;
          await options.offsetStore?.store.set(offsetKey, String(offset));
        }
        if (failure) trouble = { stage: 'handle', error: failure.error, updateId: options.updateId(updates[failure.index]!) };
      } catch (error) {
        trouble = { stage: 'poll', error };
      }
      if (!trouble) {
        failures = 0;
        lastError = undefined;
        continue;
      }
      if (signal.aborted) break;
      failures += 1;
      await pauseAfter(trouble, failures, signal);
    }
  }

  /** Reports the trouble (log, readiness) and waits before the next poll; `stop()` cuts it short. */
  async function pauseAfter(trouble: Trouble, failures: number, signal: AbortSignal): Promise<void> {
    const { error } = trouble;
    const reason = error instanceof Error ? error.message : String(error);
    const delayMs = retryDelay(error, failures);
    if (trouble.stage === 'handle') {
      lastError = `Handling an update from ${platform} failed: ${reason}`;
      logger.warn(
        { err: error, updateId: trouble.updateId, failures, delayMs },
        `Handling an update from ${platform} failed; polling it again after a pause`,
      );
    } else {
      lastError = `Polling ${platform} failed: ${reason}`;
      logger.warn({ err: error, failures, delayMs }, `Polling ${platform} failed; trying again`);
    }
    await sleep(delayMs, undefined, { signal }).catch(() => undefined);
  }

  async function readOffset(): Promise<number> {
    if (!options.offsetStore) return 0;
    const raw = await options.offsetStore.store.get(offsetKey);
    if (raw === undefined) return 0;
    const offset = Number(raw);
    if (Number.isSafeInteger(offset) && offset >= 0) return offset;
    logger.warn({ key: offsetKey, value: raw }, 'Ignored a stored update offset that is not a number; polling from 0');
    return 0;
  }

  /**
   * The offset that confirms what this batch handled: past its highest update id, or up to (not
   * including) the first update that failed; undefined when there is nothing to confirm. Taken
   * from the batch alone, not the previous offset, because a platform may restart its ids lower
   * (Telegram picks them at random after a week of silence) and a larger stale offset would skip
   * those updates.
   */
  function nextOffset(updates: readonly Update[], failure: BatchFailure | undefined): number | undefined {
    // A batch whose first update failed handled nothing: no need to write the offset again.
    if (failure) return failure.index === 0 ? undefined : options.updateId(updates[failure.index]!);
    let highest: number | undefined;
    for (const update of updates) {
      const id = options.updateId(update);
      if (highest === undefined || id > highest) highest = id;
    }
    return highest === undefined ? undefined : highest + 1;
  }

  /**
   * Handles a batch: one chain per order key, chains concurrently. Reports the first failure in
   * poll order. A chain stops at its own failure (later updates of that conversation must wait
   * for it) and before any update that comes after a failure already seen, since the platform
   * delivers those again anyway. Every update before the first failure is therefore handled.
   */
  async function handleBatch(updates: readonly Update[]): Promise<BatchFailure | undefined> {
    const chains = new Map<string, number[]>();
    updates.forEach((update, index) => {
      const key = options.orderKey(update);
      const chain = chains.get(key);
      if (chain) chain.push(index);
      else chains.set(key, [index]);
    });
    let first: BatchFailure | undefined;
    await Promise.all(
      [...chains.values()].map(async (chain) => {
        for (const index of chain) {
          if (first && first.index < index) return;
          try {
            await handleOne(updates[index]!);
          } catch (error) {
            if (!first || index < first.index) first = { index, error };
            return;
          }
        }
      }),
    );
    return first;
  }

  async function handleOne(update: Update): Promise<void> {
    try {
      await options.handle(update);
    } catch (error) {
      // No retry can make a permanently bad update good: skip it rather than block the chat.
      if (!(error instanceof PermanentError)) throw error;
      logger.warn({ err: error, updateId: options.updateId(update) }, `Skipped an update from ${platform} that cannot be handled`);
    }
  }

  /** Backoff with jitter, so restarted instances do not poll in step; at least what the platform asked. */
  function retryDelay(error: unknown, failures: number): number {
    const delayMs = backoffDelay(failures - 1, options.retryMinMs, Math.max(options.retryMinMs, options.retryMaxMs));
    return error instanceof RetryableError && error.retryAfterMs !== undefined ? Math.max(delayMs, error.retryAfterMs) : delayMs;
  }

  return {
    start() {
      if (running) return;
      const abort = new AbortController();
      running = { abort, loop: loop(abort.signal) };
    },
    async stop() {
      const current = running;
      if (!current) return;
      current.abort.abort();
      await current.loop;
      if (running === current) running = undefined;
    },
    status() {
      return lastError === undefined ? { ready: true } : { ready: false, detail: lastError };
    },
  };
}
