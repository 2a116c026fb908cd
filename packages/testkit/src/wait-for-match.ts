/**
 * What every platform fake's `waitForSent` does: resolve with the first matching item, whether it
 * is already there or arrives later, or give up after a while.
 */

export interface WaitForMatchOptions<T> {
  /** The matching item among those seen so far, if any. */
  find(): T | undefined;
  /** Calls `wake` whenever a new item may have arrived; returns the unsubscribe function. */
  subscribe(wake: () => void): () => void;
  timeoutMs: number;
  /** Names the item in the timeout error, e.g. `bot message`. */
  what: string;
}

/**
 * Resolves with `find()`'s item as soon as there is one; rejects with `No matching <what> within
 * <timeoutMs> ms` otherwise.
 *
 * @example
 * waitForMatch({ find: () => state.sent().find(predicate), subscribe: (wake) => state.onSent(wake), timeoutMs, what: 'bot message' });
 */
export function waitForMatch<T>(options: WaitForMatchOptions<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const found = options.find();
      if (found === undefined) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(found);
    };
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`No matching ${options.what} within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    const unsubscribe = options.subscribe(check);
    check();
  });
}
