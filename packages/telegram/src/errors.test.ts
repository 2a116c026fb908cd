import { describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '@parley/core';
import { networkError, telegramFailure, tokenRedactor } from './errors.js';

describe('telegramFailure', () => {
  it.each([
    [403, 'Forbidden: bot was blocked by the user', 'RecipientOptedOut', /blocked the bot/],
    [403, 'Forbidden: user is deactivated', 'RecipientOptedOut', /account was deleted/],
    [403, "Forbidden: bot can't initiate conversation with a user", 'InvalidDestination', /not started a chat/],
    [403, 'Forbidden: bot was kicked from the supergroup chat', 'InvalidDestination', /no longer a member/],
    [403, 'Forbidden: not enough rights to send text messages to the chat', 'MessageNotAllowed', /may not post/],
    [400, 'Bad Request: chat not found', 'InvalidDestination', /chat was not found/],
    [400, 'Bad Request: message is too long', 'InvalidMessageStructure', /too long/],
    [400, 'Bad Request: BUTTON_DATA_INVALID', 'InvalidMessageStructure', /buttons/],
    [400, 'Bad Request: PHOTO_INVALID_DIMENSIONS', 'MediaTypeNotAllowed', /file/],
    [400, 'Bad Request: something new', 'GeneralError', /something new/],
    [413, 'Request Entity Too Large', 'InvalidMediaContentLength', /too large/],
    [401, 'Unauthorized', 'GeneralError', /token/],
  ])('%i "%s" is permanent (%s)', (status, description, reasonCode, message) => {
    const error = telegramFailure('sendMessage', { status, description });
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ reasonCode });
    expect(error.message).toMatch(message);
  });

  it('explains a group that became a supergroup', () => {
    const error = telegramFailure('sendMessage', { status: 400, description: 'Bad Request: group chat was upgraded to a supergroup chat', migrateToChatId: -1009 });
    expect(error).toMatchObject({ reasonCode: 'InvalidDestination' });
    expect(error.message).toContain('-1009');
  });

  it('retries flood control after retry_after, and outages and conflicts with backoff', () => {
    expect(telegramFailure('sendMessage', { status: 429, description: 'Too Many Requests: retry after 3', retryAfterSeconds: 3 })).toMatchObject({
      code: 'PLATFORM_RATE_LIMITED',
      retryAfterMs: 3000,
    });
    for (const status of [500, 502, 409]) {
      expect(telegramFailure('getUpdates', { status, description: 'x' })).toBeInstanceOf(RetryableError);
    }
  });
});

describe('secrets', () => {
  it('redacts the token, and its secret half, from any text', () => {
    const redact = tokenRedactor('123456:AAHsecretPart_xyz');
    expect(redact('request to http://h/bot123456:AAHsecretPart_xyz/sendMessage failed')).toBe('request to http://h/bot<token>/sendMessage failed');
    expect(redact('...AAHsecretPart_xyz...')).toBe('...<token>...');
  });

  it('names network failures by their code, without the URL', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED http://h/bot123456:AAHsecretPart_xyz/getMe'), { code: 'ECONNREFUSED' });
    const error = networkError('getMe', cause, tokenRedactor('123456:AAHsecretPart_xyz'));
    expect(error.message).toBe('Telegram could not be reached (getMe): ECONNREFUSED');
    expect(error.cause).toBeUndefined();
  });
});
