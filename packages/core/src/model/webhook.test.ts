import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isTypingEvent, parseGenesysWebhook, typingDurationMs, type GenesysWebhook } from './index.js';

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`./__fixtures__/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;

function parsed(value: unknown): { webhook: GenesysWebhook; warnings: string[] } {
  const result = parseGenesysWebhook(value);
  if (!result.ok) throw new Error(`expected ok, got error: ${result.error}`);
  return result;
}

describe('parseGenesysWebhook: the documented examples', () => {
  it('reads an agent text message', () => {
    const { webhook, warnings } = parsed(fixture('agent-text'));
    expect(warnings).toEqual([]);
    expect(webhook).toEqual({
      kind: 'message',
      id: 'c327c2078ca056db130c55ce648d9fa2',
      type: 'Text',
      text: 'Hello from the agent',
      content: [],
      conversationId: 'd06cb41e-f938-4dcf-b823-c8af1a39d7e5',
      direction: 'Outbound',
      originatingEntity: 'Human',
      channel: {
        id: '73cb7fb7-c2db-4996-88f3-0a83a4fea1da',
        platform: 'Open',
        type: 'Private',
        messageId: 'c327c2078ca056db130c55ce648d9fa2',
        to: { id: 'tg:123456789', idType: 'Opaque' },
        from: { id: '73cb7fb7-c2db-4996-88f3-0a83a4fea1da', idType: 'Opaque', nickname: 'Open Messaging Integration' },
        time: '2024-02-01T15:04:05.123Z',
      },
    });
  });

  it('reads an attachment', () => {
    const { webhook, warnings } = parsed(fixture('agent-attachment'));
    expect(warnings).toEqual([]);
    expect(webhook.kind).toBe('message');
    if (webhook.kind !== 'message') return;
    expect(webhook.text).toBeUndefined();
    expect(webhook.content).toEqual([
      {
        contentType: 'Attachment',
        attachment: {
          id: '8b36304e-0000-4000-8000-000000000000',
          mediaType: 'Image',
          url: 'https://api-downloads.usw2.pure.cloud/api/v2/downloads/abc',
          mime: 'image/jpeg',
          filename: 'image.jpg',
          contentSizeBytes: 10240,
        },
      },
    ]);
  });

  it('reads bot quick replies as a Structured message', () => {
    const { webhook, warnings } = parsed(fixture('bot-quick-replies'));
    expect(warnings).toEqual([]);
    expect(webhook).toMatchObject({ kind: 'message', type: 'Structured', originatingEntity: 'Bot' });
    if (webhook.kind !== 'message') return;
    expect(webhook.content.map((item) => item.contentType === 'QuickReply' && item.quickReply)).toEqual([
      { text: 'Yes', payload: 'Yes', action: 'Message' },
      { text: 'No', payload: 'No', action: 'Message' },
    ]);
  });

  it('reads a Notification template', () => {
    const { webhook, warnings } = parsed(fixture('notification-template'));
    expect(warnings).toEqual([]);
    if (webhook.kind !== 'message') throw new Error(webhook.kind);
    expect(webhook.content).toEqual([
      {
        contentType: 'Notification',
        template: {
          header: { text: 'Hello' },
          body: { text: 'Hi {{1}}, How can I help you?', parameters: [{ name: 'name', text: 'Happy' }] },
          footer: { text: 'Goodbye' },
          buttons: [],
        },
      },
    ]);
  });

  it('reads an agent typing event', () => {
    const { webhook, warnings } = parsed(fixture('agent-typing'));
    expect(warnings).toEqual([]);
    expect(webhook).toMatchObject({
      kind: 'event',
      type: 'Event',
      channel: { to: { id: 'messaging-user@externalservice.com' } },
      events: [{ eventType: 'Typing', typing: { type: 'On', duration: 5000 } }],
    });
    expect(isTypingEvent(webhook)).toBe(true);
    if (webhook.kind === 'event') expect(typingDurationMs(webhook)).toBe(5000);
  });

  it('reads a Failed receipt with its reasons and metadata', () => {
    const { webhook, warnings } = parsed(fixture('failed-receipt'));
    expect(warnings).toEqual([]);
    expect(webhook).toMatchObject({
      kind: 'receipt',
      id: 'original-message-id',
      status: 'Failed',
      isFinalReceipt: false,
      reasons: [{ code: 'RateLimited', message: 'you have reached your limit' }],
      metadata: { customerKey: 'abc' },
      channel: { metadata: { customAttributes: { sourcePlatform: 'telegram' } } },
    });
    expect(isTypingEvent(webhook)).toBe(false);
  });
});

describe('parseGenesysWebhook: what must be there', () => {
  it('rejects a body without id, naming the path', () => {
    const { id: _id, ...body } = fixture('agent-text');
    expect(parseGenesysWebhook(body)).toEqual({ ok: false, error: 'id: Required' });
    expect(parseGenesysWebhook({ ...body, id: 42 })).toEqual({ ok: false, error: 'id: Expected string, received number' });
    expect(parseGenesysWebhook({ ...body, id: '' })).toEqual({ ok: false, error: 'id: Must not be empty' });
  });

  it('rejects a message without channel.to.id', () => {
    const text = fixture('agent-text');
    expect(parseGenesysWebhook({ ...text, channel: { platform: 'Open' } })).toEqual({
      ok: false,
      error: 'channel.to.id: Required',
    });
    expect(parseGenesysWebhook({ ...text, channel: undefined })).toEqual({ ok: false, error: 'channel.to.id: Required' });
    expect(parseGenesysWebhook({ ...text, type: 'Structured', channel: { to: { id: 7 } } })).toEqual({
      ok: false,
      error: 'channel.to.id: Expected string, received number',
    });
  });

  it('accepts a receipt without channel.to (it refers to a message by id)', () => {
    const { webhook } = parsed({ id: 'm1', type: 'Receipt', status: 'Delivered' });
    expect(webhook).toEqual({ kind: 'receipt', id: 'm1', type: 'Receipt', status: 'Delivered' });
  });

  // The intake answers these 200 and logs what they lack; a 400 would fail the conversation.
  it('accepts an event without channel.to.id, dropping the unusable part with a warning', () => {
    const { channel: _channel, ...typing } = fixture('agent-typing');
    expect(parsed(typing).webhook).toMatchObject({ kind: 'event', id: 't1', events: [{ eventType: 'Typing' }] });
    expect(parsed(typing).webhook).not.toHaveProperty('channel');
    const emptyTo = parsed({ ...typing, channel: { to: {} } });
    expect(emptyTo.webhook).toMatchObject({ kind: 'event', channel: {} });
    expect(emptyTo.warnings).toEqual(['channel.to.id: Required; ignored channel.to']);
  });

  it('accepts a receipt, event or unknown type without id', () => {
    expect(parsed({ type: 'Receipt', status: 'Failed' }).webhook).toEqual({ kind: 'receipt', type: 'Receipt', status: 'Failed' });
    expect(parsed({ type: 'Event', events: [] }).webhook).toEqual({ kind: 'event', type: 'Event', events: [] });
    expect(parseGenesysWebhook({ type: 'Reaction', id: '' })).toEqual({
      ok: true,
      webhook: { kind: 'unknown', type: 'Reaction' },
      warnings: ['type: "Reaction" is not a known webhook type', 'id: Must not be empty; ignored'],
    });
  });

  it('rejects what is not a JSON object', () => {
    expect(parseGenesysWebhook(null)).toEqual({ ok: false, error: 'Expected a JSON object, received null' });
    expect(parseGenesysWebhook([fixture('agent-text')])).toEqual({
      ok: false,
      error: 'Expected a JSON object, received array',
    });
    expect(parseGenesysWebhook('{"id":"x"}')).toEqual({ ok: false, error: 'Expected a JSON object, received string' });
  });
});

describe('parseGenesysWebhook: odd input', () => {
  it('accepts an unknown type as an unknown webhook, with a warning', () => {
    const { webhook, warnings } = parsed({ ...fixture('agent-text'), type: 'Reaction', text: undefined });
    expect(webhook).toMatchObject({ kind: 'unknown', type: 'Reaction', id: 'c327c2078ca056db130c55ce648d9fa2' });
    expect(warnings).toEqual(['type: "Reaction" is not a known webhook type']);
  });

  it('accepts a missing type as an unknown webhook', () => {
    const { webhook, warnings } = parsed({ id: 'x' });
    expect(webhook).toEqual({ kind: 'unknown', id: 'x', type: '' });
    expect(warnings).toEqual(['type: missing or not a string']);
  });

  it('ignores unknown fields everywhere', () => {
    const body = fixture('agent-attachment');
    const { webhook, warnings } = parsed({
      ...body,
      enrichment: { language: 'en' },
      relatedMessages: [],
      channel: { ...(body.channel as object), brandNew: true, to: { id: 'tg:1', avatar: 'x' } },
      content: (body.content as object[]).map((item) => ({ ...item, extra: 1 })),
    });
    expect(warnings).toEqual([]);
    expect(webhook).not.toHaveProperty('enrichment');
    expect(webhook).not.toHaveProperty('channel.brandNew');
    expect(webhook).toMatchObject({ channel: { to: { id: 'tg:1' } }, content: [{ contentType: 'Attachment' }] });
    expect(webhook).not.toHaveProperty('channel.to.avatar');
  });

  it('skips an unknown contentType with a warning and keeps the rest in order', () => {
    const { webhook, warnings } = parsed({
      ...fixture('bot-quick-replies'),
      content: [
        { contentType: 'QuickReply', quickReply: { text: 'A', payload: 'a' } },
        { contentType: 'Hologram', hologram: {} },
        { contentType: 'DatePicker', datePicker: {} },
        { notAContentType: true },
        { contentType: 'QuickReply', quickReply: { text: 'B', payload: 'b' } },
      ],
    });
    if (webhook.kind !== 'message') throw new Error(webhook.kind);
    expect(webhook.content.map((item) => item.contentType === 'QuickReply' && item.quickReply.text)).toEqual(['A', 'B']);
    expect(warnings).toEqual([
      'content.1: contentType "Hologram" is not supported; skipped',
      'content.2: contentType "DatePicker" is not supported; skipped',
      'content.3: contentType missing is not supported; skipped',
    ]);
  });

  it('accepts a message without text', () => {
    const { text: _text, ...body } = fixture('agent-text');
    const { webhook, warnings } = parsed(body);
    expect(warnings).toEqual([]);
    expect(webhook).toMatchObject({ kind: 'message', content: [] });
    expect(webhook).not.toHaveProperty('text');
  });

  it('keeps emoji and other non-ASCII text as sent', () => {
    const text = 'Привет 👋 — 你好 👩🏽‍💻';
    const { webhook } = parsed({ ...fixture('agent-text'), text });
    expect(webhook).toMatchObject({ text });
  });

  it('reads nickName (GILDAS spelling) as nickname', () => {
    const body = fixture('agent-text');
    const { webhook } = parsed({
      ...body,
      channel: { to: { id: 'tg:1', nickName: 'Bob' }, from: { id: 'integration', nickName: 'Support' } },
    });
    expect(webhook.channel?.from).toEqual({ id: 'integration', nickname: 'Support' });
    expect(webhook.channel?.to).toEqual({ id: 'tg:1', nickname: 'Bob' });
  });

  it('prefers nickname when both spellings are present', () => {
    const { webhook } = parsed({
      ...fixture('agent-text'),
      channel: { to: { id: 'tg:1' }, from: { id: 'i', nickname: 'Right', nickName: 'Wrong' } },
    });
    expect(webhook.channel?.from?.nickname).toBe('Right');
  });

  it('reads a carousel, dropping an unreadable card with a warning', () => {
    const { webhook, warnings } = parsed({
      ...fixture('bot-quick-replies'),
      text: undefined,
      content: [
        {
          contentType: 'Carousel',
          carousel: {
            cards: [
              { title: 'Red', image: 'https://img/red.png', actions: [{ type: 'Postback', text: 'Buy red', payload: 'red' }] },
              'not a card',
              { title: 'Blue', actions: [{ type: 'Link', text: 'More', url: 'https://shop/blue' }] },
            ],
          },
        },
      ],
    });
    if (webhook.kind !== 'message') throw new Error(webhook.kind);
    const [carousel] = webhook.content;
    expect(carousel?.contentType === 'Carousel' && carousel.carousel.cards.map((card) => card.title)).toEqual(['Red', 'Blue']);
    expect(warnings).toEqual(['content.0.carousel.cards.1: Expected object, received string; ignored']);
  });

  it('drops malformed optional fields with a warning instead of failing', () => {
    const { webhook, warnings } = parsed({
      ...fixture('agent-text'),
      text: 42,
      originatingEntity: 'Robot',
      conversationId: { nested: true },
      metadata: { ok: 'yes', bad: 1 },
    });
    expect(webhook).toMatchObject({ kind: 'message', metadata: { ok: 'yes' } });
    expect(webhook).not.toHaveProperty('text');
    expect(webhook).not.toHaveProperty('originatingEntity');
    expect(webhook).not.toHaveProperty('conversationId');
    expect([...warnings].sort()).toEqual([
      'conversationId: Expected string, received object; ignored',
      'metadata.bad: Expected string, received number; ignored',
      'originatingEntity: Expected one of "Human", "Bot"; ignored',
      'text: Expected string, received number; ignored',
    ]);
  });

  it('skips an attachment without a usable url, naming the field', () => {
    const { webhook, warnings } = parsed({
      ...fixture('agent-attachment'),
      content: [
        { contentType: 'Attachment', attachment: { mediaType: 'Image', url: 5 } },
        { contentType: 'Attachment', attachment: { mediaType: 'File', url: 'https://x/f.pdf', contentSizeBytes: 'big' } },
      ],
    });
    if (webhook.kind !== 'message') throw new Error(webhook.kind);
    expect(webhook.content).toEqual([{ contentType: 'Attachment', attachment: { mediaType: 'File', url: 'https://x/f.pdf' } }]);
    expect(warnings).toEqual([
      'content.0: unreadable Attachment skipped (content.0.attachment.url: Expected string, received number)',
      'content.1.attachment.contentSizeBytes: Expected number, received string; ignored',
    ]);
  });

  it('drops card actions of unknown type or missing their target', () => {
    const { webhook, warnings } = parsed({
      ...fixture('bot-quick-replies'),
      content: [
        {
          contentType: 'Card',
          card: {
            title: 'Plan',
            actions: [
              { type: 'Link', text: 'No url' },
              { type: 'Teleport', text: 'Beam me up' },
              { type: 'Postback' },
              { type: 'Postback', text: 'Choose', payload: 'plan-a' },
            ],
          },
        },
      ],
    });
    if (webhook.kind !== 'message') throw new Error(webhook.kind);
    expect(webhook.content).toEqual([
      { contentType: 'Card', card: { title: 'Plan', actions: [{ type: 'Postback', text: 'Choose', payload: 'plan-a' }] } },
    ]);
    expect(warnings).toEqual([
      'content.0.card.actions.0.url: Required; ignored content.0.card.actions.0',
      'content.0.card.actions.1.type: Expected one of "Link", "Postback"; ignored content.0.card.actions.1',
      'content.0.card.actions.2: A Postback action needs text or payload; ignored',
    ]);
  });

  it('never throws, whatever it is given', () => {
    const cyclic: Record<string, unknown> = { id: 'c', type: 'Text', channel: { to: { id: 'x' } } };
    cyclic.self = cyclic;
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('boom');
        },
      },
    );
    const inputs: unknown[] = [
      undefined,
      0,
      true,
      Symbol('s'),
      () => 1,
      {},
      { id: 'x', type: 'Text', channel: { to: { id: 'y' } }, content: 'nope' },
      { id: 'x', type: 'Text', channel: { to: { id: 'y' } }, content: [null, 1, [], { contentType: 5 }] },
      { id: 'x', type: 'Event', channel: { to: { id: 'y' } }, events: [null, { eventType: 1 }, { typing: 'x' }] },
      { id: 'x', type: 'Receipt', reasons: 'none', status: 3 },
      { id: 'x', type: 'Structured', channel: { to: { id: 'y' } }, content: [{ contentType: 'Carousel', carousel: 'x' }] },
      cyclic,
      hostile,
    ];
    for (const input of inputs) {
      const result = parseGenesysWebhook(input);
      expect(typeof result.ok).toBe('boolean');
    }
    expect(parseGenesysWebhook(hostile)).toEqual({ ok: false, error: 'Unreadable webhook: boom' });
    expect(parseGenesysWebhook(cyclic)).toMatchObject({ ok: true, webhook: { kind: 'message', id: 'c' } });
  });
});

describe('typing events', () => {
  const typing = (events: unknown[]) => {
    const { webhook } = parsed({ ...fixture('agent-typing'), events });
    if (webhook.kind !== 'event') throw new Error(webhook.kind);
    return webhook;
  };

  it('treats Typing without a typing object as On, without a duration', () => {
    const webhook = typing([{ eventType: 'Typing' }]);
    expect(isTypingEvent(webhook)).toBe(true);
    expect(typingDurationMs(webhook)).toBeUndefined();
  });

  it('is not typing for Off or for other event types', () => {
    expect(isTypingEvent(typing([{ eventType: 'Typing', typing: { type: 'Off' } }]))).toBe(false);
    expect(isTypingEvent(typing([{ eventType: 'Presence' }]))).toBe(false);
    expect(isTypingEvent(typing([]))).toBe(false);
  });

  it('ignores a duration that is not a positive number', () => {
    expect(typingDurationMs(typing([{ eventType: 'Typing', typing: { type: 'On', duration: 0 } }]))).toBeUndefined();
    expect(typingDurationMs(typing([{ eventType: 'Typing', typing: { type: 'On', duration: 'soon' } }]))).toBeUndefined();
  });

  it('finds the typing event among others', () => {
    const webhook = typing([{ eventType: 'Presence' }, { eventType: 'Typing', typing: { type: 'On', duration: 3000 } }]);
    expect(isTypingEvent(webhook)).toBe(true);
    expect(typingDurationMs(webhook)).toBe(3000);
  });

  it('is false for messages', () => {
    expect(isTypingEvent(parsed(fixture('agent-text')).webhook)).toBe(false);
  });
});
