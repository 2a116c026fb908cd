import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Api, GrammyError, InputFile } from 'grammy';
import { startTelegramFake, type TelegramFake } from './index.js';

let fake: TelegramFake;
let api: Api;
const servers: Server[] = [];

beforeEach(async () => {
  fake = await startTelegramFake({ webhookRetryMs: 20, maxPollSeconds: 2 });
  // The real grammY client, pointed at the fake.
  api = new Api(fake.token, { apiRoot: fake.url });
});

afterEach(async () => {
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

async function grammyError(promise: Promise<unknown>): Promise<GrammyError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof GrammyError)) throw new Error(`expected a GrammyError, got ${String(error)}`);
  return error;
}

/** A webhook receiver that answers with the statuses given, then 200. */
async function webhookReceiver(statuses: number[] = []) {
  const received: Array<{ secret: string | undefined; body: { update_id: number; message?: { text?: string } } }> = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ secret: req.headers['x-telegram-bot-api-secret-token'] as string | undefined, body: JSON.parse(Buffer.concat(chunks).toString()) });
      res.writeHead(statuses.shift() ?? 200).end();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received };
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

describe('fake Telegram: bot identity and auth', () => {
  it('answers getMe, and 401 for a wrong token, like Telegram', async () => {
    expect(await api.getMe()).toMatchObject({ id: fake.bot.id, is_bot: true, username: fake.bot.username });
    const error = await grammyError(new Api('1:wrong', { apiRoot: fake.url }).getMe());
    expect(error.error_code).toBe(401);
  });

  it('takes parameters as query string and urlencoded forms too', async () => {
    fake.privateChat({ id: 5 });
    const byQuery = await fetch(`${fake.url}/bot${fake.token}/sendMessage?chat_id=5&text=via%20query`);
    expect(await byQuery.json()).toMatchObject({ ok: true, result: { text: 'via query' } });
    const byForm = await fetch(`${fake.url}/bot${fake.token}/sendmessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ chat_id: '5', text: 'via form', reply_markup: JSON.stringify({ inline_keyboard: [[{ text: 'A', callback_data: 'a' }]] }) }),
    });
    expect(await byForm.json()).toMatchObject({ ok: true, result: { text: 'via form' } });
    expect(fake.sent(5).map((message) => [message.text, message.buttons])).toEqual([
      ['via query', []],
      ['via form', [{ text: 'A', callbackData: 'a' }]],
    ]);
  });
});

describe('fake Telegram: getUpdates', () => {
  it('keeps updates until an offset above them confirms them', async () => {
    const customer = fake.privateChat({ id: 1 });
    const first = customer.sendText('one');
    customer.sendText('two');
    expect((await api.getUpdates()).map((update) => update.message?.text)).toEqual(['one', 'two']);
    // Not confirmed yet: asked again, they come again.
    expect(await api.getUpdates()).toHaveLength(2);
    expect((await api.getUpdates({ offset: first.update_id + 1 })).map((update) => update.message?.text)).toEqual(['two']);
    expect(fake.pendingUpdates()).toHaveLength(1);
  });

  it('with a negative offset, keeps only the last updates', async () => {
    const customer = fake.privateChat({ id: 12 });
    for (const text of ['a', 'b', 'c']) customer.sendText(text);
    expect((await api.getUpdates({ offset: -2 })).map((update) => update.message?.text)).toEqual(['b', 'c']);
    expect(fake.pendingUpdates()).toHaveLength(2);
  });

  it('long-polls: a waiting call returns as soon as an update arrives', async () => {
    const poll = api.getUpdates({ timeout: 2 });
    await eventually(() => fake.calls('getUpdates').length === 1);
    fake.privateChat({ id: 2 }).sendText('wake up');
    expect((await poll).map((update) => update.message?.text)).toEqual(['wake up']);
  });

  it('ends a waiting poll with 409 when another one starts, as Telegram does', async () => {
    const first = grammyError(api.getUpdates({ timeout: 2 }));
    await eventually(() => fake.calls('getUpdates').length === 1);
    const second = api.getUpdates({ timeout: 0 });
    expect((await first).error_code).toBe(409);
    expect(await second).toEqual([]);
  });

  it('sends only the update types asked for', async () => {
    await api.getUpdates({ allowed_updates: ['callback_query'] });
    fake.privateChat({ id: 3 }).sendText('not wanted');
    expect(await api.getUpdates()).toEqual([]);
  });
});

describe('fake Telegram: webhook', () => {
  it('delivers updates with the secret header, retries failures in order, and blocks getUpdates', async () => {
    const receiver = await webhookReceiver([500]);
    expect(await api.setWebhook(receiver.url, { secret_token: 'Hook_secret-1', max_connections: 5 })).toBe(true);
    expect((await grammyError(api.getUpdates())).description).toMatch(/webhook is active/);

    const customer = fake.privateChat({ id: 4 });
    customer.sendText('first');
    customer.sendText('second');
    await eventually(() => fake.pendingUpdates().length === 0);
    expect(receiver.received.map(({ body, secret }) => [body.message?.text, secret])).toEqual([
      ['first', 'Hook_secret-1'],
      ['first', 'Hook_secret-1'],
      ['second', 'Hook_secret-1'],
    ]);
    expect(await api.getWebhookInfo()).toMatchObject({ url: receiver.url, pending_update_count: 0, max_connections: 5, last_error_message: expect.stringMatching(/500/) });

    await api.deleteWebhook();
    customer.sendText('by polling');
    expect((await api.getUpdates()).map((update) => update.message?.text)).toEqual(['by polling']);
  });

  it('refuses a secret token with characters Telegram does not allow', async () => {
    expect((await grammyError(api.setWebhook('http://127.0.0.1:9/hook', { secret_token: 'no spaces please' }))).error_code).toBe(400);
  });
});

describe('fake Telegram: messages and files', () => {
  it('takes uploads from grammY (multipart) and serves customer files by getFile', async () => {
    fake.privateChat({ id: 6 });
    const data = Buffer.from('%PDF-1.4 agent file');
    const sent = await api.sendDocument(6, new InputFile(data, 'terms & conditions.pdf'), { caption: 'please read' });
    expect(sent.document).toMatchObject({ file_name: 'terms & conditions.pdf', mime_type: 'application/pdf', file_size: data.length });
    const [record] = fake.sent(6);
    expect(record).toMatchObject({ method: 'sendDocument', text: 'please read', file: { kind: 'document', filename: 'terms & conditions.pdf', mime: 'application/pdf' } });
    expect(record!.file!.data.equals(data)).toBe(true);

    const upload = fake.privateChat({ id: 6 }).sendFile('voice', { data: Buffer.from('OggS') });
    const file = await api.getFile(upload.message!.voice!.file_id);
    const download = await fetch(`${fake.url}/file/bot${fake.token}/${file.file_path}`);
    expect(Buffer.from(await download.arrayBuffer()).toString()).toBe('OggS');
    expect((await fetch(`${fake.url}/file/bot1:wrong/${file.file_path}`)).status).toBe(404);
  });

  it('re-sends a known file by its file_id', async () => {
    const customer = fake.privateChat({ id: 7 });
    const upload = customer.sendPhoto(Buffer.from('jpeg bytes'));
    const photo = upload.message!.photo!.at(-1)!;
    await api.sendPhoto(7, photo.file_id);
    expect(fake.sent(7)[0]!.file!.data.toString()).toBe('jpeg bytes');
  });

  it('enforces Telegram\'s limits and knows which chats exist and who blocked the bot', async () => {
    const customer = fake.privateChat({ id: 8 });
    expect((await grammyError(api.sendMessage(8, 'x'.repeat(4097)))).description).toBe('Bad Request: message is too long');
    expect((await grammyError(api.sendMessage(8, ' '))).description).toBe('Bad Request: message text is empty');
    expect((await grammyError(api.sendMessage(9999, 'hi'))).description).toBe('Bad Request: chat not found');
    const tooLong = { reply_markup: { inline_keyboard: [[{ text: 'x', callback_data: 'd'.repeat(65) }]] } };
    expect((await grammyError(api.sendMessage(8, 'hi', tooLong))).description).toBe('Bad Request: BUTTON_DATA_INVALID');
    expect((await grammyError(api.sendDocument(8, new InputFile(Buffer.from('x'), 'a.txt'), { caption: 'c'.repeat(1025) }))).description).toMatch(/caption is too long/);
    expect((await grammyError(api.sendChatAction(8, 'dancing' as 'typing'))).error_code).toBe(400);
    expect((await grammyError(api.answerCallbackQuery('unknown'))).error_code).toBe(400);
    customer.blockBot();
    expect(await grammyError(api.sendMessage(8, 'hi'))).toMatchObject({ error_code: 403, description: 'Forbidden: bot was blocked by the user' });
    const big = fake.privateChat({ id: 9 }).sendDocument({ data: Buffer.alloc(21 * 1024 * 1024), filename: 'big.zip' });
    expect((await grammyError(api.getFile(big.message!.document!.file_id))).description).toBe('Bad Request: file is too big');
  });

  it('records presses of inline buttons and their answers', async () => {
    const customer = fake.privateChat({ id: 10 });
    const question = await api.sendMessage(10, 'Pick', { reply_markup: { inline_keyboard: [[{ text: 'Yes', callback_data: 'yes' }]] } });
    expect(() => customer.pressButton(question.message_id, 'no')).toThrow(/no button/);
    const press = customer.pressButton(question.message_id, 'yes');
    expect(press.callback_query).toMatchObject({ data: 'yes', from: { id: 10 }, message: { message_id: question.message_id } });
    await api.answerCallbackQuery(press.callback_query!.id);
    expect(fake.answeredCallbacks()).toEqual([press.callback_query!.id]);
  });
});

describe('fake Telegram: error injection', () => {
  it('answers 429 with retry_after, 5xx, slow answers and dropped connections, then recovers', async () => {
    fake.privateChat({ id: 11 });
    fake.failNext({ method: 'send', status: 429, retryAfterSeconds: 3 });
    const limited = await grammyError(api.sendMessage(11, 'a'));
    expect(limited).toMatchObject({ error_code: 429, parameters: { retry_after: 3 } });

    fake.failNext({ method: 'sendMessage', status: 502, times: 2 });
    expect((await grammyError(api.sendMessage(11, 'b'))).error_code).toBe(502);
    expect((await grammyError(api.sendMessage(11, 'c'))).error_code).toBe(502);

    fake.failNext({ method: 'sendMessage', delayMs: 150 });
    const started = Date.now();
    await api.sendMessage(11, 'slow');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);

    fake.failNext({ method: '*', disconnect: true });
    await expect(api.sendMessage(11, 'dropped')).rejects.toThrow(/Network request/);

    await api.sendMessage(11, 'fine again');
    expect(fake.sent(11).map((message) => message.text)).toEqual(['slow', 'fine again']);
  });
});
