/**
 * Discord messages, typing and button presses → Parley inbound events. Pure functions over
 * discord.js structures: no I/O, so every mapping rule is visible in one place. The same mapping
 * serves messages from the gateway and messages fetched from the channel history (catch-up).
 */
import { markEdited, mediaTypeOf } from '@parley/core';
import type {
  Customer,
  InboundAttachment,
  InboundButtonResponse,
  InboundMessage,
  InboundTyping,
  MediaPublisher,
} from '@parley/core';
import type { Attachment, Embed, Message, PartialUser, User } from 'discord.js';
import type { Place } from './addresses.js';

const QUOTE_LENGTH = 200;

/** Where a customer wrote and what Genesys should know about it. */
export interface Origin {
  customerId: string;
  place: Place;
  guildName?: string;
  channelName?: string;
  threadName?: string;
}

/** Whether a message is one Parley never forwards: the bot's own, another bot's, a webhook's, a system message. */
export function isIgnorable(message: Message): boolean {
  return message.author.bot || message.webhookId !== null || message.system;
}

/** The customer as Genesys sees them: the routing id, the display name and the avatar. */
export function toCustomer(customerId: string, user: User | PartialUser, displayName?: string): Customer {
  const image = user.avatarURL();
  // A partial user (typing from an uncached DM) may have no name yet: the id still tells them apart.
  const nickname = displayName ?? user.displayName ?? user.id;
  return { id: customerId, nickname, ...(image ? { image } : {}) };
}

/**
 * The media reference of a Discord attachment, served by `openMedia`. Discord's CDN links expire,
 * so the reference names the message and the attachment and a fresh link is fetched when Genesys
 * asks for the file.
 */
export function mediaRefOf(channelId: string, messageId: string, attachmentId: string): string {
  return `${channelId}/${messageId}/${attachmentId}`;
}

/** The parts of a media reference, or undefined when it is not one. */
export function parseMediaRef(ref: string): { channelId: string; messageId: string; attachmentId: string } | undefined {
  const match = /^(\d+)\/(\d+)\/(\d+)$/.exec(ref);
  return match ? { channelId: match[1]!, messageId: match[2]!, attachmentId: match[3]! } : undefined;
}

function customAttributesOf(message: Message, origin: Origin): Record<string, string> {
  const { place } = origin;
  const attributes: Record<string, string> = {
    discordUserId: message.author.id,
    discordUsername: message.author.username,
  };
  if (place.guildId) {
    attributes['discordGuildId'] = place.guildId;
    if (origin.guildName) attributes['discordGuildName'] = origin.guildName;
    attributes['discordChannelId'] = place.parentId ?? place.channelId;
    if (origin.channelName) attributes['discordChannelName'] = origin.channelName;
    const threadId = place.parentId ? place.channelId : place.customerThreadId;
    if (threadId) attributes['discordThreadId'] = threadId;
    if (origin.threadName) attributes['discordThreadName'] = origin.threadName;
  }
  if (message.reference?.messageId) attributes['discordReplyToMessageId'] = message.reference.messageId;
  return attributes;
}

/**
 * What the agent reads: a quote of the message replied to, the text with mentions made readable,
 * stickers and embeds as lines of text.
 */
export function readableText(message: Message): string {
  const lines: string[] = [];
  const quoted = message.reference?.messageId ? message.channel.messages?.cache.get(message.reference.messageId) : undefined;
  if (quoted && quoted.content) {
    const name = quoted.member?.displayName ?? quoted.author.displayName;
    lines.push(`> ${name}: ${oneLine(quoted.content, QUOTE_LENGTH)}`);
  }
  const content = message.content ? message.cleanContent : '';
  if (content) lines.push(content);
  for (const sticker of message.stickers.values()) lines.push(`[Sticker: ${sticker.name}]`);
  for (const embed of message.embeds) {
    const text = embedText(embed, content);
    if (text) lines.push(text);
  }
  return lines.join('\n');
}

function embedText(embed: Embed, content: string): string | undefined {
  // A link preview repeats what the customer wrote: only embeds that add text are worth reading.
  if (!embed.title && !embed.description && embed.fields.length === 0) return undefined;
  if (embed.url && content.includes(embed.url) && !embed.description) return undefined;
  const lines = [
    embed.title ? `[Embed] ${embed.title}` : '[Embed]',
    embed.description,
    ...embed.fields.map((field) => `${field.name}: ${field.value}`),
    embed.url && !content.includes(embed.url) ? embed.url : undefined,
  ];
  return lines.filter(Boolean).join('\n');
}

function oneLine(text: string, maxLength: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= maxLength ? flat : `${flat.slice(0, maxLength - 1)}…`;
}

function toAttachment(message: Message, attachment: Attachment, media: MediaPublisher): InboundAttachment {
  const mime = attachment.contentType?.split(';')[0]?.trim() || 'application/octet-stream';
  return {
    mediaType: mediaTypeOf(mime),
    url: media.url(mediaRefOf(message.channelId, message.id, attachment.id), { mime, filename: attachment.name }),
    mime,
    filename: attachment.name,
    sizeBytes: attachment.size,
  };
}

/**
 * A customer message. Open Messaging takes one attachment per message, so a Discord message with
 * several files becomes several Genesys messages: the text with the first file, then one per
 * further file. Each has its own id derived from the Discord message id, stable across gateway
 * redeliveries and history fetches (core's dedupe key). Empty messages map to nothing.
 */
export function messageToInbound(message: Message, origin: Origin, media: MediaPublisher): InboundMessage[] {
  const text = readableText(message);
  const attachments = [...message.attachments.values()].map((attachment) => toAttachment(message, attachment, media));
  if (!text && attachments.length === 0) return [];
  const common = {
    kind: 'message' as const,
    customer: toCustomer(origin.customerId, message.author, message.member?.displayName),
    customAttributes: customAttributesOf(message, origin),
    time: message.createdAt,
  };
  const [first, ...rest] = attachments;
  return [
    { ...common, platformMessageId: message.id, ...(text ? { text } : {}), ...(first ? { attachments: [first] } : {}) },
    ...rest.map((attachment, index) => ({ ...common, platformMessageId: `${message.id}:${index + 1}`, attachments: [attachment] })),
  ];
}

/**
 * A customer edit, forwarded as a new message marked "(edited)". Its id includes the edit time, so
 * each edit is forwarded once however often the gateway repeats it.
 */
export function editToInbound(message: Message, origin: Origin): InboundMessage | undefined {
  const editedAt = message.editedAt;
  const text = readableText(message);
  if (!editedAt || !text) return undefined;
  return {
    kind: 'message',
    platformMessageId: `${message.id}:edit:${editedAt.getTime()}`,
    customer: toCustomer(origin.customerId, message.author, message.member?.displayName),
    text: markEdited(text),
    customAttributes: { ...customAttributesOf(message, origin), discordEditedMessageId: message.id },
    time: editedAt,
  };
}

/** Which Genesys message a bot message with buttons came from; stored when the buttons are sent. */
export interface ButtonOrigin {
  genesysMessageId: string;
  type: 'QuickReply' | 'Button';
  /** Label and full payload per custom id (a custom id holds at most 100 characters). */
  buttons: Record<string, { text: string; payload: string }>;
}

/** A press of a Parley button, as the interaction reports it. */
export interface ButtonPress {
  interactionId: string;
  customId: string;
  /** The label of the pressed button, when the interaction's message shows it. */
  label?: string;
  /** The payload carried by the custom id (possibly cut short). */
  payload: string;
  customer: Customer;
  customAttributes?: Record<string, string>;
  time: Date;
}

/**
 * A button press. With its origin known it becomes a Genesys structured response; without (the
 * buttons predate the store) the label goes as plain text, which bot flows matching on text
 * still understand.
 */
export function buttonPressToInbound(
  press: ButtonPress,
  origin: ButtonOrigin | undefined,
): InboundButtonResponse | InboundMessage {
  const known = origin?.buttons[press.customId];
  const text = known?.text ?? press.label ?? press.payload;
  const common = {
    customer: press.customer,
    time: press.time,
    ...(press.customAttributes ? { customAttributes: press.customAttributes } : {}),
  };
  if (!origin) return { kind: 'message', platformMessageId: `interaction:${press.interactionId}`, text, ...common };
  return {
    kind: 'button-response',
    // The interaction id is unique per press.
    platformMessageId: press.interactionId,
    originatingMessageId: origin.genesysMessageId,
    type: origin.type,
    text,
    payload: known?.payload ?? press.payload,
    ...common,
  };
}

/** The customer is typing: forwarded best effort, never stored. */
export function typingToInbound(customer: Customer, time: Date): InboundTyping {
  return { kind: 'typing', customer, time };
}
