import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  PermanentError,
  RetryableError,
  type Connector,
  type ConnectorContext,
  type OutboundMessage,
} from '@parley/core';
import { createTestContext, type TestContextOptions } from '../test-context.js';
import { referenceConnector } from './connector.js';
import { referenceOptionsSchema, type ReferenceOptionsInput } from './options.js';
import { startReferencePlatform, type ReferencePlatform } from './platform.js';

/** The connector's context as a host gives one, backed by memory (see createTestContext). */
const testContext = (options: TestContextOptions = {}) => createTestContext({ id: 'ref-test', ...options });

function outbound(to: string, parts: Partial<OutboundMessage> = {}): OutboundMessage {
  return { id: `g${Math.random().toString(16).slice(2)}`, to, attachments: [], quickReplies: [], cards: [], ...parts };
}

async function eventually<T>(probe: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

let platform: ReferencePlatform;
const running: Connector[] = [];

function connect(context: ConnectorContext, overrides: Partial<ReferenceOptionsInput> = {}): Connector {
  const options = referenceOptionsSchema.parse({
    apiUrl: platform.url,
    token: platform.token,
    pollTimeoutSeconds: 5,
    pollRetryMinMs: 5,
    pollRetryMaxMs: 20,
    ...overrides,
  });
  const connector = referenceConnector.create(options, context);
  running.push(connector);
  return connector;
}

beforeEach(async () => {
  platform = await startReferencePlatform();
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((connector) => connector.stop()));
  await platform.close();
});

describe('reference connector options', () => {
  it('applies defaults and trims the API URL', () => {
    expect(referenceOptionsSchema.parse({ apiUrl: 'http://127.0.0.1:9/', token: 't' })).toMatchObject({
      apiUrl: 'http://127.0.0.1:9',
      pollTimeoutSeconds: 10,
    });
  });

  it('names the key of every invalid option', () => {
    const result = referenceOptionsSchema.safeParse({ apiUrl: 'ftp://example.com', token: '', pollTimeoutSeconds: 99 });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join('.')).sort()).toEqual(['apiUrl', 'pollTimeoutSeconds', 'token']);
  });
});

describe('reference connector inbound', () => {
  it('maps a customer message with its profile, stable id, language and time', async () => {
    const { context, received } = testContext();
    await connect(context).start();
    const update = platform
      .customer(42, { name: 'ana', firstName: 'Ana', lastName: 'Lima', language: 'pt-BR' })
      .sendText('Olá');

    await eventually(() => received.length === 1);
    expect(received[0]).toEqual({
      kind: 'message',
      platformMessageId: `42:${update.message.id}`,
      customer: { id: 'ref:42', nickname: 'ana', firstName: 'Ana', lastName: 'Lima' },
      text: 'Olá',
      customAttributes: { language: 'pt-BR' },
      time: new Date(update.message.date * 1000),
    });
  });

  it('publishes files through the media publisher, typed by their mime', async () => {
    const { context, received } = testContext();
    const connector = connect(context);
    await connector.start();
    const customer = platform.customer(43);
    const files = [
      { mime: 'image/jpeg', mediaType: 'Image' },
      { mime: 'video/mp4', mediaType: 'Video' },
      { mime: 'audio/ogg', mediaType: 'Audio' },
      { mime: 'application/pdf', mediaType: 'File' },
    ];
    const updates = files.map(({ mime }, index) =>
      customer.sendFile({ data: Buffer.from(`file ${index}`), mime, filename: `f${index}` }),
    );

    await eventually(() => received.length === files.length);
    received.forEach((event, index) => {
      const fileId = updates[index]!.message.file!.fileId;
      expect(event).toMatchObject({
        kind: 'message',
        attachments: [{ mediaType: files[index]!.mediaType, mime: files[index]!.mime, url: expect.stringContaining(fileId) }],
      });
      expect(JSON.stringify(event)).not.toContain(platform.token);
    });

    const opened = await connector.openMedia!(updates[3]!.message.file!.fileId);
    const chunks: Buffer[] = [];
    for await (const chunk of opened.body) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('file 3');
    expect(opened.mime).toBe('application/pdf');
  });

  it('maps typing, and a press of a button it did not send as plain text', async () => {
    const { context, received } = testContext();
    await connect(context).start();
    const customer = platform.customer(44);
    customer.typing();
    // A bot message that did not come through Parley: no origin is stored for it.
    await sendAsAnotherBot(platform, { chatId: '44', text: 'Old menu', replyMarkup: { buttons: [{ text: 'Menu', payload: 'menu' }] } });
    const press = customer.pressButton(platform.sent(44)[0]!.id, 'menu');

    await eventually(() => received.length === 2);
    expect(received[0]).toEqual({ kind: 'typing', customer: { id: 'ref:44', nickname: 'customer44' } });
    expect(received[1]).toMatchObject({ kind: 'message', platformMessageId: `callback:${press.button_press.callbackId}`, text: 'Menu' });
    await eventually(() => platform.answeredCallbacks().includes(press.button_press.callbackId));
  });

  it('confirms an update only after receive() resolved, so a failed hand-off is polled again', async () => {
    const { context, received, values, failNextReceive } = testContext();
    failNextReceive(new RetryableError('STORE', 'the queue is briefly unavailable'));
    await connect(context).start();
    const update = platform.customer(45).sendText('keep me');

    await eventually(() => received.length === 1);
    expect(received[0]).toMatchObject({ text: 'keep me' });
    await eventually(() => values.get('updates-offset') === String(update.update_id + 1));
    await eventually(() => platform.pendingUpdates().length === 0);
  });

  it('resumes from the stored offset after a restart', async () => {
    const first = testContext();
    const connector = connect(first.context);
    await connector.start();
    platform.customer(46).sendText('before the restart');
    await eventually(() => first.received.length === 1);
    await connector.stop();

    platform.customer(46).sendText('after the restart');
    const second = testContext({ store: first.context.store });
    await connect(second.context).start();
    await eventually(() => second.received.length === 1);
    expect(second.received.map((event) => (event.kind === 'message' ? event.text : event.kind))).toEqual(['after the restart']);
  });

  it('skips an update core rejects permanently instead of blocking the chat', async () => {
    const { context, received } = testContext({
      beforeReceive: async (event) => {
        if (event.kind === 'message' && event.text === 'poison') throw new PermanentError('PAYLOAD_INVALID', 'cannot take it');
      },
    });
    await connect(context).start();
    platform.customer(47).sendText('poison');
    platform.customer(47).sendText('fine');
    await eventually(() => received.length === 1);
    expect(received[0]).toMatchObject({ text: 'fine' });
  });

  it('reports failing polls in readiness and recovers', async () => {
    const { context, received } = testContext();
    const connector = connect(context);
    platform.failNext({ method: 'updates', status: 503, times: 3 });
    await connector.start();
    await eventually(() => connector.readiness?.().ready === false);
    expect(connector.readiness?.().detail).toMatch(/Polling the platform failed: .*HTTP 503/);
    // The first poll that succeeds again brings this message and clears the error.
    platform.customer(48).sendText('back again');
    await eventually(() => received.length === 1);
    expect(connector.readiness?.()).toEqual({ ready: true });
  });

  it('says in readiness that the token is wrong', async () => {
    const { context } = testContext();
    const connector = connect(context, { token: 'not-the-token' });
    await connector.start();
    await eventually(() => connector.readiness?.().ready === false);
    expect(connector.readiness?.().detail).toMatch(/token/);
    expect(connector.readiness?.().detail).not.toContain('not-the-token');
  });

  it('starts and stops idempotently, and stop() ends a long poll in flight', async () => {
    const { context } = testContext();
    const idle = connect(context, { pollTimeoutSeconds: 50 });
    await idle.stop();
    await idle.start();
    await idle.start();
    // Let the first long poll reach the platform, then stop: it must not wait the 50 s out.
    await new Promise((resolve) => setTimeout(resolve, 20));
    await idle.stop();
    await idle.stop();
  }, 10_000);
});

describe('reference connector outbound', () => {
  it('splits long text into ordered parts within the limit and returns every id', async () => {
    const { context } = testContext();
    const connector = connect(context);
    platform.customer(50);
    const words = Array.from({ length: 1500 }, (_, index) => `word${index}`).join(' ');
    const result = await connector.send(outbound('ref:50', { text: words }));

    const sent = platform.sent(50);
    expect(sent.length).toBeGreaterThan(1);
    for (const message of sent) expect(message.text!.length).toBeLessThanOrEqual(4000);
    expect(sent.map((message) => message.text).join(' ')).toBe(words);
    expect(result.platformMessageIds).toEqual(sent.map((message) => `50:${message.id}`));
    expect(result.platformMessageId).toBe(`50:${sent[0]!.id}`);
  });

  it('never cuts an emoji in two when the text has no spaces', async () => {
    const { context } = testContext();
    platform.customer(51);
    const text = `${'a'.repeat(3999)}${'😀'.repeat(10)}`;
    await connect(context).send(outbound('ref:51', { text }));
    const parts = platform.sent(51).map((message) => message.text!);
    expect(parts[0]).toBe('a'.repeat(3999));
    expect(parts.join('')).toBe(text);
  });

  it('puts quick replies under the text and answers their press with the Genesys message id', async () => {
    const { context, received } = testContext();
    const connector = connect(context);
    await connector.start();
    const customer = platform.customer(52);
    const message = outbound('ref:52', {
      text: 'Continue?',
      quickReplies: [
        { text: 'Yes', payload: 'Y' },
        { text: 'No', payload: 'N' },
      ],
    });
    await connector.send(message);
    const [sent] = platform.sent(52);
    expect(sent).toMatchObject({ text: 'Continue?', buttons: [{ text: 'Yes', payload: 'Y' }, { text: 'No', payload: 'N' }] });

    const press = customer.pressButton(sent!.id, 'N');
    await eventually(() => received.length === 1);
    expect(received[0]).toEqual({
      kind: 'button-response',
      platformMessageId: press.button_press.callbackId,
      customer: { id: 'ref:52', nickname: 'customer52' },
      originatingMessageId: message.id,
      type: 'QuickReply',
      text: 'No',
      payload: 'N',
    });
    await eventually(() => platform.answeredCallbacks().includes(press.button_press.callbackId));
  });

  it('sends each card with postback and link buttons; a postback press is a Button response', async () => {
    const { context, received } = testContext();
    const connector = connect(context);
    await connector.start();
    const customer = platform.customer(53);
    const message = outbound('ref:53', {
      cards: [
        {
          title: 'Basic',
          description: 'For a start',
          actions: [
            { type: 'postback', text: 'Pick Basic', payload: 'basic' },
            { type: 'link', text: 'Compare', url: 'https://example.com/compare' },
          ],
        },
        { title: 'Pro', actions: [{ type: 'postback', text: 'Pick Pro', payload: 'pro' }] },
      ],
    });
    await connector.send(message);
    const sent = platform.sent(53);
    expect(sent.map((card) => card.text)).toEqual(['Basic\nFor a start', 'Pro']);
    expect(sent[0]!.buttons).toEqual([
      { text: 'Pick Basic', payload: 'basic' },
      { text: 'Compare', url: 'https://example.com/compare' },
    ]);

    customer.pressButton(sent[1]!.id, 'pro');
    await eventually(() => received.length === 1);
    expect(received[0]).toMatchObject({ kind: 'button-response', type: 'Button', payload: 'pro', originatingMessageId: message.id });
  });

  it('uploads agent files and sends link attachments as text', async () => {
    const { context, agentFiles } = testContext();
    platform.customer(54);
    const data = Buffer.from('GIF89a tiny');
    agentFiles.set('https://genesys.test/d/1', { data, mime: 'image/gif', filename: 'wave.gif' });
    await connect(context).send(
      outbound('ref:54', {
        attachments: [
          { mediaType: 'Image', url: 'https://genesys.test/d/1', mime: 'image/gif', filename: 'wave.gif', text: 'A wave' },
          { mediaType: 'Link', url: 'https://example.com/help', text: 'Help centre' },
        ],
      }),
    );
    const [file, link] = platform.sent(54);
    expect(file).toMatchObject({ text: 'A wave', attachment: { filename: 'wave.gif', mime: 'image/gif' } });
    expect(file!.attachment!.data.equals(data)).toBe(true);
    expect(link!.text).toBe('Help centre\nhttps://example.com/help');
  });

  it('resumes a retried delivery after the parts that already went out', async () => {
    const { context, agentFiles } = testContext();
    const connector = connect(context);
    platform.customer(55);
    const message = outbound('ref:55', {
      text: 'Your invoice:',
      attachments: [{ mediaType: 'File', url: 'https://genesys.test/d/invoice', mime: 'application/pdf' }],
    });
    // The download fails after the text went out; the retry must not send the text again.
    await expect(connector.send(message)).rejects.toBeInstanceOf(RetryableError);
    agentFiles.set('https://genesys.test/d/invoice', { data: Buffer.from('%PDF'), mime: 'application/pdf', filename: 'invoice.pdf' });
    const result = await connector.send(message);

    const sent = platform.sent(55);
    expect(sent.map((part) => part.text ?? part.attachment?.filename)).toEqual(['Your invoice:', 'invoice.pdf']);
    expect(result.platformMessageIds).toEqual(sent.map((part) => `55:${part.id}`));
  });

  it('maps platform failures to retryable and permanent errors', async () => {
    const { context } = testContext();
    const connector = connect(context);
    platform.customer(56);
    const attempt = (text = 'hi', to = 'ref:56') => connector.send(outbound(to, { text })).then(() => undefined, (error: unknown) => error);

    platform.failNext({ method: 'messages', status: 429, retryAfterSeconds: 2 });
    expect(await attempt()).toMatchObject({ name: 'RetryableError', code: 'PLATFORM_RATE_LIMITED', retryAfterMs: 2000 });
    platform.failNext({ method: 'messages', status: 503 });
    expect(await attempt()).toMatchObject({ name: 'RetryableError', code: 'PLATFORM_UNAVAILABLE' });
    platform.failNext({ method: 'messages', status: 403 });
    expect(await attempt()).toMatchObject({
      name: 'PermanentError',
      code: 'PLATFORM_REJECTED',
      reasonCode: 'RecipientOptedOut',
      message: 'The customer has blocked the bot',
    });
    expect(await attempt('hi', 'ref:9999')).toMatchObject({ name: 'PermanentError', reasonCode: 'InvalidDestination', message: 'Chat not found' });
    expect(await attempt('hi', 'tg:56')).toMatchObject({ name: 'PermanentError', reasonCode: 'InvalidDestination' });

    const badLink = await connector
      .send(outbound('ref:56', { cards: [{ title: 'x', actions: [{ type: 'link', text: 'Broken', url: 'not a url' }] }] }))
      .catch((error: unknown) => error);
    expect(badLink).toMatchObject({ name: 'PermanentError', reasonCode: 'GeneralError' });
    expect((badLink as Error).message).toMatch(/^The platform rejected the message: /);
    expect(platform.sent(56)).toEqual([]);
  });

  it('reports an unreachable platform as retryable', async () => {
    const { context } = testContext();
    const connector = connect(context);
    await platform.close();
    expect(await connector.send(outbound('ref:57', { text: 'hi' })).catch((error: unknown) => error)).toMatchObject({
      name: 'RetryableError',
      code: 'PLATFORM_UNAVAILABLE',
    });
    platform = await startReferencePlatform();
  });

  it('shows typing in the chat', async () => {
    const { context } = testContext();
    platform.customer(58);
    await connect(context).sendTyping!('ref:58');
    expect(platform.typingShown(58)).toBe(1);
  });
});

/** Sends a bot message straight through the Bot API (a message Parley did not send). */
async function sendAsAnotherBot(target: ReferencePlatform, body: unknown): Promise<void> {
  const response = await fetch(`${target.url}/bot/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${target.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
}
