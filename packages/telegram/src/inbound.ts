/**
 * Telegram updates → Parley inbound events. Pure functions: no I/O, so every mapping rule is
 * visible in one place and testable on its own.
 */
import { createHash } from 'node:crypto';
import { markEdited, mediaTypeOf } from '@parley/core';
import type { CallbackQuery, Chat, Message, MessageEntity, User } from 'grammy/types';
import type {
  Customer,
  InboundAttachment,
  InboundButtonResponse,
  InboundMessage,
  MediaPublisher,
} from '@parley/core';
import type { TelegramChatType, TelegramGroupPolicy } from './options.js';

/**
 * Customer ids carry the chat (and in per-user group conversations the user), so the Genesys
 * reply's `channel.to.id` routes back with no lookup, and survives a lost or reset store.
 */
const CUSTOMER_ID = /^tg:(-?\d+)(?::(\d+))?$/;

/** Where a Genesys conversation lives on Telegram. */
export interface TelegramAddress {
  chatId: number;
  /** Set for a per-user conversation in a group: the member the conversation is with. */
  userId?: number;
}

/** The Genesys customer id (`channel.from.id`): `tg:<chatId>` or `tg:<chatId>:<userId>`. */
export function customerIdOf(address: TelegramAddress): string {
  return address.userId === undefined ? `tg:${address.chatId}` : `tg:${address.chatId}:${address.userId}`;
}

/** The address in a customer id, or undefined when the id was not made by this connector. */
export function addressOf(customerId: string): TelegramAddress | undefined {
  const match = CUSTOMER_ID.exec(customerId);
  if (!match) return undefined;
  const chatId = Number(match[1]);
  const userId = match[2] === undefined ? undefined : Number(match[2]);
  if (!Number.isSafeInteger(chatId) || (userId !== undefined && !Number.isSafeInteger(userId))) return undefined;
  return userId === undefined ? { chatId } : { chatId, userId };
}

/**
 * The id of a Telegram message. Message ids count per chat, so only the pair is unique; it is
 * stable across redeliveries, which makes it the dedupe key core needs.
 */
export function platformMessageIdOf(chatId: number, messageId: number): string {
  return `${chatId}:${messageId}`;
}

/** What the mappings need to know besides the update itself. */
export interface InboundSettings {
  chatTypes: readonly TelegramChatType[];
  groups: TelegramGroupPolicy;
  /** The bot itself (from getMe): mentions of it and replies to it address it in groups. */
  bot: { id: number; username: string };
  media: MediaPublisher;
}

const isGroup = (chat: Chat) => chat.type === 'group' || chat.type === 'supergroup';

/** Whether the connector serves this chat at all (`chatTypes`). */
export function isServed(chat: Chat, settings: Pick<InboundSettings, 'chatTypes'>): boolean {
  return (settings.chatTypes as readonly string[]).includes(chat.type);
}

/** Which conversation a message from `sender` in `chat` belongs to (the group policy). */
export function conversationAddress(
  chat: Chat,
  senderId: number | undefined,
  settings: Pick<InboundSettings, 'groups'>,
): TelegramAddress {
  if (isGroup(chat) && settings.groups.conversation === 'user' && senderId !== undefined) {
    return { chatId: chat.id, userId: senderId };
  }
  return { chatId: chat.id };
}

/** A group message is for the bot when it mentions the bot, replies to it, or is a command to it. */
export function isAddressedToBot(message: Message, bot: InboundSettings['bot']): boolean {
  if (message.reply_to_message?.from?.id === bot.id) return true;
  const text = message.text ?? message.caption ?? '';
  const handle = `@${bot.username}`.toLowerCase();
  return (message.entities ?? message.caption_entities ?? []).some((entity) => {
    const segment = text.slice(entity.offset, entity.offset + entity.length).toLowerCase();
    if (entity.type === 'mention') return segment === handle;
    if (entity.type === 'text_mention') return entity.user.id === bot.id;
    if (entity.type === 'bot_command') return segment.endsWith(handle);
    return false;
  });
}

/** The customer as Genesys sees them: the routing id plus the Telegram profile of the sender. */
export function toCustomer(address: TelegramAddress, from: User | undefined, senderChat?: Chat): Customer {
  const nickname = from?.username ?? displayName(from) ?? chatTitle(senderChat) ?? customerIdOf(address);
  return {
    id: customerIdOf(address),
    nickname,
    ...(from?.first_name ? { firstName: from.first_name } : {}),
    ...(from?.last_name ? { lastName: from.last_name } : {}),
  };
}

function displayName(user: User | undefined): string | undefined {
  const name = [user?.first_name, user?.last_name].filter(Boolean).join(' ');
  return name || undefined;
}

function chatTitle(chat: Chat | undefined): string | undefined {
  return chat && 'title' in chat ? chat.title : undefined;
}

/** Participant data for the agent: who the customer is on Telegram, and where they wrote. */
function customAttributesOf(chat: Chat, from: User | undefined): Record<string, string> | undefined {
  const attributes: Record<string, string> = {};
  if (from?.username) attributes['telegramUsername'] = from.username;
  if (from?.language_code) attributes['telegramLanguageCode'] = from.language_code;
  if (isGroup(chat)) {
    attributes['telegramChatType'] = chat.type;
    const title = chatTitle(chat);
    if (title) attributes['telegramChatTitle'] = title;
  }
  return Object.keys(attributes).length > 0 ? attributes : undefined;
}

/**
 * A customer message (or an edit of one, sent on as a new message marked as an edit).
 * Returns undefined for what is not for Genesys: chats the connector does not serve, bots,
 * group messages not addressed to the bot (with the `mention` trigger), service messages, and
 * live-location updates.
 *
 * Its file is published through `settings.media`: Genesys fetches it from a signed, expiring
 * Parley URL, because Telegram's own file URL contains the bot token.
 */
export function messageToInbound(
  message: Message,
  settings: InboundSettings,
  options: { edited?: boolean } = {},
): InboundMessage | undefined {
  const { chat } = message;
  const edited = options.edited === true;
  if (!isServed(chat, settings)) return undefined;
  if (message.from?.is_bot && !message.sender_chat) return undefined;
  if (edited && message.location) return undefined;
  if (isGroup(chat) && settings.groups.trigger === 'mention' && !isAddressedToBot(message, settings.bot)) return undefined;

  const content = contentOf(message, settings);
  if (content.text === undefined && content.attachment === undefined) return undefined;

  const sender = message.sender_chat ? { id: message.sender_chat.id } : message.from;
  const address = conversationAddress(chat, sender?.id, settings);
  // In a per-chat group conversation several people talk: the agent needs to know who said what.
  const speaker =
    isGroup(chat) && address.userId === undefined
      ? (displayName(message.from) ?? chatTitle(message.sender_chat))
      : undefined;
  const reply = replyLineOf(message);
  const body = content.text ?? '';
  const lines = [reply, speaker ? `${speaker}: ${body}`.trimEnd() : body].filter((line): line is string => !!line);
  const joined = lines.join('\n');
  // An edit that only swapped the photo or file has no text: still marked, or it reads as new.
  const text = edited ? markEdited(joined) : joined || undefined;

  const attributes = customAttributesOf(chat, message.from);
  const editDate = message.edit_date ?? message.date;
  return {
    kind: 'message',
    platformMessageId: edited ? editIdOf(message, editDate) : platformMessageIdOf(chat.id, message.message_id),
    customer: toCustomer(address, message.from, message.sender_chat),
    ...(text ? { text } : {}),
    ...(content.attachment ? { attachments: [content.attachment] } : {}),
    ...(attributes ? { customAttributes: attributes } : {}),
    time: new Date((edited ? editDate : message.date) * 1000),
  };
}

/**
 * An edit keeps the message id, so its time and a digest of what it says make it a new message
 * for Genesys: two edits within one second differ, and a redelivered edit is the same one.
 */
function editIdOf(message: Message, editDate: number): string {
  const content = JSON.stringify([message.text, message.caption, fileOf(message)?.fileId]);
  const digest = createHash('sha256').update(content).digest('base64url').slice(0, 10);
  return `${platformMessageIdOf(message.chat.id, message.message_id)}:edit:${editDate}:${digest}`;
}

interface MessageContent {
  text?: string;
  attachment?: InboundAttachment;
}

/** The readable text and the file of a message. */
function contentOf(message: Message, settings: InboundSettings): MessageContent {
  const strip = isGroup(message.chat) ? settings.bot.username : undefined;
  const written =
    message.text !== undefined
      ? flattenEntities(message.text, message.entities, strip)
      : message.caption !== undefined
        ? flattenEntities(message.caption, message.caption_entities, strip)
        : undefined;
  const file = fileOf(message);
  const described = describeNonText(message);
  const text = [described, written].filter((part): part is string => !!part).join('\n') || undefined;
  if (!file) return text === undefined ? {} : { text };
  const attachment: InboundAttachment = {
    mediaType: mediaTypeOf(file.mime),
    url: settings.media.url(file.fileId, { mime: file.mime, filename: file.filename }),
    mime: file.mime,
    filename: file.filename,
    ...(file.size !== undefined ? { sizeBytes: file.size } : {}),
  };
  return { ...(text !== undefined ? { text } : {}), attachment };
}

/** Locations, contacts, polls and dice as text an agent can read. */
function describeNonText(message: Message): string | undefined {
  if (message.venue) {
    const { venue } = message;
    return `[venue] ${venue.title}, ${venue.address} ${mapLink(venue.location.latitude, venue.location.longitude)}`;
  }
  if (message.location) {
    const { latitude, longitude } = message.location;
    return `[location] ${latitude}, ${longitude} ${mapLink(latitude, longitude)}`;
  }
  if (message.contact) {
    const { contact } = message;
    const name = [contact.first_name, contact.last_name].filter(Boolean).join(' ');
    return `[contact] ${name}, ${contact.phone_number}`;
  }
  if (message.poll) {
    return `[poll] ${message.poll.question} (${message.poll.options.map((option) => option.text).join(' / ')})`;
  }
  if (message.dice) return `[dice] ${message.dice.emoji} ${message.dice.value}`;
  if (message.sticker) return `[sticker${message.sticker.emoji ? ` ${message.sticker.emoji}` : ''}]`;
  return undefined;
}

function mapLink(latitude: number, longitude: number): string {
  return `https://maps.google.com/?q=${latitude},${longitude}`;
}

/** `[reply to "…"]` for a reply, quoting what the customer selected or the start of the original. */
function replyLineOf(message: Message): string | undefined {
  const original = message.reply_to_message;
  // In forum topics every message "replies" to the topic's first message: not a real reply.
  if (original?.forum_topic_created) return undefined;
  const quoted =
    message.quote?.text ??
    (original ? (original.text ?? original.caption ?? summaryOf(original)) : undefined) ??
    (message.external_reply ? 'a message from another chat' : undefined);
  if (quoted === undefined) return undefined;
  return `[reply to "${excerpt(quoted, 100)}"]`;
}

function summaryOf(message: Message): string {
  if (message.photo) return 'a photo';
  if (message.video || message.video_note) return 'a video';
  if (message.voice) return 'a voice message';
  if (message.audio) return 'an audio file';
  if (message.document) return 'a file';
  if (message.sticker) return 'a sticker';
  if (message.location) return 'a location';
  return 'a message';
}

function excerpt(text: string, maxLength: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= maxLength ? flat : `${flat.slice(0, maxLength - 1)}…`;
}

/**
 * Telegram text with its entities as readable plain text: hidden link targets are shown after
 * their text (`docs (https://…)`), and a mention of the bot itself (`stripMention`, in groups)
 * is dropped. Offsets are UTF-16 code units, as JavaScript strings are.
 */
export function flattenEntities(text: string, entities: readonly MessageEntity[] = [], stripMention?: string): string {
  let result = text;
  const handle = stripMention ? `@${stripMention}`.toLowerCase() : undefined;
  // From the end, so each edit leaves the offsets of the ones still to come intact.
  for (const entity of [...entities].sort((a, b) => b.offset - a.offset)) {
    const start = entity.offset;
    const end = entity.offset + entity.length;
    const segment = text.slice(start, end);
    if (entity.type === 'text_link' && entity.url !== segment) {
      result = `${result.slice(0, end)} (${entity.url})${result.slice(end)}`;
    } else if (entity.type === 'mention' && handle !== undefined && segment.toLowerCase() === handle) {
      result = result.slice(0, start) + result.slice(end);
    }
  }
  return handle === undefined ? result : result.replace(/[ \t]{2,}/g, ' ').trim();
}

/** A file in a message: the biggest photo size, or the one document/video/audio/voice/sticker. */
interface MessageFile {
  fileId: string;
  mime: string;
  filename: string;
  size?: number;
}

function fileOf(message: Message): MessageFile | undefined {
  const id = message.message_id;
  const sized = (file: { file_id: string; file_size?: number }, mime: string, filename: string): MessageFile => ({
    fileId: file.file_id,
    mime,
    filename,
    ...(file.file_size !== undefined ? { size: file.file_size } : {}),
  });
  if (message.photo && message.photo.length > 0) {
    const largest = message.photo.reduce((best, size) => (size.width * size.height > best.width * best.height ? size : best));
    // Telegram re-encodes every photo as JPEG.
    return sized(largest, 'image/jpeg', `photo_${id}.jpg`);
  }
  // Telegram sends an animation (GIF) with a `document` field too: the animation says more.
  if (message.animation) {
    const { animation } = message;
    return sized(animation, animation.mime_type ?? 'video/mp4', animation.file_name ?? `animation_${id}.mp4`);
  }
  if (message.document) {
    const { document } = message;
    return sized(document, document.mime_type ?? 'application/octet-stream', document.file_name ?? `file_${id}`);
  }
  if (message.video) {
    const { video } = message;
    return sized(video, video.mime_type ?? 'video/mp4', video.file_name ?? `video_${id}.mp4`);
  }
  if (message.video_note) return sized(message.video_note, 'video/mp4', `video_note_${id}.mp4`);
  if (message.audio) {
    const { audio } = message;
    return sized(audio, audio.mime_type ?? 'audio/mpeg', audio.file_name ?? `audio_${id}.mp3`);
  }
  if (message.voice) return sized(message.voice, message.voice.mime_type ?? 'audio/ogg', `voice_${id}.ogg`);
  if (message.sticker) {
    const { sticker } = message;
    if (sticker.is_animated) return sized(sticker, 'application/x-tgsticker', `sticker_${id}.tgs`);
    if (sticker.is_video) return sized(sticker, 'video/webm', `sticker_${id}.webm`);
    return sized(sticker, 'image/webp', `sticker_${id}.webp`);
  }
  return undefined;
}

/** A button the connector sent: `data` is its callback_data, `payload` what Genesys gave it. */
export interface SentButton {
  data: string;
  text: string;
  payload: string;
}

/** Which Genesys message a bot message with buttons came from; stored when the buttons are sent. */
export interface ButtonOrigin {
  genesysMessageId: string;
  type: 'QuickReply' | 'Button';
  buttons: SentButton[];
  /** In a group with a conversation per member: the member the agent's buttons are for. */
  userId?: number;
}

/**
 * A press by another member than the one the buttons were sent to, in a group with a conversation
 * per member: it would land in the presser's own conversation, answering a question Genesys never
 * asked there.
 */
export function pressedByOther(query: CallbackQuery, origin: ButtonOrigin | undefined): boolean {
  return origin?.userId !== undefined && query.from.id !== origin.userId;
}

/**
 * An inline button press. With its origin known it becomes a Genesys structured response;
 * without (the buttons predate the store, or were not sent through Parley) the button's label
 * goes as plain text, which bot flows matching on text still understand. Undefined for presses
 * Genesys has no use for (inline-mode messages, games, chats not served).
 */
export function callbackToInbound(
  query: CallbackQuery,
  origin: ButtonOrigin | undefined,
  settings: Pick<InboundSettings, 'chatTypes' | 'groups'>,
): InboundButtonResponse | InboundMessage | undefined {
  const message = query.message;
  const data = query.data;
  if (!message || data === undefined || !isServed(message.chat, settings)) return undefined;
  const address = conversationAddress(message.chat, query.from.id, settings);
  const attributes = customAttributesOf(message.chat, query.from);
  const common = {
    customer: toCustomer(address, query.from),
    ...(attributes ? { customAttributes: attributes } : {}),
  };
  const button = origin?.buttons.find((candidate) => candidate.data === data);
  if (origin && button) {
    return {
      kind: 'button-response',
      // The callback query id is unique per press and stable across redeliveries of the same press.
      platformMessageId: query.id,
      originatingMessageId: origin.genesysMessageId,
      type: origin.type,
      text: button.text,
      payload: button.payload,
      ...common,
    };
  }
  const label = labelInMarkup(message, data) ?? data;
  return { kind: 'message', platformMessageId: `callback:${query.id}`, text: label, ...common };
}

function labelInMarkup(message: NonNullable<CallbackQuery['message']>, data: string): string | undefined {
  if (!('reply_markup' in message) || !message.reply_markup) return undefined;
  for (const row of message.reply_markup.inline_keyboard) {
    for (const button of row) {
      if ('callback_data' in button && button.callback_data === data) return button.text;
    }
  }
  return undefined;
}

/** Quick replies shown as a reply keyboard, waiting for the customer to tap one. */
export interface PendingKeyboard {
  genesysMessageId: string;
  buttons: Array<{ text: string; payload: string }>;
  /** The customer message that answered it; a redelivery of that message answers it again. */
  answeredBy?: string;
}

/**
 * A tap on a reply keyboard arrives as an ordinary message with the button's text. When the
 * text matches a pending keyboard's button, the message is the answer: a structured response.
 */
export function keyboardAnswerOf(
  message: Message,
  inbound: InboundMessage,
  pending: PendingKeyboard | undefined,
): InboundButtonResponse | undefined {
  if (!pending || message.text === undefined) return undefined;
  if (pending.answeredBy !== undefined && pending.answeredBy !== inbound.platformMessageId) return undefined;
  const button = pending.buttons.find((candidate) => candidate.text === message.text);
  if (!button) return undefined;
  return {
    kind: 'button-response',
    platformMessageId: inbound.platformMessageId,
    customer: inbound.customer,
    originatingMessageId: pending.genesysMessageId,
    type: 'QuickReply',
    text: button.text,
    payload: button.payload,
    ...(inbound.customAttributes ? { customAttributes: inbound.customAttributes } : {}),
    ...(inbound.time ? { time: inbound.time } : {}),
  };
}
