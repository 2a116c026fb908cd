/**
 * The public shapes of the Genesys Open Messaging emulator. Field names inside bodies are
 * Genesys's own (research/genesys.md); everything else is the emulator's API.
 */
import type { Logger } from '@parley/core';

/** The four inbound Open Messaging endpoints, named after the last part of their path. */
export type InboundKind = 'message' | 'receipt' | 'event' | 'structured-response';

/** An endpoint a fault can target: the OAuth token endpoint, one inbound endpoint, or all of them. */
export type FaultEndpoint = 'token' | InboundKind | 'any';

/** An OAuth client (client-credentials grant). */
export interface EmulatorClient {
  clientId: string;
  clientSecret: string;
}

/** Genesys's outbound webhook policy (research/genesys.md §2.1). */
export interface WebhookPolicy {
  /** How long one POST may take before it counts as timed out. Genesys: 10000. */
  timeoutMs: number;
  /** Retries after the first attempt on timeout, 429 and 5xx. Genesys: 5. */
  retries: number;
  /** Pause between attempts. Genesys: 5000. */
  retryIntervalMs: number;
}

/** Options of {@link GenesysEmulator}; every one has a default. */
export interface GenesysEmulatorOptions {
  /** Default 0 (a random free port). */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Accepted OAuth clients; default one client, {@link GenesysEmulator.defaultClient}. */
  clients?: EmulatorClient[];
  /** `expires_in` of issued tokens; default 86400 (Genesys's default). */
  tokenLifetimeSeconds?: number;
  /** Overrides of Genesys's webhook policy (10000 ms timeout, 5 retries, 5000 ms apart). */
  webhook?: Partial<WebhookPolicy>;
  /**
   * A demo "echo agent". `true` answers every accepted inbound text message with
   * `You said: <text>`; a function is called for every accepted message and structured response
   * and may return the reply. Replies are delivered as signed webhooks.
   */
  autoReply?: boolean | ((inbound: RecordedInbound) => AgentMessage | undefined);
  logger?: Logger;
}

/** One request received on an inbound endpoint and what the emulator answered. */
export interface RecordedInbound {
  kind: InboundKind;
  integrationId: string;
  /** The parsed JSON body (undefined when it could not be parsed). */
  body: any;
  receivedAt: number;
  /** The HTTP status the emulator answered. */
  status: number;
  /** The body the emulator answered (message id etc., or a Genesys error body). */
  response: any;
  /** The Genesys message id assigned (accepted messages and structured responses). */
  messageId?: string;
  /** The conversation the request belongs to, when the emulator knows it. */
  conversationId?: string;
}

/** A Genesys conversation: one per (integration, customer id). */
export interface Conversation {
  id: string;
  integrationId: string;
  customerId: string;
  /** The customer's profile as last sent in `channel.from`. */
  customer: { id: string; nickname?: string; firstName?: string; lastName?: string };
}

/** An Open Messaging integration: where its outbound webhooks go and how they are signed. */
export interface Integration {
  id: string;
  /** Sent as `channel.from.nickname` on agent messages. */
  name: string;
  webhookUrl: string;
  webhookSecret: string;
}

/** The variable part of an outbound webhook body: what the agent (or a bot flow) sends. */
export interface AgentMessage {
  /** Default 'Text', or 'Structured' when `content` holds quick replies, cards or templates. */
  type?: 'Text' | 'Structured';
  text?: string;
  /** Open Messaging content items: Attachment, QuickReply, Card, Carousel, Notification. */
  content?: unknown[];
  /** Default 'Human'. */
  originatingEntity?: 'Human' | 'Bot';
}

/** One POST of an outbound webhook. */
export interface DeliveryAttempt {
  /** When the attempt started (epoch ms). */
  at: number;
  /** The receiver's HTTP status, when it answered. */
  status?: number;
  /** Why the attempt got no answer (timeout, connection refused…). */
  error?: string;
  durationMs: number;
}

/** How an outbound webhook ended; `status` is the last attempt's HTTP status, if it got one. */
export interface DeliveryOutcome {
  delivered: boolean;
  status?: number;
}

/** An outbound webhook and its attempts. */
export interface OutboundDelivery {
  /** The webhook body's `id`. */
  messageId: string;
  integrationId: string;
  conversationId: string;
  /** The exact JSON bytes sent (and signed) on every attempt. */
  body: string;
  attempts: DeliveryAttempt[];
  /** Settles when delivery succeeded (2xx) or Genesys's retry policy gave up. Never rejects. */
  done: Promise<DeliveryOutcome>;
  /** What `done` settled with; undefined while the delivery is pending. */
  outcome?: DeliveryOutcome;
}

/** A fault to inject into the next requests of one endpoint. */
export interface FaultSpec {
  endpoint: FaultEndpoint;
  /** 429, 500, 503…; omit it (with `delayMs`) for a slow but otherwise normal answer. */
  status?: number;
  /** Sent as `Retry-After` (seconds). */
  retryAfterSeconds?: number;
  /** Answer this late (for client timeouts). */
  delayMs?: number;
  /** How many requests the fault applies to; default 1. */
  times?: number;
}

/** A running emulator: its HTTP address, and in-process controls over what it records and sends. */
export interface GenesysEmulator {
  /** e.g. http://127.0.0.1:PORT: both the apiUrl and the loginUrl. */
  readonly url: string;
  /** The first configured OAuth client. */
  readonly defaultClient: EmulatorClient;
  /** Adds an integration, or replaces the one with the same id. */
  addIntegration(input: { id?: string; name?: string; webhookUrl: string; webhookSecret: string }): Integration;
  integrations(): Integration[];
  /** Everything received on the four inbound endpoints, in arrival order (accepted ones only, unless `includeRejected`). */
  inbound(filter?: { integrationId?: string; kind?: InboundKind; includeRejected?: boolean }): RecordedInbound[];
  /**
   * Resolves with the first accepted inbound matching `predicate` (checks past ones first);
   * rejects after `timeoutMs` (default 5000).
   */
  waitForInbound(predicate: (r: RecordedInbound) => boolean, timeoutMs?: number): Promise<RecordedInbound>;
  conversations(): Conversation[];
  conversationFor(integrationId: string, customerId: string): Conversation | undefined;
  agent: {
    /** Sends an agent message into a conversation as a signed outbound webhook (with retries). */
    send(conversationId: string, message: AgentMessage): Promise<OutboundDelivery>;
    sendText(conversationId: string, text: string): Promise<OutboundDelivery>;
    /** Sends a typing event (`duration` in ms, default 5000). */
    sendTyping(conversationId: string, durationMs?: number): Promise<OutboundDelivery>;
  };
  /** All outbound webhook deliveries and their attempts. */
  deliveries(): OutboundDelivery[];
  faults: {
    /** The next `times` (default 1) requests to `endpoint` fail like Genesys would. */
    inject(fault: FaultSpec): void;
    /** Invalidates every token issued so far: the next API call gets 401. */
    expireTokens(): void;
    clear(): void;
  };
  /** Forgets recorded traffic, conversations, deliveries (cancelling pending ones) and faults; integrations and tokens stay. */
  reset(): void;
  close(): Promise<void>;
}
