/**
 * A fake Telegram Bot API server on 127.0.0.1 that speaks the real protocol, so the real grammY
 * client runs against it unmodified (`apiRoot: fake.url`).
 *
 * Bot API (`POST|GET /bot<token>/<method>`, JSON, urlencoded or multipart parameters):
 * getMe; getUpdates with long polling and offset semantics (and 409 while a webhook is set or
 * when a newer poll replaces a waiting one); setWebhook, deleteWebhook and getWebhookInfo, with
 * delivery of updates to the webhook and its secret header; sendMessage, sendPhoto, sendDocument,
 * sendVideo, sendAudio, sendVoice, sendAnimation (uploads as multipart, or a known file_id);
 * sendChatAction; answerCallbackQuery; getFile. Files download from `/file/bot<token>/<path>`.
 *
 * Customer side: `privateChat(profile)` and `group(...).member(profile)` write, send files, edit
 * and press buttons. Error injection: `failNext(...)` (429 with retry_after, 403, 400, 5xx, slow
 * answers, dropped connections).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { InlineKeyboardButton, Message, ReplyParameters, Update, UserFromGetMe, WebhookInfo } from 'grammy/types';
import { waitForMatch } from '@parley/testkit';
import { errorBody, FaultPlan, type TelegramFault } from './fake-faults.js';
import { BodyTooLargeError, readParams, type BotApiParams } from './fake-params.js';
import { FakeState, mimeOfFilename, type FakeCustomer, type FakeUserProfile, type SentMessage } from './fake-state.js';
import { WebhookDelivery } from './fake-webhook.js';

export type { FakeCustomer, FakeUserProfile, FakeFileInput, MessageOptions, SentMessage, CustomerFileKind } from './fake-state.js';
export type { TelegramFault, FaultTarget } from './fake-faults.js';

/** Options of {@link startTelegramFake}; every one has a default. */
export interface TelegramFakeOptions {
  /** Default 0: a free port. */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
  /** The bot token the fake accepts; default a random one shaped like Telegram's. */
  token?: string;
  /** The bot's profile (getMe). */
  bot?: { id?: number; username?: string; firstName?: string };
  /** Longest `timeout` a getUpdates call may wait, in seconds. Default 50 (Telegram's). */
  maxPollSeconds?: number;
  /** Pause before a failed webhook delivery is tried again, in ms. Default 1000. */
  webhookRetryMs?: number;
  /** How long a webhook delivery may take before it counts as failed, in ms. Default 10 000. */
  webhookTimeoutMs?: number;
}

/** A running fake Telegram. */
export interface TelegramFake {
  /** The Bot API root, e.g. `http://127.0.0.1:PORT`: the connector's `apiRoot`. */
  readonly url: string;
  readonly token: string;
  /** What getMe answers. */
  readonly bot: UserFromGetMe;
  /** The customer of a private chat (created on first use; the chat id is the user id). */
  privateChat(profile?: FakeUserProfile): FakeCustomer;
  /** A group or supergroup with the bot in it; its members write with `member(profile)`. */
  group(input: { id?: number; title: string; type?: 'group' | 'supergroup' }): {
    chat: Message['chat'];
    member(profile?: FakeUserProfile): FakeCustomer;
  };
  /** Queues an already delivered (even confirmed) update again: a Telegram-side duplicate. */
  redeliver(updateId: number): Update;
  /** Updates the bot has not confirmed yet. */
  pendingUpdates(): Update[];
  /** Messages the bot sent, in order (of one chat, or all). */
  sent(chatId?: number): SentMessage[];
  /** The first bot message (past or future) matching `predicate`; rejects after `timeoutMs` (default 5000). */
  waitForSent(predicate: (message: SentMessage) => boolean, timeoutMs?: number): Promise<SentMessage>;
  /** Chat actions (`typing`…) the bot sent, in order. */
  chatActions(chatId?: number): Array<{ chatId: number; action: string }>;
  /** Ids of the callback queries the bot answered. */
  answeredCallbacks(): string[];
  /** What getWebhookInfo answers. */
  webhookInfo(): WebhookInfo & { secret_token?: string };
  /** Bot API calls received, in order, with their parameters (files left out). */
  calls(method?: string): Array<{ method: string; params: Record<string, unknown> }>;
  /** Makes the next matching call(s) fail, answer slowly, or drop the connection. */
  failNext(fault: TelegramFault): void;
  clearFaults(): void;
  close(): Promise<void>;
}

/** Bot API limits the fake enforces like Telegram. */
const LIMITS = { text: 4096, caption: 1024, callbackData: 64, buttons: 100, downloadBytes: 20 * 1024 * 1024, uploadBytes: 50 * 1024 * 1024 };

const CHAT_ACTIONS = new Set([
  'typing',
  'upload_photo',
  'record_video',
  'upload_video',
  'record_voice',
  'upload_voice',
  'upload_document',
  'choose_sticker',
  'find_location',
  'record_video_note',
  'upload_video_note',
]);

/** A Bot API error answer (`ok: false`). */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly description: string,
  ) {
    super(description);
  }
}

type MethodHandler = (params: BotApiParams, req: IncomingMessage, res: ServerResponse) => unknown;

/** Starts the fake on 127.0.0.1 (or `host`). */
export async function startTelegramFake(options: TelegramFakeOptions = {}): Promise<TelegramFake> {
  const botId = options.bot?.id ?? 6_000_000_000 + Math.floor(Math.random() * 1_000_000);
  const token = options.token ?? `${botId}:AA${randomBytes(24).toString('base64url').slice(0, 33)}`;
  const bot: UserFromGetMe = {
    id: botId,
    is_bot: true,
    first_name: options.bot?.firstName ?? 'Support',
    username: options.bot?.username ?? 'parley_support_bot',
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
  } as UserFromGetMe;
  const maxPollSeconds = options.maxPollSeconds ?? 50;
  const state = new FakeState(bot);
  const faults = new FaultPlan();
  const calls: Array<{ method: string; params: Record<string, unknown> }> = [];
  const webhook = new WebhookDelivery(state.updates, {
    retryMs: options.webhookRetryMs ?? 1000,
    timeoutMs: options.webhookTimeoutMs ?? 10_000,
  });
  // Aborted on close so that waiting long polls and slow answers end at once.
  const closing = new AbortController();
  let waitingPoll: { conflict(): void } | undefined;

  const chatOf = (params: BotApiParams): number => {
    const chatId = Number(params.string('chat_id'));
    if (!Number.isSafeInteger(chatId) || !state.hasChat(chatId)) throw new ApiError(400, 'Bad Request: chat not found');
    if (state.isBlocked(chatId)) throw new ApiError(403, 'Forbidden: bot was blocked by the user');
    return chatId;
  };

  const methods: Record<string, MethodHandler> = {
    getMe: () => bot,

    async getUpdates(params, _req, res) {
      if (webhook.target) {
        throw new ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
      }
      const offset = params.number('offset') ?? 0;
      const limit = params.number('limit') ?? 100;
      const timeout = Math.min(params.number('timeout') ?? 0, maxPollSeconds);
      if (![offset, limit, timeout].every(Number.isFinite) || timeout < 0) throw new ApiError(400, 'Bad Request: wrong parameters');
      state.updates.setAllowed(params.json<string[]>('allowed_updates'));
      // Only one poll may wait: a newer one ends the older with a conflict, as on Telegram.
      waitingPoll?.conflict();
      let updates = state.updates.take(offset, limit);
      if (updates.length === 0 && timeout > 0) {
        const wait = new AbortController();
        let conflicted = false;
        const me = { conflict: () => ((conflicted = true), wait.abort()) };
        waitingPoll = me;
        res.on('close', () => wait.abort());
        await state.updates.waitForPush(timeout * 1000, AbortSignal.any([wait.signal, closing.signal]));
        if (waitingPoll === me) waitingPoll = undefined;
        if (conflicted) {
          throw new ApiError(409, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running');
        }
        updates = state.updates.take(offset, limit);
      }
      return updates;
    },

    setWebhook(params) {
      const url = params.string('url') ?? '';
      if (params.boolean('drop_pending_updates')) state.updates.dropAll();
      if (url === '') {
        webhook.set(undefined);
        return true;
      }
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw new ApiError(400, 'Bad Request: bad webhook: Failed to resolve host: Name or service not known');
      }
      // Telegram requires HTTPS; the fake takes http too, because tests run on 127.0.0.1.
      if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
        throw new ApiError(400, 'Bad Request: bad webhook: An HTTPS URL must be provided for webhook');
      }
      const secretToken = params.string('secret_token');
      if (secretToken !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(secretToken)) {
        throw new ApiError(400, 'Bad Request: secret token contains unallowed characters');
      }
      const maxConnections = params.number('max_connections') ?? 40;
      if (!Number.isInteger(maxConnections) || maxConnections < 1 || maxConnections > 100) {
        throw new ApiError(400, 'Bad Request: bad max_connections');
      }
      state.updates.setAllowed(params.json<string[]>('allowed_updates'));
      waitingPoll?.conflict();
      webhook.set({ url, maxConnections, ...(secretToken !== undefined ? { secretToken } : {}) });
      return true;
    },

    deleteWebhook(params) {
      if (params.boolean('drop_pending_updates')) state.updates.dropAll();
      webhook.set(undefined);
      return true;
    },

    getWebhookInfo: () => webhookInfo(),

    sendMessage(params) {
      const chatId = chatOf(params);
      const text = params.string('text') ?? '';
      if (text.trim() === '') throw new ApiError(400, 'Bad Request: message text is empty');
      if (text.length > LIMITS.text) throw new ApiError(400, 'Bad Request: message is too long');
      return sendWith(chatId, 'sendMessage', params, { text });
    },

    sendPhoto: (params) => sendFile(params, 'photo', 'sendPhoto'),
    sendDocument: (params) => sendFile(params, 'document', 'sendDocument'),
    sendVideo: (params) => sendFile(params, 'video', 'sendVideo'),
    sendAudio: (params) => sendFile(params, 'audio', 'sendAudio'),
    sendVoice: (params) => sendFile(params, 'voice', 'sendVoice'),
    sendAnimation: (params) => sendFile(params, 'animation', 'sendAnimation'),

    sendChatAction(params) {
      const chatId = chatOf(params);
      const action = params.string('action') ?? '';
      if (!CHAT_ACTIONS.has(action)) throw new ApiError(400, 'Bad Request: wrong parameter action in request');
      state.addChatAction(chatId, action);
      return true;
    },

    answerCallbackQuery(params) {
      const id = params.string('callback_query_id') ?? '';
      if (!state.answerCallback(id)) {
        throw new ApiError(400, 'Bad Request: query is too old and response timeout expired or query ID is invalid');
      }
      return true;
    },

    getFile(params) {
      const file = state.file(params.string('file_id') ?? '');
      if (!file) throw new ApiError(400, 'Bad Request: invalid file_id');
      if (file.data.length > LIMITS.downloadBytes) throw new ApiError(400, 'Bad Request: file is too big');
      return { file_id: file.file_id, file_unique_id: file.file_unique_id, file_size: file.data.length, file_path: file.file_path };
    },
  };
  const methodByName = new Map(Object.keys(methods).map((name) => [name.toLowerCase(), name]));

  function sendFile(params: BotApiParams, kind: string, method: string): Message {
    const chatId = chatOf(params);
    const input = params.file(kind);
    if (!input) throw new ApiError(400, `Bad Request: there is no ${kind} in the request`);
    let file;
    if ('upload' in input) {
      const { upload } = input;
      if (upload.data.length === 0) throw new ApiError(400, 'Bad Request: file must be non-empty');
      const mime = mimeOfFilename(upload.filename) ?? (upload.contentType !== 'application/octet-stream' ? upload.contentType : undefined);
      file = state.addFile(kind, upload.data, { ...(mime ? { mime } : {}), ...(upload.filename ? { filename: upload.filename } : {}) });
    } else if (/^https?:\/\//.test(input.reference)) {
      // The fake cannot fetch the internet, and tests never ask it to.
      throw new ApiError(400, 'Bad Request: failed to get HTTP URL content');
    } else {
      file = state.file(input.reference);
      if (!file) throw new ApiError(400, 'Bad Request: wrong file identifier/HTTP URL specified');
    }
    const caption = params.string('caption');
    if (caption !== undefined && caption.length > LIMITS.caption) throw new ApiError(400, 'Bad Request: message caption is too long');
    const ids = { file_id: file.file_id, file_unique_id: file.file_unique_id, file_size: file.data.length };
    const named = file.filename ? { file_name: file.filename } : {};
    const typed = file.mime ? { mime_type: file.mime } : {};
    const fields: Partial<Message> =
      kind === 'photo'
        ? { photo: [{ ...ids, width: 1280, height: 853 }] }
        : kind === 'video'
          ? { video: { ...ids, ...named, ...typed, width: 640, height: 360, duration: 1 } }
          : kind === 'audio'
            ? { audio: { ...ids, ...named, ...typed, duration: 1 } }
            : kind === 'voice'
              ? { voice: { ...ids, ...typed, duration: 1 } }
              : kind === 'animation'
                ? { animation: { ...ids, ...named, ...typed, width: 320, height: 240, duration: 1 } }
                : { document: { ...ids, ...named, ...typed } };
    return sendWith(chatId, method, params, { ...fields, ...(caption ? { caption } : {}) }, {
      kind,
      data: file.data,
      fileId: file.file_id,
      ...(file.filename ? { filename: file.filename } : {}),
      ...(file.mime ? { mime: file.mime } : {}),
    });
  }

  /** Validates the markup and reply of a send, then records the bot message. */
  function sendWith(chatId: number, method: string, params: BotApiParams, fields: Partial<Message>, file?: SentMessage['file']): Message {
    const markup = params.json<Record<string, unknown>>('reply_markup');
    const inline = markup?.['inline_keyboard'] as InlineKeyboardButton[][] | undefined;
    const keyboard = markup?.['keyboard'] as Array<Array<string | { text: string }>> | undefined;
    if (inline !== undefined) validateInlineKeyboard(inline);
    if (keyboard !== undefined && (!Array.isArray(keyboard) || !keyboard.every(Array.isArray))) {
      throw new ApiError(400, 'Bad Request: field "keyboard" of the ReplyKeyboardMarkup must be an Array');
    }
    const replied = replyTarget(chatId, params);
    const sent = state.addBotMessage(chatId, method, {
      ...fields,
      ...(inline ? { reply_markup: { inline_keyboard: inline } } : {}),
      ...(replied ? { reply_to_message: { ...replied, reply_to_message: undefined } as Message['reply_to_message'] } : {}),
    }, file);
    if (keyboard) {
      state.annotateSent(sent, { keyboard: keyboard.map((row) => row.map((button) => (typeof button === 'string' ? button : button.text))) });
    }
    return sent.message;
  }

  function replyTarget(chatId: number, params: BotApiParams): Message | undefined {
    const reply = params.json<ReplyParameters>('reply_parameters');
    const messageId = reply?.message_id ?? params.number('reply_to_message_id');
    if (messageId === undefined) return undefined;
    const message = state.message(chatId, messageId);
    if (!message && !reply?.allow_sending_without_reply) throw new ApiError(400, 'Bad Request: message to be replied not found');
    return message;
  }

  function webhookInfo(): WebhookInfo & { secret_token?: string } {
    const target = webhook.target;
    const { lastErrorDate, lastErrorMessage } = webhook.status;
    return {
      url: target?.url ?? '',
      has_custom_certificate: false,
      pending_update_count: state.updates.pendingCount,
      ...(target ? { max_connections: target.maxConnections } : {}),
      ...(target?.secretToken ? { secret_token: target.secretToken } : {}),
      ...(lastErrorDate !== undefined ? { last_error_date: lastErrorDate } : {}),
      ...(lastErrorMessage !== undefined ? { last_error_message: lastErrorMessage } : {}),
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    const download = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
    if (download) return serveFile(req, res, decodeURIComponent(download[1]!), decodeURIComponent(download[2]!));
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    if (!match) {
      req.resume();
      return reply(res, 404, errorBody(404));
    }
    if (decodeURIComponent(match[1]!) !== token) {
      req.resume();
      return reply(res, 401, errorBody(401));
    }
    const method = methodByName.get(match[2]!.toLowerCase());
    if (!method) {
      req.resume();
      return reply(res, 404, errorBody(404));
    }
    let params: BotApiParams;
    try {
      params = await readParams(req, url, LIMITS.uploadBytes);
    } catch (error) {
      if (error instanceof BodyTooLargeError) return reply(res, 413, errorBody(413));
      return reply(res, 400, errorBody(400, `Bad Request: ${(error as Error).message}`));
    }
    calls.push({ method, params: params.values() });

    const fault = faults.next(method);
    if (fault?.kind === 'disconnect') return void req.socket.destroy();
    if (fault?.kind === 'error') return reply(res, fault.status, fault.body);
    if (fault?.kind === 'delay') await sleep(fault.delayMs, undefined, { signal: closing.signal }).catch(() => undefined);

    try {
      const result = await methods[method]!(params, req, res);
      reply(res, 200, { ok: true, result });
    } catch (error) {
      if (error instanceof ApiError) return reply(res, error.status, errorBody(error.status, error.description));
      if (error instanceof Error && error.message.startsWith("can't parse")) return reply(res, 400, errorBody(400, `Bad Request: ${error.message}`));
      throw error;
    }
  }

  async function serveFile(req: IncomingMessage, res: ServerResponse, givenToken: string, path: string): Promise<void> {
    req.resume();
    const fault = faults.next('file');
    if (fault?.kind === 'disconnect') return void req.socket.destroy();
    if (fault?.kind === 'error') return reply(res, fault.status, fault.body);
    if (fault?.kind === 'delay') await sleep(fault.delayMs, undefined, { signal: closing.signal }).catch(() => undefined);
    const file = givenToken === token ? state.fileAt(path) : undefined;
    if (!file) return reply(res, 404, errorBody(404));
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(file.data.length) });
    res.end(file.data);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) reply(res, 500, errorBody(500));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closed: Promise<void> | undefined;

  return {
    url: `http://${host}:${address.port}`,
    token,
    bot,
    privateChat: (profile) => state.privateChat(profile),
    group: (input) => state.group(input),
    redeliver: (updateId) => state.updates.redeliver(updateId),
    pendingUpdates: () => state.updates.pending(),
    sent: (chatId) => state.sent(chatId),
    waitForSent: (predicate, timeoutMs = 5000) =>
      waitForMatch({ find: () => state.sent().find(predicate), subscribe: (wake) => state.onSent(wake), timeoutMs, what: 'bot message' }),
    chatActions: (chatId) => state.chatActions(chatId),
    answeredCallbacks: () => state.answeredCallbacks(),
    webhookInfo,
    calls: (method) => (method === undefined ? [...calls] : calls.filter((call) => call.method === method)),
    failNext: (fault) => faults.add(fault),
    clearFaults: () => faults.clear(),
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing.abort();
        webhook.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

function validateInlineKeyboard(rows: InlineKeyboardButton[][]): void {
  if (!Array.isArray(rows) || !rows.every(Array.isArray)) {
    throw new ApiError(400, 'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays');
  }
  const buttons = rows.flat();
  if (buttons.length > LIMITS.buttons) throw new ApiError(400, 'Bad Request: reply markup is too long');
  for (const button of buttons) {
    if (typeof button?.text !== 'string' || button.text === '') throw new ApiError(400, 'Bad Request: text buttons are unallowed in the inline keyboard');
    if ('url' in button) {
      if (!/^(https?|tg):\/\/\S+$/.test(button.url)) {
        throw new ApiError(400, `Bad Request: inline keyboard button URL '${button.url}' is invalid: Wrong HTTP URL`);
      }
    } else if ('callback_data' in button) {
      const bytes = Buffer.byteLength(button.callback_data);
      if (bytes < 1 || bytes > LIMITS.callbackData) throw new ApiError(400, 'Bad Request: BUTTON_DATA_INVALID');
    } else {
      throw new ApiError(400, 'Bad Request: inline keyboard button must have one of url or callback_data');
    }
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}
