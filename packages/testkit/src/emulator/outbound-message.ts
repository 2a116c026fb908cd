/**
 * Builds outbound webhook bodies in the "Outbound Open NormalizedMessage Format"
 * (research/genesys.md §1.2, §1.4): what Genesys POSTs when an agent or a bot writes.
 */
import { newMessageId } from './ids.js';
import type { AgentMessage, Conversation, Integration } from './types.js';

/** Genesys's limit for agent text on Open Messaging (`outbound.webmessaging.and.open.messaging.characters.max`). */
export const AGENT_TEXT_MAX_CHARS = 4000;

/** Content types that make a message `Structured` rather than `Text`. */
const STRUCTURED_CONTENT = new Set(['QuickReply', 'QuickReplyV2', 'Card', 'Carousel', 'Notification', 'ListPicker', 'DatePicker']);

/** An outbound webhook body: a normalized message whose `id` is the Genesys message id. */
export type WebhookBody = { id: string } & Record<string, unknown>;

/** Where an outbound message goes. */
export interface OutboundTarget {
  integration: Integration;
  conversation: Conversation;
}

/** Throws when Genesys would not let an agent send `message`. */
export function assertSendable(message: AgentMessage): void {
  const text = message.text ?? '';
  const hasContent = Array.isArray(message.content) && message.content.length > 0;
  if (text.length === 0 && !hasContent) throw new Error('An agent message needs text or content');
  if (text.length > AGENT_TEXT_MAX_CHARS) {
    throw new Error(`Genesys limits agent text to ${AGENT_TEXT_MAX_CHARS} characters (got ${text.length})`);
  }
}

/** The webhook body of an agent (or bot) message. */
export function agentMessageBody(target: OutboundTarget, message: AgentMessage, now = new Date()): WebhookBody {
  const id = newMessageId();
  return {
    id,
    channel: channel(target, id, now),
    conversationId: target.conversation.id,
    type: message.type ?? inferType(message.content),
    ...(message.text !== undefined ? { text: message.text } : {}),
    ...(message.content !== undefined ? { content: message.content } : {}),
    direction: 'Outbound',
    originatingEntity: message.originatingEntity ?? 'Human',
  };
}

/** The webhook body of an agent typing indicator (the official example quoted in COMM-typing). */
export function typingEventBody(target: OutboundTarget, durationMs: number, now = new Date()): WebhookBody {
  const id = newMessageId();
  return {
    id,
    channel: channel(target, id, now),
    conversationId: target.conversation.id,
    type: 'Event',
    events: [{ eventType: 'Typing', typing: { type: 'On', duration: durationMs } }],
    direction: 'Outbound',
  };
}

function channel({ integration, conversation }: OutboundTarget, id: string, now: Date): Record<string, unknown> {
  return {
    id: integration.id,
    platform: 'Open',
    type: 'Private',
    messageId: id,
    to: { id: conversation.customerId, idType: 'Opaque' },
    from: { nickname: integration.name, id: integration.id, idType: 'Opaque' },
    time: now.toISOString(),
  };
}

function inferType(content: unknown[] | undefined): 'Text' | 'Structured' {
  const structured = content?.some(
    (item) => typeof item === 'object' && item !== null && STRUCTURED_CONTENT.has(String((item as { contentType?: unknown }).contentType)),
  );
  return structured ? 'Structured' : 'Text';
}
