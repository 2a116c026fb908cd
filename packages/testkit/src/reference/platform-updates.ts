/**
 * The update queue of the reference platform, with Telegram's `getUpdates` semantics: updates stay
 * queued until a later poll passes an offset above their id, so a bot that crashes between
 * receiving and confirming gets them again instead of losing them.
 */
import type { Update } from './protocol.js';

/** Most updates one poll returns (Telegram's limit). */
const MAX_BATCH = 100;

/** The platform's queue of updates for the bot, with `getUpdates` offset semantics. */
export class UpdateQueue {
  #nextId = 1;
  /** Delivered-but-unconfirmed and not-yet-delivered updates, in id order. */
  #pending: Update[] = [];
  /** Every update ever queued, for `redeliver`. */
  readonly #history = new Map<number, Update>();
  readonly #waiters = new Set<() => void>();

  /** Queues a new update; `build` receives its `update_id`. Wakes every waiting poll. */
  push<U extends Update>(build: (updateId: number) => U): U {
    const update = build(this.#nextId++);
    this.#pending.push(update);
    this.#history.set(update.update_id, update);
    for (const wake of [...this.#waiters]) wake();
    return update;
  }

  /**
   * Queues an already seen update again under a new id: what a platform does when it is unsure
   * whether the bot got it. The payload (and so the message id) is unchanged.
   */
  redeliver(updateId: number): Update {
    const original = this.#history.get(updateId);
    if (!original) throw new Error(`No update ${updateId} was ever queued`);
    const { update_id: _old, ...payload } = original;
    return this.push((update_id) => ({ update_id, ...payload }) as Update);
  }

  /** Forgets every update below `offset`, then returns the next batch from `offset` on. */
  take(offset: number): Update[] {
    this.#pending = this.#pending.filter((update) => update.update_id >= offset);
    return this.#pending.slice(0, MAX_BATCH);
  }

  /** Updates not confirmed yet. */
  pending(): Update[] {
    return [...this.#pending];
  }

  /**
   * Resolves when a new update is pushed, after `timeoutMs`, or when `signal` aborts, whichever
   * comes first. Never rejects.
   */
  waitForPush(timeoutMs: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
      if (signal.aborted) done();
    });
  }
}
