/**
 * Multi-part sends that survive a retry. A connector may show one agent message as several
 * platform messages (a long text, several files, buttons after text); a delivery can fail after
 * some of them went out (a 429 on the third of four parts) and is then retried by the queue. The
 * platform ids of the parts already sent are kept in the connector's key-value store, so the
 * retry resumes after them and the customer never sees a part twice.
 */
import type { KeyValueStore } from './connector.js';
import type { SendResult } from './messages.js';

/** Long enough for every retry of one delivery (the queue gives up well within a day). */
const PROGRESS_TTL_MS = 24 * 60 * 60 * 1000;

/** The parts of one agent message sent so far. */
export interface SendProgress {
  /** Platform message ids of the parts already sent, in order: skip that many parts. */
  readonly sent: readonly string[];
  /** Records that the next part went out as `platformMessageId` (durably, for a message of several parts). */
  record(platformMessageId: string): Promise<void>;
  /** The delivery's result once every part is sent: the first part's id, and all of them. */
  result(): SendResult;
}

/**
 * Loads what a previous attempt sent of the message `genesysMessageId`, made of `parts` platform
 * messages. A one-part message keeps no progress (nothing to resume), so it costs no store access.
 *
 * @example
 * const progress = await loadSendProgress(context.store, message.id, steps.length);
 * for (const step of steps.slice(progress.sent.length)) await progress.record(await send(step));
 * return progress.result();
 */
export async function loadSendProgress(store: KeyValueStore, genesysMessageId: string, parts: number): Promise<SendProgress> {
  const key = `send-progress:${genesysMessageId}`;
  const kept = parts > 1;
  const sent = kept ? parseIds(await store.get(key)) : [];
  return {
    sent,
    async record(platformMessageId) {
      sent.push(platformMessageId);
      if (kept) await store.set(key, JSON.stringify(sent), { ttlMs: PROGRESS_TTL_MS });
    },
    result() {
      const [first] = sent;
      if (first === undefined) throw new Error(`No part of message ${genesysMessageId} was sent`);
      return { platformMessageId: first, platformMessageIds: [...sent] };
    },
  };
}

/** The stored ids; anything unreadable counts as nothing sent. */
function parseIds(raw: string | undefined): string[] {
  if (!raw) return [];
  try {
    const value: unknown = JSON.parse(raw);
    return Array.isArray(value) ? value.filter((id): id is string => typeof id === 'string') : [];
  } catch {
    return [];
  }
}
