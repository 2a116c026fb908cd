import { describe, expect, it } from 'vitest';
import { messageBody, receiptBody, structuredResponseBody, typingBody } from './genesys-bodies.js';

const customer = { id: 'tg:123456789', nickname: 'bob', firstName: 'Bob', lastName: 'Minion' };

describe('Open Messaging inbound bodies', () => {
  it('maps a customer message with a file and custom attributes (research/genesys.md §3.1)', () => {
    const body = messageBody(
      {
        kind: 'message',
        platformMessageId: '123456789:4711',
        customer,
        text: 'Hello, I need help',
        attachments: [{ mediaType: 'Image', url: 'https://bridge/media/t1', mime: 'image/jpeg', filename: 'abc.jpg' }],
        customAttributes: { language: 'en' },
        time: '2024-02-01T15:04:05.123Z',
      },
      (url) => `${url}?fresh`,
    );
    expect(body).toEqual({
      channel: {
        messageId: '123456789:4711',
        from: { id: 'tg:123456789', idType: 'Opaque', nickname: 'bob', firstName: 'Bob', lastName: 'Minion' },
        time: '2024-02-01T15:04:05.123Z',
        metadata: { customAttributes: { language: 'en' } },
      },
      text: 'Hello, I need help',
      content: [
        {
          contentType: 'Attachment',
          attachment: { mediaType: 'Image', url: 'https://bridge/media/t1?fresh', mime: 'image/jpeg', filename: 'abc.jpg' },
        },
      ],
    });
  });

  it('omits what is absent: no content, no metadata', () => {
    const body = messageBody({ kind: 'message', platformMessageId: 'p', customer: { id: 'x' }, text: 'hi', time: 't' });
    expect(body).toEqual({ channel: { messageId: 'p', from: { id: 'x', idType: 'Opaque' }, time: 't' }, text: 'hi' });
  });

  it('maps receipts: Delivered, and Failed with a reason', () => {
    const time = new Date('2024-02-01T16:47:08.592Z');
    expect(receiptBody('g1', 'tg:1', time)).toEqual({
      id: 'g1',
      channel: { to: { id: 'tg:1', idType: 'Opaque' }, time: '2024-02-01T16:47:08.592Z' },
      status: 'Delivered',
      direction: 'Outbound',
      isFinalReceipt: true,
    });
    expect(receiptBody('g1', 'tg:1', time, { code: 'RecipientOptedOut', message: 'The customer has blocked the bot' })).toMatchObject({
      status: 'Failed',
      reasons: [{ code: 'RecipientOptedOut', message: 'The customer has blocked the bot' }],
    });
  });

  it('maps typing and button presses', () => {
    expect(typingBody(customer, new Date(0)).events).toEqual([{ eventType: 'Typing', typing: { type: 'On' } }]);
    const press = structuredResponseBody({
      kind: 'button-response',
      platformMessageId: 'cb-1',
      customer,
      originatingMessageId: 'g-structured',
      type: 'QuickReply',
      text: 'Yes',
      payload: 'yes',
      time: 't',
    });
    expect(press).toEqual({
      channel: { messageId: 'cb-1', from: expect.objectContaining({ id: 'tg:123456789' }), time: 't' },
      buttonResponse: { type: 'QuickReply', text: 'Yes', payload: 'yes' },
      originatingMessageId: 'g-structured',
    });
  });
});
