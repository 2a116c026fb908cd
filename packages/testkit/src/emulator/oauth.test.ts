import { afterEach, describe, expect, it } from 'vitest';
import { startGenesysEmulator } from './emulator.js';
import type { EmulatorClient, GenesysEmulator } from './types.js';

let emulator: GenesysEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

function basic({ clientId, clientSecret }: EmulatorClient): string {
  return `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
}

function requestToken(target: GenesysEmulator, authorization?: string, form = 'grant_type=client_credentials') {
  return fetch(`${target.url}/oauth/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(authorization ? { authorization } : {}),
    },
    body: form,
  });
}

async function tokenFor(target: GenesysEmulator): Promise<string> {
  const response = await requestToken(target, basic(target.defaultClient));
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

/** An API call that needs a bearer token: a valid inbound message. */
function callApi(target: GenesysEmulator, integrationId: string, authorization?: string) {
  return fetch(`${target.url}/api/v2/conversations/messages/${integrationId}/inbound/open/message`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify({
      channel: { from: { id: 'tg:1', idType: 'Opaque' }, time: new Date().toISOString() },
      text: 'hello',
    }),
  });
}

function integrationOf(target: GenesysEmulator): string {
  return target.addIntegration({ webhookUrl: 'http://127.0.0.1:9/none', webhookSecret: 'secret-0123456789abcdef' }).id;
}

describe('POST /oauth/token', () => {
  it('issues a bearer token to the default client with Genesys’s default lifetime', async () => {
    emulator = await startGenesysEmulator();
    expect(emulator.defaultClient).toEqual({ clientId: 'parley-emulator', clientSecret: 'parley-emulator-secret' });
    const response = await requestToken(emulator, basic(emulator.defaultClient));
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toEqual({ access_token: expect.any(String), token_type: 'bearer', expires_in: 86400 });
    const api = await callApi(emulator, integrationOf(emulator), `Bearer ${String(body['access_token'])}`);
    expect(api.status).toBe(200);
  });

  it('answers 401 invalid_client to a wrong secret, an unknown client and missing credentials', async () => {
    emulator = await startGenesysEmulator();
    const attempts = [
      basic({ clientId: 'parley-emulator', clientSecret: 'wrong' }),
      basic({ clientId: 'someone-else', clientSecret: 'parley-emulator-secret' }),
      undefined,
      'Bearer not-basic',
    ];
    for (const authorization of attempts) {
      const response = await requestToken(emulator, authorization);
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ error: 'invalid_client', description: expect.any(String) });
    }
  });

  it('answers 400 to another grant type or none', async () => {
    emulator = await startGenesysEmulator();
    const other = await requestToken(emulator, basic(emulator.defaultClient), 'grant_type=password&username=a&password=b');
    expect(other.status).toBe(400);
    expect(await other.json()).toMatchObject({ error: 'unsupported_grant_type' });
    const none = await requestToken(emulator, basic(emulator.defaultClient), '');
    expect(none.status).toBe(400);
    expect(await none.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('accepts only the configured clients and exposes the first as defaultClient', async () => {
    const clients = [
      { clientId: 'one', clientSecret: 'one-secret' },
      { clientId: 'two', clientSecret: 'two-secret' },
    ];
    emulator = await startGenesysEmulator({ clients });
    expect(emulator.defaultClient).toEqual(clients[0]);
    expect((await requestToken(emulator, basic(clients[1]!))).status).toBe(200);
    const stock = await requestToken(emulator, basic({ clientId: 'parley-emulator', clientSecret: 'parley-emulator-secret' }));
    expect(stock.status).toBe(401);
  });

  it('lets tokens expire after tokenLifetimeSeconds', async () => {
    emulator = await startGenesysEmulator({ tokenLifetimeSeconds: 1 });
    const integrationId = integrationOf(emulator);
    const response = await requestToken(emulator, basic(emulator.defaultClient));
    const { access_token, expires_in } = (await response.json()) as { access_token: string; expires_in: number };
    expect(expires_in).toBe(1);
    expect((await callApi(emulator, integrationId, `Bearer ${access_token}`)).status).toBe(200);

    await new Promise((resolve) => setTimeout(resolve, 1100));
    const expired = await callApi(emulator, integrationId, `Bearer ${access_token}`);
    expect(expired.status).toBe(401);
    expect(await expired.json()).toMatchObject({ code: 'bad.credentials', status: 401 });
  });
});

describe('bearer check on API calls', () => {
  it('answers 401 with a Genesys error body to a missing or unknown token', async () => {
    emulator = await startGenesysEmulator();
    const integrationId = integrationOf(emulator);

    const missing = await callApi(emulator, integrationId);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({
      message: expect.stringContaining('bearer token'),
      code: 'authentication.required',
      status: 401,
      contextId: expect.any(String),
      details: [],
      errors: [],
    });

    const unknown = await callApi(emulator, integrationId, 'Bearer made-up-token');
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toMatchObject({ code: 'bad.credentials', status: 401 });
    expect(emulator.inbound()).toHaveLength(0);
    expect(emulator.inbound({ includeRejected: true }).map((r) => r.status)).toEqual([401, 401]);
  });

  it('faults.expireTokens() revokes every token issued so far; a new one works', async () => {
    emulator = await startGenesysEmulator();
    const integrationId = integrationOf(emulator);
    const first = await tokenFor(emulator);
    const second = await tokenFor(emulator);
    emulator.faults.expireTokens();
    expect((await callApi(emulator, integrationId, `Bearer ${first}`)).status).toBe(401);
    expect((await callApi(emulator, integrationId, `Bearer ${second}`)).status).toBe(401);
    expect((await callApi(emulator, integrationId, `Bearer ${await tokenFor(emulator)}`)).status).toBe(200);
  });
});
