/**
 * The connector on its own, with testkit's in-memory ConnectorContext in place of the host: what
 * Slack hears when handing an event to core fails (retryably or for good), the lifecycle (no I/O
 * in create, idempotent start/stop, 503 while not started, wrong tokens) and Socket Mode reconnects.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PermanentError, RetryableError, type Connector } from '@parley/core';
import { createTestContext } from '@parley/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { slackConnector, slackOptionsSchema, type SlackOptionsInput } from '../src/index.js';
import { startSlackFake, type SlackFake } from '../src/testing/index.js';

/** What core throws while its store is busy, and for an event it can never take. */
const storeBusy = () => new RetryableError('STORE', 'The store is busy');
const cannotTake = () => new PermanentError('PAYLOAD_INVALID', 'Cannot take this one');

let fake: SlackFake | undefined;
let connector: Connector | undefined;
let server: Server | undefined;

afterEach(async () => {
  await connector?.stop();
  connector = undefined;
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server?.closeAllConnections();
  server = undefined;
  await fake?.close();
  fake = undefined;
});

async function setUp(mode: 'http' | 'socket', overrides: Partial<SlackOptionsInput> = {}) {
  fake = await startSlackFake({ mode, retryDelaysMs: [20, 20, 20], ackTimeoutMs: 1000 });
  const context = createTestContext({ id: 'help-desk' });
  const options = slackOptionsSchema.parse({
    botToken: fake.botToken,
    mode,
    apiUrl: fake.apiUrl,
    ...(mode === 'http' ? { signingSecret: fake.signingSecret } : { appToken: fake.appToken }),
    socketPingTimeoutMs: 200,
    ...overrides,
  });
  connector = slackConnector.create(options, context.context);
  const instance = connector;
  server = createServer((req, res) =>
    instance.webhook!(req, res, () => {
      res.statusCode = 500;
      res.end();
    }),
  );
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  fake.setRequestUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  const user = fake.addUser({ name: 'ada' });
  return { fake, context, connector, user, dm: fake.openDm(user.id) };
}

describe('the Slack connector', () => {
  it('does no I/O in create(), starts and stops idempotently, and logs no secret', async () => {
    const { fake, context, connector, user, dm } = await setUp('socket');
    expect(fake.calls()).toHaveLength(0);
    expect(connector.readiness?.()).toMatchObject({ ready: false });
    await Promise.all([connector.start(), connector.start()]);
    await connector.start();
    expect(fake.calls('auth.test')).toHaveLength(1);
    expect(fake.socket.connections()).toBe(1);
    expect(connector.readiness?.()).toEqual({ ready: true });

    await fake.post({ user: user.id, channel: dm.id, text: 'hello' });
    expect(context.received).toHaveLength(1);
    await connector.stop();
    await connector.stop();
    expect(fake.socket.connections()).toBe(0);
    expect(connector.readiness?.()).toMatchObject({ ready: false });

    // A stopped connector starts again.
    await connector.start();
    await fake.post({ user: user.id, channel: dm.id, text: 'after a restart' });
    expect(context.received).toHaveLength(2);
    await connector.stop();
    const log = context.logLines.join('\n');
    for (const secret of [fake.botToken, fake.appToken, fake.signingSecret]) expect(log).not.toContain(secret);
  });

  it('answers Slack 500 while the event cannot be queued, so Slack retries, and 200 once it is', async () => {
    const { fake, context, connector, user, dm } = await setUp('http');
    await connector.start();
    context.failNextReceive(storeBusy(), storeBusy());
    const posted = await fake.post({ user: user.id, channel: dm.id, text: 'keep trying' });
    expect(posted.deliveries[0]).toMatchObject({
      acked: true,
      attempts: [
        { retryNum: 0, status: 500 },
        { retryNum: 1, status: 500 },
        { retryNum: 2, status: 200 },
      ],
    });
    expect(context.received).toMatchObject([{ kind: 'message', text: 'keep trying' }]);
  });

  it('acknowledges an event that can never be queued, so Slack stops retrying it', async () => {
    const { fake, context, connector, user, dm } = await setUp('http');
    await connector.start();
    context.failNextReceive(cannotTake());
    const posted = await fake.post({ user: user.id, channel: dm.id, text: 'cannot be taken' });
    expect(posted.deliveries[0]).toMatchObject({ acked: true, attempts: [{ retryNum: 0, status: 200 }] });
    expect(context.received).toHaveLength(0);
  });

  it('leaves a Socket Mode envelope unacknowledged while queueing fails, so Slack redelivers it', async () => {
    const { fake, context, connector, user, dm } = await setUp('socket');
    await connector.start();
    context.failNextReceive(storeBusy());
    const posted = await fake.post({ user: user.id, channel: dm.id, text: 'over the socket' });
    expect(posted.deliveries[0]).toMatchObject({ acked: true, attempts: [{ retryNum: 0, error: 'timeout' }, { retryNum: 1 }] });
    expect(context.received).toMatchObject([{ text: 'over the socket' }]);
  });

  it('answers 503 to signed events before start() and after stop(), and 404 in socket mode', async () => {
    const { fake, connector, user, dm } = await setUp('http');
    const before = await fake.post({ user: user.id, channel: dm.id, text: 'too early' });
    expect(before.deliveries[0]!.attempts.map((attempt) => attempt.status)).toEqual([503, 503, 503, 503]);
    await connector.start();
    await connector.stop();
    const after = await fake.postSigned({ body: JSON.stringify({ type: 'event_callback', event: { type: 'message' } }) });
    expect(after.status).toBe(503);

    const socket = await setUpSocketWebhook();
    expect(socket.status).toBe(404);
  });

  it('refuses to start with a bot token Slack rejects, saying why', async () => {
    const { connector, fake } = await setUp('http', {});
    fake.failNext({ method: 'auth.test', error: 'invalid_auth' });
    await expect(connector.start()).rejects.toMatchObject({ code: 'PLATFORM_REJECTED', message: expect.stringContaining('(invalid_auth)') });
    // A later start succeeds once the token is right.
    await connector.start();
    expect(connector.readiness?.()).toEqual({ ready: true });
  });

  it('refuses to start in socket mode with an app token Slack rejects', async () => {
    const { connector } = await setUp('socket', { appToken: 'xapp-not-the-app-token' });
    await expect(connector.start()).rejects.toMatchObject({ message: expect.stringContaining('(invalid_auth)') });
  });

  it('does not come alive when stop() ran while start() was still connecting', async () => {
    const { fake, connector } = await setUp('socket');
    fake.failNext({ method: 'apps.connections.open', delayMs: 300 });
    const starting = connector.start();
    await waitFor(() => fake.calls('apps.connections.open').length === 1);
    await connector.stop();
    await starting;
    await waitFor(() => fake.socket.connections() === 0);
    expect(connector.readiness?.()).toMatchObject({ ready: false });

    // start(), stop(), start() in a row: the last one wins and connects.
    fake.failNext({ method: 'apps.connections.open', delayMs: 300 });
    const first = connector.start();
    await waitFor(() => fake.calls('apps.connections.open').length === 2);
    await connector.stop();
    await Promise.all([first, connector.start()]);
    expect(connector.readiness?.()).toEqual({ ready: true });
    expect(fake.socket.connections()).toBe(1);
  });

  it('reconnects when Slack asks it to or the socket drops, and keeps delivering', async () => {
    const { fake, context, connector, user, dm } = await setUp('socket');
    await connector.start();
    fake.socket.requestReconnect();
    await waitFor(() => fake.socket.connectionsEver() === 2 && connector.readiness?.().ready === true);
    await fake.post({ user: user.id, channel: dm.id, text: 'after the refresh' });

    fake.socket.dropConnections();
    await waitFor(() => fake.socket.connectionsEver() === 3 && connector.readiness?.().ready === true);
    await fake.post({ user: user.id, channel: dm.id, text: 'after the drop' });
    expect(context.received.map((event) => (event.kind === 'message' ? event.text : ''))).toEqual(['after the refresh', 'after the drop']);
  });
});

async function setUpSocketWebhook(): Promise<{ status: number }> {
  const socketConnector = slackConnector.create(
    slackOptionsSchema.parse({ botToken: 'xoxb-1', mode: 'socket', appToken: 'xapp-1' }),
    createTestContext({ id: 'help-desk' }).context,
  );
  const local = createServer((req, res) => socketConnector.webhook!(req, res, () => undefined));
  await new Promise<void>((resolve) => local.listen(0, '127.0.0.1', resolve));
  try {
    const response = await fetch(`http://127.0.0.1:${(local.address() as AddressInfo).port}/`, { method: 'POST', body: '{}' });
    await response.arrayBuffer();
    return { status: response.status };
  } finally {
    local.closeAllConnections();
    await new Promise<void>((resolve) => local.close(() => resolve()));
  }
}

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('Timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
