/**
 * The core Genesys client against the real Genesys emulator: OAuth, retries, timeouts and the
 * four Open Messaging inbound endpoints, over HTTP on 127.0.0.1.
 */
import {
  PermanentError,
  RetryableError,
  createGenesysClient,
  type GenesysClient,
  type GenesysClientOptions,
  type GenesysRequestInfo,
  type InboundMessageBody,
} from '@parley/core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startGenesysEmulator, type GenesysEmulator } from '../src/index.js';

const INTEGRATION_ID = 'integration-under-test';
const CUSTOMER_ID = 'tg:424242';

/** Every HTTP exchange the client reported, with when it was reported. */
type Report = GenesysRequestInfo & { at: number };

let emulator: GenesysEmulator;
const clients: GenesysClient[] = [];
const extraEmulators: GenesysEmulator[] = [];

beforeAll(async () => {
  emulator = await startGenesysEmulator();
});

afterAll(async () => {
  await emulator.close();
});

beforeEach(() => {
  emulator.reset();
  emulator.addIntegration({
    id: INTEGRATION_ID,
    name: 'Parley tests',
    // Nothing in this file makes the emulator send webhooks.
    webhookUrl: 'http://127.0.0.1:9/unused',
    webhookSecret: 'unused-secret',
  });
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(extraEmulators.splice(0).map((extra) => extra.close()));
});

function connect(
  target: GenesysEmulator,
  options: Partial<GenesysClientOptions> = {},
): { client: GenesysClient; reports: Report[] } {
  const reports: Report[] = [];
  const client = createGenesysClient({
    apiUrl: target.url,
    loginUrl: target.url,
    ...target.defaultClient,
    backoffBaseMs: 10,
    backoffMaxMs: 100,
    timeoutMs: 2_000,
    onRequest: (info) => reports.push({ ...info, at: performance.now() }),
    ...options,
  });
  clients.push(client);
  return { client, reports };
}

/** A customer text message; `text: null` leaves both text and content out (invalid for Genesys). */
function message(messageId: string, text: string | null = `hello from ${messageId}`): InboundMessageBody {
  return {
    channel: {
      messageId,
      from: { id: CUSTOMER_ID, idType: 'Opaque', nickname: 'bob', firstName: 'Bob' },
      time: new Date().toISOString(),
      metadata: { customAttributes: { sourcePlatform: 'telegram' } },
    },
    ...(text === null ? {} : { text }),
  };
}

/** `endpoint:status` (or `endpoint:error`) for each reported exchange, in order. */
function trail(reports: Report[]): string[] {
  return reports.map((report) => `${report.endpoint}:${report.status ?? 'error'}`);
}

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (error: unknown) => error,
  );
}

describe('Genesys client against the emulator', () => {
  it('fetches one token, shares it among concurrent calls and caches it across calls', async () => {
    const { client, reports } = connect(emulator, { burst: 10 });
    await Promise.all([1, 2, 3].map((n) => client.sendMessage(INTEGRATION_ID, message(`m${n}`))));
    await client.sendMessage(INTEGRATION_ID, message('m4'));

    expect(reports.filter((r) => r.endpoint === 'token')).toHaveLength(1);
    expect(trail(reports).filter((entry) => entry.startsWith('message'))).toEqual(Array(4).fill('message:200'));
    expect(emulator.inbound({ kind: 'message' }).map((r) => r.body.channel.messageId).sort()).toEqual([
      'm1',
      'm2',
      'm3',
      'm4',
    ]);
    expect(client.tokenStatus()).toMatchObject({ ok: true, expiresAt: expect.any(Number) });
  });

  it('fails with a retryable GENESYS_AUTH naming the client id when the credentials are wrong', async () => {
    const { client } = connect(emulator, { clientId: 'who-am-i', clientSecret: 'wrong-secret' });
    const error = await failureOf(client.sendMessage(INTEGRATION_ID, message('m1')));

    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ code: 'GENESYS_AUTH', retryable: true });
    expect((error as Error).message).toContain('Genesys rejected the OAuth client credentials (clientId who-am-i)');
    expect((error as Error).message).not.toContain('wrong-secret');
    expect(client.tokenStatus()).toMatchObject({ ok: false, error: expect.stringContaining('who-am-i') });
    expect(emulator.inbound({ includeRejected: true })).toHaveLength(0);
  });

  it('gets a new token after a 401 and retries the call once', async () => {
    const { client, reports } = connect(emulator);
    await client.sendMessage(INTEGRATION_ID, message('m1'));
    const firstToken = await client.getToken();

    emulator.faults.expireTokens();
    const response = await client.sendMessage(INTEGRATION_ID, message('m2'));

    expect(response.id).toEqual(expect.any(String));
    expect(trail(reports)).toEqual(['token:200', 'message:200', 'message:401', 'token:200', 'message:200']);
    expect(await client.getToken()).not.toBe(firstToken);
    expect(emulator.inbound({ kind: 'message' }).map((r) => r.body.channel.messageId)).toEqual(['m1', 'm2']);
  });

  it('refreshes a short-lived token before it expires, so no call meets a 401', async () => {
    const shortLived = await startGenesysEmulator({ tokenLifetimeSeconds: 2 });
    extraEmulators.push(shortLived);
    shortLived.addIntegration({ id: INTEGRATION_ID, webhookUrl: 'http://127.0.0.1:9/unused', webhookSecret: 's' });
    const { client, reports } = connect(shortLived);

    await client.sendMessage(INTEGRATION_ID, message('m1'));
    const { expiresAt: firstExpiry } = client.tokenStatus();
    // Past the refresh point (10 % of 2 s before expiry) while the first token is still valid.
    await new Promise((resolve) => setTimeout(resolve, 1_900));
    await client.sendMessage(INTEGRATION_ID, message('m2'));

    expect(trail(reports)).toEqual(['token:200', 'message:200', 'token:200', 'message:200']);
    expect(client.tokenStatus().expiresAt).toBeGreaterThan(firstExpiry ?? Infinity);
  });

  it('waits out a 429 Retry-After, then succeeds', async () => {
    const { client, reports } = connect(emulator, { backoffMaxMs: 5_000 });
    emulator.faults.inject({ endpoint: 'message', status: 429, retryAfterSeconds: 1 });

    const response = await client.sendMessage(INTEGRATION_ID, message('m1'));

    expect(response.id).toEqual(expect.any(String));
    const attempts = reports.filter((r) => r.endpoint === 'message');
    expect(attempts.map((r) => [r.attempt, r.status])).toEqual([
      [1, 429],
      [2, 200],
    ]);
    // The retry was not sent before Genesys allowed it (a lower bound, not a speed claim).
    expect((attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0)).toBeGreaterThanOrEqual(1_000 - 5);
    expect(emulator.inbound({ kind: 'message' })).toHaveLength(1);
  });

  it('retries two 503s with backoff, then succeeds', async () => {
    const { client, reports } = connect(emulator);
    emulator.faults.inject({ endpoint: 'message', status: 503, times: 2 });

    await client.sendMessage(INTEGRATION_ID, message('m1'));

    expect(trail(reports)).toEqual(['token:200', 'message:503', 'message:503', 'message:200']);
    expect(emulator.inbound({ kind: 'message' }).map((r) => r.body.channel.messageId)).toEqual(['m1']);
  });

  it('gives up after maxAttempts with a retryable GENESYS_UNAVAILABLE while Genesys keeps failing', async () => {
    const { client, reports } = connect(emulator, { maxAttempts: 3 });
    emulator.faults.inject({ endpoint: 'message', status: 503, times: 50 });

    const error = await failureOf(client.sendMessage(INTEGRATION_ID, message('m1')));

    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ code: 'GENESYS_UNAVAILABLE' });
    expect((error as Error).message).toContain('503');
    expect(trail(reports).filter((entry) => entry.startsWith('message'))).toEqual(Array(3).fill('message:503'));
    expect(emulator.inbound({ kind: 'message' })).toHaveLength(0);
  });

  it('turns a 400 validation error into a PermanentError carrying Genesys’s message', async () => {
    const { client, reports } = connect(emulator);
    const error = await failureOf(client.sendMessage(INTEGRATION_ID, message('m1', null)));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ code: 'GENESYS_REJECTED', reasonCode: 'InvalidMessageStructure' });
    expect((error as Error).message).toContain('HTTP 400');
    expect((error as Error).message).toContain('bad.request');
    expect((error as Error).message).toContain("should have required property 'content'");
    // Not retried: no retry fixes a malformed body.
    expect(trail(reports)).toEqual(['token:200', 'message:400']);
  });

  it('times out a slow answer and retries it', async () => {
    const { client, reports } = connect(emulator, { timeoutMs: 200 });
    emulator.faults.inject({ endpoint: 'message', delayMs: 700 });

    const response = await client.sendMessage(INTEGRATION_ID, message('m1'));

    expect(response.id).toEqual(expect.any(String));
    const attempts = reports.filter((r) => r.endpoint === 'message');
    expect(attempts).toHaveLength(2);
    expect(attempts[0]).toMatchObject({ attempt: 1, error: expect.stringMatching(/timeout/i) });
    expect(attempts[0]?.status).toBeUndefined();
    expect(attempts[1]).toMatchObject({ attempt: 2, status: 200 });
    // Like Genesys, the emulator still applies the slow request the client gave up on: the retry
    // reuses channel.messageId so the duplicate can be recognised.
    await vi.waitFor(() => expect(emulator.inbound({ kind: 'message' })).toHaveLength(2), { timeout: 3_000 });
    expect(emulator.inbound({ kind: 'message' }).map((r) => r.body.channel.messageId)).toEqual(['m1', 'm1']);
  });

  it('returns the conversation id when asked to prefetch it', async () => {
    const { client } = connect(emulator);
    const prefetched = await client.sendMessage(INTEGRATION_ID, message('m1'), { prefetchConversationId: true });
    const plain = await client.sendMessage(INTEGRATION_ID, message('m2'));

    const conversation = emulator.conversationFor(INTEGRATION_ID, CUSTOMER_ID);
    expect(conversation).toBeDefined();
    expect(prefetched.conversationId).toBe(conversation?.id);
    expect(plain.conversationId).toBeUndefined();
  });

  it('delivers a receipt, a typing event and a structured response', async () => {
    const { client } = connect(emulator);
    const time = new Date().toISOString();
    const sent = await client.sendMessage(INTEGRATION_ID, message('m1'));

    const receipt = await client.sendReceipt(INTEGRATION_ID, {
      id: 'genesys-outbound-1',
      channel: { to: { id: CUSTOMER_ID, idType: 'Opaque' }, time },
      status: 'Failed',
      reasons: [{ code: 'RecipientOptedOut', message: 'The customer blocked the bot' }],
      isFinalReceipt: true,
    });
    await client.sendEvent(INTEGRATION_ID, {
      channel: { from: { id: CUSTOMER_ID, idType: 'Opaque' }, time },
      events: [{ eventType: 'Typing', typing: { type: 'On', duration: 5000 } }],
    });
    const pressed = await client.sendStructuredResponse(INTEGRATION_ID, {
      channel: { from: { id: CUSTOMER_ID, idType: 'Opaque' }, time, messageId: 'press-1' },
      buttonResponse: { type: 'QuickReply', text: 'Yes', payload: 'YES' },
      originatingMessageId: sent.id,
    });

    // A Failed receipt is returned as is: the caller decides what it means.
    expect(receipt).toMatchObject({ id: expect.any(String), status: 'Failed' });
    expect(pressed.id).toEqual(expect.any(String));
    expect(emulator.inbound().map((r) => [r.kind, r.status])).toEqual([
      ['message', 200],
      ['receipt', 200],
      ['event', 200],
      ['structured-response', 200],
    ]);
    expect(emulator.inbound({ kind: 'receipt' })[0]?.body).toMatchObject({ id: 'genesys-outbound-1', status: 'Failed' });
    expect(emulator.inbound({ kind: 'event' })[0]?.body.events).toEqual([
      { eventType: 'Typing', typing: { type: 'On', duration: 5000 } },
    ]);
    expect(emulator.inbound({ kind: 'structured-response' })[0]?.body).toMatchObject({
      buttonResponse: { payload: 'YES' },
      originatingMessageId: sent.id,
    });
  });
});
