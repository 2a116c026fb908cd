/**
 * What Genesys does with a valid inbound body: threads it into the customer's conversation and
 * answers with the normalized message it created (research/genesys.md §3).
 */
import type {
  InboundEventBody,
  InboundMessageBody,
  InboundReceiptBody,
  InboundStructuredResponseBody,
} from '@parley/core';
import type { ConversationBook } from './conversations.js';
import { newMessageId } from './ids.js';
import type { InboundKind } from './types.js';

/** The emulator's answer to an accepted inbound request. */
export interface Accepted {
  response: Record<string, unknown>;
  /** The Genesys message id assigned (messages and structured responses). */
  messageId?: string;
  conversationId?: string;
}

/** What applying an inbound body needs to know beyond the body. */
export interface AcceptContext {
  integrationId: string;
  conversations: ConversationBook;
  /** The conversation of an outbound message, for receipts. */
  conversationOfOutbound(messageId: string): string | undefined;
  /** `?prefetchConversationId=true` on the message endpoint. */
  prefetchConversationId: boolean;
}

/** Applies a body that passed validation for `kind`. */
export function acceptInbound(kind: InboundKind, body: unknown, context: AcceptContext): Accepted {
  switch (kind) {
    case 'message':
      return acceptMessage(body as InboundMessageBody, context);
    case 'receipt':
      return acceptReceipt(body as InboundReceiptBody, context);
    case 'event':
      return acceptEvent(body as InboundEventBody, context);
    case 'structured-response':
      return acceptStructuredResponse(body as InboundStructuredResponseBody, context);
  }
}

function acceptMessage(body: InboundMessageBody, context: AcceptContext): Accepted {
  const { conversation } = context.conversations.open(context.integrationId, body.channel.from);
  const id = newMessageId();
  const response = {
    id,
    channel: echoChannel(body.channel, context.integrationId),
    type: 'Text',
    ...(body.text !== undefined ? { text: body.text } : {}),
    ...(body.content !== undefined ? { content: body.content } : {}),
    ...(body.metadata !== undefined ? { metadata: body.metadata } : {}),
    direction: 'Inbound',
    // Genesys creates the conversation asynchronously and only names it when asked to.
    ...(context.prefetchConversationId ? { conversationId: conversation.id } : {}),
  };
  return { response, messageId: id, conversationId: conversation.id };
}

function acceptReceipt(body: InboundReceiptBody, context: AcceptContext): Accepted {
  const response = {
    id: body.id,
    channel: echoChannel(body.channel, context.integrationId),
    type: 'Receipt',
    status: body.status,
    ...(body.reasons !== undefined ? { reasons: body.reasons } : {}),
    ...(body.isFinalReceipt !== undefined ? { isFinalReceipt: body.isFinalReceipt } : {}),
    direction: 'Outbound',
  };
  const conversationId = context.conversationOfOutbound(body.id);
  return { response, ...(conversationId !== undefined ? { conversationId } : {}) };
}

function acceptEvent(body: InboundEventBody, context: AcceptContext): Accepted {
  const response = {
    id: newMessageId(),
    channel: echoChannel(body.channel, context.integrationId),
    type: 'Event',
    events: body.events,
    direction: 'Inbound',
  };
  // Typing alone does not open a conversation.
  const conversation = context.conversations.find(context.integrationId, body.channel.from.id);
  return { response, ...(conversation ? { conversationId: conversation.id } : {}) };
}

function acceptStructuredResponse(body: InboundStructuredResponseBody, context: AcceptContext): Accepted {
  const { conversation } = context.conversations.open(context.integrationId, body.channel.from);
  const id = newMessageId();
  const response = {
    id,
    channel: echoChannel(body.channel, context.integrationId),
    type: 'Structured',
    text: body.buttonResponse.text,
    content: [{ contentType: 'ButtonResponse', buttonResponse: body.buttonResponse }],
    originatingMessageId: body.originatingMessageId,
    direction: 'Inbound',
  };
  return { response, messageId: id, conversationId: conversation.id };
}

/** The request's channel as Genesys echoes it: completed with the integration and platform. */
function echoChannel(channel: object, integrationId: string): Record<string, unknown> {
  return { ...channel, id: integrationId, platform: 'Open', type: 'Private' };
}
