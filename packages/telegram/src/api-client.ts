/**
 * The Telegram Bot API through grammY. Every failure leaves this module as a Parley error (see
 * `errors.ts`), so callers never interpret Telegram's answers themselves. The bot token is part
 * of every Bot API URL: it stays inside this module and grammY, and is scrubbed from every error.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Api, Bot, InputFile } from 'grammy';
import type {
  InlineKeyboardMarkup,
  Message,
  ReplyKeyboardMarkup,
  ReplyKeyboardRemove,
  ReplyParameters,
  Update,
  UserFromGetMe,
} from 'grammy/types';
import type { DownloadedMedia, MediaContent } from '@parley/core';
import { fileDownloadError, networkError, telegramError, telegramFailure, tokenRedactor, type Redactor } from './errors.js';

/** What the client needs: where the Bot API is, the token, and how long to wait. */
export interface TelegramApiOptions {
  token: string;
  /** Bot API base URL without a trailing slash. */
  apiRoot: string;
  /** Longest wait for an answer to one call (beyond a long poll's own timeout), in ms. */
  requestTimeoutMs: number;
  /** How long one getUpdates call waits for updates, in seconds. */
  pollTimeoutSeconds: number;
}

/** The update types the connector asks Telegram for; others are never delivered. */
export const ALLOWED_UPDATES = ['message', 'edited_message', 'callback_query'] as const;

/** How an uploaded file is shown: each has its own Bot API method. */
export type FileKind = 'photo' | 'video' | 'audio' | 'document' | 'animation' | 'voice';

/** What may accompany a text or a file. */
export interface SendExtras {
  reply_markup?: InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove;
  reply_parameters?: ReplyParameters;
}

/** The Bot API calls the connector makes; each failure is a Parley error. */
export interface TelegramApi {
  /** The grammY bot. Its middleware handles every update, from the webhook and from polling. */
  readonly bot: Bot;
  getMe(signal?: AbortSignal): Promise<UserFromGetMe>;
  /** Long-polls for updates from `offset` on; confirms every update below it. */
  getUpdates(offset: number, signal: AbortSignal): Promise<Update[]>;
  setWebhook(url: string, options: { secretToken: string; maxConnections: number }, signal?: AbortSignal): Promise<void>;
  /** Removes the webhook (keeping pending updates) so that getUpdates works. */
  deleteWebhook(signal?: AbortSignal): Promise<void>;
  sendText(chatId: number, text: string, extras?: SendExtras): Promise<Message>;
  sendFile(chatId: number, kind: FileKind, file: DownloadedMedia, caption?: string, extras?: SendExtras): Promise<Message>;
  sendChatAction(chatId: number, action: 'typing'): Promise<void>;
  /** Stops the button's spinner; `text` shows the presser a short notice. */
  answerCallbackQuery(callbackQueryId: string, text?: string): Promise<void>;
  /** Streams a file the customer sent: `getFile`, then `/file/bot<token>/<path>`. */
  openFile(fileId: string): Promise<MediaContent>;
  /** Closes idle and open connections. A later call opens new ones. */
  close(): Promise<void>;
}

/** The AbortSignal type grammY's methods declare. */
type GrammySignal = NonNullable<Parameters<Bot['api']['raw']['getMe']>[0]>;

/** Creates the client. Does no I/O until the first call. */
export function createTelegramApi(options: TelegramApiOptions): TelegramApi {
  const { token, apiRoot, requestTimeoutMs } = options;
  const redact: Redactor = tokenRedactor(token);
  const secure = apiRoot.startsWith('https:');
  // Our own agent (grammY would keep a process-wide one): stop() can close its sockets.
  const agent = secure ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  const client = { apiRoot, baseFetchConfig: { agent, ...(secure ? { compress: true } : {}) } };
  // grammY enforces the deadline of each call (timeoutSeconds) and clears it when the answer
  // comes. A long poll waits longer than any other call, so it has a client of its own.
  const bot = new Bot(token, { client: { ...client, timeoutSeconds: requestTimeoutMs / 1000 } });
  const raw = bot.api.raw;
  const polling = new Api(token, { ...client, timeoutSeconds: options.pollTimeoutSeconds + requestTimeoutMs / 1000 }).raw;

  async function call<T>(method: string, run: (signal: GrammySignal | undefined) => Promise<T>, stop?: AbortSignal): Promise<T> {
    try {
      // grammY types its signal with the abort-controller polyfill; it accepts any AbortSignal.
      return await run(stop as unknown as GrammySignal | undefined);
    } catch (error) {
      throw telegramError(method, error, redact);
    }
  }

  return {
    bot,
    getMe: (stop) => call('getMe', (signal) => raw.getMe(signal), stop),
    getUpdates: (offset, stop) =>
      call(
        'getUpdates',
        (signal) =>
          polling.getUpdates({ offset, timeout: options.pollTimeoutSeconds, allowed_updates: [...ALLOWED_UPDATES] }, signal),
        stop,
      ),
    async setWebhook(url, { secretToken, maxConnections }, stop) {
      await call(
        'setWebhook',
        (signal) =>
          raw.setWebhook(
            { url, secret_token: secretToken, max_connections: maxConnections, allowed_updates: [...ALLOWED_UPDATES] },
            signal,
          ),
        stop,
      );
    },
    async deleteWebhook(stop) {
      await call('deleteWebhook', (signal) => raw.deleteWebhook({ drop_pending_updates: false }, signal), stop);
    },
    sendText: (chatId, text, extras = {}) => call('sendMessage', (signal) => raw.sendMessage({ chat_id: chatId, text, ...extras }, signal)),
    sendFile(chatId, kind, file, caption, extras = {}) {
      const input = new InputFile(file.data, file.filename);
      const common = { chat_id: chatId, ...(caption ? { caption } : {}), ...extras };
      switch (kind) {
        case 'photo':
          return call('sendPhoto', (signal) => raw.sendPhoto({ ...common, photo: input }, signal));
        case 'video':
          return call('sendVideo', (signal) => raw.sendVideo({ ...common, video: input }, signal));
        case 'audio':
          return call('sendAudio', (signal) => raw.sendAudio({ ...common, audio: input }, signal));
        case 'animation':
          return call('sendAnimation', (signal) => raw.sendAnimation({ ...common, animation: input }, signal));
        case 'voice':
          return call('sendVoice', (signal) => raw.sendVoice({ ...common, voice: input }, signal));
        case 'document':
          return call('sendDocument', (signal) => raw.sendDocument({ ...common, document: input }, signal));
      }
    },
    async sendChatAction(chatId, action) {
      await call('sendChatAction', (signal) => raw.sendChatAction({ chat_id: chatId, action }, signal));
    },
    async answerCallbackQuery(callbackQueryId, text) {
      await call('answerCallbackQuery', (signal) =>
        raw.answerCallbackQuery({ callback_query_id: callbackQueryId, ...(text ? { text } : {}) }, signal),
      );
    },
    async openFile(fileId) {
      const file = await call('getFile', (signal) => raw.getFile({ file_id: fileId }, signal));
      if (!file.file_path) {
        throw telegramFailure('getFile', { status: 400, description: 'Bad Request: the file has no download path' });
      }
      const path = file.file_path.split('/').map(encodeURIComponent).join('/');
      const response = await download(`${apiRoot}/file/bot${token}/${path}`);
      const type = String(response.headers['content-type'] ?? '').split(';')[0]?.trim();
      const length = Number(response.headers['content-length'] ?? file.file_size);
      return {
        body: response,
        // Telegram's file server often says octet-stream; then the type published with the URL wins.
        ...(type && type !== 'application/octet-stream' ? { mime: type } : {}),
        ...(Number.isFinite(length) ? { sizeBytes: length } : {}),
      };
    },
    async close() {
      agent.destroy();
    },
  };

  /**
   * GET on the file server with the bot's agent; resolves once the headers said 200. The timeout
   * is an idle one: a big file may stream for long, but a stalled one ends with an error.
   */
  function download(url: string): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const request = (secure ? httpsRequest : httpRequest)(url, { method: 'GET', agent, timeout: requestTimeoutMs });
      request.on('timeout', () => request.destroy(Object.assign(new Error('timed out'), { name: 'TimeoutError' })));
      request.on('error', (error) => reject(networkError('file download', error, redact)));
      request.on('response', (response) => {
        const status = response.statusCode ?? 0;
        if (status === 200) return resolve(response);
        response.resume();
        reject(fileDownloadError(status));
      });
      request.end();
    });
  }
}
