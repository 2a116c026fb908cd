import { describe, expect, it } from 'vitest';
import { telegramOptionsSchema } from './options.js';

const token = '123456789:AAE-valid_token';

describe('telegramOptionsSchema', () => {
  it('applies defaults: polling, Telegram\'s API, private chats, mention-only groups per chat', () => {
    expect(telegramOptionsSchema.parse({ token })).toMatchObject({
      token,
      mode: 'polling',
      apiRoot: 'https://api.telegram.org',
      chatTypes: ['private'],
      groups: { trigger: 'mention', conversation: 'chat' },
      quickReplies: 'inline',
      pollTimeoutSeconds: 25,
    });
  });

  it('drops a trailing slash from apiRoot (grammY refuses one)', () => {
    expect(telegramOptionsSchema.parse({ token, apiRoot: 'http://127.0.0.1:8081/' }).apiRoot).toBe('http://127.0.0.1:8081');
  });

  it('requires a webhook secret in webhook mode, in Telegram\'s alphabet', () => {
    const missing = telegramOptionsSchema.safeParse({ token, mode: 'webhook' });
    expect(missing.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['webhookSecret']);
    const bad = telegramOptionsSchema.safeParse({ token, mode: 'webhook', webhookSecret: 'has spaces!' });
    expect(bad.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['webhookSecret']);
    expect(telegramOptionsSchema.safeParse({ token, mode: 'webhook', webhookSecret: 'Ok_secret-1' }).success).toBe(true);
  });

  it('names the key of every invalid option', () => {
    const result = telegramOptionsSchema.safeParse({
      token: 'not a token',
      mode: 'push',
      apiRoot: 'ftp://example.com',
      chatTypes: ['channel'],
      groups: { trigger: 'sometimes' },
      pollTimeoutSeconds: 99,
    });
    expect(result.error?.issues.map((issue) => issue.path.join('.')).sort()).toEqual(
      ['apiRoot', 'chatTypes.0', 'groups.trigger', 'mode', 'pollTimeoutSeconds', 'token'].sort(),
    );
  });

  it('describes every option (for the generated config schema)', () => {
    for (const [key, field] of Object.entries(telegramOptionsSchema.shape)) {
      expect(field.description, key).toEqual(expect.stringMatching(/\S/));
    }
  });
});
