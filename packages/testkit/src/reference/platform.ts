/**
 * The reference chat platform: a tiny Telegram-like chat service on 127.0.0.1 that the reference
 * connector talks to, the conformance suite drives, and `pnpm start` runs in demo mode.
 *
 * Bot API (every call needs `Authorization: Bearer <token>`, else 401):
 * - `GET  /bot/updates?offset=N&timeout=S`  long polling; confirms updates below N
 * - `POST /bot/messages`                     send text, buttons and/or one attachment
 * - `POST /bot/typing`                       show "typing…" to the customer
 * - `GET  /bot/files/:fileId`                the bytes of a file
 * - `POST /bot/callbacks/:callbackId/answer` stop the spinner of a pressed button
 *
 * Customer API (no auth; the demo's stand-in for a phone app):
 * - `POST /customers/:chatId/messages { text, name? }` and `GET /customers/:chatId/messages`
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { FailurePlan, type PlatformFailure, type PlatformMethod } from './platform-faults.js';
import { PlatformState, type CustomerHandle, type CustomerProfile, type SentMessage } from './platform-state.js';
import { MAX_MESSAGE_LENGTH, type PlatformErrorBody, type Update } from './protocol.js';
import { waitForMatch } from '../wait-for-match.js';

export type { CustomerHandle, CustomerProfile, CustomerFile, SentMessage } from './platform-state.js';
export type { PlatformFailure, PlatformMethod } from './platform-faults.js';

export interface ReferencePlatformOptions {
  /** Default 0: a free port. */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
  /** The bot token; default a random one. */
  token?: string;
  /** Longest `timeout` a poll may ask for, in seconds. Default 50 (Telegram's). */
  maxPollSeconds?: number;
  /**
   * How long a sent message takes to be acknowledged, in ms (default 0). The message counts as
   * delivered when the request arrives, like on a real platform, so a bot that dies during this
   * window has sent it without knowing: the window crash tests need.
   */
  sendLatencyMs?: number;
}

export interface ReferencePlatform {
  /** Base URL, e.g. `http://127.0.0.1:PORT`: the connector's `apiUrl`. */
  readonly url: string;
  /** The bot token the Bot API accepts. */
  readonly token: string;
  /** The customer side of chat `chatId` (created on first use). */
  customer(chatId: string | number, profile?: CustomerProfile): CustomerHandle;
  /** Queues an already delivered (even confirmed) update again: a platform-side duplicate. */
  redeliver(updateId: number): Update;
  /** Updates not yet confirmed by the bot. */
  pendingUpdates(): Update[];
  /** Bot messages received, in order, with decoded attachment bytes and buttons. */
  sent(chatId?: string | number): SentMessage[];
  /** The first bot message (past or future) matching `predicate`; rejects after `timeoutMs` (default 5000). */
  waitForSent(predicate: (message: SentMessage) => boolean, timeoutMs?: number): Promise<SentMessage>;
  /** How often the bot showed "typing…" in `chatId`. */
  typingShown(chatId: string | number): number;
  /** Ids of the button callbacks the bot answered, in order. */
  answeredCallbacks(): string[];
  /** Makes the next call(s) of a Bot API method fail. */
  failNext(failure: PlatformFailure): void;
  close(): Promise<void>;
}

const buttonSchema = z
  .object({ text: z.string().min(1), payload: z.string().min(1).optional(), url: z.url().optional() })
  .refine((button) => (button.payload === undefined) !== (button.url === undefined), {
    message: 'a button needs exactly one of payload and url',
  });

const sendMessageSchema = z.object({
  chatId: z.union([z.string().min(1), z.number()]).transform(String),
  text: z.string().max(MAX_MESSAGE_LENGTH, 'message is too long').optional(),
  replyMarkup: z.object({ buttons: z.array(buttonSchema).max(100) }).optional(),
  attachment: z
    .object({ filename: z.string().min(1), mime: z.string().min(1), dataBase64: z.base64() })
    .optional(),
});

const chatIdSchema = z.object({ chatId: z.union([z.string().min(1), z.number()]).transform(String) });

/** Starts the reference platform on 127.0.0.1 (or `host`). */
export async function startReferencePlatform(options: ReferencePlatformOptions = {}): Promise<ReferencePlatform> {
  const token = options.token ?? `ref-${randomBytes(12).toString('hex')}`;
  const maxPollSeconds = options.maxPollSeconds ?? 50;
  const state = new PlatformState();
  const failures = new FailurePlan();
  // Aborted on close so that waiting long polls answer at once instead of holding the server open.
  const closing = new AbortController();

  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '60mb' }));

  const fail = (res: Response, status: number, body: PlatformErrorBody) => void res.status(status).json(body);

  const bot = express.Router();
  bot.use((req, res, next) => {
    if (req.headers.authorization !== `Bearer ${token}`) return fail(res, 401, { error: 'unauthorized' });
    next();
  });
  const failureFor = (method: PlatformMethod) => (_req: Request, res: Response, next: NextFunction) => {
    const failure = failures.next(method);
    if (!failure) return next();
    res.set(failure.headers);
    fail(res, failure.status, failure.body);
  };

  bot.get('/updates', failureFor('updates'), async (req, res) => {
    const offset = Number(req.query['offset'] ?? 0);
    const timeout = Math.min(Number(req.query['timeout'] ?? 0), maxPollSeconds);
    if (!Number.isFinite(offset) || !Number.isFinite(timeout) || timeout < 0) {
      return fail(res, 400, { error: 'bad request', description: 'offset and timeout must be numbers' });
    }
    let updates = state.updates.take(offset);
    if (updates.length === 0 && timeout > 0) {
      const gone = new AbortController();
      res.on('close', () => gone.abort());
      await state.updates.waitForPush(timeout * 1000, AbortSignal.any([gone.signal, closing.signal]));
      updates = state.updates.take(offset);
    }
    if (!res.writableEnded && !res.destroyed) res.json({ updates });
  });

  bot.post('/messages', failureFor('messages'), (req, res) => {
    const parsed = sendMessageSchema.safeParse(req.body);
    if (!parsed.success) {
      return fail(res, 400, { error: 'bad request', description: parsed.error.issues[0]?.message ?? 'invalid body' });
    }
    const { chatId, text, replyMarkup, attachment } = parsed.data;
    if (!text && !attachment) return fail(res, 400, { error: 'bad request', description: 'message text is empty' });
    if (!state.hasChat(chatId)) return fail(res, 404, { error: 'chat not found' });
    const message = state.addBotMessage({
      chatId,
      ...(text !== undefined ? { text } : {}),
      buttons: replyMarkup?.buttons ?? [],
      ...(attachment
        ? { attachment: { filename: attachment.filename, mime: attachment.mime, data: Buffer.from(attachment.dataBase64, 'base64') } }
        : {}),
    });
    if (options.sendLatencyMs) setTimeout(() => res.json({ message }), options.sendLatencyMs);
    else res.json({ message });
  });

  bot.post('/typing', failureFor('typing'), (req, res) => {
    const parsed = chatIdSchema.safeParse(req.body);
    if (!parsed.success) return fail(res, 400, { error: 'bad request', description: 'chatId is required' });
    if (!state.hasChat(parsed.data.chatId)) return fail(res, 404, { error: 'chat not found' });
    state.showTyping(parsed.data.chatId);
    res.json({ ok: true });
  });

  bot.get('/files/:fileId', failureFor('files'), (req: Request<{ fileId: string }>, res) => {
    const file = state.file(req.params.fileId);
    if (!file) return fail(res, 404, { error: 'file not found' });
    res.status(200).type(file.meta.mime).set('content-length', String(file.data.length)).end(file.data);
  });

  bot.post('/callbacks/:callbackId/answer', (req: Request<{ callbackId: string }>, res) => {
    if (!state.answerCallback(req.params.callbackId)) return fail(res, 404, { error: 'callback not found' });
    res.json({ ok: true });
  });

  app.use('/bot', bot);

  app.post('/customers/:chatId/messages', (req: Request<{ chatId: string }>, res) => {
    const body = z.object({ text: z.string().min(1), name: z.string().min(1).optional() }).safeParse(req.body);
    if (!body.success) return fail(res, 400, { error: 'bad request', description: 'text is required' });
    const customer = state.customer(req.params.chatId, body.data.name ? { name: body.data.name } : {});
    res.status(201).json({ update: customer.sendText(body.data.text) });
  });

  app.get('/customers/:chatId/messages', (req: Request<{ chatId: string }>, res) => {
    res.json({ messages: state.botMessages(req.params.chatId) });
  });

  app.use((_req: Request, res: Response) => fail(res, 404, { error: 'not found' }));
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = typeof error === 'object' && error !== null && 'status' in error ? Number(error.status) : 500;
    fail(res, status, { error: status === 413 ? 'request too large' : status < 500 ? 'bad request' : 'internal error' });
  });

  const server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;

  let closed: Promise<void> | undefined;

  return {
    url,
    token,
    customer: (chatId, profile) => state.customer(String(chatId), profile),
    redeliver: (updateId) => state.updates.redeliver(updateId),
    pendingUpdates: () => state.updates.pending(),
    sent: (chatId) => state.sent(chatId === undefined ? undefined : String(chatId)),
    waitForSent: (predicate, timeoutMs = 5000) =>
      waitForMatch({ find: () => state.sent().find(predicate), subscribe: (wake) => state.onSent(wake), timeoutMs, what: 'bot message' }),
    typingShown: (chatId) => state.typingShown(String(chatId)),
    answeredCallbacks: () => state.answeredCallbacks(),
    failNext: (failure) => failures.add(failure),
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing.abort();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
