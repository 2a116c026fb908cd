/**
 * Customer ids and conversation policy (DESIGN §4). The Genesys customer id is the Discord address
 * itself, so an agent reply (`channel.to.id`) routes back with no lookup and survives a lost store:
 *
 * - `discord:dm:<userId>`: the direct messages of one user;
 * - `discord:<guildId>:<channelId>`: a server channel;
 * - `discord:<guildId>:<channelId>:<threadId>`: a thread (or forum post) of that channel.
 *
 * Pure functions: which Discord place is which conversation, and which places the bot serves.
 */
import type { DiscordOptions } from './options.js';

const PREFIX = 'discord:';
const SNOWFLAKE = /^\d{1,20}$/;

/** Where an agent message goes. */
export type DiscordAddress =
  | { kind: 'dm'; userId: string }
  | { kind: 'channel'; guildId: string; channelId: string; threadId?: string };

/** The customer id of a Discord address. */
export function customerIdOf(address: DiscordAddress): string {
  if (address.kind === 'dm') return `${PREFIX}dm:${address.userId}`;
  const thread = address.threadId ? `:${address.threadId}` : '';
  return `${PREFIX}${address.guildId}:${address.channelId}${thread}`;
}

/** The Discord address of a customer id, or undefined when the id was not made by this connector. */
export function addressOf(customerId: string): DiscordAddress | undefined {
  if (!customerId.startsWith(PREFIX)) return undefined;
  const parts = customerId.slice(PREFIX.length).split(':');
  if (parts[0] === 'dm') {
    return parts.length === 2 && SNOWFLAKE.test(parts[1]!) ? { kind: 'dm', userId: parts[1]! } : undefined;
  }
  if ((parts.length !== 2 && parts.length !== 3) || !parts.every((part) => SNOWFLAKE.test(part))) return undefined;
  const [guildId, channelId, threadId] = parts as [string, string, string | undefined];
  return { kind: 'channel', guildId, channelId, ...(threadId ? { threadId } : {}) };
}

/** The Discord channel a message to `address` is posted in (a DM channel must be opened first). */
export function targetChannelOf(address: Extract<DiscordAddress, { kind: 'channel' }>): string {
  return address.threadId ?? address.channelId;
}

/**
 * Where a customer wrote, as far as conversations are concerned. `parentId` is set for a thread
 * (or forum post); `customerThreadId` is the thread a support channel opened for this customer.
 */
export interface Place {
  guildId?: string;
  channelId: string;
  parentId?: string;
  authorId: string;
  customerThreadId?: string;
}

export type ConversationPolicy = Pick<DiscordOptions, 'guildConversations' | 'supportChannelIds'>;

/** The conversation (customer id) a message or typing at `place` belongs to. */
export function conversationOf(place: Place, policy: ConversationPolicy): string {
  const { guildId } = place;
  if (!guildId) return customerIdOf({ kind: 'dm', userId: place.authorId });
  if (place.parentId) {
    const support = policy.supportChannelIds.includes(place.parentId);
    return policy.guildConversations === 'per-channel' && !support
      ? customerIdOf({ kind: 'channel', guildId, channelId: place.parentId })
      : customerIdOf({ kind: 'channel', guildId, channelId: place.parentId, threadId: place.channelId });
  }
  if (place.customerThreadId) {
    return customerIdOf({ kind: 'channel', guildId, channelId: place.channelId, threadId: place.customerThreadId });
  }
  return customerIdOf({ kind: 'channel', guildId, channelId: place.channelId });
}

export type AccessPolicy = Pick<DiscordOptions, 'directMessages' | 'guildIds' | 'channelIds' | 'supportChannelIds'>;

/**
 * Whether the bot serves `place`. Support channels are always served (in the listed servers, when
 * `guildIds` is set); other channels when `channelIds` lists them or, with `channelIds` empty, when
 * their server is in `guildIds`. A bot added to a server forwards nothing until configured to.
 */
export function isServed(place: Pick<Place, 'guildId' | 'channelId' | 'parentId'>, policy: AccessPolicy): boolean {
  if (!place.guildId) return policy.directMessages;
  if (policy.guildIds.length > 0 && !policy.guildIds.includes(place.guildId)) return false;
  const channel = place.parentId ?? place.channelId;
  if (policy.supportChannelIds.includes(channel)) return true;
  if (policy.channelIds.length > 0) return policy.channelIds.includes(channel);
  return policy.guildIds.length > 0;
}

/** Whether `place` is the top level of a support channel (where a customer's first message opens a thread). */
export function isSupportChannelRoot(place: Pick<Place, 'guildId' | 'channelId' | 'parentId'>, policy: ConversationPolicy): boolean {
  return place.guildId !== undefined && place.parentId === undefined && policy.supportChannelIds.includes(place.channelId);
}

const DISCORD_EPOCH_MS = 1_420_070_400_000n;

/** Compares two snowflakes numerically (ids grow with time). */
export function compareSnowflakes(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** When a snowflake was made. */
export function snowflakeTime(id: string): Date {
  return new Date(Number((BigInt(id) >> 22n) + DISCORD_EPOCH_MS));
}

/** The smallest snowflake made at `time`: a history cursor meaning "from then on". */
export function snowflakeAt(time: number): string {
  return String((BigInt(Math.max(0, time)) - DISCORD_EPOCH_MS) << 22n);
}
