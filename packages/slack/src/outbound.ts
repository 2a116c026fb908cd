/**
 * Parley outbound messages → the Slack messages that show them. Pure planning: which messages, in
 * which order, with which Block Kit blocks. `connector.ts` then performs the steps.
 *
 * An agent message may become several Slack messages:
 * 1. the text, escaped for mrkdwn and split into parts of at most 3,000 characters (the limit of
 *    a section block, so a part can carry buttons; Slack's own text limit is higher);
 * 2. one upload per file (a link "attachment" is sent as text);
 * 3. quick replies as buttons under the last message of 1–2;
 * 4. one message per card (a carousel is several cards): title and description in a section,
 *    actions as buttons (postback → a button whose press comes back, link → a URL button).
 *
 * Buttons carry their Genesys origin in the `block_id` (see `inbound.ts`), so a press finds its
 * way back without a lookup. Limits: https://docs.slack.dev/reference/block-kit/block-elements/button-element
 */
import { PermanentError, type Card, type OutboundAttachment, type OutboundMessage } from '@parley/core';
import { buttonBlockId, type ButtonOrigin } from './inbound.js';
import { escapeMrkdwn, splitEscaped } from './mrkdwn.js';
import type { ActionsBlock, Block, ButtonElement } from './protocol.js';

/** A section block's text limit: every text part fits one. */
export const TEXT_PART_LENGTH = 3000;
/** Slack's limits for a button's label and value, and for the elements of one actions block. */
export const BUTTON_LABEL_LENGTH = 75;
export const BUTTON_VALUE_LENGTH = 2000;
export const BUTTONS_PER_BLOCK = 25;

/** One Slack message to post (`text` is mrkdwn, the notification text when there are blocks). */
export interface MessageStep {
  kind: 'message';
  text: string;
  blocks?: Block[];
}

/** One file to download from Genesys and upload to Slack, with an optional mrkdwn comment. */
export interface FileStep {
  kind: 'file';
  attachment: OutboundAttachment;
  comment?: string;
}

export type OutboundStep = MessageStep | FileStep;

/** The Slack messages that show `message`, in sending order (see the rules above). */
export function planOutbound(message: OutboundMessage): OutboundStep[] {
  const steps: OutboundStep[] = splitEscaped(message.text ?? '', TEXT_PART_LENGTH).map((text) => ({ kind: 'message', text }));

  for (const attachment of message.attachments) {
    if (attachment.mediaType === 'Link') {
      const text = attachment.text ? `${attachment.text}\n${attachment.url}` : attachment.url;
      steps.push(...splitEscaped(text, TEXT_PART_LENGTH).map((part): MessageStep => ({ kind: 'message', text: part })));
    } else {
      const comment = attachment.text ? escapeMrkdwn(attachment.text).slice(0, TEXT_PART_LENGTH) : undefined;
      steps.push({ kind: 'file', attachment, ...(comment ? { comment } : {}) });
    }
  }

  if (message.quickReplies.length > 0) {
    const origin: ButtonOrigin = { genesysMessageId: message.id, type: 'QuickReply' };
    const buttons = message.quickReplies.map((reply, index) => valueButton(reply.text, reply.payload, index));
    const last = steps.at(-1);
    // Buttons need a message to sit under; a file upload cannot carry blocks.
    const host =
      last?.kind === 'message' && !last.blocks
        ? last
        : pushed(steps, { kind: 'message', text: escapeMrkdwn(message.quickReplies.map((reply) => reply.text).join(' / ')).slice(0, TEXT_PART_LENGTH) });
    host.blocks = [section(host.text), ...actionBlocks(buttons, origin)];
  }

  message.cards.forEach((card) => steps.push(cardStep(card, message.id)));
  return steps;
}

function cardStep(card: Card, genesysMessageId: string): MessageStep {
  const lines = [`*${escapeMrkdwn(card.title)}*`];
  if (card.description) lines.push(escapeMrkdwn(card.description));
  // A link, not an image block: Slack fails the whole message when it cannot fetch a block image.
  if (card.imageUrl) lines.push(escapeMrkdwn(card.imageUrl));
  const text = lines.join('\n').slice(0, TEXT_PART_LENGTH);
  const buttons = card.actions.map((action, index): ButtonElement =>
    action.type === 'link'
      ? { type: 'button', text: plain(action.text || action.url), action_id: `parley-link-${index}`, url: action.url }
      : valueButton(action.text, action.payload, index),
  );
  if (buttons.length === 0) return { kind: 'message', text };
  return { kind: 'message', text, blocks: [section(text), ...actionBlocks(buttons, { genesysMessageId, type: 'Button' })] };
}

function valueButton(label: string, payload: string, index: number): ButtonElement {
  const value = payload || label;
  if (value.length > BUTTON_VALUE_LENGTH) {
    throw new PermanentError('PAYLOAD_INVALID', `A button payload is longer than Slack's ${BUTTON_VALUE_LENGTH} characters`, {
      reasonCode: 'InvalidMessageStructure',
    });
  }
  return { type: 'button', text: plain(label || payload), action_id: `parley-${index}`, value };
}

function plain(text: string): ButtonElement['text'] {
  const label = text.length > BUTTON_LABEL_LENGTH ? `${text.slice(0, BUTTON_LABEL_LENGTH - 1)}…` : text;
  return { type: 'plain_text', text: label, emoji: true };
}

function section(text: string): Block {
  return { type: 'section', text: { type: 'mrkdwn', text } };
}

function actionBlocks(buttons: ButtonElement[], origin: ButtonOrigin): ActionsBlock[] {
  const blocks: ActionsBlock[] = [];
  for (let start = 0; start < buttons.length; start += BUTTONS_PER_BLOCK) {
    blocks.push({
      type: 'actions',
      block_id: buttonBlockId(origin, blocks.length),
      elements: buttons.slice(start, start + BUTTONS_PER_BLOCK),
    });
  }
  return blocks;
}

function pushed(steps: OutboundStep[], step: MessageStep): MessageStep {
  steps.push(step);
  return step;
}
