/**
 * A fake Discord on 127.0.0.1: the REST API (`/api/v10`), the gateway WebSocket (`/gateway`) and
 * a CDN for attachments, on one port. The real discord.js client runs against it unmodified:
 * point its REST base at `apiUrl` and the gateway URL comes from `GET /gateway/bot`.
 *
 * Tests drive it from the customer's side (`user(…).dm(…)`, `.post(…)`, `.edit(…)`, `.typing(…)`,
 * `.pressButton(…)`), observe what the bot did (`sent()`, `typingShown()`, `acks()`), and break it
 * (`failNext()`, `gateway.disconnect()`, `gateway.invalidateSessions()`).
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { APIMessage } from 'discord.js';
import { waitForMatch } from '@parley/testkit';
import { FailurePlan, type FakeFailure } from './fake-faults.js';
import { FakeGateway, type GatewayStats } from './fake-gateway.js';
import { ChannelKind, guildCreatePayload, userPayload, type ChannelRecord } from './fake-payloads.js';
import { cdnRouter, restRouter, type RestContext } from './fake-rest.js';
import { FakeWorld, type CustomerMessage, type SentMessage } from './fake-state.js';

export type { CustomerFile, CustomerMessage, SentButton, SentMessage } from './fake-state.js';
export type { FakeFailure, FakeRoute } from './fake-faults.js';
export type { GatewayStats } from './fake-gateway.js';

export interface DiscordFakeOptions {
  /** Default 0: a free port. */
  port?: number;
  /** The bot token the fake accepts; default a random one. */
  token?: string;
  /** The bot's username; default `Parley`. */
  botName?: string;
  /** Servers to create, each with its text channels; default one server, "Support", with `#general` and `#help`. */
  guilds?: Array<{ name: string; channels: string[] }>;
  /**
   * Whether Message Content (a privileged intent) is enabled "in the Developer Portal"; default
   * true. False makes an IDENTIFY that asks for it close with 4014.
   */
  messageContentIntent?: boolean;
  /** `heartbeat_interval` in HELLO, in ms; default 41250 (Discord's). */
  heartbeatIntervalMs?: number;
}

/** A server of the fake, with its channel ids by name. */
export interface FakeGuild {
  readonly id: string;
  readonly name: string;
  /** The id of the channel called `name`. */
  channel(name: string): string;
  /** Adds a text channel (or a forum); returns its id. */
  addChannel(name: string, kind?: 'text' | 'forum'): string;
}

/** A Discord user, driven from code: each action happens on the fake and reaches the gateway. */
export interface FakeUser {
  readonly id: string;
  readonly username: string;
  /** Writes to the bot in a direct message. */
  dm(message: string | CustomerMessage): APIMessage;
  /** Writes in a server channel or thread. */
  post(channelId: string, message: string | CustomerMessage): APIMessage;
  /** Opens a thread in `channelId` (a post, when it is a forum) with a first message. */
  startThread(channelId: string, name: string, message: string | CustomerMessage): { threadId: string; message: APIMessage };
  /** Edits one of their messages. */
  edit(channelId: string, messageId: string, content: string): APIMessage;
  /** Starts typing in a channel, or in their DM with the bot. */
  typing(channelId?: string): void;
  /** Presses a button of a bot message; returns the interaction id. */
  pressButton(channelId: string, messageId: string, customId: string): string;
  /** Sets their nickname in a server. */
  setNickname(guildId: string, nickname: string): void;
  /** Blocks the bot: its DMs now fail with 50007. */
  blockBot(): void;
  /** Their DM channel with the bot (created when needed). */
  dmChannelId(): string;
}

export interface DiscordFake {
  /** e.g. `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** `${url}/api`: the connector's `apiUrl` (discord.js appends `/v10`). */
  readonly apiUrl: string;
  readonly token: string;
  readonly bot: { id: string; username: string };
  readonly guilds: FakeGuild[];
  guild(name: string): FakeGuild;
  /** Creates a user; `globalName` is their display name (default: the username). */
  user(profile: { username: string; globalName?: string | null; id?: string }): FakeUser;
  /** Messages the bot posted, in order (all channels, or one). */
  sent(channelId?: string): SentMessage[];
  /** The first bot message (past or future) matching `predicate`; rejects after `timeoutMs` (default 5000). */
  waitForSent(predicate: (message: SentMessage) => boolean, timeoutMs?: number): Promise<SentMessage>;
  /** Every message of a channel, oldest first. */
  history(channelId: string): APIMessage[];
  /** Threads of a channel, by id and name. */
  threadsOf(channelId: string): Array<{ id: string; name: string }>;
  /** How often the bot showed "typing…" in a channel. */
  typingShown(channelId: string): number;
  /** Interaction callbacks the bot answered, with their response type. */
  acks(): Array<{ interactionId: string; type: number }>;
  /** Sends MESSAGE_CREATE of an existing message again (a gateway-side duplicate). */
  redispatch(channelId: string, messageId: string): void;
  /** Makes the next call(s) of a REST route fail. */
  failNext(failure: FakeFailure): void;
  /** Forbids (or allows again) the bot to post in a channel: 403 / 50013. */
  setCanSend(channelId: string, allowed: boolean): void;
  /** Deletes a channel: posting to it answers 404 / 10003. */
  deleteChannel(channelId: string): void;
  /** REST calls so far. */
  requests(): Array<{ method: string; route: string; path: string }>;
  gateway: {
    readonly stats: GatewayStats;
    /** Closes every gateway connection with `code` (4000 resumable; 1000 identify again). */
    disconnect(code?: number, options?: { invalidateSessions?: boolean }): void;
    /** Forgets every session: the next RESUME is refused with op 9. */
    invalidateSessions(): void;
    /** Sends op 7 (Reconnect). */
    requestReconnect(): void;
    /** Sessions connected right now. */
    connectedSessions(): number;
    /** Resolves at the next READY or RESUMED. */
    nextSession(): Promise<void>;
  };
  close(): Promise<void>;
}

/** Starts a fake Discord on 127.0.0.1 (a free port). */
export async function startDiscordFake(options: DiscordFakeOptions = {}): Promise<DiscordFake> {
  const token = options.token ?? `fake.${randomBytes(18).toString('base64url')}.${randomBytes(20).toString('base64url')}`;
  const world = new FakeWorld(options.botName ?? 'Parley');
  const failures = new FailurePlan();
  const log: RestContext['log'] = [];
  let base = '';

  const guilds: FakeGuild[] = (options.guilds ?? [{ name: 'Support', channels: ['general', 'help'] }]).map((spec) => {
    const record = world.addGuild(spec.name);
    for (const name of spec.channels) world.addChannel({ guildId: record.id, name });
    const channels = () => [...world.channels.values()].filter((channel) => channel.guildId === record.id && !channel.parentId);
    return {
      id: record.id,
      name: record.name,
      channel(name) {
        const found = channels().find((channel) => channel.name === name);
        if (!found) throw new Error(`Server ${record.name} has no channel #${name}`);
        return found.id;
      },
      addChannel(name, kind = 'text') {
        return world.addChannel({ guildId: record.id, name, type: kind === 'forum' ? ChannelKind.GuildForum : ChannelKind.GuildText }).id;
      },
    };
  });

  const gateway = new FakeGateway({
    token,
    ready: () => ({ user: userPayload(world.bot), applicationId: world.bot.id, guildIds: [...world.guilds.keys()] }),
    guilds: () => [...world.guilds.values()].map((guild) => guildCreatePayload(guild, [...world.channels.values()], world.users, world.bot)),
    resumeUrl: () => `${base.replace(/^http/, 'ws')}/gateway`,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41_250,
    grantedPrivilegedIntents: options.messageContentIntent === false ? 0 : 1 << 15,
    replayLimit: 5000,
  });
  world.emit = (event) => gateway.dispatch(event);

  const context: RestContext = { world, failures, token, gatewayUrl: () => `${base.replace(/^http/, 'ws')}/gateway`, log };
  const app = express();
  app.disable('x-powered-by');
  app.use('/api/v10', restRouter(context));
  app.use(cdnRouter(context));

  const server = createServer(app);
  server.on('upgrade', (request, socket, head) => {
    if (new URL(request.url ?? '/', 'http://fake.invalid').pathname === '/gateway') gateway.upgrade(request, socket, head);
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  world.baseUrl = base;

  const asMessage = (message: string | CustomerMessage): CustomerMessage =>
    typeof message === 'string' ? { content: message } : message;
  const guildChannel = (channelId: string): ChannelRecord => {
    const channel = world.channel(channelId);
    if (!channel.guildId) throw new Error(`Channel ${channelId} is not in a server`);
    return channel;
  };

  return {
    url: base,
    apiUrl: `${base}/api`,
    token,
    bot: { id: world.bot.id, username: world.bot.username },
    guilds,
    guild(name) {
      const found = guilds.find((guild) => guild.name === name);
      if (!found) throw new Error(`The fake has no server "${name}"`);
      return found;
    },
    user(profile) {
      const record = world.addUser(profile);
      return {
        id: record.id,
        username: record.username,
        dm: (message) => world.customerMessage(record, world.dmChannel(record.id), asMessage(message)),
        post: (channelId, message) => world.customerMessage(record, guildChannel(channelId), asMessage(message)),
        startThread(channelId, name, message) {
          const thread = world.addThread({ parentId: guildChannel(channelId).id, name, ownerId: record.id });
          return { threadId: thread.id, message: world.customerMessage(record, thread, asMessage(message)) };
        },
        edit: (channelId, messageId, content) => world.editMessage(channelId, messageId, content),
        typing: (channelId) => world.customerTyping(record, channelId ? world.channel(channelId) : world.dmChannel(record.id)),
        pressButton: (channelId, messageId, customId) => world.pressButton(record, channelId, messageId, customId),
        setNickname: (guildId, nickname) => void world.guilds.get(guildId)?.nicknames.set(record.id, nickname),
        blockBot() {
          record.acceptsDms = false;
        },
        dmChannelId: () => world.dmChannel(record.id).id,
      };
    },
    sent: (channelId) => (channelId === undefined ? [...world.sent] : world.sent.filter((message) => message.channelId === channelId)),
    waitForSent: (predicate, timeoutMs = 5000) =>
      waitForMatch({ find: () => world.sent.find(predicate), subscribe: (wake) => world.onSent(wake), timeoutMs, what: 'bot message' }),
    history: (channelId) => [...world.channel(channelId).messages],
    threadsOf: (channelId) =>
      [...world.channels.values()]
        .filter((channel) => channel.parentId === channelId)
        .map((channel) => ({ id: channel.id, name: channel.name ?? '' })),
    typingShown: (channelId) => world.typing.get(channelId) ?? 0,
    acks: () => [...world.acks],
    redispatch: (channelId, messageId) => world.redispatch(channelId, messageId),
    failNext: (failure) => failures.add(failure),
    setCanSend(channelId, allowed) {
      world.channel(channelId).botCanSend = allowed;
    },
    deleteChannel(channelId) {
      world.channels.delete(channelId);
    },
    requests: () => [...log],
    gateway: {
      stats: gateway.stats,
      disconnect: (code, disconnectOptions) => gateway.disconnect(code, disconnectOptions),
      invalidateSessions: () => gateway.invalidateSessions(),
      requestReconnect: () => gateway.requestReconnect(),
      connectedSessions: () => gateway.connectedSessions(),
      nextSession: () => gateway.nextSession(),
    },
    async close() {
      gateway.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
