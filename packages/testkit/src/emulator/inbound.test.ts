import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startGenesysEmulator } from './emulator.js';
import type { GenesysEmulator } from './types.js';

const INTEGRATION = 'a6f3c2d0-0000-4000-8000-000000000001';
const OTHER_INTEGRATION = 'a6f3c2d0-0000-4000-8000-000000000002';
const PATHS = {
  message: 'message',
  receipt: 'receipt',
  event: 'event',
  'structured-response': 'structured/response',
} as const;
type Endpoint = keyof typeof PATHS;

let emulator: GenesysEmulator;
let token: string;

beforeEach(async () => {
  emulator = await startGenesysEmulator();
  for (const id of [INTEGRATION, OTHER_INTEGRATION]) {
    emulator.addIntegration({ id, webhookUrl: 'http://127.0.0.1:9/unused', webhookSecret: 'unused-secret-0123456789' });
  }
  const { clientId, clientSecret } = emulator.defaultClient;
  const response = await fetch(`${emulator.url}/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  token = ((await response.json()) as { access_token: string }).access_token;
});

afterEach(async () => {
  await emulator.close();
});

async function post(endpoint: Endpoint, body: unknown, options: { integrationId?: string; query?: string } = {}) {
  const url = `${emulator.url}/api/v2/conversations/messages/${options.integrationId ?? INTEGRATION}/inbound/open/${PATHS[endpoint]}${options.query ?? ''}`;
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

const TIME = '2024-02-01T15:04:05.123Z';
const from = (id = 'tg:123456789') => ({ id, idType: 'Opaque', nickname: 'bob', firstName: 'Bob', lastName: 'Minion' });
const message = (overrides: Record<string, unknown> = {}) => ({
  channel: { messageId: 'tg-4711', from: from(), time: TIME },
  text: 'Hello, I need help',
  ...overrides,
});
const receipt = (overrides: Record<string, unknown> = {}) => ({
  id: 'c327c2078ca056db130c55ce648d9fa2',
  channel: { to: { id: 'tg:123456789', idType: 'Opaque' }, time: TIME },
  status: 'Delivered',
  direction: 'Outbound',
  isFinalReceipt: true,
  ...overrides,
});
const event = (overrides: Record<string, unknown> = {}) => ({
  channel: { from: from(), time: TIME },
  events: [{ eventType: 'Typing' }],
  ...overrides,
});
const structured = (overrides: Record<string, unknown> = {}) => ({
  channel: { from: from(), time: TIME, messageId: 'press-1' },
  buttonResponse: { type: 'QuickReply', text: 'Yes', payload: 'YES' },
  originatingMessageId: 'c327c2078ca056db130c55ce648d9fa2',
  ...overrides,
});

function expectBadRequest(result: { status: number; body: Record<string, any> }, fragment: string) {
  expect(result.status).toBe(400);
  expect(result.body).toEqual({
    message: expect.stringContaining(fragment),
    code: 'bad.request',
    status: 400,
    contextId: expect.any(String),
    details: [],
    errors: [],
  });
}

describe('inbound message', () => {
  it('answers like Genesys: a fresh id, the channel completed, no conversationId unless prefetched', async () => {
    const attachment = {
      contentType: 'Attachment',
      attachment: { mediaType: 'Image', url: 'https://media.example.com/a.jpg', mime: 'image/jpeg', filename: 'a.jpg' },
    };
    const result = await post('message', message({ content: [attachment] }));

    expect(result.status).toBe(200);
    expect(result.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{32}$/),
      channel: { messageId: 'tg-4711', from: from(), time: TIME, id: INTEGRATION, platform: 'Open', type: 'Private' },
      type: 'Text',
      text: 'Hello, I need help',
      content: [attachment],
      direction: 'Inbound',
    });
    const [record] = emulator.inbound();
    expect(record).toMatchObject({
      kind: 'message',
      integrationId: INTEGRATION,
      status: 200,
      messageId: result.body['id'],
      conversationId: emulator.conversationFor(INTEGRATION, 'tg:123456789')?.id,
      body: message({ content: [attachment] }),
      response: result.body,
    });
    expect(record?.receivedAt).toEqual(expect.any(Number));
  });

  it('returns the conversation id with prefetchConversationId=true', async () => {
    const result = await post('message', message(), { query: '?prefetchConversationId=true' });
    expect(result.status).toBe(200);
    expect(result.body['conversationId']).toBe(emulator.conversationFor(INTEGRATION, 'tg:123456789')?.id);
    expect(result.body['conversationId']).toEqual(expect.any(String));
  });

  it('keeps one conversation per integration and customer, with the latest profile', async () => {
    await post('message', message());
    await post('message', message({ channel: { from: { ...from(), nickname: 'bobby' }, time: TIME } }));
    await post('message', message({ channel: { from: from('tg:2'), time: TIME } }));
    await post('message', message(), { integrationId: OTHER_INTEGRATION });

    const conversations = emulator.conversations();
    expect(conversations).toHaveLength(3);
    const bob = emulator.conversationFor(INTEGRATION, 'tg:123456789');
    expect(bob).toEqual({
      id: expect.any(String),
      integrationId: INTEGRATION,
      customerId: 'tg:123456789',
      customer: { id: 'tg:123456789', nickname: 'bobby', firstName: 'Bob', lastName: 'Minion' },
    });
    const [first, second] = emulator.inbound({ integrationId: INTEGRATION });
    expect(first?.conversationId).toBe(bob?.id);
    expect(second?.conversationId).toBe(bob?.id);
    expect(emulator.conversationFor(OTHER_INTEGRATION, 'tg:123456789')?.id).not.toBe(bob?.id);
    expect(emulator.conversationFor(INTEGRATION, 'tg:2')?.id).not.toBe(bob?.id);
    expect(emulator.conversationFor(INTEGRATION, 'tg:nobody')).toBeUndefined();
  });

  it('accepts idType in any case and participant data under channel.metadata', async () => {
    const result = await post(
      'message',
      message({
        channel: { from: { id: 'bob@example.com', idType: 'email' }, time: TIME, metadata: { customAttributes: { chatId: '42' } } },
        metadata: { source: 'telegram' },
      }),
    );
    expect(result.status).toBe(200);
  });

  it('answers 404 for an unknown integration', async () => {
    const result = await post('message', message(), { integrationId: 'no-such-integration' });
    expect(result.status).toBe(404);
    expect(result.body).toMatchObject({ code: 'not.found', status: 404 });
  });

  it('answers 413 above 512000 bytes and accepts a body of exactly that size', async () => {
    const base = JSON.stringify(message({ text: '' }));
    const exact = JSON.stringify(message({ text: 'x'.repeat(512_000 - base.length) }));
    expect(Buffer.byteLength(exact)).toBe(512_000);
    expect((await post('message', exact)).status).toBe(200);

    const tooBig = await post('message', JSON.stringify(message({ text: 'x'.repeat(512_001 - base.length) })));
    expect(tooBig.status).toBe(413);
    expect(tooBig.body).toMatchObject({ status: 413 });
    expect(emulator.inbound({ includeRejected: true }).map((r) => r.status)).toEqual([200, 413]);
  });

  it('answers 400 to malformed JSON and to a body that is not an object', async () => {
    expectBadRequest(await post('message', '{"channel":'), 'malformed syntax');
    expectBadRequest(await post('message', '[1,2]'), 'JSON object');
  });
});

describe('inbound validation (400 bad.request)', () => {
  const missingFrom = (field: 'id' | 'idType') => {
    const { [field]: _dropped, ...rest } = from();
    return rest;
  };
  const cases: Array<[string, Endpoint, unknown, string]> = [
    [
      'a message without text and content',
      'message',
      { channel: { from: from(), time: TIME } },
      "should have required property 'content', should have required property '.text'",
    ],
    ['a message without channel.from.id', 'message', message({ channel: { from: missingFrom('id'), time: TIME } }), "channel.from: should have required property 'id'"],
    ['a message without channel.from.idType', 'message', message({ channel: { from: missingFrom('idType'), time: TIME } }), "channel.from: should have required property 'idType'"],
    ['a message without channel.time', 'message', message({ channel: { from: from() } }), "channel: should have required property 'time'"],
    ['a message with a time that is not ISO-8601', 'message', message({ channel: { from: from(), time: '1706799845' } }), 'channel.time: should match format "date-time"'],
    [
      'an unknown idType',
      'message',
      message({ channel: { from: { id: 'x', idType: 'Telegram' }, time: TIME } }),
      'channel.from.idType: should be equal to one of the allowed values: Email, Phone, Opaque',
    ],
    [
      'customAttributes in top-level metadata',
      'message',
      message({ metadata: { customAttributes: { chatId: '42' } } }),
      'send it as channel.metadata.customAttributes',
    ],
    ['a top-level metadata value that is not a string', 'message', message({ metadata: { chatId: 42 } }), 'metadata.chatId: should be string'],
    [
      'an attachment without url and mime',
      'message',
      message({ content: [{ contentType: 'Attachment', attachment: { mediaType: 'Image' } }] }),
      "content.0.attachment: should have required property 'url'",
    ],
    ['a receipt with status Read', 'receipt', receipt({ status: 'Read' }), 'status: should be equal to one of the allowed values: Delivered, Failed'],
    ['a receipt without id', 'receipt', receipt({ id: undefined }), "should have required property 'id'"],
    ['a receipt without channel.to.id', 'receipt', receipt({ channel: { to: { idType: 'Opaque' }, time: TIME } }), "channel.to: should have required property 'id'"],
    ['an event of another type', 'event', event({ events: [{ eventType: 'Presence' }] }), 'events.0.eventType: should be equal to one of the allowed values: Typing'],
    ['an event without events', 'event', event({ events: undefined }), "should have required property 'events'"],
    ['an event with no events', 'event', event({ events: [] }), 'events: should not be empty'],
    ['a structured response without buttonResponse', 'structured-response', structured({ buttonResponse: undefined }), "should have required property 'buttonResponse'"],
    [
      'a structured response without originatingMessageId',
      'structured-response',
      structured({ originatingMessageId: undefined }),
      "should have required property 'originatingMessageId'",
    ],
  ];

  it.each(cases)('rejects %s', async (_name, endpoint, body, fragment) => {
    const result = await post(endpoint, body);
    expectBadRequest(result, fragment);
    expect(emulator.inbound()).toHaveLength(0);
    expect(emulator.inbound({ includeRejected: true })).toEqual([
      expect.objectContaining({ kind: endpoint, status: 400, response: result.body }),
    ]);
    expect(emulator.conversations()).toHaveLength(0);
  });
});

describe('receipts, events and structured responses', () => {
  it('answers a receipt with the receipt, and accepts one for a message it does not know', async () => {
    const failed = receipt({ status: 'Failed', reasons: [{ code: 'RecipientOptedOut', message: 'blocked' }] });
    const result = await post('receipt', failed);
    expect(result.status).toBe(200);
    expect(result.body).toEqual({
      id: 'c327c2078ca056db130c55ce648d9fa2',
      channel: { to: { id: 'tg:123456789', idType: 'Opaque' }, time: TIME, id: INTEGRATION, platform: 'Open', type: 'Private' },
      type: 'Receipt',
      status: 'Failed',
      reasons: [{ code: 'RecipientOptedOut', message: 'blocked' }],
      isFinalReceipt: true,
      direction: 'Outbound',
    });
    expect(emulator.inbound({ kind: 'receipt' })[0]?.conversationId).toBeUndefined();
  });

  it('echoes a typing event with an id, in the customer’s conversation if there is one', async () => {
    const before = await post('event', event());
    expect(before.status).toBe(200);
    expect(before.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{32}$/),
      channel: { from: from(), time: TIME, id: INTEGRATION, platform: 'Open', type: 'Private' },
      type: 'Event',
      events: [{ eventType: 'Typing' }],
      direction: 'Inbound',
    });
    expect(emulator.conversations()).toHaveLength(0);

    await post('message', message());
    await post('event', event({ events: [{ eventType: 'Typing', typing: { type: 'On', duration: 5000 } }] }));
    const events = emulator.inbound({ kind: 'event' });
    expect(events[0]?.conversationId).toBeUndefined();
    expect(events[1]?.conversationId).toBe(emulator.conversationFor(INTEGRATION, 'tg:123456789')?.id);
  });

  it('threads a structured response into the customer’s conversation', async () => {
    const result = await post('structured-response', structured());
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f]{32}$/),
      type: 'Structured',
      content: [{ contentType: 'ButtonResponse', buttonResponse: { type: 'QuickReply', text: 'Yes', payload: 'YES' } }],
      originatingMessageId: 'c327c2078ca056db130c55ce648d9fa2',
      direction: 'Inbound',
    });
    const [record] = emulator.inbound({ kind: 'structured-response' });
    expect(record?.messageId).toBe(result.body['id']);
    expect(record?.conversationId).toBe(emulator.conversationFor(INTEGRATION, 'tg:123456789')?.id);
  });
});

describe('recorded traffic', () => {
  it('filters by integration and kind, and keeps rejected requests apart', async () => {
    await post('message', message());
    await post('event', event());
    await post('message', message(), { integrationId: OTHER_INTEGRATION });
    await post('receipt', receipt({ status: 'Read' }));

    expect(emulator.inbound().map((r) => r.kind)).toEqual(['message', 'event', 'message']);
    expect(emulator.inbound({ kind: 'message' })).toHaveLength(2);
    expect(emulator.inbound({ integrationId: OTHER_INTEGRATION }).map((r) => r.kind)).toEqual(['message']);
    expect(emulator.inbound({ includeRejected: true }).map((r) => r.status)).toEqual([200, 200, 200, 400]);
    expect(emulator.inbound({ kind: 'receipt', includeRejected: true })).toHaveLength(1);
  });

  it('waitForInbound resolves with a past or a future match and rejects after its timeout', async () => {
    await post('message', message({ text: 'first' }));
    await expect(emulator.waitForInbound((r) => r.body.text === 'first')).resolves.toMatchObject({ kind: 'message' });

    const future = emulator.waitForInbound((r) => r.body.text === 'second');
    await post('message', message({ text: 'rejected', metadata: { n: 1 } }));
    await post('message', message({ text: 'second' }));
    await expect(future).resolves.toMatchObject({ status: 200, body: { text: 'second' } });

    await expect(emulator.waitForInbound((r) => r.body.text === 'never', 50)).rejects.toThrow(/within 50 ms/);
  });

  it('reset() forgets traffic and conversations but keeps integrations and tokens', async () => {
    await post('message', message());
    emulator.reset();
    expect(emulator.inbound({ includeRejected: true })).toEqual([]);
    expect(emulator.conversations()).toEqual([]);
    expect(emulator.integrations().map((i) => i.id)).toEqual([INTEGRATION, OTHER_INTEGRATION]);
    expect((await post('message', message())).status).toBe(200);
  });
});
