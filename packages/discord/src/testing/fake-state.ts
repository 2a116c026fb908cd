/**
 * The in-memory world of the fake Discord: users, servers, channels with their full history, the
 * bot's sends, button interactions and typing. The REST routes (`fake-rest.ts`) and the test-facing
 * customer helpers both act on it; what the gateway should hear about goes to `emit`.
 */
import { randomBytes } from 'node:crypto';
import type { APIAttachment, APIEmbed, APIMessage, APIMessageComponent } from 'discord.js';
import {
  ChannelKind,
  Intent,
  SnowflakeMaker,
  channelPayload,
  gatewayMessagePayload,
  memberPayload,
  messagePayload,
  userPayload,
  type ChannelKindValue,
  type ChannelRecord,
  type GuildRecord,
  type UserRecord,
} from './fake-payloads.js';

/** A gateway event and who may receive it. */
export interface FakeEvent {
  t: string;
  d: unknown;
  /** The intent a session needs to receive it (0: every session). */
  intent: number;
  /** A server message: Discord strips its content without the Message Content intent, unless `keepsContent`. */
  guildContent?: { keepsContent: boolean };
}

/** A file a customer attaches. */
export interface CustomerFile {
  data: Buffer;
  filename: string;
  contentType: string;
}

/** What a customer writes: text, files, a reply, stickers, embeds. */
export interface CustomerMessage {
  content?: string;
  files?: CustomerFile[];
  /** The id of the message replied to (in the same channel). */
  replyTo?: string;
  stickers?: string[];
  embeds?: APIEmbed[];
  /** Users mentioned (`<@id>` is added to the content for each). */
  mentions?: string[];
}

/** A button under a bot message, flattened from its action rows. */
export interface SentButton {
  label: string;
  style: number;
  customId?: string;
  url?: string;
}

/** A message the bot posted, with the bytes of its files. */
export interface SentMessage {
  id: string;
  channelId: string;
  content?: string;
  embeds: APIEmbed[];
  buttons: SentButton[];
  files: CustomerFile[];
  nonce?: string | number;
}

interface StoredFile extends CustomerFile {
  channelId: string;
}

interface InteractionRecord {
  token: string;
  createdAt: number;
  acknowledged?: number;
}

const NONCE_WINDOW_MS = 5 * 60_000;

export class FakeWorld {
  readonly ids = new SnowflakeMaker();
  readonly users = new Map<string, UserRecord>();
  readonly guilds = new Map<string, GuildRecord>();
  readonly channels = new Map<string, ChannelRecord>();
  readonly files = new Map<string, StoredFile>();
  readonly bot: UserRecord;
  readonly sent: SentMessage[] = [];
  readonly typing = new Map<string, number>();
  readonly interactions = new Map<string, InteractionRecord>();
  readonly acks: Array<{ interactionId: string; type: number }> = [];
  readonly #nonces = new Map<string, { messageId: string; at: number }>();
  readonly #dmChannels = new Map<string, string>();
  readonly #sentListeners = new Set<() => void>();
  /** Where the gateway hears about things; set by the fake. */
  emit: (event: FakeEvent) => void = () => {};
  /** Base URL of the fake, for attachment links; set by the fake. */
  baseUrl = 'http://127.0.0.1';

  constructor(botName: string) {
    this.bot = { id: this.ids.next(), username: botName, globalName: botName, bot: true, acceptsDms: true };
    this.users.set(this.bot.id, this.bot);
  }

  addUser(profile: { id?: string; username: string; globalName?: string | null }): UserRecord {
    const user: UserRecord = {
      id: profile.id ?? this.ids.next(),
      username: profile.username,
      globalName: profile.globalName === undefined ? profile.username : profile.globalName,
      bot: false,
      acceptsDms: true,
    };
    this.users.set(user.id, user);
    return user;
  }

  addGuild(name: string, id = this.ids.next()): GuildRecord {
    const guild: GuildRecord = { id, name, ownerId: this.bot.id, joinedAt: new Date().toISOString(), nicknames: new Map() };
    this.guilds.set(id, guild);
    return guild;
  }

  addChannel(input: { guildId: string; name: string; type?: ChannelKindValue; id?: string }): ChannelRecord {
    const channel: ChannelRecord = {
      id: input.id ?? this.ids.next(),
      type: input.type ?? ChannelKind.GuildText,
      name: input.name,
      guildId: input.guildId,
      messages: [],
      botCanSend: true,
    };
    this.channels.set(channel.id, channel);
    return channel;
  }

  /** Opens a thread in `parentId` (with the id of its starter message, when there is one) and tells the gateway. */
  addThread(input: { parentId: string; name: string; ownerId: string; id?: string; autoArchiveMinutes?: number }): ChannelRecord {
    const parent = this.channel(input.parentId);
    const thread: ChannelRecord = {
      id: input.id ?? this.ids.next(),
      type: ChannelKind.PublicThread,
      name: input.name,
      guildId: parent.guildId!,
      parentId: parent.id,
      ownerId: input.ownerId,
      ...(input.autoArchiveMinutes ? { autoArchiveMinutes: input.autoArchiveMinutes } : {}),
      messages: [],
      botCanSend: parent.botCanSend,
    };
    this.channels.set(thread.id, thread);
    this.emit({ t: 'THREAD_CREATE', d: { ...channelPayload(thread, this.users), newly_created: true }, intent: Intent.Guilds });
    return thread;
  }

  channel(id: string): ChannelRecord {
    const channel = this.channels.get(id);
    if (!channel) throw new Error(`The fake has no channel ${id}`);
    return channel;
  }

  user(id: string): UserRecord {
    const user = this.users.get(id);
    if (!user) throw new Error(`The fake has no user ${id}`);
    return user;
  }

  /** The DM channel between the bot and `userId`, created on first use (as Discord does). */
  dmChannel(userId: string): ChannelRecord {
    const existing = this.#dmChannels.get(userId);
    if (existing) return this.channel(existing);
    const channel: ChannelRecord = { id: this.ids.next(), type: ChannelKind.DM, recipientId: userId, messages: [], botCanSend: true };
    this.channels.set(channel.id, channel);
    this.#dmChannels.set(userId, channel.id);
    return channel;
  }

  dmChannelIdOf(userId: string): string | undefined {
    return this.#dmChannels.get(userId);
  }

  findMessage(channelId: string, messageId: string): APIMessage | undefined {
    return this.channels.get(channelId)?.messages.find((message) => message.id === messageId);
  }

  /** A customer writes in a channel (a DM channel, a server channel or a thread). */
  customerMessage(author: UserRecord, channel: ChannelRecord, input: CustomerMessage): APIMessage {
    const id = this.ids.next();
    const mentions = (input.mentions ?? []).map((userId) => this.user(userId));
    const content = [input.content ?? '', ...mentions.map((user) => `<@${user.id}>`)].filter(Boolean).join(' ');
    const replyTo = input.replyTo ? this.findMessage(channel.id, input.replyTo) : undefined;
    if (input.replyTo && !replyTo) throw new Error(`Channel ${channel.id} has no message ${input.replyTo} to reply to`);
    const message = messagePayload({
      id,
      channel,
      author,
      content,
      attachments: (input.files ?? []).map((file) => this.storeFile(channel.id, file)),
      embeds: input.embeds ?? [],
      stickers: (input.stickers ?? []).map((name) => ({ id: this.ids.next(), name })),
      mentions,
      ...(replyTo ? { replyTo } : {}),
    });
    channel.messages.push(message);
    this.dispatchMessage('MESSAGE_CREATE', message);
    return message;
  }

  /** A customer edits one of their messages. */
  editMessage(channelId: string, messageId: string, content: string): APIMessage {
    const channel = this.channel(channelId);
    const index = channel.messages.findIndex((message) => message.id === messageId);
    if (index < 0) throw new Error(`Channel ${channelId} has no message ${messageId}`);
    const edited = { ...channel.messages[index]!, content, edited_timestamp: new Date().toISOString() };
    channel.messages[index] = edited;
    this.dispatchMessage('MESSAGE_UPDATE', edited);
    return edited;
  }

  /** Sends MESSAGE_CREATE for an existing message again: a gateway-side duplicate. */
  redispatch(channelId: string, messageId: string): void {
    const message = this.findMessage(channelId, messageId);
    if (!message) throw new Error(`Channel ${channelId} has no message ${messageId}`);
    this.dispatchMessage('MESSAGE_CREATE', message);
  }

  dispatchMessage(t: 'MESSAGE_CREATE' | 'MESSAGE_UPDATE', message: APIMessage): void {
    const channel = this.channel(message.channel_id);
    const guild = channel.guildId ? this.guilds.get(channel.guildId) : undefined;
    const author = this.users.get(message.author.id);
    this.emit({
      t,
      d: gatewayMessagePayload(message, channel, guild, author),
      intent: guild ? Intent.GuildMessages : Intent.DirectMessages,
      ...(guild
        ? {
            guildContent: {
              keepsContent: message.author.id === this.bot.id || message.mentions.some((user) => user.id === this.bot.id),
            },
          }
        : {}),
    });
  }

  customerTyping(user: UserRecord, channel: ChannelRecord): void {
    const guild = channel.guildId ? this.guilds.get(channel.guildId) : undefined;
    this.emit({
      t: 'TYPING_START',
      d: {
        channel_id: channel.id,
        user_id: user.id,
        timestamp: Math.floor(Date.now() / 1000),
        ...(guild ? { guild_id: guild.id, member: memberPayload(guild, user, true) } : {}),
      },
      intent: guild ? Intent.GuildMessageTyping : Intent.DirectMessageTyping,
    });
  }

  /** A customer presses a button of a bot message; returns the interaction id. */
  pressButton(user: UserRecord, channelId: string, messageId: string, customId: string): string {
    const channel = this.channel(channelId);
    const message = this.findMessage(channelId, messageId);
    if (!message || message.author.id !== this.bot.id) throw new Error(`Channel ${channelId} has no bot message ${messageId}`);
    const pressed = buttonsOf(message.components ?? []).find((button) => button.customId === customId);
    if (!pressed) throw new Error(`Bot message ${messageId} has no button with custom id "${customId}"`);
    const guild = channel.guildId ? this.guilds.get(channel.guildId) : undefined;
    const id = this.ids.next();
    const token = `interaction-${randomBytes(24).toString('base64url')}`;
    this.interactions.set(id, { token, createdAt: Date.now() });
    this.emit({
      t: 'INTERACTION_CREATE',
      d: {
        id,
        application_id: this.bot.id,
        type: 3,
        token,
        version: 1,
        data: { custom_id: customId, component_type: 2 },
        channel_id: channel.id,
        channel: channelPayload(channel, this.users),
        ...(guild ? { guild_id: guild.id, member: { ...memberPayload(guild, user, true), permissions: '2251799813685247' } } : { user: userPayload(user) }),
        message: guild ? { ...message, guild_id: guild.id } : message,
        app_permissions: '2251799813685247',
        locale: 'en-US',
        entitlements: [],
        authorizing_integration_owners: {},
        context: guild ? 0 : 1,
        attachment_size_limit: 10 * 1024 * 1024,
      },
      intent: 0,
    });
    return id;
  }

  /** The bot posts a message (REST): returns the message created, or the earlier one with the same nonce. */
  botMessage(
    channel: ChannelRecord,
    input: { content?: string; embeds?: APIEmbed[]; components?: APIMessageComponent[]; files: CustomerFile[]; nonce?: string | number; enforceNonce?: boolean },
  ): APIMessage {
    const nonceKey = input.nonce !== undefined ? `${channel.id}:${input.nonce}` : undefined;
    if (nonceKey && input.enforceNonce) {
      const earlier = this.#nonces.get(nonceKey);
      if (earlier && Date.now() - earlier.at < NONCE_WINDOW_MS) {
        const message = this.findMessage(channel.id, earlier.messageId);
        if (message) return message;
      }
    }
    const message = messagePayload({
      id: this.ids.next(),
      channel,
      author: this.bot,
      content: input.content ?? '',
      attachments: input.files.map((file) => this.storeFile(channel.id, file)),
      embeds: input.embeds ?? [],
      components: input.components ?? [],
      ...(input.nonce !== undefined ? { nonce: input.nonce } : {}),
    });
    channel.messages.push(message);
    if (nonceKey) this.#nonces.set(nonceKey, { messageId: message.id, at: Date.now() });
    this.sent.push({
      id: message.id,
      channelId: channel.id,
      ...(input.content ? { content: input.content } : {}),
      embeds: input.embeds ?? [],
      buttons: buttonsOf(input.components ?? []),
      files: input.files,
      ...(input.nonce !== undefined ? { nonce: input.nonce } : {}),
    });
    for (const listener of [...this.#sentListeners]) listener();
    this.dispatchMessage('MESSAGE_CREATE', message);
    return message;
  }

  onSent(listener: () => void): () => void {
    this.#sentListeners.add(listener);
    return () => this.#sentListeners.delete(listener);
  }

  storeFile(channelId: string, file: CustomerFile): APIAttachment {
    const id = this.ids.next();
    this.files.set(id, { ...file, channelId });
    // Real CDN links are signed in the query string and expire; the fake's look alike.
    const expires = Math.floor(Date.now() / 1000 + 86_400).toString(16);
    const url = `${this.baseUrl}/attachments/${channelId}/${id}/${encodeURIComponent(file.filename)}?ex=${expires}&is=0&hm=${randomBytes(8).toString('hex')}`;
    return { id, filename: file.filename, size: file.data.length, url, proxy_url: url, content_type: file.contentType };
  }
}

/** The buttons of a message's action rows, in order. */
export function buttonsOf(components: readonly APIMessageComponent[] | readonly unknown[]): SentButton[] {
  const buttons: SentButton[] = [];
  for (const row of components as Array<{ type?: number; components?: unknown[] }>) {
    for (const component of (row.components ?? []) as Array<Record<string, unknown>>) {
      if (component['type'] !== 2) continue;
      buttons.push({
        label: String(component['label'] ?? ''),
        style: Number(component['style']),
        ...(typeof component['custom_id'] === 'string' ? { customId: component['custom_id'] } : {}),
        ...(typeof component['url'] === 'string' ? { url: component['url'] } : {}),
      });
    }
  }
  return buttons;
}
