import { PermanentError, RetryableError } from '@parley/core';
import { DiscordAPIError, HTTPError, RateLimitError } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { discordError } from './errors.js';

const apiError = (status: number, code: number, message: string) =>
  new DiscordAPIError({ message, code }, code, status, 'POST', 'https://discord.com/api/v10/channels/1/messages', {
    files: undefined,
    body: { content: 'what the customer must never see in a log' },
  });

describe('discordError', () => {
  it.each([
    [403, 50007, 'RecipientOptedOut'],
    [404, 10003, 'InvalidDestination'],
    [403, 50013, 'MessageNotAllowed'],
    [403, 50001, 'MessageNotAllowed'],
    [400, 50035, 'InvalidMessageStructure'],
    [413, 40005, 'InvalidMediaContentLength'],
  ])('maps HTTP %i / Discord code %i to a Failed receipt with %s', (status, code, reasonCode) => {
    const mapped = discordError('send', apiError(status, code, 'refused'));
    expect(mapped).toBeInstanceOf(PermanentError);
    expect((mapped as PermanentError).reasonCode).toBe(reasonCode);
    expect(mapped.message).toMatch(/\S/);
    // The request body stays out of the error (and so out of every log line).
    expect(JSON.stringify({ ...mapped, message: mapped.message })).not.toContain('never see');
    expect(mapped.cause).toBeUndefined();
  });

  it('keeps an unknown refusal permanent, with what Discord said', () => {
    const mapped = discordError('send', apiError(400, 12345, 'Something odd'));
    expect(mapped).toBeInstanceOf(PermanentError);
    expect(mapped.message).toContain('Something odd');
  });

  it('makes a rate limit retryable after the wait Discord asked for', () => {
    const mapped = discordError(
      'send',
      new RateLimitError({
        timeToReset: 2500,
        limit: 5,
        method: 'POST',
        hash: 'h',
        url: 'https://discord.com/api/v10/channels/1/messages',
        route: '/channels/:id/messages',
        majorParameter: '1',
        global: false,
        retryAfter: 2500,
        sublimitTimeout: 0,
        scope: 'user',
      }),
    );
    expect(mapped).toBeInstanceOf(RetryableError);
    expect(mapped).toMatchObject({ code: 'PLATFORM_RATE_LIMITED', retryAfterMs: 2500 });
  });

  it('makes outages and network failures retryable', () => {
    expect(discordError('send', new HTTPError(502, 'Bad Gateway', 'POST', 'https://discord.com/api/v10/x', { files: undefined, body: undefined }))).toBeInstanceOf(
      RetryableError,
    );
    expect(discordError('send', new TypeError('fetch failed'))).toMatchObject({ retryable: true, code: 'PLATFORM_UNAVAILABLE' });
  });

  it('treats a rejected token as permanent, also once discord.js has dropped it', () => {
    expect(discordError('send', apiError(401, 0, '401: Unauthorized')).message).toMatch(/bot token/);
    const dropped = discordError('send', new Error('Expected token to be set for this request, but none was present'));
    expect(dropped).toBeInstanceOf(PermanentError);
    expect(dropped.message).toMatch(/bot token/);
  });
});
