import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  PermanentError,
  RetryableError,
  type Connector,
  type ConnectorContext,
  type DownloadedMedia,
  type InboundEvent,
  type OutboundAttachment,
  type OutboundMessage,
} from '@parley/core';
import { createTestContext } from '@parley/testkit';
import { telegramConnector } from './connector.js';
import { telegramOptionsSchema, type TelegramOptionsInput } from './options.js';
import { startTelegramFake, type TelegramFake } from './testing/index.js';

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

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

let fake: TelegramFake;
const running: Connector[] = [];
const servers: Server[] = [];

function connect(context: ConnectorContext, overrides: Partial<TelegramOptionsInput> = {}): Connector {
  const options = telegramOptionsSchema.parse({
    token: fake.token,
    apiRoot: fake.url,
    pollTimeoutSeconds: 5,
    pollRetryMinMs: 5,
    pollRetryMaxMs: 20,
    requestTimeoutMs: 2000,
    ...overrides,
  });
  const connector = telegramConnector.create(options, context);
  running.push(connector);
  return connector;
}

/** A host stand-in for webhook mode: serves `connector.webhook` and tells its URL first. */
async function webhookHost(): Promise<{ url: string; mount(connector: Connector): void }> {
  let mounted: Connector | undefined;
  const server = createServer((req, res) => {
    if (!mounted?.webhook) return void res.writeHead(503).end();
    mounted.webhook(req, res, (error) => {
      res.statusCode = error ? 500 : 404;
      res.end();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/connectors/tg-test/webhook`, mount: (connector) => void (mounted = connector) };
}

beforeEach(async () => {
  fake = await startTelegramFake({ webhookRetryMs: 20 });
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((connector) => connector.stop()));
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    ),
  );
  await fake.close();
});

describe('telegram connector: receiving by long polling', () => {
  it('maps a private message with profile, stable id, custom attributes and time', async () => {
    const { context, received } = createTestContext();
    await connect(context).start();
    const customer = fake.privateChat({ id: 4242, firstName: 'Ana', lastName: 'Lima', username: 'ana_l', languageCode: 'pt-BR' });
    const update = customer.sendText('Olá');

    await eventually(() => received.length === 1);
    expect(received[0]).toEqual({
      kind: 'message',
      platformMessageId: `4242:${update.message!.message_id}`,
      customer: { id: 'tg:4242', nickname: 'ana_l', firstName: 'Ana', lastName: 'Lima' },
      text: 'Olá',
      customAttributes: { telegramUsername: 'ana_l', telegramLanguageCode: 'pt-BR' },
      time: new Date(update.message!.date * 1000),
    });
    // Polling needs the webhook gone; the connector cleared it (keeping pending updates).
    expect(fake.calls('deleteWebhook')[0]?.params).toMatchObject({ drop_pending_updates: false });
  });

  it('confirms an update only after receive() resolved: a failed hand-off is delivered again', async () => {
    const { context, received, failNextReceive } = createTestContext();
    failNextReceive(new RetryableError('STORE', 'the store is busy'));
    await connect(context).start();
    fake.privateChat({ id: 7 }).sendText('must not be lost');

    await eventually(() => received.length === 1);
    expect(received[0]).toMatchObject({ text: 'must not be lost' });
    await eventually(() => fake.pendingUpdates().length === 0);
  });

  it('keeps each chat in order and lets other chats pass a slow one', async () => {
    const gate = { open: undefined as (() => void) | undefined };
    const blocked = new Promise<void>((resolve) => (gate.open = resolve));
    const { context, received } = createTestContext({
      async beforeReceive(event) {
        if (event.kind === 'message' && event.text === 'slow 1') await blocked;
      },
    });
    await connect(context).start();
    const slow = fake.privateChat({ id: 1 });
    const fast = fake.privateChat({ id: 2 });
    slow.sendText('slow 1');
    slow.sendText('slow 2');
    fast.sendText('fast 1');

    await eventually(() => received.some((event) => event.kind === 'message' && event.text === 'fast 1'));
    expect(received.map((event) => (event.kind === 'message' ? event.text : ''))).toEqual(['fast 1']);
    gate.open!();
    await eventually(() => received.length === 3);
    expect(received.map((event) => (event.kind === 'message' ? event.text : ''))).toEqual(['fast 1', 'slow 1', 'slow 2']);
  });

  it('publishes customer files through media URLs and streams them without the token', async () => {
    const { context, received } = createTestContext();
    const connector = connect(context);
    await connector.start();
    const customer = fake.privateChat({ id: 31 });
    const pdf = Buffer.from('%PDF-1.7 pretend this is a PDF');
    customer.sendDocument({ data: pdf, filename: 'invoice.pdf', caption: 'my invoice' });
    const photo = Buffer.alloc(2048, 7);
    customer.sendPhoto(photo);
    customer.sendFile('voice', { data: Buffer.from('OggS voice') });

    await eventually(() => received.length === 3);
    const [document, picture, voice] = received as Array<Extract<InboundEvent, { kind: 'message' }>>;
    expect(document).toMatchObject({ text: 'my invoice', attachments: [{ mediaType: 'File', mime: 'application/pdf', filename: 'invoice.pdf', sizeBytes: pdf.length }] });
    expect(picture!.attachments![0]).toMatchObject({ mediaType: 'Image', mime: 'image/jpeg' });
    expect(voice!.attachments![0]).toMatchObject({ mediaType: 'Audio', mime: 'audio/ogg' });

    // The URL names the Telegram file id, never the token; openMedia streams the bytes.
    const ref = decodeURIComponent(new URL(picture!.attachments![0]!.url).pathname.split('/').pop()!);
    expect(picture!.attachments![0]!.url).not.toContain(fake.token.split(':')[1]!);
    const media = await connector.openMedia!(ref);
    const chunks: Buffer[] = [];
    for await (const chunk of media.body) chunks.push(chunk as Buffer);
    // The biggest photo size, not the thumbnail.
    expect(Buffer.concat(chunks).equals(photo)).toBe(true);
    expect(media.sizeBytes).toBe(photo.length);
  });

  it('turns a file Telegram lost into a permanent error that does not name the token', async () => {
    const { context, logLines } = createTestContext();
    const connector = connect(context);
    await connector.start();
    const error = await rejection(connector.openMedia!('no-such-file-id'));
    expect(error).toBeInstanceOf(PermanentError);
    fake.failNext({ method: 'file', status: 502 });
    const update = fake.privateChat({ id: 5 }).sendDocument({ data: Buffer.from('x'), filename: 'a.txt' });
    const retryable = await rejection(connector.openMedia!(update.message!.document!.file_id));
    expect(retryable).toBeInstanceOf(RetryableError);
    fake.failNext({ method: 'file', disconnect: true });
    const dropped = await rejection(connector.openMedia!(update.message!.document!.file_id));
    expect(dropped).toBeInstanceOf(RetryableError);
    for (const failure of [error, retryable, dropped]) {
      expect(JSON.stringify({ message: (failure as Error).message, details: (failure as RetryableError).details })).not.toContain(fake.token);
    }
    expect(logLines.join('\n')).not.toContain(fake.token);
  });

  it('forwards an edit as a new message marked as an edit, and each edit once', async () => {
    const { context, received } = createTestContext();
    await connect(context).start();
    const customer = fake.privateChat({ id: 8 });
    const original = customer.sendText('I ordered 2 pizzas');
    await eventually(() => received.length === 1);
    customer.edit(original.message!.message_id, 'I ordered 3 pizzas');
    await eventually(() => received.length === 2);
    expect(received[1]).toMatchObject({ kind: 'message', text: '(edited) I ordered 3 pizzas' });
    expect((received[1] as { platformMessageId: string }).platformMessageId).not.toBe(
      (received[0] as { platformMessageId: string }).platformMessageId,
    );
  });

  it('sends a button press back as a structured response and stops the spinner', async () => {
    const { context, received } = createTestContext();
    const connector = connect(context);
    await connector.start();
    fake.privateChat({ id: 55 });
    await connector.send(
      outbound('tg:55', { id: 'genesys-q1', text: 'Pick one', quickReplies: [{ text: 'Yes', payload: 'answer-yes' }, { text: 'No', payload: 'answer-no' }] }),
    );
    const question = fake.sent(55)[0]!;
    expect(question.buttons).toEqual([
      { text: 'Yes', callbackData: 'answer-yes' },
      { text: 'No', callbackData: 'answer-no' },
    ]);
    const press = fake.privateChat({ id: 55 }).pressButton(question.messageId, 'answer-no');

    await eventually(() => received.length === 1);
    expect(received[0]).toMatchObject({
      kind: 'button-response',
      platformMessageId: press.callback_query!.id,
      originatingMessageId: 'genesys-q1',
      type: 'QuickReply',
      text: 'No',
      payload: 'answer-no',
      customer: { id: 'tg:55' },
    });
    await eventually(() => fake.answeredCallbacks().includes(press.callback_query!.id));
  });

  it('maps long payloads to short callback data and back', async () => {
    const { context, received } = createTestContext();
    const connector = connect(context);
    await connector.start();
    fake.privateChat({ id: 56 });
    const payload = `order:${'x'.repeat(100)}`;
    await connector.send(outbound('tg:56', { id: 'g-long', text: 'Confirm?', quickReplies: [{ text: 'Confirm', payload }] }));
    const data = fake.sent(56)[0]!.buttons[0]!.callbackData!;
    expect(Buffer.byteLength(data)).toBeLessThanOrEqual(64);
    fake.privateChat({ id: 56 }).pressButton(fake.sent(56)[0]!.messageId, data);
    await eventually(() => received.length === 1);
    expect(received[0]).toMatchObject({ kind: 'button-response', payload, text: 'Confirm' });
  });

  it('sends a press of buttons it does not know as the button label', async () => {
    const { context, received, values } = createTestContext();
    const connector = connect(context);
    await connector.start();
    fake.privateChat({ id: 57 });
    await connector.send(outbound('tg:57', { text: 'Pick', quickReplies: [{ text: 'Blue', payload: 'colour-blue' }] }));
    values.clear(); // the store lost the button's origin
    fake.privateChat({ id: 57 }).pressButton(fake.sent(57)[0]!.messageId, 'colour-blue');
    await eventually(() => received.length === 1);
    expect(received[0]).toMatchObject({ kind: 'message', text: 'Blue' });
  });

  it('answers quick replies shown as a reply keyboard when the customer taps one', async () => {
    const { context, received } = createTestContext();
    const connector = connect(context, { quickReplies: 'keyboard' });
    await connector.start();
    const customer = fake.privateChat({ id: 58 });
    await connector.send(outbound('tg:58', { id: 'g-kb', text: 'Which size?', quickReplies: [{ text: 'Small', payload: 'S' }, { text: 'Large', payload: 'L' }] }));
    expect(fake.sent(58)[0]!.keyboard).toEqual([['Small', 'Large']]);
    customer.sendText('Large');
    customer.sendText('Large');
    await eventually(() => received.length === 2);
    expect(received[0]).toMatchObject({ kind: 'button-response', originatingMessageId: 'g-kb', type: 'QuickReply', text: 'Large', payload: 'L' });
    // The keyboard answers one question: typing the label again later is just text.
    expect(received[1]).toMatchObject({ kind: 'message', text: 'Large' });
  });
});

describe('telegram connector: groups', () => {
  it('serves only chat types it is configured for', async () => {
    const { context, received } = createTestContext();
    await connect(context).start();
    const group = fake.group({ title: 'Customers' });
    group.member({ id: 90 }).sendText('hello group', { mentionBot: true });
    fake.privateChat({ id: 91 }).sendText('hello private');
    await eventually(() => received.length === 1);
    expect(received[0]).toMatchObject({ text: 'hello private' });
  });

  it('takes group messages that mention or reply to the bot, one conversation per user', async () => {
    const { context, received } = createTestContext();
    const connector = connect(context, { chatTypes: ['private', 'supergroup'], groups: { trigger: 'mention', conversation: 'user' } });
    await connector.start();
    const group = fake.group({ id: -1001234, title: 'Support group' });
    const ana = group.member({ id: 11, firstName: 'Ana', username: 'ana' });
    ana.sendText('just chatting');
    const question = ana.sendText('where is my parcel?', { mentionBot: true });
    await eventually(() => received.length === 1);
    expect(received[0]).toMatchObject({
      kind: 'message',
      platformMessageId: `-1001234:${question.message!.message_id}`,
      customer: { id: 'tg:-1001234:11', nickname: 'ana' },
      // The bot's own mention is dropped: the agent reads the question.
      text: 'where is my parcel?',
      customAttributes: { telegramChatType: 'supergroup', telegramChatTitle: 'Support group', telegramUsername: 'ana' },
    });

    // The agent's answer goes to the group, replying to Ana's message.
    await connector.send(outbound('tg:-1001234:11', { text: 'It ships today, Ana' }));
    const answer = fake.sent(-1001234)[0]!;
    expect(answer).toMatchObject({ text: 'It ships today, Ana', replyToMessageId: question.message!.message_id });

    ana.sendText('thanks!', { replyTo: answer.messageId });
    await eventually(() => received.length === 2);
    expect(received[1]).toMatchObject({ text: '[reply to "It ships today, Ana"]\nthanks!', customer: { id: 'tg:-1001234:11' } });
  });

  it('with one conversation per member, takes a button press only from the member the buttons are for', async () => {
    const { context, received } = createTestContext();
    const connector = connect(context, { chatTypes: ['supergroup'], groups: { trigger: 'mention', conversation: 'user' } });
    await connector.start();
    const group = fake.group({ id: -1005550, title: 'Support group' });
    const ana = group.member({ id: 21, firstName: 'Ana' });
    const ben = group.member({ id: 22, firstName: 'Ben' });
    ana.sendText('which size?', { mentionBot: true });
    await eventually(() => received.length === 1);
    await connector.send(
      outbound('tg:-1005550:21', { id: 'genesys-size', text: 'S or M?', quickReplies: [{ text: 'S', payload: 'size-s' }, { text: 'M', payload: 'size-m' }] }),
    );
    const question = fake.sent(-1005550)[0]!;

    // Ben sees Ana's buttons too: his press is turned away with a notice, not filed under his own conversation.
    const bens = ben.pressButton(question.messageId, 'size-m');
    await eventually(() => fake.answeredCallbacks().includes(bens.callback_query!.id));
    const notice = fake.calls('answerCallbackQuery').find((call) => call.params.callback_query_id === bens.callback_query!.id);
    expect(notice?.params.text).toMatch(/another member/);

    const anas = ana.pressButton(question.messageId, 'size-s');
    await eventually(() => received.length === 2);
    expect(received[1]).toMatchObject({ kind: 'button-response', platformMessageId: anas.callback_query!.id, payload: 'size-s', customer: { id: 'tg:-1005550:21' } });
    expect(received).toHaveLength(2);
  });

  it('with one conversation per group and every message, names who wrote each', async () => {
    const { context, received } = createTestContext();
    await connect(context, { chatTypes: ['group'], groups: { trigger: 'all', conversation: 'chat' } }).start();
    const group = fake.group({ id: -555, title: 'Family', type: 'group' });
    group.member({ id: 1, firstName: 'Bo', lastName: 'Li' }).sendText('first');
    group.member({ id: 2, firstName: 'Cy' }).sendText('second');
    await eventually(() => received.length === 2);
    expect(received.map((event) => [event.customer.id, (event as { text: string }).text])).toEqual([
      ['tg:-555', 'Bo Li: first'],
      ['tg:-555', 'Cy: second'],
    ]);
  });
});

describe('telegram connector: receiving by webhook', () => {
  it('registers its webhook with the secret, and answers 200 only after the hand-off', async () => {
    const host = await webhookHost();
    let release: (() => void) | undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const { context, received } = createTestContext({ webhookUrl: host.url, beforeReceive: () => held });
    const connector = connect(context, { mode: 'webhook', webhookSecret: 'the-webhook-secret' });
    host.mount(connector);
    await connector.start();
    expect(fake.webhookInfo()).toMatchObject({ url: host.url, secret_token: 'the-webhook-secret', max_connections: 40 });

    fake.privateChat({ id: 66 }).sendText('via webhook');
    await eventually(() => fake.webhookInfo().pending_update_count === 1 && fake.calls('getUpdates').length === 0);
    // Not confirmed while the hand-off is pending…
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fake.pendingUpdates()).toHaveLength(1);
    release!();
    // …and confirmed once it resolved.
    await eventually(() => fake.pendingUpdates().length === 0);
    expect(received).toHaveLength(1);
    expect(fake.calls('getUpdates')).toHaveLength(0);
  });

  it('rejects requests without the right secret with 401 and does nothing', async () => {
    const host = await webhookHost();
    const { context, received } = createTestContext({ webhookUrl: host.url });
    const connector = connect(context, { mode: 'webhook', webhookSecret: 'right-secret' });
    host.mount(connector);
    await connector.start();
    const update = { update_id: 1, message: { message_id: 1, date: 1, chat: { id: 1, type: 'private', first_name: 'X' }, from: { id: 1, is_bot: false, first_name: 'X' }, text: 'forged' } };
    const post = (headers: Record<string, string>, body = JSON.stringify(update)) =>
      fetch(host.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

    expect((await post({})).status).toBe(401);
    expect((await post({ 'x-telegram-bot-api-secret-token': 'wrong-secret' })).status).toBe(401);
    expect((await post({ 'x-telegram-bot-api-secret-token': 'right-secret' }, '{"update_id":')).status).toBe(400);
    expect((await post({ 'x-telegram-bot-api-secret-token': 'right-secret' }, '{"no":"update"}')).status).toBe(400);
    expect(received).toHaveLength(0);
    expect((await post({ 'x-telegram-bot-api-secret-token': 'right-secret' })).status).toBe(200);
    expect(received).toHaveLength(1);
  });

  it('answers 500 when the hand-off fails, so Telegram delivers the update again', async () => {
    const host = await webhookHost();
    const { context, received, failNextReceive } = createTestContext({ webhookUrl: host.url });
    failNextReceive(new RetryableError('STORE', 'the store is busy'), new RetryableError('STORE', 'the store is busy'));
    const connector = connect(context, { mode: 'webhook', webhookSecret: 'secret-1' });
    host.mount(connector);
    await connector.start();
    fake.privateChat({ id: 67 }).sendText('try, try again');
    await eventually(() => received.length === 1);
    expect(fake.webhookInfo().last_error_message).toMatch(/500/);
    await eventually(() => fake.pendingUpdates().length === 0);
  });

  it('in polling mode takes no webhooks (404)', async () => {
    const { context } = createTestContext();
    const connector = connect(context);
    const host = await webhookHost();
    host.mount(connector);
    await connector.start();
    expect((await fetch(host.url, { method: 'POST', body: '{}' })).status).toBe(404);
  });
});

describe('telegram connector: sending', () => {
  it('splits long text in order at 4096 characters', async () => {
    const { context } = createTestContext();
    const connector = connect(context);
    await connector.start();
    fake.privateChat({ id: 70 });
    const text = `${'a'.repeat(4000)} ${'b'.repeat(4000)} ${'c'.repeat(100)}`;
    const result = await connector.send(outbound('tg:70', { text }));
    const sent = fake.sent(70);
    // Cut at the last space before the limit, so words stay whole.
    expect(sent.map((message) => message.text!.length)).toEqual([4000, 4000, 100]);
    expect(sent.map((message) => message.text).join(' ')).toBe(text);
    expect(result.platformMessageIds).toEqual(sent.map((message) => `70:${message.messageId}`));
  });

  it('uploads agent files by media type, with captions', async () => {
    const { context, agentFiles } = createTestContext();
    const connector = connect(context);
    await connector.start();
    fake.privateChat({ id: 71 });
    const files: Array<[string, DownloadedMedia, OutboundAttachment['mediaType']]> = [
      ['https://genesys.test/a.png', { data: Buffer.alloc(300, 1), mime: 'image/png', filename: 'a.png' }, 'Image'],
      ['https://genesys.test/b.mp4', { data: Buffer.alloc(300, 2), mime: 'video/mp4', filename: 'b.mp4' }, 'Video'],
      ['https://genesys.test/c.mp3', { data: Buffer.alloc(300, 3), mime: 'audio/mpeg', filename: 'c.mp3' }, 'Audio'],
      ['https://genesys.test/d.pdf', { data: Buffer.alloc(300, 4), mime: 'application/pdf', filename: 'd.pdf' }, 'File'],
    ];
    for (const [url, file] of files) agentFiles.set(url, file);
    await connector.send(
      outbound('tg:71', {
        attachments: files.map(([url, file, mediaType]) => ({ url, mediaType, mime: file.mime, filename: file.filename, text: `here is ${file.filename}` })),
      }),
    );
    const sent = fake.sent(71);
    expect(sent.map((message) => [message.method, message.text, message.file?.filename])).toEqual([
      ['sendPhoto', 'here is a.png', 'a.png'],
      ['sendVideo', 'here is b.mp4', 'b.mp4'],
      ['sendAudio', 'here is c.mp3', 'c.mp3'],
      ['sendDocument', 'here is d.pdf', 'd.pdf'],
    ]);
    sent.forEach((message, index) => expect(message.file!.data.equals(files[index]![1].data)).toBe(true));
  });

  it('sends a file Telegram refuses as a photo as a document instead', async () => {
    const { context, agentFiles } = createTestContext();
    const connector = connect(context);
    await connector.start();
    fake.privateChat({ id: 72 });
    agentFiles.set('https://genesys.test/huge.png', { data: Buffer.alloc(100, 9), mime: 'image/png', filename: 'huge.png' });
    fake.failNext({ method: 'sendPhoto', status: 400, description: 'Bad Request: PHOTO_INVALID_DIMENSIONS' });
    await connector.send(outbound('tg:72', { attachments: [{ url: 'https://genesys.test/huge.png', mediaType: 'Image' }] }));
    expect(fake.sent(72).map((message) => message.method)).toEqual(['sendDocument']);
  });

  it('shows cards and carousels as messages with URL and callback buttons', async () => {
    const { context, received } = createTestContext();
    const connector = connect(context);
    await connector.start();
    fake.privateChat({ id: 73 });
    await connector.send(
      outbound('tg:73', {
        id: 'g-cards',
        cards: [
          { title: 'Basic', description: '5 €', actions: [{ type: 'postback', text: 'Choose Basic', payload: 'basic' }] },
          {
            title: 'Premium',
            imageUrl: 'https://example.com/premium.png',
            actions: [
              { type: 'link', text: 'Details', url: 'https://example.com/premium' },
              { type: 'postback', text: 'Choose Premium', payload: 'premium' },
            ],
          },
        ],
      }),
    );
    const [basic, premium] = fake.sent(73);
    expect(basic).toMatchObject({ text: 'Basic\n5 €', buttons: [{ text: 'Choose Basic', callbackData: 'basic' }] });
    expect(premium).toMatchObject({
      text: 'Premium\nhttps://example.com/premium.png',
      buttons: [
        { text: 'Details', url: 'https://example.com/premium' },
        { text: 'Choose Premium', callbackData: 'premium' },
      ],
    });
    fake.privateChat({ id: 73 }).pressButton(premium!.messageId, 'premium');
    await eventually(() => received.length === 1);
    expect(received[0]).toMatchObject({ kind: 'button-response', type: 'Button', originatingMessageId: 'g-cards', payload: 'premium' });
  });

  it('shows agent typing with sendChatAction', async () => {
    const { context } = createTestContext();
    const connector = connect(context);
    await connector.start();
    fake.privateChat({ id: 74 });
    await connector.sendTyping!('tg:74');
    expect(fake.chatActions(74)).toEqual([{ chatId: 74, action: 'typing' }]);
  });

  it('maps Telegram failures: 429 with retry_after, 403 blocked, 400 chat not found, 5xx, dropped connections', async () => {
    const { context } = createTestContext();
    const connector = connect(context);
    await connector.start();
    const customer = fake.privateChat({ id: 75 });

    fake.failNext({ method: 'sendMessage', status: 429, retryAfterSeconds: 7 });
    const limited = await rejection(connector.send(outbound('tg:75', { text: 'x' })));
    expect(limited).toBeInstanceOf(RetryableError);
    expect(limited).toMatchObject({ code: 'PLATFORM_RATE_LIMITED', retryAfterMs: 7000 });

    customer.blockBot();
    const blocked = await rejection(connector.send(outbound('tg:75', { text: 'x' })));
    expect(blocked).toBeInstanceOf(PermanentError);
    expect(blocked).toMatchObject({ reasonCode: 'RecipientOptedOut', message: 'The customer has blocked the bot on Telegram' });
    customer.unblockBot();

    const missing = await rejection(connector.send(outbound('tg:123456', { text: 'x' })));
    expect(missing).toMatchObject({ reasonCode: 'InvalidDestination' });
    expect((missing as Error).message).toMatch(/chat was not found/);

    fake.failNext({ method: 'sendMessage', status: 502 });
    expect(await rejection(connector.send(outbound('tg:75', { text: 'x' })))).toMatchObject({ code: 'PLATFORM_UNAVAILABLE', retryable: true });

    fake.failNext({ method: 'sendMessage', disconnect: true });
    const dropped = await rejection(connector.send(outbound('tg:75', { text: 'x' })));
    expect(dropped).toBeInstanceOf(RetryableError);
    expect((dropped as Error).message).not.toContain(fake.token);

    const foreign = await rejection(connector.send(outbound('slack:T1:C1', { text: 'x' })));
    expect(foreign).toMatchObject({ reasonCode: 'InvalidDestination' });
  });

  it('gives up waiting for a slow answer after requestTimeoutMs, as a retryable error', async () => {
    const { context } = createTestContext();
    const connector = connect(context, { requestTimeoutMs: 100 });
    await connector.start();
    fake.privateChat({ id: 76 });
    fake.failNext({ method: 'sendMessage', delayMs: 1000 });
    expect(await rejection(connector.send(outbound('tg:76', { text: 'slow' })))).toBeInstanceOf(RetryableError);
  });

  it('resumes a split message after the part that failed: no part is shown twice', async () => {
    const { context } = createTestContext();
    const connector = connect(context);
    await connector.start();
    fake.privateChat({ id: 77 });
    const message = outbound('tg:77', { text: `${'x'.repeat(4090)} ${'y'.repeat(4090)} ${'z'.repeat(10)}` });
    // The first part goes through (a fault that changes nothing), the second hits flood control.
    fake.failNext({ method: 'sendMessage', delayMs: 0 });
    fake.failNext({ method: 'sendMessage', status: 429, retryAfterSeconds: 1 });
    await rejection(connector.send(message));
    expect(fake.sent(77)).toHaveLength(1);
    const result = await connector.send(message);
    expect(fake.sent(77).map((sent) => sent.text!.charAt(0))).toEqual(['x', 'y', 'z']);
    expect(result.platformMessageIds).toHaveLength(3);
  });
});

describe('telegram connector: lifecycle', () => {
  it('starts and stops idempotently, and works again after a restart', async () => {
    const { context, received } = createTestContext();
    const connector = connect(context);
    await connector.stop();
    await connector.start();
    await connector.start();
    expect(connector.readiness!()).toEqual({ ready: true });
    await connector.stop();
    await connector.stop();
    fake.privateChat({ id: 80 }).sendText('while stopped');
    await connector.start();
    await eventually(() => received.length === 1);
    expect(received[0]).toMatchObject({ text: 'while stopped' });
  });

  it('refuses to start with a token Telegram rejects, naming the option', async () => {
    const { context } = createTestContext();
    const connector = connect(context, { token: '123:wrong-token' });
    const error = await rejection(connector.start());
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toMatch(/token/);
    expect((error as Error).message).not.toContain('wrong-token');
  });

  it('keeps connecting in the background while Telegram is down, not ready until it is up', async () => {
    const { context, received } = createTestContext();
    fake.failNext({ method: 'getMe', status: 502, times: 3 });
    const connector = connect(context);
    await connector.start();
    expect(connector.readiness!()).toMatchObject({ ready: false, detail: expect.stringMatching(/Telegram/) });
    fake.privateChat({ id: 81 }).sendText('after the outage');
    await eventually(() => received.length === 1);
    expect(connector.readiness!()).toEqual({ ready: true });
  });

  it('reports polling trouble in readiness and recovers', async () => {
    const { context, received } = createTestContext();
    const connector = connect(context);
    await connector.start();
    fake.failNext({ method: 'getUpdates', status: 409, times: 3 });
    fake.privateChat({ id: 82 }).sendText('eventually');
    await eventually(() => received.length === 1);
    await eventually(() => connector.readiness!().ready);
  });
});
