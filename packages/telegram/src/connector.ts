/**
 * The Telegram connector: a company's Telegram bot as a Genesys Open Messaging channel.
 *
 * It receives customer updates (long polling or a webhook) and hands them to core, and it shows
 * agent messages to the customer. Everything Telegram-specific sits in small modules beside it:
 * `options.ts` (what parley.yaml may say), `api-client.ts` (Bot API calls through grammY),
 * `errors.ts` (Telegram failures → Parley errors), `inbound.ts` and `outbound.ts` (the two
 * mappings) and `webhook.ts` (the webhook route); the long-polling loop is core's
 * `createUpdatePoller`. This file wires them to the connector contract.
 */
import { BotError } from 'grammy';
import type { Message, Update } from 'grammy/types';
import {
  createUpdatePoller,
  defineConnector,
  loadSendProgress,
  PermanentError,
  queueBackoffDelay,
  RetryableError,
  type Connector,
  type ConnectorCapabilities,
  type ConnectorContext,
  type DownloadedMedia,
  type InboundButtonResponse,
  type InboundEvent,
  type InboundMessage,
  type OutboundMessage,
  type SendResult,
} from '@parley/core';
import { createTelegramApi, type FileKind, type SendExtras, type TelegramApi } from './api-client.js';
import {
  addressOf,
  callbackToInbound,
  pressedByOther,
  keyboardAnswerOf,
  messageToInbound,
  platformMessageIdOf,
  type ButtonOrigin,
  type InboundSettings,
  type PendingKeyboard,
  type TelegramAddress,
} from './inbound.js';
import { telegramOptionsSchema, type TelegramOptions } from './options.js';
import { planOutbound, toReplyMarkup, type OutboundStep } from './outbound.js';
import { createWebhookHandler } from './webhook.js';

/** What Telegram can show and report (DESIGN §3). */
export const telegramCapabilities: ConnectorCapabilities = {
  inbound: ['polling', 'webhook'],
  attachments: { inbound: true, outbound: true },
  // Telegram never tells a bot that a user is typing.
  typing: { inbound: false, outbound: true },
  quickReplies: true,
  cards: true,
  edits: true,
  readReceipts: false,
};

const DAY_MS = 24 * 60 * 60 * 1000;
/** A customer may press a button days after it was sent. */
const BUTTON_ORIGIN_TTL_MS = 30 * DAY_MS;
/** An agent answering a group message a week later should not quote it any more. */
const LAST_MESSAGE_TTL_MS = 7 * DAY_MS;
/** How long the webhook waits for an update to be queued before Telegram must deliver it again. */
const WEBHOOK_TIMEOUT_MS = 10_000;
/** Telegram's limit for sendPhoto uploads. */
const PHOTO_MAX_BYTES = 10 * 1024 * 1024;

/** One start()…stop() span: its abort signal and the background connection attempts, if any. */
interface Lifecycle {
  abort: AbortController;
  background?: Promise<void>;
}

const buttonOriginKey = (chatId: number, botMessageId: number) => `button-origin:${chatId}:${botMessageId}`;
/** Shown to a group member who presses buttons the agent sent to another member. */
const OTHER_MEMBERS_BUTTONS = 'These buttons are for another member of this chat.';
const keyboardKey = (customerId: string) => `keyboard:${customerId}`;
const lastMessageKey = (customerId: string) => `last-message:${customerId}`;

/**
 * The Telegram connector definition. The host loads it from `use: "@parley/connector-telegram"`;
 * embedders pass it to `createParley`.
 *
 * @example
 * createParley({ ..., connectors: [{ id: 'support-telegram', definition: telegramConnector,
 *   options: telegramOptionsSchema.parse({ token: botToken }),
 *   integrationId, webhookSecret }] });
 */
export const telegramConnector = defineConnector({
  name: 'telegram',
  optionsSchema: telegramOptionsSchema,
  capabilities: telegramCapabilities,
  create: createTelegramConnector,
});

function createTelegramConnector(options: TelegramOptions, context: ConnectorContext): Connector {
  const { logger, store } = context;
  // No I/O here: grammY connects on its first call, the poller and the webhook on start().
  const api = createTelegramApi(options);
  const { bot } = api;
  const updateCounter = context.metrics.counter(
    'parley_telegram_updates_total',
    'Telegram updates handled, by update type and outcome (queued, duplicate, ignored, skipped, error)',
    ['type', 'outcome'],
  );
  // Known once connected (getMe); kept after stop() so that an update already in hand still maps.
  let settings: InboundSettings | undefined;
  let lifecycle: Lifecycle | undefined;
  let connected = false;
  let connectError: string | undefined;

  // One middleware for every update, whether it came from the webhook or from polling.
  bot.use(async (ctx) => handleUpdate(ctx.update));

  // Telegram confirms an update once getUpdates asks from an offset above its id. The offset lives
  // in memory only, on purpose: Telegram keeps every unconfirmed update, so after a restart a poll
  // from 0 starts at the first one. A stored offset would add nothing and could skip updates,
  // because Telegram picks update ids at random after a week of silence. A 409 (a webhook is set,
  // or another instance polls) is a RetryableError (errors.ts): the poller backs off and polls again.
  const poller = createUpdatePoller<Update>({
    fetchUpdates: (offset, signal) => api.getUpdates(offset, signal),
    handle: (update) => bot.handleUpdate(update).catch(unwrapBotError),
    updateId: (update) => update.update_id,
    orderKey: (update) => {
      const chatId = chatOf(update);
      return chatId === undefined ? `update:${update.update_id}` : `chat:${chatId}`;
    },
    platformName: 'Telegram',
    logger,
    retryMinMs: options.pollRetryMinMs,
    retryMaxMs: Math.max(options.pollRetryMinMs, options.pollRetryMaxMs),
  });

  const webhook = createWebhookHandler({
    bot,
    secretToken: options.mode === 'webhook' ? options.webhookSecret : undefined,
    ready: () => connected,
    timeoutMs: WEBHOOK_TIMEOUT_MS,
    logger,
  });

  /** Learns who the bot is, then points Telegram at the webhook or clears it for polling. */
  async function connect(signal: AbortSignal): Promise<void> {
    const me = await api.getMe(signal);
    bot.botInfo = me;
    if (options.mode === 'webhook') {
      const registration = { secretToken: options.webhookSecret ?? '', maxConnections: options.webhookMaxConnections };
      await api.setWebhook(context.webhookUrl, registration, signal);
    } else {
      // getUpdates answers 409 while a webhook is set; pending updates are kept.
      await api.deleteWebhook(signal);
    }
    if (signal.aborted) return;
    settings = { chatTypes: options.chatTypes, groups: options.groups, bot: { id: me.id, username: me.username }, media: context.media };
    connected = true;
    connectError = undefined;
    logger.info({ bot: me.username, mode: options.mode }, 'Connected to Telegram');
    if (options.mode === 'polling') poller.start();
  }

  /** Keeps trying to connect after a failed start (Telegram down, network trouble). */
  async function connectInBackground(signal: AbortSignal): Promise<void> {
    for (let failures = 1; !signal.aborted; failures += 1) {
      await sleepUnlessAborted(queueBackoffDelay(failures - 1, options.pollRetryMinMs, options.pollRetryMaxMs), signal);
      if (signal.aborted) return;
      try {
        await connect(signal);
        return;
      } catch (error) {
        if (signal.aborted) return;
        connectError = errorMessage(error);
        if (error instanceof PermanentError) {
          return void logger.error({ err: error }, 'Could not connect to Telegram; fix the options and restart');
        }
        logger.warn({ err: error, failures }, 'Could not connect to Telegram yet; trying again');
      }
    }
  }

  async function handleUpdate(update: Update): Promise<void> {
    const type = update.message ? 'message' : update.edited_message ? 'edited_message' : update.callback_query ? 'callback_query' : 'other';
    try {
      updateCounter.inc({ type, outcome: await dispatch(update) });
    } catch (error) {
      // No retry can make a permanently bad update good: skip it rather than block the chat.
      // Anything else propagates, so Telegram delivers the update again.
      if (!(error instanceof PermanentError)) {
        updateCounter.inc({ type, outcome: 'error' });
        throw error;
      }
      updateCounter.inc({ type, outcome: 'skipped' });
      logger.warn({ err: error, updateId: update.update_id }, 'Skipped a Telegram update that cannot be handled');
    }
  }

  async function dispatch(update: Update): Promise<'queued' | 'duplicate' | 'ignored'> {
    if (update.message) return handleMessage(update.message, false);
    if (update.edited_message) return handleMessage(update.edited_message, true);
    if (update.callback_query) return handleCallback(update.callback_query);
    return 'ignored';
  }

  /** Mapping needs the bot's identity; an update before it (never expected) is not confirmed. */
  function currentSettings(): InboundSettings {
    if (!settings) throw new RetryableError('PLATFORM_UNAVAILABLE', 'Not connected to Telegram yet');
    return settings;
  }

  async function handleMessage(message: Message, edited: boolean) {
    const inbound = messageToInbound(message, currentSettings(), { edited });
    if (!inbound) return 'ignored';
    let event: InboundEvent = inbound;
    if (!edited && options.quickReplies === 'keyboard') event = (await keyboardAnswer(message, inbound)) ?? inbound;
    if (message.chat.type !== 'private') {
      // In a group the agent's answer replies to this message, so everyone sees whom it is for.
      await store.set(lastMessageKey(inbound.customer.id), String(message.message_id), { ttlMs: LAST_MESSAGE_TTL_MS });
    }
    return outcomeOf(await context.receive(event));
  }

  async function handleCallback(query: NonNullable<Update['callback_query']>) {
    const message = query.message;
    const origin = message ? parseOrigin(await store.get(buttonOriginKey(message.chat.id, message.message_id))) : undefined;
    if (pressedByOther(query, origin)) {
      await api.answerCallbackQuery(query.id, OTHER_MEMBERS_BUTTONS).catch((error: unknown) => {
        logger.debug({ err: error }, 'Could not answer a button press');
      });
      return 'ignored';
    }
    const event = callbackToInbound(query, origin, currentSettings());
    const outcome = event ? outcomeOf(await context.receive(event)) : 'ignored';
    // After the hand-off, so a failure above leaves the button spinning and the press is redelivered.
    await api.answerCallbackQuery(query.id).catch((error: unknown) => {
      logger.debug({ err: error }, 'Could not answer a button press');
    });
    return outcome;
  }

  /** A reply-keyboard tap: the message text is one of the buttons the agent's question offered. */
  async function keyboardAnswer(message: Message, inbound: InboundMessage): Promise<InboundButtonResponse | undefined> {
    const key = keyboardKey(inbound.customer.id);
    const pending = parseJson<PendingKeyboard>(await store.get(key), isPendingKeyboard);
    const answer = keyboardAnswerOf(message, inbound, pending);
    if (answer && pending && pending.answeredBy === undefined) {
      await store.set(key, JSON.stringify({ ...pending, answeredBy: inbound.platformMessageId }), { ttlMs: BUTTON_ORIGIN_TTL_MS });
    }
    return answer;
  }

  return {
    async start() {
      if (lifecycle) return;
      const current: Lifecycle = { abort: new AbortController() };
      lifecycle = current;
      try {
        await connect(current.abort.signal);
      } catch (error) {
        // A wrong token or a webhook URL Telegram refuses stops the host with a clear message;
        // Telegram being unreachable does not: the connector keeps trying and /readyz says so.
        if (!(error instanceof RetryableError)) {
          lifecycle = undefined;
          throw error;
        }
        connectError = errorMessage(error);
        logger.warn({ err: error }, 'Could not connect to Telegram yet; trying again in the background');
        current.background = connectInBackground(current.abort.signal);
      }
    },
    async stop() {
      const current = lifecycle;
      if (!current) return;
      lifecycle = undefined;
      connected = false;
      current.abort.abort();
      await current.background;
      await poller.stop();
      await api.close();
    },
    send: (message) => sendMessage(api, context, options, message),
    async sendTyping(to) {
      await api.sendChatAction(addressOrFail(to).chatId, 'typing');
    },
    webhook,
    // The token stays here: Genesys fetches the file through Parley's signed media URL.
    openMedia: (fileId) => api.openFile(fileId),
    readiness() {
      if (!connected) return { ready: false, detail: connectError ? `Not connected to Telegram: ${connectError}` : 'Connecting to Telegram' };
      return options.mode === 'polling' ? poller.status() : { ready: true };
    },
  };
}

/**
 * Sends the Telegram messages that make up one agent message. A delivery may be retried after a
 * part went out (a 429 on the third of four parts), so the ids already sent are kept in the store
 * and a retry resumes after them: the customer never sees a part twice.
 */
async function sendMessage(
  api: TelegramApi,
  context: ConnectorContext,
  options: TelegramOptions,
  message: OutboundMessage,
): Promise<SendResult> {
  const { store } = context;
  const address = addressOrFail(message.to);
  const steps = planOutbound(message, options.quickReplies);
  if (steps.length === 0) {
    throw new PermanentError('PAYLOAD_INVALID', 'The message has no text, file or buttons to show', {
      reasonCode: 'InvalidMessageStructure',
    });
  }
  const progress = await loadSendProgress(store, message.id, steps.length);
  // Group chats have negative ids: there the first part replies to the customer's last message.
  const replyTo = address.chatId < 0 && progress.sent.length === 0 ? Number(await store.get(lastMessageKey(message.to))) : NaN;

  for (const [index, step] of steps.entries()) {
    if (index < progress.sent.length) continue;
    const extras: SendExtras = {
      ...(step.markup ? { reply_markup: toReplyMarkup(step.markup) } : {}),
      ...(index === 0 && Number.isSafeInteger(replyTo)
        ? { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } }
        : {}),
    };
    const sent = await sendStep(api, context, address.chatId, step, extras);
    await rememberButtons(store, message, address, step, sent.message_id);
    await progress.record(platformMessageIdOf(address.chatId, sent.message_id));
  }
  return progress.result();
}

async function sendStep(
  api: TelegramApi,
  context: ConnectorContext,
  chatId: number,
  step: OutboundStep,
  extras: SendExtras,
): Promise<Message> {
  if (!step.attachment) return api.sendText(chatId, step.text ?? '', extras);
  const file = await context.downloadAttachment(step.attachment);
  const kind = fileKindOf(file);
  try {
    return await api.sendFile(chatId, kind, file, step.text, extras);
  } catch (error) {
    // Telegram checks photos, videos and audio more strictly than documents (dimensions, size,
    // codec); the same bytes as a document reach the customer all the same.
    const mediaRefused =
      error instanceof PermanentError && (error.reasonCode === 'MediaTypeNotAllowed' || error.reasonCode === 'InvalidMediaContentLength');
    if (kind === 'document' || !mediaRefused) throw error;
    context.logger.info({ kind, mime: file.mime, reason: error.message }, 'Telegram refused the file as media; sending it as a document');
    return api.sendFile(chatId, 'document', file, step.text, extras);
  }
}

/** Remembers what a press of the buttons just sent means in Genesys (see `inbound.ts`). */
async function rememberButtons(
  store: ConnectorContext['store'],
  message: OutboundMessage,
  address: TelegramAddress,
  step: OutboundStep,
  botMessageId: number,
): Promise<void> {
  if (!step.markup || !step.buttonType) return;
  if (step.markup.kind === 'keyboard') {
    const pending: PendingKeyboard = { genesysMessageId: message.id, buttons: step.markup.rows.flat() };
    await store.set(keyboardKey(message.to), JSON.stringify(pending), { ttlMs: BUTTON_ORIGIN_TTL_MS });
    return;
  }
  const origin: ButtonOrigin = {
    genesysMessageId: message.id,
    type: step.buttonType,
    buttons: step.markup.rows.flat().flatMap((button) => ('data' in button ? [button] : [])),
    ...(address.userId === undefined ? {} : { userId: address.userId }),
  };
  await store.set(buttonOriginKey(address.chatId, botMessageId), JSON.stringify(origin), { ttlMs: BUTTON_ORIGIN_TTL_MS });
}

/** The Bot API method for a file: by its type, within the limits Telegram shows inline. */
function fileKindOf(file: DownloadedMedia): FileKind {
  const mime = file.mime.toLowerCase();
  if (mime === 'image/gif') return 'animation';
  if (['image/jpeg', 'image/png', 'image/webp'].includes(mime)) return file.data.length <= PHOTO_MAX_BYTES ? 'photo' : 'document';
  if (mime === 'video/mp4') return 'video';
  if (['audio/mpeg', 'audio/mp3', 'audio/mp4', 'audio/x-m4a', 'audio/m4a'].includes(mime)) return 'audio';
  if (mime === 'audio/ogg' || mime === 'audio/opus') return 'voice';
  return 'document';
}

function addressOrFail(customerId: string): TelegramAddress {
  const address = addressOf(customerId);
  if (!address) {
    throw new PermanentError('PAYLOAD_INVALID', `"${customerId}" is not a Telegram customer id (tg:<chatId>)`, {
      reasonCode: 'InvalidDestination',
    });
  }
  return address;
}

function chatOf(update: Update): number | undefined {
  return (update.message ?? update.edited_message ?? update.callback_query?.message)?.chat.id;
}

function outcomeOf(result: { duplicate: boolean }): 'queued' | 'duplicate' {
  return result.duplicate ? 'duplicate' : 'queued';
}

/** grammY wraps middleware failures in a BotError that also holds its API client: keep the cause. */
function unwrapBotError(error: unknown): never {
  throw error instanceof BotError ? error.error : error;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

function parseOrigin(raw: string | undefined): ButtonOrigin | undefined {
  return parseJson<ButtonOrigin>(
    raw,
    (value): value is ButtonOrigin =>
      typeof value === 'object' &&
      value !== null &&
      typeof (value as ButtonOrigin).genesysMessageId === 'string' &&
      ((value as ButtonOrigin).type === 'QuickReply' || (value as ButtonOrigin).type === 'Button') &&
      Array.isArray((value as ButtonOrigin).buttons),
  );
}

function isPendingKeyboard(value: unknown): value is PendingKeyboard {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as PendingKeyboard).genesysMessageId === 'string' &&
    Array.isArray((value as PendingKeyboard).buttons)
  );
}

/** A stored JSON value, or undefined when it is missing or not what `guard` expects. */
function parseJson<T>(raw: string | undefined, guard: (value: unknown) => value is T): T | undefined {
  if (!raw) return undefined;
  try {
    const value: unknown = JSON.parse(raw);
    return guard(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
