/**
 * How Slack's events reach Bolt, and when Slack hears back.
 *
 * The rule that makes the connector lose nothing: Slack is acknowledged (HTTP 200, or the Socket
 * Mode envelope ack) only after Bolt's listeners finished, i.e. after `context.receive()`
 * resolved and the event is durably queued for Genesys. Bolt's own receivers acknowledge Events
 * API events before any listener runs (`App.processEvent` calls `ack()` first), so this module
 * brings its own: a Bolt custom receiver whose `ack` only records the answer, and two transports
 * that send that answer once `processEvent` has resolved:
 *
 * - http: the `webhook` handler the host mounts at `/connectors/<id>/webhook`. It reads the raw
 *   body and verifies Slack's `v0` signature and timestamp with Bolt's own functions, answers
 *   `url_verification` and `ssl_check`, and answers 500 when an event could not be queued, so
 *   Slack delivers it again (`X-Slack-Retry-Num`).
 * - socket: Socket Mode through Bolt's Socket Mode client (`@slack/socket-mode`, with its
 *   reconnects and pings); an envelope that could not be queued is left unacknowledged, so Slack
 *   redelivers it.
 *
 * A redelivered event is harmless: its platform message id is the same, and core drops the copy.
 *
 * Order: Slack sends events without waiting for earlier acknowledgements, and a listener may wait
 * for lookups (profiles, channel names) before it hands its event to core, so a later message
 * could be queued first. The receiver therefore notes each event's place in its conversation as it
 * arrives (`orderKey`); a listener gathers what it needs at once, then waits for the earlier
 * events of its conversation (`earlierEventsHandled`) before `receive()`. The lookups of a
 * conversation's events still overlap, so a message behind a slow one is answered within 3 s too.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HTTPModuleFunctions, MultipleListenerError, SocketModeReceiver, type App, type Logger as BoltLogger, type Receiver } from '@slack/bolt';
import { PermanentError, type Logger, type WebhookHandler } from '@parley/core';
import type { SlackClientOptions } from './api-client.js';
import { slackError } from './errors.js';

/** Where an event came from, for logs: Slack's retry counter and reason. */
export interface DeliveryMeta {
  retryNum?: number;
  retryReason?: string;
}

/** Whether Slack should be told the event was handled, and with which answer body. */
export type DispatchResult = { acknowledge: true; response?: unknown } | { acknowledge: false };

/** A Bolt receiver whose acknowledgement waits for the listeners. */
export interface DeferredAckReceiver extends Receiver {
  /** Runs `body` through Bolt; resolves once every listener finished (never rejects). */
  dispatch(body: Record<string, unknown>, meta: DeliveryMeta): Promise<DispatchResult>;
  /** Events `predicate` matches are acknowledged at once, without running Bolt. */
  skip(predicate: (body: Record<string, unknown>) => boolean): void;
  /** Resolves once no event is being processed. */
  idle(): Promise<void>;
}

/** The Bolt context property under which a listener finds the end of its conversation's earlier events. */
const EARLIER_EVENTS = 'parleyEarlierEvents';

/**
 * Resolves once the events of the same conversation that arrived before this listener's event
 * were handled (queued, skipped or failed); a listener awaits it right before `receive()`.
 */
export function earlierEventsHandled(context: Record<string, unknown>): Promise<void> {
  return (context[EARLIER_EVENTS] as Promise<void> | undefined) ?? Promise.resolve();
}

export function createDeferredAckReceiver(
  logger: Logger,
  /** The conversation of a body (events with the same key reach core in arrival order); undefined: no order. */
  orderKey: (body: Record<string, unknown>) => string | undefined = () => undefined,
): DeferredAckReceiver {
  let app: App | undefined;
  let skipped: (body: Record<string, unknown>) => boolean = () => false;
  const inFlight = new Set<Promise<DispatchResult>>();
  /** Per conversation, the last event dispatched: it settles once that event (and all before it) did. */
  const lastOfConversation = new Map<string, Promise<unknown>>();

  async function run(body: Record<string, unknown>, meta: DeliveryMeta, earlier: Promise<unknown>): Promise<DispatchResult> {
    if (!app) return { acknowledge: false };
    let response: unknown;
    try {
      await app.processEvent({
        body,
        ...(meta.retryNum !== undefined ? { retryNum: meta.retryNum } : {}),
        ...(meta.retryReason !== undefined ? { retryReason: meta.retryReason } : {}),
        customProperties: { [EARLIER_EVENTS]: earlier.then(() => undefined) },
        ack: async (answer?: unknown) => {
          response = answer;
        },
      });
      return { acknowledge: true, ...(response !== undefined && response !== '' ? { response } : {}) };
    } catch (error) {
      if (isPermanent(error)) {
        // No redelivery can make this event good; acknowledging stops Slack from trying.
        logger.warn({ err: error, eventId: body['event_id'] }, 'Skipped a Slack event that cannot be handled');
        return { acknowledge: true };
      }
      logger.warn(
        { err: error, eventId: body['event_id'], retryNum: meta.retryNum },
        'Could not queue a Slack event for Genesys; Slack will deliver it again',
      );
      return { acknowledge: false };
    }
  }

  return {
    init(boltApp) {
      app = boltApp;
    },
    // The transports below start and stop; Bolt's App.start() is never called.
    start: async () => undefined,
    stop: async () => undefined,
    skip(predicate) {
      skipped = predicate;
    },
    dispatch(body, meta) {
      // Skipped events never reach core, so they take no place in a conversation's order.
      if (skipped(body)) return Promise.resolve({ acknowledge: true });
      const key = orderKey(body);
      // run() never rejects, so a failed event does not hold up the conversation: its redelivery
      // comes after the events that followed it anyway.
      const earlier = key === undefined ? undefined : lastOfConversation.get(key);
      const task = run(body, meta, earlier ?? Promise.resolve());
      if (key !== undefined) {
        lastOfConversation.set(key, task);
        // Forget a quiet conversation, so the map holds only those with events in flight.
        void task.finally(() => {
          if (lastOfConversation.get(key) === task) lastOfConversation.delete(key);
        });
      }
      inFlight.add(task);
      void task.finally(() => inFlight.delete(task));
      return task;
    },
    async idle() {
      await Promise.allSettled([...inFlight]);
    },
  };
}

function isPermanent(error: unknown): boolean {
  if (error instanceof MultipleListenerError) return error.originals.every(isPermanent);
  return error instanceof PermanentError;
}

export interface WebhookOptions {
  receiver: DeferredAckReceiver;
  signingSecret: string;
  bodyLimitBytes: number;
  /** False before start() and after stop(): Slack then gets a 503 and tries again later. */
  ready(): boolean;
  logger: Logger;
}

/** The Events API and interactivity endpoint (http mode). */
export function createWebhookHandler(options: WebhookOptions): WebhookHandler {
  const { logger } = options;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return sendJson(res, 405, { error: 'Slack posts events with POST' });
    }
    let buffered: Awaited<ReturnType<typeof HTTPModuleFunctions.parseAndVerifyHTTPRequest>>;
    try {
      // Reads the exact bytes (nothing parsed them before) and checks signature and timestamp.
      buffered = await HTTPModuleFunctions.parseAndVerifyHTTPRequest(
        { enabled: true, signingSecret: options.signingSecret, bodyLimit: options.bodyLimitBytes },
        req,
      );
    } catch (error) {
      if (HTTPModuleFunctions.isRawBodyError(error)) {
        const status = (error as { statusCode: number }).statusCode;
        return sendJson(res, status, { error: status === 413 ? 'Body is over the size limit' : 'Could not read the body' });
      }
      logger.warn({ reason: error instanceof Error ? error.message : String(error) }, 'Rejected a request that is not signed by Slack');
      return sendJson(res, 401, { error: 'Invalid Slack signature' });
    }

    let body: Record<string, unknown>;
    try {
      body = HTTPModuleFunctions.parseHTTPRequestBody(buffered) as Record<string, unknown>;
    } catch {
      return sendJson(res, 400, { error: 'The body is not valid JSON or form data' });
    }
    if (typeof body !== 'object' || body === null) return sendJson(res, 400, { error: 'The body is not an object' });
    if (body['ssl_check']) return sendJson(res, 200, {});
    if (body['type'] === 'url_verification') return sendJson(res, 200, { challenge: body['challenge'] });
    if (body['type'] === 'app_rate_limited') {
      logger.warn({ minute: body['minute_rate_limited'] }, 'Slack rate-limited event delivery to this app for a minute');
      return sendJson(res, 200, {});
    }
    if (!options.ready()) return sendJson(res, 503, { error: 'Not connected to Slack yet' });

    const result = await options.receiver.dispatch(body, {
      ...optional('retryNum', HTTPModuleFunctions.extractRetryNumFromHTTPRequest(req)),
      ...optional('retryReason', HTTPModuleFunctions.extractRetryReasonFromHTTPRequest(req)),
    });
    if (!result.acknowledge) return sendJson(res, 500, { error: 'The event could not be queued; deliver it again' });
    HTTPModuleFunctions.buildContentResponse(res, result.response as string | Record<string, unknown> | undefined);
  }

  return (req, res, next) => {
    handle(req, res).catch(next);
  };
}

/** The webhook of a connector in socket mode: it takes no HTTP events, and says why. */
export const socketModeWebhook: WebhookHandler = (_req, res) => {
  sendJson(res, 404, { error: 'This Slack connector runs in socket mode: it takes no webhooks (check its mode option)' });
};

export interface SocketConnection {
  /** Opens the connection; resolves once Slack said hello. */
  start(): Promise<void>;
  /** Closes the connection and waits for events being handled. */
  stop(): Promise<void>;
  status(): { ready: boolean; detail?: string };
}

export interface SocketOptions {
  appToken: string;
  clientOptions: SlackClientOptions;
  boltLogger: BoltLogger;
  pingTimeoutMs: number;
  receiver: DeferredAckReceiver;
  logger: Logger;
}

/** Socket Mode: `apps.connections.open`, then envelopes over a WebSocket, each acknowledged after the enqueue. */
export function createSocketConnection(options: SocketOptions): SocketConnection {
  const { logger } = options;
  // Bolt's SocketModeReceiver builds the client; it is never given the App, so its own
  // (early-acknowledging) dispatch stays idle and the handler below does the work.
  const { client } = new SocketModeReceiver({
    appToken: options.appToken,
    logger: options.boltLogger,
    clientPingTimeout: options.pingTimeoutMs,
    autoReconnectEnabled: true,
    // A fresh object: the client writes its own retry settings into it.
    installerOptions: { clientOptions: { ...options.clientOptions } },
  });
  let state: 'idle' | 'connecting' | 'connected' | 'reconnecting' = 'idle';
  client.on('connected', () => {
    if (state === 'reconnecting') logger.info('Reconnected to Slack (Socket Mode)');
    state = 'connected';
  });
  client.on('reconnecting', () => {
    state = 'reconnecting';
    logger.warn('The Slack Socket Mode connection dropped; reconnecting');
  });
  client.on('slack_event', (envelope: SocketEnvelope) => {
    void handleEnvelope(envelope);
  });

  async function handleEnvelope(envelope: SocketEnvelope): Promise<void> {
    const acknowledge = (response?: unknown) =>
      envelope.ack(response).catch((error: unknown) => {
        // The socket closed before the ack: Slack redelivers the envelope, and core drops the copy.
        logger.warn({ err: error, type: envelope.type }, 'Could not acknowledge a Slack envelope');
      });
    if (envelope.type !== 'events_api' && envelope.type !== 'interactive') {
      // Slash commands and the like are not bridged; acknowledged so Slack does not retry them.
      return acknowledge();
    }
    const result = await options.receiver.dispatch(envelope.body, {
      ...optional('retryNum', envelope.retry_num),
      ...optional('retryReason', envelope.retry_reason || undefined),
    });
    if (result.acknowledge) await acknowledge(result.response);
  }

  return {
    async start() {
      state = 'connecting';
      try {
        await client.start();
      } catch (error) {
        state = 'idle';
        await client.disconnect().catch(() => undefined);
        throw slackError('apps.connections.open', error);
      }
    },
    async stop() {
      if (state !== 'idle') await client.disconnect();
      state = 'idle';
      await options.receiver.idle();
    },
    status() {
      if (state === 'connected') return { ready: true };
      return { ready: false, detail: state === 'reconnecting' ? 'Reconnecting to Slack (Socket Mode)' : 'Not connected to Slack' };
    },
  };
}

/** What the Socket Mode client emits as `slack_event`. */
interface SocketEnvelope {
  ack(response?: unknown): Promise<void>;
  type: string;
  body: Record<string, unknown>;
  retry_num?: number;
  retry_reason?: string;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
