/**
 * Agent activity events (`type: "Event"`). Only typing exists today (research/genesys.md §1.4).
 */
import type { GenesysEvent, GenesysEventWebhook, GenesysWebhook } from './webhook.js';

/** Whether the webhook says the agent started typing (an `On` typing event). */
export function isTypingEvent(webhook: GenesysWebhook): webhook is GenesysEventWebhook {
  return webhook.kind === 'event' && webhook.events.some(isTypingOn);
}

/** How long to show the agent as typing, in milliseconds, when Genesys says so. */
export function typingDurationMs(webhook: GenesysEventWebhook): number | undefined {
  const duration = webhook.events.find(isTypingOn)?.typing?.duration;
  return duration !== undefined && Number.isFinite(duration) && duration > 0 ? duration : undefined;
}

function isTypingOn(event: GenesysEvent): boolean {
  // Inbound typing events carry no `typing` object at all; read its absence as "On".
  return event.eventType === 'Typing' && (event.typing?.type ?? 'On') === 'On';
}
