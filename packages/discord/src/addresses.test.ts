import { describe, expect, it } from 'vitest';
import {
  addressOf,
  compareSnowflakes,
  conversationOf,
  customerIdOf,
  isServed,
  snowflakeAt,
  snowflakeTime,
  type AccessPolicy,
  type ConversationPolicy,
} from './addresses.js';

const GUILD = '111111111111111111';
const CHANNEL = '222222222222222222';
const THREAD = '333333333333333333';
const USER = '444444444444444444';
const SUPPORT = '555555555555555555';

describe('customer ids', () => {
  it('round-trips DMs, channels and threads', () => {
    for (const address of [
      { kind: 'dm', userId: USER },
      { kind: 'channel', guildId: GUILD, channelId: CHANNEL },
      { kind: 'channel', guildId: GUILD, channelId: CHANNEL, threadId: THREAD },
    ] as const) {
      expect(addressOf(customerIdOf(address))).toEqual(address);
    }
    expect(customerIdOf({ kind: 'dm', userId: USER })).toBe(`discord:dm:${USER}`);
    expect(customerIdOf({ kind: 'channel', guildId: GUILD, channelId: CHANNEL, threadId: THREAD })).toBe(
      `discord:${GUILD}:${CHANNEL}:${THREAD}`,
    );
  });

  it('refuses ids it did not make', () => {
    for (const id of ['tg:123', 'discord:', 'discord:dm:', 'discord:dm:abc', `discord:${GUILD}`, `discord:${GUILD}:x`, `discord:1:2:3:4`]) {
      expect(addressOf(id), id).toBeUndefined();
    }
  });
});

describe('conversation policy', () => {
  const perThread: ConversationPolicy = { guildConversations: 'per-thread', supportChannelIds: [SUPPORT] };
  const perChannel: ConversationPolicy = { guildConversations: 'per-channel', supportChannelIds: [SUPPORT] };

  it('gives each DM user, channel and thread its own conversation', () => {
    expect(conversationOf({ channelId: CHANNEL, authorId: USER }, perThread)).toBe(`discord:dm:${USER}`);
    expect(conversationOf({ guildId: GUILD, channelId: CHANNEL, authorId: USER }, perThread)).toBe(`discord:${GUILD}:${CHANNEL}`);
    expect(conversationOf({ guildId: GUILD, channelId: THREAD, parentId: CHANNEL, authorId: USER }, perThread)).toBe(
      `discord:${GUILD}:${CHANNEL}:${THREAD}`,
    );
  });

  it('folds threads into their channel per channel, except in support channels', () => {
    expect(conversationOf({ guildId: GUILD, channelId: THREAD, parentId: CHANNEL, authorId: USER }, perChannel)).toBe(
      `discord:${GUILD}:${CHANNEL}`,
    );
    expect(conversationOf({ guildId: GUILD, channelId: THREAD, parentId: SUPPORT, authorId: USER }, perChannel)).toBe(
      `discord:${GUILD}:${SUPPORT}:${THREAD}`,
    );
  });

  it("puts a support channel's top-level message in the customer's thread", () => {
    expect(conversationOf({ guildId: GUILD, channelId: SUPPORT, authorId: USER, customerThreadId: THREAD }, perThread)).toBe(
      `discord:${GUILD}:${SUPPORT}:${THREAD}`,
    );
  });
});

describe('which places are served', () => {
  const policy = (overrides: Partial<AccessPolicy>): AccessPolicy => ({
    directMessages: true,
    guildIds: [],
    channelIds: [],
    supportChannelIds: [],
    ...overrides,
  });

  it('serves DMs unless turned off', () => {
    expect(isServed({ channelId: CHANNEL }, policy({}))).toBe(true);
    expect(isServed({ channelId: CHANNEL }, policy({ directMessages: false }))).toBe(false);
  });

  it('serves no server channel until configured to', () => {
    expect(isServed({ guildId: GUILD, channelId: CHANNEL }, policy({}))).toBe(false);
  });

  it('serves every channel of a listed server, or only the listed channels and their threads', () => {
    expect(isServed({ guildId: GUILD, channelId: CHANNEL }, policy({ guildIds: [GUILD] }))).toBe(true);
    expect(isServed({ guildId: '999999999999999999', channelId: CHANNEL }, policy({ guildIds: [GUILD] }))).toBe(false);
    const listed = policy({ channelIds: [CHANNEL] });
    expect(isServed({ guildId: GUILD, channelId: CHANNEL }, listed)).toBe(true);
    expect(isServed({ guildId: GUILD, channelId: THREAD, parentId: CHANNEL }, listed)).toBe(true);
    expect(isServed({ guildId: GUILD, channelId: SUPPORT }, listed)).toBe(false);
  });

  it('always serves support channels, within the listed servers', () => {
    expect(isServed({ guildId: GUILD, channelId: SUPPORT }, policy({ supportChannelIds: [SUPPORT] }))).toBe(true);
    expect(isServed({ guildId: GUILD, channelId: SUPPORT }, policy({ supportChannelIds: [SUPPORT], channelIds: [CHANNEL] }))).toBe(true);
    expect(
      isServed({ guildId: GUILD, channelId: SUPPORT }, policy({ supportChannelIds: [SUPPORT], guildIds: ['999999999999999999'] })),
    ).toBe(false);
  });
});

describe('snowflakes', () => {
  it('compare by value, not by text', () => {
    expect(compareSnowflakes('99999999999999999', '100000000000000000')).toBe(-1);
    expect(compareSnowflakes(THREAD, THREAD)).toBe(0);
  });

  it('encode their time', () => {
    const at = Date.UTC(2024, 0, 2, 3, 4, 5);
    expect(snowflakeTime(snowflakeAt(at)).getTime()).toBe(at);
  });
});
