export * from './content.js';
export * from './webhook.js';
export { toOutboundMessage } from './outbound.js';
export { isTypingEvent, typingDurationMs } from './events.js';
