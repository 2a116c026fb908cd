/**
 * Parley outbound messages → the Telegram messages that show them. Pure planning: which messages,
 * in which order, with which buttons. `connector.ts` then performs the steps.
 *
 * Telegram takes text up to 4096 characters, captions up to 1024, one file per message and
 * buttons under a message, so an agent message may become several Telegram messages:
 * 1. the text, split into parts of at most 4096 characters;
 * 2. one message per attachment, its text as the caption when it fits (a link is sent as text);
 * 3. quick replies under the last message of 1–2: inline buttons, or a one-time reply keyboard;
 * 4. one message per card (a carousel is its cards in order): title, description and image link,
 *    actions as inline buttons (postback → callback button, link → URL button).
 */
import { createHash } from 'node:crypto';
import type { InlineKeyboardMarkup, ReplyKeyboardMarkup } from 'grammy/types';
import { splitText, type Card, type OutboundAttachment, type OutboundMessage, type QuickReply } from '@parley/core';

/** Telegram's longest message text. */
export const TEXT_LIMIT = 4096;
/** Telegram's longest caption of a file. */
export const CAPTION_LIMIT = 1024;
/** Telegram's longest `callback_data`, in bytes. */
export const CALLBACK_DATA_LIMIT = 64;

/** A button under a message: a link, or a callback whose `data` stands for a Genesys `payload`. */
export type PlannedButton = { text: string; url: string } | { text: string; data: string; payload: string };

/** The buttons under one message: inline buttons, or a reply keyboard (quick replies only). */
export type PlannedMarkup =
  | { kind: 'inline'; rows: PlannedButton[][] }
  | { kind: 'keyboard'; rows: Array<Array<{ text: string; payload: string }>> };

/** One Telegram message to send. */
export interface OutboundStep {
  /** The message text, or the caption of the file. */
  text?: string;
  /** A file to download from Genesys and upload with the message. */
  attachment?: OutboundAttachment;
  markup?: PlannedMarkup;
  /** Set when the buttons carry payloads: what a press of them answers in Genesys. */
  buttonType?: 'QuickReply' | 'Button';
}

/** The Telegram messages that show `message`, in sending order (see the rules above). */
export function planOutbound(message: OutboundMessage, quickReplyStyle: 'inline' | 'keyboard' = 'inline'): OutboundStep[] {
  const steps: OutboundStep[] = splitText(message.text ?? '', TEXT_LIMIT).map((text) => ({ text }));

  for (const attachment of message.attachments) {
    if (attachment.mediaType === 'Link') {
      const text = attachment.text ? `${attachment.text}\n${attachment.url}` : attachment.url;
      steps.push(...splitText(text, TEXT_LIMIT).map((part) => ({ text: part })));
      continue;
    }
    const caption = attachment.text?.trim();
    if (caption && caption.length > CAPTION_LIMIT) {
      // Too long to sit under the file: it goes first, as text.
      steps.push(...splitText(caption, TEXT_LIMIT).map((part) => ({ text: part })), { attachment });
    } else {
      steps.push({ attachment, ...(caption ? { text: caption } : {}) });
    }
  }

  if (message.quickReplies.length > 0) {
    const markup = quickReplyMarkup(message.quickReplies, quickReplyStyle);
    const last = steps.at(-1);
    if (last) {
      last.markup = markup;
      last.buttonType = 'QuickReply';
    } else {
      // Buttons need a message to sit under; Genesys normally sends a question with them.
      steps.push({ text: labels(message.quickReplies), markup, buttonType: 'QuickReply' });
    }
  }

  for (const card of message.cards) {
    const step = cardStep(card);
    if (step) steps.push(step);
  }
  return steps;
}

function quickReplyMarkup(replies: readonly QuickReply[], style: 'inline' | 'keyboard'): PlannedMarkup {
  const rows = layout(replies);
  if (style === 'keyboard') return { kind: 'keyboard', rows: rows.map((row) => row.map(({ text, payload }) => ({ text, payload }))) };
  return { kind: 'inline', rows: rows.map((row) => row.map(callbackButton)) };
}

/** Short labels share a row (up to three); a long one gets a row of its own. */
function layout<T extends { text: string }>(buttons: readonly T[]): T[][] {
  const short = buttons.every((button) => button.text.length <= 12);
  const perRow = short ? 3 : 1;
  const rows: T[][] = [];
  for (let index = 0; index < buttons.length; index += perRow) rows.push(buttons.slice(index, index + perRow));
  return rows;
}

function cardStep(card: Card): OutboundStep | undefined {
  const buttons: PlannedButton[] = card.actions.map((action) =>
    action.type === 'link' ? { text: action.text, url: action.url } : callbackButton(action),
  );
  const written = [card.title, card.description, card.imageUrl].filter(Boolean).join('\n');
  const text = (written || labels(buttons)).slice(0, TEXT_LIMIT);
  if (!text) return undefined;
  const hasCallbacks = buttons.some((button) => 'data' in button);
  return {
    text,
    ...(buttons.length > 0 ? { markup: { kind: 'inline' as const, rows: buttons.map((button) => [button]) } } : {}),
    ...(hasCallbacks ? { buttonType: 'Button' as const } : {}),
  };
}

function labels(buttons: ReadonlyArray<{ text: string }>): string {
  return buttons.map((button) => button.text).join(' / ');
}

function callbackButton(reply: { text: string; payload: string }): PlannedButton {
  return { text: reply.text, data: callbackDataFor(reply.payload), payload: reply.payload };
}

/**
 * The `callback_data` of a button with `payload`: the payload itself when it fits Telegram's
 * 64 bytes (so a press still means something if the store lost the button's origin), else a
 * digest of it; the origin stored with the message maps the digest back.
 */
export function callbackDataFor(payload: string): string {
  if (payload.length > 0 && Buffer.byteLength(payload) <= CALLBACK_DATA_LIMIT) return payload;
  return `parley:${createHash('sha256').update(payload).digest('base64url').slice(0, 32)}`;
}

/** The Bot API `reply_markup` of planned buttons. */
export function toReplyMarkup(markup: PlannedMarkup): InlineKeyboardMarkup | ReplyKeyboardMarkup {
  if (markup.kind === 'keyboard') {
    return {
      keyboard: markup.rows.map((row) => row.map(({ text }) => ({ text }))),
      // Gone once tapped, and no taller than its buttons: it answers one question.
      one_time_keyboard: true,
      resize_keyboard: true,
    };
  }
  return {
    inline_keyboard: markup.rows.map((row) =>
      row.map((button) => ('url' in button ? { text: button.text, url: button.url } : { text: button.text, callback_data: button.data })),
    ),
  };
}

