/**
 * Discord's wire format, as the fake sends it: users, members, channels, guilds and messages in
 * the shapes the gateway and the REST API use (discord-api-types), with the fields discord.js
 * reads. The fake's records are plain objects; these functions turn them into payloads.
 */
import type {
  APIAttachment,
  APIChannel,
  APIEmbed,
  APIGuildMember,
  APIMessage,
  APIMessageComponent,
  APIUser,
  GatewayGuildCreateDispatchData,
} from 'discord.js';

/** Channel types the fake knows (Discord's numbers). */
export const ChannelKind = { GuildText: 0, DM: 1, PublicThread: 11, GuildForum: 15 } as const;
export type ChannelKindValue = (typeof ChannelKind)[keyof typeof ChannelKind];

/** Gateway intent bits the fake checks (Discord's numbers). */
export const Intent = {
  Guilds: 1 << 0,
  GuildMembers: 1 << 1,
  GuildPresences: 1 << 8,
  GuildMessages: 1 << 9,
  GuildMessageTyping: 1 << 11,
  DirectMessages: 1 << 12,
  DirectMessageTyping: 1 << 14,
  MessageContent: 1 << 15,
} as const;

/** Intents Discord only grants when enabled in the Developer Portal. */
export const PRIVILEGED_INTENTS = Intent.GuildMembers | Intent.GuildPresences | Intent.MessageContent;

const DISCORD_EPOCH_MS = 1_420_070_400_000n;

/** Makes snowflakes that grow with time and never repeat, like Discord's (17–19 digits). */
export class SnowflakeMaker {
  #last = 0n;
  next(): string {
    const fromTime = (BigInt(Date.now()) - DISCORD_EPOCH_MS) << 22n;
    this.#last = fromTime > this.#last ? fromTime : this.#last + 1n;
    return String(this.#last);
  }
}

/** When a snowflake was made, as an ISO date. */
export function snowflakeIso(id: string): string {
  return new Date(Number((BigInt(id) >> 22n) + DISCORD_EPOCH_MS)).toISOString();
}

export interface UserRecord {
  id: string;
  username: string;
  globalName: string | null;
  bot: boolean;
  /** False once the user blocked the bot or closed their DMs: sends answer 50007. */
  acceptsDms: boolean;
}

export interface GuildRecord {
  id: string;
  name: string;
  ownerId: string;
  joinedAt: string;
  /** Server nicknames by user id. */
  nicknames: Map<string, string>;
}

export interface ChannelRecord {
  id: string;
  type: ChannelKindValue;
  name?: string;
  guildId?: string;
  parentId?: string;
  /** The customer of a DM channel. */
  recipientId?: string;
  ownerId?: string;
  autoArchiveMinutes?: number;
  /** Every message, oldest first. */
  messages: APIMessage[];
  /** False to make sends answer 403 / 50013 Missing Permissions. */
  botCanSend: boolean;
}

export function userPayload(user: UserRecord): APIUser {
  return {
    id: user.id,
    username: user.username,
    discriminator: '0',
    global_name: user.globalName,
    avatar: null,
    ...(user.bot ? { bot: true } : {}),
  };
}

export function memberPayload(guild: GuildRecord, user: UserRecord, withUser = false): APIGuildMember {
  return {
    ...(withUser ? { user: userPayload(user) } : {}),
    nick: guild.nicknames.get(user.id) ?? null,
    roles: [],
    joined_at: guild.joinedAt,
    deaf: false,
    mute: false,
    flags: 0,
  } as unknown as APIGuildMember;
}

export function channelPayload(channel: ChannelRecord, users: Map<string, UserRecord>): APIChannel {
  const lastMessageId = channel.messages.at(-1)?.id ?? null;
  switch (channel.type) {
    case ChannelKind.DM: {
      const recipient = users.get(channel.recipientId ?? '');
      return {
        id: channel.id,
        type: ChannelKind.DM,
        last_message_id: lastMessageId,
        recipients: recipient ? [userPayload(recipient)] : [],
        flags: 0,
      } as unknown as APIChannel;
    }
    case ChannelKind.PublicThread:
      return {
        id: channel.id,
        type: ChannelKind.PublicThread,
        guild_id: channel.guildId,
        parent_id: channel.parentId,
        owner_id: channel.ownerId,
        name: channel.name,
        last_message_id: lastMessageId,
        message_count: channel.messages.length,
        total_message_sent: channel.messages.length,
        member_count: 2,
        rate_limit_per_user: 0,
        flags: 0,
        thread_metadata: {
          archived: false,
          auto_archive_duration: channel.autoArchiveMinutes ?? 1440,
          archive_timestamp: new Date().toISOString(),
          locked: false,
        },
      } as unknown as APIChannel;
    default:
      return {
        id: channel.id,
        type: channel.type,
        guild_id: channel.guildId,
        name: channel.name,
        position: 0,
        permission_overwrites: [],
        parent_id: null,
        nsfw: false,
        topic: null,
        rate_limit_per_user: 0,
        last_message_id: lastMessageId,
        flags: 0,
        ...(channel.type === ChannelKind.GuildForum ? { available_tags: [], default_reaction_emoji: null } : {}),
      } as unknown as APIChannel;
  }
}

/** The GUILD_CREATE the gateway sends after READY: the guild with its channels and active threads. */
export function guildCreatePayload(
  guild: GuildRecord,
  channels: ChannelRecord[],
  users: Map<string, UserRecord>,
  bot: UserRecord,
): GatewayGuildCreateDispatchData {
  const own = channels.filter((channel) => channel.guildId === guild.id);
  return {
    id: guild.id,
    name: guild.name,
    icon: null,
    owner_id: guild.ownerId,
    // @everyone may do everything, so discord.js's permission checks never get in the way.
    roles: [{ id: guild.id, name: '@everyone', permissions: '2251799813685247', position: 0, color: 0, hoist: false, managed: false, mentionable: false, flags: 0 }],
    channels: own.filter((channel) => channel.type !== ChannelKind.PublicThread).map((channel) => channelPayload(channel, users)),
    threads: own.filter((channel) => channel.type === ChannelKind.PublicThread).map((channel) => channelPayload(channel, users)),
    members: [memberPayload(guild, bot, true)],
    emojis: [],
    stickers: [],
    features: [],
    presences: [],
    voice_states: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
    joined_at: guild.joinedAt,
    large: false,
    unavailable: false,
    member_count: guild.nicknames.size + 1,
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    mfa_level: 0,
    nsfw_level: 0,
    premium_tier: 0,
    system_channel_flags: 0,
    preferred_locale: 'en-US',
    afk_timeout: 300,
  } as unknown as GatewayGuildCreateDispatchData;
}

export interface MessageInput {
  id: string;
  channel: ChannelRecord;
  author: UserRecord;
  content: string;
  attachments?: APIAttachment[];
  embeds?: APIEmbed[];
  components?: APIMessageComponent[];
  stickers?: Array<{ id: string; name: string }>;
  replyTo?: APIMessage;
  mentions?: UserRecord[];
  nonce?: string | number;
}

/** A message as REST returns it (no `guild_id`, no `member`: those only come with gateway events). */
export function messagePayload(input: MessageInput): APIMessage {
  const reply = input.replyTo;
  return {
    id: input.id,
    channel_id: input.channel.id,
    author: userPayload(input.author),
    content: input.content,
    timestamp: snowflakeIso(input.id),
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: (input.mentions ?? []).map(userPayload),
    mention_roles: [],
    attachments: input.attachments ?? [],
    embeds: input.embeds ?? [],
    pinned: false,
    type: reply ? 19 : 0,
    flags: 0,
    components: input.components ?? [],
    ...(input.stickers?.length
      ? { sticker_items: input.stickers.map((sticker) => ({ id: sticker.id, name: sticker.name, format_type: 1 })) }
      : {}),
    ...(reply
      ? {
          message_reference: { type: 0, message_id: reply.id, channel_id: reply.channel_id, ...(input.channel.guildId ? { guild_id: input.channel.guildId } : {}) },
          referenced_message: reply,
        }
      : {}),
    ...(input.nonce !== undefined ? { nonce: input.nonce } : {}),
  } as unknown as APIMessage;
}

/**
 * A message as the gateway dispatches it: with `guild_id` and the author's `member` in a server,
 * and `channel_type` always (discord.js needs it to build a DM channel it has never seen).
 */
export function gatewayMessagePayload(
  message: APIMessage,
  channel: ChannelRecord,
  guild: GuildRecord | undefined,
  author: UserRecord | undefined,
): APIMessage & { guild_id?: string; member?: APIGuildMember; channel_type: number } {
  return {
    ...message,
    channel_type: channel.type,
    ...(guild ? { guild_id: guild.id, ...(author ? { member: memberPayload(guild, author) } : {}) } : {}),
  };
}
