/**
 * Fallback rendering for what a platform cannot show natively (DESIGN §5): quick replies and
 * cards become numbered text, agent files become links. Connectors that declare the capability
 * get the structured parts untouched.
 */
import type { ConnectorCapabilities } from '../connector.js';
import type { Card, OutboundMessage } from '../messages.js';

export function adaptToCapabilities(message: OutboundMessage, capabilities: ConnectorCapabilities): OutboundMessage {
  const lines: string[] = message.text ? [message.text] : [];
  let { quickReplies, cards, attachments } = message;

  if (!capabilities.cards && cards.length > 0) {
    lines.push(...cards.map(renderCard));
    cards = [];
  }
  if (!capabilities.quickReplies && quickReplies.length > 0) {
    lines.push(quickReplies.map((reply, index) => `${index + 1}. ${reply.text}`).join('\n'));
    quickReplies = [];
  }
  if (!capabilities.attachments.outbound && attachments.length > 0) {
    lines.push(...attachments.map((file) => `${file.filename ?? file.mediaType}: ${file.url}`));
    attachments = [];
  }
  if (quickReplies === message.quickReplies && cards === message.cards && attachments === message.attachments) {
    return message;
  }
  const text = lines.join('\n\n');
  return { ...message, ...(text ? { text } : {}), quickReplies, cards, attachments };
}

function renderCard(card: Card): string {
  const lines = [card.title];
  if (card.description) lines.push(card.description);
  if (card.imageUrl) lines.push(card.imageUrl);
  card.actions.forEach((action, index) => {
    lines.push(action.type === 'link' ? `${action.text}: ${action.url}` : `${index + 1}. ${action.text}`);
  });
  return lines.join('\n');
}
