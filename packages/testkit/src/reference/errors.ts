/**
 * Platform failures → Parley's error family. This table decides what the agent sees: a
 * `RetryableError` makes core try again later (honouring `retryAfterMs`); a `PermanentError`
 * ends the delivery and its message becomes the text of the Failed receipt in Genesys.
 */
import { ParleyError, PermanentError, RetryableError } from '@parley/core';
import type { PlatformErrorBody } from './protocol.js';

/** The Bot API call that failed; 404 means something different for each. */
export type ApiCall = 'updates' | 'messages' | 'typing' | 'files' | 'callbacks';

/** Maps an HTTP error answer of the platform. */
export function platformError(
  call: ApiCall,
  status: number,
  body: Partial<PlatformErrorBody> | undefined,
  retryAfterHeader?: string,
): ParleyError {
  const details = { call, status, error: body?.error };
  const description = body?.description ?? body?.error ?? `HTTP ${status}`;

  if (status === 429) {
    const seconds = body?.retryAfter ?? Number(retryAfterHeader);
    return new RetryableError('PLATFORM_RATE_LIMITED', 'The platform is rate limiting the bot', {
      details,
      ...(Number.isFinite(seconds) && seconds >= 0 ? { retryAfterMs: seconds * 1000 } : {}),
    });
  }
  if (status >= 500) {
    return new RetryableError('PLATFORM_UNAVAILABLE', `The platform failed with HTTP ${status}: ${description}`, {
      details,
    });
  }
  if (status === 401) {
    // Not retryable: a wrong token stays wrong until an operator fixes the configuration.
    return new PermanentError('PLATFORM_REJECTED', 'The platform rejected the bot token (check the token option)', {
      details,
    });
  }
  if (status === 403) {
    return new PermanentError('PLATFORM_REJECTED', 'The customer has blocked the bot', {
      details,
      reasonCode: 'RecipientOptedOut',
    });
  }
  if (status === 404) {
    if (call === 'files') return new PermanentError('MEDIA_INVALID', 'The file no longer exists on the platform', { details });
    if (call === 'callbacks') return new PermanentError('PLATFORM_REJECTED', 'The button press is unknown or too old', { details });
    return new PermanentError('PLATFORM_REJECTED', 'Chat not found', { details, reasonCode: 'InvalidDestination' });
  }
  return new PermanentError('PLATFORM_REJECTED', `The platform rejected the message: ${description}`, {
    details,
    reasonCode: 'GeneralError',
  });
}

/** A request that got no HTTP answer (refused, reset, timed out): always worth another try. */
export function networkError(call: ApiCall, cause: unknown): RetryableError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new RetryableError('PLATFORM_UNAVAILABLE', `The platform could not be reached: ${reason}`, {
    cause,
    details: { call },
  });
}
