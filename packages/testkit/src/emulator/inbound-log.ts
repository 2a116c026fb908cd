/** The record of everything received on the inbound endpoints, and waiting for what is yet to come. */
import type { InboundKind, RecordedInbound } from './types.js';

const ACCEPTED = (record: RecordedInbound) => record.status >= 200 && record.status < 300;

interface Waiter {
  predicate: (record: RecordedInbound) => boolean;
  resolve: (record: RecordedInbound) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** Inbound requests in arrival order, and the waiters of {@link InboundLog.waitFor}. */
export class InboundLog {
  #records: RecordedInbound[] = [];
  readonly #waiters = new Set<Waiter>();

  add(record: RecordedInbound): void {
    this.#records.push(record);
    if (!ACCEPTED(record)) return;
    for (const waiter of this.#waiters) this.#offer(waiter, record);
  }

  /** Records in arrival order; accepted ones only unless `includeRejected`. */
  list(filter: { integrationId?: string; kind?: InboundKind; includeRejected?: boolean } = {}): RecordedInbound[] {
    return this.#records.filter(
      (record) =>
        (filter.includeRejected || ACCEPTED(record)) &&
        (filter.integrationId === undefined || record.integrationId === filter.integrationId) &&
        (filter.kind === undefined || record.kind === filter.kind),
    );
  }

  /** The first accepted record matching `predicate`, past or future; rejects after `timeoutMs`. */
  waitFor(predicate: (record: RecordedInbound) => boolean, timeoutMs: number): Promise<RecordedInbound> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`No matching inbound request arrived within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter = { predicate, resolve, reject, timer };
      this.#waiters.add(waiter);
      for (const record of this.list()) {
        if (!this.#waiters.has(waiter)) break;
        this.#offer(waiter, record);
      }
    });
  }

  /** Forgets the records; pending waiters keep waiting. */
  clear(): void {
    this.#records = [];
  }

  /** Rejects every pending waiter. */
  close(): void {
    for (const waiter of this.#waiters) this.#settle(waiter, () => waiter.reject(new Error('The Genesys emulator was closed')));
  }

  #offer(waiter: Waiter, record: RecordedInbound): void {
    let matches: boolean;
    try {
      matches = waiter.predicate(record);
    } catch (error) {
      this.#settle(waiter, () => waiter.reject(error instanceof Error ? error : new Error(String(error))));
      return;
    }
    if (matches) this.#settle(waiter, () => waiter.resolve(record));
  }

  #settle(waiter: Waiter, settle: () => void): void {
    clearTimeout(waiter.timer);
    this.#waiters.delete(waiter);
    settle();
  }
}
