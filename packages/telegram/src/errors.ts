/**
 * Telegram failures → Parley's error family. This table decides what the agent sees: a
 * `RetryableError` makes core try again later (honouring `retryAfterMs`); a `PermanentError`
 * ends the delivery and its message becomes the text of the Failed receipt in Genesys.
 *
 * Telegram puts the bot token in every request URL, and the errors of the HTTP stack quote that
 * URL. So no error of grammY or node is ever passed on as a `cause`: only a sanitised reason.
 */
import { GrammyError, HttpError } from 'grammy';
import { ParleyError, PermanentError, RetryableError, type GenesysReasonCode } from '@parley/core';

/** What Telegram answers on failure (`ok: false`), as grammY exposes it. */
export interface TelegramFailure {
  status: number;
  description: string;
  retryAfterSeconds?: number;
  migrateToChatId?: number;
}

/** Maps any failure of a Bot API call `method` (grammY error, network error) to a Parley error. */
export function telegramError(method: string, error: unknown, redact: Redactor): ParleyError {
  if (error instanceof ParleyError) return error;
  if (error instanceof GrammyError) {
    return telegramFailure(method, {
      status: error.error_code,
      description: error.description,
      ...(typeof error.parameters.retry_after === 'number' ? { retryAfterSeconds: error.parameters.retry_after } : {}),
      ...(typeof error.parameters.migrate_to_chat_id === 'number'
        ? { migrateToChatId: error.parameters.migrate_to_chat_id }
        : {}),
    });
  }
  const cause = error instanceof HttpError ? error.error : error;
  return networkError(method, cause, redact);
}

/** Maps an answer of Telegram with `ok: false` (or an HTTP error status) for `method`. */
export function telegramFailure(method: string, failure: TelegramFailure): ParleyError {
  const { status, description } = failure;
  const details = { method, status, description };
  const permanent = (message: string, reasonCode: GenesysReasonCode) =>
    new PermanentError('PLATFORM_REJECTED', message, { details, reasonCode });

  if (status === 429) {
    return new RetryableError('PLATFORM_RATE_LIMITED', 'Telegram is rate limiting the bot', {
      details,
      ...(failure.retryAfterSeconds !== undefined && failure.retryAfterSeconds >= 0
        ? { retryAfterMs: failure.retryAfterSeconds * 1000 }
        : {}),
    });
  }
  // 409 on getUpdates/setWebhook: another instance polls, or a webhook is set; it may clear up.
  if (status >= 500 || status === 409) {
    return new RetryableError('PLATFORM_UNAVAILABLE', `Telegram failed with HTTP ${status}: ${description}`, { details });
  }
  if (status === 401) {
    // Not retryable: a wrong token stays wrong until an operator fixes the configuration.
    return permanent('Telegram rejected the bot token (check the token option)', 'GeneralError');
  }
  if (status === 404) {
    return permanent('Telegram does not know this bot or method (check the token and apiRoot options)', 'GeneralError');
  }
  if (status === 413) return permanent('The file is too large for Telegram', 'InvalidMediaContentLength');
  if (status === 403) return forbidden(description, permanent);
  if (status === 400) return badRequest(method, failure, permanent);
  return permanent(`Telegram rejected the request: ${description}`, 'GeneralError');
}

type Permanent = (message: string, reasonCode: GenesysReasonCode) => PermanentError;

function forbidden(description: string, permanent: Permanent): PermanentError {
  const text = description.toLowerCase();
  if (text.includes('blocked by the user')) return permanent('The customer has blocked the bot on Telegram', 'RecipientOptedOut');
  if (text.includes('user is deactivated')) return permanent('The customer\'s Telegram account was deleted', 'RecipientOptedOut');
  if (text.includes("can't initiate conversation")) {
    return permanent('The customer has not started a chat with the bot on Telegram', 'InvalidDestination');
  }
  if (text.includes('kicked') || text.includes('not a member') || text.includes('removed')) {
    return permanent('The bot is no longer a member of this Telegram chat', 'InvalidDestination');
  }
  if (text.includes('not enough rights')) return permanent('The bot may not post in this Telegram chat', 'MessageNotAllowed');
  return permanent(`Telegram refused the message: ${description}`, 'MessageNotAllowed');
}

function badRequest(method: string, failure: TelegramFailure, permanent: Permanent): PermanentError {
  const text = failure.description.toLowerCase();
  if (failure.migrateToChatId !== undefined) {
    return permanent(
      `The Telegram group became a supergroup (new chat id ${failure.migrateToChatId}); the customer must write again`,
      'InvalidDestination',
    );
  }
  if (text.includes('chat not found') || text.includes('peer_id_invalid') || text.includes('user not found')) {
    return permanent('The Telegram chat was not found (the customer id no longer reaches a chat)', 'InvalidDestination');
  }
  if (text.includes('too long') || text.includes('text is empty')) {
    return permanent(`Telegram refused the message text: ${failure.description}`, 'InvalidMessageStructure');
  }
  if (text.includes('file is too big') || text.includes('too large')) {
    return permanent('The file is too large for Telegram', 'InvalidMediaContentLength');
  }
  if (text.includes('button') || text.includes('reply markup') || text.includes('keyboard')) {
    return permanent(`Telegram refused the buttons: ${failure.description}`, 'InvalidMessageStructure');
  }
  if (method === 'getFile' || text.includes('wrong file') || text.includes('file_id')) {
    return new PermanentError('MEDIA_INVALID', `The file is not available on Telegram: ${failure.description}`, {
      details: { method, status: failure.status, description: failure.description },
      reasonCode: 'MediaTypeNotAllowed',
    });
  }
  if (/photo|image|video|audio|document|media|dimensions/.test(text)) {
    return permanent(`Telegram refused the file: ${failure.description}`, 'MediaTypeNotAllowed');
  }
  return permanent(`Telegram rejected the message: ${failure.description}`, 'GeneralError');
}

/** A failed download from Telegram's file server (`/file/bot<token>/<path>`). */
export function fileDownloadError(status: number): ParleyError {
  const details = { method: 'file download', status };
  if (status === 429 || status >= 500) {
    return new RetryableError('PLATFORM_UNAVAILABLE', `Telegram's file server failed with HTTP ${status}`, { details });
  }
  return new PermanentError('MEDIA_INVALID', `The file is no longer available on Telegram (HTTP ${status})`, {
    details,
    reasonCode: 'MessageExpired',
  });
}

/** A call that got no answer from Telegram (refused, reset, timed out): always worth another try. */
export function networkError(method: string, cause: unknown, redact: Redactor): RetryableError {
  return new RetryableError('PLATFORM_UNAVAILABLE', `Telegram could not be reached (${method}): ${reasonOf(cause, redact)}`, {
    details: { method },
  });
}

/** Removes secrets from a text before it leaves the connector. */
export type Redactor = (text: string) => string;

/** A {@link Redactor} for the bot token (and its secret half, which is the part that matters). */
export function tokenRedactor(token: string): Redactor {
  const secretHalf = token.slice(token.indexOf(':') + 1);
  const needles = [token, encodeURIComponent(token), secretHalf].filter((needle) => needle.length >= 6);
  return (text) => needles.reduce((result, needle) => result.split(needle).join('<token>'), text);
}

function reasonOf(cause: unknown, redact: Redactor): string {
  if (typeof cause === 'object' && cause !== null) {
    const { name, code, message } = cause as { name?: unknown; code?: unknown; message?: unknown };
    if (name === 'AbortError' || name === 'TimeoutError') return 'no answer in time';
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
    if (typeof message === 'string') return redact(message);
  }
  return redact(String(cause));
}
