/**
 * The platform-neutral messages that cross the connector boundary. Connectors never see Genesys
 * payloads: core maps the Open Messaging webhook to an {@link OutboundMessage} and maps an
 * {@link InboundEvent} to the Open Messaging inbound API.
 */
import type { GenesysReasonCode } from './errors.js';

/** Open Messaging media types. */
export type MediaType = 'Image' | 'Video' | 'Audio' | 'File';

/** The Open Messaging media type of a MIME type: anything not a picture, film or sound is a File. */
export function mediaTypeOf(mime: string | undefined): MediaType {
  const family = mime?.split('/')[0]?.toLowerCase();
  if (family === 'image') return 'Image';
  if (family === 'video') return 'Video';
  if (family === 'audio') return 'Audio';
  return 'File';
}

/**
 * The customer as Genesys sees them. `id` is the platform address that routes a reply back
 * with no lookup (DESIGN §4), e.g. `tg:123456`, `slack:T1:C1:1700000000.0001`, `discord:dm:42`.
 */
export interface Customer {
  id: string;
  nickname?: string;
  firstName?: string;
  lastName?: string;
  email?: string;
  image?: string;
}

/** A file the customer sent, reachable by Genesys at `url` (a Parley media URL for private files). */
export interface InboundAttachment {
  mediaType: MediaType;
  url: string;
  mime: string;
  filename?: string;
  sizeBytes?: number;
}

/** A customer message. `platformMessageId` is stable across redeliveries: it is the dedupe key. */
export interface InboundMessage {
  kind: 'message';
  platformMessageId: string;
  customer: Customer;
  text?: string;
  attachments?: InboundAttachment[];
  /** Becomes `channel.metadata.customAttributes` (participant data in Genesys). */
  customAttributes?: Record<string, string>;
  /** When the customer sent it; defaults to now. */
  time?: Date;
}

/** A press of a button or quick reply that Genesys sent (a Genesys structured response). */
export interface InboundButtonResponse {
  kind: 'button-response';
  /** Stable id of the press (e.g. Telegram callback_query id): the dedupe key. */
  platformMessageId: string;
  customer: Customer;
  /** The Genesys message the button belonged to. */
  originatingMessageId: string;
  type: 'Button' | 'QuickReply';
  text: string;
  payload: string;
  customAttributes?: Record<string, string>;
  time?: Date;
}

/** The customer is typing. Best effort: not stored, not retried. */
export interface InboundTyping {
  kind: 'typing';
  customer: Customer;
  time?: Date;
}

export type InboundEvent = InboundMessage | InboundButtonResponse | InboundTyping;

export interface ReceiveResult {
  /** True when the same platformMessageId was received before: nothing new was queued. */
  duplicate: boolean;
}

/** A file the agent sent. Download it with `context.downloadAttachment()`. */
export interface OutboundAttachment {
  mediaType: MediaType | 'Link';
  url: string;
  mime?: string;
  filename?: string;
  sizeBytes?: number;
  text?: string;
}

export interface QuickReply {
  text: string;
  payload: string;
}

export type CardAction =
  | { type: 'link'; text: string; url: string }
  | { type: 'postback'; text: string; payload: string };

export interface Card {
  title: string;
  description?: string;
  imageUrl?: string;
  actions: CardAction[];
}

/**
 * What an agent (or a Genesys bot flow) sent to the customer. Quick replies, cards and carousels
 * are flattened here so every connector maps the same shape to its native controls.
 */
export interface OutboundMessage {
  /** Genesys message id: the idempotency key of this delivery and the id receipts refer to. */
  id: string;
  /** The customer address (the webhook's `channel.to.id`) to deliver to. */
  to: string;
  text?: string;
  attachments: OutboundAttachment[];
  quickReplies: QuickReply[];
  /** A single card, or the cards of a carousel, in order. */
  cards: Card[];
  originatingEntity?: 'Human' | 'Bot';
  /** The Genesys conversation, when the webhook named it. */
  conversationId?: string;
}

/** What a successful `send` returns. */
export interface SendResult {
  /** Id of the (first) platform message created; recorded against the Genesys message id. */
  platformMessageId: string;
  /** All platform messages, when the connector split the message (long text, several files). */
  platformMessageIds?: string[];
}

/** A Failed receipt's reason, as sent to Genesys. */
export interface FailureReason {
  code: GenesysReasonCode;
  message: string;
}

/**
 * How a customer's edit reads in Genesys, which has no edit: a new message with the new text,
 * marked so the agent reads it as a correction. The same marker on every channel; an edit that
 * only swapped a file has no text, and still reads as an edit.
 */
export function markEdited(text: string): string {
  return text ? `(edited) ${text}` : '(edited)';
}
