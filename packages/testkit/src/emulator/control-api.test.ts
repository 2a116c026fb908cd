import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startGenesysEmulator } from './emulator.js';
import type { GenesysEmulator } from './types.js';

let emulator: GenesysEmulator;

beforeEach(async () => {
  emulator = await startGenesysEmulator();
});

afterEach(async () => {
  await emulator.close();
});

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(`${emulator.url}/emulator${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as any) : undefined };
}

async function bearer(): Promise<string> {
  const { clientId, clientSecret } = emulator.defaultClient;
  const response = await fetch(`${emulator.url}/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  return ((await response.json()) as { access_token: string }).access_token;
}

function customerMessage(token: string, integrationId: string, text: string | undefined) {
  return fetch(`${emulator.url}/api/v2/conversations/messages/${integrationId}/inbound/open/message`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ channel: { from: { id: 'tg:7', idType: 'Opaque' }, time: new Date().toISOString() }, text }),
  });
}

describe('/emulator control API', () => {
  it('POST /integrations adds (or replaces) an integration; GET lists them', async () => {
    const created = await call('POST', '/integrations', { webhookUrl: 'http://127.0.0.1:9/hook', webhookSecret: 'secret-0123456789abcdef' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(String),
      name: 'Parley Emulator',
      webhookUrl: 'http://127.0.0.1:9/hook',
      webhookSecret: 'secret-0123456789abcdef',
    });
    const named = await call('POST', '/integrations', { id: 'fixed', name: 'Support', webhookUrl: 'http://127.0.0.1:9/a', webhookSecret: 's1' });
    expect(named.body).toMatchObject({ id: 'fixed', name: 'Support' });
    await call('POST', '/integrations', { id: 'fixed', name: 'Support v2', webhookUrl: 'http://127.0.0.1:9/b', webhookSecret: 's2' });

    const listed = await call('GET', '/integrations');
    expect(listed.body).toHaveLength(2);
    expect(emulator.integrations().find((i) => i.id === 'fixed')).toMatchObject({ name: 'Support v2', webhookUrl: 'http://127.0.0.1:9/b' });

    const invalid = await call('POST', '/integrations', { webhookUrl: 'not a url' });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error).toMatch(/webhookUrl/);
  });

  it('GET /conversations and GET /inbound show the recorded traffic, with filters', async () => {
    emulator.addIntegration({ id: 'one', webhookUrl: 'http://127.0.0.1:9/unused', webhookSecret: 's' });
    const token = await bearer();
    await customerMessage(token, 'one', 'hello');
    await customerMessage(token, 'one', undefined);

    const conversations = await call('GET', '/conversations');
    expect(conversations.body).toEqual([{ id: expect.any(String), integrationId: 'one', customerId: 'tg:7', customer: { id: 'tg:7' } }]);

    const accepted = await call('GET', '/inbound');
    expect(accepted.body).toEqual([expect.objectContaining({ kind: 'message', status: 200, body: expect.objectContaining({ text: 'hello' }) })]);
    const all = await call('GET', '/inbound?includeRejected=true&kind=message&integrationId=one');
    expect(all.body.map((r: { status: number }) => r.status)).toEqual([200, 400]);
    expect((await call('GET', '/inbound?integrationId=other')).body).toEqual([]);
    expect((await call('GET', '/inbound?kind=bogus')).status).toBe(400);
  });

  it('GET /deliveries shows each delivery with its attempts and outcome', async () => {
    // The webhook goes to a route the emulator does not have: 404, which Genesys does not retry.
    emulator.addIntegration({ id: 'one', webhookUrl: `${emulator.url}/no-such-webhook`, webhookSecret: 's' });
    await customerMessage(await bearer(), 'one', 'hello');
    const conversation = emulator.conversationFor('one', 'tg:7')!;
    const delivery = await emulator.agent.sendText(conversation.id, 'hi');
    await delivery.done;

    const deliveries = await call('GET', '/deliveries');
    expect(deliveries.body).toEqual([
      {
        messageId: delivery.messageId,
        integrationId: 'one',
        conversationId: conversation.id,
        body: delivery.body,
        attempts: [{ at: expect.any(Number), status: 404, durationMs: expect.any(Number) }],
        outcome: { delivered: false, status: 404 },
      },
    ]);
  });

  it('POST /faults injects, DELETE /faults clears, POST /faults/expire-tokens revokes tokens', async () => {
    emulator.addIntegration({ id: 'one', webhookUrl: 'http://127.0.0.1:9/unused', webhookSecret: 's' });
    const token = await bearer();

    expect((await call('POST', '/faults', { endpoint: 'message', status: 503, times: 2 })).status).toBe(204);
    expect((await customerMessage(token, 'one', 'a')).status).toBe(503);
    expect((await call('DELETE', '/faults')).status).toBe(204);
    expect((await customerMessage(token, 'one', 'b')).status).toBe(200);

    const invalid = await call('POST', '/faults', { endpoint: 'message' });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error).toMatch(/status, a delayMs/);

    expect((await call('POST', '/faults/expire-tokens')).status).toBe(204);
    expect((await customerMessage(token, 'one', 'c')).status).toBe(401);
  });

  it('POST /reset forgets traffic; unknown routes answer 404', async () => {
    emulator.addIntegration({ id: 'one', webhookUrl: 'http://127.0.0.1:9/unused', webhookSecret: 's' });
    await customerMessage(await bearer(), 'one', 'hello');
    expect((await call('POST', '/reset')).status).toBe(204);
    expect(emulator.inbound()).toEqual([]);
    expect(emulator.integrations()).toHaveLength(1);

    const unknown = await call('GET', '/nothing-here');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error: expect.stringContaining('/emulator/nothing-here') });
    const outside = await fetch(`${emulator.url}/api/v2/users/me`);
    expect(outside.status).toBe(404);
    expect(await outside.json()).toMatchObject({ code: 'not.found', status: 404 });
  });
});
