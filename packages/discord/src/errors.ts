/**
 * Discord failures → Parley's error family. This table decides what the agent sees: a
 * `RetryableError` makes core try again later (honouring `retryAfterMs`); a `PermanentError`
 * ends the delivery and its message becomes the text of the Failed receipt in Genesys.
 *
 * The raw discord.js errors are never attached as `cause`: they carry the request body (the
 * customer's message, file bytes) and would put it in every log line that serialises the error.
 */
import { ParleyError, PermanentError, RetryableError, type GenesysReasonCode } from '@parley/core';
import { DiscordAPIError, HTTPError, RateLimitError, RESTJSONErrorCodes } from 'discord.js';

/** The REST call that failed; some codes mean something different for each. */
export type ApiCall = 'send' | 'typing' | 'open-dm' | 'channel' | 'history' | 'thread' | 'interaction' | 'file';

interface PermanentRule {
  reasonCode: GenesysReasonCode;
  message: string;
}

/** Discord JSON error codes an agent can act on, with what the Failed receipt says. */
const PERMANENT_CODES = new Map<number, PermanentRule>([
  [
    RESTJSONErrorCodes.CannotSendMessagesToThisUser,
    {
      reasonCode: 'RecipientOptedOut',
      message:
        'Discord does not let the bot message this customer (they blocked it, left every server shared with it, or turned off direct messages)',
    },
  ],
  [
    RESTJSONErrorCodes.UnknownChannel,
    { reasonCode: 'InvalidDestination', message: 'The Discord channel no longer exists or the bot cannot see it' },
  ],
  [RESTJSONErrorCodes.UnknownUser, { reasonCode: 'InvalidDestination', message: 'The Discord user no longer exists' }],
  [
    RESTJSONErrorCodes.MissingPermissions,
    {
      reasonCode: 'MessageNotAllowed',
      message: 'The bot lacks a Discord permission in this channel (Send Messages, Send Messages in Threads or Attach Files)',
    },
  ],
  [
    RESTJSONErrorCodes.MissingAccess,
    { reasonCode: 'MessageNotAllowed', message: 'The bot has no access to this Discord channel (View Channel)' },
  ],
  [
    RESTJSONErrorCodes.ThreadLocked,
    { reasonCode: 'MessageNotAllowed', message: 'The Discord thread is locked: only moderators can write in it' },
  ],
  [
    RESTJSONErrorCodes.InvalidActionOnArchivedThread,
    { reasonCode: 'InvalidDestination', message: 'The Discord thread is archived and the bot cannot reopen it' },
  ],
  [
    RESTJSONErrorCodes.RequestEntityTooLarge,
    { reasonCode: 'InvalidMediaContentLength', message: 'The file is larger than Discord accepts from this bot' },
  ],
  [
    RESTJSONErrorCodes.InvalidFormBodyOrContentType,
    { reasonCode: 'InvalidMessageStructure', message: 'Discord rejected the message as malformed' },
  ],
  [
    RESTJSONErrorCodes.CannotSendAnEmptyMessage,
    { reasonCode: 'InvalidMessageStructure', message: 'Discord rejected an empty message' },
  ],
]);

/** Maps anything a discord.js REST call threw. */
export function discordError(call: ApiCall, error: unknown): ParleyError {
  if (error instanceof ParleyError) return error;
  if (error instanceof RateLimitError) {
    return new RetryableError('PLATFORM_RATE_LIMITED', 'Discord is rate limiting the bot', {
      retryAfterMs: Math.max(0, Math.ceil(error.retryAfter)),
      details: { call, global: error.global, scope: error.scope },
    });
  }
  if (error instanceof DiscordAPIError) return apiError(call, error);
  if (error instanceof Error && error.message.startsWith('Expected token to be set')) {
    // discord.js drops the token after Discord answered 401 once: every later call fails this way.
    return new PermanentError('PLATFORM_REJECTED', 'Discord rejected the bot token (check the token option)', {
      details: { call },
    });
  }
  if (error instanceof HTTPError) {
    return new RetryableError('PLATFORM_UNAVAILABLE', `Discord failed with HTTP ${error.status}`, {
      details: { call, status: error.status },
    });
  }
  return networkError(call, error);
}

function apiError(call: ApiCall, error: DiscordAPIError): ParleyError {
  const code = typeof error.code === 'number' ? error.code : undefined;
  const details = { call, status: error.status, discordCode: error.code };
  if (error.status === 429) {
    return new RetryableError('PLATFORM_RATE_LIMITED', 'Discord is rate limiting the bot', { details });
  }
  if (error.status >= 500) {
    return new RetryableError('PLATFORM_UNAVAILABLE', `Discord failed with HTTP ${error.status}`, { details });
  }
  if (error.status === 401) {
    // Not retryable: a wrong token stays wrong until an operator fixes the configuration.
    return new PermanentError('PLATFORM_REJECTED', 'Discord rejected the bot token (check the token option)', {
      details,
    });
  }
  const rule = code === undefined ? undefined : PERMANENT_CODES.get(code);
  if (call === 'file' && error.status === 404) {
    return new PermanentError('MEDIA_INVALID', 'The file was deleted from Discord', { details });
  }
  if (rule) return new PermanentError('PLATFORM_REJECTED', rule.message, { details, reasonCode: rule.reasonCode });
  if (code === RESTJSONErrorCodes.UnknownMessage) {
    return new PermanentError('PLATFORM_REJECTED', 'The Discord message no longer exists', {
      details,
      reasonCode: call === 'file' ? 'GeneralError' : 'InvalidDestination',
    });
  }
  return new PermanentError('PLATFORM_REJECTED', `Discord rejected the request: ${error.message}`, {
    details,
    reasonCode: 'GeneralError',
  });
}

/** A request that got no HTTP answer (refused, reset, timed out): always worth another try. */
export function networkError(call: ApiCall, cause: unknown): RetryableError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new RetryableError('PLATFORM_UNAVAILABLE', `Discord could not be reached: ${reason}`, { details: { call } });
}
