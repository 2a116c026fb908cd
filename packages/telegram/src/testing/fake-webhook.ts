/**
 * Update delivery to a webhook set with setWebhook, the way Telegram does it: each update is
 * POSTed as JSON with the secret in `X-Telegram-Bot-Api-Secret-Token`; a 2xx answer confirms it,
 * anything else (or no answer) makes the fake try again later. Updates of one chat go one at a
 * time and in order; different chats in parallel, up to `max_connections`.
 */
import { Agent, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Update } from 'grammy/types';
import type { UpdateQueue } from './fake-updates.js';

/** Where setWebhook pointed the fake. */
export interface WebhookTarget {
  url: string;
  secretToken?: string;
  maxConnections: number;
}

/** What getWebhookInfo reports about delivery. */
export interface WebhookStatus {
  lastErrorDate?: number;
  lastErrorMessage?: string;
  /** Delivery attempts, successful or not. */
  attempts: number;
}

/** Delivers the pending updates to the webhook while one is set. */
export class WebhookDelivery {
  #target: WebhookTarget | undefined;
  readonly #inFlight = new Set<number>();
  readonly #inFlightChats = new Set<string>();
  readonly #retryAt = new Map<number, number>();
  readonly #agent = new Agent({ keepAlive: true });
  readonly #status: WebhookStatus = { attempts: 0 };
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    private readonly queue: UpdateQueue,
    private readonly options: { retryMs: number; timeoutMs: number },
  ) {
    queue.onPush(() => this.#pump());
  }

  get target(): WebhookTarget | undefined {
    return this.#target;
  }

  get status(): WebhookStatus {
    return { ...this.#status };
  }

  /** Starts delivering to `target` (or stops, with undefined). */
  set(target: WebhookTarget | undefined): void {
    this.#target = target;
    this.#retryAt.clear();
    if (target) this.#pump();
  }

  close(): void {
    this.#closed = true;
    this.#target = undefined;
    if (this.#timer) clearTimeout(this.#timer);
    this.#agent.destroy();
  }

  #pump(): void {
    const target = this.#target;
    if (!target || this.#closed) return;
    const now = Date.now();
    const waitingChats = new Set<string>();
    let nextRetry = Number.POSITIVE_INFINITY;
    for (const update of this.queue.pendingValues()) {
      if (this.#inFlight.size >= target.maxConnections) break;
      const chat = chatKeyOf(update);
      // Only the oldest pending update of a chat may go: order within a chat is kept.
      if (waitingChats.has(chat)) continue;
      waitingChats.add(chat);
      if (this.#inFlight.has(update.update_id) || this.#inFlightChats.has(chat)) continue;
      const retryAt = this.#retryAt.get(update.update_id) ?? 0;
      if (retryAt > now) {
        nextRetry = Math.min(nextRetry, retryAt);
        continue;
      }
      this.#deliver(target, update, chat);
    }
    if (Number.isFinite(nextRetry)) {
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = setTimeout(() => this.#pump(), Math.max(1, nextRetry - now));
    }
  }

  #deliver(target: WebhookTarget, update: Update, chat: string): void {
    this.#inFlight.add(update.update_id);
    this.#inFlightChats.add(chat);
    this.#status.attempts += 1;
    void post(target, update, this.#agent, this.options.timeoutMs).then((failure) => {
      this.#inFlight.delete(update.update_id);
      this.#inFlightChats.delete(chat);
      if (this.#target !== target) return void this.#pump();
      if (failure === undefined) {
        this.#retryAt.delete(update.update_id);
        this.queue.confirm(update.update_id);
      } else {
        this.#status.lastErrorDate = Math.floor(Date.now() / 1000);
        this.#status.lastErrorMessage = failure;
        this.#retryAt.set(update.update_id, Date.now() + this.options.retryMs);
      }
      this.#pump();
    });
  }
}

/** Posts one update; resolves with undefined on 2xx, else with what went wrong. Never rejects. */
function post(target: WebhookTarget, update: Update, agent: Agent, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const body = Buffer.from(JSON.stringify(update));
    const secure = target.url.startsWith('https:');
    const request = (secure ? httpsRequest : httpRequest)(target.url, {
      method: 'POST',
      ...(secure ? {} : { agent }),
      timeout: timeoutMs,
      headers: {
        'content-type': 'application/json',
        'content-length': String(body.length),
        ...(target.secretToken ? { 'x-telegram-bot-api-secret-token': target.secretToken } : {}),
      },
    });
    request.on('timeout', () => request.destroy(new Error('Read timeout expired')));
    request.on('error', (error) => resolve(error.message || 'Connection refused'));
    request.on('response', (response) => {
      response.resume();
      const status = response.statusCode ?? 0;
      resolve(status >= 200 && status < 300 ? undefined : `Wrong response from the webhook: ${status} ${response.statusMessage ?? ''}`.trim());
    });
    request.end(body);
  });
}

function chatKeyOf(update: Update): string {
  const chat = (update.message ?? update.edited_message ?? update.callback_query?.message)?.chat.id;
  return chat === undefined ? `update:${update.update_id}` : `chat:${chat}`;
}
