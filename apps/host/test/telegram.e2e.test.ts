/**
 * The Telegram connector end to end, as a user runs it: the real `parley start` process from a
 * parley.yaml that loads `@parley/connector-telegram`, the real grammY client inside it talking
 * to the fake Telegram, the Genesys emulator, real HTTP and real signatures throughout. Every
 * flow runs in polling and in webhook mode.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { killHost, startHostProcess, type HostProcess } from './support/host-process.js';
import { eventually } from './support/fixtures.js';
import {
  CONNECTOR_ID,
  createTelegramWorld,
  messagesAtGenesys,
  postAgentText,
  TELEGRAM_WEBHOOK_SECRET,
  waitForGenesysMessage,
  type TelegramWorld,
} from './support/telegram.js';

let world: TelegramWorld | undefined;
let host: HostProcess | undefined;

afterEach(async () => {
  await killHost(host);
  host = undefined;
  await world?.close();
  world = undefined;
});

async function start(w: TelegramWorld): Promise<HostProcess> {
  return startHostProcess(w.configPath, { env: w.env });
}

/** The token never shows in a log line, an error, or anything Genesys received. */
function expectNoToken(w: TelegramWorld, h: HostProcess): void {
  const secretHalf = w.telegram.token.split(':')[1]!;
  expect(JSON.stringify(h.logs)).not.toContain(secretHalf);
  expect(h.stderr()).not.toContain(secretHalf);
  expect(JSON.stringify(w.emulator.inbound())).not.toContain(secretHalf);
}

async function download(url: string): Promise<{ status: number; type: string; bytes: Buffer }> {
  const response = await request(url);
  return {
    status: response.statusCode,
    type: String(response.headers['content-type']),
    bytes: Buffer.from(await response.body.arrayBuffer()),
  };
}

describe.each(['polling', 'webhook'] as const)('Telegram through the host (%s mode)', (mode) => {
  it('carries every kind of customer message to Genesys, files through signed media URLs', async () => {
    world = await createTelegramWorld(mode);
    host = await start(world);
    const telegram = world.telegram;
    const ana = telegram.privateChat({ id: 5001, firstName: 'Ana', lastName: 'Lima', username: 'ana_l', languageCode: 'pt-BR' });

    // Text, with a hidden link flattened to readable text.
    const hello = ana.sendText('Hello, see my order', { entities: [{ type: 'text_link', offset: 14, length: 5, url: 'https://shop.example/o/1' }] });
    const first = await waitForGenesysMessage(world, (body) => body.text === 'Hello, see my order (https://shop.example/o/1)');
    expect(first.body.channel).toMatchObject({
      messageId: `5001:${hello.message!.message_id}`,
      from: { id: 'tg:5001', idType: 'Opaque', nickname: 'ana_l', firstName: 'Ana', lastName: 'Lima' },
      metadata: { customAttributes: { telegramUsername: 'ana_l', telegramLanguageCode: 'pt-BR' } },
    });

    // A reply quoting the original, an edit, a location and a contact.
    ana.sendText('it is urgent', { replyTo: hello.message!.message_id });
    ana.edit(hello.message!.message_id, 'Hello, see my order #1');
    ana.sendLocation(48.8584, 2.2945);
    ana.sendContact({ phoneNumber: '+33612345678', firstName: 'Jean' });
    await waitForGenesysMessage(world, (body) => body.text === '[reply to "Hello, see my order"]\nit is urgent');
    await waitForGenesysMessage(world, (body) => body.text === '(edited) Hello, see my order #1');
    await waitForGenesysMessage(world, (body) => String(body.text).startsWith('[location] 48.8584, 2.2945'));
    await waitForGenesysMessage(world, (body) => body.text === '[contact] Jean, +33612345678');

    // Files: photo, document, voice and sticker, each served by Parley with its bytes.
    const files = {
      photo: randomBytes(4000),
      document: Buffer.from('%PDF-1.7 the contract'),
      voice: randomBytes(1500),
      sticker: randomBytes(800),
    };
    ana.sendPhoto(files.photo, { caption: 'the damage' });
    ana.sendDocument({ data: files.document, filename: 'contract.pdf' });
    ana.sendFile('voice', { data: files.voice });
    ana.sendFile('sticker', { data: files.sticker }, { emoji: '😢' });
    const photo = await waitForGenesysMessage(world, (body) => body.text === 'the damage');
    const document = await waitForGenesysMessage(world, (body) => body.content?.[0]?.attachment?.filename === 'contract.pdf');
    const voice = await waitForGenesysMessage(world, (body) => body.content?.[0]?.attachment?.mediaType === 'Audio');
    const sticker = await waitForGenesysMessage(world, (body) => body.text === '[sticker 😢]');
    for (const [record, bytes, mediaType, mime] of [
      [photo, files.photo, 'Image', 'image/jpeg'],
      [document, files.document, 'File', 'application/pdf'],
      [voice, files.voice, 'Audio', 'audio/ogg'],
      [sticker, files.sticker, 'Image', 'image/webp'],
    ] as const) {
      const attachment = record.body.content[0].attachment;
      expect(attachment).toMatchObject({ mediaType, mime });
      expect(attachment.url.startsWith(`${world.hostUrl}/media/`)).toBe(true);
      const fetched = await download(attachment.url);
      expect(fetched.status).toBe(200);
      expect(fetched.type).toContain(mime);
      expect(fetched.bytes.equals(bytes)).toBe(true);
    }

    // A group: only messages for the bot, one conversation per member.
    const group = telegram.group({ id: -1009001, title: 'Acme customers' });
    const bo = group.member({ id: 6001, firstName: 'Bo' });
    bo.sendText('chatting among ourselves');
    bo.sendText('I need help with billing', { mentionBot: true });
    const inGroup = await waitForGenesysMessage(world, (body) => body.channel.from.id === 'tg:-1009001:6001');
    expect(inGroup.body.text).toBe('I need help with billing');
    expect(messagesAtGenesys(world, (body) => String(body.text).includes('among ourselves'))).toHaveLength(0);

    // An update Telegram delivers twice reaches Genesys once.
    const once = ana.sendText('only once');
    await waitForGenesysMessage(world, (body) => body.text === 'only once');
    telegram.redeliver(once.update_id);
    ana.sendText('after the duplicate');
    await waitForGenesysMessage(world, (body) => body.text === 'after the duplicate');
    expect(messagesAtGenesys(world, (body) => body.text === 'only once')).toHaveLength(1);
    await eventually(() => telegram.pendingUpdates().length === 0, 10_000, 'Telegram updates confirmed');

    // SIGTERM ends a long poll or the webhook at once and leaves nothing running: exit code 0.
    host.child.kill('SIGTERM');
    expect((await host.exited).code).toBe(0);
    expect(host.logs.some((line) => line.msg === 'Stopped')).toBe(true);
    expectNoToken(world, host);
  }, 60_000);

  it('shows every kind of agent message on Telegram and reports what failed', async () => {
    world = await createTelegramWorld(mode);
    host = await start(world);
    const telegram = world.telegram;
    const emulator = world.emulator;
    const carl = telegram.privateChat({ id: 5002, firstName: 'Carl' });
    carl.sendText('Hi, I am Carl');
    const opened = await waitForGenesysMessage(world, (body) => body.text === 'Hi, I am Carl');
    const conversationId = opened.conversationId!;
    const receipt = (id: string) => emulator.waitForInbound((record) => record.kind === 'receipt' && record.body.id === id, 10_000);

    // Text over Telegram's 4096 characters (Genesys's own agents stop at 4000, but bot flows and
    // templates can say more), split in order; a Delivered receipt.
    const long = await postAgentText(world, 'tg:5002', `${'a'.repeat(3000)}\n${'b'.repeat(3000)}`);
    expect((await receipt(long)).body.status).toBe('Delivered');
    expect(telegram.sent(5002).map((message) => message.text)).toEqual(['a'.repeat(3000), 'b'.repeat(3000)]);
    const text = await emulator.agent.sendText(conversationId, 'Hello Carl');
    expect((await receipt(text.messageId)).body.status).toBe('Delivered');

    // Agent typing.
    await emulator.agent.sendTyping(conversationId);
    await eventually(() => telegram.chatActions(5002).some((entry) => entry.action === 'typing'), 10_000, 'typing shown');

    // An attachment, downloaded from Genesys and uploaded by type.
    const image = randomBytes(5000);
    const url = world.hostFile(image, 'image/png');
    const file = await emulator.agent.send(conversationId, {
      text: 'your label',
      content: [{ contentType: 'Attachment', attachment: { mediaType: 'Image', url, mime: 'image/png', filename: 'label.png' } }],
    });
    expect((await receipt(file.messageId)).body.status).toBe('Delivered');
    const uploaded = telegram.sent(5002).find((message) => message.method === 'sendPhoto')!;
    expect(uploaded.file!.data.equals(image)).toBe(true);

    // Quick replies as inline buttons; a press comes back as a structured response.
    const question = await emulator.agent.send(conversationId, {
      type: 'Structured',
      text: 'Was this helpful?',
      content: [
        { contentType: 'QuickReply', quickReply: { text: 'Yes', payload: 'helpful-yes', action: 'Message' } },
        { contentType: 'QuickReply', quickReply: { text: 'No', payload: 'helpful-no', action: 'Message' } },
      ],
      originatingEntity: 'Bot',
    });
    await receipt(question.messageId);
    const buttons = telegram.sent(5002).find((message) => message.text === 'Was this helpful?')!;
    expect(buttons.buttons).toEqual([
      { text: 'Yes', callbackData: 'helpful-yes' },
      { text: 'No', callbackData: 'helpful-no' },
    ]);
    const press = carl.pressButton(buttons.messageId, 'helpful-yes');
    const response = await emulator.waitForInbound((record) => record.kind === 'structured-response', 10_000);
    expect(response.body).toMatchObject({ originatingMessageId: question.messageId, buttonResponse: { type: 'QuickReply', text: 'Yes', payload: 'helpful-yes' } });
    await eventually(() => telegram.answeredCallbacks().includes(press.callback_query!.id), 10_000, 'the press answered');

    // A carousel: one message per card, with URL and callback buttons.
    const carousel = await emulator.agent.send(conversationId, {
      type: 'Structured',
      content: [
        {
          contentType: 'Carousel',
          carousel: {
            cards: [
              { title: 'Plan S', description: '5 €', actions: [{ type: 'Postback', text: 'Take S', payload: 'plan-s' }] },
              { title: 'Plan L', actions: [{ type: 'Link', text: 'Compare', url: 'https://acme.example/plans' }] },
            ],
          },
        },
      ],
      originatingEntity: 'Bot',
    });
    await receipt(carousel.messageId);
    expect(telegram.sent(5002).slice(-2).map((message) => [message.text, message.buttons])).toEqual([
      ['Plan S\n5 €', [{ text: 'Take S', callbackData: 'plan-s' }]],
      ['Plan L', [{ text: 'Compare', url: 'https://acme.example/plans' }]],
    ]);

    // Flood control: retried after retry_after, delivered once.
    telegram.failNext({ method: 'send', status: 429, retryAfterSeconds: 1 });
    const limited = await emulator.agent.sendText(conversationId, 'after flood control');
    expect((await receipt(limited.messageId)).body.status).toBe('Delivered');
    // An outage and a dropped connection: retried, delivered once.
    telegram.failNext({ method: 'send', status: 502 });
    telegram.failNext({ method: 'send', disconnect: true });
    const flaky = await emulator.agent.sendText(conversationId, 'after the outage');
    expect((await receipt(flaky.messageId)).body.status).toBe('Delivered');
    const texts = telegram.sent(5002).map((message) => message.text);
    expect(texts.filter((value) => value === 'after flood control')).toHaveLength(1);
    expect(texts.filter((value) => value === 'after the outage')).toHaveLength(1);

    // The customer blocked the bot: a Failed receipt that says so.
    carl.blockBot();
    const blocked = await emulator.agent.sendText(conversationId, 'are you there?');
    const failed = await receipt(blocked.messageId);
    expect(failed.body).toMatchObject({ status: 'Failed', reasons: [{ code: 'RecipientOptedOut' }] });
    expect(failed.body.reasons[0].message).toMatch(/blocked the bot/);

    // A chat Telegram does not know: Failed, invalid destination.
    const lost = await postAgentText(world, 'tg:777000111', 'hello?');
    const notFound = await receipt(lost);
    expect(notFound.body).toMatchObject({ status: 'Failed', reasons: [{ code: 'InvalidDestination' }] });

    expectNoToken(world, host);
  }, 60_000);
});

describe('Telegram webhook mode through the host', () => {
  it('registers the webhook with its secret and turns away requests without it', async () => {
    world = await createTelegramWorld('webhook');
    host = await start(world);
    const webhookUrl = `${world.hostUrl}/connectors/${CONNECTOR_ID}/webhook`;
    await eventually(() => world!.telegram.webhookInfo().url === webhookUrl, 10_000, 'the webhook registered');
    expect(world.telegram.webhookInfo()).toMatchObject({ secret_token: TELEGRAM_WEBHOOK_SECRET });
    expect(world.telegram.calls('getUpdates')).toHaveLength(0);

    const update = JSON.stringify({
      update_id: 1,
      message: { message_id: 1, date: 1_700_000_000, chat: { id: 9, type: 'private', first_name: 'Eve' }, from: { id: 9, is_bot: false, first_name: 'Eve' }, text: 'forged' },
    });
    for (const secret of [undefined, 'not-the-secret']) {
      const response = await request(webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(secret ? { 'x-telegram-bot-api-secret-token': secret } : {}) },
        body: update,
      });
      await response.body.dump();
      expect(response.statusCode).toBe(401);
    }
    world.telegram.privateChat({ id: 10 }).sendText('genuine');
    await waitForGenesysMessage(world, (body) => body.text === 'genuine');
    expect(messagesAtGenesys(world, (body) => body.text === 'forged')).toHaveLength(0);
  }, 30_000);
});

describe('Telegram polling through a host crash', () => {
  it('after kill -9 while customers write, and a restart, every message reaches Genesys once, in order', async () => {
    world = await createTelegramWorld('polling');
    host = await start(world);
    const writers = [world.telegram.privateChat({ id: 7001 }), world.telegram.privateChat({ id: 7002 })];
    const perWriter = 40;
    const writing = (async () => {
      for (let seq = 0; seq < perWriter; seq++) {
        for (const [index, writer] of writers.entries()) writer.sendText(`w${index}#${seq}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();

    await eventually(() => messagesAtGenesys(world!).length >= 15, 20_000, 'messages flowing before the crash');
    host.child.kill('SIGKILL');
    await host.exited;
    const atCrash = messagesAtGenesys(world).length;
    await writing;
    expect(atCrash).toBeLessThan(perWriter * writers.length);

    host = await start(world);
    await eventually(
      () => new Set(messagesAtGenesys(world!).map((record) => record.body.text)).size === perWriter * writers.length,
      30_000,
      'every customer message at Genesys after the restart',
    );
    for (const index of writers.keys()) {
      const records = messagesAtGenesys(world, (body) => String(body.text).startsWith(`w${index}#`));
      // One Telegram message, one Genesys message id: a redelivered update made nothing new.
      const idsByText = new Map<string, Set<string>>();
      for (const record of records) idsByText.set(record.body.text, (idsByText.get(record.body.text) ?? new Set()).add(record.body.channel.messageId));
      expect([...idsByText.values()].every((ids) => ids.size === 1)).toBe(true);
      // In order, by first arrival.
      const firstSeen = [...idsByText.keys()].map((text) => Number(text.split('#')[1]));
      expect(firstSeen).toEqual([...Array(perWriter).keys()]);
    }
    const total = messagesAtGenesys(world).length;
    process.stderr.write(`telegram crash test: ${atCrash} at Genesys before the crash, ${total} accepted posts for ${perWriter * writers.length} messages\n`);
    await eventually(() => world!.telegram.pendingUpdates().length === 0, 10_000, 'every update confirmed');
  }, 60_000);
});
