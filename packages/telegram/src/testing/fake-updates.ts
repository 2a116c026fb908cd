/**
 * The fake's queue of updates for the bot, with Telegram's semantics: an update stays queued
 * until it is confirmed, by a getUpdates call with a higher offset or by a 2xx answer of the
 * webhook, so a bot that crashes between receiving and confirming gets it again.
 */
import type { Update } from 'grammy/types';

/** Most updates one getUpdates call returns (Telegram's limit). */
export const MAX_BATCH = 100;

/** The update types (`message`, `callback_query`, …): every key of an update but its id. */
export type UpdateType = Exclude<keyof Update, 'update_id'>;

/** The type of an update (`message`, `edited_message`, `callback_query`, …). */
export function updateTypeOf(update: Update): UpdateType | undefined {
  return (Object.keys(update) as Array<keyof Update>).find((key): key is UpdateType => key !== 'update_id');
}

/** The bot's pending updates, shared by getUpdates and the webhook delivery. */
export class UpdateQueue {
  // Telegram's ids are large and far from zero; a bot must not assume they start at 1.
  #nextId = 100_000_001;
  /** Not yet confirmed, by id; a Map keeps insertion order, which is id order. */
  readonly #pending = new Map<number, Update>();
  /** Every update ever queued, for `redeliver`. */
  readonly #history = new Map<number, Update>();
  readonly #listeners = new Set<() => void>();
  /** `allowed_updates` of the last getUpdates/setWebhook that named them; empty = the default set. */
  #allowed: UpdateType[] = [];

  /**
   * Queues a new update; `build` receives its `update_id`. Updates of a type the bot did not ask
   * for are dropped, as Telegram does. Wakes waiting polls and the webhook.
   */
  push<U extends Update>(build: (updateId: number) => U): U {
    const update = build(this.#nextId++);
    this.#history.set(update.update_id, update);
    const type = updateTypeOf(update);
    if (this.#allowed.length > 0 && type !== undefined && !this.#allowed.includes(type)) return update;
    this.#pending.set(update.update_id, update);
    for (const listener of [...this.#listeners]) listener();
    return update;
  }

  /**
   * Queues an already seen update again under a new id: what happens when Telegram is unsure
   * whether the bot got it. The payload (and so the message id) is unchanged.
   */
  redeliver(updateId: number): Update {
    const original = this.#history.get(updateId);
    if (!original) throw new Error(`No update ${updateId} was ever queued`);
    const { update_id: _old, ...payload } = original;
    return this.push((update_id) => ({ update_id, ...payload }) as Update);
  }

  /** Remembers `allowed_updates` when a call names them (Telegram keeps the last setting). */
  setAllowed(types: readonly string[] | undefined): void {
    if (types !== undefined) this.#allowed = [...types] as UpdateType[];
  }

  /**
   * getUpdates: confirms (forgets) every update below `offset`, then returns the next batch. A
   * negative offset returns the last `-offset` updates and forgets all before them.
   */
  take(offset: number, limit = MAX_BATCH): Update[] {
    const keepFrom = offset < 0 ? this.#pending.size + offset : 0;
    let index = 0;
    // Deleting the entry being visited is safe while iterating a Map.
    for (const id of this.#pending.keys()) {
      if ((offset > 0 && id < offset) || index++ < keepFrom) this.#pending.delete(id);
      else break;
    }
    const batch: Update[] = [];
    for (const update of this.#pending.values()) {
      if (batch.length >= Math.max(1, Math.min(limit, MAX_BATCH))) break;
      batch.push(update);
    }
    return batch;
  }

  /** Confirms one update (the webhook answered 2xx). */
  confirm(updateId: number): void {
    this.#pending.delete(updateId);
  }

  /** Forgets every pending update (`drop_pending_updates`). */
  dropAll(): void {
    this.#pending.clear();
  }

  /** Updates not confirmed yet, in id order. */
  pending(): Update[] {
    return [...this.#pending.values()];
  }

  /** The same, without a copy: for walking the queue while it is busy. */
  pendingValues(): IterableIterator<Update> {
    return this.#pending.values();
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Calls `listener` on every new update; returns the unsubscribe function. */
  onPush(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Resolves when a new update is pushed, after `timeoutMs`, or when `signal` aborts, whichever
   * comes first. Never rejects.
   */
  waitForPush(timeoutMs: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        unsubscribe();
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      const unsubscribe = this.onPush(done);
      signal.addEventListener('abort', done, { once: true });
      if (signal.aborted) done();
    });
  }
}
