/**
 * The host's start-up and shutdown, as an operator meets them: the real `parley start` process, a
 * connector whose platform is slow to answer at log-in (the fake Telegram's slow getMe), and
 * signals sent to the process.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { killHost, spawnHostProcess, startHostProcess, type HostProcess } from './support/host-process.js';
import { eventually, type World } from './support/fixtures.js';
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
    // The connector never went on to poll: it was stopped, not left running until the exit.
    expect(telegram.telegram.calls('getUpdates')).toEqual([]);
    // The store was closed cleanly: the next start opens it and runs.
    host = await startHostProcess(telegram.configPath, { env: telegram.env });
    await readyzUntil(host.url, (status) => status === 200);
  });
});
