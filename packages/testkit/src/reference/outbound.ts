/**
 * Parley outbound messages → the platform messages that show them. Pure planning: which messages,
 * in which order, with which buttons. `connector.ts` then performs the steps.
 *
 * The platform takes text (4096 characters at most), one file per message and inline buttons,
 * so an agent message may become several platform messages:
 * 1. the text, split into parts of at most 4000 characters;
 * 2. one message per attachment (a link "attachment" is sent as text);
 * 3. quick replies as callback buttons under the last message of 1–2;
 * 4. one message per card: title and description, actions as buttons (postback → callback
 *    button, link → URL button).
 */
import { splitText, type Card, type OutboundAttachment, type OutboundMessage } from '@parley/core';
import type { PlatformButton } from './protocol.js';

/** Below the platform's 4096 so a part never hits the limit after any trimming or markup. */
export const TEXT_PART_LENGTH = 4000;

/** One platform message to send. */
export interface OutboundStep {
  text?: string;
  /** A file to download from Genesys and upload with the message. */
  attachment?: OutboundAttachment;
  buttons: PlatformButton[];
  /** Set when the buttons carry payloads: what a press of them answers in Genesys. */
  buttonType?: 'QuickReply' | 'Button';
}

/** The platform messages that show `message`, in sending order (see the rules above). */
export function planOutbound(message: OutboundMessage): OutboundStep[] {
  const steps: OutboundStep[] = splitText(message.text ?? '', TEXT_PART_LENGTH).map((text) => ({ text, buttons: [] }));

  for (const attachment of message.attachments) {
    if (attachment.mediaType === 'Link') {
      steps.push({ text: attachment.text ? `${attachment.text}\n${attachment.url}` : attachment.url, buttons: [] });
    } else {
      const caption = attachment.text?.slice(0, TEXT_PART_LENGTH);
      steps.push({ attachment, ...(caption ? { text: caption } : {}), buttons: [] });
    }
  }

  if (message.quickReplies.length > 0) {
    const buttons = message.quickReplies.map((reply) => ({ text: reply.text, payload: reply.payload }));
    const last = steps.at(-1);
    if (last) {
      last.buttons = buttons;
      last.buttonType = 'QuickReply';
    } else {
      // Buttons need a message to sit under; Genesys normally sends a question with them.
      steps.push({ text: message.quickReplies.map((reply) => reply.text).join(' / '), buttons, buttonType: 'QuickReply' });
    }
  }

  for (const card of message.cards) steps.push(cardStep(card));
  return steps;
}

function cardStep(card: Card): OutboundStep {
  const text = [card.title, card.description, card.imageUrl].filter(Boolean).join('\n').slice(0, TEXT_PART_LENGTH);
  const buttons = card.actions.map((action): PlatformButton =>
    action.type === 'link' ? { text: action.text, url: action.url } : { text: action.text, payload: action.payload },
  );
  const hasPayloads = buttons.some((button) => button.payload !== undefined);
  return { text, buttons, ...(hasPayloads ? { buttonType: 'Button' as const } : {}) };
}

