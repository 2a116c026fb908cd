/**
 * Delivers outbound webhooks the way Genesys does (research/genesys.md §2.1): signed with
 * `X-Hub-Signature-256`, retried on timeout, 429 and 5xx a fixed interval apart, given up on any
 * other non-2xx. Every attempt sends the very same bytes and signature. Deliveries of one
 * conversation go out one at a time, in order, so tests can reason about ordering.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { SIGNATURE_HEADER, signGenesysBody, type Logger } from '@parley/core';
import type { OutboundTarget, WebhookBody } from './outbound-message.js';
import type { DeliveryAttempt, DeliveryOutcome, OutboundDelivery, WebhookPolicy } from './types.js';

/** Sends, retries and records outbound webhooks. */
export class WebhookDispatcher {
  readonly #policy: WebhookPolicy;
  readonly #logger: Logger;
  /** Our own connection pool, so closing the emulator closes its sockets too. */
  readonly #http = new Agent();
  #deliveries: OutboundDelivery[] = [];
  /** Per conversation: the promise of its last queued delivery. */
  #queues = new Map<string, Promise<unknown>>();
  /** Aborted by reset() and close(): stops in-flight attempts and pending retries. */
  #cancel = new AbortController();

  constructor(policy: WebhookPolicy, logger: Logger) {
    this.#policy = policy;
    this.#logger = logger;
  }

  /** Signs `body` and queues it behind the conversation's earlier deliveries. */
  enqueue(target: OutboundTarget, body: WebhookBody): OutboundDelivery {
    const bytes = JSON.stringify(body);
    const signature = signGenesysBody(bytes, target.integration.webhookSecret);
    let settle: (outcome: DeliveryOutcome) => void = () => undefined;
    const delivery: OutboundDelivery = {
      messageId: body.id,
      integrationId: target.integration.id,
      conversationId: target.conversation.id,
      body: bytes,
      attempts: [],
      done: new Promise<DeliveryOutcome>((resolve) => (settle = resolve)),
    };
    this.#deliveries.push(delivery);

    const queues = this.#queues;
    const cancel = this.#cancel.signal;
    const previous = queues.get(delivery.conversationId) ?? Promise.resolve();
    const current = previous.then(async () => {
      const outcome = await this.#deliver(delivery, target.integration.webhookUrl, signature, cancel);
      delivery.outcome = outcome;
      settle(outcome);
    });
    queues.set(delivery.conversationId, current);
    void current.then(() => {
      if (queues.get(delivery.conversationId) === current) queues.delete(delivery.conversationId);
    });
    return delivery;
  }

  list(): OutboundDelivery[] {
    return [...this.#deliveries];
  }

  /** The delivery whose webhook body had this id. */
  find(messageId: string): OutboundDelivery | undefined {
    return this.#deliveries.find((delivery) => delivery.messageId === messageId);
  }

  /** Cancels pending deliveries (they settle undelivered) and forgets all of them. */
  reset(): void {
    this.#cancel.abort();
    this.#cancel = new AbortController();
    this.#queues = new Map();
    this.#deliveries = [];
  }

  async close(): Promise<void> {
    const pending = [...this.#queues.values()];
    this.#cancel.abort();
    await Promise.all(pending);
    await this.#http.destroy();
  }

  async #deliver(delivery: OutboundDelivery, url: string, signature: string, cancel: AbortSignal): Promise<DeliveryOutcome> {
    const log = this.#logger.child({
      messageId: delivery.messageId,
      integrationId: delivery.integrationId,
      conversationId: delivery.conversationId,
      url,
    });
    const { retries, retryIntervalMs } = this.#policy;
    let last: DeliveryAttempt | undefined;
    for (let attempt = 0; attempt <= retries && !cancel.aborted; attempt++) {
      if (attempt > 0) {
        try {
          await sleep(retryIntervalMs, undefined, { signal: cancel });
        } catch {
          break;
        }
      }
      last = await this.#post(url, delivery.body, signature, cancel);
      delivery.attempts.push(last);
      const { status } = last;
      if (status !== undefined && status >= 200 && status < 300) {
        log.info({ status, attempts: delivery.attempts.length }, 'webhook delivered');
        return { delivered: true, status };
      }
      if (status !== undefined && !isRetryable(status)) {
        log.info({ status, attempts: delivery.attempts.length }, 'webhook failed: the receiver rejected it (not retried)');
        return { delivered: false, status };
      }
      log.debug({ status, error: last.error, attempt: attempt + 1 }, 'webhook attempt failed');
    }
    log.info(
      { status: last?.status, error: last?.error, attempts: delivery.attempts.length },
      cancel.aborted ? 'webhook cancelled' : 'webhook failed: retries exhausted',
    );
    return { delivered: false, ...(last?.status !== undefined ? { status: last.status } : {}) };
  }

  async #post(url: string, body: string, signature: string, cancel: AbortSignal): Promise<DeliveryAttempt> {
    const at = Date.now();
    const timeout = AbortSignal.timeout(this.#policy.timeoutMs);
    try {
      const response = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signature },
        body,
        signal: AbortSignal.any([timeout, cancel]),
        dispatcher: this.#http,
      });
      await response.body.dump();
      return { at, status: response.statusCode, durationMs: Date.now() - at };
    } catch (error) {
      const reason = cancel.aborted
        ? 'cancelled'
        : timeout.aborted
          ? `timed out after ${this.#policy.timeoutMs} ms`
          : error instanceof Error
            ? error.message
            : String(error);
      return { at, error: reason, durationMs: Date.now() - at };
    }
  }
}

/** Genesys retries a webhook on 429 and on any 5xx. */
function isRetryable(status: number): boolean {
  return status === 429 || status >= 500;
}
