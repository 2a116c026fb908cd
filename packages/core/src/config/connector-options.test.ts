import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { validateConnectorOptions } from './connector-options.js';

/** Shaped like a real connector's options schema. */
const telegramOptions = z.strictObject({
  token: z.string().min(1),
  mode: z.enum(['polling', 'webhook']).default('polling'),
  apiRoot: z.url().optional(),
  pollTimeoutSeconds: z.number().int().min(0).max(50).default(30),
  allowedChats: z.array(z.number()).optional(),
});

function issues(options: unknown) {
  try {
    validateConnectorOptions('support-telegram', telegramOptions, options);
  } catch (error) {
    if (error instanceof ConfigError) return { code: error.code, issues: error.issues };
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('validateConnectorOptions', () => {
  it('returns the parsed options with defaults', () => {
    expect(validateConnectorOptions('support-telegram', telegramOptions, { token: '1:abc' })).toEqual({
      token: '1:abc',
      mode: 'polling',
      pollTimeoutSeconds: 30,
    });
  });

  it('names each problem under connectors.<id>.options', () => {
    expect(issues({})).toEqual({
      code: 'CONFIG_INVALID',
      issues: [{ path: 'connectors.support-telegram.options.token', message: 'Required' }],
    });
    expect(
      issues({ token: '', mode: 'push', apiRoot: 'nope', pollTimeoutSeconds: 99, allowedChats: [1, 'two'], tokn: 'typo' }).issues,
    ).toEqual([
      { path: 'connectors.support-telegram.options.token', message: 'Must not be empty' },
      { path: 'connectors.support-telegram.options.mode', message: 'Expected one of "polling", "webhook"' },
      { path: 'connectors.support-telegram.options.apiRoot', message: 'Invalid URL' },
      { path: 'connectors.support-telegram.options.pollTimeoutSeconds', message: 'Must be at most 50' },
      { path: 'connectors.support-telegram.options.allowedChats.1', message: 'Expected number, received string' },
      { path: 'connectors.support-telegram.options', message: 'Unknown key "tokn"' },
    ]);
  });

  it('names the options themselves when they are not an object', () => {
    expect(issues('token').issues).toEqual([
      { path: 'connectors.support-telegram.options', message: 'Expected object, received string' },
    ]);
  });

  it("keeps a connector author's own messages", () => {
    const schema = z.object({
      token: z.string({ error: 'Paste the token BotFather gave you' }),
      chat: z.string().min(3, { error: 'Chat names have at least 3 characters' }),
      mode: z.string().refine((mode) => mode !== 'legacy', { error: 'legacy mode was removed in 2.0' }),
    });
    expect(() => validateConnectorOptions('tg', schema, { chat: 'ab', mode: 'legacy' })).toThrow(
      [
        'connectors.tg.options.token: Paste the token BotFather gave you',
        'connectors.tg.options.chat: Chat names have at least 3 characters',
        'connectors.tg.options.mode: legacy mode was removed in 2.0',
      ].join('\n'),
    );
  });
});
