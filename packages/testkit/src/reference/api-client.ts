/**
 * A thin client of the reference platform's Bot API (undici). Every failure leaves it as a Parley
 * error (see `errors.ts`), so callers never interpret HTTP statuses themselves. The bot token
 * travels only in the Authorization header: it is never part of a URL, an error or a log line.
 */
import type { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import { networkError, platformError, type ApiCall } from './errors.js';
import type { BotMessage, PlatformErrorBody, SendMessageRequest, SendMessageResponse, Update, UpdatesResponse } from './protocol.js';

export interface ReferenceApiOptions {
  apiUrl: string;
  token: string;
  /** Longest wait for an answer (beyond a poll's own timeout), in ms. */
  requestTimeoutMs: number;
}

/** A platform file, opened for streaming. */
export interface OpenedFile {
  body: Readable;
  mime?: string;
  sizeBytes?: number;
}

export interface ReferenceApi {
  /** Long-polls for updates from `offset` on; confirms every update below it. */
  getUpdates(offset: number, timeoutSeconds: number, signal: AbortSignal): Promise<Update[]>;
  sendMessage(message: SendMessageRequest): Promise<BotMessage>;
  sendTyping(chatId: string): Promise<void>;
  answerCallback(callbackId: string): Promise<void>;
  openFile(fileId: string): Promise<OpenedFile>;
  /** Closes idle connections; waits for requests in flight. A later call opens new ones. */
  close(): Promise<void>;
}

/** Creates the Bot API client. Does no I/O until the first call. */
export function createReferenceApi(options: ReferenceApiOptions): ReferenceApi {
  const base = options.apiUrl.replace(/\/+$/, '');
  // Created on first use and dropped on close, so the client works again after a restart.
  let agent: Agent | undefined;
  const dispatcher = (): Dispatcher => (agent ??= new Agent({ keepAliveTimeout: 30_000 }));

  async function call(
    name: ApiCall,
    method: 'GET' | 'POST',
    path: string,
    init: { body?: unknown; signal?: AbortSignal; waitMs?: number } = {},
  ): Promise<Dispatcher.ResponseData> {
    const timeoutMs = options.requestTimeoutMs + (init.waitMs ?? 0);
    let response: Dispatcher.ResponseData;
    try {
      response = await request(`${base}${path}`, {
        method,
        dispatcher: dispatcher(),
        headers: {
          authorization: `Bearer ${options.token}`,
          ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
        ...(init.signal ? { signal: init.signal } : {}),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
    } catch (error) {
      if (init.signal?.aborted) throw error;
      throw networkError(name, error);
    }
    if (response.statusCode >= 400) {
      const body = (await response.body.json().catch(() => undefined)) as Partial<PlatformErrorBody> | undefined;
      const retryAfter = response.headers['retry-after'];
      throw platformError(name, response.statusCode, body, Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
    }
    return response;
  }

  async function json<T>(name: ApiCall, response: Dispatcher.ResponseData): Promise<T> {
    try {
      return (await response.body.json()) as T;
    } catch (error) {
      throw networkError(name, error);
    }
  }

  return {
    async getUpdates(offset, timeoutSeconds, signal) {
      const query = new URLSearchParams({ offset: String(offset), timeout: String(timeoutSeconds) });
      const response = await call('updates', 'GET', `/bot/updates?${query}`, { signal, waitMs: timeoutSeconds * 1000 });
      return (await json<UpdatesResponse>('updates', response)).updates;
    },
    async sendMessage(message) {
      const response = await call('messages', 'POST', '/bot/messages', { body: message });
      return (await json<SendMessageResponse>('messages', response)).message;
    },
    async sendTyping(chatId) {
      await (await call('typing', 'POST', '/bot/typing', { body: { chatId } })).body.dump();
    },
    async answerCallback(callbackId) {
      await (await call('callbacks', 'POST', `/bot/callbacks/${encodeURIComponent(callbackId)}/answer`, { body: {} })).body.dump();
    },
    async openFile(fileId) {
      const response = await call('files', 'GET', `/bot/files/${encodeURIComponent(fileId)}`);
      const type = response.headers['content-type'];
      const length = Number(response.headers['content-length']);
      return {
        body: response.body,
        ...(typeof type === 'string' ? { mime: type.split(';')[0]!.trim() } : {}),
        ...(Number.isFinite(length) ? { sizeBytes: length } : {}),
      };
    },
    async close() {
      const closing = agent;
      agent = undefined;
      await closing?.close();
    },
  };
}
