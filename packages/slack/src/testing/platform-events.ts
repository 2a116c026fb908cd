/**
 * How the Slack fake delivers events to the app, the way Slack does:
 *
 * - Events API over HTTP: a JSON POST to the Request URL, signed with the signing secret
 *   (`X-Slack-Signature: v0=hex(hmac_sha256(secret, "v0:" + ts + ":" + body))`,
 *   `X-Slack-Request-Timestamp`). No 2xx within the ack timeout (3 s at Slack) → retried up to
 *   three times with `X-Slack-Retry-Num` and `X-Slack-Retry-Reason`. Interactivity (button
 *   presses) is form-encoded `payload=<json>`, signed the same way, and never retried.
 * - Socket Mode: `apps.connections.open` hands out a one-time ws:// URL; after `hello`, events
 *   travel as envelopes (`events_api`, `interactive`) that the app acknowledges with
 *   `{"envelope_id": …}`. An envelope not acknowledged in time is sent again with
 *   `retry_attempt` + 1.
 *
 * Retries reuse the event id: a correct app turns them into no-ops.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { WebSocket, WebSocketServer } from 'ws';

/** `v0=<hex>`: Slack's request signature over `v0:<timestamp>:<raw body>`. */
export function signSlackRequest(signingSecret: string, timestampSeconds: number, body: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestampSeconds}:${body}`).digest('hex')}`;
}

/** One try of a delivery. */
export interface DeliveryAttempt {
  retryNum: number;
  /** HTTP status of the app's answer (http mode). */
  status?: number;
  /** Why the try failed: `http_timeout`, `http_error`, `connection_failed`, `timeout` (socket), `no_connection`. */
  error?: string;
}

/** What became of one event or interactivity payload. */
export interface Delivery {
  /** The Events API event id; undefined for interactivity. */
  eventId?: string;
  /** Whether the app acknowledged it (HTTP 2xx or an envelope ack). */
  acked: boolean;
  attempts: DeliveryAttempt[];
  /** The app's answer: the HTTP body (parsed when JSON) or the ack payload. */
  response?: unknown;
}

export interface EventSenderOptions {
  mode: 'http' | 'socket';
  signingSecret: string;
  ackTimeoutMs: number;
  /** Pause before each retry; its length is the number of retries. */
  retryDelaysMs: number[];
  requestUrl(): string | undefined;
  socket: SocketModeServer;
  /** Aborted when the fake closes: pending retries and waits end at once. */
  signal: AbortSignal;
}

/** Delivers events and interactivity payloads with Slack's retry behaviour. */
export class EventSender {
  readonly #options: EventSenderOptions;
  readonly #agent = new Agent({ keepAliveTimeout: 1000 });

  constructor(options: EventSenderOptions) {
    this.#options = options;
  }

  /** Delivers an `event_callback` envelope; `firstRetryNum` > 0 makes it arrive as a retry. */
  async deliverEvent(envelope: { event_id: string }, firstRetryNum = 0): Promise<Delivery> {
    const delivery: Delivery = { eventId: envelope.event_id, acked: false, attempts: [] };
    const delays = this.#options.retryDelaysMs;
    let reason: string | undefined = firstRetryNum > 0 ? 'http_timeout' : undefined;
    for (let retryNum = firstRetryNum; retryNum <= delays.length; retryNum++) {
      if (retryNum > firstRetryNum) {
        if (!(await this.#pause(delays[retryNum - 1] ?? 0))) break;
      }
      const attempt = await this.#attempt('events_api', envelope, retryNum, reason);
      delivery.attempts.push(attempt.attempt);
      if (attempt.acked) {
        delivery.acked = true;
        if (attempt.response !== undefined) delivery.response = attempt.response;
        break;
      }
      reason = attempt.attempt.error;
      if (this.#options.signal.aborted) break;
    }
    return delivery;
  }

  /** Delivers an interactivity payload (a button press): one try, as Slack does. */
  async deliverInteractive(payload: object): Promise<Delivery> {
    const attempt = await this.#attempt('interactive', payload, 0, undefined);
    return { acked: attempt.acked, attempts: [attempt.attempt], ...(attempt.response !== undefined ? { response: attempt.response } : {}) };
  }

  /**
   * Posts a signed body to the Request URL once, with full control over the headers, for tests
   * of the app's verification: a wrong `secret`, an old `timestamp`, a missing signature (`null`).
   */
  async postSigned(input: {
    body: string;
    contentType?: string;
    url?: string;
    secret?: string;
    timestamp?: number;
    signature?: string | null;
    headers?: Record<string, string>;
  }): Promise<{ status: number; body: string }> {
    const url = input.url ?? this.#options.requestUrl();
    if (!url) throw new Error('The Slack fake has no Request URL: call setRequestUrl() first');
    const timestamp = input.timestamp ?? Math.floor(Date.now() / 1000);
    const signature =
      input.signature === undefined ? signSlackRequest(input.secret ?? this.#options.signingSecret, timestamp, input.body) : input.signature;
    const timeout = deadline(this.#options.ackTimeoutMs, this.#options.signal);
    try {
      const response = await request(url, {
        method: 'POST',
        dispatcher: this.#agent,
        headers: {
          'content-type': input.contentType ?? 'application/json',
          ...(signature !== null ? { 'x-slack-signature': signature, 'x-slack-request-timestamp': String(timestamp) } : {}),
          ...input.headers,
        },
        body: input.body,
        signal: timeout.signal,
      });
      return { status: response.statusCode, body: await response.body.text() };
    } finally {
      timeout.clear();
    }
  }

  async close(): Promise<void> {
    await this.#agent.destroy();
  }

  async #attempt(
    type: 'events_api' | 'interactive',
    payload: object,
    retryNum: number,
    reason: string | undefined,
  ): Promise<{ acked: boolean; attempt: DeliveryAttempt; response?: unknown }> {
    if (this.#options.mode === 'socket') {
      const answer = await this.#options.socket.deliver({
        envelope_id: randomUUID(),
        payload,
        type,
        accepts_response_payload: type === 'interactive',
        ...(type === 'events_api' ? { retry_attempt: retryNum, retry_reason: reason ?? '' } : {}),
      }, this.#options.ackTimeoutMs, this.#options.signal);
      if (answer.acked) return { acked: true, attempt: { retryNum }, response: answer.payload };
      return { acked: false, attempt: { retryNum, error: answer.error } };
    }

    const interactive = type === 'interactive';
    const body = interactive ? new URLSearchParams({ payload: JSON.stringify(payload) }).toString() : JSON.stringify(payload);
    try {
      const answer = await this.postSigned({
        body,
        contentType: interactive ? 'application/x-www-form-urlencoded' : 'application/json',
        headers: retryNum > 0 ? { 'x-slack-retry-num': String(retryNum), 'x-slack-retry-reason': reason ?? 'http_error' } : {},
      });
      const ok = answer.status >= 200 && answer.status < 300;
      return {
        acked: ok,
        attempt: { retryNum, status: answer.status, ...(ok ? {} : { error: 'http_error' }) },
        ...(ok && answer.body ? { response: parseMaybeJson(answer.body) } : {}),
      };
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      return { acked: false, attempt: { retryNum, error: timedOut ? 'http_timeout' : 'connection_failed' } };
    }
  }

  /** Waits `ms`; false when the fake closed meanwhile. */
  async #pause(ms: number): Promise<boolean> {
    try {
      await sleep(ms, undefined, { signal: this.#options.signal });
      return true;
    } catch {
      return false;
    }
  }
}

function parseMaybeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The envelope of one Socket Mode message from Slack to the app. */
export interface SocketEnvelope {
  envelope_id: string;
  payload: object;
  type: string;
  accepts_response_payload: boolean;
  retry_attempt?: number;
  retry_reason?: string;
}

/** Slack's side of Socket Mode: one-time connection tickets, hello, envelopes and their acks. */
export class SocketModeServer {
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #tickets = new Set<string>();
  readonly #open: WebSocket[] = [];
  readonly #acks = new Map<string, (payload: unknown) => void>();
  readonly #connectionWaiters = new Set<() => void>();
  readonly #appId: string;
  #next = 0;
  #connectionsEver = 0;

  constructor(appId: string) {
    this.#appId = appId;
  }

  /** A one-time ticket for the URL `apps.connections.open` returns. */
  issueTicket(): string {
    const ticket = randomBytes(12).toString('hex');
    this.#tickets.add(ticket);
    return ticket;
  }

  /** Takes over an HTTP upgrade to `/link/?ticket=…`; answers 401 for an unknown ticket. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const ticket = url.searchParams.get('ticket') ?? '';
    if (url.pathname !== '/link/' || !this.#tickets.delete(ticket)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws));
  }

  /** Open connections now. */
  connections(): number {
    return this.#open.length;
  }

  /** Connections accepted since the start (a reconnect counts again). */
  connectionsEver(): number {
    return this.#connectionsEver;
  }

  /** Asks every connected app to reconnect, as Slack does before recycling a server. */
  requestReconnect(reason = 'refresh_requested'): void {
    for (const ws of this.#open) ws.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'slack-fake' } }));
  }

  /** Drops every connection without a goodbye (a network failure). */
  dropConnections(): void {
    for (const ws of [...this.#open]) ws.terminate();
  }

  /** Sends an envelope to one open connection (round robin) and waits for its ack. */
  async deliver(
    envelope: SocketEnvelope,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<{ acked: true; payload: unknown } | { acked: false; error: string }> {
    const ws = this.#pick() ?? (await this.#waitForConnection(timeoutMs, signal));
    if (!ws) return { acked: false, error: 'no_connection' };
    const acked = new Promise<unknown>((resolve) => this.#acks.set(envelope.envelope_id, resolve));
    ws.send(JSON.stringify(envelope));
    const timeout = deadline(timeoutMs, signal);
    const gone = new Promise<typeof TIMED_OUT>((resolve) => {
      if (timeout.signal.aborted) resolve(TIMED_OUT);
      timeout.signal.addEventListener('abort', () => resolve(TIMED_OUT), { once: true });
    });
    const answer = await Promise.race([acked, gone]);
    timeout.clear();
    this.#acks.delete(envelope.envelope_id);
    return answer === TIMED_OUT ? { acked: false, error: 'timeout' } : { acked: true, payload: answer };
  }

  close(): void {
    for (const wake of [...this.#connectionWaiters]) wake();
    for (const ws of [...this.#open]) ws.terminate();
    this.#wss.close();
  }

  #accept(ws: WebSocket): void {
    this.#open.push(ws);
    this.#connectionsEver += 1;
    ws.on('message', (data) => {
      let message: { envelope_id?: unknown; payload?: unknown };
      try {
        message = JSON.parse(String(data)) as typeof message;
      } catch {
        return;
      }
      if (typeof message.envelope_id === 'string') this.#acks.get(message.envelope_id)?.(message.payload ?? {});
    });
    ws.on('close', () => {
      const index = this.#open.indexOf(ws);
      if (index >= 0) this.#open.splice(index, 1);
    });
    ws.on('error', () => ws.terminate());
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.#open.length,
        debug_info: { host: 'slack-fake', build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: this.#appId },
      }),
    );
    for (const wake of [...this.#connectionWaiters]) wake();
  }

  #pick(): WebSocket | undefined {
    const open = this.#open.filter((ws) => ws.readyState === WebSocket.OPEN);
    if (open.length === 0) return undefined;
    this.#next = (this.#next + 1) % open.length;
    return open[this.#next];
  }

  async #waitForConnection(timeoutMs: number, signal: AbortSignal): Promise<WebSocket | undefined> {
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    this.#connectionWaiters.add(wake);
    const timer = setTimeout(wake, timeoutMs);
    signal.addEventListener('abort', wake, { once: true });
    await woken;
    clearTimeout(timer);
    signal.removeEventListener('abort', wake);
    this.#connectionWaiters.delete(wake);
    return signal.aborted ? undefined : this.#pick();
  }
}

const TIMED_OUT = Symbol('timed out');

/**
 * A signal that aborts when `parent` does or `ms` have passed; `clear` stops the timer. Not
 * `AbortSignal.any([parent, AbortSignal.timeout(ms)])`: on Node 20 the combined signal holds its
 * sources weakly, and a timeout signal nothing else references can be garbage-collected before it
 * fires, so under GC pressure the deadline silently never came (a flaky "Slack timed out" test).
 */
function deadline(ms: number, parent: AbortSignal): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(parent.reason);
  const timer = setTimeout(() => controller.abort(new DOMException(`No answer within ${ms} ms`, 'TimeoutError')), ms);
  if (parent.aborted) onAbort();
  else parent.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    clear() {
      clearTimeout(timer);
      parent.removeEventListener('abort', onAbort);
    },
  };
}
