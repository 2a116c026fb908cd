import { describe, expect, it } from 'vitest';
import { slackOptionsSchema } from './options.js';

describe('slackOptionsSchema', () => {
  it('applies the defaults: http mode, Slack API, DM and thread conversations, DMs and mentions bridged', () => {
    expect(slackOptionsSchema.parse({ botToken: 'xoxb-1', signingSecret: 's' })).toMatchObject({
      mode: 'http',
      apiUrl: 'https://slack.com/api/',
      conversations: { directMessages: 'dm', channels: 'thread' },
      events: { directMessages: true, mentions: true, channels: [] },
      lookupTimeoutMs: 1500,
    });
  });

  it('adds the trailing slash Bolt needs to apiUrl', () => {
    expect(slackOptionsSchema.parse({ botToken: 'xoxb-1', signingSecret: 's', apiUrl: 'http://127.0.0.1:9/api' }).apiUrl).toBe('http://127.0.0.1:9/api/');
  });

  it.each([
    [{ botToken: 'xoxb-1' }, 'signingSecret', 'required when mode is http'],
    [{ botToken: 'xoxb-1', mode: 'socket' }, 'appToken', 'required when mode is socket'],
    [{ botToken: 'xapp-1', signingSecret: 's' }, 'botToken', 'must be a bot token'],
    [{ botToken: 'xoxb-1', mode: 'socket', appToken: 'xoxb-2' }, 'appToken', 'must be an app-level token'],
    [{ botToken: 'xoxb-1', signingSecret: 's', events: { channels: ['#general'] } }, 'events.channels.0', 'must be a Slack channel id'],
    [{ botToken: 'xoxb-1', signingSecret: 's', conversations: { channels: 'dm' } }, 'conversations.channels', ''],
    [{ botToken: 'xoxb-1', signingSecret: 's', signingSecrett: 'typo' }, '', 'signingSecrett'],
  ])('rejects %j at %s', (input, path, message) => {
    const result = slackOptionsSchema.safeParse(input);
    expect(result.success).toBe(false);
    const issue = result.error!.issues.find((candidate) => candidate.path.join('.') === path);
    expect(issue, JSON.stringify(result.error!.issues)).toBeDefined();
    expect(JSON.stringify(issue)).toContain(message);
  });
});
