/**
 * Losing nothing and duplicating nothing when the gateway drops, the session is lost or Parley
 * restarts; refusing to start with a message that says what to fix; stopping without leaving a
 * reconnect behind.
 */
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startHarness, type Harness } from '@parley/testkit/conformance';
import { afterEach, describe, expect, it } from 'vitest';
import { discordConnector } from '../src/connector.js';
import { startDiscordFake, type DiscordFake } from '../src/testing/index.js';
import { closeWorld, connectorOf, inboundMessage, startWorld, textsFrom, type World } from './support.js';

let world: World | undefined;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await closeWorld(world);
  world = undefined;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('gateway interruptions', () => {
  it('resumes after a dropped connection: Discord replays the gap, each message once', async () => {
    world = await startWorld();
    const uma = world.fake.user({ username: 'uma' });
    uma.dm('before the drop');
    await inboundMessage(world, (body) => body.text === 'before the drop');

    const resumed = world.fake.gateway.nextSession();
    world.fake.gateway.disconnect(4000);
    for (const text of ['gap 1', 'gap 2', 'gap 3']) uma.dm(text);
    await resumed;
    uma.dm('after the resume');
    await inboundMessage(world, (body) => body.text === 'after the resume');

    expect(textsFrom(world, `discord:dm:${uma.id}`)).toEqual(['before the drop', 'gap 1', 'gap 2', 'gap 3', 'after the resume']);
    expect(world.fake.gateway.stats).toMatchObject({ identifies: 1, resumes: 1 });
    // Replayed by Discord: no need to read the history.
    expect(world.fake.requests().some((request) => request.route === 'history')).toBe(false);
  });

  it('identifies again after a lost session and fetches the gap from the channel history', async () => {
    world = await startWorld();
    const vera = world.fake.user({ username: 'vera' });
    vera.dm('before the loss');
    await inboundMessage(world, (body) => body.text === 'before the loss');

    const identified = world.fake.gateway.nextSession();
    // Sessions forgotten: what is written now reaches no gateway session, only the history.
    world.fake.gateway.disconnect(4000, { invalidateSessions: true });
    for (const text of ['lost 1', 'lost 2', 'lost 3']) vera.dm(text);
    await identified;
    await inboundMessage(world, (body) => body.text === 'lost 3');
    vera.dm('live again');
    await inboundMessage(world, (body) => body.text === 'live again');

    expect(textsFrom(world, `discord:dm:${vera.id}`)).toEqual(['before the loss', 'lost 1', 'lost 2', 'lost 3', 'live again']);
    expect(world.fake.gateway.stats.identifies).toBe(2);
    expect(world.fake.requests().some((request) => request.route === 'history')).toBe(true);
  });
});

describe('restart', () => {
  it('forwards what was written while Parley was stopped, once and in order, also a first message in a support channel', async () => {
    world = await startWorld({ connector: (fake) => ({ supportChannelIds: [fake.guild('Support').channel('help')] }) });
    const { fake } = world;
    const help = fake.guild('Support').channel('help');
    const walt = fake.user({ username: 'walt' });
    const xena = fake.user({ username: 'xena', globalName: 'Xena' });
    walt.dm('before the restart');
    await inboundMessage(world, (body) => body.text === 'before the restart');

    const connector = connectorOf(world);
    await connector.stop();
    expect(fake.gateway.connectedSessions()).toBe(0);
    for (const text of ['while down 1', 'while down 2']) walt.dm(text);
    const first = xena.post(help, 'first time here, while Parley was down');
    // The history is unreachable at first: the catch-up retries.
    fake.failNext({ route: 'history', status: 503, times: 4 });
    await connector.start();

    await inboundMessage(world, (body) => body.text === 'while down 2');
    const support = await inboundMessage(world, (body) => body.text === 'first time here, while Parley was down');
    expect(fake.threadsOf(help)).toEqual([{ id: first.id, name: 'Xena' }]);
    walt.dm('after the restart');
    await inboundMessage(world, (body) => body.text === 'after the restart');

    expect(textsFrom(world, `discord:dm:${walt.id}`)).toEqual(['before the restart', 'while down 1', 'while down 2', 'after the restart']);
    expect(textsFrom(world, support.body.channel.from.id)).toEqual(['first time here, while Parley was down']);
    // Four failed answers (discord.js retries a 5xx three times), then the catch-up's retry.
    expect(fake.requests().filter((request) => request.route === 'history').length).toBeGreaterThanOrEqual(5);
  });

  it('reads no history for tracked channels with nothing new, and stops tracking a channel that is gone', async () => {
    world = await startWorld({ connector: (fake) => ({ channelIds: [fake.guild('Support').channel('general')] }) });
    const { fake } = world;
    const general = fake.guild('Support').channel('general');
    const zoe = fake.user({ username: 'zoe' });
    zoe.post(general, 'in general');
    const { threadId } = zoe.startThread(general, 'Refund', 'about my refund');
    zoe.dm('and a DM');
    await inboundMessage(world, (body) => body.text === 'in general');
    await inboundMessage(world, (body) => body.text === 'about my refund');
    await inboundMessage(world, (body) => body.text === 'and a DM');

    const connector = connectorOf(world);
    await connector.stop();
    fake.deleteChannel(threadId);
    const historyBefore = fake.requests().filter((request) => request.route === 'history').length;
    await connector.start();
    await expect
      .poll(() => world!.harness.logs().some((line) => line.includes('Stopped tracking a Discord channel') && line.includes(threadId)))
      .toBe(true);
    zoe.dm('still here');
    await inboundMessage(world, (body) => body.text === 'still here');
    // The DM channel and #general had nothing new: their fresh channel info said so.
    expect(fake.requests().filter((request) => request.route === 'history').length).toBe(historyBefore);
  });

  it('leaves no reconnect behind when stopped while the gateway reconnects', async () => {
    world = await startWorld();
    const connector = connectorOf(world);
    world.fake.gateway.disconnect(4000);
    // discord.js saw the drop and waits 500 ms before it reconnects: there destroy() alone is a no-op.
    await expect.poll(() => connector.readiness?.().detail).toMatch(/reconnecting/);
    await connector.stop();
    const connections = world.fake.gateway.stats.connections;
    await sleep(800);
    expect(world.fake.gateway.stats.connections).toBe(connections);
    expect(world.fake.gateway.connectedSessions()).toBe(0);
  });
});

describe('login', () => {
  it('refuses to start when Message Content is not enabled, saying where to enable it', async () => {
    const failure = await startWorld({
      fake: { messageContentIntent: false },
      connector: (fake) => ({ guildIds: [fake.guild('Support').id] }),
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect(String((failure as Error).message)).toMatch(/4014/);
    expect(String((failure as Error).message)).toMatch(/Developer Portal.*Privileged Gateway Intents.*Message Content Intent/s);
  });

  it('refuses to start with a wrong token', async () => {
    const failure = await startWorld({ connector: { token: 'not-the-token' } }).catch((error: unknown) => error);
    expect(String((failure as Error).message)).toMatch(/rejected the bot token/);
  });

  it('keeps trying while Discord cannot be reached, and connects once it can', async () => {
    const port = await freePort();
    const token = 'retry-token-0123456789';
    let fake: DiscordFake | undefined;
    const harness: Harness = await startHarness({
      name: 'discord',
      definition: discordConnector,
      async setup() {
        const unused = () => {
          throw new Error('this test drives the fake directly');
        };
        return {
          // The fake starts later, on the port the connector already uses: the harness only closes it.
          driver: { customerId: unused, sendText: unused, sent: unused, failNextSend: unused, close: async () => fake?.close() },
          options: { token, apiUrl: `http://127.0.0.1:${port}/api`, retryMinMs: 50, retryMaxMs: 100, requestTimeoutMs: 1000, identifyIntervalMs: 0 },
        };
      },
    });
    cleanups.push(() => harness.close());
    const before = await harness.parley.readiness();
    expect(before.connectors[harness.connectorId]).toMatchObject({ ready: false, detail: expect.stringMatching(/Discord login failed/) });

    fake = await startDiscordFake({ port, token });
    await expect.poll(async () => (await harness.parley.readiness()).connectors[harness.connectorId]?.ready, { timeout: 10_000 }).toBe(true);
    const yuri = fake.user({ username: 'yuri' });
    yuri.dm('finally connected');
    await harness.emulator.waitForInbound((record) => record.kind === 'message' && record.body.text === 'finally connected', 10_000);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
