/**
 * The connector contract (DESIGN §3). A connector package exports one {@link ConnectorDefinition};
 * the host validates its options, calls `create()` and drives the instance's lifecycle.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type {
  InboundEvent,
  OutboundAttachment,
  OutboundMessage,
  ReceiveResult,
  SendResult,
} from './messages.js';

/** What a connector can do, declared statically so it is readable without starting anything. */
export interface ConnectorCapabilities {
  /** How platform updates arrive. */
  inbound: Array<'polling' | 'webhook' | 'socket' | 'gateway'>;
  attachments: { inbound: boolean; outbound: boolean };
  typing: { inbound: boolean; outbound: boolean };
  /** Quick replies shown as native controls (else core renders them as numbered text). */
  quickReplies: boolean;
  /** Cards/carousels with buttons as native controls (else numbered text). */
  cards: boolean;
  /** Customer edits are forwarded (as a new message marked as an edit). */
  edits: boolean;
  /** The platform reports that the customer read a message. */
  readReceipts: boolean;
}

/** A node/express style request handler; `next(err)` reports an error to the host. */
export type WebhookHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/** A platform file, streamed to Genesys through `GET /media/{token}`. */
export interface MediaContent {
  body: Readable;
  mime?: string;
  sizeBytes?: number;
  filename?: string;
}

/** A file downloaded from a Genesys attachment URL, ready to upload to the platform. */
export interface DownloadedMedia {
  data: Buffer;
  mime: string;
  filename: string;
}

/**
 * Publishes platform files to Genesys without exposing platform credentials: `url(ref)` returns a
 * signed, expiring Parley URL; when Genesys fetches it the host calls the connector's
 * `openMedia(ref)` and streams the result.
 */
export interface MediaPublisher {
  url(ref: string, meta?: { mime?: string; filename?: string }): string;
}

/** A small persistent key-value store, namespaced per connector (offsets, cursors, caches). */
export interface KeyValueStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, options?: { ttlMs?: number }): Promise<void>;
  delete(key: string): Promise<void>;
}

export interface Counter {
  inc(labels?: Record<string, string>, value?: number): void;
}

export interface Histogram {
  observe(labels: Record<string, string>, value: number): void;
}

/** Metrics for a connector; every series gets a `connector` label with the connector id. */
export interface ConnectorMetrics {
  counter(name: string, help: string, labelNames?: string[]): Counter;
  histogram(name: string, help: string, labelNames?: string[], buckets?: number[]): Histogram;
}

/** What the host hands a connector. Connectors never read env and never call Genesys themselves. */
export interface ConnectorContext {
  /** The connector id from config (`connectors.<id>`): used in routes, logs and metrics. */
  id: string;
  /** `<publicUrl>/connectors/<id>/webhook`: where the platform should post updates. */
  webhookUrl: string;
  logger: Logger;
  metrics: ConnectorMetrics;
  store: KeyValueStore;
  media: MediaPublisher;
  /**
   * Hands a customer event to core. For messages and button responses it resolves once the event
   * is durably queued for Genesys (so a platform update may be acknowledged only after it).
   */
  receive(event: InboundEvent): Promise<ReceiveResult>;
  /** Downloads an agent attachment (size-limited; retries with the Genesys token on 401). */
  downloadAttachment(attachment: OutboundAttachment): Promise<DownloadedMedia>;
}

/** A running connector instance. `start` and `stop` are idempotent; stop before start is a no-op. */
export interface Connector {
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Delivers an agent message. Throw `RetryableError` (with `retryAfterMs` when the platform says)
   * or `PermanentError` (its message becomes the Failed receipt's text).
   */
  send(message: OutboundMessage): Promise<SendResult>;
  /** Shows the agent as typing to the customer `to`. */
  sendTyping?(to: string): Promise<void>;
  /** The platform's webhook, mounted at `POST /connectors/<id>/webhook` with the raw body unread. */
  webhook?: WebhookHandler;
  /** Opens a platform file published with `context.media.url(ref)`. */
  openMedia?(ref: string): Promise<MediaContent>;
  /** Readiness for `/readyz`; absent means ready once started. */
  readiness?(): { ready: boolean; detail?: string };
}

export interface ConnectorDefinition<Schema extends z.ZodType = z.ZodType> {
  /** Stable kebab-case name of the connector type, e.g. `telegram`. */
  name: string;
  /** Validates `connectors.<id>.options` from parley.yaml. */
  optionsSchema: Schema;
  capabilities: ConnectorCapabilities;
  /** Builds an instance. Does no I/O and reads no env: `start()` does the I/O. */
  create(options: z.output<Schema>, context: ConnectorContext): Connector;
}

/** Identity helper that keeps the options type inferred from the schema. */
export function defineConnector<Schema extends z.ZodType>(
  definition: ConnectorDefinition<Schema>,
): ConnectorDefinition<Schema> {
  return definition;
}

/** Whether a module export looks like a connector definition (used when loading packages). */
export function isConnectorDefinition(value: unknown): value is ConnectorDefinition {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<ConnectorDefinition>;
  return (
    typeof candidate.name === 'string' &&
    typeof candidate.create === 'function' &&
    typeof candidate.optionsSchema === 'object' &&
    candidate.optionsSchema !== null &&
    typeof candidate.capabilities === 'object'
  );
}
