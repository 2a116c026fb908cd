/**
 * Parley outbound messages → the Discord messages that show them. Pure planning: which messages,
 * in which order, with which components. `connector.ts` then performs the steps.
 *
 * A Discord message carries at most 2000 characters, files and up to 5 rows of 5 buttons, so an
 * agent message may become several Discord messages:
 * 1. the text, split into parts of at most 2000 characters;
 * 2. one message per attachment, its caption as text (a link "attachment" is sent as text);
 * 3. quick replies as buttons under the last message of 1–2 (25 per message at most);
 * 4. one message per card: an embed with title, description and image, actions as buttons
 *    (postback → button, link → link button).
 */
import { createHash } from 'node:crypto';
import { splitText, type Card, type OutboundAttachment, type OutboundMessage } from '@parley/core';
import {
  ButtonStyle,
  ComponentType,
  type APIActionRowComponent,
  type APIButtonComponent,
  type APIEmbed,
  type RESTPostAPIChannelMessageJSONBody,
} from 'discord.js';

/** Discord's limit on a message's text. */
export const MAX_CONTENT_LENGTH = 2000;
const MAX_BUTTONS_PER_ROW = 5;
const MAX_BUTTONS_PER_MESSAGE = 25;
const MAX_LABEL_LENGTH = 80;
const MAX_CUSTOM_ID_LENGTH = 100;
const MAX_LINK_URL_LENGTH = 512;
const MAX_EMBED_TITLE_LENGTH = 256;
const MAX_EMBED_DESCRIPTION_LENGTH = 4096;
/** Discord compares nonces of up to 25 characters. */
const NONCE_LENGTH = 25;

/** A button under a Discord message: a press sends `payload` back, a link opens `url`. */
export interface StepButton {
  text: string;
  payload?: string;
  url?: string;
}

/** One Discord message to send. */
export interface OutboundStep {
  content?: string;
  /** A file to download from Genesys and upload with the message. */
  attachment?: OutboundAttachment;
  embed?: APIEmbed;
  buttons: StepButton[];
  /** Set when the buttons carry payloads: what a press of them answers in Genesys. */
  buttonType?: 'QuickReply' | 'Button';
}

/** The Discord messages that show `message`, in sending order (see the rules above). */
export function planOutbound(message: OutboundMessage): OutboundStep[] {
  const steps: OutboundStep[] = splitText(message.text ?? '', MAX_CONTENT_LENGTH).map((content) => ({ content, buttons: [] }));

  for (const attachment of message.attachments) {
    if (attachment.mediaType === 'Link') {
      const text = attachment.text ? `${attachment.text}\n${attachment.url}` : attachment.url;
      steps.push(...splitText(text, MAX_CONTENT_LENGTH).map((content) => ({ content, buttons: [] })));
    } else {
      const caption = attachment.text?.slice(0, MAX_CONTENT_LENGTH);
      steps.push({ attachment, ...(caption ? { content: caption } : {}), buttons: [] });
    }
  }

  if (message.quickReplies.length > 0) {
    const buttons = message.quickReplies.map((reply) => ({ text: reply.text, payload: reply.payload }));
    const [first = [], ...more] = chunk(buttons, MAX_BUTTONS_PER_MESSAGE);
    const last = steps.at(-1);
    if (last) {
      last.buttons = first;
      last.buttonType = 'QuickReply';
    } else {
      // Buttons need a message to sit under; Genesys normally sends a question with them.
      const content = message.quickReplies.map((reply) => reply.text).join(' / ').slice(0, MAX_CONTENT_LENGTH);
      steps.push({ content, buttons: first, buttonType: 'QuickReply' });
    }
    for (const rest of more) steps.push({ buttons: rest, buttonType: 'QuickReply' });
  }

  for (const card of message.cards) steps.push(cardStep(card));
  return steps;
}

function cardStep(card: Card): OutboundStep {
  const embed: APIEmbed = { title: card.title.slice(0, MAX_EMBED_TITLE_LENGTH) };
  if (card.description) embed.description = card.description.slice(0, MAX_EMBED_DESCRIPTION_LENGTH);
  if (card.imageUrl && isHttpUrl(card.imageUrl)) embed.image = { url: card.imageUrl };
  const buttons: StepButton[] = [];
  // A link Discord would refuse as a button is shown as text instead of failing the whole card.
  const unlinkable: string[] = [];
  for (const action of card.actions) {
    if (action.type === 'postback') buttons.push({ text: action.text, payload: action.payload });
    else if (isHttpUrl(action.url) && action.url.length <= MAX_LINK_URL_LENGTH) buttons.push({ text: action.text, url: action.url });
    else unlinkable.push(`${action.text}: ${action.url}`);
  }
  if (unlinkable.length > 0) {
    embed.description = [embed.description, ...unlinkable].filter(Boolean).join('\n').slice(0, MAX_EMBED_DESCRIPTION_LENGTH);
  }
  const hasPayloads = buttons.some((button) => button.payload !== undefined);
  return {
    embed,
    buttons: buttons.slice(0, MAX_BUTTONS_PER_MESSAGE),
    ...(hasPayloads ? { buttonType: 'Button' as const } : {}),
  };
}

/**
 * The custom id of the `index`th button of the message whose nonce is `nonce`. Discord only echoes
 * it back on a press, so it names the message's stored button origin (by the nonce, known before
 * the message is sent) and carries the payload (the index keeps equal payloads apart). A payload
 * too long for Discord's 100 characters is cut; the full one is in the stored origin.
 */
export function customIdOf(nonce: string, index: number, payload: string): string {
  return `${nonce}:${index}:${payload}`.slice(0, MAX_CUSTOM_ID_LENGTH);
}

/** The parts of a custom id made by {@link customIdOf}, or undefined for another one. */
export function parseCustomId(customId: string): { nonce: string; index: number; payload: string } | undefined {
  const match = /^([^:]+):(\d+):(.*)$/s.exec(customId);
  return match ? { nonce: match[1]!, index: Number(match[2]), payload: match[3]! } : undefined;
}

/**
 * The nonce of step `index` of the Genesys message `genesysMessageId`. With `enforce_nonce`,
 * Discord returns the message already created with the same nonce (within a few minutes) instead of
 * posting it again, so a send retried after a crash or a timeout shows the customer nothing twice.
 */
export function nonceOf(genesysMessageId: string, index: number): string {
  return createHash('sha256').update(`${genesysMessageId}:${index}`).digest('base64url').slice(0, NONCE_LENGTH);
}

/** The JSON body of `POST /channels/{id}/messages` for a step; `filename` names the uploaded file. */
export function messageBodyOf(step: OutboundStep, nonce: string, filename?: string): RESTPostAPIChannelMessageJSONBody {
  const rows = chunk(step.buttons, MAX_BUTTONS_PER_ROW).map(
    (row, rowIndex): APIActionRowComponent<APIButtonComponent> => ({
      type: ComponentType.ActionRow,
      components: row.map((button, index) => buttonOf(button, nonce, rowIndex * MAX_BUTTONS_PER_ROW + index, step.buttonType)),
    }),
  );
  return {
    ...(step.content ? { content: step.content } : {}),
    ...(step.embed ? { embeds: [step.embed] } : {}),
    ...(rows.length > 0 ? { components: rows } : {}),
    ...(filename !== undefined ? { attachments: [{ id: 0, filename }] } : {}),
    nonce,
    enforce_nonce: true,
    // Agent text is shown as written: "@everyone" in it must not ping a whole server.
    allowed_mentions: { parse: [] },
  };
}

function buttonOf(button: StepButton, nonce: string, index: number, type: OutboundStep['buttonType']): APIButtonComponent {
  const label = truncate(button.text.trim() || '…', MAX_LABEL_LENGTH);
  if (button.url !== undefined) return { type: ComponentType.Button, style: ButtonStyle.Link, label, url: button.url };
  return {
    type: ComponentType.Button,
    style: type === 'QuickReply' ? ButtonStyle.Primary : ButtonStyle.Secondary,
    label,
    custom_id: customIdOf(nonce, index, button.payload ?? button.text),
  };
}

function truncate(text: string, maxLength: number): string {
  return text.length <= maxLength ? text : `${text.slice(0, maxLength - 1)}…`;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

function chunk<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let index = 0; index < items.length; index += size) chunks.push(items.slice(index, index + size));
  return chunks;
}

/** The custom ids of a step's payload buttons, with their labels and full payloads (as {@link messageBodyOf} makes them). */
export function payloadButtonsOf(step: OutboundStep, nonce: string): Array<{ customId: string; text: string; payload: string }> {
  return step.buttons.flatMap((button, index) => {
    if (button.url !== undefined) return [];
    const payload = button.payload ?? button.text;
    return [{ customId: customIdOf(nonce, index, payload), text: button.text, payload }];
  });
}
