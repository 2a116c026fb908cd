/**
 * The fake Discord, driven by a bare discord.js client (no connector): it must speak the protocol
 * well enough for the real library to log in, receive, send, resume and fail the way it does
 * against Discord.
 */
import { once } from 'node:events';
import {
  AttachmentBuilder,
  ChannelType,
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  Partials,
  type Message,
} from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import { startDiscordFake, type DiscordFake, type DiscordFakeOptions } from './fake.js';

let fake: DiscordFake | undefined;
let client: Client | undefined;

afterEach(async () => {
  // The client first: a client whose gateway vanished first keeps reconnecting.
  await client?.destroy();
  client = undefined;
  await fake?.close();
  fake = undefined;
});

async function connect(options: DiscordFakeOptions = {}, intents = GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessages | GatewayIntentBits.DirectMessages | GatewayIntentBits.MessageContent) {
  fake = await startDiscordFake(options);
  client = new Client({
    intents,
    partials: [Partials.Channel],
    rest: { api: fake.apiUrl, makeRequest: (url, init) => fetch(url, init as RequestInit) },
    ws: { buildIdentifyThrottler: () => ({ waitForIdentify: async () => {} }) },
  });
  const ready = once(client, Events.ClientReady);
  await client.login(fake.token);
  await ready;
  return { fake, client };
}

/** The next message discord.js emits that the bot did not write. */
function nextCustomerMessage(target: Client): Promise<Message> {
  return new Promise((resolve) => {
    const listener = (message: Message) => {
      if (message.author.id === target.user?.id) return;
      target.off(Events.MessageCreate, listener);
      resolve(message);
    };
    target.on(Events.MessageCreate, listener);
  });
}

describe('the fake Discord', () => {
  it('lets discord.js log in with its servers and channels cached', async () => {
    const { fake, client } = await connect();
    expect(client.user?.id).toBe(fake.bot.id);
    const help = client.channels.cache.get(fake.guild('Support').channel('help'));
    expect(help?.type).toBe(ChannelType.GuildText);
    expect(fake.gateway.stats).toMatchObject({ identifies: 1, connections: 1 });
  });

  it('acknowledges heartbeats, so discord.js keeps its one connection', async () => {
    const { fake } = await connect({ heartbeatIntervalMs: 30 });
    await expect.poll(() => fake.gateway.stats.heartbeats).toBeGreaterThanOrEqual(3);
    // An unacknowledged heartbeat would have made discord.js drop the connection as a zombie.
    expect(fake.gateway.stats.connections).toBe(1);
  });

  it('delivers DMs and server messages to messageCreate, and echoes the bot its own messages', async () => {
    const { fake, client } = await connect();
    const alice = fake.user({ username: 'alice', globalName: 'Alice' });
    const dm = nextCustomerMessage(client);
    alice.dm('hello from a DM');
    const received = await dm;
    expect(received.channel.type).toBe(ChannelType.DM);
    expect(received.author.displayName).toBe('Alice');

    const general = fake.guild('Support').channel('general');
    alice.setNickname(fake.guild('Support').id, 'Ali');
    const inGuild = nextCustomerMessage(client);
    alice.post(general, 'hello in #general');
    expect((await inGuild).member?.displayName).toBe('Ali');

    const echo = new Promise<Message>((resolve) => client.once(Events.MessageCreate, resolve));
    await received.reply('answer');
    expect((await echo).author.id).toBe(fake.bot.id);
  });

  it('takes multipart uploads and returns the message already sent for a repeated nonce', async () => {
    const { fake, client } = await connect();
    const channelId = fake.guild('Support').channel('general');
    const channel = client.channels.cache.get(channelId);
    if (!channel?.isSendable()) throw new Error('not sendable');
    const bytes = Buffer.from('%PDF-1.4 a small document');
    await channel.send({ content: 'with a file', files: [new AttachmentBuilder(bytes, { name: 'doc.pdf' })] });
    expect(fake.sent(channelId)[0]!.files[0]).toMatchObject({ filename: 'doc.pdf', contentType: 'application/pdf', data: bytes });

    const first = await channel.send({ content: 'once', nonce: 'nonce-1', enforceNonce: true });
    const again = await channel.send({ content: 'once', nonce: 'nonce-1', enforceNonce: true });
    expect(again.id).toBe(first.id);
    expect(fake.sent(channelId).filter((message) => message.content === 'once')).toHaveLength(1);
  });

  it('replays what a dropped connection missed when discord.js resumes', async () => {
    const { fake, client } = await connect();
    const bob = fake.user({ username: 'bob' });
    const seen: string[] = [];
    client.on(Events.MessageCreate, (message) => void seen.push(message.content));
    const resumed = once(client, Events.ShardResume);
    fake.gateway.disconnect(4000);
    bob.dm('written while disconnected');
    await resumed;
    await expect.poll(() => seen).toContain('written while disconnected');
    expect(fake.gateway.stats).toMatchObject({ identifies: 1, resumes: 1 });
  });

  it('refuses a resume of a forgotten session, so discord.js identifies again', async () => {
    const { fake, client } = await connect();
    const readyAgain = once(client, Events.ShardReady);
    fake.gateway.disconnect(4000, { invalidateSessions: true });
    await readyAgain;
    expect(fake.gateway.stats).toMatchObject({ identifies: 2, invalidSessions: 1 });
  });

  it('closes with 4014 when a privileged intent is not enabled', async () => {
    await expect(connect({ messageContentIntent: false })).rejects.toThrow(/disallowed intents/i);
  });

  it('lists history after a message, newest first, as Discord does', async () => {
    const { fake, client } = await connect();
    const carol = fake.user({ username: 'carol' });
    const channelId = fake.guild('Support').channel('general');
    const ids = ['one', 'two', 'three', 'four'].map((text) => carol.post(channelId, text).id);
    const channel = client.channels.cache.get(channelId);
    if (!channel?.isTextBased()) throw new Error('not text');
    const page = await channel.messages.fetch({ after: ids[0]!, limit: 2 });
    expect([...page.keys()]).toEqual([ids[2], ids[1]]);
  });

  it('fails the way Discord does: rate limits by header, errors with JSON codes', async () => {
    const { fake, client } = await connect();
    const channelId = fake.guild('Support').channel('general');
    const channel = client.channels.cache.get(channelId);
    if (!channel?.isSendable()) throw new Error('not sendable');
    fake.failNext({ route: 'send', status: 429, retryAfterSeconds: 0.05 });
    await channel.send('after a short rate limit');
    expect(fake.requests().filter((request) => request.route === 'send')).toHaveLength(2);

    fake.failNext({ route: 'send', status: 403, code: 50013 });
    const error = await channel.send('refused').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DiscordAPIError);
    expect((error as DiscordAPIError).code).toBe(50013);
  });
});
