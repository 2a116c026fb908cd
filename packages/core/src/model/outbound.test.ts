import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { OutboundMessage } from '../messages.js';
import { parseGenesysWebhook, toOutboundMessage } from './index.js';

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`./__fixtures__/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;

/** Parses a webhook body the way the host does, then maps it. */
function outbound(body: unknown): OutboundMessage {
  const result = parseGenesysWebhook(body);
  if (!result.ok) throw new Error(result.error);
  if (result.webhook.kind !== 'message') throw new Error(`not a message: ${result.webhook.kind}`);
  return toOutboundMessage(result.webhook);
}

const structured = (content: unknown[], text?: string) => ({ ...fixture('bot-quick-replies'), text, content });

describe('toOutboundMessage', () => {
  it('maps an agent text message', () => {
    expect(outbound(fixture('agent-text'))).toEqual({
      id: 'c327c2078ca056db130c55ce648d9fa2',
      to: 'tg:123456789',
      text: 'Hello from the agent',
      attachments: [],
      quickReplies: [],
      cards: [],
      originatingEntity: 'Human',
      conversationId: 'd06cb41e-f938-4dcf-b823-c8af1a39d7e5',
    });
  });

  it('maps an attachment, contentSizeBytes becoming sizeBytes', () => {
    const message = outbound(fixture('agent-attachment'));
    expect(message.text).toBeUndefined();
    expect(message.attachments).toEqual([
      {
        mediaType: 'Image',
        url: 'https://api-downloads.usw2.pure.cloud/api/v2/downloads/abc',
        mime: 'image/jpeg',
        filename: 'image.jpg',
        sizeBytes: 10240,
      },
    ]);
  });

  it('maps every media type, including links with their text', () => {
    const message = outbound(
      structured([
        { contentType: 'Attachment', attachment: { mediaType: 'Video', url: 'https://x/v.mp4', mime: 'video/mp4' } },
        { contentType: 'Attachment', attachment: { mediaType: 'Audio', url: 'https://x/a.ogg' } },
        { contentType: 'Attachment', attachment: { mediaType: 'File', url: 'https://x/f.pdf', filename: 'f.pdf' } },
        { contentType: 'Attachment', attachment: { mediaType: 'Link', url: 'https://x', text: 'Our site' } },
      ]),
    );
    expect(message.attachments).toEqual([
      { mediaType: 'Video', url: 'https://x/v.mp4', mime: 'video/mp4' },
      { mediaType: 'Audio', url: 'https://x/a.ogg' },
      { mediaType: 'File', url: 'https://x/f.pdf', filename: 'f.pdf' },
      { mediaType: 'Link', url: 'https://x', text: 'Our site' },
    ]);
  });

  it('maps quick replies in order, the text standing in for a missing payload', () => {
    const message = outbound(fixture('bot-quick-replies'));
    expect(message).toMatchObject({ text: 'Do you want to proceed?', originatingEntity: 'Bot' });
    expect(message.quickReplies).toEqual([
      { text: 'Yes', payload: 'Yes' },
      { text: 'No', payload: 'No' },
    ]);
    expect(outbound(structured([{ contentType: 'QuickReply', quickReply: { text: 'Maybe' } }])).quickReplies).toEqual([
      { text: 'Maybe', payload: 'Maybe' },
    ]);
  });

  it('maps a card with link and postback actions and its image', () => {
    const message = outbound(
      structured([
        {
          contentType: 'Card',
          card: {
            title: 'Premium plan',
            description: '10 € a month',
            image: 'https://img/premium.png',
            actions: [
              { type: 'Link', text: 'Details', url: 'https://shop/premium' },
              { type: 'Postback', text: 'Subscribe', payload: 'plan:premium' },
              { type: 'Postback', payload: 'plan:later' },
              { type: 'Link', url: 'https://shop/faq' },
            ],
          },
        },
      ]),
    );
    expect(message.cards).toEqual([
      {
        title: 'Premium plan',
        description: '10 € a month',
        imageUrl: 'https://img/premium.png',
        actions: [
          { type: 'link', text: 'Details', url: 'https://shop/premium' },
          { type: 'postback', text: 'Subscribe', payload: 'plan:premium' },
          { type: 'postback', text: 'plan:later', payload: 'plan:later' },
          { type: 'link', text: 'https://shop/faq', url: 'https://shop/faq' },
        ],
      },
    ]);
  });

  it('flattens a carousel into its cards, in order, after a single card', () => {
    const message = outbound(
      structured([
        { contentType: 'Card', card: { title: 'First' } },
        {
          contentType: 'Carousel',
          carousel: {
            cards: [
              { title: 'Red', actions: [{ type: 'Postback', text: 'Red', payload: 'red' }] },
              { title: 'Blue', image: 'https://img/blue.png', actions: [] },
            ],
          },
        },
      ]),
    );
    expect(message.cards).toEqual([
      { title: 'First', actions: [] },
      { title: 'Red', actions: [{ type: 'postback', text: 'Red', payload: 'red' }] },
      { title: 'Blue', imageUrl: 'https://img/blue.png', actions: [] },
    ]);
  });

  it('uses the top-level text of a Notification template when present', () => {
    const message = outbound(fixture('notification-template'));
    expect(message.text).toBe('Hello\nHi Happy, How can I help you?\nGoodbye');
  });

  it('renders a template without top-level text from header, body and footer', () => {
    const { text: _text, ...body } = fixture('notification-template');
    expect(outbound(body).text).toBe('Hello\n\nHi Happy, How can I help you?\n\nGoodbye');
  });

  it('substitutes positional and named parameters and leaves unknown placeholders', () => {
    const message = outbound(
      structured([
        {
          contentType: 'Notification',
          template: {
            header: { text: 'Order {{order}}', parameters: [{ name: 'order', text: '#42' }] },
            body: {
              text: 'Hi {{1}}, your {{ item }} ships {{2}}. {{3}} {{nobody}}',
              parameters: [
                { name: 'name', text: 'Ana' },
                { text: 'today' },
                { name: 'item', text: 'lamp' },
              ],
            },
          },
        },
      ]),
    );
    expect(message.text).toBe('Order #42\n\nHi Ana, your lamp ships today. lamp {{nobody}}');
  });

  it('turns template buttons into quick replies and link lines', () => {
    const message = outbound(
      structured([
        {
          contentType: 'Notification',
          template: {
            body: { text: 'Your parcel is on its way.' },
            buttons: [
              { type: 'QuickReply', text: 'Thanks', payload: 'thanks' },
              { type: 'Url', text: 'Track it', url: 'https://track/1' },
              { type: 'QuickReply', text: 'Stop' },
              { type: 'PhoneNumber', text: 'Call us', phoneNumber: '+1 555 0100' },
              { type: 'Hologram', text: 'ignored' },
            ],
          },
        },
      ]),
    );
    expect(message.text).toBe('Your parcel is on its way.\nTrack it: https://track/1\nCall us: +1 555 0100');
    expect(message.quickReplies).toEqual([
      { text: 'Thanks', payload: 'thanks' },
      { text: 'Stop', payload: 'Stop' },
    ]);
    expect(message.cards).toEqual([]);
  });

  it('appends link lines to the top-level text unless it already shows the URL', () => {
    const template = {
      body: { text: 'Track: https://track/1' },
      buttons: [
        { type: 'Url', text: 'Track it', url: 'https://track/1' },
        { type: 'Url', text: 'Help', url: 'https://help' },
      ],
    };
    const message = outbound(structured([{ contentType: 'Notification', template }], 'Track: https://track/1'));
    expect(message.text).toBe('Track: https://track/1\nHelp: https://help');
  });

  it('makes a media header an attachment', () => {
    const message = outbound(
      structured([
        {
          contentType: 'Notification',
          template: { header: { type: 'Media', media: { url: 'https://img/h.png', mime: 'image/png' } }, body: { text: 'Hi' } },
        },
      ]),
    );
    expect(message.attachments).toEqual([{ mediaType: 'Image', url: 'https://img/h.png', mime: 'image/png' }]);
    expect(message.text).toBe('Hi');
  });

  it('keeps emoji text and ignores ButtonResponse echoes', () => {
    const message = outbound(
      structured([{ contentType: 'ButtonResponse', buttonResponse: { type: 'QuickReply', text: 'Yes', payload: 'Yes' } }], '👍 Done'),
    );
    expect(message).toMatchObject({ text: '👍 Done', attachments: [], quickReplies: [], cards: [] });
  });

  it('treats blank text as no text, falling back to the template', () => {
    expect(outbound({ ...fixture('agent-attachment'), text: '  ' }).text).toBeUndefined();
    expect(outbound({ ...fixture('notification-template'), text: '' }).text).toBe(
      'Hello\n\nHi Happy, How can I help you?\n\nGoodbye',
    );
  });

  it('leaves optional fields out rather than undefined', () => {
    const { conversationId: _c, originatingEntity: _o, text: _t, ...body } = fixture('agent-text');
    const message = outbound(body);
    expect(Object.keys(message).sort()).toEqual(['attachments', 'cards', 'id', 'quickReplies', 'to']);
  });
});
