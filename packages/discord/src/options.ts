/**
 * The Discord connector's options (`connectors.<id>.options` in parley.yaml). The schema is the
 * single source of the options type; the host validates the YAML block with it and reports every
 * issue with its key path.
 */
import { z } from 'zod';

/** A Discord id: a snowflake, 17 to 20 digits. */
const snowflake = z.string().regex(/^\d{17,20}$/, 'must be a Discord id (17 to 20 digits)');

export const discordOptionsSchema = z.object({
  token: z
    .string()
    .min(1, 'required')
    .describe('The bot token (Developer Portal → Bot → Reset Token). Sent only in the Authorization header.'),
  apiUrl: z
    .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
    .transform((value) => value.replace(/\/+$/, ''))
    .default('https://discord.com/api')
    .describe(
      'Base of the Discord REST API, without the version (`/v10` is appended). The gateway URL comes from ' +
        '`GET /gateway/bot` under it, so a proxy or a fake serves both.',
    ),
  directMessages: z
    .boolean()
    .default(true)
    .describe('Serve customers who write to the bot in a direct message (one Genesys conversation per user).'),
  guildIds: z
    .array(snowflake)
    .default([])
    .describe(
      'Servers whose channels the bot serves. Empty: none, unless `channelIds` or `supportChannelIds` name ' +
        'channels. With `channelIds` empty, every channel of these servers is served.',
    ),
  channelIds: z
    .array(snowflake)
    .default([])
    .describe('Channels (with their threads and forum posts) the bot serves; empty: every channel of `guildIds`.'),
  supportChannelIds: z
    .array(snowflake)
    .default([])
    .describe(
      'Support channels: the first message a customer writes there opens a thread for them, and that thread is ' +
        'their Genesys conversation (later messages of the same customer in the channel join it).',
    ),
  guildConversations: z
    .enum(['per-thread', 'per-channel'])
    .default('per-thread')
    .describe(
      'What one Genesys conversation is in a server channel other than a support channel: `per-thread` (each ' +
        'thread or forum post is its own conversation, the channel itself another) or `per-channel` (the ' +
        'channel and all its threads are one conversation; replies go to the channel).',
    ),
  supportThreadArchiveMinutes: z
    .union([z.literal(60), z.literal(1440), z.literal(4320), z.literal(10080)])
    .default(1440)
    .describe('Inactivity after which Discord hides a support thread (60, 1440, 4320 or 10080 minutes).'),
  typingIndicators: z
    .boolean()
    .default(true)
    .describe('Forward customer typing to Genesys (subscribes to the typing intents).'),
  requestTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(15_000)
    .describe('Longest wait for one Discord REST answer, in ms.'),
  globalRequestsPerSecond: z
    .number()
    .int()
    .positive()
    .default(50)
    .describe(
      "Discord's global REST limit for this bot, in requests per second: 50 unless Discord raised it for the bot. " +
        'Sends wait their turn rather than exceed it.',
    ),
  rateLimitMaxWaitMs: z
    .number()
    .int()
    .min(0)
    .default(10_000)
    .describe(
      'Longest Discord rate-limit wait (429 Retry-After) taken in place, in ms. A longer one fails the send as ' +
        'retryable with the wait, so the queue retries it later instead of holding a worker.',
    ),
  trackingDays: z
    .number()
    .positive()
    .default(7)
    .describe(
      'How long a channel, thread or DM stays tracked after its last customer message, in days: after a restart or a lost ' +
        'gateway session, messages written meanwhile in tracked channels are fetched from the channel history. ' +
        'Channels in `channelIds` and `supportChannelIds` stay tracked for good.',
    ),
  identifyIntervalMs: z
    .number()
    .int()
    .min(0)
    .default(5000)
    .describe(
      'Least time between two gateway IDENTIFYs, in ms. Discord allows one per 5 s per bot with ' +
        '`max_concurrency` 1; lower it only against a fake.',
    ),
  retryMinMs: z
    .number()
    .int()
    .positive()
    .default(1000)
    .describe(
      'First pause after Discord could not be reached (a login, a history fetch), in ms; doubles per failure ' +
        'up to `retryMaxMs`.',
    ),
  retryMaxMs: z.number().int().positive().default(60_000).describe('Longest pause between two such attempts, in ms.'),
});

/** Options after validation, defaults applied. */
export type DiscordOptions = z.output<typeof discordOptionsSchema>;

/** Options as written in parley.yaml (defaults optional). */
export type DiscordOptionsInput = z.input<typeof discordOptionsSchema>;
