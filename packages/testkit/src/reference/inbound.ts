/**
 * Platform updates → Parley inbound events. Pure functions: no I/O, so every mapping rule is
 * visible in one place and testable on its own.
 */
import { mediaTypeOf } from '@parley/core';
import type { Customer, InboundButtonResponse, InboundMessage, InboundTyping, MediaPublisher } from '@parley/core';
import type { ButtonPressPayload, MessageUpdatePayload, PlatformChat, PlatformUser, TypingPayload } from './protocol.js';

/**
 * Customer ids carry the chat id (`ref:<chatId>`), so the Genesys reply's `channel.to.id` routes
 * back to the chat with no lookup, and survives a lost or reset store.
 */
const CUSTOMER_PREFIX = 'ref:';

/** The Genesys customer id (`channel.from.id`) of a chat. */
export function customerIdOf(chatId: string): string {
  return `${CUSTOMER_PREFIX}${chatId}`;
}

/** The chat of a customer id, or undefined when the id was not made by this connector. */
export function chatIdOf(customerId: string): string | undefined {
  if (!customerId.startsWith(CUSTOMER_PREFIX)) return undefined;
  const chatId = customerId.slice(CUSTOMER_PREFIX.length);
  return chatId.length > 0 ? chatId : undefined;
}

/**
 * The id of a platform message. Message ids count per chat (as on Telegram), so only the pair is
 * unique; it is stable across redeliveries, which makes it the dedupe key core needs.
 */
export function platformMessageIdOf(chatId: string, messageId: number): string {
  return `${chatId}:${messageId}`;
}

/** The customer as Genesys sees them: the routing id plus the platform profile. */
export function toCustomer(chat: PlatformChat, from: PlatformUser): Customer {
  return {
    id: customerIdOf(chat.id),
    nickname: from.name,
    ...(from.firstName ? { firstName: from.firstName } : {}),
    ...(from.lastName ? { lastName: from.lastName } : {}),
  };
}

function customAttributesOf(from: PlatformUser): Record<string, string> | undefined {
  return from.language ? { language: from.language } : undefined;
}

/**
 * A customer message. Its file is published through `media`: Genesys fetches it from a signed,
 * expiring Parley URL, because the platform's own file URL needs the bot token.
 * Returns undefined for a message with neither text nor file (nothing to forward).
 */
export function messageToInbound(message: MessageUpdatePayload, media: MediaPublisher): InboundMessage | undefined {
  if (!message.text && !message.file) return undefined;
  const attributes = customAttributesOf(message.from);
  return {
    kind: 'message',
    platformMessageId: platformMessageIdOf(message.chat.id, message.id),
    customer: toCustomer(message.chat, message.from),
    ...(message.text ? { text: message.text } : {}),
    ...(message.file
      ? {
          attachments: [
            {
              mediaType: mediaTypeOf(message.file.mime),
              url: media.url(message.file.fileId, { mime: message.file.mime, filename: message.file.filename }),
              mime: message.file.mime,
              filename: message.file.filename,
              sizeBytes: message.file.size,
            },
          ],
        }
      : {}),
    ...(attributes ? { customAttributes: attributes } : {}),
    time: new Date(message.date * 1000),
  };
}

/** Which Genesys message a bot message with buttons came from; stored when the buttons are sent. */
export interface ButtonOrigin {
  genesysMessageId: string;
  type: 'QuickReply' | 'Button';
}

/**
 * A button press. With its origin known it becomes a Genesys structured response; without (the
 * buttons predate the store, or were not sent through Parley) the label goes as plain text,
 * which bot flows matching on text still understand.
 */
export function buttonPressToInbound(
  press: ButtonPressPayload,
  origin: ButtonOrigin | undefined,
): InboundButtonResponse | InboundMessage {
  const attributes = customAttributesOf(press.from);
  const common = {
    customer: toCustomer(press.chat, press.from),
    ...(attributes ? { customAttributes: attributes } : {}),
  };
  if (!origin) {
    return { kind: 'message', platformMessageId: `callback:${press.callbackId}`, text: press.text, ...common };
  }
  return {
    kind: 'button-response',
    // The callback id is unique per press and stable across redeliveries of the same press.
    platformMessageId: press.callbackId,
    originatingMessageId: origin.genesysMessageId,
    type: origin.type,
    text: press.text,
    payload: press.payload,
    ...common,
  };
}

/** The customer is typing: forwarded best effort, never stored. */
export function typingToInbound(typing: TypingPayload): InboundTyping {
  return { kind: 'typing', customer: toCustomer(typing.chat, typing.from) };
}
