import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createLogger, verifyGenesysSignature } from '@parley/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startGenesysEmulator } from './emulator.js';
import type { GenesysEmulator, GenesysEmulatorOptions, RecordedInbound } from './types.js';

const SECRET = 'webhook-secret-0123456789abcdef';
const INTEGRATION = 'webhook-integration';
const CUSTOMER = 'tg:123456789';

/** What the receiver answers to one webhook POST: a status, or never. */
type Reply = number | 'hang';

interface Received {
  raw: Buffer;
  headers: IncomingHttpHeaders;
  json: Record<string, any>;
}

interface Receiver {
  url: string;
  received: Received[];
  /** Most requests the receiver held at the same time. */
  maxInFlight: number;
  close(): Promise<void>;
}

/** A webhook endpoint on 127.0.0.1 that records every POST and answers `respond(…)`. */
async function startReceiver(respond: (received: Received, index: number) => Reply | Promise<Reply> = () => 200): Promise<Receiver> {
  const received: Received[] = [];
  let inFlight = 0;
  const receiver: Receiver = { url: '', received, maxInFlight: 0, close: async () => undefined };
  const server: Server = createServer(async (req, res) => {
    inFlight += 1;
    receiver.maxInFlight = Math.max(receiver.maxInFlight, inFlight);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const entry: Received = { raw, headers: req.headers, json: JSON.parse(raw.toString('utf8')) };
    received.push(entry);
    const reply = await respond(entry, received.length - 1);
    if (reply === 'hang') return;
    inFlight -= 1;
    res.writeHead(reply, { 'content-type': 'text/plain' }).end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/connectors/test/genesys`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return receiver;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function receiver(respond?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
  const started = await startReceiver(respond);
  cleanups.push(() => started.close());
  return started;
}

async function emulatorFor(target: Receiver, options: GenesysEmulatorOptions = {}): Promise<GenesysEmulator> {
  const emulator = await startGenesysEmulator({
    webhook: { timeoutMs: 200, retries: 3, retryIntervalMs: 20 },
    ...options,
  });
  cleanups.push(() => emulator.close());
  emulator.addIntegration({ id: INTEGRATION, name: 'Parley Test Integration', webhookUrl: target.url, webhookSecret: SECRET });
  return emulator;
}

/** Posts a customer message and returns the accepted record (its conversation is open). */
async function customerSays(emulator: GenesysEmulator, body: Record<string, unknown>, customerId = CUSTOMER): Promise<RecordedInbound> {
  const { clientId, clientSecret } = emulator.defaultClient;
  const tokenResponse = await fetch(`${emulator.url}/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  const { access_token } = (await tokenResponse.json()) as { access_token: string };
  const response = await fetch(`${emulator.url}/api/v2/conversations/messages/${INTEGRATION}/inbound/open/message`, {
    method: 'POST',
    headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ channel: { from: { id: customerId, idType: 'Opaque' }, time: new Date().toISOString() }, ...body }),
  });
  expect(response.status).toBe(200);
  const id = ((await response.json()) as { id: string }).id;
  const record = emulator.inbound().find((r) => r.messageId === id);
  if (!record?.conversationId) throw new Error('the message opened no conversation');
  return record;
}

async function conversationOf(emulator: GenesysEmulator): Promise<string> {
  return (await customerSays(emulator, { text: 'hello' })).conversationId!;
}

describe('agent messages as signed webhooks', () => {
  it('POSTs a full outbound normalized message whose signature verifies with core', async () => {
    const target = await receiver();
    const emulator = await emulatorFor(target);
    const conversationId = await conversationOf(emulator);

    const delivery = await emulator.agent.sendText(conversationId, 'Hi Bob, how can I help?');
    expect(await delivery.done).toEqual({ delivered: true, status: 200 });

    expect(target.received).toHaveLength(1);
    const [webhook] = target.received;
    expect(webhook!.headers['content-type']).toBe('application/json');
    expect(verifyGenesysSignature(webhook!.raw, webhook!.headers['x-hub-signature-256'], SECRET)).toBe(true);
    expect(verifyGenesysSignature(webhook!.raw, webhook!.headers['x-hub-signature-256'], 'another-secret-0123456789')).toBe(false);
    expect(webhook!.raw.toString('utf8')).toBe(delivery.body);
    expect(delivery.body).toBe(JSON.stringify(JSON.parse(delivery.body)));
    expect(webhook!.json).toEqual({
      id: delivery.messageId,
      channel: {
        id: INTEGRATION,
        platform: 'Open',
        type: 'Private',
        messageId: delivery.messageId,
        to: { id: CUSTOMER, idType: 'Opaque' },
        from: { nickname: 'Parley Test Integration', id: INTEGRATION, idType: 'Opaque' },
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      },
      conversationId,
      type: 'Text',
      text: 'Hi Bob, how can I help?',
      direction: 'Outbound',
      originatingEntity: 'Human',
    });
    expect(delivery.messageId).toMatch(/^[0-9a-f]{32}$/);
    expect(delivery).toMatchObject({ integrationId: INTEGRATION, conversationId, outcome: { delivered: true, status: 200 } });
    expect(delivery.attempts).toEqual([{ at: expect.any(Number), status: 200, durationMs: expect.any(Number) }]);
    expect(emulator.deliveries()).toEqual([delivery]);
  });

  it('signs non-ASCII text over the exact bytes sent', async () => {
    const target = await receiver();
    const emulator = await emulatorFor(target);
    const delivery = await emulator.agent.sendText(await conversationOf(emulator), 'Привет 👋');
    await delivery.done;
    const [webhook] = target.received;
    expect(webhook!.json['text']).toBe('Привет 👋');
    expect(verifyGenesysSignature(webhook!.raw, webhook!.headers['x-hub-signature-256'], SECRET)).toBe(true);
  });

  it('sends quick replies as Structured, with the originating entity given', async () => {
    const target = await receiver();
    const emulator = await emulatorFor(target);
    const content = [
      { contentType: 'QuickReply', quickReply: { text: 'Yes', payload: 'Yes', action: 'Message' } },
      { contentType: 'QuickReply', quickReply: { text: 'No', payload: 'No', action: 'Message' } },
    ];
    const delivery = await emulator.agent.send(await conversationOf(emulator), {
      text: 'Do you want to proceed?',
      content,
      originatingEntity: 'Bot',
    });
    await delivery.done;
    expect(target.received[0]!.json).toMatchObject({ type: 'Structured', content, originatingEntity: 'Bot', text: 'Do you want to proceed?' });
  });

  it('keeps an attachment-only message a Text message', async () => {
    const target = await receiver();
    const emulator = await emulatorFor(target);
    const content = [
      {
        contentType: 'Attachment',
        attachment: { id: 'a1', mediaType: 'Image', url: 'https://api-downloads.example/a1', mime: 'image/jpeg', filename: 'a.jpg' },
      },
    ];
    await (await emulator.agent.send(await conversationOf(emulator), { content })).done;
    expect(target.received[0]!.json).toMatchObject({ type: 'Text', content });
    expect(target.received[0]!.json).not.toHaveProperty('text');
  });

  it('sends typing as an Event with its duration', async () => {
    const target = await receiver();
    const emulator = await emulatorFor(target);
    const conversationId = await conversationOf(emulator);
    await (await emulator.agent.sendTyping(conversationId, 3000)).done;
    await (await emulator.agent.sendTyping(conversationId)).done;
    expect(target.received.map((r) => r.json['events'])).toEqual([
      [{ eventType: 'Typing', typing: { type: 'On', duration: 3000 } }],
      [{ eventType: 'Typing', typing: { type: 'On', duration: 5000 } }],
    ]);
    expect(target.received[0]!.json).toMatchObject({ type: 'Event', direction: 'Outbound', channel: { to: { id: CUSTOMER } } });
  });

  it('refuses unknown conversations, empty messages and text over 4000 characters', async () => {
    const target = await receiver();
    const emulator = await emulatorFor(target);
    const conversationId = await conversationOf(emulator);
    await expect(emulator.agent.sendText('no-such-conversation', 'hi')).rejects.toThrow(/Unknown conversation/);
    await expect(emulator.agent.sendTyping('no-such-conversation')).rejects.toThrow(/Unknown conversation/);
    await expect(emulator.agent.send(conversationId, {})).rejects.toThrow(/needs text or content/);
    await expect(emulator.agent.sendText(conversationId, 'x'.repeat(4001))).rejects.toThrow(/4000 characters/);
    expect(emulator.deliveries()).toEqual([]);
  });

  it('links a receipt for a delivered message to its conversation', async () => {
    const target = await receiver();
    const emulator = await emulatorFor(target);
    const conversationId = await conversationOf(emulator);
    const delivery = await emulator.agent.sendText(conversationId, 'hi');
    await delivery.done;

    const { access_token } = (await (
      await fetch(`${emulator.url}/oauth/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from('parley-emulator:parley-emulator-secret').toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=client_credentials',
      })
    ).json()) as { access_token: string };
    await fetch(`${emulator.url}/api/v2/conversations/messages/${INTEGRATION}/inbound/open/receipt`, {
      method: 'POST',
      headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: delivery.messageId, channel: { to: { id: CUSTOMER }, time: new Date().toISOString() }, status: 'Delivered' }),
    });
    const receipt = await emulator.waitForInbound((r) => r.kind === 'receipt');
    expect(receipt.conversationId).toBe(conversationId);
  });
});

describe('Genesys’s retry policy', () => {
  it('retries 500 and 429 with the same bytes and signature, then succeeds', async () => {
    const replies: Reply[] = [500, 429, 200];
    const target = await receiver((_r, index) => replies[index] ?? 200);
    const emulator = await emulatorFor(target);

    const delivery = await emulator.agent.sendText(await conversationOf(emulator), 'retry me');
    expect(await delivery.done).toEqual({ delivered: true, status: 200 });
    expect(delivery.attempts.map((a) => a.status)).toEqual([500, 429, 200]);
    expect(target.received).toHaveLength(3);
    for (const webhook of target.received) {
      expect(webhook.raw.equals(target.received[0]!.raw)).toBe(true);
      expect(webhook.headers['x-hub-signature-256']).toBe(target.received[0]!.headers['x-hub-signature-256']);
      expect(verifyGenesysSignature(webhook.raw, webhook.headers['x-hub-signature-256'], SECRET)).toBe(true);
    }
  });

  it('retries a receiver that does not answer within timeoutMs', async () => {
    const target = await receiver((_r, index) => (index === 0 ? 'hang' : 200));
    const emulator = await emulatorFor(target);

    const delivery = await emulator.agent.sendText(await conversationOf(emulator), 'slow receiver');
    expect(await delivery.done).toEqual({ delivered: true, status: 200 });
    expect(delivery.attempts).toHaveLength(2);
    expect(delivery.attempts[0]).toMatchObject({ error: 'timed out after 200 ms' });
    expect(delivery.attempts[0]?.status).toBeUndefined();
    expect(target.received[1]!.raw.equals(target.received[0]!.raw)).toBe(true);
  });

  it('does not retry a 400', async () => {
    const target = await receiver(() => 400);
    const emulator = await emulatorFor(target);
    const delivery = await emulator.agent.sendText(await conversationOf(emulator), 'rejected');
    expect(await delivery.done).toEqual({ delivered: false, status: 400 });
    expect(delivery.attempts).toHaveLength(1);
    expect(target.received).toHaveLength(1);
  });

  it('gives up after `retries` retries', async () => {
    const target = await receiver(() => 503);
    const emulator = await emulatorFor(target, { webhook: { timeoutMs: 200, retries: 2, retryIntervalMs: 20 } });
    const delivery = await emulator.agent.sendText(await conversationOf(emulator), 'never');
    expect(await delivery.done).toEqual({ delivered: false, status: 503 });
    expect(delivery.attempts.map((a) => a.status)).toEqual([503, 503, 503]);
    expect(delivery.outcome).toEqual({ delivered: false, status: 503 });
  });

  it('retries a refused connection and reports the network error', async () => {
    const target = await receiver();
    const emulator = await emulatorFor(target, { webhook: { timeoutMs: 200, retries: 1, retryIntervalMs: 20 } });
    const conversationId = await conversationOf(emulator);
    await target.close();

    const delivery = await emulator.agent.sendText(conversationId, 'nobody home');
    expect(await delivery.done).toEqual({ delivered: false });
    expect(delivery.attempts).toHaveLength(2);
    expect(delivery.attempts[0]?.error).toMatch(/ECONNREFUSED/);
  });

  it('sends a conversation’s deliveries one at a time, in order', async () => {
    const target = await receiver(async (_r, index) => {
      if (index === 0) await new Promise((resolve) => setTimeout(resolve, 100));
      return index === 1 ? 500 : 200;
    });
    const emulator = await emulatorFor(target);
    const conversationId = await conversationOf(emulator);

    const deliveries = await Promise.all(['one', 'two', 'three'].map((text) => emulator.agent.sendText(conversationId, text)));
    await Promise.all(deliveries.map((d) => d.done));
    expect(target.received.map((r) => r.json['text'])).toEqual(['one', 'two', 'two', 'three']);
    expect(target.maxInFlight).toBe(1);
  });
});

describe('autoReply', () => {
  it('true: echoes inbound text messages, and nothing else', async () => {
    const target = await receiver();
    const emulator = await emulatorFor(target, { autoReply: true });
    const attachment = {
      contentType: 'Attachment',
      attachment: { mediaType: 'Image', url: 'https://media.example.com/a.jpg', mime: 'image/jpeg' },
    };
    const photo = await customerSays(emulator, { content: [attachment] });
    const text = await customerSays(emulator, { text: 'Hello there' });
    expect(text.conversationId).toBe(photo.conversationId);

    await vi.waitFor(() => expect(emulator.deliveries()).toHaveLength(1));
    const [reply] = emulator.deliveries();
    await reply!.done;
    expect(target.received.map((r) => r.json['text'])).toEqual(['You said: Hello there']);
    expect(target.received[0]!.json['conversationId']).toBe(text.conversationId);
    expect(verifyGenesysSignature(target.received[0]!.raw, target.received[0]!.headers['x-hub-signature-256'], SECRET)).toBe(true);
  });

  it('a function: chooses the reply from the recorded inbound, or none', async () => {
    const target = await receiver();
    const seen: RecordedInbound[] = [];
    const emulator = await emulatorFor(target, {
      autoReply: (inbound) => {
        seen.push(inbound);
        return inbound.body.text === 'quiet' ? undefined : { text: `#${seen.length}`, originatingEntity: 'Bot' };
      },
    });
    await customerSays(emulator, { text: 'quiet' });
    await customerSays(emulator, { text: 'loud' });

    await vi.waitFor(() => expect(emulator.deliveries()).toHaveLength(1));
    await emulator.deliveries()[0]!.done;
    expect(seen.map((r) => [r.kind, r.body.text, r.status])).toEqual([
      ['message', 'quiet', 200],
      ['message', 'loud', 200],
    ]);
    expect(target.received.map((r) => [r.json['text'], r.json['originatingEntity']])).toEqual([['#2', 'Bot']]);
  });
});

describe('the HTTP agent API', () => {
  it('POST /emulator/conversations/{id}/messages and /typing answer 202 with the webhook id', async () => {
    const target = await receiver();
    const emulator = await emulatorFor(target);
    const conversationId = await conversationOf(emulator);

    const sent = await fetch(`${emulator.url}/emulator/conversations/${conversationId}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'from the CLI' }),
    });
    expect(sent.status).toBe(202);
    const { messageId } = (await sent.json()) as { messageId: string };

    const typing = await fetch(`${emulator.url}/emulator/conversations/${conversationId}/typing`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ durationMs: 1500 }),
    });
    expect(typing.status).toBe(202);
    const typingId = ((await typing.json()) as { messageId: string }).messageId;

    await Promise.all(emulator.deliveries().map((d) => d.done));
    expect(target.received.map((r) => r.json['id'])).toEqual([messageId, typingId]);
    expect(target.received[0]!.json['text']).toBe('from the CLI');
    expect(target.received[1]!.json['events']).toEqual([{ eventType: 'Typing', typing: { type: 'On', duration: 1500 } }]);
  });

  it('answers 404 for an unknown conversation and 400 for an invalid message', async () => {
    const target = await receiver();
    const emulator = await emulatorFor(target);
    const conversationId = await conversationOf(emulator);
    const post = (path: string, body: string) =>
      fetch(`${emulator.url}/emulator/conversations/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

    const unknown = await post('nope/messages', JSON.stringify({ text: 'hi' }));
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: expect.stringContaining('nope') });
    expect((await post('nope/typing', '{}')).status).toBe(404);
    expect((await post(`${conversationId}/messages`, JSON.stringify({ text: 42 }))).status).toBe(400);
    expect((await post(`${conversationId}/messages`, JSON.stringify({}))).status).toBe(400);
    expect((await post(`${conversationId}/messages`, '{"text":')).status).toBe(400);
    expect(emulator.deliveries()).toEqual([]);
  });
});

describe('reset and close', () => {
  let target: Receiver;
  beforeEach(async () => {
    target = await receiver(() => 'hang');
  });

  it('reset() cancels pending deliveries and forgets them', async () => {
    const emulator = await emulatorFor(target, { webhook: { timeoutMs: 10_000, retries: 5, retryIntervalMs: 20 } });
    const delivery = await emulator.agent.sendText(await conversationOf(emulator), 'stuck');
    await vi.waitFor(() => expect(target.received).toHaveLength(1));

    emulator.reset();
    expect(await delivery.done).toEqual({ delivered: false });
    expect(delivery.attempts).toEqual([{ at: expect.any(Number), error: 'cancelled', durationMs: expect.any(Number) }]);
    expect(emulator.deliveries()).toEqual([]);
    expect(emulator.conversations()).toEqual([]);
    expect(emulator.integrations()).toHaveLength(1);
  });

  it('close() settles pending deliveries and waiters, and stops listening', async () => {
    const emulator = await emulatorFor(target, { webhook: { timeoutMs: 10_000, retries: 5, retryIntervalMs: 20 } });
    const delivery = await emulator.agent.sendText(await conversationOf(emulator), 'stuck');
    const waiting = expect(emulator.waitForInbound(() => false, 10_000)).rejects.toThrow(/closed/);
    await vi.waitFor(() => expect(target.received).toHaveLength(1));

    await emulator.close();
    await emulator.close();
    expect(await delivery.done).toEqual({ delivered: false });
    await waiting;
    await expect(fetch(`${emulator.url}/emulator/conversations`)).rejects.toThrow();
  });
});

describe('logging', () => {
  it('logs accepted inbound messages and webhook outcomes at info through the injected logger', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
        callback();
      },
    });
    const logger = createLogger({ level: 'info', destination });
    const target = await receiver((_r, index) => (index === 0 ? 200 : 400));
    const emulator = await emulatorFor(target, { logger });
    const conversationId = await conversationOf(emulator);
    await (await emulator.agent.sendText(conversationId, 'ok')).done;
    await (await emulator.agent.sendText(conversationId, 'refused')).done;

    const messages = lines.map((line) => line['msg']);
    expect(messages).toContain('inbound message accepted');
    expect(messages).toContain('webhook delivered');
    expect(messages).toContain('webhook failed: the receiver rejected it (not retried)');
    expect(lines.every((line) => line['component'] === 'genesys-emulator')).toBe(true);
    expect(JSON.stringify(lines)).not.toContain(SECRET);
  });
});
