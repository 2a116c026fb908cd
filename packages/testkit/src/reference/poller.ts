/**
 * The long-polling loop. The rule that makes it lose nothing: the offset that confirms an update
 * to the platform advances only after the update was handled, and handling means
 * `context.receive()` resolved, i.e. the event is durably queued for Genesys. A crash in between
 * makes the platform deliver the update again; core's dedupe turns that into a no-op.
 */
import type { KeyValueStore, Logger } from '@parley/core';
import { PermanentError } from '@parley/core';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Update } from './protocol.js';

/** Where the next offset is kept in the connector's key-value store. */
const OFFSET_KEY = 'updates-offset';

export interface UpdatePollerOptions {
  /** One long poll: updates from `offset` on (confirming those below). */
  fetchUpdates(offset: number, signal: AbortSignal): Promise<Update[]>;
  /** Handles one update; resolves once it is safe to confirm it. */
  handle(update: Update): Promise<void>;
  store: KeyValueStore;
  logger: Logger;
  retryMinMs: number;
  retryMaxMs: number;
}

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
    let offset: number | undefined;
    let failures = 0;
    while (!signal.aborted) {
      try {
        offset ??= Number((await options.store.get(OFFSET_KEY)) ?? 0);
        const updates = await options.fetchUpdates(offset, signal);
        lastError = undefined;
        failures = 0;
        for (const update of updates) {
          await handleOne(update);
          offset = update.update_id + 1;
          await options.store.set(OFFSET_KEY, String(offset));
        }
      } catch (error) {
        if (signal.aborted) break;
        failures += 1;
        lastError = error instanceof Error ? error.message : String(error);
        const delayMs = backoff(failures, options.retryMinMs, options.retryMaxMs);
        logger.warn({ err: error, failures, delayMs }, 'Polling the platform failed; trying again');
        await sleep(delayMs, undefined, { signal }).catch(() => undefined);
      }
    }
  }

  async function handleOne(update: Update): Promise<void> {
    try {
      await options.handle(update);
    } catch (error) {
      // No retry can make a permanently bad update good: skip it rather than block the chat.
      // Anything else propagates, so the update is polled (and tried) again after a pause.
      if (!(error instanceof PermanentError)) throw error;
      logger.warn({ err: error, updateId: update.update_id }, 'Skipped a platform update that cannot be handled');
    }
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
      return lastError === undefined
        ? { ready: true }
        : { ready: false, detail: `Polling the platform failed: ${lastError}` };
    },
  };
}

/** Exponential backoff with jitter between `minMs` and `maxMs`, so restarts do not poll in step. */
function backoff(failures: number, minMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** (failures - 1));
  return Math.round(minMs + Math.random() * Math.max(0, ceiling - minMs));
}
