import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startGenesysEmulator } from './emulator.js';
import type { GenesysEmulator } from './types.js';

const INTEGRATION = 'faults-integration';

let emulator: GenesysEmulator;

beforeEach(async () => {
  emulator = await startGenesysEmulator();
  emulator.addIntegration({ id: INTEGRATION, webhookUrl: 'http://127.0.0.1:9/unused', webhookSecret: 'unused-secret-0123456789' });
});

afterEach(async () => {
  await emulator.close();
});

function requestToken(signal?: AbortSignal) {
  const { clientId, clientSecret } = emulator.defaultClient;
  return fetch(`${emulator.url}/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
    ...(signal ? { signal } : {}),
  });
}

async function token(): Promise<string> {
  return ((await (await requestToken()).json()) as { access_token: string }).access_token;
}

const TIME = '2024-02-01T15:04:05.123Z';
const BODIES = {
  message: { channel: { from: { id: 'tg:1', idType: 'Opaque' }, time: TIME }, text: 'hi' },
  receipt: { id: 'abc', channel: { to: { id: 'tg:1' }, time: TIME }, status: 'Delivered' },
};

function post(kind: keyof typeof BODIES, bearer: string, signal?: AbortSignal) {
  return fetch(`${emulator.url}/api/v2/conversations/messages/${INTEGRATION}/inbound/open/${kind}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    body: JSON.stringify(BODIES[kind]),
    ...(signal ? { signal } : {}),
  });
}

describe('faults.inject', () => {
  it('answers a 429 with Retry-After and the Genesys error code, once', async () => {
    const bearer = await token();
    emulator.faults.inject({ endpoint: 'message', status: 429, retryAfterSeconds: 7 });

    const limited = await post('message', bearer);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(await limited.json()).toEqual({
      message: expect.stringContaining('[7] seconds'),
      code: 'too.many.requests.retry.after',
      status: 429,
      contextId: expect.any(String),
      details: [],
      errors: [],
    });
    expect((await post('message', bearer)).status).toBe(200);
    expect(emulator.inbound({ includeRejected: true }).map((r) => r.status)).toEqual([429, 200]);
    expect(emulator.inbound()).toHaveLength(1);
  });

  it('answers a 429 without Retry-After when none is given', async () => {
    const bearer = await token();
    emulator.faults.inject({ endpoint: 'message', status: 429 });
    const limited = await post('message', bearer);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBeNull();
    expect(await limited.json()).toMatchObject({ code: 'too.many.requests' });
  });

  it('fails the next `times` requests of its endpoint only', async () => {
    const bearer = await token();
    emulator.faults.inject({ endpoint: 'message', status: 503, times: 2 });

    expect((await post('receipt', bearer)).status).toBe(200);
    expect((await post('message', bearer)).status).toBe(503);
    const second = await post('message', bearer);
    expect(second.status).toBe(503);
    expect(await second.json()).toMatchObject({ code: 'service.unavailable', status: 503 });
    expect((await post('message', bearer)).status).toBe(200);
  });

  it('applies faults in the order they were injected; `any` also hits the token endpoint', async () => {
    emulator.faults.inject({ endpoint: 'any', status: 500 });
    emulator.faults.inject({ endpoint: 'token', status: 502 });

    const first = await requestToken();
    expect(first.status).toBe(500);
    expect(await first.json()).toMatchObject({ code: 'internal.server.error' });
    expect((await requestToken()).status).toBe(502);
    const bearer = await token();

    emulator.faults.inject({ endpoint: 'any', status: 500 });
    expect((await post('receipt', bearer)).status).toBe(500);
    expect((await post('receipt', bearer)).status).toBe(200);
  });

  it('answers late with delayMs: the client times out, yet the request is still applied', async () => {
    const bearer = await token();
    emulator.faults.inject({ endpoint: 'message', delayMs: 300 });

    await expect(post('message', bearer, AbortSignal.timeout(50))).rejects.toThrow();
    const applied = await emulator.waitForInbound((r) => r.kind === 'message', 2_000);
    expect(applied.status).toBe(200);
  });

  it('combines delayMs with a status for a slow failure', async () => {
    const bearer = await token();
    emulator.faults.inject({ endpoint: 'message', delayMs: 100, status: 503 });
    const started = Date.now();
    const response = await post('message', bearer);
    expect(response.status).toBe(503);
    // A lower bound on lateness, not a speed claim.
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
  });

  it('delays the token endpoint too', async () => {
    emulator.faults.inject({ endpoint: 'token', delayMs: 300 });
    await expect(requestToken(AbortSignal.timeout(50))).rejects.toThrow();
    expect((await requestToken()).status).toBe(200);
  });

  it('rejects a fault that has neither status nor delay, or a nonsense status', () => {
    expect(() => emulator.faults.inject({ endpoint: 'message' })).toThrow(/status, a delayMs/);
    expect(() => emulator.faults.inject({ endpoint: 'message', status: 200 })).toThrow(/Invalid fault/);
    expect(() => emulator.faults.inject({ endpoint: 'nowhere' as 'message', status: 500 })).toThrow(/Invalid fault/);
  });

  it('clear() drops pending faults', async () => {
    const bearer = await token();
    emulator.faults.inject({ endpoint: 'message', status: 500, times: 5 });
    emulator.faults.clear();
    expect((await post('message', bearer)).status).toBe(200);
  });

  it('reset() drops pending faults too', async () => {
    const bearer = await token();
    emulator.faults.inject({ endpoint: 'any', status: 500, times: 5 });
    emulator.reset();
    expect((await post('message', bearer)).status).toBe(200);
  });
});
