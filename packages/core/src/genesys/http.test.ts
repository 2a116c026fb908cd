import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { exchange, RequestTimeoutError } from './http.js';

let server: Server | undefined;
let agent: Agent | undefined;

afterEach(async () => {
  await agent?.close();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  agent = undefined;
});

/** A server that answers after `delayMs` and counts the requests it received. */
async function startServer(delayMs: number): Promise<{ url: string; received: () => number }> {
  let received = 0;
  server = createServer((req, res) => {
    received += 1;
    req.resume();
    setTimeout(() => {
      if (!res.destroyed) res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    }, delayMs);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  agent = new Agent();
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`, received: () => received };
}

describe('exchange', () => {
  it('returns the status and the parsed JSON body', async () => {
    const { url } = await startServer(0);
    const answer = await exchange(agent!, { url, method: 'POST', headers: {}, body: '{}', timeoutMs: 1_000 });
    expect(answer).toMatchObject({ status: 200, body: { ok: true } });
  });

  it('rejects with RequestTimeoutError when the answer is later than timeoutMs', async () => {
    const { url } = await startServer(500);
    const failure = await exchange(agent!, { url, method: 'POST', headers: {}, timeoutMs: 50 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RequestTimeoutError);
  });

  it('rejects with the reason of a signal that aborts during the exchange', async () => {
    const { url } = await startServer(500);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('shutting down')), 20);
    const failure = exchange(agent!, { url, method: 'POST', headers: {}, timeoutMs: 5_000, signal: controller.signal });
    await expect(failure).rejects.toThrow('shutting down');
  });

  it('does not send a request whose signal was already aborted', async () => {
    const { url, received } = await startServer(0);
    const controller = new AbortController();
    controller.abort(new Error('closed before'));
    const failure = exchange(agent!, { url, method: 'POST', headers: {}, timeoutMs: 1_000, signal: controller.signal });
    await expect(failure).rejects.toThrow('closed before');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(received()).toBe(0);
  });
});
