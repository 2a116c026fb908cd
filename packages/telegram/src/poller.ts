/**
 * The long-polling loop. The rule that makes it lose nothing: Telegram confirms an update only
 * when getUpdates is next called with an offset above its id, and the offset advances only after
 * the update was handled, i.e. `context.receive()` resolved and the event is durably queued for
 * Genesys. A crash in between makes Telegram deliver the update again; core's dedupe turns that
 * into a no-op.
 *
 * The offset lives in memory only, on purpose: Telegram keeps every unconfirmed update, so after
 * a restart a poll without an offset starts at the first one. A stored offset would add nothing
 * and could skip updates, because Telegram picks update ids at random after a week of silence.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Update } from 'grammy/types';
import type { Logger } from '@parley/core';

/** What the loop polls with, and what it hands each update to. */
export interface UpdatePollerOptions {
  /** One long poll: updates from `offset` on (confirming those below). */
  fetchUpdates(offset: number, signal: AbortSignal): Promise<Update[]>;
  /** Handles one update; resolves once it is safe to confirm it. */
  handle(update: Update): Promise<void>;
  /**
   * Updates with the same key are handled one after another, in order; a batch's other keys
   * concurrently, so a busy chat does not hold up the rest (and their enqueues share a commit).
   */
  orderKey(update: Update): string;
  logger: Logger;
  retryMinMs: number;
  retryMaxMs: number;
}

/** A running (or stopped) polling loop. */
export interface UpdatePoller {
  start(): void;
  /** Aborts the poll in flight and resolves once the loop has exited. */
  stop(): Promise<void>;
  /** Not ready while polls fail; `detail` says why. */
  status(): { ready: boolean; detail?: string };
}

/** Creates the polling loop; nothing runs until `start()`. */
export function createUpdatePoller(options: UpdatePollerOptions): UpdatePoller {
  const { logger } = options;
  let running: { abort: AbortController; loop: Promise<void> } | undefined;
  let lastError: string | undefined;

  async function loop(signal: AbortSignal): Promise<void> {
    let offset = 0;
    let failures = 0;
    while (!signal.aborted) {
      try {
        const updates = await options.fetchUpdates(offset, signal);
        lastError = undefined;
        const { failedAt, error } = await handleBatch(updates);
        // Everything below the first failure is handled: confirm that much.
        offset = failedAt ?? Math.max(offset, ...updates.map((update) => update.update_id + 1));
        if (failedAt !== undefined) throw error;
        failures = 0;
      } catch (error) {
        if (signal.aborted) break;
        failures += 1;
        lastError = error instanceof Error ? error.message : String(error);
        const delayMs = backoff(failures, options.retryMinMs, options.retryMaxMs);
        logger.warn({ err: error, failures, delayMs }, 'Polling Telegram failed; trying again');
        await sleep(delayMs, undefined, { signal }).catch(() => undefined);
      }
    }
  }

  /** Handles a batch; reports the lowest update id that failed (its chat stopped there). */
  async function handleBatch(updates: Update[]): Promise<{ failedAt?: number; error?: unknown }> {
    const chains = new Map<string, Update[]>();
    for (const update of updates) {
      const key = options.orderKey(update);
      chains.set(key, [...(chains.get(key) ?? []), update]);
    }
    let failure: { failedAt: number; error: unknown } | undefined;
    await Promise.all(
      [...chains.values()].map(async (chain) => {
        for (const update of chain) {
          try {
            await options.handle(update);
          } catch (error) {
            if (!failure || update.update_id < failure.failedAt) failure = { failedAt: update.update_id, error };
            return;
          }
        }
      }),
    );
    return failure ?? {};
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
      return lastError === undefined ? { ready: true } : { ready: false, detail: `Polling Telegram failed: ${lastError}` };
    },
  };
}

/** Exponential backoff with jitter between `minMs` and `maxMs`, so restarts do not poll in step. */
export function backoff(failures: number, minMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** (failures - 1));
  return Math.round(minMs + Math.random() * Math.max(0, ceiling - minMs));
}
