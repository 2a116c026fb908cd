/**
 * The Telegram connector's options (`connectors.<id>.options` in parley.yaml). The schema is the
 * single source of the options type; the host validates the YAML block with it and reports every
 * issue with its key path.
 */
import { z } from 'zod';

/** Chat types the connector can serve. Channels are broadcasts, not conversations: never served. */
export const TELEGRAM_CHAT_TYPES = ['private', 'group', 'supergroup'] as const;

/** A chat type the connector may serve. */
export type TelegramChatType = (typeof TELEGRAM_CHAT_TYPES)[number];

const groupPolicySchema = z
  .object({
    trigger: z
      .enum(['mention', 'all'])
      .default('mention')
      .describe(
        'Which group messages reach Genesys: `mention` (only those that mention the bot or reply to it) or `all`',
      ),
    conversation: z
      .enum(['chat', 'user'])
      .default('chat')
      .describe(
        'What one Genesys conversation is in a group: the whole `chat` (customer id `tg:<chatId>`) or each `user` in it (`tg:<chatId>:<userId>`)',
      ),
  });

/**
 * `connectors.<id>.options` of a Telegram connector. Only `token` is required; webhook mode also
 * needs `webhookSecret`.
 */
export const telegramOptionsSchema = z
  .object({
    token: z
      .string()
      .regex(/^\d+:[\w-]+$/, 'must be a bot token from @BotFather, like 123456789:AAE…')
      .describe('The bot token from @BotFather. It never appears in a log line, an error or a URL Genesys sees'),
    mode: z
      .enum(['polling', 'webhook'])
      .default('polling')
      .describe(
        'How updates arrive: `polling` (long polling, nothing to expose) or `webhook` (Telegram posts to <publicUrl>/connectors/<id>/webhook)',
      ),
    apiRoot: z
      .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
      .default('https://api.telegram.org')
      // grammY refuses a trailing slash; accept one and drop it.
      .transform((value) => value.replace(/\/+$/, ''))
      .describe('Base URL of the Bot API: Telegram\'s, a self-hosted Bot API server, or a proxy'),
    webhookSecret: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,256}$/, 'must be 1-256 characters of A-Z, a-z, 0-9, _ and -')
      .optional()
      .describe(
        'Required in webhook mode: Telegram sends it in X-Telegram-Bot-Api-Secret-Token and requests without it get 401',
      ),
    chatTypes: z
      .array(z.enum(TELEGRAM_CHAT_TYPES))
      .min(1)
      .default(['private'])
      .describe('Chat types served; messages from other chats are ignored. Private chats are one conversation per chat'),
    groups: groupPolicySchema
      .default({ trigger: 'mention', conversation: 'chat' })
      .describe('How group chats are served (when `chatTypes` includes group or supergroup)'),
    quickReplies: z
      .enum(['inline', 'keyboard'])
      .default('inline')
      .describe(
        'How Genesys quick replies show: `inline` buttons under the message, or a one-time reply `keyboard` whose button text the customer sends',
      ),
    pollTimeoutSeconds: z
      .number()
      .int()
      .min(0)
      .max(50)
      .default(25)
      .describe('Polling mode: how long one getUpdates call waits for updates, in seconds (0 = short polling)'),
    pollRetryMinMs: z
      .number()
      .int()
      .positive()
      .default(1000)
      .describe('First pause after a failed call to Telegram while polling or starting, in ms; doubles per failure'),
    pollRetryMaxMs: z
      .number()
      .int()
      .positive()
      .default(30_000)
      .describe('Longest pause between failed calls while polling or starting, in ms'),
    requestTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(30_000)
      .describe('Longest wait for Telegram to answer one call (a send, an upload, a file download), in ms'),
    webhookMaxConnections: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(40)
      .describe('Webhook mode: most simultaneous update deliveries Telegram may make (setWebhook max_connections)'),
  })
  .superRefine((options, context) => {
    if (options.mode === 'webhook' && options.webhookSecret === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['webhookSecret'],
        message: 'required when mode is webhook (Telegram must prove each update came from it)',
      });
    }
  });

/** Options after validation, defaults applied. */
export type TelegramOptions = z.output<typeof telegramOptionsSchema>;

/** Options as written in parley.yaml (defaults optional). */
export type TelegramOptionsInput = z.input<typeof telegramOptionsSchema>;

/** The group policy, after defaults. */
export type TelegramGroupPolicy = TelegramOptions['groups'];
