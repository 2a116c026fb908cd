/**
 * The webhook route (`POST /connectors/<id>/webhook`): Telegram posts each update here with the
 * secret given to setWebhook in `X-Telegram-Bot-Api-Secret-Token`.
 *
 * - The secret is checked first, in constant time, before the body is even read: a request
 *   without it gets 401 and causes no work.
 * - grammY's `webhookCallback` runs the bot's middleware, which resolves once the update is
 *   durably queued for Genesys; only then does Telegram get its 200. A failure answers 500, and
 *   Telegram delivers the update again later (core's dedupe makes a second delivery a no-op).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { BotError, webhookCallback, type Bot } from 'grammy';
import type { Logger, WebhookHandler } from '@parley/core';

/** The header Telegram sends the webhook secret in. */
export const SECRET_HEADER = 'x-telegram-bot-api-secret-token';

/** Updates are a few kB; anything much bigger is not from Telegram. */
const BODY_LIMIT = '1mb';

/** What the webhook route needs from the connector. */
export interface TelegramWebhookOptions {
  bot: Bot;
  /** The secret registered with setWebhook; undefined in polling mode (every request gets 404). */
  secretToken: string | undefined;
  /** False until the bot knows who it is (getMe): until then updates get 503 and come again. */
  ready(): boolean;
  /** How long one update may take to be queued before Telegram is told to deliver it again. */
  timeoutMs: number;
  logger: Logger;
}

/** Builds the handler the host mounts at `/connectors/<id>/webhook`. */
export function createWebhookHandler(options: TelegramWebhookOptions): WebhookHandler {
  const { secretToken, logger } = options;
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');

  app.use((req: Request, res: Response, next: NextFunction) => {
    if (secretToken === undefined) {
      return void res.status(404).json({ error: 'This connector polls Telegram (mode: polling): it takes no webhooks' });
    }
    if (req.method !== 'POST') return void res.status(405).set('allow', 'POST').json({ error: 'Telegram posts updates here' });
    if (!secretMatches(req.get(SECRET_HEADER), secretToken)) {
      return void res.status(401).json({ error: 'Wrong or missing X-Telegram-Bot-Api-Secret-Token' });
    }
    if (!options.ready()) return void res.status(503).set('retry-after', '5').json({ error: 'Not ready yet' });
    next();
  });
  app.use(express.json({ limit: BODY_LIMIT, type: () => true }));
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (isUpdate(req.body)) return next();
    res.status(400).json({ error: 'The body is not a Telegram update' });
  });
  if (secretToken !== undefined) {
    app.use(webhookCallback(options.bot, 'express', { secretToken, onTimeout: 'throw', timeoutMilliseconds: options.timeoutMs }));
  }
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    // body-parser's own errors: malformed JSON (400), too large (413).
    const status = typeof error === 'object' && error !== null && 'status' in error ? Number(error.status) : 500;
    if (status < 500) {
      return void res.status(status).json({ error: status === 413 ? 'Body is over the size limit' : 'Malformed JSON' });
    }
    // A BotError carries grammY's context (and with it the API client): log only what failed.
    const cause = error instanceof BotError ? error.error : error;
    logger.warn({ err: cause }, 'Could not queue a Telegram update; Telegram will deliver it again');
    if (!res.headersSent) res.status(500).json({ error: 'The update was not queued; deliver it again' });
  });

  return (req, res, next) => app(req as Request, res as Response, next);
}

/** Constant-time comparison; hashing first makes the lengths equal without leaking them. */
function secretMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function isUpdate(body: unknown): body is { update_id: number } {
  return typeof body === 'object' && body !== null && Number.isInteger((body as { update_id?: unknown }).update_id);
}
