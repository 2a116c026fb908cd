/**
 * The host's start-up and shutdown, as an operator meets them: the real `parley start` process, a
 * connector whose platform is slow to answer at log-in (the fake Telegram's slow getMe), a slow
 * chat platform for sends in flight at SIGTERM, and signals sent to the process.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { killHost, spawnHostProcess, startHostProcess, type HostProcess } from './support/host-process.js';
import { agentWebhook, createWorld, eventually, hostEnv, postWebhook, type World } from './support/fixtures.js';
import { CONNECTOR_ID, createTelegramWorld, postAgentText, type TelegramWorld } from './support/telegram.js';

let world: World | TelegramWorld | undefined;
let host: HostProcess | undefined;

afterEach(async () => {
  await killHost(host);
  host = undefined;
  await world?.close();
  world = undefined;
});

/** `GET /readyz` until `check` accepts its answer; refused connections (not bound yet) count as no. */
async function readyzUntil(hostUrl: string, check: (status: number, body: any) => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await request(`${hostUrl}/readyz`).then(
      async (response) => ({ status: response.statusCode, body: (await response.body.json().catch(() => undefined)) as any }),
      () => undefined,
    );
    if (answer && check(answer.status, answer.body)) return answer;
    if (Date.now() > deadline) throw new Error(`/readyz never answered as expected; last: ${JSON.stringify(answer)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Sends `signal` and resolves with the exit and how long it took, in ms. */
async function signalAndTime(h: HostProcess, signal: NodeJS.Signals) {
  const sentAt = performance.now();
  h.child.kill(signal);
  const exit = await h.exited;
  return { ...exit, ms: performance.now() - sentAt };
}

describe('parley start: start-up', () => {
  it('queues Genesys webhooks while a connector logs in, and sends them only once it has started', async () => {
    const telegram = await createTelegramWorld('polling');
    world = telegram;
    telegram.telegram.privateChat({ id: 7001, firstName: 'Dora' });
    telegram.telegram.failNext({ method: 'getMe', delayMs: 2500 });
    host = spawnHostProcess(telegram.configPath, { env: telegram.env });

    // While the connector waits for getMe: the webhook is accepted, /readyz says which part is not ready.
    const starting = await readyzUntil(telegram.hostUrl, (status, body) => status === 503 && body?.connectors !== undefined);
    expect(starting.body.connectors[CONNECTOR_ID]).toEqual({ ready: false, detail: 'not started' });
    await postAgentText(telegram, 'tg:7001', 'accepted while starting');

    await telegram.telegram.waitForSent((message) => message.text === 'accepted while starting', 15_000);
    const delivered = await host.waitForLog((line) => line.msg === 'Agent message delivered to the customer');
    const started = host.logs.findIndex((line) => line.msg === 'Connector started');
    expect(started).toBeGreaterThanOrEqual(0);
    expect(host.logs.indexOf(delivered)).toBeGreaterThan(started);
    await readyzUntil(telegram.hostUrl, (status) => status === 200);
  });

  it('stops a start-up still logging in on SIGTERM: what it opened is closed, exit 0', async () => {
    const telegram = await createTelegramWorld('polling');
    world = telegram;
    telegram.telegram.failNext({ method: 'getMe', delayMs: 20_000 });
    host = spawnHostProcess(telegram.configPath, { env: telegram.env });
    await eventually(() => telegram.telegram.calls('getMe').length > 0, 15_000, 'the connector logging in');

    const exit = await signalAndTime(host, 'SIGTERM');
    expect(exit).toMatchObject({ code: 0, signal: null });
    // Long before Telegram would have answered.
    expect(exit.ms).toBeLessThan(5000);
    const messages = host.logs.map((line) => line.msg);
    expect(messages).toContain('Start-up stopped: everything it opened is closed');
    expect(messages).not.toContain('Parley is running');
    expect(messages).not.toContain('Connector started');
    // The connector never went on to poll: it was stopped, not left running until the exit.
    expect(telegram.telegram.calls('getUpdates')).toEqual([]);
    // The store was closed cleanly: the next start opens it and runs.
    host = await startHostProcess(telegram.configPath, { env: telegram.env });
    await readyzUntil(host.url, (status) => status === 200);
  });
});

describe('parley start: shutdown', () => {
  it('on SIGTERM mid-burst stops within server.shutdownGraceMs, and a restart delivers everything accepted', async () => {
    // Sends take 1.9 s; the grace of 2 s covers closing the server and the sends in flight together.
    const graceMs = 2000;
    const reference = await createWorld({ platformLatencyMs: 1900, shutdownGraceMs: graceMs });
    world = reference;
    host = await startHostProcess(reference.configPath, { env: hostEnv(reference) });

    // A client that never finishes its request: the server cannot close before the deadline.
    const slowClient = connect(Number(new URL(host.url).port), '127.0.0.1');
    slowClient.on('error', () => {});
    await new Promise<void>((resolve) => slowClient.once('connect', resolve));
    slowClient.write('POST /connectors/chat/genesys HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"id":');

    const customers = ['s0', 's1', 's2', 's3'];
    for (const customer of customers) reference.platform.customer(customer);
    const accepted: string[] = [];
    for (let seq = 0; seq < 4; seq++) {
      for (const customer of customers) {
        const text = `${customer}#${seq}`;
        const answer = await postWebhook(host.url, agentWebhook(`grace-${customer}-${String(seq).padStart(20, '0')}`, `ref:${customer}`, text));
        expect(answer.status).toBe(200);
        accepted.push(text);
      }
    }
    // The signal comes as the second wave of sends begins: they finish inside the grace, and a
    // worker that went on claiming would start a third wave that could not.
    await reference.platform.waitForSent((message) => String(message.text).endsWith('#1'), 10_000);

    const exit = await signalAndTime(host, 'SIGTERM');
    slowClient.destroy();
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(host.logs.some((line) => line.msg === 'Stopped')).toBe(true);
    // One deadline for the server and the sends in flight, plus the time to close and exit (a
    // deadline for each, one after the other, took about twice the grace).
    expect(exit.ms).toBeLessThan(graceMs + 1200);
    expect(reference.platform.sent().length).toBeLessThan(accepted.length);

    host = await startHostProcess(reference.configPath, { env: hostEnv(reference) });
    await eventually(
      () => {
        const delivered = new Set(reference.platform.sent().map((message) => message.text));
        return accepted.every((text) => delivered.has(text));
      },
      20_000,
      'every accepted message delivered after the restart',
    );
  }, 40_000);
});
