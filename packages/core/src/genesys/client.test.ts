/**
 * The client against a small hand-written Genesys stand-in, for behaviour the testkit emulator
 * cannot provoke (token endpoint outages, slow token answers, exact request counting). The
 * full Open Messaging behaviour is tested against the emulator in packages/testkit.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, PermanentError, RetryableError } from '../errors.js';
import { createGenesysClient } from './client.js';
import type { GenesysClientOptions, GenesysRequestInfo } from './client-options.js';
import type { GenesysClient, InboundMessageBody } from './types.js';

interface Seen {
  method: string;
  path: string;
  authorization: string | undefined;
  body: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void | Promise<void>;

interface StandIn {
  url: string;
  seen: Seen[];
  /** Answers to `/oauth/token` and to the API; replace per test. */
  token: Handler;
  api: Handler;
}

const servers: Server[] = [];
const clients: GenesysClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

async function startStandIn(): Promise<StandIn> {
  let issued = 0;
  const standIn: StandIn = {
    url: '',
    seen: [],
    token: (_req, res) => json(res, 200, { access_token: `token-${++issued}`, token_type: 'bearer', expires_in: 86400 }),
    api: (req, res) => json(res, 200, { id: `genesys-${standIn.seen.length}`, echo: req.url }),
  };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    standIn.seen.push({ method: req.method ?? '', path: req.url ?? '', authorization: req.headers.authorization, body });
    await (req.url === '/oauth/token' ? standIn.token : standIn.api)(req, res, body);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  standIn.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return standIn;
}

function client(standIn: StandIn, options: Partial<GenesysClientOptions> = {}): GenesysClient {
  const created = createGenesysClient({
    apiUrl: standIn.url,
    loginUrl: standIn.url,
    clientId: 'client-id',
    clientSecret: 'client-secret',
    backoffBaseMs: 5,
    backoffMaxMs: 50,
    ...options,
  });
  clients.push(created);
  return created;
}

const message = (id: string): InboundMessageBody => ({
  channel: { messageId: id, from: { id: 'tg:1', idType: 'Opaque' }, time: '2025-01-01T00:00:00.000Z' },
  text: `hello ${id}`,
});

const apiCalls = (standIn: StandIn) => standIn.seen.filter((seen) => seen.path !== '/oauth/token');
const tokenCalls = (standIn: StandIn) => standIn.seen.filter((seen) => seen.path === '/oauth/token');

describe('createGenesysClient', () => {
  it('posts to the documented path with a bearer token from the client-credentials grant', async () => {
    const standIn = await startStandIn();
    const genesys = client(standIn);
    const response = await genesys.sendMessage('integration/1', message('m1'), { prefetchConversationId: true });

    const [token, call] = standIn.seen;
    expect(token?.authorization).toBe(`Basic ${Buffer.from('client-id:client-secret').toString('base64')}`);
    expect(token?.body).toBe('grant_type=client_credentials');
    expect(call?.path).toBe(
      '/api/v2/conversations/messages/integration%2F1/inbound/open/message?prefetchConversationId=true',
    );
    expect(call?.authorization).toBe('Bearer token-1');
    expect(JSON.parse(call?.body ?? '')).toEqual(message('m1'));
    expect(response.id).toBe('genesys-2');
    expect(genesys.tokenStatus()).toMatchObject({ ok: true });
  });

  it('shares one token request among concurrent callers', async () => {
    const standIn = await startStandIn();
    const fastToken = standIn.token;
    // A slow token answer: every call below starts while the request is in flight.
    standIn.token = async (req, res, body) => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      await fastToken(req, res, body);
    };
    const genesys = client(standIn, { burst: 10 });
    await Promise.all([1, 2, 3, 4, 5].map((n) => genesys.sendMessage('i1', message(`m${n}`))));
    expect(tokenCalls(standIn)).toHaveLength(1);
    expect(apiCalls(standIn).map((call) => call.authorization)).toEqual(Array(5).fill('Bearer token-1'));
  });

  it('queues calls beyond the burst instead of failing them, in call order', async () => {
    const standIn = await startStandIn();
    const genesys = client(standIn, { requestsPerMinute: 600, burst: 2 });
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => genesys.sendMessage('i1', message(`m${n}`))));
    expect(results).toHaveLength(5);
    expect(apiCalls(standIn).map((call) => JSON.parse(call.body).channel.messageId)).toEqual([
      'm1',
      'm2',
      'm3',
      'm4',
      'm5',
    ]);
  });

  it('holds the 3rd call back while the budget is spent, and close() fails it with SHUTDOWN', async () => {
    const standIn = await startStandIn();
    // One request per second after a burst of 2: the 3rd call must wait about a second.
    const genesys = client(standIn, { requestsPerMinute: 60, burst: 2 });
    const first = genesys.sendMessage('i1', message('m1'));
    const second = genesys.sendMessage('i1', message('m2'));
    const third = genesys.sendMessage('i1', message('m3')).catch((caught: unknown) => caught);
    await Promise.all([first, second]);
    expect(apiCalls(standIn)).toHaveLength(2);

    await genesys.close();
    const error = await third;
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as RetryableError).code).toBe('SHUTDOWN');
    expect(apiCalls(standIn)).toHaveLength(2);
  });

  it('retries a token endpoint outage with backoff, then succeeds', async () => {
    const standIn = await startStandIn();
    const healthy = standIn.token;
    let failuresLeft = 2;
    standIn.token = (req, res, body) =>
      failuresLeft-- > 0 ? json(res, 503, { message: 'down' }) : healthy(req, res, body);
    const requests: GenesysRequestInfo[] = [];
    const genesys = client(standIn, { onRequest: (info) => requests.push(info) });

    await expect(genesys.sendReceipt('i1', receipt())).resolves.toMatchObject({ id: expect.any(String) });
    expect(requests.map((r) => `${r.endpoint}:${r.status}`)).toEqual([
      'token:503',
      'token:503',
      'token:200',
      'receipt:200',
    ]);
  });

  it('fails with GENESYS_AUTH at once when the credentials are rejected, and reports it in tokenStatus', async () => {
    const standIn = await startStandIn();
    standIn.token = (_req, res) => json(res, 401, { error: 'invalid_client', description: 'Authentication failed' });
    const genesys = client(standIn);

    const error = await genesys.sendMessage('i1', message('m1')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as RetryableError).code).toBe('GENESYS_AUTH');
    expect((error as Error).message).toContain('Genesys rejected the OAuth client credentials (clientId client-id)');
    expect((error as Error).message).toContain('invalid_client');
    expect((error as Error).message).not.toContain('client-secret');
    expect(tokenCalls(standIn)).toHaveLength(1);
    expect(apiCalls(standIn)).toHaveLength(0);
    expect(genesys.tokenStatus()).toMatchObject({ ok: false, error: expect.stringContaining('clientId client-id') });
  });

  it('gives up with GENESYS_AUTH when a fresh token is refused too', async () => {
    const standIn = await startStandIn();
    standIn.api = (_req, res) => json(res, 401, { message: 'Invalid login credentials.', code: 'authentication.required' });
    const genesys = client(standIn);
    const error = await genesys.sendEvent('i1', typing()).catch((caught: unknown) => caught);
    expect((error as RetryableError).code).toBe('GENESYS_AUTH');
    expect(tokenCalls(standIn)).toHaveLength(2);
    expect(apiCalls(standIn).map((call) => call.authorization)).toEqual(['Bearer token-1', 'Bearer token-2']);
  });

  it('turns 404 into a PermanentError with GeneralError and Genesys’s message', async () => {
    const standIn = await startStandIn();
    standIn.api = (_req, res) =>
      json(res, 404, { message: 'Integration not found', code: 'not.found', status: 404, contextId: 'ctx-1' });
    const genesys = client(standIn);
    const error = await genesys.sendMessage('nope', message('m1')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ code: 'GENESYS_REJECTED', reasonCode: 'GeneralError' });
    expect((error as Error).message).toContain('HTTP 404');
    expect((error as Error).message).toContain('not.found');
    expect((error as Error).message).toContain('Integration not found');
    expect((error as PermanentError).details).toMatchObject({ contextId: 'ctx-1', status: 404 });
    expect(apiCalls(standIn)).toHaveLength(1);
  });

  it('turns 403 (missing permission) into a retryable GENESYS_AUTH so queued work waits for the fix', async () => {
    const standIn = await startStandIn();
    standIn.api = (_req, res) => json(res, 403, { message: 'Missing permission', code: 'missing.permissions', status: 403 });
    const genesys = client(standIn);
    const error = await genesys.sendMessage('integration-1', message('m1')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ code: 'GENESYS_AUTH' });
    expect((error as Error).message).toContain('conversation:message:receive');
    expect(apiCalls(standIn)).toHaveLength(1);
  });

  it('hands a Retry-After longer than backoffMaxMs to the caller instead of waiting it out', async () => {
    const standIn = await startStandIn();
    standIn.api = (_req, res) => json(res, 429, { message: 'slow down', code: 'too.many.requests' }, { 'retry-after': '30' });
    const genesys = client(standIn, { backoffMaxMs: 1000 });
    const error = await genesys.sendMessage('i1', message('m1')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ code: 'GENESYS_RATE_LIMITED', retryAfterMs: 30_000 });
    expect(apiCalls(standIn)).toHaveLength(1);
  });

  it('keeps working when the onRequest hook throws', async () => {
    const standIn = await startStandIn();
    const genesys = client(standIn, {
      onRequest: () => {
        throw new Error('metrics broke');
      },
    });
    await expect(genesys.sendMessage('i1', message('m1'))).resolves.toMatchObject({ id: expect.any(String) });
  });

  it('rejects calls after close()', async () => {
    const standIn = await startStandIn();
    const genesys = client(standIn);
    await genesys.close();
    await genesys.close();
    await expect(genesys.sendMessage('i1', message('m1'))).rejects.toMatchObject({ code: 'SHUTDOWN' });
    await expect(genesys.getToken()).rejects.toMatchObject({ code: 'SHUTDOWN' });
    expect(standIn.seen).toHaveLength(0);
  });

  it('validates its options with ConfigError issues naming genesys.* keys', () => {
    const attempt = () =>
      createGenesysClient({
        apiUrl: 'nope',
        loginUrl: 'http://127.0.0.1:1',
        clientId: '',
        clientSecret: 's',
        maxAttempts: 0,
      });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      expect((error as ConfigError).issues.map((issue) => issue.path).sort()).toEqual([
        'genesys.apiUrl',
        'genesys.clientId',
        'genesys.maxAttempts',
      ]);
    }
  });

  it('gives up on an answer slower than timeoutMs, retries, and reports the timeout', async () => {
    const standIn = await startStandIn();
    let slowLeft = 1;
    standIn.api = async (_req, res) => {
      if (slowLeft-- > 0) await new Promise((resolve) => setTimeout(resolve, 1_000));
      if (!res.destroyed) json(res, 200, { id: 'ok' });
    };
    const requests: GenesysRequestInfo[] = [];
    const genesys = client(standIn, { timeoutMs: 100, onRequest: (info) => requests.push(info) });
    await expect(genesys.sendMessage('i1', message('m1'))).resolves.toMatchObject({ id: 'ok' });
    const api = requests.filter((r) => r.endpoint === 'message');
    expect(api).toHaveLength(2);
    expect(api[0]?.error).toMatch(/timed out after 100 ms/);
    expect(api[0]?.durationMs).toBeGreaterThanOrEqual(90);
    expect(api[1]).toMatchObject({ attempt: 2, status: 200 });
  });

  it('fails a call that times out on every attempt with a retryable GENESYS_UNAVAILABLE', async () => {
    const standIn = await startStandIn();
    standIn.api = () => new Promise(() => {});
    const genesys = client(standIn, { timeoutMs: 50, maxAttempts: 2 });
    const error = await genesys.sendReceipt('i1', receipt()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ code: 'GENESYS_UNAVAILABLE', message: expect.stringMatching(/timed out after 50 ms/) });
    expect(apiCalls(standIn)).toHaveLength(2);
  });

  it('close() ends a request in flight with SHUTDOWN', async () => {
    const standIn = await startStandIn();
    standIn.api = () => new Promise(() => {});
    const genesys = client(standIn, { timeoutMs: 60_000 });
    const pending = genesys.sendMessage('i1', message('m1')).catch((caught: unknown) => caught);
    while (apiCalls(standIn).length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await genesys.close();
    expect(await pending).toMatchObject({ code: 'SHUTDOWN' });
  });

  it('retries network failures and reports them with an error and no status', async () => {
    const standIn = await startStandIn();
    let dropsLeft = 1;
    standIn.api = (req, res) => {
      if (dropsLeft-- > 0) {
        req.socket.destroy();
        return;
      }
      json(res, 200, { id: 'ok' });
    };
    const requests: GenesysRequestInfo[] = [];
    const genesys = client(standIn, { onRequest: (info) => requests.push(info) });
    await expect(genesys.sendMessage('i1', message('m1'))).resolves.toMatchObject({ id: 'ok' });
    const api = requests.filter((r) => r.endpoint === 'message');
    expect(api).toHaveLength(2);
    expect(api[0]).toMatchObject({ attempt: 1, error: expect.any(String) });
    expect(api[0]?.status).toBeUndefined();
    expect(api[1]).toMatchObject({ attempt: 2, status: 200 });
  });
});

function receipt() {
  return {
    id: 'genesys-out-1',
    channel: { to: { id: 'tg:1', idType: 'Opaque' as const }, time: '2025-01-01T00:00:00.000Z' },
    status: 'Delivered' as const,
  };
}

function typing() {
  return {
    channel: { from: { id: 'tg:1', idType: 'Opaque' as const }, time: '2025-01-01T00:00:00.000Z' },
    events: [{ eventType: 'Typing' as const }],
  };
}
