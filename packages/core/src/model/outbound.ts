/**
 * Genesys message webhook → the platform-neutral {@link OutboundMessage} connectors deliver.
 * Quick replies, cards, carousels and templates are flattened into one shape here, so every
 * connector maps the same thing to its native controls.
 */
import { mediaTypeOf, type Card, type CardAction, type OutboundAttachment, type OutboundMessage, type QuickReply } from '../messages.js';
import type { GenesysAttachment, GenesysCard, GenesysCardAction, GenesysTemplate } from './content.js';
import type { GenesysTextWebhook } from './webhook.js';

/** Maps a Text or Structured webhook to what the connector sends; content keeps its order. */
export function toOutboundMessage(webhook: GenesysTextWebhook): OutboundMessage {
  const attachments: OutboundAttachment[] = [];
  const quickReplies: QuickReply[] = [];
  const cards: Card[] = [];
  const templateTexts: string[] = [];
  const links: TemplateLink[] = [];

  for (const item of webhook.content) {
    switch (item.contentType) {
      case 'Attachment':
        attachments.push(toAttachment(item.attachment));
        break;
      case 'QuickReply':
        quickReplies.push({ text: item.quickReply.text, payload: item.quickReply.payload });
        break;
      case 'Card':
        cards.push(toCard(item.card));
        break;
      case 'Carousel':
        cards.push(...item.carousel.cards.map(toCard));
        break;
      case 'Notification': {
        const rendered = renderTemplate(item.template);
        if (rendered.text) templateTexts.push(rendered.text);
        quickReplies.push(...rendered.quickReplies);
        links.push(...rendered.links);
        if (rendered.headerMedia) attachments.push(rendered.headerMedia);
        break;
      }
      case 'ButtonResponse':
        // The customer's own answer echoed back: nothing to show them.
        break;
    }
  }

  // Blank text (an attachment-only message) is no text: no empty caption on the platform.
  const ownText = webhook.text?.trim() ? webhook.text : undefined;
  // The top-level text of a template message is Genesys's own rendering: prefer it.
  const baseText = ownText ?? (templateTexts.length > 0 ? templateTexts.join('\n\n') : undefined);
  const text = appendLinks(baseText, links);

  return {
    id: webhook.id,
    to: webhook.channel.to.id,
    ...(text === undefined ? {} : { text }),
    attachments,
    quickReplies,
    cards,
    ...(webhook.originatingEntity === undefined ? {} : { originatingEntity: webhook.originatingEntity }),
    ...(webhook.conversationId === undefined ? {} : { conversationId: webhook.conversationId }),
  };
}

function toAttachment(attachment: GenesysAttachment): OutboundAttachment {
  return {
    mediaType: attachment.mediaType,
    url: attachment.url,
    ...(attachment.mime === undefined ? {} : { mime: attachment.mime }),
    ...(attachment.filename === undefined ? {} : { filename: attachment.filename }),
    ...(attachment.contentSizeBytes === undefined ? {} : { sizeBytes: attachment.contentSizeBytes }),
    ...(attachment.text === undefined ? {} : { text: attachment.text }),
  };
}

function toCard(card: GenesysCard): Card {
  return {
    title: card.title,
    ...(card.description === undefined ? {} : { description: card.description }),
    ...(card.image === undefined ? {} : { imageUrl: card.image }),
    actions: card.actions.map(toCardAction),
  };
}

function toCardAction(action: GenesysCardAction): CardAction {
  if (action.type === 'Link') return { type: 'link', text: action.text ?? action.url, url: action.url };
  // The schema guarantees text or payload; each stands in for the other.
  const text = action.text ?? action.payload ?? '';
  return { type: 'postback', text, payload: action.payload ?? text };
}

interface TemplateLink {
  label: string | undefined;
  target: string;
}

interface RenderedTemplate {
  text?: string;
  quickReplies: QuickReply[];
  /** Url and PhoneNumber buttons: platforms get them as `text: url` lines. */
  links: TemplateLink[];
  headerMedia?: OutboundAttachment;
}

/**
 * Renders a Notification template: header, body and footer text with `{{1}}` / `{{name}}`
 * replaced from the parameters; QuickReply buttons become quick replies, Url and PhoneNumber
 * buttons become text lines.
 */
function renderTemplate(template: GenesysTemplate): RenderedTemplate {
  const bodyParameters = template.body?.parameters ?? [];
  const parts = [
    template.header?.text === undefined
      ? undefined
      : substituteParameters(template.header.text, template.header.parameters ?? bodyParameters),
    template.body?.text === undefined ? undefined : substituteParameters(template.body.text, bodyParameters),
    template.footer?.text,
  ].filter((part): part is string => part !== undefined && part.trim() !== '');

  const quickReplies: QuickReply[] = [];
  const links: TemplateLink[] = [];
  for (const button of template.buttons) {
    if (button.type === 'QuickReply') {
      const text = button.text ?? button.payload;
      if (text !== undefined) quickReplies.push({ text, payload: button.payload ?? text });
    } else if (button.type === 'Url' && button.url) {
      links.push({ label: button.text, target: button.url });
    } else if (button.type === 'PhoneNumber' && button.phoneNumber) {
      links.push({ label: button.text, target: button.phoneNumber });
    }
  }

  const media = template.header?.media;
  return {
    ...(parts.length > 0 ? { text: parts.join('\n\n') } : {}),
    quickReplies,
    links,
    ...(media
      ? { headerMedia: { mediaType: mediaTypeOf(media.mime), url: media.url, ...(media.mime ? { mime: media.mime } : {}) } }
      : {}),
  };
}

/** Replaces `{{1}}` (1-based position) and `{{name}}`; unknown placeholders stay as written. */
function substituteParameters(text: string, parameters: ReadonlyArray<{ name?: string | undefined; text: string }>): string {
  return text.replace(/\{\{\s*([^{}\s]+)\s*\}\}/g, (placeholder, key: string) => {
    const byName = parameters.find((parameter) => parameter.name === key);
    if (byName) return byName.text;
    const position = /^\d+$/.test(key) ? parameters[Number(key) - 1] : undefined;
    return position ? position.text : placeholder;
  });
}

/** Adds a `label: target` line per link, skipping targets the text already shows. */
function appendLinks(text: string | undefined, links: readonly TemplateLink[]): string | undefined {
  const lines = links
    .filter((link) => !text?.includes(link.target))
    .map((link) => (link.label ? `${link.label}: ${link.target}` : link.target));
  if (lines.length === 0) return text;
  return [text, ...lines].filter((part) => part !== undefined && part !== '').join('\n');
}
