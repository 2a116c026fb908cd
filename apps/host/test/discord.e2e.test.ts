/**
 * End to end with Discord, as a user runs it: the real `parley start` process loads
 * `@parley/connector-discord` from a config file, and the real discord.js client inside it talks
 * to the fake Discord (REST + gateway) while the Genesys emulator plays the agent.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { killHost, runCli, startHostProcess, waitForReady, type HostProcess } from './support/host-process.js';
import { createDiscordWorld, discordHostEnv, type DiscordWorld } from './support/discord.js';

let world: DiscordWorld | undefined;
let host: HostProcess | undefined;

afterEach(async () => {
  await killHost(host);
  host = undefined;
  await world?.close();
  world = undefined;
});

const start = (w: DiscordWorld) => startHostProcess(w.configPath, { env: discordHostEnv(w) });

/** Texts Genesys received from `customerId`, every copy, in arrival order. */
const textsFrom = (w: DiscordWorld, customerId: string) =>
  w.emulator
    .inbound({ kind: 'message' })
    .filter((record) => record.body?.channel?.from?.id === customerId)
    .map((record) => String(record.body.text ?? ''));

/**
 * Texts from `customerId` once per Discord message id, in first-arrival order. A host killed between
 * Genesys's answer and recording it posts that message again with the same `channel.messageId`,
 * which Genesys drops; what must never happen is a text under a second id, or out of order.
 */
const distinctTextsFrom = (w: DiscordWorld, customerId: string) => {
  const byId = new Map<string, string>();
  for (const record of w.emulator.inbound({ kind: 'message' })) {
    if (record.body?.channel?.from?.id !== customerId) continue;
    if (!byId.has(record.body.channel.messageId)) byId.set(record.body.channel.messageId, String(record.body.text ?? ''));
  }
  return [...byId.values()];
};

const inbound = (w: DiscordWorld, text: string) =>
  w.emulator.waitForInbound((record) => record.kind === 'message' && record.body?.text === text, 10_000);

describe('parley start with Discord (end to end)', () => {
  it('relays DMs, files and a support-channel thread both ways, with Delivered receipts', async () => {
    world = await createDiscordWorld();
    host = await start(world);
    const { fake } = world;

    const alice = fake.user({ username: 'alice', globalName: 'Alice' });
    const photo = randomBytes(4000);
    alice.dm({ content: 'Hello, I need help', files: [{ data: photo, filename: 'photo.png', contentType: 'image/png' }] });
    const dm = await inbound(world, 'Hello, I need help');
    expect(dm.body.channel.from).toMatchObject({ id: `discord:dm:${alice.id}`, idType: 'Opaque', nickname: 'Alice' });
    const media = await request(dm.body.content[0].attachment.url);
    expect(Buffer.from(await media.body.arrayBuffer()).equals(photo)).toBe(true);

    const reply = await world.emulator.agent.sendText(dm.conversationId!, 'Hi Alice, how can I help?');
    await fake.waitForSent((message) => message.content === 'Hi Alice, how can I help?', 10_000);
    const receipt = await world.emulator.waitForInbound((r) => r.kind === 'receipt' && r.body.id === reply.messageId, 10_000);
    expect(receipt.body).toMatchObject({ status: 'Delivered', channel: { to: { id: `discord:dm:${alice.id}` } } });

    const bob = fake.user({ username: 'bob', globalName: 'Bob' });
    const first = bob.post(world.helpChannelId, 'My order is late');
    const support = await inbound(world, 'My order is late');
    expect(support.body.channel.from.id).toBe(`discord:${world.guildId}:${world.helpChannelId}:${first.id}`);
    const answer = await world.emulator.agent.sendText(support.conversationId!, 'Looking into it');
    const sent = await fake.waitForSent((message) => message.content === 'Looking into it', 10_000);
    expect(sent.channelId).toBe(first.id);
    await world.emulator.waitForInbound((r) => r.kind === 'receipt' && r.body.id === answer.messageId, 10_000);

    // The bot token came from the environment and stays out of every log line.
    expect(host.logs.some((line) => JSON.stringify(line).includes(fake.token))).toBe(false);
    expect(host.stderr()).not.toContain(fake.token);
  });

  it('resumes after a gateway drop: messages written meanwhile arrive once, in order', async () => {
    world = await createDiscordWorld();
    host = await start(world);
    const carol = world.fake.user({ username: 'carol' });
    carol.dm('before the drop');
    await inbound(world, 'before the drop');

    const resumed = world.fake.gateway.nextSession();
    world.fake.gateway.disconnect(4000);
    for (const text of ['gap 1', 'gap 2']) carol.dm(text);
    await resumed;
    carol.dm('after the drop');
    await inbound(world, 'after the drop');
    expect(textsFrom(world, `discord:dm:${carol.id}`)).toEqual(['before the drop', 'gap 1', 'gap 2', 'after the drop']);
    expect(world.fake.gateway.stats.resumes).toBe(1);
  });

  it('after kill -9 and a restart, what customers wrote meanwhile reaches Genesys once and in order', async () => {
    world = await createDiscordWorld();
    host = await start(world);
    const { fake } = world;
    const dave = fake.user({ username: 'dave' });
    dave.dm('before the crash');
    await inbound(world, 'before the crash');

    host.child.kill('SIGKILL');
    await host.exited;
    const whileDown = Array.from({ length: 10 }, (_, index) => `while down ${index + 1}`);
    for (const text of whileDown) dave.dm(text);
    // A customer who never wrote before, in the support channel, while Parley is down.
    const erin = fake.user({ username: 'erin', globalName: 'Erin' });
    const first = erin.post(world.helpChannelId, 'first message while Parley is down');

    host = await start(world);
    await inbound(world, 'while down 10');
    await inbound(world, 'first message while Parley is down');
    expect(fake.threadsOf(world.helpChannelId)).toEqual([{ id: first.id, name: 'Erin' }]);
    dave.dm('after the restart');
    await inbound(world, 'after the restart');
    expect(distinctTextsFrom(world, `discord:dm:${dave.id}`)).toEqual(['before the crash', ...whileDown, 'after the restart']);
    // Whatever was written while the host was down reached Genesys exactly once.
    for (const text of whileDown) expect(textsFrom(world, `discord:dm:${dave.id}`).filter((seen) => seen === text)).toHaveLength(1);
  });

  it('stops cleanly on SIGTERM: exit 0, gateway session closed, no reconnect', async () => {
    world = await createDiscordWorld();
    host = await start(world);
    const ready = await waitForReady(host.url);
    expect(ready).toMatchObject({ ready: true, connectors: { discord: { ready: true } } });

    host.child.kill('SIGTERM');
    expect((await host.exited).code).toBe(0);
    await expect.poll(() => world!.fake.gateway.connectedSessions()).toBe(0);
    expect(world.fake.gateway.stats.connections).toBe(1);
  });

  it('refuses to start without the Message Content intent, saying where to enable it', async () => {
    world = await createDiscordWorld({ fake: { messageContentIntent: false } });
    const result = await runCli(['start', '--config', world.configPath], { env: discordHostEnv(world) });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('close code 4014');
    expect(result.stderr).toMatch(/Developer Portal.*Privileged Gateway Intents.*Message Content Intent/s);
    expect(result.stderr + result.stdout).not.toContain(world.fake.token);
  });
});
