import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startReferencePlatform, type ReferencePlatform } from './platform.js';
import type { MessageUpdate, Update } from './protocol.js';

let platform: ReferencePlatform;

beforeEach(async () => {
  platform = await startReferencePlatform({ token: 'test-token' });
});

afterEach(async () => {
  await platform.close();
});

async function call(method: 'GET' | 'POST', path: string, body?: unknown, token: string | null = 'test-token') {
  const response = await request(`${platform.url}${path}`, {
    method,
    headers: {
      ...(token !== null ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const buffer = Buffer.from(await response.body.arrayBuffer());
  const type = String(response.headers['content-type'] ?? '');
  return {
    status: response.statusCode,
    headers: response.headers,
    buffer,
    json: type.startsWith('application/json') ? (JSON.parse(buffer.toString('utf8')) as any) : undefined,
  };
}

const poll = async (offset: number, timeout = 0): Promise<Update[]> =>
  (await call('GET', `/bot/updates?offset=${offset}&timeout=${timeout}`)).json.updates;

describe('the reference platform', () => {
  it('answers 401 to bot calls without the right token', async () => {
    platform.customer(7);
    for (const token of [null, 'wrong-token']) {
      expect((await call('GET', '/bot/updates?offset=0', undefined, token)).status).toBe(401);
      expect((await call('POST', '/bot/messages', { chatId: '7', text: 'hi' }, token)).status).toBe(401);
      expect((await call('POST', '/bot/typing', { chatId: '7' }, token)).status).toBe(401);
      expect((await call('GET', '/bot/files/anything', undefined, token)).status).toBe(401);
    }
    expect(platform.sent()).toEqual([]);
  });

  it('keeps updates until a later poll confirms them with a higher offset', async () => {
    const first = platform.customer(7, { name: 'alice', language: 'en' }).sendText('one');
    const second = platform.customer(7).sendText('two');

    const batch = await poll(0);
    expect(batch.map((update) => update.update_id)).toEqual([first.update_id, second.update_id]);
    expect((batch[0] as MessageUpdate).message).toMatchObject({
      id: 1,
      chat: { id: '7' },
      from: { name: 'alice', language: 'en' },
      text: 'one',
    });
    // Not confirmed yet: the same updates again.
    expect((await poll(0)).map((update) => update.update_id)).toEqual([first.update_id, second.update_id]);
    // Confirming the first one forgets it only.
    expect((await poll(first.update_id + 1)).map((update) => update.update_id)).toEqual([second.update_id]);
    expect(await poll(second.update_id + 1)).toEqual([]);
    expect(platform.pendingUpdates()).toEqual([]);
  });

  it('holds a long poll open until an update arrives', async () => {
    const pending = poll(0, 30);
    // The poll is waiting on the server; the update below wakes it.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const update = platform.customer(8).sendText('wake up');
    expect(await pending).toEqual([update]);
  });

  it('answers a pending long poll when it closes', async () => {
    const pending = poll(0, 30).catch(() => 'connection closed');
    await new Promise((resolve) => setTimeout(resolve, 20));
    await platform.close();
    expect(await pending).toBeDefined();
  });

  it('redelivers a confirmed update under a new id with the same message', async () => {
    const original = platform.customer(9).sendText('again');
    await poll(original.update_id + 1);
    const copy = platform.redeliver(original.update_id) as MessageUpdate;
    expect(copy.update_id).toBeGreaterThan(original.update_id);
    expect(copy.message).toEqual(original.message);
    expect(await poll(original.update_id + 1)).toEqual([copy]);
  });

  it('takes bot messages with buttons and an attachment, with message ids counted per chat', async () => {
    platform.customer(10).sendText('hello');
    const data = Buffer.from('%PDF-1.4 tiny');
    const answer = await call('POST', '/bot/messages', {
      chatId: '10',
      text: 'Here you go',
      replyMarkup: { buttons: [{ text: 'Yes', payload: 'yes' }, { text: 'Docs', url: 'https://example.com/docs' }] },
      attachment: { filename: 'terms.pdf', mime: 'application/pdf', dataBase64: data.toString('base64') },
    });
    expect(answer.status).toBe(200);
    expect(answer.json.message).toMatchObject({
      id: 2,
      chatId: '10',
      text: 'Here you go',
      attachment: { filename: 'terms.pdf', mime: 'application/pdf', size: data.length },
    });

    const [sent] = platform.sent(10);
    expect(sent?.buttons).toEqual([{ text: 'Yes', payload: 'yes' }, { text: 'Docs', url: 'https://example.com/docs' }]);
    expect(sent?.attachment?.data.equals(data)).toBe(true);
    // The customer API shows the same message.
    const mine = await call('GET', '/customers/10/messages', undefined, null);
    expect(mine.json.messages).toEqual([answer.json.message]);
    // And the bot can read back its own file.
    const file = await call('GET', `/bot/files/${answer.json.message.attachment.fileId}`);
    expect(file.buffer.equals(data)).toBe(true);
  });

  it('rejects messages to unknown chats, empty messages and over-long text', async () => {
    platform.customer(11);
    expect(await call('POST', '/bot/messages', { chatId: '404', text: 'hi' })).toMatchObject({
      status: 404,
      json: { error: 'chat not found' },
    });
    expect((await call('POST', '/bot/messages', { chatId: '11' })).json).toMatchObject({
      error: 'bad request',
      description: 'message text is empty',
    });
    expect((await call('POST', '/bot/messages', { chatId: '11', text: 'x'.repeat(4097) })).json).toMatchObject({
      description: 'message is too long',
    });
    expect(
      (await call('POST', '/bot/messages', { chatId: '11', text: 'hi', replyMarkup: { buttons: [{ text: 'Neither' }] } })).status,
    ).toBe(400);
    expect(platform.sent()).toEqual([]);
  });

  it('fails the next calls of a method as told, then recovers', async () => {
    platform.customer(12);
    platform.failNext({ method: 'messages', status: 429, retryAfterSeconds: 3 });
    const limited = await call('POST', '/bot/messages', { chatId: '12', text: 'a' });
    expect(limited).toMatchObject({ status: 429, json: { error: 'rate limited', retryAfter: 3 } });
    expect(limited.headers['retry-after']).toBe('3');

    platform.failNext({ method: 'messages', status: 403 });
    expect(await call('POST', '/bot/messages', { chatId: '12', text: 'a' })).toMatchObject({
      status: 403,
      json: { error: 'blocked', description: 'the customer blocked the bot' },
    });

    platform.failNext({ method: 'messages', status: 503, times: 2 });
    expect((await call('POST', '/bot/messages', { chatId: '12', text: 'a' })).status).toBe(503);
    expect((await call('POST', '/bot/messages', { chatId: '12', text: 'a' })).status).toBe(503);
    expect((await call('POST', '/bot/messages', { chatId: '12', text: 'a' })).status).toBe(200);

    platform.failNext({ method: 'updates', status: 500 });
    expect((await call('GET', '/bot/updates?offset=0')).status).toBe(500);
    expect((await call('GET', '/bot/updates?offset=0')).status).toBe(200);
    expect(platform.sent(12)).toHaveLength(1);
  });

  it('serves customer files with their type', async () => {
    const data = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
    const update = platform.customer(13).sendFile({ data, mime: 'image/png', filename: 'pic.png', caption: 'look' });
    expect(update.message).toMatchObject({ text: 'look', file: { mime: 'image/png', filename: 'pic.png', size: data.length } });
    const file = await call('GET', `/bot/files/${update.message.file?.fileId}`);
    expect(file.status).toBe(200);
    expect(file.headers['content-type']).toBe('image/png');
    expect(file.buffer.equals(data)).toBe(true);
    expect((await call('GET', '/bot/files/file_unknown')).status).toBe(404);
  });

  it('counts typing and records answered button callbacks', async () => {
    const customer = platform.customer(14);
    expect((await call('POST', '/bot/typing', { chatId: '14' })).status).toBe(200);
    expect(platform.typingShown(14)).toBe(1);

    const sent = await call('POST', '/bot/messages', {
      chatId: '14',
      text: 'Pick one',
      replyMarkup: { buttons: [{ text: 'Red', payload: 'red' }] },
    });
    const press = customer.pressButton(sent.json.message.id, 'red');
    expect(press.button_press).toMatchObject({ chat: { id: '14' }, messageId: sent.json.message.id, payload: 'red', text: 'Red' });
    expect(() => customer.pressButton(sent.json.message.id, 'blue')).toThrow(/no button/);

    expect((await call('POST', `/bot/callbacks/${press.button_press.callbackId}/answer`, {})).status).toBe(200);
    expect((await call('POST', '/bot/callbacks/cb_unknown/answer', {})).status).toBe(404);
    expect(platform.answeredCallbacks()).toEqual([press.button_press.callbackId]);
  });

  it('lets a customer write over HTTP and waits for the bot answer', async () => {
    const written = await call('POST', '/customers/15/messages', { text: 'Hi there', name: 'zoe' }, null);
    expect(written.status).toBe(201);
    expect(written.json.update.message).toMatchObject({ text: 'Hi there', from: { name: 'zoe' } });

    const answered = platform.waitForSent((message) => message.chatId === '15');
    await call('POST', '/bot/messages', { chatId: '15', text: 'Hello zoe' });
    expect((await answered).text).toBe('Hello zoe');
    await expect(platform.waitForSent(() => false, 20)).rejects.toThrow(/No matching bot message/);
  });
});
