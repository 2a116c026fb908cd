/**
 * Maps the connector-facing events to Open Messaging inbound bodies (research/genesys.md §3).
 * Pure functions: no I/O, so the mapping is tested on its own.
 */
import type { FailureReason, Customer, InboundButtonResponse, InboundMessage } from '../messages.js';
import type {
  InboundEventBody,
  InboundMessageBody,
  InboundReceiptBody,
  InboundStructuredResponseBody,
  OpenMessagingFrom,
} from '../genesys/types.js';

function fromCustomer(customer: Customer): OpenMessagingFrom {
  return {
    id: customer.id,
    idType: 'Opaque',
    ...(customer.nickname ? { nickname: customer.nickname } : {}),
    ...(customer.firstName ? { firstName: customer.firstName } : {}),
    ...(customer.lastName ? { lastName: customer.lastName } : {}),
    ...(customer.email ? { email: customer.email } : {}),
    ...(customer.image ? { image: customer.image } : {}),
  };
}

function channelMetadata(customAttributes: Record<string, string> | undefined) {
  return customAttributes && Object.keys(customAttributes).length > 0 ? { metadata: { customAttributes } } : {};
}

/** A queued customer message as stored in the to-genesys queue (dates as ISO strings). */
export type QueuedInboundMessage = Omit<InboundMessage, 'time'> & { time: string };
export type QueuedButtonResponse = Omit<InboundButtonResponse, 'time'> & { time: string };

export function messageBody(
  message: QueuedInboundMessage,
  refreshUrl: (url: string) => string = (url) => url,
): InboundMessageBody {
  const attachments = message.attachments ?? [];
  return {
    channel: {
      messageId: message.platformMessageId,
      from: fromCustomer(message.customer),
      time: message.time,
      ...channelMetadata(message.customAttributes),
    },
    ...(message.text ? { text: message.text } : {}),
    ...(attachments.length > 0
      ? {
          content: attachments.map((attachment) => ({
            contentType: 'Attachment' as const,
            attachment: {
              mediaType: attachment.mediaType,
              url: refreshUrl(attachment.url),
              mime: attachment.mime,
              ...(attachment.filename ? { filename: attachment.filename } : {}),
            },
          })),
        }
      : {}),
  };
}

export function structuredResponseBody(press: QueuedButtonResponse): InboundStructuredResponseBody {
  return {
    channel: {
      messageId: press.platformMessageId,
      from: fromCustomer(press.customer),
      time: press.time,
      ...channelMetadata(press.customAttributes),
    },
    buttonResponse: { type: press.type, text: press.text, payload: press.payload },
    originatingMessageId: press.originatingMessageId,
  };
}

export function typingBody(customer: Customer, time: Date): InboundEventBody {
  return {
    channel: { from: fromCustomer(customer), time: time.toISOString() },
    events: [{ eventType: 'Typing', typing: { type: 'On' } }],
  };
}

export function receiptBody(
  genesysMessageId: string,
  customerId: string,
  time: Date,
  failure?: FailureReason,
): InboundReceiptBody {
  return {
    id: genesysMessageId,
    channel: { to: { id: customerId, idType: 'Opaque' }, time: time.toISOString() },
    status: failure ? 'Failed' : 'Delivered',
    ...(failure ? { reasons: [{ code: failure.code, message: failure.message }] } : {}),
    direction: 'Outbound',
    isFinalReceipt: true,
  };
}
