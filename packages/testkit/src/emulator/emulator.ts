/**
 * The Genesys Open Messaging emulator: OAuth, the inbound API, signed outbound webhooks with
 * Genesys's retry policy, and an agent to reply, on one local HTTP port.
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { silentLogger, type Logger } from '@parley/core';
import { controlApi } from './control-api.js';
import { ConversationBook } from './conversations.js';
import { applyFault, FaultPlan } from './faults.js';
import { errorAnswer } from './genesys-errors.js';
import { sendAnswer } from './http.js';
import { newUuid } from './ids.js';
import { inboundApi } from './inbound-api.js';
import { InboundLog } from './inbound-log.js';
import { TokenStore } from './oauth.js';
import { WebhookDispatcher } from './webhook-delivery.js';
import { agentMessageBody, assertSendable, typingEventBody, type OutboundTarget } from './outbound-message.js';
import type {
  AgentMessage,
  Conversation,
  EmulatorClient,
  FaultSpec,
  GenesysEmulator,
  GenesysEmulatorOptions,
  InboundKind,
  Integration,
  OutboundDelivery,
  RecordedInbound,
  WebhookPolicy,
} from './types.js';

/** The OAuth client every emulator accepts unless told otherwise. */
export const DEFAULT_EMULATOR_CLIENT: EmulatorClient = {
  clientId: 'parley-emulator',
  clientSecret: 'parley-emulator-secret',
};

/** Genesys's webhook policy: 10 s timeout, 5 retries, 5 s apart (research/genesys.md §2.1). */
export const GENESYS_WEBHOOK_POLICY: WebhookPolicy = { timeoutMs: 10_000, retries: 5, retryIntervalMs: 5_000 };

const DEFAULT_TOKEN_LIFETIME_SECONDS = 86_400;
const DEFAULT_TYPING_DURATION_MS = 5_000;
const DEFAULT_WAIT_MS = 5_000;

/** Starts an emulator listening on `options.host:options.port` (default 127.0.0.1, a random port). */
export async function startGenesysEmulator(options: GenesysEmulatorOptions = {}): Promise<GenesysEmulator> {
  const emulator = new EmulatorServer(options);
  await emulator.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  return emulator;
}

/** The emulator behind {@link startGenesysEmulator}: state, routes and the HTTP server. */
class EmulatorServer implements GenesysEmulator {
  readonly defaultClient: EmulatorClient;
  readonly #logger: Logger;
  readonly #autoReply: GenesysEmulatorOptions['autoReply'];
  readonly #tokens: TokenStore;
  readonly #faults = new FaultPlan();
  readonly #integrations = new Map<string, Integration>();
  readonly #conversations = new ConversationBook();
  readonly #inbound = new InboundLog();
  readonly #webhooks: WebhookDispatcher;
  readonly #shutdown = new AbortController();
  readonly #app: express.Express;
  #server: Server | undefined;
  #url = '';
  #closing: Promise<void> | undefined;

  constructor(options: GenesysEmulatorOptions) {
    const clients = options.clients && options.clients.length > 0 ? options.clients : [DEFAULT_EMULATOR_CLIENT];
    this.defaultClient = clients[0] ?? DEFAULT_EMULATOR_CLIENT;
    this.#logger = (options.logger ?? silentLogger()).child({ component: 'genesys-emulator' });
    this.#autoReply = options.autoReply;
    this.#tokens = new TokenStore(clients, options.tokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS);
    this.#webhooks = new WebhookDispatcher(
      {
        timeoutMs: options.webhook?.timeoutMs ?? GENESYS_WEBHOOK_POLICY.timeoutMs,
        retries: options.webhook?.retries ?? GENESYS_WEBHOOK_POLICY.retries,
        retryIntervalMs: options.webhook?.retryIntervalMs ?? GENESYS_WEBHOOK_POLICY.retryIntervalMs,
      },
      this.#logger,
    );
    this.#app = this.#createApp();
  }

  get url(): string {
    return this.#url;
  }

  async listen(port: number, host: string): Promise<void> {
    const server = this.#app.listen(port, host);
    await once(server, 'listening');
    this.#server = server;
    const address = server.address() as AddressInfo;
    this.#url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
    this.#logger.debug({ url: this.#url }, 'Genesys emulator listening');
  }

  addIntegration(input: { id?: string; name?: string; webhookUrl: string; webhookSecret: string }): Integration {
    const integration: Integration = {
      id: input.id ?? newUuid(),
      name: input.name ?? 'Parley Emulator',
      webhookUrl: input.webhookUrl,
      webhookSecret: input.webhookSecret,
    };
    this.#integrations.set(integration.id, integration);
    this.#logger.debug({ integrationId: integration.id, name: integration.name, webhookUrl: integration.webhookUrl }, 'integration added');
    return { ...integration };
  }

  integrations(): Integration[] {
    return [...this.#integrations.values()].map((integration) => ({ ...integration }));
  }

  inbound(filter?: { integrationId?: string; kind?: InboundKind; includeRejected?: boolean }): RecordedInbound[] {
    return this.#inbound.list(filter);
  }

  waitForInbound(predicate: (r: RecordedInbound) => boolean, timeoutMs = DEFAULT_WAIT_MS): Promise<RecordedInbound> {
    return this.#inbound.waitFor(predicate, timeoutMs);
  }

  conversations(): Conversation[] {
    return this.#conversations.list().map(copyConversation);
  }

  conversationFor(integrationId: string, customerId: string): Conversation | undefined {
    const conversation = this.#conversations.find(integrationId, customerId);
    return conversation && copyConversation(conversation);
  }

  readonly agent = {
    send: async (conversationId: string, message: AgentMessage): Promise<OutboundDelivery> => {
      const target = this.#target(conversationId);
      assertSendable(message);
      return this.#webhooks.enqueue(target, agentMessageBody(target, message));
    },
    sendText: (conversationId: string, text: string): Promise<OutboundDelivery> => this.agent.send(conversationId, { text }),
    sendTyping: async (conversationId: string, durationMs = DEFAULT_TYPING_DURATION_MS): Promise<OutboundDelivery> => {
      const target = this.#target(conversationId);
      return this.#webhooks.enqueue(target, typingEventBody(target, durationMs));
    },
  };

  deliveries(): OutboundDelivery[] {
    return this.#webhooks.list();
  }

  readonly faults = {
    inject: (fault: FaultSpec): void => {
      this.#faults.inject(fault);
      this.#logger.debug({ fault }, 'fault injected');
    },
    expireTokens: (): void => {
      this.#tokens.expireAll();
      this.#logger.debug('all tokens expired');
    },
    clear: (): void => this.#faults.clear(),
  };

  reset(): void {
    this.#inbound.clear();
    this.#conversations.clear();
    this.#faults.clear();
    this.#webhooks.reset();
    this.#logger.debug('emulator reset');
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#shutdown.abort();
    this.#inbound.close();
    const server = this.#server;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    }
    await this.#webhooks.close();
    this.#logger.debug('Genesys emulator closed');
  }

  #target(conversationId: string): OutboundTarget {
    const conversation = this.#conversations.get(conversationId);
    if (!conversation) throw new Error(`Unknown conversation ${conversationId}`);
    const integration = this.#integrations.get(conversation.integrationId);
    if (!integration) throw new Error(`Conversation ${conversationId} belongs to unknown integration ${conversation.integrationId}`);
    return { conversation, integration };
  }

  #createApp(): express.Express {
    const app = express();
    app.disable('x-powered-by');
    app.post('/oauth/token', express.urlencoded({ extended: false, limit: '16kb' }), async (req, res) => {
      const fault = this.#faults.take('token');
      const failure = fault && (await applyFault(fault, this.#shutdown.signal));
      const answer = failure ?? this.#tokens.tokenRequest(req.headers.authorization, req.body as Record<string, unknown> | undefined);
      this.#logger.debug({ status: answer.status }, 'token request');
      sendAnswer(res, answer);
    });
    app.use(
      inboundApi({
        tokens: this.#tokens,
        faults: this.#faults,
        integration: (id) => this.#integrations.get(id),
        conversations: this.#conversations,
        conversationOfOutbound: (messageId) => this.#webhooks.find(messageId)?.conversationId,
        log: this.#inbound,
        logger: this.#logger,
        shutdown: this.#shutdown.signal,
        onAccepted: (record) => this.#replyTo(record),
      }),
    );
    app.use('/emulator', controlApi(this));
    app.use((req, res) => sendAnswer(res, errorAnswer(404, `No route ${req.method} ${req.path}`)));
    app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
      // A request cut short by close() has nobody left to answer.
      if (this.#shutdown.signal.aborted || res.headersSent) return void res.destroy();
      // body-parser errors (e.g. an oversized token request) carry their 4xx status.
      const status = (error as { status?: unknown }).status;
      if (typeof status === 'number' && status >= 400 && status < 500) return sendAnswer(res, errorAnswer(status));
      this.#logger.error({ err: error, method: req.method, path: req.path }, 'emulator error');
      sendAnswer(res, errorAnswer(500));
    });
    return app;
  }

  /** The demo echo agent: answers an accepted inbound request when `autoReply` is on. */
  #replyTo(record: RecordedInbound): void {
    const autoReply = this.#autoReply;
    const conversationId = record.conversationId;
    if (!autoReply || conversationId === undefined || this.#shutdown.signal.aborted) return;
    if (record.kind !== 'message' && record.kind !== 'structured-response') return;
    let reply: AgentMessage | undefined;
    try {
      reply = autoReply === true ? echo(record) : autoReply(record);
    } catch (error) {
      this.#logger.error({ err: error, conversationId }, 'autoReply threw');
      return;
    }
    if (!reply) return;
    this.agent.send(conversationId, reply).catch((error: unknown) => {
      this.#logger.warn({ err: error, conversationId }, 'autoReply could not be sent');
    });
  }
}

/** `autoReply: true`: echoes inbound text messages. */
function echo(record: RecordedInbound): AgentMessage | undefined {
  const text: unknown = record.kind === 'message' ? record.body?.text : undefined;
  return typeof text === 'string' && text.length > 0 ? { text: `You said: ${text}` } : undefined;
}

function copyConversation(conversation: Conversation): Conversation {
  return { ...conversation, customer: { ...conversation.customer } };
}
